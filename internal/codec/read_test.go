package codec

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// shortReader is an io.ReaderAt over b that claims a larger file: reads
// past len(b) come back short, as from a file truncated under the reader.
type shortReader struct{ b []byte }

func (r shortReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// failingReader fails every read.
type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

// TestReadHeader reads both layouts through an io.ReaderAt, with the
// header of each longer and shorter than the page ReadHeader reads first.
func TestReadHeader(t *testing.T) {
	npy, _ := encodeNPY(Float32, []int{3, 5}, true)
	npy = append(npy, make([]byte, 60)...)
	long := npyFile(2, "{'descr': '<i2', 'fortran_order': False, 'shape': (4,), }"+strings.Repeat(" ", 3*NPYDataOffset)+"\n", 8)
	sa, _ := encodeSA(Int16, []int{2, 2})
	sa = append(make([]byte, 8), sa...)
	for _, c := range []struct {
		name   string
		file   []byte
		layout Layout
		dt     DType
		shape  []int
	}{
		{"npy", npy, NPY, Float32, []int{3, 5}},
		{"npy header past the first page", long, NPY, Int16, []int{4}},
		{"sharedarray", sa, SharedArray, Int16, []int{2, 2}},
	} {
		h, err := ReadHeader(bytes.NewReader(c.file), int64(len(c.file)))
		if err != nil || h.Layout != c.layout || h.DType != c.dt || !slices.Equal(h.Shape, c.shape) ||
			unexplained(h, int64(len(c.file))) != 0 {
			t.Errorf("%s: %+v, %v", c.name, h, err)
		}
		if !HasMagic(bytes.NewReader(c.file), int64(len(c.file))) {
			t.Errorf("%s: HasMagic false", c.name)
		}
	}
	for _, c := range []struct {
		name string
		r    io.ReaderAt
		size int64
		err  error
		msg  string
	}{
		{"empty", bytes.NewReader(nil), 0, errs.ErrNotTensor, "empty file"},
		{"truncated in the first page", shortReader{npy[:100]}, int64(len(npy)), errs.ErrNotTensor, "truncated while reading"},
		{"truncated before the trailer", shortReader{sa[:len(sa)-1]}, int64(len(sa)), errs.ErrNotTensor, "truncated while reading"},
		{"read error", failingReader{}, 4096, nil, "read header: disk on fire"},
		{"no magic", bytes.NewReader(make([]byte, 1000)), 1000, errs.ErrNotTensor, "neither .npy magic"},
	} {
		_, err := ReadHeader(c.r, c.size)
		if err == nil || c.err != nil && !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.err, c.msg)
		}
	}
	if HasMagic(bytes.NewReader(make([]byte, 1000)), 1000) || HasMagic(failingReader{}, 1000) {
		t.Error("HasMagic true without a magic")
	}
}
