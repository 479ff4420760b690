package shmtensor

import (
	"errors"
	"math"
	"slices"
	"testing"
	"unsafe"

	"gonum.org/v1/gonum/mat"
)

func TestDenseAliases(t *testing.T) {
	a := arange[float64](3, 4)
	m, err := Dense(a)
	if err != nil {
		t.Fatal(err)
	}
	if r, c := m.Dims(); r != 3 || c != 4 || m.At(2, 1) != 9 {
		t.Fatalf("Dense: %d×%d, At(2,1) = %v", r, c, m.At(2, 1))
	}
	m.Set(1, 2, -5)
	if a.At(1, 2) != -5 {
		t.Error("a write through the Dense does not show in the tensor")
	}
	a.Set(42, 0, 3)
	if m.At(0, 3) != 42 {
		t.Error("a write to the tensor does not show in the Dense")
	}
	if raw := m.RawMatrix(); cap(raw.Data) != 12 || &raw.Data[0] != &a.Data()[0] {
		t.Errorf("Dense data: cap %d, not aliasing the tensor", cap(raw.Data))
	}
}

func TestDenseSubBlock(t *testing.T) {
	a := arange[float64](5, 6)
	b, _ := a.Slice(Span(1, 4), Span(2, 5)) // 3×3, row stride 6
	m, err := Dense(b)
	if err != nil {
		t.Fatal(err)
	}
	raw := m.RawMatrix()
	if raw.Rows != 3 || raw.Cols != 3 || raw.Stride != 6 {
		t.Fatalf("sub-block raw matrix %d×%d stride %d", raw.Rows, raw.Cols, raw.Stride)
	}
	// Exactly the reachable elements: from a[1][2] to a[3][4].
	if len(raw.Data) != 2*6+3 || cap(raw.Data) != len(raw.Data) || &raw.Data[0] != &a.Data()[1*6+2] {
		t.Errorf("sub-block data len %d cap %d", len(raw.Data), cap(raw.Data))
	}
	if m.At(2, 2) != 22 {
		t.Errorf("At(2,2) = %v, want 22", m.At(2, 2))
	}
	// gonum writes only inside the block.
	m.Zero()
	for i, v := range a.Data() {
		r, c := i/6, i%6
		inside := r >= 1 && r < 4 && c >= 2 && c < 5
		if inside != (v == 0) && i != 0 {
			t.Fatalf("after Zero, a[%d][%d] = %v", r, c, v)
		}
	}
	// A block at the very end of the data stops there.
	e, _ := a.Slice(Span(3, math.MaxInt), Span(4, math.MaxInt))
	me, err := Dense(e)
	if err != nil {
		t.Fatal(err)
	}
	if raw := me.RawMatrix(); len(raw.Data) != 6+2 || me.At(1, 1) != 29 {
		t.Errorf("end block: len %d, At(1,1) = %v", len(raw.Data), me.At(1, 1))
	}
	// Single rows and columns have no stride constraint to meet.
	row, _ := a.Slice(Span(2, 3), Every(1))
	col, _ := a.Slice(Full(), Span(1, 2))
	for _, v := range []*Tensor[float64]{row, col} {
		if _, err := Dense(v); err != nil {
			t.Errorf("Dense of %v/%v: %v", v.shape, v.strides, err)
		}
	}
}

func TestMulIntoTensor(t *testing.T) {
	a, _ := FromSlice([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	b, _ := FromSlice([]float64{7, 8, 9, 10, 11, 12}, 3, 2)
	big := New[float64](4, 5)
	c, _ := big.Slice(Span(1, 3), Span(2, 4)) // the product lands in a block
	ma, _ := Dense(a)
	mb, _ := Dense(b)
	mc, err := Dense(c)
	if err != nil {
		t.Fatal(err)
	}
	mc.Mul(ma, mb)
	want := []float64{58, 64, 139, 154}
	if got := slices.Collect(c.Values()); !slices.Equal(got, want) {
		t.Errorf("Mul into a tensor block: %v, want %v", got, want)
	}
	var sum float64
	for v := range big.Values() {
		sum += v
	}
	if sum != 58+64+139+154 {
		t.Error("Mul wrote outside the block")
	}
}

func TestVecDense(t *testing.T) {
	a := arange[float64](10)
	v3, _ := a.Slice(Every(3)) // 0 3 6 9
	v, err := VecDense(v3)
	if err != nil {
		t.Fatal(err)
	}
	raw := v.RawVector()
	if v.Len() != 4 || raw.Inc != 3 || len(raw.Data) != 10 || cap(raw.Data) != 10 {
		t.Fatalf("VecDense: len %d inc %d data %d", v.Len(), raw.Inc, len(raw.Data))
	}
	v.SetVec(2, -1)
	if a.At(6) != -1 {
		t.Error("a write through the VecDense does not show in the tensor")
	}
	if v.AtVec(3) != 9 {
		t.Errorf("AtVec(3) = %v", v.AtVec(3))
	}
	// Short of the end: the data stops at the last element.
	w, _ := a.Slice(Range{1, 8, 3}) // 1 4 7
	vw, _ := VecDense(w)
	if raw := vw.RawVector(); len(raw.Data) != 7 || cap(raw.Data) != 7 {
		t.Errorf("VecDense of 1:8:3: data len %d cap %d", len(raw.Data), cap(raw.Data))
	}
	// Dot through gonum reads the strided elements.
	if d := mat.Dot(vw, vw); d != 1+16+49 {
		t.Errorf("Dot = %v", d)
	}
}

func TestGeneralAndCDense(t *testing.T) {
	f := arange[float32](4, 4)
	g, err := General32(f)
	if err != nil || g.Rows != 4 || g.Stride != 4 || g.Data[5] != 5 {
		t.Fatalf("General32: %+v %v", g, err)
	}
	g.Data[5] = -1
	if f.At(1, 1) != -1 {
		t.Error("General32 does not alias")
	}
	d := arange[float64](4, 4)
	sub, _ := d.Slice(Span(1, 3), Span(1, 3))
	g64, err := General64(sub)
	if err != nil || g64.Rows != 2 || g64.Cols != 2 || g64.Stride != 4 || len(g64.Data) != 6 || g64.Data[0] != 5 {
		t.Fatalf("General64 of a block: %+v %v", g64, err)
	}
	c := New[complex128](2, 3)
	c.Set(1+2i, 1, 2)
	mc, err := CDense(c)
	if err != nil || mc.At(1, 2) != 1+2i {
		t.Fatalf("CDense: %v", err)
	}
	mc.Set(0, 0, 3i)
	if c.At(0, 0) != 3i {
		t.Error("CDense does not alias")
	}
	if unsafe.SliceData(mc.RawCMatrix().Data) != unsafe.SliceData(c.Data()) {
		t.Error("CDense data is a copy")
	}
}

func TestGonumErrors(t *testing.T) {
	a := arange[float64](4, 6)
	tr, _ := a.Transpose()
	rev, _ := a.Slice(Reverse())
	revCols, _ := a.Slice(Full(), Reverse())
	everyCol, _ := a.Slice(Full(), Every(2))
	empty, _ := a.Slice(Span(2, 2))
	emptyCols, _ := a.Slice(Full(), Span(0, 0))
	vec := arange[float64](6)
	revVec, _ := vec.Slice(Reverse())
	emptyVec := New[float64](0)
	cases := []errCase{
		{"Dense transposed", second(Dense(tr)), ErrNotContiguous},
		{"Dense reversed rows", second(Dense(rev)), ErrNotContiguous},
		{"Dense reversed columns", second(Dense(revCols)), ErrNotContiguous},
		{"Dense every other column", second(Dense(everyCol)), ErrNotContiguous},
		{"Dense no rows", second(Dense(empty)), ErrShape},
		{"Dense no columns", second(Dense(emptyCols)), ErrShape},
		{"Dense 1-D", second(Dense(vec)), ErrShape},
		{"Dense 3-D", second(Dense(arange[float64](2, 2, 2))), ErrShape},
		{"General64 transposed", second(General64(tr)), ErrNotContiguous},
		{"General32 3-D", second(General32(New[float32](1, 1, 1))), ErrShape},
		{"CDense transposed", second(CDense(must1(New[complex128](2, 3).Transpose()))), ErrNotContiguous},
		{"VecDense reversed", second(VecDense(revVec)), ErrNotContiguous},
		{"VecDense empty", second(VecDense(emptyVec)), ErrShape},
		{"VecDense 2-D", second(VecDense(a)), ErrShape},
		{"VecDense 0-D", second(VecDense(New[float64]())), ErrShape},
	}
	// Read-only and closed tensors, from a segment.
	name := tempFileName(t, "g.npy")
	w, err := Create[float64](name, []int{3, 3})
	if err != nil {
		t.Fatal(err)
	}
	defer Delete(name)
	ro, err := Attach[float64](name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	row, _ := ro.Index(0, 1)
	cases = append(cases,
		errCase{"Dense read-only", second(Dense(ro)), ErrReadOnly},
		errCase{"VecDense read-only", second(VecDense(row)), ErrReadOnly},
	)
	w.Close()
	cases = append(cases, errCase{"Dense closed", second(Dense(w)), ErrClosed})
	for _, tc := range cases {
		var e *Error
		if !errors.Is(tc.err, tc.want) || !errors.As(tc.err, &e) {
			t.Errorf("%s: %v, want an *Error wrapping %v", tc.name, tc.err, tc.want)
		}
	}
}

type errCase struct {
	name      string
	err, want error
}

func TestFromMatrix(t *testing.T) {
	src := mat.NewDense(3, 4, []float64{
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, 10, 11, 12,
	})
	sym := mat.NewSymDense(3, []float64{1, 2, 3, 2, 4, 5, 3, 5, 6})
	bigT := mat.NewDense(40, 50, nil)
	for i := range 40 {
		for j := range 50 {
			bigT.Set(i, j, float64(i*100+j))
		}
	}
	for _, tc := range []struct {
		name string
		m    mat.Matrix
	}{
		{"dense", src},
		{"transposed", src.T()},
		{"sliced", src.Slice(1, 3, 1, 4)},
		{"transposed slice", src.Slice(0, 2, 1, 3).T()},
		{"big transposed", bigT.T()},
		{"symmetric", sym},
		{"vector", mat.NewVecDense(3, []float64{1, 2, 3})},
		{"triangular", mat.NewTriDense(3, mat.Upper, []float64{1, 2, 3, 0, 4, 5, 0, 0, 6})},
		{"empty", &mat.Dense{}},
	} {
		name := uniqueName(t)
		a, err := FromMatrix(name, tc.m)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		r, c := tc.m.Dims()
		if !slices.Equal(a.Shape(), []int{r, c}) {
			t.Errorf("%s: shape %v, want [%d %d]", tc.name, a.Shape(), r, c)
		}
		for i := range r {
			for j := range c {
				if a.At(i, j) != tc.m.At(i, j) {
					t.Fatalf("%s: [%d,%d] = %v, want %v", tc.name, i, j, a.At(i, j), tc.m.At(i, j))
				}
			}
		}
		// It is a real shared segment: another attach sees the values.
		b, err := Attach[float64](name, ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		if r*c > 0 && b.At(r-1, c-1) != tc.m.At(r-1, c-1) {
			t.Errorf("%s: attached copy differs", tc.name)
		}
		b.Close()
		a.Close()
		if err := Delete(name); err != nil {
			t.Error(err)
		}
	}

	name := uniqueName(t)
	a, err := FromMatrix(name, src)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	defer Delete(name)
	if _, err := FromMatrix(name, src); !errors.Is(err, ErrExist) {
		t.Errorf("FromMatrix over an existing name: %v", err)
	}
	if _, err := FromMatrix(uniqueName(t), src, ReadOnly()); !errors.Is(err, ErrReadOnly) {
		t.Errorf("FromMatrix read-only: %v", err)
	}
	if _, err := FromMatrix("bad/name", src); !errors.Is(err, ErrInvalidName) {
		t.Errorf("FromMatrix with a bad name: %v", err)
	}
}
