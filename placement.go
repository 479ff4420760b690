package shmtensor

import "github.com/shmtensor/shmtensor/internal/sys"

// advice is what Populate and HugePages ask of a mapping.
type advice = sys.Advice

const (
	advPopulate = sys.Populate // fault every page in at once
	advHuge     = sys.Huge     // madvise(MADV_HUGEPAGE)
)

// HugePageBytes returns how many bytes of the segment's mapping are mapped
// by huge pages (PMD mappings of 2 MiB on x86-64), as the kernel reports
// them in /proc/self/smaps (ShmemPmdMapped for tmpfs, FilePmdMapped for
// other files). It shows whether HugePages took effect: 0 means every page
// is small. Pages not yet touched count as not mapped. It fails with
// ErrNotSupported where the system does not report it (every system but
// Linux) and with ErrClosed once the segment is closed.
func (s *Segment) HugePageBytes() (int64, error) {
	var n int64
	err := s.memOp("hugepages", func(mem []byte) error {
		var err error
		n, err = sys.HugeBytes(mem)
		return err
	})
	return n, err
}
