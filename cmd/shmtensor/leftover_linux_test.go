package main

import (
	"os"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor"
)

// TestListAndGCLeftovers: list --all shows the hidden files that no
// process uses, and gc --yes deletes them, however fresh (the default
// --older-than is 1h); one this process holds open, and a foreign file at
// Delete's private name, stay.
func TestListAndGCLeftovers(t *testing.T) {
	name := uniqueName(t)
	p := map[string]string{
		"aside":   "/dev/shm/.shmtensor-deleting-" + name + "-0123456789abcdef",
		"foreign": "/dev/shm/.shmtensor-deleting-" + name + "-fedcba9876543210",
		"tmp":     "/dev/shm/.shmtensor-creating-" + name + "-0123456789abcdef.tmp",
		"open":    "/dev/shm/.shmtensor-creating-" + name + "-fedcba9876543210.tmp",
		"lock":    "/dev/shm/.shmtensor-lock-" + name,
	}
	for _, f := range p {
		t.Cleanup(func() { os.Remove(f) })
	}
	// A segment a killed Delete had moved aside.
	a, err := shmtensor.Create[float32](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := os.Rename("/dev/shm/"+name, p["aside"]); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"foreign", "tmp", "open", "lock"} {
		if err := os.WriteFile(p[k], []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	held, err := os.Open(p["open"])
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	r := want(t, 0, "list", "--all")
	contains(t, "list --all", r.stdout, "LEFTOVER", p["aside"], p["tmp"], p["lock"], p["foreign"])
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, p["foreign"]) && !strings.Contains(line, "deleting (foreign: rename it back") {
			t.Fatalf("the foreign file is not marked so: %q", line)
		}
	}
	if strings.Contains(r.stdout, p["open"]) {
		t.Fatalf("list --all shows a hidden file this process holds open:\n%s", r.stdout)
	}
	r = want(t, 0, "list", "--all", "--json")
	contains(t, "list --all --json", r.stdout, `"path": "`+p["aside"]+`",
    "kind": "deleting"`, `"foreign": true`)

	r = want(t, 0, "gc", "--match", name, "--yes")
	contains(t, "gc --yes", r.stdout, "deleted temporary file "+p["aside"], "deleted temporary file "+p["tmp"], "deleted lock file "+p["lock"])
	for k, f := range p {
		_, err := os.Lstat(f)
		if gone := err != nil; gone != (k == "aside" || k == "tmp" || k == "lock") {
			t.Errorf("after gc --yes, %s: %v", f, err)
		}
	}
}
