package shmtensor_test

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/shmtensor/shmtensor"

// TestLayers checks the layering rule of internal/doc.go with go list, on
// every platform family the library has code for: which module packages
// each package may import, and that the root makes no system call itself.
func TestLayers(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the go command is needed to check the layers")
		}
		t.Skip("no go command on PATH")
	}
	// allowed lists, per package, the module packages it may import; a
	// package not listed may import any.
	allowed := map[string][]string{
		"internal/errs":      {},
		"internal/sys":       {"internal/errs"},
		"internal/strided":   {"internal/errs"},
		"internal/codec":     {"internal/errs", "internal/strided"},
		"internal/nprint":    {},
		"internal/units":     {},
		"internal/numpytest": {},
		"internal/floor":     {},
		"internal/testenv":   {},
		"zarr":               {""},
	}
	for _, goos := range []string{"linux", "darwin", "freebsd", "windows"} {
		cmd := exec.Command(gobin, "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", "./...")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("GOOS=%s go list: %v", goos, err)
		}
		for line := range strings.Lines(string(out)) {
			path, rest, _ := strings.Cut(strings.TrimSpace(line), "|")
			imports, deps, _ := strings.Cut(rest, "|")
			rel, ok := relPath(path)
			if !ok {
				continue
			}
			if strings.HasPrefix(rel, "internal/") && slices.Contains(strings.Fields(deps), module) {
				t.Errorf("GOOS=%s: %s depends on the root package", goos, path)
			}
			if rel == "" && slices.Contains(strings.Fields(imports), "golang.org/x/sys/unix") {
				t.Errorf("GOOS=%s: the root package imports golang.org/x/sys/unix; system calls belong in internal/sys", goos)
			}
			want, listed := allowed[rel]
			if !listed {
				continue
			}
			for _, imp := range strings.Fields(imports) {
				if r, ok := relPath(imp); ok && !slices.Contains(want, r) {
					t.Errorf("GOOS=%s: %s imports %s; it may import only %q of the module", goos, path, imp, want)
				}
			}
		}
	}
}

// TestRootMakesNoSystemCalls: no root file but tests names syscall.Syscall
// or the unix package; the kernel is reached through internal/sys only.
func TestRootMakesNoSystemCalls(t *testing.T) {
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := f.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"unix.", "syscall.Syscall", "syscall.RawSyscall"} {
			for line := range strings.Lines(string(b)) {
				if l := strings.TrimSpace(line); !strings.HasPrefix(l, "//") && strings.Contains(l, bad) {
					t.Errorf("%s: %s", name, l)
				}
			}
		}
	}
}

// relPath returns path relative to the module ("" for the root), or false
// for a package outside it.
func relPath(path string) (string, bool) {
	if path == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}
