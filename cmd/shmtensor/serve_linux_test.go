//go:build linux

package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/shmtensor/shmtensor"
)

// TestServeTruncated: the owner truncating a segment while serve sends
// it cuts that download short; the server process lives on and serves the
// other tensor (it used to die of SIGBUS).
func TestServeTruncated(t *testing.T) {
	big, small := uniqueName(t), uniqueName(t)
	x, err := shmtensor.Create[float64](big, []int{4096, 1024}) // 32 MiB
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	y, err := shmtensor.Create[float64](small, []int{10, 10})
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte("file-token\n"), 0o600)
	cmd, base, _, stderr := serveProc(t, "--token-file", tokFile, big, small)

	req, _ := http.NewRequest("GET", base+"/"+big+".npy", nil)
	req.Header.Set("Authorization", "Bearer file-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate("/dev/shm/"+big, 8192); err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, resp.Body); err == nil {
		t.Fatalf("the download of the truncated segment ended cleanly after %d more bytes", n)
	}
	for range 3 {
		if got := httpStatus(t, base+"/"+small+".npy", "file-token"); got != 200 {
			t.Fatalf("the other tensor after the fault: %d", got)
		}
	}
	if got := httpStatus(t, base+"/"+big+".zarr/0.0", "file-token"); got < 400 {
		t.Errorf("a chunk of the truncated tensor: %d", got)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after the fault and SIGTERM: %v\n%s", err, stderr)
	}
	contains(t, "stderr", stderr.String(), "memory fault")
}

// TestServeTokenWays: --token works and warns that others can read it;
// --token-file and $SHMTENSOR_TOKEN work without a warning, except for a
// token file others may read.
func TestServeTokenWays(t *testing.T) {
	name := uniqueName(t)
	x, err := shmtensor.Create[float64](name, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	dir := t.TempDir()
	private, shared := filepath.Join(dir, "private"), filepath.Join(dir, "shared")
	os.WriteFile(private, []byte("  tok-private  \nignored\n"), 0o600)
	os.WriteFile(shared, []byte("tok-shared"), 0o644)
	os.Chmod(shared, 0o644) // whatever the umask
	for _, c := range []struct {
		env       []string
		args      []string
		token     string
		warn      string
		wantClean bool
	}{
		{nil, []string{"--token", "tok-flag"}, "tok-flag", "--token is visible to every local user", false},
		{nil, []string{"--token-file", private}, "tok-private", "", true},
		{nil, []string{"--token-file", shared}, "tok-shared", "accessible to other users", false},
		{[]string{"SHMTENSOR_TOKEN=tok-env"}, nil, "tok-env", "", true},
	} {
		cmd, base, _, stderr := serveProcEnv(t, c.env, append(c.args, name)...)
		if got := httpStatus(t, base+"/"+name+".npy", c.token); got != 200 {
			t.Errorf("%v %v: %d with token %q", c.env, c.args, got, c.token)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if c.wantClean && stderr.Len() != 0 {
			t.Errorf("%v %v: stderr %q", c.env, c.args, stderr)
		}
		if c.warn != "" && !strings.Contains(stderr.String(), c.warn) {
			t.Errorf("%v %v: stderr %q, want %q", c.env, c.args, stderr, c.warn)
		}
	}
	r := want(t, 2, "serve", "--token", "a", "--token-file", private, name)
	contains(t, "stderr", r.stderr, "contradict")
	r = want(t, 1, "serve", "--addr", "127.0.0.1:0", "--token-file", filepath.Join(dir, "none"), name)
	contains(t, "stderr", r.stderr, "--token-file")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	r = want(t, 1, "serve", "--addr", "127.0.0.1:0", "--token-file", empty, name)
	contains(t, "stderr", r.stderr, "no token")
}
