//go:build linux

package shmtensor

// Helpers of the lifecycle tests (lifecycle_*_test.go).

import (
	"path/filepath"
	"testing"
)

// lifecycleNames returns a shm name and a file:// name for lifecycle tests,
// each removed when the test ends.
func lifecycleNames(t *testing.T) map[string]string {
	return map[string]string{"shm": uniqueName(t), "file": tempFileName(t, "x.npy")}
}

// dirOf returns the directory a name's file is in.
func dirOf(t *testing.T, name string) string {
	n, err := parseName(name)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(pathOf(n))
}

// leftovers lists hidden names of the package left in the name's directory
// by this name.
func leftovers(t *testing.T, name string) []string {
	n, _ := parseName(name)
	base := filepath.Base(pathOf(n))
	var out []string
	for _, p := range []string{tempPrefix + base, lockPrefix + base} {
		m, _ := filepath.Glob(filepath.Join(dirOf(t, name), p+"*"))
		out = append(out, m...)
	}
	return out
}

func pathOfName(t *testing.T, name string) string {
	n, err := parseName(name)
	if err != nil {
		t.Fatal(err)
	}
	return pathOf(n)
}
