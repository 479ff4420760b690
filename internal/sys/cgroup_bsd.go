//go:build darwin || freebsd

package sys

// CgroupLevel and MemoryCgroup describe a Linux memory cgroup; these
// systems have none (FreeBSD's rctl limits are not charged for shm pages
// the same way and are not read).
type CgroupLevel struct {
	Dir, LimitFile     string
	Limit, Usage, File int64
}

type MemoryCgroup struct {
	Version int
	Path    string
	Levels  []CgroupLevel
}

// ReadMemoryCgroup reports that there is no memory cgroup.
func ReadMemoryCgroup() (MemoryCgroup, bool) { return MemoryCgroup{}, false }

// Refresh returns l.
func (l CgroupLevel) Refresh() CgroupLevel { return l }

// SwapFree is not needed without cgroups.
func SwapFree() int64 { return 0 }
