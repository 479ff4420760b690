package sys

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// Allocate allocates the pages of the first size bytes of fd, growing the
// file to size if it is shorter; bytes already written are kept (fallocate
// with mode 0 allocates only the holes). It fails with ErrNoAllocate where
// the filesystem cannot.
func Allocate(fd int, size int64) error {
	if size == 0 {
		return nil
	}
	err := ignoringEINTR(func() error { return unix.Fallocate(fd, 0, 0, size) })
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return ErrNoAllocate
	}
	return err
}

// OnTmpfs reports whether fd is on a tmpfs (statfs f_type TMPFS_MAGIC),
// whose pages are memory, charged to the memory cgroup of the process that
// allocates them.
func OnTmpfs(fd int) bool {
	var st unix.Statfs_t
	return ignoringEINTR(func() error { return unix.Fstatfs(fd, &st) }) == nil && st.Type == unix.TMPFS_MAGIC
}

// pseudoFS names the kernel filesystems that present kernel state instead
// of holding files, by their statfs magic.
var pseudoFS = map[uint32]string{
	unix.PROC_SUPER_MAGIC: "procfs", unix.SYSFS_MAGIC: "sysfs",
	unix.CGROUP_SUPER_MAGIC: "cgroupfs", unix.CGROUP2_SUPER_MAGIC: "cgroup2fs",
	unix.DEBUGFS_MAGIC: "debugfs", unix.TRACEFS_MAGIC: "tracefs", unix.SECURITYFS_MAGIC: "securityfs",
	unix.DEVPTS_SUPER_MAGIC: "devpts", unix.BPF_FS_MAGIC: "bpf",
	unix.PSTOREFS_MAGIC: "pstore", unix.EFIVARFS_MAGIC: "efivarfs", unix.SELINUX_MAGIC: "selinuxfs",
}

// PseudoFS reports whether path lies on such a kernel filesystem (procfs,
// sysfs, ...), where files cannot be made, and names it.
func PseudoFS(path string) (string, bool) {
	var st unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Statfs(path, &st) }); err != nil {
		return "", false
	}
	name, ok := pseudoFS[uint32(st.Type)]
	return name, ok
}
