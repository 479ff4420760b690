package shmtensor

// Element access: panics out of range, no allocation, At inlined.

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// panicMessage runs f and returns what it panicked with, as text.
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestIndexPanics(t *testing.T) {
	a := arange[float64](3, 4)
	v, _ := a.Slice(Span(1, 3), Every(-2))
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"row past end", func() { a.At(3, 0) }, "index 3 is out of bounds for axis 0 with size 3"},
		{"column past end", func() { a.At(0, 4) }, "index 4 is out of bounds for axis 1 with size 4"},
		{"negative", func() { a.At(-1, 0) }, "index -1 is out of bounds for axis 0 with size 3"},
		{"too few", func() { a.At(1) }, "wrong number of indices for a 2-dimensional tensor of shape [3 4]"},
		{"too many", func() { a.At(1, 2, 3) }, "wrong number of indices for a 2-dimensional tensor of shape [3 4]"},
		{"none", func() { a.At() }, "wrong number of indices for a 2-dimensional tensor of shape [3 4]"},
		{"set too few", func() { a.Set(0, 1) }, "wrong number of indices for a 2-dimensional tensor of shape [3 4]"},
		{"set past end", func() { a.Set(1, 0, 9) }, "index 9 is out of bounds for axis 1 with size 4"},
		{"view", func() { v.At(2, 0) }, "index 2 is out of bounds for axis 0 with size 2"},
		{"view column", func() { v.At(0, 2) }, "index 2 is out of bounds for axis 1 with size 2"},
		{"3-d", func() { arange[int](2, 2, 2).At(0, 2, 0) }, "index 2 is out of bounds for axis 1 with size 2"},
		{"New negative", func() { New[int](2, -1) }, "bad shape"},
	} {
		if got := panicMessage(tc.f); !strings.Contains(got, tc.want) {
			t.Errorf("%s: panic %q, want one containing %q", tc.name, got, tc.want)
		}
	}
}

// TestAtNoAlloc: At and Set on heap tensors, segments and strided views
// never allocate (the variadic indices stay on the caller's stack because
// At and Set are inlined or do not let them escape).
func TestAtNoAlloc(t *testing.T) {
	name := uniqueName(t)
	seg, err := Create[float64](name, []int{6, 8})
	if err != nil {
		t.Fatal(err)
	}
	defer Delete(name)
	defer seg.Close()
	view, _ := seg.Slice(Every(-2), Span(1, 7))
	cube := arange[int64](3, 4, 5)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"segment", func() { sinkF += seg.At(5, 7) }},
		{"strided view", func() { sinkF += view.At(2, 5) }},
		{"3-d", func() { sink += cube.At(2, 3, 4) }},
		{"set", func() { seg.Set(1, 4, 3) }},
	} {
		if n := testing.AllocsPerRun(100, tc.f); n != 0 {
			t.Errorf("%s: %v allocations per call", tc.name, n)
		}
	}
}

// TestAtInlinable keeps At within the compiler's inlining budget, which
// its speed in loops depends on; the cost is tight (see At).
func TestAtInlinable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package with -gcflags=-m")
	}
	if !strings.HasPrefix(runtime.Version(), "go1.26") {
		t.Skipf("At's inlining cost was fitted to Go 1.26's inliner, this is %s", runtime.Version())
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build with: %v", err)
	}
	out, err := exec.Command(goTool, "build", "-gcflags=-m", "-o", os.DevNull, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	// The package itself instantiates At for these element types.
	for _, shape := range []string{"float64", "float32", "complex128"} {
		want := fmt.Sprintf("can inline (*Tensor[go.shape.%s]).At", shape)
		if !strings.Contains(string(out), want) {
			t.Errorf("At is no longer inlinable for %s: -gcflags=-m does not say %q", shape, want)
		}
	}
}
