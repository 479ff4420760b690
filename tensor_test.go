package shmtensor

// Views: Slice, Transpose, Reshape and their errors, also of segments.

import (
	"errors"
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
