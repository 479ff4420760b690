//go:build linux || darwin || freebsd

package sys

import "golang.org/x/sys/unix"

// FreeBytes returns the bytes available to unprivileged users on the
// filesystem holding fd. ok is false when the filesystem reports no size at
// all (ramfs, some FUSE filesystems: f_blocks == 0): it has no limit to
// check against, so it is not full.
func FreeBytes(fd int) (free int64, ok bool) {
	var st unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Fstatfs(fd, &st) }); err != nil {
		return 0, false
	}
	if st.Blocks == 0 {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}

// TotalBytes returns the size of the filesystem holding fd; ok is false
// when it reports none (see FreeBytes).
func TotalBytes(fd int) (total int64, ok bool) {
	var st unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Fstatfs(fd, &st) }); err != nil || st.Blocks == 0 {
		return 0, false
	}
	return int64(st.Blocks) * int64(st.Bsize), true
}

// FS describes the filesystem holding a directory, for reports: its mount,
// its size and free space in bytes (-1 where it reports none), and whether
// it is a tmpfs.
type FS struct {
	Mount       Mount
	MountKnown  bool
	Total, Free int64
	Tmpfs       bool
}

// DirFS describes the filesystem holding the directory dir.
func DirFS(dir string) (FS, error) {
	fd, err := ignoringEINTR2(func() (int, error) {
		return unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return FS{}, err
	}
	defer unix.Close(fd)
	fs := FS{Total: -1, Free: -1, Tmpfs: OnTmpfs(fd)}
	fs.Mount, fs.MountKnown = MountOfFD(fd)
	if t, ok := TotalBytes(fd); ok {
		fs.Total = t
	}
	if f, ok := FreeBytes(fd); ok {
		fs.Free = f
	}
	return fs, nil
}
