package shmtensor

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// uniqueName returns a shm name no other test or program uses (pid plus a
// random suffix) and removes /dev/shm/NAME when the test ends, pass or fail.
func uniqueName(t testing.TB) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := fmt.Sprintf("shmtensor-test-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	t.Cleanup(func() { removeShm(name) })
	return name
}

// tempFileName returns a file:// name in a fresh temporary directory.
func tempFileName(t testing.TB, base string) string {
	t.Helper()
	return "file://" + filepath.Join(t.TempDir(), base)
}

var (
	pythonOnce sync.Once
	pythonPath string
	pythonErr  string
)

// needNumpy returns a Python interpreter that can import numpy. Without one
// the test is skipped with a message, except under CI=true, where the
// missing dependency is a failure: CI installs python3-numpy.
func needNumpy(t testing.TB) string {
	t.Helper()
	pythonOnce.Do(func() {
		var cands []string
		if p := os.Getenv("SHMTENSOR_PYTHON"); p != "" {
			cands = append(cands, p)
		}
		cands = append(cands, "/usr/bin/python3", "python3")
		var tried []string
		for _, c := range cands {
			out, err := exec.Command(c, "-c", "import numpy; print(numpy.__version__)").CombinedOutput()
			if err == nil {
				pythonPath = c
				return
			}
			tried = append(tried, fmt.Sprintf("%s: %v %s", c, err, strings.TrimSpace(lastLine(string(out)))))
		}
		pythonErr = strings.Join(tried, "; ")
	})
	if pythonPath == "" {
		msg := "numpy is not available (install python3-numpy or set SHMTENSOR_PYTHON): " + pythonErr
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return pythonPath
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// runPython runs script with numpy available and returns its standard
// output; the test fails with the script's standard error if it fails.
func runPython(t testing.TB, script string, args ...string) string {
	t.Helper()
	py := needNumpy(t)
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python failed: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// removeShm unlinks /dev/shm/name, whatever it holds.
func removeShm(name string) { os.Remove(filepath.Join("/dev/shm", name)) }
