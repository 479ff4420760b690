package shmtensor

import (
	"errors"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReadLimits checks ReadLimits against statfs and getrlimit, and that
// opening one more segment uses up one of MoreSegments.
func TestReadLimits(t *testing.T) {
	l, err := ReadLimits("")
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil {
		t.Fatal(err)
	}
	if l.Dir != "/dev/shm" || !l.FS.Tmpfs || l.FS.Size != int64(st.Blocks)*int64(st.Bsize) || l.FS.MountPoint != "/dev/shm" {
		t.Errorf("filesystem %+v, statfs size %d", l.FS, int64(st.Blocks)*int64(st.Bsize))
	}
	var nofile unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile)
	if l.OpenFiles.Cur != int64(nofile.Cur) || l.OpenNow <= 0 || l.Mappings <= 0 || l.MaxMapCount <= 0 {
		t.Errorf("limits %+v, RLIMIT_NOFILE %d", l, nofile.Cur)
	}
	seg, err := Create[float64](uniqueName(t), []int{4})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	l2, err := ReadLimits("")
	if err != nil {
		t.Fatal(err)
	}
	if l2.OpenNow != l.OpenNow+1 || l2.Mappings < l.Mappings+1 {
		t.Errorf("with one more segment open: %d descriptors (was %d), %d mappings (was %d)", l2.OpenNow, l.OpenNow, l2.Mappings, l.Mappings)
	}
	if _, err := ReadLimits(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, ErrNotExist) {
		t.Errorf("ReadLimits of a missing directory: %v, want ErrNotExist", err)
	}
}
