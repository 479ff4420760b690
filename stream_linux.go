package shmtensor

import (
	"cmp"
	"errors"
	"io"
	"os"
	"slices"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// The data of WriteTo and Import moves between two files inside the
// kernel when the other end is a regular *os.File, as cp does:
// copy_file_range(2) where the kernel allows it (within one filesystem; on
// filesystems with reflinks it shares the blocks), else pwrite(2) from or
// pread(2) into the mapping, which work between any two filesystems. Both
// take explicit offsets, so a large copy is split into parts that
// GOMAXPROCS goroutines copy at once, like the other bulk operations.

// maxChunk bounds one system call; the kernel caps a transfer near 2 GiB.
const maxChunk = 1 << 30

// streamAlign is where the parts of a split copy start: 2 MiB boundaries,
// whole huge pages.
const streamAlign = 2 << 20

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

// sendData writes data, the bytes of file fd from off, to w at w's
// position, when w is a regular file not opened O_APPEND; handled is false,
// with nothing written, otherwise. w's position ends after the data.
func sendData(w io.Writer, fd int, off int64, data []byte) (written int64, handled bool, err error) {
	f, ok := regularFile(w)
	if !ok || len(data) == 0 {
		return 0, false, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	cerr := rc.Control(func(u uintptr) {
		wfd := int(u)
		fl, err1 := unix.FcntlInt(uintptr(wfd), unix.F_GETFL, 0)
		pos, err2 := unix.Seek(wfd, 0, io.SeekCurrent)
		if err1 != nil || err2 != nil || fl&unix.O_APPEND != 0 {
			return // positional writes would not append
		}
		handled = true
		written, err = splitCopy(fd, off, wfd, pos, int64(len(data)), func(lo, hi int64) (int, error) {
			return unix.Pwrite(wfd, data[lo:hi], pos+lo)
		}, nil)
		if _, serr := unix.Seek(wfd, pos+written, io.SeekStart); err == nil {
			err = serr
		}
	})
	if cerr != nil {
		return 0, false, nil
	}
	return written, handled, err
}

// receiveData reads len(data) bytes from r, at r's position, into data,
// the bytes of file fd from off, when r is a regular file; handled is
// false, with nothing read, otherwise. Exactly the bytes copied are
// consumed from r; fewer than len(data) means r ended.
func receiveData(r io.Reader, fd int, off int64, data []byte) (got int64, handled bool, err error) {
	f, ok := regularFile(r)
	if !ok || len(data) == 0 {
		return 0, false, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	cerr := rc.Control(func(u uintptr) {
		rfd := int(u)
		pos, err1 := unix.Seek(rfd, 0, io.SeekCurrent)
		if err1 != nil {
			return
		}
		handled = true
		got, err = splitCopy(rfd, pos, fd, off, int64(len(data)), func(lo, hi int64) (int, error) {
			return unix.Pread(rfd, data[lo:hi], pos+lo)
		}, func() {
			// Faulting the pages in with one call beats a write fault for
			// every 4 KiB that pread fills.
			populateRange(data)
		})
		if _, serr := unix.Seek(rfd, pos+got, io.SeekStart); err == nil {
			err = serr
		}
	})
	if cerr != nil {
		return 0, false, nil
	}
	return got, handled, err
}

// splitCopy copies n bytes from file in at inOff to file out at outOff in
// parts, one per goroutine (see workers), each with copy_file_range, or
// with through(lo, hi) (a pwrite or pread of bytes [lo, hi) through the
// mapping) where copy_file_range does not work between the two files;
// prepare runs once before the first such part. It returns the bytes
// copied: all n, or up to where in ended (the parts after a short one
// must not count).
func splitCopy(in int, inOff int64, out int, outOff int64, n int64, through func(lo, hi int64) (int, error), prepare func()) (int64, error) {
	var noKernel, prepared atomic.Bool
	type part struct {
		lo, hi, done int64
		err          error
	}
	w := workers(int(min(n, int64(maxInt))))
	results := make(chan part, w)
	parallelFor(int((n+streamAlign-1)/streamAlign), w, 1, func(a, b int) {
		p := part{lo: int64(a) * streamAlign, hi: min(int64(b)*streamAlign, n)}
		at := p.lo
		for at < p.hi {
			m := int(min(p.hi-at, maxChunk))
			var k int
			var err error
			if !noKernel.Load() {
				ia, oa := inOff+at, outOff+at
				k, err = unix.CopyFileRange(in, &ia, out, &oa, m, 0)
				if err != nil && unsupported(err) && at == p.lo {
					noKernel.Store(true)
					continue
				}
			} else {
				if prepare != nil && !prepared.Swap(true) {
					prepare()
				}
				k, err = through(at, at+int64(m))
			}
			if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
				continue
			}
			if err != nil {
				p.err = err
				break
			}
			if k == 0 {
				break // in ended
			}
			at += int64(k)
		}
		p.done = at - p.lo
		results <- p
	})
	close(results)
	parts := make([]part, 0, w)
	for p := range results {
		parts = append(parts, p)
	}
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

// populateRange faults in the pages of mem ahead of a sequential write into
// them: one madvise instead of a page fault for every 4 KiB. Best effort.
func populateRange(mem []byte) {
	lo, hi := memRange(mem)
	if lo == hi {
		return
	}
	lo &^= uintptr(os.Getpagesize() - 1)
	unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_POPULATE_READ)
}
