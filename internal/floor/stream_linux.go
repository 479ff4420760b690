package floor

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The other way to stream messages to another process: a pipe or a Unix
// stream socket, written and read with bare write(2) and read(2) calls on
// blocking descriptors, so that a reader waiting for data sleeps in the
// kernel and is woken by the writer directly, with no Go poller between.

// Pair returns the reading and the writing end of a byte stream between
// processes: a pipe for kind "pipe", a connected AF_UNIX SOCK_STREAM
// socket pair for "unix". Both descriptors are blocking and close-on-exec.
func Pair(kind string) (r, w int, err error) {
	switch kind {
	case "pipe":
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			return -1, -1, err
		}
		return p[0], p[1], nil
	case "unix":
		sv, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return -1, -1, err
		}
		return sv[0], sv[1], nil
	}
	return -1, -1, fmt.Errorf("floor: unknown stream kind %q", kind)
}

// WriteFull writes all of b to fd, in as many write(2) calls as it takes.
func WriteFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// ReadFull reads exactly len(b) bytes from fd with read(2) calls. It
// returns io.EOF if the stream ended before the first byte and
// io.ErrUnexpectedEOF if it ended within b.
func ReadFull(fd int, b []byte) error {
	for got := 0; got < len(b); {
		n, err := unix.Read(fd, b[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			if got == 0 {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		got += n
	}
	return nil
}

// Frames reads frames of n bytes from fd and calls f with each, in place
// in a buffer of bufSize bytes (a multiple of n is best) that each read(2)
// fills with as much as the stream holds, until the stream ends or f
// returns false. A frame is valid only during its call.
func Frames(fd, n, bufSize int, f func(frame []byte) bool) error {
	buf := make([]byte, max(bufSize, n))
	have := 0
	for {
		m, err := unix.Read(fd, buf[have:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if m == 0 {
			if have != 0 {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		have += m
		off := 0
		for ; have-off >= n; off += n {
			if !f(buf[off : off+n]) {
				return nil
			}
		}
		have = copy(buf, buf[off:have])
	}
}

// Asleep reports whether every thread of process pid is asleep (state S,
// interruptible sleep, in /proc/PID/task/TID/stat): a process waiting for
// a message in a system call, with nothing else to do, is woken by the
// message and not merely found running.
func Asleep(pid int) (bool, error) {
	dir := filepath.Join("/proc", fmt.Sprint(pid), "task")
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "stat"))
		if err != nil {
			return false, err
		}
		// pid (comm) state ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) {
			return false, fmt.Errorf("floor: unexpected %s/%s/stat: %q", dir, t.Name(), b)
		}
		if b[i+2] != 'S' {
			return false, nil
		}
	}
	return true, nil
}
