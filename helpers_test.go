package shmtensor

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/shmtensor/shmtensor/internal/numpytest"
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

// needNumpy returns a Python interpreter that can import numpy, skipping
// the test without one (failing it under CI=true).
func needNumpy(t testing.TB) string { return numpytest.Need(t) }

// runPython runs script with numpy available and returns its standard
// output; the test fails with the script's standard error if it fails.
func runPython(t testing.TB, script string, args ...string) string {
	return numpytest.Run(t, script, args...)
}

// removeShm unlinks /dev/shm/name, whatever it holds.
func removeShm(name string) { os.Remove(filepath.Join("/dev/shm", name)) }
