package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor/internal/numpytest"

	"github.com/shmtensor/shmtensor"
)

// The tests build the command once and run it as a user would.

var exe string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shmtensor-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exe = filepath.Join(dir, "shmtensor")
	build := exec.Command("go", "build", "-o", exe, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the command:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// runCmd runs the command with args and returns its output and exit status.
func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(exe, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running shmtensor %q: %v", args, err)
	}
	return r
}

// want runs the command, checks its exit status and returns its output.
func want(t *testing.T, code int, args ...string) result {
	t.Helper()
	r := runCmd(t, args...)
	if r.code != code {
		t.Fatalf("shmtensor %s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

// uniqueName returns a shm name no one else uses and deletes the segment
// (or whatever is under the name) when the test ends.
func uniqueName(t *testing.T) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := fmt.Sprintf("shmtensor-test-cmd-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	t.Cleanup(func() {
		if shmtensor.Delete(name) != nil && runtime.GOOS == "linux" {
			os.Remove("/dev/shm/" + name)
		}
	})
	return name
}

func needLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/shm")
	}
}

func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

func TestUsage(t *testing.T) {
	r := want(t, 2)
	contains(t, "stderr", r.stderr, "no command given", "usage: shmtensor COMMAND", "list", "demo")
	r = want(t, 2, "lst")
	contains(t, "stderr", r.stderr, `unknown command "lst"`, `did you mean "list"?`)
	r = want(t, 0, "-h")
	contains(t, "stderr", r.stderr, "usage: shmtensor COMMAND")
	if strings.Contains(r.stderr, "demo-child") {
		t.Errorf("the hidden command is listed:\n%s", r.stderr)
	}
	for _, c := range []string{"list", "info", "create", "rm", "show", "import", "export", "lock", "demo"} {
		for _, h := range []string{"-h", "--help"} {
			r := want(t, 0, c, h)
			contains(t, c+" "+h, r.stderr, "usage: shmtensor "+c+" ")
		}
		r := want(t, 0, "help", c)
		contains(t, "help "+c, r.stderr, "usage: shmtensor "+c+" ")
		r = want(t, 2, c, "--no-such-option")
		contains(t, c+" --no-such-option", r.stderr, "flag provided but not defined", "usage: shmtensor "+c)
	}
}

func TestCreateInfoShowListRm(t *testing.T) {
	name := uniqueName(t)
	r := want(t, 0, "create", "--mode", "0640", name, "float64", "3", "4")
	contains(t, "create", r.stdout, "created shm://"+name, "float64", "(3, 4)")

	r = want(t, 0, "info", name)
	contains(t, "info", r.stdout, "shm://"+name, "float64", "(3, 4), 12 elements", "npy",
		"data offset:  4096", "(4, 1) elements, (32, 8) bytes", "0640")

	var in jsonInfo
	r = want(t, 0, "info", "--json", name)
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("info --json: %v\n%s", err, r.stdout)
	}
	if in.Name != "shm://"+name || in.DType != "float64" || in.Descr != "<f8" || in.ItemSize != 8 ||
		!slices.Equal(in.Shape, []int{3, 4}) || in.Layout != "npy" || in.Fortran ||
		in.DataOffset != 4096 || in.Size != 4096+96 || !slices.Equal(in.Strides, []int{4, 1}) ||
		!slices.Equal(in.ByteStrides, []int{32, 8}) || in.Mode != "0640" ||
		int(in.UID) != os.Getuid() || in.Owner == "" {
		t.Errorf("info --json: %+v", in)
	}
	if _, err := time.Parse(time.RFC3339Nano, in.Modified); err != nil {
		t.Errorf("modified: %v", err)
	}
	// Every documented field is there, and no other.
	var raw map[string]any
	json.Unmarshal([]byte(r.stdout), &raw)
	fields := []string{"name", "dtype", "descr", "itemsize", "shape", "size", "layout", "fortran",
		"data_offset", "strides", "byte_strides", "mode", "uid", "gid", "owner", "group", "modified"}
	for _, f := range fields {
		if _, ok := raw[f]; !ok {
			t.Errorf("info --json has no %q", f)
		}
	}
	if len(raw) != len(fields) {
		t.Errorf("info --json has %d fields, want %d: %v", len(raw), len(fields), raw)
	}

	r = want(t, 0, "show", name)
	if want := "[[0. 0. 0. 0.]\n [0. 0. 0. 0.]\n [0. 0. 0. 0.]]\n"; r.stdout != want {
		t.Errorf("show:\n%s\nwant:\n%s", r.stdout, want)
	}

	if runtime.GOOS == "linux" {
		r = want(t, 0, "list")
		var line string
		for l := range strings.Lines(r.stdout) {
			if strings.HasPrefix(l, name+" ") {
				line = l
			}
		}
		if !strings.HasPrefix(r.stdout, "NAME ") || line == "" {
			t.Fatalf("list has no line for %s:\n%s", name, r.stdout)
		}
		if f := strings.Fields(line); len(f) < 10 || f[1] != "float64" || f[2] != "(3," || f[3] != "4)" ||
			f[4]+" "+f[5] != "4.1 KiB" || f[6] != "npy" || f[7] != "0640" {
			t.Errorf("list line: %q", line)
		}
		var all []jsonInfo
		r = want(t, 0, "list", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
			t.Fatalf("list --json: %v\n%s", err, r.stdout)
		}
		i := slices.IndexFunc(all, func(x jsonInfo) bool { return x.Name == "shm://"+name })
		if i < 0 || !slices.Equal(all[i].Shape, []int{3, 4}) || all[i].Mode != "0640" {
			t.Errorf("list --json lacks %s: %+v", name, all)
		}
	}

	r = want(t, 0, "rm", name)
	contains(t, "rm", r.stdout, "removed shm://"+name)
	r = want(t, 1, "info", name)
	contains(t, "info after rm", r.stderr, "does not exist", "shmtensor list")
	r = want(t, 1, "rm", name)
	contains(t, "rm again", r.stderr, "shmtensor: rm: ", "does not exist")
}

func TestCreateOptions(t *testing.T) {
	sa := uniqueName(t)
	want(t, 0, "create", "--sharedarray", "--lazy", sa, "<i4", "2", "3")
	var in jsonInfo
	json.Unmarshal([]byte(want(t, 0, "info", "-json", sa).stdout), &in)
	if in.Layout != "sharedarray" || in.DType != "int32" || in.DataOffset != 0 || in.Mode != "0600" {
		t.Errorf("sharedarray segment: %+v", in)
	}
	if r := want(t, 0, "show", sa); r.stdout != "[[0 0 0]\n [0 0 0]]\n" {
		t.Errorf("show: %q", r.stdout)
	}

	scalar := uniqueName(t)
	want(t, 0, "create", scalar, "complex64")
	json.Unmarshal([]byte(want(t, 0, "info", "--json", scalar).stdout), &in)
	if in.Shape == nil || len(in.Shape) != 0 || in.Strides == nil {
		t.Errorf("0-d segment: %+v", in)
	}

	// The name is taken.
	r := want(t, 1, "create", sa, "float64", "2")
	contains(t, "create existing", r.stderr, "already exists", "shmtensor rm")
}

func TestShowValues(t *testing.T) {
	name := uniqueName(t)
	a, err := shmtensor.Create[float64](name, []int{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	copy(a.Data(), []float64{0.5, 1, 2.25, -3, 1e-3, 100})
	a.Close()
	r := want(t, 0, "show", name)
	if want := "[[ 5.00e-01  1.00e+00  2.25e+00]\n [-3.00e+00  1.00e-03  1.00e+02]]\n"; r.stdout != want {
		t.Errorf("show:\n%s\nwant:\n%s", r.stdout, want)
	}

	big := uniqueName(t)
	b, err := shmtensor.Create[int32](big, []int{100, 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.Data() {
		b.Data()[i] = int32(i)
	}
	b.Close()
	r = want(t, 0, "show", big)
	wantSummary := "[[   0    1    2 ...   97   98   99]\n" +
		" [ 100  101  102 ...  197  198  199]\n" +
		" [ 200  201  202 ...  297  298  299]\n" +
		" ...\n" +
		" [9700 9701 9702 ... 9797 9798 9799]\n" +
		" [9800 9801 9802 ... 9897 9898 9899]\n" +
		" [9900 9901 9902 ... 9997 9998 9999]]\n"
	if r.stdout != wantSummary {
		t.Errorf("show summarised:\n%s\nwant:\n%s", r.stdout, wantSummary)
	}
	r = want(t, 0, "show", "--max", "0", big)
	if n := strings.Count(r.stdout, "\n"); n < 100 || strings.Contains(r.stdout, "...") {
		t.Errorf("show --max 0 summarised (%d lines)", n)
	}
	r = want(t, 0, "show", "--max", "20000", big)
	if strings.Contains(r.stdout, "...") {
		t.Errorf("show --max 20000 summarised")
	}
	want(t, 2, "show", "--max", "-1", big)
}

func TestBadInput(t *testing.T) {
	name := uniqueName(t)
	cases := []struct {
		code int
		args []string
		msg  string
	}{
		{2, []string{"create", name, "flaot64", "3"}, `unknown dtype "flaot64" (want one of: bool int8 `},
		{2, []string{"create", name, "float64", "-3"}, "dimension -3 is negative"},
		{2, []string{"create", name, "float64", "3", "x"}, `dimension "x" is not an integer`},
		{2, []string{"create"}, "missing NAME and DTYPE"},
		{2, []string{"create", name}, "missing DTYPE"},
		{2, []string{"create", "--mode", "999", name, "int8", "1"}, "octal"},
		{1, []string{"create", "a/b", "int8", "3"}, "invalid segment name"},
		{2, []string{"info"}, "missing NAME"},
		{2, []string{"info", "a", "b"}, "one NAME at a time"},
		{2, []string{"show"}, "missing NAME"},
		{2, []string{"rm"}, "missing NAME"},
		{2, []string{"list", "x"}, "unexpected argument"},
		{2, []string{"import", "x.npy"}, "missing NAME"},
		{2, []string{"export", name}, "missing FILE.npy"},
		{2, []string{"demo", "extra"}, "unexpected argument"},
		{1, []string{"info", name}, "does not exist"},
		{1, []string{"show", name}, "does not exist"},
		{1, []string{"import", filepath.Join(t.TempDir(), "none.npy"), name}, "does not exist"},
	}
	for _, c := range cases {
		r := want(t, c.code, c.args...)
		contains(t, strings.Join(c.args, " "), r.stderr, c.msg)
		if c.code == 2 {
			contains(t, strings.Join(c.args, " "), r.stderr, "usage: shmtensor ")
		}
		if !strings.HasPrefix(r.stderr, "shmtensor: ") {
			t.Errorf("%s: error does not start with the program name: %q", c.args, r.stderr)
		}
	}
	if _, err := shmtensor.Stat(name); err == nil {
		t.Errorf("a failed create left %s", name)
	}
}

func TestForeignFiles(t *testing.T) {
	needLinux(t)
	foreign := uniqueName(t)
	path := "/dev/shm/" + foreign
	if err := os.WriteFile(path, []byte("not a tensor, someone else's shared memory"), 0o600); err != nil {
		t.Fatal(err)
	}
	real := uniqueName(t)
	want(t, 0, "create", real, "uint8", "7")

	r := want(t, 0, "list")
	if strings.Contains(r.stdout, foreign) {
		t.Errorf("list shows a foreign file:\n%s", r.stdout)
	}
	r = want(t, 0, "list", "--json")
	if strings.Contains(r.stdout, foreign) || !strings.Contains(r.stdout, real) {
		t.Errorf("list --json:\n%s", r.stdout)
	}

	missing := uniqueName(t)
	r = want(t, 1, "rm", foreign, real, missing)
	contains(t, "rm stderr", r.stderr, "shm://"+foreign, "not a tensor segment", "refusing to remove it",
		"shm://"+missing, "does not exist")
	contains(t, "rm stdout", r.stdout, "removed shm://"+real)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("rm removed a foreign file: %v", err)
	}
	if _, err := shmtensor.Stat(real); !errors.Is(err, shmtensor.ErrNotExist) {
		t.Errorf("rm did not remove %s, next to a foreign file: %v", real, err)
	}
	r = want(t, 1, "info", foreign)
	contains(t, "info foreign", r.stderr, "not a tensor segment")
}

func TestImportExport(t *testing.T) {
	dir := t.TempDir()
	name := uniqueName(t)
	a, err := shmtensor.Create[int32](name, []int{2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Data() {
		a.Data()[i] = int32(i*7 - 50)
	}
	a.Close()

	file := filepath.Join(dir, "a.npy")
	r := want(t, 0, "export", name, file)
	contains(t, "export", r.stdout, "exported shm://"+name, file)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 128+24*4 || !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) || b[127] != '\n' {
		t.Errorf("export wrote %d bytes: %q", len(b), b[:min(len(b), 128)])
	}

	// No overwriting without --force.
	os.WriteFile(file, []byte("precious"), 0o644)
	r = want(t, 1, "export", name, file)
	contains(t, "export over a file", r.stderr, "exists", "--force")
	if got, _ := os.ReadFile(file); string(got) != "precious" {
		t.Errorf("export overwrote a file without --force")
	}
	want(t, 0, "export", "--force", name, file)
	if got, _ := os.ReadFile(file); !bytes.Equal(got, b) {
		t.Errorf("export --force wrote something else")
	}

	back := uniqueName(t)
	r = want(t, 0, "import", "--mode", "0644", file, back)
	contains(t, "import", r.stdout, "imported", "shm://"+back, "int32", "(2, 3, 4)")
	orig, _ := shmtensor.Open(name, shmtensor.ReadOnly())
	defer orig.Close()
	got, err := shmtensor.Open(back, shmtensor.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if !slices.Equal(got.Shape(), []int{2, 3, 4}) || got.DType() != shmtensor.Int32 || !bytes.Equal(got.Bytes(), orig.Bytes()) {
		t.Errorf("import: %v %v, data equal: %v", got.DType(), got.Shape(), bytes.Equal(got.Bytes(), orig.Bytes()))
	}
	if st, _ := shmtensor.Stat(back); st.Mode != 0o644 {
		t.Errorf("import --mode 0644 gave %v", st.Mode)
	}
	r = want(t, 1, "import", file, back)
	contains(t, "import to an existing name", r.stderr, "already exists")
}

func TestImportFortran(t *testing.T) {
	// A Fortran-order .npy file of shape (2, 3, 4) holding v[i,j,k] =
	// 100i + 10j + k, written by hand: element (i,j,k) is at i + 2j + 6k.
	shape := []int{2, 3, 4}
	hdr, err := npyHeader(shmtensor.Float64, shape, true)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 24*8)
	for i := range 2 {
		for j := range 3 {
			for k := range 4 {
				le.PutUint64(data[(i+2*j+6*k)*8:], math.Float64bits(float64(100*i+10*j+k)))
			}
		}
	}
	file := filepath.Join(t.TempDir(), "f.npy")
	os.WriteFile(file, append(hdr, data...), 0o644)
	if r := want(t, 0, "info", "--json", "file://"+file); !strings.Contains(r.stdout, `"fortran": true`) {
		t.Fatalf("the hand-written file is not Fortran order:\n%s", r.stdout)
	}

	name := uniqueName(t)
	r := want(t, 0, "import", file, name)
	contains(t, "import", r.stdout, "Fortran order converted to C order")
	a, err := shmtensor.Attach[float64](name)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Segment().Fortran() {
		t.Errorf("the segment is Fortran order")
	}
	for i := range 2 {
		for j := range 3 {
			for k := range 4 {
				if v := a.At(i, j, k); v != float64(100*i+10*j+k) {
					t.Errorf("a[%d,%d,%d] = %v", i, j, k, v)
				}
			}
		}
	}
	// show reads Fortran order directly.
	r = want(t, 0, "show", "file://"+file)
	contains(t, "show Fortran", r.stdout, "[[[  0.   1.   2.   3.]\n  [ 10.  11.  12.  13.]")
}

func TestNumpyReadsExport(t *testing.T) {
	needNumpy(t)
	name := uniqueName(t)
	a, err := shmtensor.Create[complex64](name, []int{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Data() {
		a.Data()[i] = complex(float32(i), -float32(i)/2)
	}
	a.Close()
	file := filepath.Join(t.TempDir(), "c.npy")
	want(t, 0, "export", name, file)
	out := numpytest.Run(t, `
import sys, numpy as np
a = np.load(sys.argv[1])
print(a.dtype.str, a.shape, a.flags.c_contiguous, a[2, 1])
`, file)
	if out != "<c8 (3, 2) True (5-2.5j)\n" {
		t.Errorf("numpy read %q", out)
	}

	// numpy writes bool and float16 (no Go type) and a Fortran array into
	// /dev/shm; export and show handle them as bytes.
	needLinux(t)
	for _, c := range []struct{ expr, show string }{
		{"np.array([[True, False], [False, True]])", "[[ True False]\n [False  True]]\n"},
		{"np.array([0.1, 1.5, -2], dtype=np.float16)", "[ 0.1  1.5 -2. ]\n"},
		{"np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3))", "[[0 1 2]\n [3 4 5]]\n"},
	} {
		seg := uniqueName(t)
		numpytest.Run(t, `
import sys, numpy as np
a = `+c.expr+`
with open("/dev/shm/" + sys.argv[1], "xb") as f:
    np.save(f, a)
`, seg)
		if r := want(t, 0, "show", seg); r.stdout != c.show {
			t.Errorf("show %s:\n%s\nwant:\n%s", c.expr, r.stdout, c.show)
		}
		file := filepath.Join(t.TempDir(), "x.npy")
		want(t, 0, "export", seg, file)
		out := numpytest.Run(t, `
import sys, numpy as np
a = `+c.expr+`
b = np.load(sys.argv[1])
print(a.dtype == b.dtype and a.shape == b.shape and bool((a == b).all()))
`, file)
		if out != "True\n" {
			t.Errorf("numpy read back %s: %q", c.expr, out)
		}
	}
}

// TestCreateBoolAndFloat16: types without a Go Number are created too.
func TestCreateBoolAndFloat16(t *testing.T) {
	for _, dt := range []string{"bool", "float16", "<f2", "?"} {
		name := uniqueName(t)
		want(t, 0, "create", name, dt, "2", "3")
		r := want(t, 0, "info", "--json", name)
		var info jsonInfo
		if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
			t.Fatal(err)
		}
		wantDT := map[string]string{"bool": "bool", "?": "bool", "float16": "float16", "<f2": "float16"}[dt]
		if info.DType != wantDT || !slices.Equal(info.Shape, []int{2, 3}) {
			t.Errorf("create %s: info %+v", dt, info)
		}
		if r := want(t, 0, "show", name); !strings.Contains(r.stdout, "[[") {
			t.Errorf("show %s: %q", dt, r.stdout)
		}
	}
}

func TestDemo(t *testing.T) {
	r := want(t, 0, "demo")
	parent := regexp.MustCompile(`(?m)^parent (\d+): `).FindStringSubmatch(r.stdout)
	child := regexp.MustCompile(`(?m)^child  (\d+): `).FindStringSubmatch(r.stdout)
	if parent == nil || child == nil || parent[1] == child[1] {
		t.Fatalf("demo output lacks two pids:\n%s", r.stdout)
	}
	contains(t, "demo", r.stdout, "check ok", "from child "+child[1], "faster", "attached", "deleted")
	base := regexp.MustCompile(`shm://(shmtensor-demo-\d+-[0-9a-f]+)-a`).FindStringSubmatch(r.stdout)
	if base == nil {
		t.Fatalf("no segment name in the output:\n%s", r.stdout)
	}
	for _, s := range []string{"-a", "-c"} {
		if _, err := shmtensor.Stat(base[1] + s); !errors.Is(err, shmtensor.ErrNotExist) {
			t.Errorf("demo left %s%s behind: %v", base[1], s, err)
		}
	}
}

func TestDemoInterrupted(t *testing.T) {
	// A larger matrix keeps the child busy (computing for some hundreds of
	// milliseconds) while the parent is interrupted; its two segments take
	// 36 MB, which fits a container's default 64 MB /dev/shm.
	cmd := exec.Command(exe, "demo", "-n", "1500")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	var (
		mu   sync.Mutex
		text strings.Builder
	)
	started := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			text.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := regexp.MustCompile(`started child (\d+)`).FindStringSubmatch(sc.Text()); m != nil {
				started <- m[1]
			}
		}
	}()
	var childPID string
	select {
	case childPID = <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not start its child")
	}
	cmd.Process.Signal(os.Interrupt)
	<-done
	err = cmd.Wait()
	mu.Lock()
	stdout := text.String()
	mu.Unlock()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("interrupted demo: %v, want exit status 130\nstdout:\n%s\nstderr:\n%s", err, stdout, errb.String())
	}
	contains(t, "stderr", errb.String(), "interrupted", "deleted")
	base := regexp.MustCompile(`shm://(shmtensor-demo-\d+-[0-9a-f]+)-a`).FindStringSubmatch(stdout)
	if base == nil {
		t.Fatalf("no segment name in the output:\n%s", stdout)
	}
	for _, s := range []string{"-a", "-c"} {
		if _, err := shmtensor.Stat(base[1] + s); !errors.Is(err, shmtensor.ErrNotExist) {
			t.Errorf("the interrupted demo left %s%s behind: %v", base[1], s, err)
		}
	}
	var pid int
	fmt.Sscan(childPID, &pid)
	if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.Signal(0)) == nil {
		// The pid may be a zombie for a moment, or reused; only warn.
		t.Logf("child %d may still exist", pid)
	}
}

func TestNPYHeader(t *testing.T) {
	for _, shape := range [][]int{{}, {5}, {3, 4}, make([]int, 64)} {
		h, err := npyHeader(shmtensor.Float32, shape, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(h)%64 != 0 || h[len(h)-1] != '\n' || int(h[8])|int(h[9])<<8 != len(h)-10 {
			t.Errorf("header for %v: %q", shape, h)
		}
		if !strings.Contains(string(h), "'shape': "+shmtensor.FormatShape(shape)+", }") {
			t.Errorf("header for %v: %q", shape, h)
		}
	}
}

func TestProgressLine(t *testing.T) {
	if got := progressLine("import", 0, 100<<20); !strings.HasPrefix(got, "import [>") || !strings.Contains(got, "  0% 0 B / 100.0 MiB") {
		t.Errorf("%q", got)
	}
	if got := progressLine("export", 50<<20, 100<<20); !strings.Contains(got, " 50% 50.0 MiB / 100.0 MiB") {
		t.Errorf("%q", got)
	}
	if got := progressLine("export", 100<<20, 100<<20); !strings.Contains(got, "[==============================] 100%") {
		t.Errorf("%q", got)
	}
}

// needNumpy returns a Python interpreter with numpy, skipping the test
// without one (failing it under CI=true).
func needNumpy(t *testing.T) string { return numpytest.Need(t) }

// TestShowMatchesNumpy: show prints what numpy's print(a) prints, for every
// dtype, scientific and fixed notation, nan and inf, wrapping, summarising,
// Fortran order, empty and 0-d arrays.
func TestShowMatchesNumpy(t *testing.T) {
	needNumpy(t)
	dir := t.TempDir()
	numpytest.Run(t, `
import sys, os, numpy as np
rng = np.random.default_rng(1)
cases = {
 'f64': np.arange(12, dtype=np.float64).reshape(3, 4) / 4,
 'sci': np.array([1e10, 1.5e-5, -3.0]),
 'nonfinite': np.array([0.1, 1/3, 2.0, np.nan, -np.inf]),
 'wrap': rng.standard_normal((5, 20)),
 'summary': rng.standard_normal((50, 50)),
 'f32': np.arange(2000, dtype=np.float32).reshape(10, 200),
 'f32digits': np.array([0.1, 1.2345e10], dtype=np.float32),
 'f16': np.array([0.1, 1000.5, -2], dtype=np.float16),
 'f16fixed': np.array([0.1, 1.5, -2], dtype=np.float16),
 '4d': np.arange(3*4*5*6, dtype=np.float64).reshape(3, 4, 5, 6) * 1e-3,
 'i16': np.arange(-5, 100, dtype=np.int16).reshape(3, 35),
 'u8': np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
 'i64long': np.arange(3000, dtype=np.int64),
 'i64ext': np.array([2**63-1, -2**63], dtype=np.int64),
 'u64': np.array([2**64-1, 0], dtype=np.uint64),
 'bool': np.array([True, False, True]),
 'boolbig': rng.random((40, 40)) > 0.5,
 'c128': np.array([1+2j, 3.5-4j, -1e-3j]),
 'c64': (rng.standard_normal((4, 4)) + 1j*rng.standard_normal((4, 4))).astype(np.complex64),
 'fortran': np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4)),
 'empty': np.zeros((0, 3)),
 'scalar': np.array(3.5),
 'scalarint': np.array(7, dtype=np.int32),
 'scalarsmall': np.array(1e-5),
 'scalarc': np.array(1+2j),
 'scalarbool': np.array(True),
 'nanonly': np.array([np.nan, np.inf]),
 'mixed': np.array([1e-5, 1, 100]),
 'large': np.array([123456789.0, 1.0]),
 'linspace': np.linspace(0, 1, 30).reshape(3, 10),
}
for k, a in cases.items():
    np.save(os.path.join(sys.argv[1], k + '.npy'), a)
    with open(os.path.join(sys.argv[1], k + '.txt'), 'w') as f:
        f.write(str(a) + '\n')
`, dir)
	files, _ := filepath.Glob(filepath.Join(dir, "*.npy"))
	if len(files) < 30 {
		t.Fatalf("numpy wrote %d files", len(files))
	}
	for _, f := range files {
		wantOut, err := os.ReadFile(strings.TrimSuffix(f, ".npy") + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		// An explicit --max above the size must print what numpy printed
		// whenever numpy did not summarise.
		for _, args := range [][]string{{"show"}, {"show", "--max", "2500"}} {
			if len(args) > 1 && strings.Contains(string(wantOut), "...") {
				continue
			}
			r := want(t, 0, append(args, "file://"+f)...)
			if r.stdout != string(wantOut) {
				t.Errorf("%s %s:\n%s\nnumpy:\n%s", strings.Join(args, " "), filepath.Base(f), r.stdout, wantOut)
			}
		}
	}
}
