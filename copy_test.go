package shmtensor

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refCopy is CopyFrom done the obvious way: read every element of src
// first, then write them to dst with Set.
func refCopy[T Number](dst, src *Tensor[T]) {
	vals := values(src)
	i := 0
	for idx := range dst.All() {
		dst.Set(vals[i], idx...)
		i++
	}
}

func TestCopyFromOverlapping(t *testing.T) {
	const n = 10
	type mk func(a *Tensor[int]) (dst, src *Tensor[int])
	must := func(v *Tensor[int], err error) *Tensor[int] {
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name  string
		shape []int
		views mk
	}{
		{"shift right", []int{n}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			return must(a.Slice(Span(1, n))), must(a.Slice(Span(0, n-1)))
		}},
		{"shift left", []int{n}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			return must(a.Slice(Span(0, n-1))), must(a.Slice(Span(1, n)))
		}},
		{"strided shift right", []int{2 * n}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			return must(a.Slice(Range{2, 2 * n, 2})), must(a.Slice(Range{0, 2*n - 2, 2}))
		}},
		{"reverse into itself", []int{n}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			return a, must(a.Slice(Reverse()))
		}},
		{"transpose into itself", []int{n, n}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			return a, must(a.Transpose())
		}},
		{"big transpose into itself", []int{70, 70}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			return a, must(a.Transpose())
		}},
		{"transposed into transposed", []int{40, 40}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			return must(a.Transpose()), must(must(a.Slice(Reverse())).Transpose())
		}},
		{"rows shift down", []int{6, 5}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			return must(a.Slice(Span(1, math.MaxInt))), must(a.Slice(Span(0, -1)))
		}},
		{"columns shift", []int{5, 6}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			return must(a.Slice(Full(), Span(1, math.MaxInt))), must(a.Slice(Full(), Span(0, -1)))
		}},
		{"interleaved halves", []int{2 * n}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			return must(a.Slice(Every(2))), must(a.Slice(Range{1, 2 * n, 2}))
		}},
		{"same view", []int{4, 4}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			v := must(a.Slice(Every(2)))
			return v, must(a.Slice(Every(2)))
		}},
		{"3-d roll of axes", []int{4, 4, 4}, func(a *Tensor[int]) (*Tensor[int], *Tensor[int]) {
			return a, must(a.Transpose(2, 0, 1))
		}},
	} {
		got := arange[int](tc.shape...)
		want := arange[int](tc.shape...)
		gd, gs := tc.views(got)
		wd, ws := tc.views(want)
		if err := gd.CopyFrom(gs); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		refCopy(wd, ws)
		if !slices.Equal(got.Data(), want.Data()) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got.Data(), want.Data())
		}
	}
}

// TestCopyFromRandom copies between random views of two tensors (and of
// one tensor into itself) and compares with the reference.
func TestCopyFromRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 3000 {
		shape := randShape(rng, 4, 40>>min(i%4, 3))
		same := rng.IntN(2) == 0
		got, want := arange[int](shape...), arange[int](shape...)
		gotSrc, wantSrc := got, want
		if !same {
			gotSrc, wantSrc = arange[int](shape...), arange[int](shape...)
			for _, d := range [][]int{gotSrc.Data(), wantSrc.Data()} {
				for k := range d {
					d[k] += 1000
				}
			}
		}
		seed := rng.Uint64()
		dv := randomView(rand.New(rand.NewPCG(seed, 1)), got, 4)
		wdv := randomView(rand.New(rand.NewPCG(seed, 1)), want, 4)
		// The source: a random permutation of axes and reversals of a view
		// with dv's shape, cut from the source tensor.
		sv, ok := viewOfShape(rng, gotSrc, dv.shape)
		if !ok {
			continue
		}
		wsv := newTensor(wantSrc.data, sv.off, sv.shape, sv.strides, nil, false)
		if err := dv.CopyFrom(sv); err != nil {
			t.Fatal(err)
		}
		refCopy(wdv, wsv)
		if !slices.Equal(got.Data(), want.Data()) {
			t.Fatalf("copy %v/%v ← %v/%v (same memory %v):\n got %v\nwant %v", dv.shape, dv.strides, sv.shape, sv.strides, same, got.Data(), want.Data())
		}
	}
}

// viewOfShape returns a view of a with the given shape, if a is big
// enough: slices with random offsets and directions, transposed so that
// the result's axes come from random axes of a.
func viewOfShape[T Number](rng *rand.Rand, a *Tensor[T], shape []int) (*Tensor[T], bool) {
	if len(shape) != a.NDim() {
		return nil, false
	}
	perm := rng.Perm(len(shape))
	r := make([]Range, len(shape))
	for k, p := range perm {
		// axis p of the result comes from axis k of a
		n, want := a.shape[k], shape[p]
		if want > n {
			return nil, false
		}
		start := rng.IntN(n - want + 1)
		r[k] = Span(start, start+want)
		if rng.IntN(3) == 0 {
			r[k] = Range{start + want - 1, start - 1, -1}
			if start == 0 {
				r[k].Stop = -n - 1
			}
		}
	}
	v, err := a.Slice(r...)
	if err != nil {
		panic(err)
	}
	inv := make([]int, len(perm))
	for k, p := range perm {
		inv[p] = k
	}
	v, err = v.Transpose(inv...)
	if err != nil {
		panic(err)
	}
	return v, slices.Equal(v.shape, shape)
}

func TestCopyFromErrors(t *testing.T) {
	a := New[float32](3, 4)
	if err := a.CopyFrom(New[float32](4, 3)); !errors.Is(err, ErrShape) {
		t.Errorf("shape mismatch: %v", err)
	}
	if err := a.CopyFrom(New[float32](12)); !errors.Is(err, ErrShape) {
		t.Errorf("same size, other shape: %v", err)
	}
	if err := a.CopyFrom(New[float32](3, 4, 1)); !errors.Is(err, ErrShape) {
		t.Errorf("extra axis: %v", err)
	}
}

func TestCloneAndFill(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 1000 {
		a := arange[int](randShape(rng, 4, 6)...)
		v := randomView(rng, a, 4)
		c := v.Clone()
		if !c.IsContiguous() || !slices.Equal(c.Shape(), v.Shape()) || !slices.Equal(values(c), values(v)) {
			t.Fatalf("Clone of %v/%v differs", v.shape, v.strides)
		}
		c.Fill(-7)
		if slices.Contains(a.Data(), -7) {
			t.Fatal("Clone shares memory")
		}
		// Fill changes the view's elements and nothing else.
		before := slices.Clone(a.Data())
		v.Fill(-1)
		for _, x := range values(v) {
			if x != -1 {
				t.Fatalf("Fill missed an element of %v/%v", v.shape, v.strides)
			}
		}
		changed := 0
		for i, x := range a.Data() {
			if x != before[i] {
				changed++
			}
		}
		if changed != v.Len() && !hasRepeats(v) {
			t.Fatalf("Fill of %v/%v changed %d elements, want %d", v.shape, v.strides, changed, v.Len())
		}
	}
}

// hasRepeats reports whether a view reaches some element twice, which only
// happens for zero strides.
func hasRepeats[T Number](v *Tensor[T]) bool {
	for i, d := range v.shape {
		if d > 1 && v.strides[i] == 0 {
			return true
		}
	}
	return false
}

// TestCopyFromTransposedSizes runs the tiled transpose on sizes around its
// tile and block edges, with reversed axes and in 3-D.
func TestCopyFromTransposedSizes(t *testing.T) {
	for _, sh := range [][2]int{{32, 32}, {33, 70}, {37, 129}, {64, 31}, {300, 257}, {513, 35}} {
		r, c := sh[0], sh[1]
		for _, rev := range []bool{false, true} {
			src := arange[complex128](c, r)
			var view *Tensor[complex128]
			if rev {
				view = must1(must1(src.Slice(Reverse(), Reverse())).Transpose())
			} else {
				view = must1(src.Transpose())
			}
			got, want := New[complex128](r, c), New[complex128](r, c)
			if err := got.CopyFrom(view); err != nil {
				t.Fatal(err)
			}
			refCopy(want, view)
			if !slices.Equal(got.Data(), want.Data()) {
				t.Errorf("transposed copy %d×%d (reversed %v) differs", r, c, rev)
			}
			// And into a transposed destination from a contiguous source.
			got2, want2 := New[complex128](c, r), New[complex128](c, r)
			if err := must1(got2.Transpose()).CopyFrom(want); err != nil {
				t.Fatal(err)
			}
			refCopy(must1(want2.Transpose()), want)
			if !slices.Equal(got2.Data(), want2.Data()) {
				t.Errorf("copy into a transposed %d×%d view (reversed %v) differs", r, c, rev)
			}
		}
	}
	// 3-D: the tiles run over two axes and an outer loop over the third.
	a := arange[int32](3, 40, 50)
	v := must1(a.Transpose(0, 2, 1))
	got, want := New[int32](3, 50, 40), New[int32](3, 50, 40)
	if err := got.CopyFrom(v); err != nil {
		t.Fatal(err)
	}
	refCopy(want, v)
	if !slices.Equal(got.Data(), want.Data()) {
		t.Error("3-D tiled copy differs")
	}
	// Non-unit strides on both fast axes take the generic tiled loop.
	b := arange[int](100, 100)
	w := must1(must1(b.Slice(Every(2), Every(3))).Transpose())
	got3, want3 := New[int](w.shape...), New[int](w.shape...)
	got3.CopyFrom(w)
	refCopy(want3, w)
	if !slices.Equal(got3.Data(), want3.Data()) {
		t.Error("strided tiled copy differs")
	}
}
