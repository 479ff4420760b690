package shmtensor

import (
	"errors"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// The data of WriteTo and Import moves between two files inside the
// kernel when the other end is a regular *os.File, as cp does:
// copy_file_range(2) where the kernel allows it (same filesystem; on
// filesystems with reflinks it shares the blocks), else sendfile(2),
// which works between any two filesystems. Neither passes the bytes
// through user memory or faults the mapping in page by page.

// maxChunk bounds one system call, as the kernel caps a transfer at about
// 2 GiB anyway.
const maxChunk = 1 << 30

// regularFD returns the descriptor behind x if x is an *os.File open on a
// regular file.
func regularFD(x any) (*os.File, bool) {
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

// unsupported reports errors of copy_file_range and sendfile that mean
// "not between these two files": the caller tries the next way.
func unsupported(err error) bool {
	return errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EINVAL) ||
		errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP) ||
		errors.Is(err, syscall.EBADF) || errors.Is(err, syscall.EPERM)
}

// sendData writes the n bytes of file fd at off to w, at w's position,
// when w is a regular file and the kernel can copy between them. handled
// is false, with nothing written, when it cannot; the caller then writes
// from the mapping.
func sendData(w io.Writer, fd int, off, n int64) (written int64, handled bool, err error) {
	f, ok := regularFD(w)
	if !ok || n == 0 {
		return 0, false, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	cerr := rc.Control(func(wfd uintptr) {
		written, handled, err = kernelCopy(fd, &off, int(wfd), nil, n, func(m int) (int, error) {
			return unix.Sendfile(int(wfd), fd, &off, m)
		})
	})
	if cerr != nil {
		return 0, false, nil
	}
	return written, handled, err
}

// receiveData reads n bytes from r, at r's position, into file fd at off,
// when r is a regular file and the kernel can copy between them. Only the n
// bytes are consumed from r. handled is false, with nothing read, when it
// cannot; the caller then reads into the mapping.
func receiveData(r io.Reader, fd int, off, n int64) (got int64, handled bool, err error) {
	f, ok := regularFD(r)
	if !ok || n == 0 {
		return 0, false, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	cerr := rc.Control(func(rfd uintptr) {
		seeked := false
		got, handled, err = kernelCopy(int(rfd), nil, fd, &off, n, func(m int) (int, error) {
			// sendfile writes at the descriptor's position: the new
			// segment's descriptor is private to this Import.
			if !seeked {
				if _, err := unix.Seek(fd, off, io.SeekStart); err != nil {
					return 0, err
				}
				seeked = true
			}
			k, err := unix.Sendfile(fd, int(rfd), nil, m)
			off += int64(max(k, 0))
			return k, err
		})
	})
	if cerr != nil {
		return 0, false, nil
	}
	return got, handled, err
}

// kernelCopy copies n bytes with copy_file_range from in (at *inOff, or its
// position if nil) to out (likewise), falling back to send for each chunk
// when copy_file_range is not supported between the two. It stops early
// at the end of in. handled is false if neither way works, before
// anything was copied.
func kernelCopy(in int, inOff *int64, out int, outOff *int64, n int64, send func(int) (int, error)) (done int64, handled bool, err error) {
	useSend := false
	for done < n {
		m := int(min(n-done, maxChunk))
		var k int
		if useSend {
			k, err = send(m)
		} else {
			k, err = unix.CopyFileRange(in, inOff, out, outOff, m, 0)
			if err != nil && done == 0 && unsupported(err) {
				useSend = true
				continue
			}
		}
		if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
			continue
		}
		if err != nil {
			if done == 0 && useSend && unsupported(err) {
				return 0, false, nil
			}
			return done, true, err
		}
		if k == 0 {
			break // end of in
		}
		done += int64(k)
	}
	return done, true, nil
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
