// Package shmtensor provides typed N-dimensional arrays in shared memory,
// so that several processes on one machine work on the same numbers without
// copying them. It is to Go what Python's SharedArray is to numpy, with the
// element type and shape checked on every attach.
//
// One process creates a tensor under a name; any other attaches it:
//
//	a, err := shmtensor.Create[float64]("shm://prices", []int{1000, 64})
//	...
//	b, err := shmtensor.Attach[float64]("shm://prices") // in another process
//	b.Set(42, 3, 7)                                    // a.At(3, 7) == 42
//
// # Names
//
// "shm://NAME" (or a bare "NAME", as in SharedArray) is POSIX shared memory:
// on Linux the tmpfs file /dev/shm/NAME. "file://PATH" is a regular file,
// for data that must outlive a reboot or be shared through a disk. Names are
// validated before any system call (ErrInvalidName): names (for file://,
// the last path component) starting with ".shmtensor-", which the package
// reserves for its temporary files, and names holding control characters,
// which could forge lines in listings, are refused.
//
// # Segments
//
// A segment is a plain NumPy .npy file whose header is padded to 4096 bytes,
// so the data is page-aligned and numpy opens it directly:
//
//	a = numpy.load("/dev/shm/prices", mmap_mode="r+")  # same memory
//
// Attach accepts any valid .npy file (versions 1.0, 2.0, 3.0, C or Fortran
// order), and segments in the layout of Python's SharedArray 3.x, which
// Create also writes when given SharedArrayLayout().
//
// # Tensors and views
//
// A Tensor[T] has a shape and strides (in elements) over shared memory or,
// for New and FromSlice, the Go heap. Reshape, Slice, Index and Transpose
// return views that share memory, with numpy's rules: Slice takes Python
// slice semantics (see Range), and Reshape returns a view wherever numpy
// would, failing with ErrNotContiguous only where a copy is unavoidable.
// Clone, CopyFrom (any strides, overlapping views handled) and Fill copy
// and set; All and Values iterate in C order; String prints like numpy.
//
// # gonum
//
// Dense, VecDense, CDense, General32 and General64 give gonum the tensor's
// own memory, without a copy: a product computed with (*mat.Dense).Mul into
// Dense(t) lands in shared memory, visible to every attached process.
// FromMatrix copies any mat.Matrix into a new shared tensor.
//
// # Big tensors
//
// Populate makes Create and Attach fault every page in at once instead of
// on first touch; HugePages asks for 2 MiB pages where the filesystem
// gives them (a tmpfs mounted huge=advise, with file:// names), and
// Segment.HugePageBytes says whether it did. Fill, CopyFrom, Clone,
// FromMatrix, WriteTo and Import split large tensors across GOMAXPROCS
// goroutines; WriteTo and Import copy file to file inside the kernel when
// the other end is a regular *os.File. docs/PERFORMANCE.md has the
// figures.
//
// # Safety
//
// Create is exclusive and atomic: other processes see no name or a complete
// header, never a half-written one, and a creator killed at any point leaves
// nothing attachable. Unless Lazy is given, Create reserves the memory, so a
// full /dev/shm, or a memory cgroup without room for the pages, is an
// ENOSPC error at Create, not a SIGBUS or the OOM killer later. Every
// header field is validated against the file size before anything is
// mapped; a symlink as the last component of a name is not followed (those
// among a file:// path's directories are); FIFOs, sockets and devices are
// refused without blocking. Nothing is ever unlinked implicitly: Delete is
// the only way, it refuses anything that is not a tensor segment, and it
// never removes a file swapped in under the name while it works. Attach and
// Open refuse segments owned by users other than the caller and root
// (ErrPermission) unless AnyOwner is given, since a segment's owner can
// truncate it under every mapping. Near vm.max_map_count, Create and Attach
// fail with ENOMEM while the Go runtime still has mappings left to grow its
// heap. docs/RELIABILITY.md lists the guarantees with the adversarial tests
// that check them.
//
// Memory stays mapped until Close. Slices (Data, Bytes) and gonum matrices
// alias the mapping and are invalid after Close; the package's own methods
// never touch unmapped memory, by one rule:
//
//   - Methods of a Tensor that read or write its elements or make a view
//     (At, Set, Data, Fill, Clone, CopyFrom, Slice, Reshape, Index,
//     Transpose, All, Values) panic with an *Error wrapping ErrClosed, like
//     an index out of range: using a closed tensor is a bug in the caller,
//     not a condition to handle. This holds for those with an error result
//     too, whose errors report bad arguments.
//   - Functions and Segment methods that take a segment as their input
//     return an error wrapping ErrClosed: View, Dense and the other gonum
//     conversions, Msync, Mlock, Munlock and WriteTo. Segment.Bytes, which
//     has no error result, panics like the tensor methods.
//   - What describes a tensor or segment rather than its memory keeps
//     working: Name, DType, Shape, Strides, NDim, Len, ReadOnly, Layout,
//     Size, Segment; String prints "<closed tensor>", Addr returns 0, and
//     Close is idempotent.
//
// A ReadOnly tensor's write methods panic with an *Error wrapping
// ErrReadOnly; CopyFrom and the gonum conversions return one.
//
// At reads elements without Go's bounds checks, relying on an invariant
// every view constructor keeps: each element a view can reach lies inside
// its memory. Built with the shmtensor_bounds tag (go test -tags
// shmtensor_bounds), At indexes through ordinary slices instead, and every
// view asserts the invariant when it is made, panicking with an *Error if
// it does not hold; without the tag neither costs anything.
//
// Two things no library can check: shared memory is shared. If a process
// truncates a segment's file while it is mapped, touching the lost pages
// raises SIGBUS, as it does for numpy and SharedArray (a goroutine that set
// debug.SetPanicOnFault gets a recoverable panic instead). Processes that
// share a segment must agree not to resize it; shmtensor never does. And a
// header rewritten in place by another program (shmtensor never rewrites
// one) can be read torn, mixing the old and the new header. A segment made
// with Lazy has unallocated pages (Info.Reserved is false): a reader that
// touches one when the filesystem is full gets SIGBUS, unless it attached
// with Reserve, which allocates them or fails with ENOSPC.
//
// # Lifecycle across processes
//
// A segment created with Unpublished has no name until Publish or Replace
// gives it one, atomically: readers see complete tensors only, and a
// producer that dies before publishing leaves nothing. Replace swaps a new
// version in for the old, which its readers keep until they close it. Wait
// and WaitReplaced sleep until a tensor appears or changes; AttachOrCreate
// lets exactly one of many processes build a tensor the others attach;
// Mappers tells which processes map one. docs/coordination.md in the
// repository explains the model.
//
// # Synchronisation
//
// Segment.Lock, RLock, TryLock, LockRows and RLockRows take locks that
// exclude other processes and other goroutines alike and that the kernel
// releases when their holder dies: open file description locks on byte
// ranges of the data on Linux, which Python and C processes share through
// fcntl, and flock on FreeBSD and macOS. AtomicLoad, AtomicStore, AtomicAdd
// and AtomicCompareAndSwap work on 32- and 64-bit integer elements;
// WaitValue sleeps until an element changes and Wake wakes its sleepers
// (futex on Linux). docs/coordination.md tells which to use for what.
//
// # Errors
//
// Errors are *Error values that read like "shmtensor: attach shm://x:
// element type mismatch: segment holds float32, want float64" and match the
// sentinels (ErrExist, ErrNotExist, ErrNotTensor, ErrDType, ...) with
// errors.Is; ErrExist and ErrNotExist also match fs.ErrExist and
// fs.ErrNotExist.
//
// Panics are for bugs in the caller, as in the standard library: an index
// out of range or a wrong number of indices (ErrIndex, with numpy's
// message "index 5 is out of bounds for axis 0 with size 3"), a bad shape
// given to New (ErrShape), a write to a read-only tensor (ErrReadOnly) and
// a closed tensor (ErrClosed). The value of every such panic is an error in
// which errors.As finds an *Error and errors.Is its sentinel, so a
// recover() can tell them apart, like gonum's mat.Error.
//
// # Platforms
//
// Linux is the tested platform. On FreeBSD and macOS the package builds and
// uses shm_open through its raw system call (no cgo), but is not tested
// there; List returns ErrNotSupported because those systems cannot enumerate
// shared memory, and Create cannot reserve pages (it checks free space
// instead, where the system reports it). On FreeBSD the shm_open system call
// number in x/sys/unix is the one kept for FreeBSD 12 compatibility, which
// GENERIC kernels include (COMPAT_FREEBSD12); without it shm:// names fail
// with ENOSYS and file:// names still work.
package shmtensor
