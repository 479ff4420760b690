package shmtensor

import (
	"sync"
	"sync/atomic"
)

// Layout is the on-segment format of a tensor: where the header is and
// how it is encoded.
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
}

// Segment is a mapped shared-memory object or file holding one tensor. It
// is untyped: View gives a typed Tensor over it. A Segment stays mapped
// until Close; nothing is ever unmapped or unlinked implicitly.
type Segment struct {
	name     string // canonical, with scheme
	hdr      header
	mem      []byte // the whole mapping, from file offset 0
	readOnly bool

	mu     sync.Mutex // serialises Close, Mlock, Munlock, Msync
	closed atomic.Bool
}

// Close unmaps the segment. Slices and matrices obtained from its tensors
// become invalid; the tensors' methods panic with ErrClosed. Close is
// idempotent and never unlinks the segment.
func (s *Segment) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil
	}
	s.closed.Store(true)
	if s.mem == nil {
		return nil
	}
	err := unmap(s.mem)
	s.mem = nil
	if err != nil {
		return &Error{Op: "close", Name: s.name, Err: err}
	}
	return nil
}
