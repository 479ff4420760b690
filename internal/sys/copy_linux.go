package sys

import (
	"cmp"
	"errors"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// The data of WriteTo and Import moves between two files inside the
// kernel when the other end is a regular *os.File, as cp does:
// copy_file_range(2) where the kernel allows it (within one filesystem; on
// filesystems with reflinks it shares the blocks), else splice(2) through
// a pipe, which works between any two filesystems. Neither passes the
// bytes through user memory nor faults the mapping in; writing through the
// file also spares a new segment's reserved pages the zeroing that a first
// touch through the mapping would give them before they are overwritten.
// Both take explicit offsets, so a large copy is split into parts that
// goroutines copy at once (split says how), like the other bulk operations.

// maxChunk bounds one system call; the kernel caps a transfer near 2 GiB.
const maxChunk = 1 << 30

// regularFile returns x as an *os.File if it is one open on a regular
// file.
func regularFile(x any) (*os.File, bool) {
	f, ok := x.(*os.File)
	if !ok || f == nil {
		return nil, false
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, false
	}
	return f, true
}

// unsupported reports errors of copy_file_range that mean "not between
// these two files": the part is copied through the mapping instead.
func unsupported(err error) bool {
	return errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EINVAL) ||
		errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP) ||
		errors.Is(err, syscall.EBADF) || errors.Is(err, syscall.EPERM)
}

// atPosition runs move on the descriptor of x, when x is a regular file,
// with x's position pos, and leaves x's position after the n bytes move
// reports; handled is false, with nothing moved, when x is not a regular
// file or move declines it.
func atPosition(x any, move func(fd int, pos int64) (n int64, handled bool, err error)) (n int64, handled bool, err error) {
	f, ok := regularFile(x)
	if !ok {
		return 0, false, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	cerr := rc.Control(func(u uintptr) {
		xfd := int(u)
		pos, serr := unix.Seek(xfd, 0, io.SeekCurrent)
		if serr != nil {
			return
		}
		if n, handled, err = move(xfd, pos); !handled {
			return
		}
		if _, serr := unix.Seek(xfd, pos+n, io.SeekStart); err == nil {
			err = serr
		}
	})
	if cerr != nil {
		return 0, false, nil
	}
	return n, handled, err
}

// SendData writes data, the bytes of file fd from off, to w at w's
// position, when w is a regular file not opened O_APPEND; handled is false,
// with nothing written, otherwise. w's position ends after the data.
func SendData(w io.Writer, fd int, off int64, data []byte, split Split) (written int64, handled bool, err error) {
	if len(data) == 0 {
		return 0, false, nil
	}
	return atPosition(w, func(wfd int, pos int64) (int64, bool, error) {
		if fl, err := unix.FcntlInt(uintptr(wfd), unix.F_GETFL, 0); err != nil || fl&unix.O_APPEND != 0 {
			return 0, false, nil // positional writes would not append
		}
		n, err := SplitCopy(fd, off, wfd, pos, int64(len(data)), func(lo, hi int64) (int, error) {
			return unix.Pwrite(wfd, data[lo:hi], pos+lo)
		}, nil, split)
		return n, true, err
	})
}

// ReceiveData reads len(data) bytes from r, at r's position, into data,
// the bytes of file fd from off, when r is a regular file; handled is
// false, with nothing read, otherwise. Exactly the bytes copied are
// consumed from r; fewer than len(data) means r ended.
func ReceiveData(r io.Reader, fd int, off int64, data []byte, split Split) (got int64, handled bool, err error) {
	if len(data) == 0 {
		return 0, false, nil
	}
	return atPosition(r, func(rfd int, pos int64) (int64, bool, error) {
		n, err := SplitCopy(rfd, pos, fd, off, int64(len(data)), func(lo, hi int64) (int, error) {
			return unix.Pread(rfd, data[lo:hi], pos+lo)
		}, func() {
			// Faulting the pages in with one call beats a write fault for
			// every 4 KiB that pread fills.
			PopulateRange(data)
		}, split)
		return n, true, err
	})
}

// The ways splitCopy copies, in the order it tries them.
const (
	ViaCopyFileRange = iota
	ViaSplice
	ViaMapping
)

// StreamFirstWay is the first way splitCopy tries; tests start further
// down the list to cover every way on one filesystem.
var StreamFirstWay int32 = ViaCopyFileRange

// SplitCopy copies n bytes from file in at inOff to file out at outOff in
// parts of whole 2 MiB blocks, split over goroutines by split. Each part
// is copied with copy_file_range; where the kernel refuses that between
// the two files (another filesystem), with splice(2) through a pipe of its
// own, which moves page-cache pages between any two files with one copy;
// and should that be refused too, with through(lo, hi), a pwrite or pread
// of bytes [lo, hi) through the mapping, after prepare (if any) has run
// once. It returns the bytes copied: all n, or up to where the first part
// that stopped short (in ended) stopped.
func SplitCopy(in int, inOff int64, out int, outOff int64, n int64, through func(lo, hi int64) (int, error), prepare func(), split Split) (int64, error) {
	var mode atomic.Int32
	mode.Store(StreamFirstWay)
	var prepared atomic.Bool
	type part struct {
		lo, hi, done int64
		err          error
	}
	var (
		mu    sync.Mutex
		parts []part
	)
	split(n, int((n+StreamAlign-1)/StreamAlign), func(a, b int) {
		p := part{lo: int64(a) * StreamAlign, hi: min(int64(b)*StreamAlign, n)}
		at := p.lo
		for at < p.hi {
			m := min(p.hi-at, maxChunk)
			var k int64
			var err error
			how := mode.Load()
			switch how {
			case ViaCopyFileRange:
				ia, oa := inOff+at, outOff+at
				var c int
				c, err = unix.CopyFileRange(in, &ia, out, &oa, int(m), 0)
				k = int64(max(c, 0))
			case ViaSplice:
				k, err = splicePart(in, inOff+at, out, outOff+at, m)
			default:
				if prepare != nil && !prepared.Swap(true) {
					prepare()
				}
				var c int
				c, err = through(at, at+m)
				k = int64(max(c, 0))
			}
			at += k
			switch {
			case errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN):
				continue
			case err != nil && unsupported(err) && k == 0 && at == p.lo:
				// The next way after the one refused, for this part and
				// those that follow; another part may have moved on from
				// it already, and that is where this one goes on.
				if how < ViaMapping {
					mode.CompareAndSwap(how, how+1)
					continue
				}
				p.err = err
			case err != nil:
				p.err = err
			}
			if p.err != nil || k == 0 {
				break // an error, or in ended
			}
		}
		p.done = at - p.lo
		mu.Lock()
		parts = append(parts, p)
		mu.Unlock()
	})
	slices.SortFunc(parts, func(a, b part) int { return cmp.Compare(a.lo, b.lo) })
	// What counts is the bytes up to the first part that stopped short.
	var total int64
	for _, p := range parts {
		total += p.done
		if p.err != nil {
			return total, p.err
		}
		if p.done < p.hi-p.lo {
			break
		}
	}
	return total, nil
}

// splicePart copies n bytes from in at inOff to out at outOff through a
// pipe with splice(2): the pages move from in's page cache into the pipe
// and are copied once, into out's. It stops early where in ends.
func splicePart(in int, inOff int64, out int, outOff int64, n int64) (int64, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return 0, err
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	// A 1 MiB pipe (the unprivileged maximum by default) takes 16 times
	// fewer calls than the default 64 KiB; best effort.
	pipeSize := 64 << 10
	if sz, err := unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, 1<<20); err == nil {
		pipeSize = sz
	}
	var done int64
	for done < n {
		k, err := unix.Splice(in, &inOff, p[1], nil, int(min(n-done, int64(pipeSize))), unix.SPLICE_F_MOVE)
		if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
			continue
		}
		if err != nil {
			return done, err
		}
		if k == 0 {
			break // in ended
		}
		for left := int64(k); left > 0; {
			m, err := unix.Splice(p[0], nil, out, &outOff, int(left), unix.SPLICE_F_MOVE)
			if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
				continue
			}
			if err != nil {
				return done, err
			}
			if m == 0 {
				return done, io.ErrShortWrite
			}
			left -= int64(m)
			done += int64(m)
		}
	}
	return done, nil
}
