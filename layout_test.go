package shmtensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shmtensor/shmtensor/internal/strided"
)

// TestReshapeViewIffAffine checks strided.ReshapeStrides against brute force: a
// view exists exactly when the base offsets of the elements in C order are
// an affine function of the new index, and then the strides found must
// reproduce every offset.
func TestReshapeViewIffAffine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		base := randShape(rng, 4, 4)
		a := arange[int](base...)
		v := randomView(rng, a, 3)
		n := v.Len()
		var offs []int
		for x := range v.Values() {
			offs = append(offs, x)
		}
		ns := randFactorShape(rng, n, 4)
		strides, ok := strided.ReshapeStrides(v.shape, v.strides, ns)
		affine := affineStrides(offs, ns)
		if ok != (affine != nil) {
			t.Fatalf("view %v strides %v → %v: strided.ReshapeStrides ok=%v, brute force affine=%v", v.shape, v.strides, ns, ok, affine)
		}
		if !ok {
			continue
		}
		w := v.view(v.off, ns, strides)
		i := 0
		for x := range w.Values() {
			if x != offs[i] {
				t.Fatalf("view %v strides %v → %v strides %v: element %d is %d, want %d", v.shape, v.strides, ns, strides, i, x, offs[i])
			}
			i++
		}
	}
}

// affineStrides returns strides s with offs[flat(idx)] = offs[0] + idx·s
// for every index of shape, or nil if there are none.
func affineStrides(offs []int, shape []int) []int {
	if len(offs) == 0 {
		return []int{}
	}
	cs := strided.CStrides(shape)
	s := make([]int, len(shape))
	for k, d := range shape {
		if d > 1 {
			s[k] = offs[cs[k]] - offs[0]
		}
	}
	for flat, o := range offs {
		p, rem := offs[0], flat
		for k := range shape {
			p += rem / cs[k] * s[k]
			rem %= cs[k]
		}
		if p != o {
			return nil
		}
	}
	return s
}

// pySliceRef lists the indices that Python's range(length)[start:stop:step]
// selects, by walking from the adjusted start as CPython's documentation
// describes rather than by counting.
func pySliceRef(start, stop, step, length int) []int {
	if step == 0 {
		step = 1
	}
	adjust := func(i int) int {
		if i < 0 {
			if i < -length {
				if step < 0 {
					return -1
				}
				return 0
			}
			return i + length
		}
		if i >= length {
			if step < 0 {
				return length - 1
			}
			return length
		}
		return i
	}
	b, e := adjust(start), adjust(stop)
	var out []int
	for i := b; (step > 0 && i < e) || (step < 0 && i > e); {
		out = append(out, i)
		if (step > 0 && i > math.MaxInt-step) || (step < 0 && i < math.MinInt-step) {
			break
		}
		i += step
	}
	return out
}

func TestSliceMatchesPythonReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	bound := func(length int) int {
		switch rng.IntN(8) {
		case 0:
			return math.MaxInt
		case 1:
			return math.MinInt
		case 2:
			return []int{math.MaxInt - 1, math.MinInt + 1, length, -length, -length - 1}[rng.IntN(5)]
		}
		return rng.IntN(2*length+7) - length - 3
	}
	steps := []int{1, 1, 1, 2, 3, 5, -1, -1, -2, -3, -7, 0, math.MaxInt, math.MinInt, math.MinInt + 1}
	for range 20000 {
		length := rng.IntN(13)
		r := Range{bound(length), bound(length), steps[rng.IntN(len(steps))]}
		a := arange[int](length)
		v, err := a.Slice(r)
		if err != nil {
			t.Fatalf("Slice(%v) on %d: %v", r, length, err)
		}
		got := slices.Collect(v.Values())
		want := pySliceRef(r.Start, r.Stop, r.Step, length)
		if !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("range(%d)[%d:%d:%d] = %v, want %v", length, r.Start, r.Stop, r.Step, got, want)
		}
	}
}

func TestRangeHelpers(t *testing.T) {
	a := arange[int](7)
	for _, tc := range []struct {
		name string
		r    Range
		want []int
	}{
		{"Full", Full(), []int{0, 1, 2, 3, 4, 5, 6}},
		{"Span", Span(2, 5), []int{2, 3, 4}},
		{"Span negative", Span(-3, -1), []int{4, 5}},
		{"Span clamped", Span(-100, 100), []int{0, 1, 2, 3, 4, 5, 6}},
		{"From", Span(4, math.MaxInt), []int{4, 5, 6}},
		{"From negative", Span(-2, math.MaxInt), []int{5, 6}},
		{"To", Span(0, 2), []int{0, 1}},
		{"To negative", Span(0, -5), []int{0, 1}},
		{"Every", Every(3), []int{0, 3, 6}},
		{"Every negative", Every(-3), []int{6, 3, 0}},
		{"Reverse", Reverse(), []int{6, 5, 4, 3, 2, 1, 0}},
		{"Step", Range{5, 1, -2}, []int{5, 3}},
		{"Step to the start", Range{3, math.MinInt, -1}, []int{3, 2, 1, 0}},
		{"Step -1 from end", Range{-1, math.MinInt, -1}, []int{6, 5, 4, 3, 2, 1, 0}},
		{"Step zero is one", Range{1, 3, 0}, []int{1, 2}},
		{"empty", Span(5, 2), nil},
		{"empty backwards", Range{2, 5, -1}, nil},
	} {
		v, err := a.Slice(tc.r)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := slices.Collect(v.Values()); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v gives %v, want %v", tc.name, tc.r, got, tc.want)
		}
	}
}

func TestFormatShapeAndLayoutStrides(t *testing.T) {
	for _, tt := range []struct {
		shape      []int
		text       string
		c, fortran []int
	}{
		{[]int{}, "()", []int{}, []int{}},
		{[]int{5}, "(5,)", []int{1}, []int{1}},
		{[]int{3, 4}, "(3, 4)", []int{4, 1}, []int{1, 3}},
		{[]int{2, 0, 3}, "(2, 0, 3)", []int{3, 3, 1}, []int{1, 2, 2}},
	} {
		if got := FormatShape(tt.shape); got != tt.text {
			t.Errorf("FormatShape(%v) = %q, want %q", tt.shape, got, tt.text)
		}
		if got := (Info{Shape: tt.shape}).Strides(); !slices.Equal(got, tt.c) {
			t.Errorf("C strides of %v = %v, want %v", tt.shape, got, tt.c)
		}
		if got := (Info{Shape: tt.shape, Fortran: true}).Strides(); !slices.Equal(got, tt.fortran) {
			t.Errorf("Fortran strides of %v = %v, want %v", tt.shape, got, tt.fortran)
		}
	}
}
