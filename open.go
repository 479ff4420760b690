package shmtensor

import (
	"fmt"
	"io/fs"
	"slices"
	"time"
	"unsafe"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/strided"
	"github.com/shmtensor/shmtensor/internal/sys"
)

// Attach maps an existing segment read-write (or read-only with ReadOnly)
// and returns it as a tensor of T. The element type must match the header
// (ErrDType otherwise: "segment holds float32, want float64"). A segment
// owned by a user other than the caller and root is refused with
// ErrPermission unless AnyOwner is given. Attach never creates, truncates or
// unlinks anything; with Reserve it allocates the segment's missing pages.
// Populate faults the whole mapping in at once and HugePages asks for huge
// pages.
//
// On Linux the segment holds, until Close, a shared lock on a byte of the
// file beyond its end, which tells Mappers and DeleteUnused (and so
// "shmtensor gc") that it is in use, from any PID namespace; Create and
// Open do the same. An Attach that meets a DeleteUnused deleting the file
// waits for it and looks the name up again.
func Attach[T Number](name string, opts ...Option) (*Tensor[T], error) {
	seg, err := openSegment("attach", name, opts)
	if err != nil {
		return nil, err
	}
	t, err := viewAs[T](seg, "attach")
	if err != nil {
		seg.Close()
		return nil, err
	}
	return t, nil
}

// Open maps an existing segment without fixing its element type; View then
// gives a typed tensor. Open also maps bool and float16 segments, which have
// no Go Number type, so their bytes can be read with Segment.Bytes.
func Open(name string, opts ...Option) (*Segment, error) {
	return openSegment("open", name, opts)
}

// View returns a tensor of T over an open segment. It fails with ErrDType
// unless T matches the segment's element type, and with ErrClosed on a
// closed segment. Every view shares the segment's mapping: closing the
// segment closes them all.
func View[T Number](s *Segment) (*Tensor[T], error) {
	return viewAs[T](s, "view")
}

func viewAs[T Number](s *Segment, op string) (*Tensor[T], error) {
	if s.closed.Load() {
		return nil, &Error{Op: op, Name: s.name, Err: ErrClosed}
	}
	want := DTypeOf[T]()
	if s.hdr.Layout == codec.Safetensors {
		return nil, &Error{Op: op, Name: s.name, Err: fmt.Errorf("%w: the segment is a bundle of named tensors, not one tensor: use AttachBundle and BundleView", ErrNotTensor)}
	}
	if DType(s.hdr.DType) != want {
		return nil, &Error{Op: op, Name: s.name, Err: fmt.Errorf("%w: segment holds %v, want %v", ErrDType, s.hdr.DType, want)}
	}
	n := int(s.hdr.DataLen) / want.Size()
	var data []T
	if n > 0 {
		p := unsafe.Pointer(&s.mem[s.hdr.DataOff])
		var z T
		if uintptr(p)%unsafe.Alignof(z) != 0 {
			return nil, &Error{Op: op, Name: s.name, Err: fmt.Errorf("%w: data at byte %d is not aligned for %v", ErrNotTensor, s.hdr.DataOff, want)}
		}
		// The codec checked dataOff+dataLen <= file size == len(s.mem).
		data = unsafe.Slice((*T)(p), n)
	}
	shape := slices.Clone(s.hdr.Shape)
	strides := strided.Strides(shape, s.hdr.Fortran)
	return newTensor(data, 0, shape, strides, s, s.readOnly), nil
}

// openSegment opens, validates and maps an existing segment.
func openSegment(op, name string, opts []Option) (*Segment, error) {
	n, err := parseName(name)
	if err != nil {
		return nil, &Error{Op: op, Name: name, Err: err}
	}
	o := buildOptions(opts)
	f, err := openLive(n, !o.readOnly)
	if err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	if !o.anyOwner {
		if err := checkOwner(f); err != nil {
			f.close()
			return nil, &Error{Op: op, Name: n.name, Err: err}
		}
	}
	h, err := readHeader(f)
	if err != nil {
		f.close()
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	if o.reserve {
		if err := reserveFile(f); err != nil {
			f.close()
			return nil, &Error{Op: op, Name: n.name, Err: err}
		}
	}
	if f.size > int64(maxInt) {
		f.close()
		return nil, &Error{Op: op, Name: n.name, Err: fmt.Errorf("%w: %d bytes cannot be mapped", ErrNotTensor, f.size)}
	}
	mem, err := sys.Map(f.fd, f.size, !o.readOnly, o.advice())
	if err != nil {
		f.close()
		return nil, &Error{Op: op, Name: n.name, Err: fmt.Errorf("mmap %d bytes: %w", f.size, err)}
	}
	return &Segment{name: n.name, hdr: h, mem: mem, readOnly: o.readOnly, fd: f.fd, id: f.id}, nil
}

// openLive opens n and takes the liveness lock on the descriptor (see
// liveness.go). If a DeleteUnused holds the file, it waits for it, with a
// backoff from 100 µs to 10 ms, and opens the name again: the file it had
// is being deleted, or was found in use and is being put back.
func openLive(n segName, write bool) (*file, error) {
	delay, waited := 100*time.Microsecond, time.Duration(0)
	for {
		f, err := openFile(n, write)
		if err != nil || claimLive(f.fd) || waited >= deleterWait {
			return f, err
		}
		f.close()
		if testHookDeleterMet != nil {
			testHookDeleterMet()
		}
		time.Sleep(delay)
		waited += delay
		delay = min(2*delay, 10*time.Millisecond)
	}
}

// testHookDeleterMet, if set, runs when openLive meets a DeleteUnused.
var testHookDeleterMet func()

// file is an open descriptor of an existing regular file or shm object,
// with what fstat said of it.
type file struct {
	fd       int
	name     segName
	size     int64
	id       FileID
	blocks   int64 // 512-byte blocks allocated
	perm     fs.FileMode
	uid, gid uint32
	modTime  time.Time

	// lastCheck, if set, runs on the file moved aside by unlinkPath before
	// it is unlinked: an error puts the file back and is returned.
	lastCheck func() error
}
