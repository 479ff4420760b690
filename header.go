package shmtensor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/shmtensor/shmtensor/internal/strided"
)

// Layout is the on-segment format of a tensor: where the header is and how
// it is encoded.
type Layout uint8

const (
	// NPY is a NumPy .npy file (versions 1.0, 2.0, 3.0). Create writes
	// version 1.0 with the header padded so the data starts at byte 4096.
	NPY Layout = iota + 1
	// SharedArray is the layout of Python's SharedArray 3.x: the data at
	// offset 0 and a 292-byte trailer at the end of the file.
	SharedArray
)

// String returns "npy" or "sharedarray".
func (l Layout) String() string {
	switch l {
	case NPY:
		return "npy"
	case SharedArray:
		return "sharedarray"
	}
	return "invalid"
}

// header is what either format's codec reads from a segment: everything
// needed to map it, validated against the file size.
type header struct {
	layout  Layout
	dtype   DType
	shape   []int
	fortran bool  // column-major data (NPY only)
	dataOff int64 // byte offset of the first element
	dataLen int64 // bytes of data: dtype.Size() * product(shape)
	trailer int64 // bytes of the SharedArray trailer (292 or 548)
}

// newHeader validates an element type and shape for a new segment of the
// given layout, once, and returns its header: the data's length and, for
// NPY, its offset. It fails with ErrDType for an invalid element type and
// with ErrShape for a shape strided.ByteSize refuses, one whose segment would not
// fit in an int64, and one the layout cannot record: more than 32
// dimensions for SharedArray, or Fortran order where it differs from C
// order (the SharedArray trailer has no order flag).
func newHeader(layout Layout, dt DType, shape []int, fortran bool) (header, error) {
	if !dt.valid() {
		return header{}, fmt.Errorf("%w: invalid element type %v", ErrDType, dt)
	}
	n, err := strided.ByteSize(shape, dt.Size())
	if err != nil {
		return header{}, err
	}
	h := header{layout: layout, dtype: dt, shape: slices.Clone(shape), fortran: fortran, dataLen: n}
	switch layout {
	case NPY:
		if n > math.MaxInt64-npyDataOffset {
			return header{}, fmt.Errorf("%w: %s of %v: %d bytes of data do not fit after a %d-byte header",
				ErrShape, pyTuple(shape), dt, n, npyDataOffset)
		}
		h.dataOff = npyDataOffset
	case SharedArray:
		if len(shape) > saMaxDims {
			return header{}, fmt.Errorf("%w: %s has %d dimensions, the SharedArray layout holds at most %d",
				ErrShape, pyTuple(shape), len(shape), saMaxDims)
		}
		if n > math.MaxInt64-saTrailerSize {
			return header{}, fmt.Errorf("%w: %s of %v: %d bytes of data do not fit before a %d-byte trailer",
				ErrShape, pyTuple(shape), dt, n, saTrailerSize)
		}
		if fortran {
			if !strided.IsCContiguous(shape, strided.Strides(shape, true)) {
				return header{}, fmt.Errorf("%w: Fortran-order data of shape %s cannot be stored in the SharedArray layout, which is C order only",
					ErrNotContiguous, pyTuple(shape))
			}
			h.fortran = false // the same bytes in the same order
		}
	default:
		return header{}, fmt.Errorf("invalid layout %v", layout)
	}
	return h, nil
}

// The magic bytes that Create writes last: numpy's "\x93NUMPY" and
// SharedArray's NUL-padded "[SharedArray]" field.
const (
	npyMagicLen = 6
	saMagicLen  = 16
)

const maxInt = int(^uint(0) >> 1)

// pagePool holds the buffers readHeader reads a header page into; nothing
// parsed from one outlives readHeader (the codecs copy what they keep).
var pagePool = sync.Pool{New: func() any { return new([npyDataOffset]byte) }}

// readHeader reads and validates the header of an open file. It reads
// only the bytes the headers need: the first page (more only for a longer
// NPY header) and, unless an NPY header accounts for the whole file, the
// last 548 bytes, where a SharedArray trailer would be.
// Which layout a file is in is decided by chooseLayout.
func readHeader(f *file) (header, error) {
	if f.size == 0 {
		return header{}, fmt.Errorf("%w: empty file", ErrNotTensor)
	}
	page := pagePool.Get().(*[npyDataOffset]byte)
	defer pagePool.Put(page)
	prefix := page[:min(f.size, npyDataOffset)]
	if err := readAt(f, prefix, 0); err != nil {
		return header{}, err
	}
	var (
		npyH, saH     header
		npyErr, saErr error
	)
	hasNPY := isNPY(prefix)
	if hasNPY {
		whole := prefix
		if need := npyHeaderEnd(prefix); need > int64(len(prefix)) && need <= npyMaxPrefix && need <= f.size {
			whole = append(prefix[:len(prefix):len(prefix)], make([]byte, need-int64(len(prefix)))...)
			if err := readAt(f, whole[npyDataOffset:], npyDataOffset); err != nil {
				return header{}, err
			}
		}
		npyH, npyErr = parseNPYHeader(whole, f.size)
		if npyErr == nil && unexplained(npyH, f.size) == 0 {
			// No trailer can win against an NPY header that explains
			// every byte (rule 3 of chooseLayout): skip reading it.
			return npyH, nil
		}
	}
	var tail []byte
	if f.size > int64(len(prefix)) {
		tail = make([]byte, min(f.size, saTrailerSizeNumpy2))
		if err := readAt(f, tail, f.size-int64(len(tail))); err != nil {
			return header{}, err
		}
	} else {
		tail = prefix[len(prefix)-min(len(prefix), saTrailerSizeNumpy2):]
	}
	hasSA := isSATrailer(tail, f.size)
	if hasSA {
		saH, saErr = parseSATrailer(tail, f.size)
	}
	return chooseLayout(hasNPY, hasSA, npyH, saH, npyErr, saErr, f.size)
}

// chooseLayout decides between the two layouts, whose magics can both be
// present: a SharedArray segment's data may start with "\x93NUMPY" (say,
// a whole .npy file stored as bytes), and an NPY segment's data may end
// with a SharedArray trailer. The rule, in order:
//
//  1. A layout whose magic is absent, or whose header is invalid, is out.
//  2. Of two valid headers, the one that leaves fewer bytes of the file
//     unexplained wins: NPY explains dataOff+dataLen bytes (plus the spare
//     byte Create writes after an empty array), SharedArray dataLen plus its
//     trailer. A layout embedded in the other's data always leaves the
//     outer header's bytes unexplained, so the outer layout wins.
//  3. If both explain the same number of bytes (only a file crafted to be
//     both), NPY wins: it is what numpy and file(1) see in the file.
//
// With neither valid, the error of the layout whose magic is present is
// returned, preferring an unsupported element type (ErrDType) to a corrupt
// header when both magics are present.
func chooseLayout(hasNPY, hasSA bool, npyH, saH header, npyErr, saErr error, size int64) (header, error) {
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
		if errors.Is(saErr, ErrDType) && !errors.Is(npyErr, ErrDType) {
			return header{}, saErr
		}
		return header{}, npyErr
	case hasNPY:
		return header{}, npyErr
	case hasSA:
		return header{}, saErr
	}
	return header{}, fmt.Errorf("%w: neither .npy magic at the start nor a SharedArray trailer at the end", ErrNotTensor)
}

// unexplained returns how many bytes of a file of size bytes the header h
// does not account for.
func unexplained(h header, size int64) int64 {
	used := h.dataOff + h.dataLen
	switch h.layout {
	case SharedArray:
		used += h.trailer
	case NPY:
		if h.dataLen == 0 && used < size {
			used++ // Create's spare byte after an empty array
		}
	}
	return size - used
}

// npyHeaderEnd returns where the data of an .npy file starts according to
// the header length field in prefix, or 0 if prefix is too short to say.
// parseNPYHeader validates the value; this only sizes the read.
func npyHeaderEnd(prefix []byte) int64 {
	if len(prefix) < 12 {
		return 0
	}
	if prefix[6] == 1 {
		return 10 + int64(binary.LittleEndian.Uint16(prefix[8:]))
	}
	return 12 + int64(binary.LittleEndian.Uint32(prefix[8:]))
}

// readAt fills p from offset off, failing on a short read: the file was
// truncated under us.
func readAt(f *file, p []byte, off int64) error {
	for len(p) > 0 {
		n, err := f.pread(p, off)
		if err != nil {
			return fmt.Errorf("read header: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("%w: truncated while reading", ErrNotTensor)
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}
