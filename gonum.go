package shmtensor

import (
	"fmt"

	"github.com/shmtensor/shmtensor/internal/strided"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/cblas128"
	"gonum.org/v1/gonum/mat"
)

// gonum interoperation.
//
// Dense, VecDense, CDense, General32 and General64 hand gonum the tensor's
// own memory: writes through the matrix show in the tensor (and in every
// process attached to its segment) and the other way round, and the matrix
// is invalid once the segment is closed. gonum can express a row-major
// matrix whose rows are evenly spaced and whose elements within a row are
// adjacent, which covers contiguous tensors and sub-blocks cut out of them
// with Slice; anything else (a transposed view, negative or non-unit column
// strides) fails with ErrNotContiguous, and t.Clone() gives a copy that
// converts. gonum panics on matrices with no rows or columns, so those fail
// with ErrShape, as do tensors of the wrong number of dimensions. gonum
// writes freely into its matrices (Mul, Add and friends take the receiver's
// memory as scratch), so read-only tensors fail with ErrReadOnly rather
// than faulting later; a closed one fails with ErrClosed.
//
// Tensor[float64] does not implement mat.Matrix itself: mat.Matrix needs
// At(i, j int) float64, and Tensor's At is variadic (At(idx ...int) T) so
// that it serves any number of dimensions. Dense(t) is the zero-copy way
// to use a tensor as a mat.Matrix, and it is cheap enough to call at every
// use.

// matrixLayout checks that t, with elements of type T, can be a gonum
// row-major matrix and returns its rows, columns, row stride and the
// elements from the first to the last one reachable.
func matrixLayout[T Number](op string, t *Tensor[T]) (rows, cols, stride int, data []T, err error) {
	if err := gonumUsable(op, t, 2); err != nil {
		return 0, 0, 0, nil, err
	}
	rows, cols = t.shape[0], t.shape[1]
	rs, cs := t.strides[0], t.strides[1]
	if cols == 1 {
		cs = 1 // a single column has no column stride to speak of
	}
	if rows == 1 {
		rs = cols // nor does a single row a row stride
	}
	if cs != 1 || rs < cols {
		return 0, 0, 0, nil, &Error{Op: op, Err: fmt.Errorf("%w: strides %v of shape %v are not a row-major matrix (unit column stride, row stride >= columns)", ErrNotContiguous, t.strides, t.shape)}
	}
	// Exactly the reachable elements, with no capacity beyond them, so
	// gonum cannot reach past the tensor.
	end := t.off + (rows-1)*rs + cols
	return rows, cols, rs, t.data[t.off:end:end], nil
}

// gonumUsable checks what every conversion needs: an open, writable tensor
// of nd dimensions, none of them empty.
func gonumUsable[T Number](op string, t *Tensor[T], nd int) error {
	switch {
	case t.isClosed():
		return &Error{Op: op, Err: ErrClosed}
	case len(t.shape) != nd:
		return &Error{Op: op, Err: fmt.Errorf("%w: need %d dimensions, tensor has shape %v", ErrShape, nd, t.shape)}
	case t.Len() == 0:
		return &Error{Op: op, Err: fmt.Errorf("%w: gonum cannot hold shape %v with a zero-length axis", ErrShape, t.shape)}
	case t.ro:
		return &Error{Op: op, Err: fmt.Errorf("%w: gonum matrices are writable", ErrReadOnly)}
	}
	return nil
}

// Dense returns a *mat.Dense over t's memory. t must be 2-D with a unit
// column stride and a row stride of at least its column count: a
// contiguous matrix or a block sliced from one.
func Dense(t *Tensor[float64]) (*mat.Dense, error) {
	r, c, s, data, err := matrixLayout("dense", t)
	if err != nil {
		return nil, err
	}
	var m mat.Dense
	m.SetRawMatrix(blas64.General{Rows: r, Cols: c, Stride: s, Data: data})
	return &m, nil
}

// General64 returns t as a blas64.General over its memory, under the same
// conditions as Dense.
func General64(t *Tensor[float64]) (blas64.General, error) {
	r, c, s, data, err := matrixLayout("general64", t)
	if err != nil {
		return blas64.General{}, err
	}
	return blas64.General{Rows: r, Cols: c, Stride: s, Data: data}, nil
}

// General32 returns t as a blas32.General over its memory, under the same
// conditions as Dense.
func General32(t *Tensor[float32]) (blas32.General, error) {
	r, c, s, data, err := matrixLayout("general32", t)
	if err != nil {
		return blas32.General{}, err
	}
	return blas32.General{Rows: r, Cols: c, Stride: s, Data: data}, nil
}

// CDense returns a *mat.CDense over t's memory, under the same conditions
// as Dense.
func CDense(t *Tensor[complex128]) (*mat.CDense, error) {
	r, c, s, data, err := matrixLayout("cdense", t)
	if err != nil {
		return nil, err
	}
	var m mat.CDense
	m.SetRawCMatrix(cblas128.General{Rows: r, Cols: c, Stride: s, Data: data})
	return &m, nil
}

// VecDense returns a *mat.VecDense over t's memory. t must be 1-D with a
// positive stride; a stride above 1 (a view such as t.Slice(Every(3)))
// becomes the vector's increment.
func VecDense(t *Tensor[float64]) (*mat.VecDense, error) {
	const op = "vecdense"
	if err := gonumUsable(op, t, 1); err != nil {
		return nil, err
	}
	n, inc := t.shape[0], t.strides[0]
	if n == 1 {
		inc = 1
	}
	if inc < 1 {
		return nil, &Error{Op: op, Err: fmt.Errorf("%w: stride %d is not positive", ErrNotContiguous, inc)}
	}
	end := t.off + (n-1)*inc + 1
	var v mat.VecDense
	v.SetRawVector(blas64.Vector{N: n, Inc: inc, Data: t.data[t.off:end:end]})
	return &v, nil
}

// FromMatrix copies m into a new shared tensor of shape (rows, cols) made
// by Create[float64](name, []int{rows, cols}, opts...). m may be any
// mat.Matrix: dense, transposed, a sub-view, symmetric, triangular, ...
// The tensor is the caller's to Close (and the segment to Delete). With
// the ReadOnly option the new segment could not be filled, so FromMatrix
// refuses it with ErrReadOnly before creating anything. A large dense
// matrix (mat.RawMatrixer, or the transpose of one) is copied by several
// goroutines, as CopyFrom copies; other matrices are read through At by
// one goroutine, since At need not be safe for concurrent use.
func FromMatrix(name string, m mat.Matrix, opts ...Option) (*Tensor[float64], error) {
	if o := buildOptions(opts); o.readOnly {
		return nil, &Error{Op: "frommatrix", Name: name, Err: fmt.Errorf("%w: cannot fill a segment created read-only", ErrReadOnly)}
	}
	r, c := m.Dims()
	t, err := Create[float64](name, []int{r, c}, opts...)
	if err != nil {
		return nil, err
	}
	copyMatrix(t.Data(), m, r, c)
	return t, nil
}

// copyMatrix writes the r×c matrix m into dst in row-major order, row by
// row from gonum's raw storage where m has one, else element by element.
func copyMatrix(dst []float64, m mat.Matrix, r, c int) {
	if r == 0 || c == 0 {
		return
	}
	// Raw matrices and their transposes are copied by several goroutines
	// when large, as CopyFrom does; matrices read through At are not, as
	// an At need not be safe for concurrent use.
	if rm, ok := m.(mat.RawMatrixer); ok {
		g := rm.RawMatrix()
		if g.Stride == c {
			strided.ParallelCopy(dst[:r*c], g.Data[:r*c])
			return
		}
		strided.CopyLayoutPar(dst, 0, []int{c, 1}, g.Data, 0, []int{g.Stride, 1}, []int{r, c})
		return
	}
	if tr, ok := m.(mat.Transpose); ok {
		if rm, ok := tr.Matrix.(mat.RawMatrixer); ok {
			// m is the transpose of a raw matrix: a strided copy, tiled.
			g := rm.RawMatrix()
			strided.CopyLayoutPar(dst, 0, []int{c, 1}, g.Data, 0, []int{1, g.Stride}, []int{r, c})
			return
		}
	}
	for i := range r {
		row := dst[i*c : (i+1)*c]
		for j := range row {
			row[j] = m.At(i, j)
		}
	}
}
