package shmtensor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestViews(t *testing.T) {
	a := arange[int](3, 4) // [[0 1 2 3] [4 5 6 7] [8 9 10 11]]
	must := func(v *Tensor[int], err error) *Tensor[int] {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name  string
		v     *Tensor[int]
		shape []int
		want  []int
	}{
		{"slice rows", must(a.Slice(Span(1, 3))), []int{2, 4}, []int{4, 5, 6, 7, 8, 9, 10, 11}},
		{"slice both", must(a.Slice(Full(), Every(2))), []int{3, 2}, []int{0, 2, 4, 6, 8, 10}},
		{"slice negative", must(a.Slice(Reverse(), Range{-1, 0, -2})), []int{3, 2}, []int{11, 9, 7, 5, 3, 1}},
		{"slice empty", must(a.Slice(Span(2, 2))), []int{0, 4}, nil},
		{"slice none", must(a.Slice()), []int{3, 4}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"index row", must(a.Index(0, 1)), []int{4}, []int{4, 5, 6, 7}},
		{"index last column", must(a.Index(1, -1)), []int{3}, []int{3, 7, 11}},
		{"index negative axis", must(a.Index(-1, 0)), []int{3}, []int{0, 4, 8}},
		{"index to scalar", must(must(a.Index(0, 2)).Index(0, 1)), []int{}, []int{9}},
		{"transpose", must(a.Transpose()), []int{4, 3}, []int{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}},
		{"transpose identity", must(a.Transpose(0, 1)), []int{3, 4}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"transpose negative", must(a.Transpose(-1, -2)), []int{4, 3}, []int{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}},
		{"reshape", must(a.Reshape(2, -1)), []int{2, 6}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"reshape strided", must(must(a.Slice(Full(), Every(2))).Reshape(6)), []int{6}, []int{0, 2, 4, 6, 8, 10}},
		{"reshape transposed", must(must(a.Transpose()).Reshape(2, 2, 3)), []int{2, 2, 3}, []int{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}},
		{"reshape to scalar", must(must(a.Slice(Span(1, 2), Span(2, 3))).Reshape()), []int{}, []int{6}},
	} {
		if !slices.Equal(tc.v.Shape(), tc.shape) {
			t.Errorf("%s: shape %v, want %v", tc.name, tc.v.Shape(), tc.shape)
		}
		if got := values(tc.v); !slices.Equal(got, tc.want) {
			t.Errorf("%s: values %v, want %v", tc.name, got, tc.want)
		}
		// A view shares memory: a write through it shows in a.
		if tc.v.Len() > 0 {
			idx := make([]int, tc.v.NDim())
			tc.v.Set(-1, idx...)
			if !slices.Contains(a.Data(), -1) {
				t.Errorf("%s: write through the view does not show in the base", tc.name)
			}
			tc.v.Set(tc.want[0], idx...)
		}
	}
}

func TestViewErrors(t *testing.T) {
	a := arange[int](3, 4)
	tr, _ := a.Transpose()
	s0, _ := a.Index(0, 0)
	scalar, _ := s0.Index(0, 0)
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"reshape size", second(a.Reshape(5, 2)), ErrShape},
		{"reshape two -1", second(a.Reshape(-1, -1)), ErrShape},
		{"reshape negative", second(a.Reshape(-3, -4)), ErrShape},
		{"reshape needs copy", second(tr.Reshape(12)), ErrNotContiguous},
		{"reshape needs copy 2", second(tr.Reshape(3, 4)), ErrNotContiguous},
		{"slice too many", second(a.Slice(Full(), Full(), Full())), ErrShape},
		{"slice scalar", second(scalar.Slice(Full())), ErrShape},
		{"index axis", second(a.Index(2, 0)), ErrShape},
		{"index negative axis", second(a.Index(-3, 0)), ErrShape},
		{"index past end", second(a.Index(0, 3)), ErrIndex},
		{"index before start", second(a.Index(1, -5)), ErrIndex},
		{"index scalar", second(scalar.Index(0, 0)), ErrShape},
		{"transpose short", second(a.Transpose(0)), ErrShape},
		{"transpose repeat", second(a.Transpose(1, 1)), ErrShape},
		{"transpose repeat negative", second(a.Transpose(1, -1)), ErrShape},
		{"transpose range", second(a.Transpose(0, 2)), ErrShape},
	} {
		var e *Error
		if !errors.Is(tc.err, tc.want) || !errors.As(tc.err, &e) {
			t.Errorf("%s: error %v, want an *Error wrapping %v", tc.name, tc.err, tc.want)
		}
	}
}

func TestScalarAndEmpty(t *testing.T) {
	s := New[float64]()
	if s.NDim() != 0 || s.Len() != 1 || !s.IsContiguous() {
		t.Fatalf("0-d: ndim %d len %d", s.NDim(), s.Len())
	}
	s.Set(2.5)
	if s.At() != 2.5 || len(s.Data()) != 1 {
		t.Errorf("0-d At = %v, Data %v", s.At(), s.Data())
	}
	if v, err := s.Reshape(1, 1, -1); err != nil || !slices.Equal(v.Shape(), []int{1, 1, 1}) || v.At(0, 0, 0) != 2.5 {
		t.Errorf("0-d reshape: %v %v", v, err)
	}
	if v, err := s.Transpose(); err != nil || v.At() != 2.5 {
		t.Errorf("0-d transpose: %v", err)
	}
	if got := slices.Collect(s.Values()); !slices.Equal(got, []float64{2.5}) {
		t.Errorf("0-d values %v", got)
	}
	n := 0
	for idx, v := range s.All() {
		if len(idx) != 0 || v != 2.5 {
			t.Errorf("0-d All gives %v, %v", idx, v)
		}
		n++
	}
	if n != 1 {
		t.Errorf("0-d All gives %d elements", n)
	}

	e := New[float64](3, 0, 2)
	if e.Len() != 0 || !e.IsContiguous() || e.Data() == nil || len(e.Data()) != 0 {
		t.Errorf("empty: len %d contiguous %v data %v", e.Len(), e.IsContiguous(), e.Data())
	}
	for range e.Values() {
		t.Error("empty Values yields")
	}
	for range e.All() {
		t.Error("empty All yields")
	}
	e.Fill(1)
	if err := e.CopyFrom(New[float64](3, 0, 2)); err != nil {
		t.Error(err)
	}
	if c := e.Clone(); !slices.Equal(c.Shape(), []int{3, 0, 2}) {
		t.Errorf("empty clone shape %v", c.Shape())
	}
	for _, shape := range [][]int{{0}, {2, 0, 3}, {0, 6}, {-1, 2}} {
		if v, err := e.Reshape(shape...); err != nil || v.Len() != 0 {
			t.Errorf("empty reshape to %v: %v", shape, err)
		}
	}
	if _, err := e.Reshape(0, -1); !errors.Is(err, ErrShape) {
		t.Errorf("empty reshape to (0, -1): %v, want ErrShape", err)
	}
	if v, err := e.Slice(Reverse(), Full(), Every(-1)); err != nil || !slices.Equal(v.Shape(), []int{3, 0, 2}) {
		t.Errorf("empty slice: %v", err)
	}
	if _, err := e.Index(1, 0); !errors.Is(err, ErrIndex) {
		t.Errorf("index on a zero-length axis: %v", err)
	}
	if v, err := e.Index(0, -1); err != nil || !slices.Equal(v.Shape(), []int{0, 2}) {
		t.Errorf("index of an empty tensor: %v", err)
	}
}

func TestEmptySegmentData(t *testing.T) {
	name := tempFileName(t, "e.npy")
	a, err := Create[int16](name, []int{0, 3})
	if err != nil {
		t.Fatal(err)
	}
	defer Delete(name)
	defer a.Close()
	if d := a.Data(); d == nil || len(d) != 0 {
		t.Errorf("Data of an empty segment tensor: %v (nil %v)", d, d == nil)
	}
}

func TestManyDims(t *testing.T) {
	shape := make([]int, 32)
	for i := range shape {
		shape[i] = 1 + i%2 // 2^16 elements
	}
	a := arange[int32](shape...)
	tr, err := a.Transpose()
	if err != nil {
		t.Fatal(err)
	}
	if tr.IsContiguous() {
		t.Error("transposed 32-d tensor is contiguous")
	}
	// Transposing back and reshaping flat gives the original order.
	back, _ := tr.Transpose()
	flat, err := back.Reshape(-1)
	if err != nil || !slices.Equal(slices.Collect(flat.Values()), a.Data()) {
		t.Fatalf("32-d round trip: %v", err)
	}
	// Values of the transpose match At with reversed indices.
	idx := make([]int, 32)
	rev := make([]int, 32)
	for i, v := range tr.All() {
		copy(idx, i)
		for k := range idx {
			rev[31-k] = idx[k]
		}
		if a.At(rev...) != v {
			t.Fatalf("transpose at %v is %d, want %d", idx, v, a.At(rev...))
		}
	}
	if _, err := tr.Reshape(-1); !errors.Is(err, ErrNotContiguous) {
		t.Errorf("flattening a 32-d transpose: %v, want ErrNotContiguous", err)
	}
	c := tr.Clone()
	if !c.IsContiguous() || !slices.Equal(c.Data(), slices.Collect(tr.Values())) {
		t.Error("32-d clone differs")
	}
	s, err := a.Slice(slices.Repeat([]Range{Reverse()}, 32)...)
	if err != nil || s.At(make([]int, 32)...) != int32(a.Len()-1) {
		t.Errorf("32-d reversed slice: %v", err)
	}
	if _, err := a.Reshape(make([]int, MaxDims+1)...); !errors.Is(err, ErrShape) {
		t.Errorf("reshape to %d dims: %v", MaxDims+1, err)
	}
}

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

func TestFromSlice(t *testing.T) {
	d := []float64{1, 2, 3, 4, 5, 6}
	a, err := FromSlice(d, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	a.Set(9, 1, 1)
	if d[4] != 9 {
		t.Error("FromSlice does not alias its data")
	}
	if b, err := FromSlice(d); err != nil || !slices.Equal(b.Shape(), []int{6}) {
		t.Errorf("FromSlice without shape: %v %v", b, err)
	}
	if _, err := FromSlice(d, 4, 2); !errors.Is(err, ErrShape) {
		t.Errorf("FromSlice with a wrong shape: %v", err)
	}
	if _, err := FromSlice(d, -2, -3); !errors.Is(err, ErrShape) {
		t.Errorf("FromSlice with negative dimensions: %v", err)
	}
	// The tensor's data stops at its elements even when the slice has
	// more capacity.
	big := make([]float64, 4, 100)
	c, _ := FromSlice(big, 2, 2)
	if got := cap(c.Data()); got != 4 {
		t.Errorf("Data capacity %d, want 4", got)
	}
}

func TestViewsOfSegments(t *testing.T) {
	name := tempFileName(t, "v.npy")
	a, err := Create[float64](name, []int{4, 5})
	if err != nil {
		t.Fatal(err)
	}
	defer Delete(name)
	for i := range a.Data() {
		a.Data()[i] = float64(i)
	}
	v, _ := a.Slice(Every(2), Reverse())
	if v.Segment() != a.Segment() {
		t.Error("a view lost its segment")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := v.String(); got != "<closed tensor>" {
		t.Errorf("String of a closed view: %q", got)
	}
	for name, f := range map[string]func(){
		"At":        func() { v.At(0, 0) },
		"Set":       func() { v.Set(1, 0, 0) },
		"Slice":     func() { v.Slice(Full()) },
		"Reshape":   func() { v.Reshape(-1) },
		"Index":     func() { v.Index(0, 0) },
		"Transpose": func() { v.Transpose() },
		"Clone":     func() { v.Clone() },
		"Fill":      func() { v.Fill(0) },
		"CopyFrom":  func() { New[float64](2, 5).CopyFrom(v) },
		"Values": func() {
			for range v.Values() {
			}
		},
		"All": func() {
			for range v.All() {
			}
		},
		"Data": func() { v.Data() },
	} {
		if msg := panicMessage(f); !strings.Contains(msg, ErrClosed.Error()) {
			t.Errorf("%s on a closed view: panic %q, want ErrClosed", name, msg)
		}
	}

	ro, err := Attach[float64](name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	rv, _ := ro.Slice(Span(1, 3))
	tv, _ := rv.Transpose()
	if !rv.ReadOnly() || !tv.ReadOnly() {
		t.Error("views of a read-only tensor are writable")
	}
	if got := tv.At(2, 1); got != 12 {
		t.Errorf("read-only view At = %v, want 12", got)
	}
	for name, f := range map[string]func(){"Set": func() { tv.Set(1, 0, 0) }, "Fill": func() { tv.Fill(1) }} {
		if msg := panicMessage(f); !strings.Contains(msg, ErrReadOnly.Error()) {
			t.Errorf("%s on a read-only view: panic %q, want ErrReadOnly", name, msg)
		}
	}
	if err := tv.CopyFrom(New[float64](5, 2)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("CopyFrom into a read-only view: %v", err)
	}
	if c := tv.Clone(); c.ReadOnly() || c.At(2, 1) != 12 {
		t.Error("Clone of a read-only view is read-only or wrong")
	}
}

// TestValuesStopsWhenClosedInLoop: closing the segment inside the loop
// body panics at the next element instead of reading unmapped memory.
func TestValuesStopsWhenClosedInLoop(t *testing.T) {
	name := tempFileName(t, "c.npy")
	a, err := Create[int32](name, []int{10, 10})
	if err != nil {
		t.Fatal(err)
	}
	defer Delete(name)
	v, _ := a.Transpose()
	msg := panicMessage(func() {
		for range v.Values() {
			a.Close()
		}
	})
	if !strings.Contains(msg, ErrClosed.Error()) {
		t.Errorf("closing inside Values: panic %q", msg)
	}
}

func TestIterators(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		a := arange[int16](randShape(rng, 4, 5)...)
		v := randomView(rng, a, 4)
		want := values(v)
		if got := slices.Collect(v.Values()); !slices.Equal(got, want) && len(want) > 0 {
			t.Fatalf("Values of %v/%v: %v, want %v", v.shape, v.strides, got, want)
		}
		i := 0
		for idx, x := range v.All() {
			if x != want[i] || v.At(idx...) != x {
				t.Fatalf("All of %v/%v: element %d at %v is %d, want %d", v.shape, v.strides, i, idx, x, want[i])
			}
			i++
		}
		if i != len(want) {
			t.Fatalf("All yields %d elements, want %d", i, len(want))
		}
		if d := v.Data(); (d != nil) != v.IsContiguous() || d != nil && !slices.Equal(d, want) && len(want) > 0 {
			t.Fatalf("Data of %v/%v: %v", v.shape, v.strides, d)
		}
	}
	// Breaking out of the loop stops the iteration.
	a := arange[int](4, 4)
	tr, _ := a.Transpose()
	for _, it := range []func(func(int) bool){a.Values(), tr.Values()} {
		n := 0
		for range it {
			n++
			if n == 5 {
				break
			}
		}
		if n != 5 {
			t.Errorf("break after %d elements", n)
		}
	}
}
