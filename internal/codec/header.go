package codec

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/shmtensor/shmtensor/internal/errs"
	"github.com/shmtensor/shmtensor/internal/strided"
)

// Layout is the on-segment format of a header, numbered as the root
// package's Layout, which converts to it.
type Layout uint8

// The layouts, in the root package's order.
const (
	NPY Layout = iota + 1
	SharedArray
	Safetensors
)

// String returns "npy" or "sharedarray".
func (l Layout) String() string {
	switch l {
	case NPY:
		return "npy"
	case SharedArray:
		return "sharedarray"
	case Safetensors:
		return "safetensors"
	}
	return "invalid"
}

// Header is what either format's codec reads from a segment: everything
// needed to map it, validated against the file size.
type Header struct {
	Layout  Layout
	DType   DType
	Shape   []int
	Fortran bool  // column-major data (NPY only)
	DataOff int64 // byte offset of the first element
	DataLen int64 // bytes of data: DType.Size() * product(Shape)
	Trailer int64 // bytes of the SharedArray trailer (292 or 548)

	// Bundle is the validated safetensors header (Safetensors only).
	Bundle *STHeader
}

// NewHeader validates an element type and shape for a new segment of the
// given layout, once, and returns its header: the data's length and, for
// NPY, its offset. It fails with ErrDType for an invalid element type and
// with ErrShape for a shape strided.ByteSize refuses, one whose segment would not
// fit in an int64, and one the layout cannot record: more than 32
// dimensions for SharedArray, or Fortran order where it differs from C
// order (the SharedArray trailer has no order flag).
func NewHeader(layout Layout, dt DType, shape []int, fortran bool) (Header, error) {
	if !dt.Valid() {
		return Header{}, fmt.Errorf("%w: invalid element type %v", errs.ErrDType, dt)
	}
	if dt.Descr() == "" {
		return Header{}, fmt.Errorf("%w: numpy has no %v: a segment cannot hold it (a bundle can)", errs.ErrDType, dt)
	}
	n, err := strided.ByteSize(shape, dt.Size())
	if err != nil {
		return Header{}, err
	}
	h := Header{Layout: layout, DType: dt, Shape: slices.Clone(shape), Fortran: fortran, DataLen: n}
	switch layout {
	case NPY:
		if n > math.MaxInt64-NPYDataOffset {
			return Header{}, fmt.Errorf("%w: %s of %v: %d bytes of data do not fit after a %d-byte header",
				errs.ErrShape, Tuple(shape), dt, n, NPYDataOffset)
		}
		h.DataOff = NPYDataOffset
	case SharedArray:
		if len(shape) > saMaxDims {
			return Header{}, fmt.Errorf("%w: %s has %d dimensions, the SharedArray layout holds at most %d",
				errs.ErrShape, Tuple(shape), len(shape), saMaxDims)
		}
		if n > math.MaxInt64-SATrailerSize {
			return Header{}, fmt.Errorf("%w: %s of %v: %d bytes of data do not fit before a %d-byte trailer",
				errs.ErrShape, Tuple(shape), dt, n, SATrailerSize)
		}
		if fortran {
			if !strided.IsCContiguous(shape, strided.FStrides(shape)) {
				return Header{}, fmt.Errorf("%w: Fortran-order data of shape %s cannot be stored in the SharedArray layout, which is C order only",
					errs.ErrNotContiguous, Tuple(shape))
			}
			h.Fortran = false // the same bytes in the same order
		}
	default:
		return Header{}, fmt.Errorf("invalid layout %v", layout)
	}
	return h, nil
}

// chooseLayout decides between the two layouts, whose magics can both be
// present: a SharedArray segment's data may start with "\x93NUMPY" (say,
// a whole .npy file stored as bytes), and an NPY segment's data may end
// with a SharedArray trailer. The rule, in order:
//
//  1. A layout whose magic is absent, or whose header is invalid, is out.
//  2. Of two valid headers, the one that leaves fewer bytes of the file
//     unexplained wins: NPY explains DataOff+DataLen bytes (plus the spare
//     byte Create writes after an empty array), SharedArray DataLen plus its
//     trailer. A layout embedded in the other's data always leaves the
//     outer header's bytes unexplained, so the outer layout wins.
//  3. If both explain the same number of bytes (only a file crafted to be
//     both), NPY wins: it is what numpy and file(1) see in the file.
//
// With neither valid, the error of the layout whose magic is present is
// returned, preferring an unsupported element type (ErrDType) to a corrupt
// header when both magics are present.
func chooseLayout(hasNPY, hasSA bool, npyH, saH Header, npyErr, saErr error, size int64) (Header, error) {
	okNPY, okSA := hasNPY && npyErr == nil, hasSA && saErr == nil
	switch {
	case okNPY && okSA:
		if unexplained(saH, size) < unexplained(npyH, size) {
			return saH, nil
		}
		return npyH, nil
	case okNPY:
		return npyH, nil
	case okSA:
		return saH, nil
	case hasNPY && hasSA:
		if errors.Is(saErr, errs.ErrDType) && !errors.Is(npyErr, errs.ErrDType) {
			return Header{}, saErr
		}
		return Header{}, npyErr
	case hasNPY:
		return Header{}, npyErr
	case hasSA:
		return Header{}, saErr
	}
	return Header{}, fmt.Errorf("%w: neither .npy magic at the start nor a SharedArray trailer at the end", errs.ErrNotTensor)
}

// unexplained returns how many bytes of a file of size bytes the header h
// does not account for.
func unexplained(h Header, size int64) int64 {
	used := h.DataOff + h.DataLen
	switch h.Layout {
	case SharedArray:
		used += h.Trailer
	case NPY:
		if h.DataLen == 0 && used < size {
			used++ // Create's spare byte after an empty array
		}
	}
	return size - used
}
