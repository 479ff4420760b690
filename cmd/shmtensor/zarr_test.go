package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/zarr"
)

func TestExportImportZarr(t *testing.T) {
	needLinux(t)
	name := uniqueName(t)
	x, err := shmtensor.Create[int32](name, []int{5, 7})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for i := range x.Data() {
		x.Data()[i] = int32(i * 3)
	}
	dir := filepath.Join(t.TempDir(), "x.zarr")
	r := want(t, 0, "export", name, dir, "--chunks", "2,3", "--compressor", "gzip:6")
	contains(t, "stdout", r.stdout, "exported shm://"+name, "9 chunks of (2, 3) (24 B each)", "compressor gzip:6")
	a, err := zarr.ReadArray(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Chunks(), []int{2, 3}) || a.Compressor() != zarr.Gzip(6) {
		t.Fatalf("store: %v %v", a.Chunks(), a.Compressor())
	}
	// By extension, and with --format zarr for a directory named otherwise.
	other := filepath.Join(t.TempDir(), "plain")
	want(t, 0, "export", "--format", "zarr", name, other)
	for _, src := range []string{dir, other} {
		back := uniqueName(t)
		args := []string{"import", src, back}
		if src == other {
			args = append(args, "--format", "zarr")
		}
		r = want(t, 0, args...)
		contains(t, "stdout", r.stdout, "imported "+src, "int32 (5, 7)")
		y, err := shmtensor.Attach[int32](back)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(y.Data(), x.Data()) {
			t.Errorf("%s: imported %v", src, y.Data())
		}
		y.Close()
	}

	// Usage errors: status 2, nothing written.
	for _, args := range [][]string{
		{"export", "--force", name, filepath.Join(t.TempDir(), "f.zarr")},
		{"export", "--chunks", "2,3", name, filepath.Join(t.TempDir(), "f.npy")},
		{"export", "--compressor", "blosc", name, filepath.Join(t.TempDir(), "f.zarr")},
		{"export", "--chunks", "2,x", name, filepath.Join(t.TempDir(), "f.zarr")},
		{"export", "--chunks", "2", name, filepath.Join(t.TempDir(), "f.zarr")},
		{"export", "--format", "hdf5", name, filepath.Join(t.TempDir(), "f.zarr")},
		{"import", "--format", "tiff", dir, uniqueName(t)},
	} {
		r := want(t, 2, args...)
		if r.stdout != "" {
			t.Errorf("%v printed %q", args, r.stdout)
		}
	}
	// Failures: status 1 with the reason.
	r = want(t, 1, "export", name, dir)
	contains(t, "stderr", r.stderr, "not empty", "choose another directory, or remove the old store first: rm -r "+dir)
	if strings.Contains(r.stderr, "shmtensor rm") {
		t.Errorf("the hint names shmtensor rm, which cannot remove a directory:\n%s", r.stderr)
	}
	blosc := filepath.Join(t.TempDir(), "b.zarr")
	os.Mkdir(blosc, 0o700)
	os.WriteFile(filepath.Join(blosc, ".zarray"), []byte(`{"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": "<f8",
		"compressor": {"id": "blosc"}, "fill_value": 0.0, "filters": null, "order": "C"}`), 0o600)
	nb := uniqueName(t)
	r = want(t, 1, "import", blosc, nb)
	contains(t, "stderr", r.stderr, `compressor "blosc"`, "reads zlib, gzip or none", `zarr.save_array("DST", a[...], chunks=a.chunks, compressor=numcodecs.Zlib())`)
	if _, err := shmtensor.Stat(nb); err == nil {
		t.Error("a failed import left its segment")
	}
}

// serveProc starts "shmtensor serve" and returns the process, its base
// URL and the token it printed (empty with --insecure-no-token), and its
// standard error, to be read once the process has ended.
func serveProc(t *testing.T, args ...string) (*exec.Cmd, string, string, *strings.Builder) {
	t.Helper()
	return serveProcEnv(t, nil, args...)
}

// serveProcEnv is serveProc with env added to the environment; a token
// from --token, --token-file or $SHMTENSOR_TOKEN is not printed.
func serveProcEnv(t *testing.T, env []string, args ...string) (*exec.Cmd, string, string, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(exe, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	given := slices.Contains(args, "--insecure-no-token") || slices.Contains(args, "--token") || slices.Contains(args, "--token-file")
	for _, e := range env {
		given = given || strings.HasPrefix(e, "SHMTENSOR_TOKEN=") && e != "SHMTENSOR_TOKEN="
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	var base, token string
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "serving "); ok {
			_, u, _ := strings.Cut(rest, " on ")
			base, _, _ = strings.Cut(u, " ")
			base = strings.TrimSuffix(base, "/")
			if given {
				break
			}
		}
		if tok, ok := strings.CutPrefix(line, "token: "); ok {
			token = tok
			break
		}
	}
	if base == "" {
		t.Fatalf("serve printed no address; stderr: %s", stderr)
	}
	go io.Copy(io.Discard, out)
	return cmd, base, token, stderr
}

func httpStatus(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestServe(t *testing.T) {
	needLinux(t)
	name := uniqueName(t)
	x, err := shmtensor.Create[float64](name, []int{10, 10})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()

	cmd, base, token, stderr := serveProc(t, name)
	if len(token) < 40 {
		t.Fatalf("generated token %q", token)
	}
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/" + name + ".zarr/.zarray", token, 200},
		{"/" + name + ".zarr/0.0", token, 200},
		{"/" + name + ".npy", token, 200},
		{"/" + name + ".npy", "", 401},
		{"/" + name + ".npy", "wrong", 403},
		{"/nosuch.npy", token, 404},
	} {
		if got := httpStatus(t, base+c.path, c.token); got != c.want {
			t.Errorf("%s: %d, want %d", c.path, got, c.want)
		}
	}
	// SIGTERM: a graceful stop, status 0.
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", err, stderr)
		}
		if stderr.Len() != 0 {
			t.Errorf("serve wrote to standard error: %s", stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}

	// A given token; the token from the environment.
	_, base, _, _ = serveProc(t, "--token", "given-token", name)
	if got := httpStatus(t, base+"/"+name+".npy", "given-token"); got != 200 {
		t.Errorf("--token: %d", got)
	}
	// Without a token only by the loud flag, and only on loopback.
	cmd, base, _, stderr = serveProc(t, "--insecure-no-token", name)
	if got := httpStatus(t, base+"/"+name+".npy", ""); got != 200 {
		t.Errorf("--insecure-no-token: %d", got)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if !strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("no warning for --insecure-no-token: %q", stderr)
	}
	r := want(t, 2, "serve", "--insecure-no-token", "--addr", "0.0.0.0:0", name)
	contains(t, "stderr", r.stderr, "loopback")
	r = want(t, 2, "serve", "--insecure-no-token", "--addr", ":0", name)
	contains(t, "stderr", r.stderr, "loopback")
	want(t, 2, "serve", "--insecure-no-token", "--token", "x", name)
	r = want(t, 1, "serve", "--addr", "127.0.0.1:0", uniqueName(t))
	contains(t, "stderr", r.stderr, "does not exist")
}

// TestSingularWording: one chunk is "1 chunk", one served tensor "1
// tensor", and shapes are printed as numpy prints them.
func TestSingularWording(t *testing.T) {
	needLinux(t)
	name := uniqueName(t)
	x, err := shmtensor.Create[int32](name, []int{5, 7})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	r := want(t, 0, "export", name, filepath.Join(t.TempDir(), "one.zarr"))
	contains(t, "stdout", r.stdout, "int32 (5, 7), 1 chunk of (5, 7) (140 B each)")
	cmd := exec.Command(exe, "serve", "--addr", "127.0.0.1:0", "--insecure-no-token", name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "serving ") {
			if !strings.HasPrefix(sc.Text(), "serving 1 tensor on ") {
				t.Fatalf("serve said %q", sc.Text())
			}
			return
		}
	}
	t.Fatal("serve printed no serving line")
}

// TestImportArrayInGroup: an array inside a group, whose directory has no
// .zarr suffix (where xarray keeps its variables), imports without
// --format; the group itself imports as one segment per array, all or
// none; another directory is refused saying what it lacks.
func TestImportArrayInGroup(t *testing.T) {
	needLinux(t)
	name := uniqueName(t)
	x, err := shmtensor.Create[float32](name, []int{4, 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range x.Data() {
		x.Data()[i] = float32(i) / 4
	}
	x.Close()
	group := filepath.Join(t.TempDir(), "ds")
	if err := os.MkdirAll(group, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(group, ".zgroup"), []byte(`{"zarr_format": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	arr := filepath.Join(group, "temperature")
	want(t, 0, "export", "--format", "zarr", name, arr)
	back := uniqueName(t)
	want(t, 0, "import", arr, back)
	y, err := shmtensor.Attach[float32](back)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if y.At(3, 2) != 11.0/4 {
		t.Fatalf("imported element (3, 2) = %v", y.At(3, 2))
	}
	// The group: each array into PREFIX.ARRAY.
	prefix := uniqueName(t)
	t.Cleanup(func() { shmtensor.Delete(prefix + ".temperature") })
	r := want(t, 0, "import", group, prefix)
	contains(t, "stdout", r.stdout, "imported the Zarr group "+group+": 1 arrays into shm://"+prefix+".*", "temperature → shm://"+prefix+".temperature: float32 (4, 3)")
	z, err := shmtensor.Attach[float32](prefix + ".temperature")
	if err != nil {
		t.Fatal(err)
	}
	if z.At(3, 2) != 11.0/4 {
		t.Fatalf("group import: element (3, 2) = %v", z.At(3, 2))
	}
	z.Close()
	// All or none: a second import fails on the existing name and leaves
	// nothing new.
	os.MkdirAll(filepath.Join(group, "humidity"), 0o755)
	want(t, 0, "export", "--format", "zarr", name, filepath.Join(group, "humidity"))
	r = want(t, 1, "import", group, prefix)
	contains(t, "stderr", r.stderr, "no segment of the group was left")
	if _, err := shmtensor.Stat(prefix + ".humidity"); err == nil {
		t.Fatal("a failed group import left a segment")
	}
	r = want(t, 2, "import", t.TempDir(), uniqueName(t))
	contains(t, "stderr", r.stderr, "is a directory, neither a .npy file nor a Zarr array or group")
	// Into a name that exists: the segment's error, without nested prefixes.
	r = want(t, 1, "import", arr, back)
	contains(t, "stderr", r.stderr, "shmtensor: import: create "+back+": segment already exists", `remove the old one with "shmtensor rm"`)
	if strings.Contains(r.stderr, "zarr: import") || strings.Contains(r.stderr, "rm -r") {
		t.Errorf("import into an existing name:\n%s", r.stderr)
	}
}

// TestExportOversizedChunksWarns: chunks far larger than the array are
// written (they are valid) with a warning naming the --chunks that fits;
// chunks that fit, edge chunks included, give none.
func TestExportOversizedChunksWarns(t *testing.T) {
	needLinux(t)
	name := uniqueName(t)
	x, err := shmtensor.Create[float64](name, []int{3, 4})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	r := want(t, 0, "export", name, filepath.Join(t.TempDir(), "big.zarr"), "--chunks", "100,100")
	contains(t, "stderr", r.stderr, "warning: chunks (100, 100) are larger than the array (3, 4)", "--chunks 3,4 fits the array")
	r = want(t, 0, "export", name, filepath.Join(t.TempDir(), "ok.zarr"), "--chunks", "2,2")
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("chunks that fit warned:\n%s", r.stderr)
	}
}

// TestExportGroup: export --group writes the segments as the arrays of one
// group, keyed by their names, with the dimension names --dims gives or
// the defaults; --dims alone and too many arguments are usage errors.
func TestExportGroup(t *testing.T) {
	needLinux(t)
	a, b := uniqueName(t), uniqueName(t)
	for _, n := range []string{a, b} {
		x, err := shmtensor.Create[int32](n, []int{3, 4})
		if err != nil {
			t.Fatal(err)
		}
		x.Data()[5] = 7
		x.Close()
	}
	dir := filepath.Join(t.TempDir(), "ds.zarr")
	r := want(t, 0, "export", "--group", "--dims", a+"=y,x", a, b, dir)
	contains(t, "stdout", r.stdout, "exported 2 segments to the Zarr group "+dir,
		a+": int32 (3, 4), dimensions (y, x)", b+": int32 (3, 4), dimensions (dim_0, dim_1)")
	for _, n := range []string{a, b} {
		arr, err := zarr.ReadArray(filepath.Join(dir, n))
		if err != nil || !slices.Equal(arr.Shape(), []int{3, 4}) {
			t.Fatalf("%s in the group: %v", n, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".zmetadata")); err != nil {
		t.Fatal(err)
	}
	r = want(t, 2, "export", "--dims", a+"=y,x", a, filepath.Join(t.TempDir(), "x.zarr"))
	contains(t, "stderr", r.stderr, "--dims applies to --group")
	r = want(t, 2, "export", a, b, "k", filepath.Join(t.TempDir(), "x.npy"))
	contains(t, "stderr", r.stderr, `unexpected argument`, `want NAME [KEY] FILE.npy`)
	r = want(t, 2, "export", "--group", "--dims", "nosuch=t", a, filepath.Join(t.TempDir(), "y.zarr"))
	contains(t, "stderr", r.stderr, `--dims names "nosuch", which is not one of the arrays`)
	r = want(t, 1, "export", "--group", "--dims", a+"=t", a, filepath.Join(t.TempDir(), "z.zarr"))
	contains(t, "stderr", r.stderr, "2 axes, 1 dimension names given")
}
