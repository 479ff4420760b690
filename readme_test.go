package shmtensor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmePrelude is what every Go snippet of README.md may use without
// declaring it: the packages it names and, as parameters of the function
// it is compiled in, the values its text takes as given.
const readmePrelude = `package readme

import (
	"context"
	"fmt"
	"io"
	"log"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/zarr"
	"gonum.org/v1/gonum/mat"
)

var (
	_ = context.Background
	_ = fmt.Sprint
	_ = io.EOF
	_ = log.Fatal
	_ = zarr.Write
	_ mat.Matrix
)
`

const readmeParams = `ctx context.Context, seg *shmtensor.Segment, counter *shmtensor.Tensor[int64], flag *shmtensor.Tensor[int32], n int, compute, use func(*shmtensor.Tensor[float32])`

// TestREADMESnippetsCompile compiles every Go snippet of README.md as the
// body of a function (returning error) in a module that uses this one, so
// that what a newcomer copies builds.
func TestREADMESnippetsCompile(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the go command is needed to compile the README's snippets")
		}
		t.Skip("no go command on PATH")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?ms)^```go\n(.*?)^```").FindAllSubmatchIndex(readme, -1)
	if len(blocks) < 5 {
		t.Fatalf("README.md has %d Go snippets; the pattern no longer finds them", len(blocks))
	}
	var src strings.Builder
	var where []string
	src.WriteString(readmePrelude)
	for i, b := range blocks {
		where = append(where, fmt.Sprintf("snippet%d: README.md line %d", i+1, 2+strings.Count(string(readme[:b[0]]), "\n")))
		fmt.Fprintf(&src, "\nfunc snippet%d(%s) error {\n%s\treturn nil\n}\n", i+1, readmeParams, readme[b[2]:b[3]])
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	gonum := regexp.MustCompile(`gonum.org/v1/gonum (v\S+)`).FindSubmatch(gomod)
	if gonum == nil {
		t.Fatal("go.mod names no gonum version")
	}
	dir := t.TempDir()
	mod := fmt.Sprintf("module readme\n\ngo 1.26\n\nrequire (\n\tgithub.com/shmtensor/shmtensor v0.0.0\n\tgonum.org/v1/gonum %s\n)\n\nreplace github.com/shmtensor/shmtensor => %s\n", gonum[1], root)
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(mod), "go.sum": sum, "readme.go": []byte(src.String())} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(gobin, "vet", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("README.md's Go snippets do not compile: %v\n%s\n%s\nthe file compiled:\n%s", err, out, strings.Join(where, "\n"), src.String())
	}
}
