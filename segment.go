package shmtensor

import (
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/shmtensor/shmtensor/internal/strided"
	"github.com/shmtensor/shmtensor/internal/sys"
)

// Segment is a mapped shared-memory object or file holding one tensor. It is
// untyped: View gives a typed Tensor over it. A Segment stays mapped until
// Close; nothing is ever unmapped or unlinked implicitly.
type Segment struct {
	name     string // canonical, with scheme
	hdr      header
	mem      []byte // the whole mapping, from file offset 0
	readOnly bool
	fd       int // kept open until Close: locks and links need the very file mapped
	id       FileID
	staged   creator // an Unpublished segment not yet published, else nil

	mu       sync.Mutex // serialises Close with Msync, Mlock, Munlock and the locks
	closed   atomic.Bool
	locks    map[*heldLock]struct{} // locks held (lock.go); Close releases them
	lockPool lockPool               // descriptors for the next locks

	// unmapped mirrors closed for the segment's tensors, which read it on
	// every access. A plain bool is enough, since Close must not race with
	// their use, and it keeps At within the inlining budget.
	unmapped bool
}

// Name returns the segment's name with its scheme.
func (s *Segment) Name() string { return s.name }

// DType returns the element type recorded in the header.
func (s *Segment) DType() DType { return DType(s.hdr.DType) }

// Shape returns a copy of the shape recorded in the header.
func (s *Segment) Shape() []int { return slices.Clone(s.hdr.Shape) }

// Layout returns the segment's on-segment format.
func (s *Segment) Layout() Layout { return Layout(s.hdr.Layout) }

// Fortran reports whether the data is stored in column-major order.
func (s *Segment) Fortran() bool { return s.hdr.Fortran }

// Strides returns the strides, in elements, of the data as stored: C order,
// or column-major for a Fortran-order segment. Multiply by DType().Size()
// for numpy's byte strides.
func (s *Segment) Strides() []int { return strided.Strides(s.hdr.Shape, s.hdr.Fortran) }

// ID returns the identity of the file behind the segment.
func (s *Segment) ID() FileID { return s.id }

// ReadOnly reports whether the segment is mapped without write permission.
func (s *Segment) ReadOnly() bool { return s.readOnly }

// Addr returns the address of the first data byte, or 0 once closed. It
// lets C code or a debugger find the data; Go code uses View.
func (s *Segment) Addr() uintptr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return 0
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(s.mem))) + uintptr(s.hdr.DataOff)
}

// Size returns the number of bytes mapped: the whole segment, header
// included.
func (s *Segment) Size() int { return len(s.mem) }

// Bytes returns the segment's data (without header) as bytes. It aliases
// the mapping and is valid until Close; on a read-only segment it must not be
// written.
func (s *Segment) Bytes() []byte {
	if s.closed.Load() {
		panicErr("bytes", ErrClosed)
	}
	return s.mem[s.hdr.DataOff : s.hdr.DataOff+s.hdr.DataLen : s.hdr.DataOff+s.hdr.DataLen]
}

// SyncFlags selects how Msync flushes a mapping; they are msync(2)'s flags.
type SyncFlags int

const (
	// MSAsync schedules the write-back and returns (MS_ASYNC).
	MSAsync SyncFlags = 1 << iota
	// MSSync writes back and waits for it (MS_SYNC).
	MSSync
	// MSInvalidate drops cached copies so other mappings see the file
	// (MS_INVALIDATE).
	MSInvalidate
)

// Msync flushes the mapping to its backing object, as msync(2). It matters
// for file:// segments that must reach the disk; shm segments live in memory
// and every process sees writes at once without it.
func (s *Segment) Msync(flags SyncFlags) error {
	return s.memOp("msync", func(b []byte) error { return sys.Msync(b, int(flags)) })
}

// Mlock locks the segment's pages in memory, as mlock(2), so they are never
// swapped out. It usually needs RLIMIT_MEMLOCK to allow the size.
func (s *Segment) Mlock() error { return s.memOp("mlock", sys.Mlock) }

// Munlock undoes Mlock.
func (s *Segment) Munlock() error { return s.memOp("munlock", sys.Munlock) }

func (s *Segment) memOp(op string, f func([]byte) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return &Error{Op: op, Name: s.name, Err: ErrClosed}
	}
	if err := f(s.mem); err != nil {
		return &Error{Op: op, Name: s.name, Err: err}
	}
	return nil
}

// HugePageBytes returns how many bytes of the segment's mapping are mapped
// by huge pages (PMD mappings of 2 MiB on x86-64), as the kernel reports
// them in /proc/self/smaps (ShmemPmdMapped for tmpfs, FilePmdMapped for
// other files). It shows whether HugePages took effect: 0 means every page
// is small. Pages not yet touched count as not mapped. It fails with
// ErrNotSupported where the system does not report it (every system but
// Linux) and with ErrClosed once the segment is closed.
func (s *Segment) HugePageBytes() (int64, error) {
	var n int64
	err := s.memOp("hugepages", func(mem []byte) error {
		var err error
		n, err = sys.HugeBytes(mem)
		return err
	})
	return n, err
}

// Close unmaps the segment. Slices and matrices obtained from its tensors
// become invalid, and the tensors' methods panic with ErrClosed. Locks the
// segment holds are released. Close is idempotent and never unlinks the
// segment. It must not race with use of the segment's tensors in other
// goroutines.
func (s *Segment) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	s.unmapped = true
	var err error
	if s.mem != nil {
		err = sys.Unmap(s.mem)
	}
	s.releaseLocks()
	if s.staged != nil {
		s.staged.abort() // never published: nothing may remain
		s.staged = nil
	} else {
		closeFD(s.fd)
	}
	if err != nil {
		return &Error{Op: "close", Name: s.name, Err: err}
	}
	return nil
}
