package shmtensor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// shm objects are files in /dev/shm: they can be linked, renamed and
// locked like any file.
const shmIsFile = true

// newStagedCreator makes the unnamed file of an Unpublished segment: as
// newCreator, but whether the name is taken matters only to Publish.
func newStagedCreator(n segName, mode uint32) (creator, error) {
	final := pathOf(n)
	fd, err := openTmpfile(filepath.Dir(final), mode)
	if err != nil {
		return newTempCreator(final, mode)
	}
	return &tmpfileCreator{fd: fd, final: final}, nil
}

// exchange swaps the names a and b atomically (renameat2(2)
// RENAME_EXCHANGE, Linux 3.15; tmpfs, ext4, xfs, btrfs and others).
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP) {
		return errNoExchange
	}
	return err
}

// lockFD takes an exclusive open file description lock on the whole file,
// waiting for it. Unlike a classic POSIX lock it belongs to the descriptor,
// not the process, and the kernel drops it when the descriptor's last copy
// is closed, which includes the holder's death (fcntl(2), "Open file
// description locks").
func lockFD(fd int) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	for {
		err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLKW, &lk)
		if err == syscall.EINVAL {
			// Before Linux 3.15: flock(2) locks also belong to the
			// open file and go with their holder.
			err = unix.Flock(fd, unix.LOCK_EX)
		}
		if err != syscall.EINTR {
			return err
		}
	}
}

// waitFor calls check until it reports the wait over, each time inotify
// reports a change to the name or its content in the name's directory, and
// returns ctx.Err() as soon as ctx is done.
func waitFor(ctx context.Context, n segName, check func() (Info, bool, error)) (Info, error) {
	dir, base := filepath.Split(pathOf(n))
	if dir == "" {
		dir = "."
	}
	in, err := inotifyInit(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		if inotifyExhausted(err) {
			return pollWait(ctx, check)
		}
		return Info{}, fmt.Errorf("inotify: %w", err)
	}
	// A non-blocking descriptor makes a pollable File: its reads sleep in
	// the runtime's poller, not in a thread of their own, and a read
	// deadline interrupts them when ctx is done.
	f := os.NewFile(uintptr(in), "inotify")
	// Closing an inotify instance waits for an SRCU grace period, often
	// milliseconds: the caller need not wait for it.
	defer func() { go f.Close() }()
	// IN_CREATE: link (Publish, Create); IN_MOVED_TO: rename (Replace);
	// the others let a name that first held something else be looked at
	// again when it changes.
	const mask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE | unix.IN_MODIFY | unix.IN_ATTRIB |
		unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
	if _, err := unix.InotifyAddWatch(in, dir, mask); err != nil {
		switch {
		case errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR):
			return Info{}, fmt.Errorf("directory %s does not exist: %w", dir, ErrNotExist)
		case inotifyExhausted(err):
			return pollWait(ctx, check)
		}
		return Info{}, fmt.Errorf("watch %s: %w", dir, err)
	}
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	// Checked after the watch is in place, so that nothing published
	// between the check and the watch is missed.
	if info, ok, err := check(); err != nil || ok {
		return info, err
	}
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		nr, err := f.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
				return Info{}, ctx.Err()
			}
			return Info{}, fmt.Errorf("read inotify events: %w", err)
		}
		look := false
		for off := 0; off+unix.SizeofInotifyEvent <= nr; {
			// struct inotify_event: wd, mask, cookie, len, then len
			// bytes of NUL-padded name (inotify(7)).
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			n := int(binary.NativeEndian.Uint32(buf[off+12:]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+n]
			off += unix.SizeofInotifyEvent + n
			switch {
			case mask&unix.IN_Q_OVERFLOW != 0:
				look = true // events were lost: look anyway
			case mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED) != 0:
				return Info{}, fmt.Errorf("directory %s was removed or moved while waiting: %w", dir, ErrNotExist)
			case string(bytes.TrimRight(name, "\x00")) == base:
				look = true
			}
		}
		if look {
			if info, ok, err := check(); err != nil || ok {
				return info, err
			}
		}
	}
}

// inotifyInit is inotify_init1(2); tests replace it to run out of
// instances.
var inotifyInit = unix.InotifyInit1

// inotifyExhausted reports the errors of a user's inotify limits
// (fs.inotify.max_user_instances, 128 by default, and max_user_watches),
// which waiting survives by polling instead.
func inotifyExhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.ENOMEM)
}

// scanMappers reads /proc/PID/maps of every process it may read and
// returns the ids of the processes mapping each file (only the file want,
// if not nil). Processes that exit or that it may not read (another
// user's, unless root) are skipped.
func scanMappers(want *FileID) (map[FileID][]int, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("%w: /proc is not available: %v", ErrNotSupported, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("read /proc: %w", err)
	}
	table := make(map[FileID][]int)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue
		}
		f, err := os.Open("/proc/" + name + "/maps")
		if err != nil {
			continue
		}
		seen := make(map[FileID]bool)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			id, ok := mapsLineFile(sc.Bytes())
			if !ok || seen[id] || (want != nil && id != *want) {
				continue
			}
			seen[id] = true
			table[id] = append(table[id], pid)
		}
		f.Close()
	}
	for _, pids := range table {
		slices.Sort(pids)
	}
	return table, nil
}

// mapsLineFile parses the device and inode of a /proc/PID/maps line:
// "address perms offset major:minor inode path", device numbers in hex,
// the inode in decimal (proc(5)); inode 0 is an anonymous mapping.
func mapsLineFile(line []byte) (FileID, bool) {
	var field [5][]byte
	for i := range field {
		line = bytes.TrimLeft(line, " ")
		j := bytes.IndexByte(line, ' ')
		if j < 0 {
			if i < 4 {
				return FileID{}, false
			}
			j = len(line)
		}
		field[i], line = line[:j], line[j:]
	}
	maj, min, ok := bytes.Cut(field[3], []byte{':'})
	if !ok {
		return FileID{}, false
	}
	major, err1 := strconv.ParseUint(string(maj), 16, 32)
	minor, err2 := strconv.ParseUint(string(min), 16, 32)
	ino, err3 := strconv.ParseUint(string(field[4]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || ino == 0 {
		return FileID{}, false
	}
	return FileID{Dev: unix.Mkdev(uint32(major), uint32(minor)), Ino: ino}, true
}
