package shmtensor

// Tensors of unusual shapes: scalars, empty ones, many dimensions, and
// FromSlice.

import (
	"errors"
	"slices"
	"testing"
)

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
