package shmtensor

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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
}

// Names.

const (
	schemeShm  = "shm://"
	schemeFile = "file://"
)

// segName is a parsed, validated segment name.
type segName struct {
	shm  bool
	name string // canonical: "shm://x" or "file://path"
	path string // the shm object name (no slash) or the file path
}

// parseName validates a name before any system call: shm://NAME, NAME (a
// shm name, as in SharedArray) or file://PATH.
func parseName(s string) (segName, error) {
	bad := func(why string) (segName, error) {
		return segName{}, fmt.Errorf("%w: %s", ErrInvalidName, why)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return bad("contains a NUL byte")
	}
	var n segName
	switch {
	case strings.HasPrefix(s, schemeFile):
		n.path = s[len(schemeFile):]
		if n.path == "" {
			return bad("empty file path")
		}
		if len(n.path) >= unix.PathMax {
			return bad(fmt.Sprintf("file path longer than %d bytes", unix.PathMax-1))
		}
		n.name = s
		return n, nil
	case strings.HasPrefix(s, schemeShm):
		n.path = s[len(schemeShm):]
	case strings.Contains(s, "://"):
		return bad(fmt.Sprintf("unknown scheme in %q (want shm:// or file://)", s))
	default:
		n.path = s
	}
	switch {
	case n.path == "":
		return bad("empty name")
	case n.path == "." || n.path == "..":
		return bad(fmt.Sprintf("%q is not a segment name", n.path))
	case strings.IndexByte(n.path, '/') >= 0:
		return bad(fmt.Sprintf("shm name %q contains '/' (use file:// for paths)", n.path))
	case len(n.path) > maxShmName:
		return bad(fmt.Sprintf("shm name longer than %d bytes", maxShmName))
	}
	n.shm = true
	n.name = schemeShm + n.path
	return n, nil
}

// Options.

// Option configures Create, Attach and Open.
type Option func(*options)

type options struct {
	readOnly bool
	mode     uint32
	modeErr  error
	lazy     bool
	layout   Layout
}

func buildOptions(opts []Option) options {
	o := options{mode: 0o600, layout: NPY}
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// ReadOnly maps the segment without write permission (PROT_READ on a
// descriptor opened O_RDONLY). Set, Fill and the other write methods of its
// tensors panic with ErrReadOnly instead of faulting; those that return an
// error (CopyFrom, Dense and the other gonum conversions, which hand out
// writable matrices) return one wrapping ErrReadOnly. Slices from Data must
// only be read.
func ReadOnly() Option { return func(o *options) { o.readOnly = true } }

// Mode sets the permission bits of a segment made by Create. They are set
// exactly, whatever the process umask. The default is 0600. Bits other than
// the permission bits are refused.
func Mode(perm fs.FileMode) Option {
	return func(o *options) {
		if perm&^fs.ModePerm != 0 {
			o.modeErr = fmt.Errorf("mode %v has bits other than permissions", perm)
			return
		}
		o.mode = uint32(perm)
	}
}

// Lazy makes Create size the segment without reserving its pages, as
// ftruncate alone does: Create is faster and untouched pages cost nothing,
// but if the filesystem fills up later, touching a page raises SIGBUS.
// Create still refuses a segment larger than the free space it sees.
func Lazy() Option { return func(o *options) { o.lazy = true } }

// SharedArrayLayout makes Create write Python SharedArray's layout (data at
// offset 0, a 292-byte trailer at the end) instead of NPY, so that
// SharedArray.attach opens the segment.
func SharedArrayLayout() Option { return func(o *options) { o.layout = SharedArray } }

// Info describes a segment, as read from its header by Stat and List.
type Info struct {
	Name       string // with scheme: "shm://x", "file://data/x.npy"
	DType      DType
	Shape      []int
	Size       int64 // bytes of the whole segment
	Layout     Layout
	Mode       fs.FileMode
	Fortran    bool      // column-major data (NPY segments written that way)
	DataOffset int64     // byte offset of the first element
	ModTime    time.Time // last modification of the segment's metadata or size
	UID, GID   uint32    // owner
}

// Strides returns the strides, in elements, of the segment's data as
// stored (see Segment.Strides).
func (in Info) Strides() []int { return layoutStrides(in.Shape, in.Fortran) }

// Segment is a mapped shared-memory object or file holding one tensor. It is
// untyped: View gives a typed Tensor over it. A Segment stays mapped until
// Close; nothing is ever unmapped or unlinked implicitly.
type Segment struct {
	name     string // canonical, with scheme
	hdr      header
	mem      []byte // the whole mapping, from file offset 0
	readOnly bool

	mu     sync.Mutex // serialises Close with Msync, Mlock and Munlock
	closed atomic.Bool

	// unmapped mirrors closed for the segment's tensors, which read it on
	// every access. A plain bool is enough, since Close must not race with
	// their use, and it keeps At within the inlining budget.
	unmapped bool
}

// Name returns the segment's name with its scheme.
func (s *Segment) Name() string { return s.name }

// DType returns the element type recorded in the header.
func (s *Segment) DType() DType { return s.hdr.dtype }

// Shape returns a copy of the shape recorded in the header.
func (s *Segment) Shape() []int { return slices.Clone(s.hdr.shape) }

// Layout returns the segment's on-segment format.
func (s *Segment) Layout() Layout { return s.hdr.layout }

// Fortran reports whether the data is stored in column-major order.
func (s *Segment) Fortran() bool { return s.hdr.fortran }

// Strides returns the strides, in elements, of the data as stored: C order,
// or column-major for a Fortran-order segment. Multiply by DType().Size()
// for numpy's byte strides.
func (s *Segment) Strides() []int { return layoutStrides(s.hdr.shape, s.hdr.fortran) }

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
	return uintptr(unsafe.Pointer(unsafe.SliceData(s.mem))) + uintptr(s.hdr.dataOff)
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
	return s.mem[s.hdr.dataOff : s.hdr.dataOff+s.hdr.dataLen : s.hdr.dataOff+s.hdr.dataLen]
}

// SyncFlags selects how Msync flushes a mapping; they are msync(2)'s flags.
type SyncFlags int

const (
	MSAsync      SyncFlags = unix.MS_ASYNC      // schedule the write-back and return
	MSSync       SyncFlags = unix.MS_SYNC       // write back and wait for it
	MSInvalidate SyncFlags = unix.MS_INVALIDATE // drop cached copies so other mappings see the file
)

// Msync flushes the mapping to its backing object, as msync(2). It matters
// for file:// segments that must reach the disk; shm segments live in memory
// and every process sees writes at once without it.
func (s *Segment) Msync(flags SyncFlags) error {
	return s.memOp("msync", func(b []byte) error { return unix.Msync(b, int(flags)) })
}

// Mlock locks the segment's pages in memory, as mlock(2), so they are never
// swapped out. It usually needs RLIMIT_MEMLOCK to allow the size.
func (s *Segment) Mlock() error { return s.memOp("mlock", unix.Mlock) }

// Munlock undoes Mlock.
func (s *Segment) Munlock() error { return s.memOp("munlock", unix.Munlock) }

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

// Close unmaps the segment. Slices and matrices obtained from its tensors
// become invalid, and the tensors' methods panic with ErrClosed. Close is
// idempotent and never unlinks the segment. It must not race with use of the
// segment's tensors in other goroutines.
func (s *Segment) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	s.unmapped = true
	mem := s.mem
	if mem == nil {
		return nil
	}
	if err := unix.Munmap(mem); err != nil {
		return &Error{Op: "close", Name: s.name, Err: err}
	}
	return nil
}

// Create makes a new segment holding a zeroed tensor of the given shape and
// maps it read-write. The name must not exist: Create is exclusive
// (ErrExist, which also matches fs.ErrExist) and atomic — other processes see
// either no name or a complete header, and a creator killed at any moment
// leaves nothing attachable under the name.
//
// Unless Lazy is given, Create reserves every page of the segment, so a full
// /dev/shm or disk fails here with an error wrapping syscall.ENOSPC that
// says how much was asked and how much was free, instead of a SIGBUS later.
// The permissions are exactly 0600, or what Mode gives, whatever the umask.
func Create[T Number](name string, shape []int, opts ...Option) (*Tensor[T], error) {
	seg, err := createSegment(name, DTypeOf[T](), shape, opts)
	if err != nil {
		return nil, err
	}
	t, err := viewAs[T](seg, "create")
	if err != nil {
		seg.Close()
		return nil, err
	}
	return t, nil
}

// CreateSegment is Create for an element type given at run time, such as
// one parsed from user input, and returns the untyped segment; View gives a
// typed tensor over it. It is also the way to create bool and float16
// segments, which have no Go Number type: fill them through Bytes.
func CreateSegment(name string, dt DType, shape []int, opts ...Option) (*Segment, error) {
	return createSegment(name, dt, shape, opts)
}

func createSegment(name string, dt DType, shape []int, opts []Option) (*Segment, error) {
	const op = "create"
	n, err := parseName(name)
	if err != nil {
		return nil, &Error{Op: op, Name: name, Err: err}
	}
	if !dt.valid() {
		return nil, &Error{Op: op, Name: n.name, Err: fmt.Errorf("%w: invalid element type %v", ErrDType, dt)}
	}
	o := buildOptions(opts)
	if o.modeErr != nil {
		return nil, &Error{Op: op, Name: n.name, Err: o.modeErr}
	}
	dataLen, err := byteSize(shape, dt.Size())
	if err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	var (
		hdr   []byte // the bytes to write, at hdrAt
		hdrAt int64
		size  int64
		magic int // length of the magic at the start of hdr, written last
		h     = header{layout: o.layout, dtype: dt, shape: slices.Clone(shape), dataLen: dataLen}
	)
	switch o.layout {
	case SharedArray:
		hdr, err = encodeSATrailer(dt, shape)
		hdrAt = dataLen
		size = dataLen + int64(len(hdr))
		magic = saMagicLen
	default:
		hdr, err = encodeNPYHeader(dt, shape, false)
		h.dataOff = npyDataOffset
		size = npyDataOffset + dataLen
		if dataLen == 0 {
			// numpy cannot mmap a file that ends where its data starts
			// ("mmap offset is greater than file size"): one spare byte
			// lets np.load(mmap_mode="r+") open empty segments too.
			size++
		}
		magic = npyMagicLen
	}
	if err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	if size > int64(maxInt) {
		return nil, &Error{Op: op, Name: n.name, Err: fmt.Errorf("%w: segment of %d bytes cannot be mapped", ErrShape, size)}
	}

	// Only a reserved create checks the name first: it is about to spend
	// time reserving pages, while a lazy one loses little and linkat
	// reports a taken name anyway.
	c, err := newCreator(n, o.mode, !o.lazy)
	if err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: createErrno(err, n)}
	}
	fail := func(err error) (*Segment, error) {
		c.abort()
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	if err := reserve(c.descriptor(), size, o.lazy); err != nil {
		return fail(err)
	}
	if shmSizeRounded && n.shm {
		// macOS rounds shm objects up to whole pages; the SharedArray
		// trailer must end the object, where readers look for it.
		var st unix.Stat_t
		if err := unix.Fstat(c.descriptor(), &st); err != nil {
			return fail(err)
		}
		if st.Size > size {
			if o.layout == SharedArray {
				hdrAt += st.Size - size
			}
			size = st.Size
		}
	}
	mem, err := unix.Mmap(c.descriptor(), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail(fmt.Errorf("mmap %d bytes: %w", size, err))
	}
	// Body first, magic last: where the object is visible while being
	// written (BSD shm), a reader sees no magic until the header is whole.
	copy(mem[hdrAt+int64(magic):], hdr[magic:])
	copy(mem[hdrAt:hdrAt+int64(magic)], hdr[:magic])
	if err := c.publish(); err != nil {
		unix.Munmap(mem)
		return fail(createErrno(err, n))
	}
	c.close()
	if o.readOnly {
		if err := unix.Mprotect(mem, unix.PROT_READ); err != nil {
			unix.Munmap(mem)
			return nil, &Error{Op: op, Name: n.name, Err: err}
		}
	}
	return &Segment{name: n.name, hdr: h, mem: mem, readOnly: o.readOnly}, nil
}

// reserve sizes the new object. Without lazy it allocates every page
// (fallocate), turning a later SIGBUS into an ENOSPC now; with lazy it only
// checks that the size fits in the free space and sets the length.
func reserve(fd int, size int64, lazy bool) error {
	if !lazy {
		err := allocate(fd, size)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, errNoAllocate) {
			return fmt.Errorf("reserve %d bytes: %w", size, err)
		}
		if errors.Is(err, syscall.ENOSPC) {
			return spaceError(fd, size)
		}
		// The filesystem cannot preallocate: fall back to the free-space
		// check, the best that can be done there.
	}
	if free, ok := freeBytes(fd); ok && free < size {
		return spaceError(fd, size)
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			return spaceError(fd, size)
		}
		return fmt.Errorf("set size to %d bytes: %w", size, err)
	}
	return nil
}

// spaceError says how much was asked and how much the filesystem had free.
func spaceError(fd int, size int64) error {
	if free, ok := freeBytes(fd); ok {
		return fmt.Errorf("%w: asked for %s (%d bytes), %s (%d bytes) free",
			syscall.ENOSPC, FormatBytes(size), size, FormatBytes(free), free)
	}
	return fmt.Errorf("%w: asked for %s (%d bytes)", syscall.ENOSPC, FormatBytes(size), size)
}

// freeBytes returns the bytes available to unprivileged users on the
// filesystem holding fd.
func freeBytes(fd int) (int64, bool) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}

// FormatBytes formats n bytes with binary units: "512 B", "4.0 KiB",
// "1.5 MiB", "2.0 GiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// Attach maps an existing segment read-write (or read-only with ReadOnly)
// and returns it as a tensor of T. The element type must match the header
// (ErrDType otherwise: "segment holds float32, want float64"). Attach never
// creates, truncates or unlinks anything.
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
	if s.hdr.dtype != want {
		return nil, &Error{Op: op, Name: s.name, Err: fmt.Errorf("%w: segment holds %v, want %v", ErrDType, s.hdr.dtype, want)}
	}
	n := int(s.hdr.dataLen) / want.Size()
	var data []T
	if n > 0 {
		p := unsafe.Pointer(&s.mem[s.hdr.dataOff])
		var z T
		if uintptr(p)%unsafe.Alignof(z) != 0 {
			return nil, &Error{Op: op, Name: s.name, Err: fmt.Errorf("%w: data at byte %d is not aligned for %v", ErrNotTensor, s.hdr.dataOff, want)}
		}
		// The codec checked dataOff+dataLen <= file size == len(s.mem).
		data = unsafe.Slice((*T)(p), n)
	}
	shape := slices.Clone(s.hdr.shape)
	strides := layoutStrides(shape, s.hdr.fortran)
	return newTensor(data, 0, shape, strides, s, s.readOnly), nil
}

// openSegment opens, validates and maps an existing segment.
func openSegment(op, name string, opts []Option) (*Segment, error) {
	n, err := parseName(name)
	if err != nil {
		return nil, &Error{Op: op, Name: name, Err: err}
	}
	o := buildOptions(opts)
	f, err := openExisting(n, !o.readOnly)
	if err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	defer unix.Close(f.fd)
	h, err := readHeader(f)
	if err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	prot := unix.PROT_READ
	if !o.readOnly {
		prot |= unix.PROT_WRITE
	}
	if f.size > int64(maxInt) {
		return nil, &Error{Op: op, Name: n.name, Err: fmt.Errorf("%w: %d bytes cannot be mapped", ErrNotTensor, f.size)}
	}
	mem, err := unix.Mmap(f.fd, 0, int(f.size), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: fmt.Errorf("mmap %d bytes: %w", f.size, err)}
	}
	return &Segment{name: n.name, hdr: h, mem: mem, readOnly: o.readOnly}, nil
}

// openFile is an open descriptor of an existing regular file or shm object.
type openFile struct {
	fd   int
	name segName
	st   unix.Stat_t
	size int64
}

// openExisting opens n without following a symlink and without blocking on
// a FIFO, and refuses anything that is not a regular file before any I/O.
func openExisting(n segName, write bool) (openFile, error) {
	flags := unix.O_RDONLY
	if write {
		flags = unix.O_RDWR
	}
	fd, err := openNamed(n, flags|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
	if err != nil {
		return openFile{}, mapErrno(err, n)
	}
	f := openFile{fd: fd, name: n}
	if err := unix.Fstat(fd, &f.st); err != nil {
		unix.Close(fd)
		return openFile{}, err
	}
	// Regular files only. shm_open can return nothing else, and macOS
	// reports no file type for shm objects at all.
	if ft := uint32(f.st.Mode) & unix.S_IFMT; ft != unix.S_IFREG && !(n.shm && shmNoFileType && ft == 0) {
		unix.Close(fd)
		return openFile{}, fmt.Errorf("%w: %s", ErrNotTensor, fileKind(uint32(f.st.Mode)))
	}
	f.size = f.st.Size
	return f, nil
}

func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "is a directory"
	case unix.S_IFIFO:
		return "is a FIFO"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "is a device"
	case unix.S_IFSOCK:
		return "is a socket"
	case unix.S_IFLNK:
		return "is a symbolic link"
	}
	return "is not a regular file"
}

// createErrno explains the errors of making a new segment.
func createErrno(err error, n segName) error {
	switch {
	case errors.Is(err, syscall.EEXIST):
		return ErrExist
	case errors.Is(err, syscall.ENOENT) && !n.shm:
		return fmt.Errorf("directory %s does not exist: %w", filepath.Dir(n.path), fs.ErrNotExist)
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("shared memory is not available (%s missing?): %w", shmDirHint, err)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w: no permission to create it there", err)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w: no space for a new segment", err)
	}
	return err
}

// mapErrno turns the errors of opening a name into the package's sentinels,
// keeping the system error for errors.Is.
func mapErrno(err error, n segName) error {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return ErrNotExist
	case errors.Is(err, syscall.EEXIST):
		return ErrExist
	case errors.Is(err, syscall.ELOOP):
		return fmt.Errorf("%w: is a symbolic link (not followed)", ErrNotTensor)
	case errors.Is(err, syscall.ENXIO):
		// O_NONBLOCK open of a FIFO with no reader, for writing.
		return fmt.Errorf("%w: is a FIFO", ErrNotTensor)
	case errors.Is(err, syscall.EISDIR):
		return fmt.Errorf("%w: is a directory", ErrNotTensor)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w (attach with ReadOnly() if only reading is allowed)", err)
	}
	return err
}

// pagePool holds the buffers readHeader reads a header page into; nothing
// parsed from one outlives readHeader (the codecs copy what they keep).
var pagePool = sync.Pool{New: func() any { return new([npyDataOffset]byte) }}

// readHeader reads and validates the header of an open file: NPY if the
// file starts with numpy's magic, else a SharedArray trailer. It reads only
// the bytes the header needs: one page, more only for a longer NPY header.
func readHeader(f openFile) (header, error) {
	if f.size == 0 {
		return header{}, fmt.Errorf("%w: empty file", ErrNotTensor)
	}
	page := pagePool.Get().(*[npyDataOffset]byte)
	defer pagePool.Put(page)
	prefix := page[:min(f.size, npyDataOffset)]
	if err := readAt(f, prefix, 0); err != nil {
		return header{}, err
	}
	if isNPY(prefix) {
		if need := npyHeaderEnd(prefix); need > int64(len(prefix)) && need <= npyMaxPrefix && need <= f.size {
			prefix = append(prefix[:len(prefix):len(prefix)], make([]byte, need-int64(len(prefix)))...)
			if err := readAt(f, prefix[npyDataOffset:], npyDataOffset); err != nil {
				return header{}, err
			}
		}
		return parseNPYHeader(prefix, f.size)
	}
	tail := prefix
	if f.size > int64(len(prefix)) {
		tail = make([]byte, min(f.size, saTrailerSizeNumpy2))
		if err := readAt(f, tail, f.size-int64(len(tail))); err != nil {
			return header{}, err
		}
	} else if len(tail) > saTrailerSizeNumpy2 {
		tail = tail[len(tail)-saTrailerSizeNumpy2:]
	}
	if !isSATrailer(tail, f.size) {
		return header{}, fmt.Errorf("%w: neither .npy magic at the start nor a SharedArray trailer at the end", ErrNotTensor)
	}
	return parseSATrailer(tail, f.size)
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
func readAt(f openFile, p []byte, off int64) error {
	for len(p) > 0 {
		n, err := pread(f, p, off)
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

// Stat reads a segment's header without mapping it.
func Stat(name string) (Info, error) {
	n, err := parseName(name)
	if err != nil {
		return Info{}, &Error{Op: "stat", Name: name, Err: err}
	}
	info, err := statName(n)
	if err != nil {
		return Info{}, &Error{Op: "stat", Name: n.name, Err: err}
	}
	return info, nil
}

func statName(n segName) (Info, error) {
	f, err := openExisting(n, false)
	if err != nil {
		return Info{}, err
	}
	defer unix.Close(f.fd)
	h, err := readHeader(f)
	if err != nil {
		return Info{}, err
	}
	return makeInfo(n, h, &f.st), nil
}

func makeInfo(n segName, h header, st *unix.Stat_t) Info {
	return Info{
		Name:       n.name,
		DType:      h.dtype,
		Shape:      h.shape,
		Size:       st.Size,
		Layout:     h.layout,
		Mode:       fs.FileMode(st.Mode & 0o777),
		Fortran:    h.fortran,
		DataOffset: h.dataOff,
		ModTime:    time.Unix(st.Mtim.Unix()),
		UID:        st.Uid,
		GID:        st.Gid,
	}
}

// List returns every tensor segment in shared memory, sorted by name.
// Objects that are not tensor segments (other programs' shm, unreadable
// ones) are skipped. Where the system cannot enumerate shared memory
// (macOS, FreeBSD) it fails with ErrNotSupported; file:// segments are not
// listed (use Stat).
func List() ([]Info, error) {
	names, err := listShm()
	if err != nil {
		return nil, &Error{Op: "list", Err: err}
	}
	var out []Info
	for _, name := range names {
		n, err := parseName(schemeShm + name)
		if err != nil {
			continue
		}
		info, err := statName(n)
		if err != nil {
			continue
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Delete unlinks a tensor segment. It refuses, with ErrNotTensor, anything
// that is not a valid tensor segment, which is left untouched. Processes that
// have it mapped keep their mappings, which stay valid; the memory is freed
// when the last one closes it.
func Delete(name string) error {
	n, err := parseName(name)
	if err != nil {
		return &Error{Op: "delete", Name: name, Err: err}
	}
	if err := deleteName(n); err != nil {
		return &Error{Op: "delete", Name: n.name, Err: err}
	}
	return nil
}

func deleteName(n segName) error {
	f, err := openExisting(n, false)
	if err != nil {
		return err
	}
	defer unix.Close(f.fd)
	if _, err := readHeader(f); err != nil {
		return err
	}
	return unlinkNamed(n, &f.st)
}

const maxInt = int(^uint(0) >> 1)

// The magic bytes that Create writes last: numpy's "\x93NUMPY" and
// SharedArray's NUL-padded "[SharedArray]" field.
const (
	npyMagicLen = 6
	saMagicLen  = 16
)

// errNoAllocate reports a filesystem that cannot preallocate pages.
var errNoAllocate = errors.New("preallocation not supported")

// tempCreator makes a segment under a temporary name in the target
// directory and links it into place when complete: link(2) is atomic and
// fails if the name exists, so it is both exclusive and never exposes a
// half-written header. A creator killed in between leaves only the
// temporary name, which Attach and List never look at.
type tempCreator struct {
	fd         int
	tmp, final string
}

func newTempCreator(final string, mode uint32) (*tempCreator, error) {
	dir, base := filepath.Split(final)
	var b [8]byte
	rand.Read(b[:])
	tmp := filepath.Join(dir, fmt.Sprintf("%s%s-%x.tmp", tempPrefix, base, b))
	fd, err := unix.Open(tmp, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		unix.Close(fd)
		unix.Unlink(tmp)
		return nil, err
	}
	return &tempCreator{fd: fd, tmp: tmp, final: final}, nil
}

// tempPrefix starts the temporary names of segments being created.
const tempPrefix = ".shmtensor-creating-"

func (c *tempCreator) descriptor() int { return c.fd }

func (c *tempCreator) publish() error {
	err := unix.Link(c.tmp, c.final)
	unix.Unlink(c.tmp)
	return err
}

func (c *tempCreator) abort() {
	unix.Close(c.fd)
	unix.Unlink(c.tmp)
}

func (c *tempCreator) close() { unix.Close(c.fd) }

// creator is how a platform makes a new segment exclusively and atomically:
// an unnamed or hidden object that publish gives its name.
type creator interface {
	descriptor() int
	publish() error // gives the object its name; fails with EEXIST if taken
	abort()         // undoes everything; the name is untouched
	close()         // after publish
}
