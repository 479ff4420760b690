package main

import (
	"bytes"
	"flag"
	"go/format"
	"os"
	"os/exec"
	"testing"
)

var fixDocs = flag.Bool("fixdocs", false, "write alldocs.go from the commands' help texts")

// TestDocsUpToDate: alldocs.go, the package documentation, is what "shmtensor
// help documentation" prints from the help texts, gofmt'ed; with -fixdocs
// the test writes it.
func TestDocsUpToDate(t *testing.T) {
	out, err := exec.Command(exe, "help", "documentation").Output()
	if err != nil {
		t.Fatalf("shmtensor help documentation: %v", err)
	}
	want, err := format.Source(out)
	if err != nil {
		t.Fatalf("shmtensor help documentation printed no valid Go: %v\n%s", err, out)
	}
	got, err := os.ReadFile("alldocs.go")
	if err == nil && bytes.Equal(got, want) {
		return
	}
	if *fixDocs {
		if err := os.WriteFile("alldocs.go", want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("wrote alldocs.go")
		return
	}
	t.Errorf("alldocs.go is not what the help texts make (%v); regenerate it with\n"+
		"\tgo generate ./cmd/shmtensor\n"+
		"or, in cmd/shmtensor,\n"+
		"\tgo test -run=TestDocsUpToDate -fixdocs", err)
}
