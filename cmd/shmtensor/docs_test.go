package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"strings"
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
	why := "it differs"
	if err != nil {
		why = err.Error()
	} else {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				why = fmt.Sprintf("line %d is\n\t%s\nwant\n\t%s", i+1, gl[i], wl[i])
				break
			}
		}
	}
	t.Errorf("alldocs.go is not what the help texts make: %s\nRegenerate it with\n"+
		"\tgo generate ./cmd/shmtensor\n"+
		"or, in cmd/shmtensor,\n"+
		"\tgo test -run=TestDocsUpToDate -fixdocs", why)
}
