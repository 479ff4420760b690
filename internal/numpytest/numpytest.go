// Package numpytest finds a Python interpreter with numpy for the tests and
// benchmarks that check shmtensor against numpy. It is shared by the
// library's tests, the command's tests and the comparison program.
package numpytest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	once   sync.Once
	path   string
	errMsg string
)

// Find returns an interpreter that imports numpy, trying $SHMTENSOR_PYTHON,
// Debian's /usr/bin/python3 (where python3-numpy installs) and python3 on
// the PATH, in that order; or an error saying what each one answered.
func Find() (string, error) {
	once.Do(func() {
		var cands []string
		if p := os.Getenv("SHMTENSOR_PYTHON"); p != "" {
			cands = append(cands, p)
		}
		cands = append(cands, "/usr/bin/python3", "python3")
		var tried []string
		for _, c := range cands {
			out, err := exec.Command(c, "-c", "import numpy").CombinedOutput()
			if err == nil {
				path = c
				return
			}
			tried = append(tried, fmt.Sprintf("%s: %v %s", c, err, lastLine(string(out))))
		}
		errMsg = strings.Join(tried, "; ")
	})
	if path == "" {
		return "", fmt.Errorf("numpy is not available (install python3-numpy or set SHMTENSOR_PYTHON): %s", errMsg)
	}
	return path, nil
}

// Need returns an interpreter with numpy. Without one the test is skipped
// with the reason, except under CI=true, where a missing numpy is a
// failure: CI installs python3-numpy.
func Need(t testing.TB) string {
	t.Helper()
	py, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return py
}

// Run runs script with the interpreter Need returns and gives its standard
// output; the test fails with the script's standard error if it fails.
func Run(t testing.TB, script string, args ...string) string {
	t.Helper()
	return RunInput(t, nil, script, args...)
}

// RunInput is Run with in on the script's standard input.
func RunInput(t testing.TB, in []byte, script string, args ...string) string {
	t.Helper()
	py := Need(t)
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	if in != nil {
		cmd.Stdin = bytes.NewReader(in)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python failed: %v\n%s", err, stderr.String())
	}
	return string(out)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Map starts a Python process, running a script named map_segment.py,
// that maps the .npy file at path with np.load(mmap_mode='r'), and returns
// it once the mapping is made. The process lives until the test ends or
// it is killed.
func Map(t testing.TB, path string) *exec.Cmd {
	t.Helper()
	py := Need(t)
	script := filepath.Join(t.TempDir(), "map_segment.py")
	if err := os.WriteFile(script, []byte(mapScript), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script, path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	out := bufio.NewReader(stdout)
	if line, _ := out.ReadString('\n'); line != "mapped\n" {
		t.Fatalf("numpy did not map %s: %q", path, line)
	}
	go io.Copy(io.Discard, out)
	return cmd
}

// mapScript maps its argument and holds the mapping until its standard
// input closes.
const mapScript = `import sys, numpy as np
a = np.load(sys.argv[1], mmap_mode='r')
print('mapped', flush=True)
sys.stdin.read()
`
