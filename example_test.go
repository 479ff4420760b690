package shmtensor_test

import (
	"errors"
	"fmt"
	"log"
	"math"
	"os"

	"github.com/shmtensor/shmtensor"
	"gonum.org/v1/gonum/mat"
)

func ExampleNew() {
	t := shmtensor.New[float64](2, 3)
	t.Set(1.5, 0, 2)
	fmt.Println(t.Shape(), t.Len(), t.At(0, 2))
	fmt.Println(t)
	// Output:
	// [2 3] 6 1.5
	// [[0.  0.  1.5]
	//  [0.  0.  0. ]]
}

func ExampleFromSlice() {
	data := []int32{1, 2, 3, 4, 5, 6}
	t, err := shmtensor.FromSlice(data, 2, 3)
	if err != nil {
		log.Fatal(err)
	}
	t.Set(-1, 1, 0) // FromSlice aliases data
	fmt.Println(data)
	fmt.Println(t)
	// Output:
	// [1 2 3 -1 5 6]
	// [[ 1  2  3]
	//  [-1  5  6]]
}

// arange returns a 1-D tensor 0, 1, ..., n-1 shaped as shape.
func arange(n int, shape ...int) *shmtensor.Tensor[int] {
	d := make([]int, n)
	for i := range d {
		d[i] = i
	}
	t, err := shmtensor.FromSlice(d, shape...)
	if err != nil {
		log.Fatal(err)
	}
	return t
}

// Slice takes one Range per leading axis with Python's slice semantics.
func ExampleTensor_Slice() {
	t := arange(12, 3, 4)
	a, _ := t.Slice(shmtensor.Span(1, 3))                                   // t[1:3]
	b, _ := t.Slice(shmtensor.Full(), shmtensor.Every(2))                   // t[:, ::2]
	c, _ := t.Slice(shmtensor.Reverse(), shmtensor.Span(-2, math.MaxInt))   // t[::-1, -2:]
	d, _ := t.Slice(shmtensor.Range{Start: 2, Stop: math.MinInt, Step: -2}) // t[2::-2]
	e, _ := t.Slice(shmtensor.Range{Start: 0, Stop: math.MaxInt, Step: 3})  // t[0::3]
	fmt.Println(a)
	fmt.Println(b)
	fmt.Println(c)
	fmt.Println(d)
	fmt.Println(e)
	b.Set(-1, 0, 0) // views share memory
	fmt.Println(t.At(0, 0))
	// Output:
	// [[ 4  5  6  7]
	//  [ 8  9 10 11]]
	// [[ 0  2]
	//  [ 4  6]
	//  [ 8 10]]
	// [[10 11]
	//  [ 6  7]
	//  [ 2  3]]
	// [[ 8  9 10 11]
	//  [ 0  1  2  3]]
	// [[0 1 2 3]]
	// -1
}

func ExampleTensor_Transpose() {
	t := arange(6, 2, 3)
	tr, _ := t.Transpose()
	fmt.Println(tr)
	fmt.Println(tr.Shape(), tr.Strides(), tr.IsContiguous())
	// Output:
	// [[0 3]
	//  [1 4]
	//  [2 5]]
	// [3 2] [1 3] false
}

// Reshape returns a view, also of many strided tensors, and fails where
// numpy would have to copy.
func ExampleTensor_Reshape() {
	t := arange(12, 3, 4)
	r, _ := t.Reshape(2, -1)
	fmt.Println(r)

	half, _ := t.Slice(shmtensor.Full(), shmtensor.Every(2)) // 3×2, strides [4 2]
	flat, err := half.Reshape(6)
	fmt.Println(flat, err)

	tr, _ := t.Transpose()
	_, err = tr.Reshape(12)
	fmt.Println(err)
	flat, _ = tr.Clone().Reshape(12) // the copying reshape
	fmt.Println(flat)
	// Output:
	// [[ 0  1  2  3  4  5]
	//  [ 6  7  8  9 10 11]]
	// [ 0  2  4  6  8 10] <nil>
	// shmtensor: reshape: tensor is not contiguous: cannot view shape [4 3] with strides [1 4] as [12] without copying
	// [ 0  4  8  1  5  9  2  6 10  3  7 11]
}

func ExampleTensor_Index() {
	t := arange(12, 3, 4)
	row, _ := t.Index(0, 1)  // t[1]
	col, _ := t.Index(1, -1) // t[:, -1]
	x, _ := row.Index(0, 2)  // t[1, 2], 0-dimensional
	fmt.Println(row, col, x, x.NDim())
	// Output:
	// [4 5 6 7] [ 3  7 11] 6 0
}

func ExampleTensor_CopyFrom() {
	t := arange(5)
	// Overlapping views of the same memory copy as if through a temporary.
	dst, _ := t.Slice(shmtensor.Span(1, math.MaxInt))
	src, _ := t.Slice(shmtensor.Span(0, -1))
	if err := dst.CopyFrom(src); err != nil {
		log.Fatal(err)
	}
	fmt.Println(t)

	m := arange(6, 2, 3)
	mt := shmtensor.New[int](3, 2)
	tr, _ := m.Transpose()
	mt.CopyFrom(tr)
	fmt.Println(mt)
	// Output:
	// [0 0 1 2 3]
	// [[0 3]
	//  [1 4]
	//  [2 5]]
}

func ExampleTensor_Clone() {
	t := arange(6, 2, 3)
	tr, _ := t.Transpose()
	c := tr.Clone()
	c.Set(100, 0, 0)
	fmt.Println(c.IsContiguous(), c.Data(), t.At(0, 0))
	// Output:
	// true [100 3 1 4 2 5] 0
}

func ExampleTensor_Fill() {
	t := shmtensor.New[float32](3, 4)
	inner, _ := t.Slice(shmtensor.Span(1, 2), shmtensor.Span(1, -1))
	inner.Fill(7)
	fmt.Println(t)
	// Output:
	// [[0. 0. 0. 0.]
	//  [0. 7. 7. 0.]
	//  [0. 0. 0. 0.]]
}

func ExampleTensor_All() {
	t := arange(4, 2, 2)
	tr, _ := t.Transpose()
	for idx, v := range tr.All() {
		fmt.Println(idx, v)
	}
	// Output:
	// [0 0] 0
	// [0 1] 2
	// [1 0] 1
	// [1 1] 3
}

func ExampleTensor_Values() {
	t := arange(12, 3, 4)
	odd, _ := t.Slice(shmtensor.Full(), shmtensor.Every(-2))
	sum := 0
	for v := range odd.Values() {
		sum += v
	}
	fmt.Println(sum)
	// Output:
	// 36
}

func ExampleTensor_String() {
	f, _ := shmtensor.FromSlice([]float64{1, 2.5, math.Pi, math.NaN()}, 2, 2)
	fmt.Println(f)
	fmt.Printf("%.2v\n", f)
	fmt.Printf("%5.1f\n", f)
	fmt.Println(arange(2000))
	// Output:
	// [[1.         2.5       ]
	//  [3.14159265        nan]]
	// [[1.   2.5 ]
	//  [3.14  nan]]
	// [[  1.0   2.5]
	//  [  3.1   NaN]]
	// [   0    1    2 ... 1997 1998 1999]
}

// Dense gives gonum the tensor's memory: here the product of two
// matrices lands in a block of a third tensor, in place.
func ExampleDense() {
	a, _ := shmtensor.FromSlice([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	b, _ := shmtensor.FromSlice([]float64{1, 0, 0, 1, 1, 1}, 3, 2)
	out := shmtensor.New[float64](3, 4)
	block, _ := out.Slice(shmtensor.Span(1, 3), shmtensor.Span(1, 3))

	ma, _ := shmtensor.Dense(a)
	mb, _ := shmtensor.Dense(b)
	mc, err := shmtensor.Dense(block)
	if err != nil {
		log.Fatal(err)
	}
	mc.Mul(ma, mb)
	fmt.Println(out)

	tr, _ := a.Transpose()
	_, err = shmtensor.Dense(tr) // gonum cannot express this layout
	fmt.Println(err)
	mt, _ := shmtensor.Dense(tr.Clone())
	fmt.Println(mat.Formatted(mt))
	// Output:
	// [[ 0.  0.  0.  0.]
	//  [ 0.  4.  5.  0.]
	//  [ 0. 10. 11.  0.]]
	// shmtensor: dense: tensor is not contiguous: strides [1 3] of shape [3 2] are not a row-major matrix (unit column stride, row stride >= columns)
	// ⎡1  4⎤
	// ⎢2  5⎥
	// ⎣3  6⎦
}

func ExampleVecDense() {
	t, _ := shmtensor.FromSlice([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9})
	every3, _ := t.Slice(shmtensor.Every(3)) // 1 4 7, stride 3
	v, err := shmtensor.VecDense(every3)
	if err != nil {
		log.Fatal(err)
	}
	v.ScaleVec(10, v) // writes through to t
	fmt.Println(t)
	fmt.Println(mat.Dot(v, v))
	// Output:
	// [10.  2.  3. 40.  5.  6. 70.  8.  9.]
	// 6600
}

// FromMatrix copies any gonum matrix into a new shared segment.
func ExampleFromMatrix() {
	m := mat.NewDense(2, 3, []float64{1, 2, 3, 4, 5, 6})
	name := exampleName("frommatrix")
	t, err := shmtensor.FromMatrix(name, m.T())
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	defer t.Close()

	other, err := shmtensor.Attach[float64](name, shmtensor.ReadOnly())
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	fmt.Println(other)
	// Output:
	// [[1. 4.]
	//  [2. 5.]
	//  [3. 6.]]
}

// exampleName returns a shm name unique to this process.
func exampleName(s string) string {
	return fmt.Sprintf("shmtensor-example-%s-%d", s, os.Getpid())
}

// One process creates a tensor in shared memory; another attaches it by
// name and sees the same memory. (Both ends run in this process here; the
// demo, go run ./cmd/shmtensor demo, uses two.)
func ExampleCreate() {
	name := exampleName("create")
	a, err := shmtensor.Create[float64](name, []int{2, 3})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name) // nothing is removed implicitly
	defer a.Close()
	a.Set(1.5, 1, 2)

	b, err := shmtensor.Attach[float64]("shm://" + name)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	fmt.Println(b.Shape(), b.At(1, 2))
	b.Set(-1, 0, 0)
	fmt.Println(a.At(0, 0))

	_, err = shmtensor.Create[float64](name, []int{9})
	fmt.Println(errors.Is(err, shmtensor.ErrExist))
	// Output:
	// [2 3] 1.5
	// -1
	// true
}

// Attach checks the element type against the segment's header.
func ExampleAttach() {
	name := exampleName("attach")
	a, err := shmtensor.Create[float32](name, []int{4})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	defer a.Close()

	_, err = shmtensor.Attach[float64](name)
	fmt.Println(errors.Is(err, shmtensor.ErrDType))
	// Output:
	// true
}

// Stat reads a segment's header without mapping it.
func ExampleStat() {
	name := exampleName("stat")
	a, err := shmtensor.Create[int16](name, []int{3, 4}, shmtensor.Mode(0o640))
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	a.Close()

	info, err := shmtensor.Stat(name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.DType, info.Shape, info.Layout, info.Mode, info.Size)
	// Output:
	// int16 [3 4] npy -rw-r----- 4120
}

// Open maps a segment without fixing its element type; View types it.
func ExampleOpen() {
	name := exampleName("open")
	a, err := shmtensor.Create[uint8](name, []int{2, 2}, shmtensor.SharedArrayLayout())
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	a.Set(7, 1, 1)
	a.Close()

	seg, err := shmtensor.Open(name, shmtensor.ReadOnly())
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	fmt.Println(seg.DType(), seg.Shape(), seg.Layout())
	if seg.DType() == shmtensor.Uint8 {
		t, err := shmtensor.View[uint8](seg)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.At(1, 1))
	}
	// Output:
	// uint8 [2 2] sharedarray
	// 7
}

// Delete refuses anything that is not a tensor segment.
func ExampleDelete() {
	path := fmt.Sprintf("%s/notes-%d.txt", os.TempDir(), os.Getpid())
	os.WriteFile(path, []byte("not a tensor"), 0o600)
	defer os.Remove(path)

	err := shmtensor.Delete("file://" + path)
	fmt.Println(errors.Is(err, shmtensor.ErrNotTensor))
	_, statErr := os.Stat(path)
	fmt.Println(statErr == nil)
	// Output:
	// true
	// true
}
