//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor"
)

// TestImportInterrupted: Ctrl-C while import waits for data on a pipe ends
// it with status 130 and leaves nothing under the name.
func TestImportInterrupted(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "slow.npy")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	name := uniqueName(t)
	cmd := exec.Command(exe, "import", fifo, name)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	// Opening the pipe returns once import has opened it, after it set up
	// its signal handling.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// The header and a tenth of the data of a (1000,) float64 array.
	if _, err := w.Write(npyFile("<f8", false, []int{1000}, make([]byte, 800))); err != nil {
		t.Fatal(err)
	}
	// Wait until import is building the segment: it has a file in
	// /dev/shm open, not yet under the name.
	building := func() bool {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
		for _, fd := range fds {
			l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", cmd.Process.Pid, fd.Name()))
			if strings.HasPrefix(l, "/dev/shm/") {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(30 * time.Second); !building(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("import did not start building the segment")
		}
	}
	if _, err := shmtensor.Stat(name); !errors.Is(err, shmtensor.ErrNotExist) {
		t.Errorf("the name exists before the data is complete: %v", err)
	}
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("interrupted import: %v, want exit status 130\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	contains(t, "stderr", errb.String(), "shmtensor: import: interrupted; nothing was created under shm://"+name)
	if _, err := shmtensor.Stat(name); !errors.Is(err, shmtensor.ErrNotExist) {
		t.Errorf("the interrupted import left %s: %v", name, err)
	}
}

// TestImportZarrHostile: a store whose chunk or .zarray is a FIFO, or a
// link to /dev/zero or /etc/passwd, is refused at once (it used to hang
// ignoring Ctrl-C, grow without bound, or import the linked file), and
// nothing is created.
func TestImportZarrHostile(t *testing.T) {
	const zarray = `{"chunks": [2], "compressor": null, "dtype": "<f8", "fill_value": 0, "filters": null, "order": "C", "shape": [4], "zarr_format": 2}`
	for _, c := range []struct {
		name, file, say string
		fifo            bool
		target          string
	}{
		{"fifo chunk", "1", "chunk", true, ""},
		{"fifo .zarray", ".zarray", "a FIFO, not a regular file", true, ""},
		{".zarray to /dev/zero", ".zarray", ".zarray is a symbolic link to /dev/zero, outside the store", false, "/dev/zero"},
		{"chunk to /etc/passwd", "0", "0 is a symbolic link to /etc/passwd, outside the store", false, "/etc/passwd"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "s.zarr")
			os.Mkdir(dir, 0o700)
			if c.file != ".zarray" {
				os.WriteFile(filepath.Join(dir, ".zarray"), []byte(zarray), 0o600)
			}
			p := filepath.Join(dir, c.file)
			if c.fifo {
				if err := syscall.Mkfifo(p, 0o600); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Symlink(c.target, p); err != nil {
				t.Fatal(err)
			}
			name := uniqueName(t)
			r := want(t, 1, "import", dir, name)
			contains(t, "stderr", r.stderr, c.say)
			if _, err := shmtensor.Stat(name); !errors.Is(err, shmtensor.ErrNotExist) {
				t.Errorf("the failed import left %s: %v", name, err)
			}
		})
	}
}
