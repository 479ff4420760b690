package shmtensor

import (
	"errors"
	"io"

	"github.com/shmtensor/shmtensor/internal/codec"
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
	// Safetensors is a bundle (CreateBundle): a safetensors file of many
	// named tensors, its header padded so the data starts at a page.
	Safetensors
)

// String returns "npy", "sharedarray" or "safetensors".
func (l Layout) String() string { return codec.Layout(l).String() }

// header is what either layout's codec reads from a segment (see
// internal/codec): everything needed to map it, validated against the file
// size. Its DType and Layout convert to the root's types.
type header = codec.Header

// newHeader validates an element type and shape for a new segment of the
// given layout; see codec.NewHeader.
func newHeader(layout Layout, dt DType, shape []int, fortran bool) (header, error) {
	return codec.NewHeader(codec.Layout(layout), codec.DType(dt), shape, fortran)
}

// otherByteOrder reports whether err refuses a header only because its
// element type is big-endian: the file is a valid .npy file, checked as
// fully as a native one (codec.ByteOrderError).
func otherByteOrder(err error) bool {
	var bo *codec.ByteOrderError
	return errors.As(err, &bo)
}

// readHeader reads and validates the header of an open file.
func readHeader(f *file) (header, error) { return codec.ReadHeader(f, f.size) }

// ReadAt implements io.ReaderAt for the codecs, failing only on a short
// read: the file was truncated under us (io.EOF) or pread failed.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n, err := f.pread(p[done:], off+int64(done))
		if err != nil {
			return done, err
		}
		if n == 0 {
			return done, io.EOF
		}
		done += n
	}
	return done, nil
}

const maxInt = int(^uint(0) >> 1)
