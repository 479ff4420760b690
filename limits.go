package shmtensor

import (
	"errors"
	"strings"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// Limits are what bounds the segments this process can make and hold open,
// as ReadLimits finds them: the filesystem, the memory cgroup, the number of
// mappings and of open files, and the locked-memory limit. Sizes are in
// bytes; -1 stands for unknown, or for no limit where a field says so.
// "shmtensor doctor" prints them with what each means.
type Limits struct {
	// Dir is the directory described: the shm directory, or the one given
	// to ReadLimits.
	Dir string
	// FS is the filesystem holding Dir.
	FS FSLimits
	// Cgroup is this process's memory cgroup (Linux; Version 0 where there
	// is none). tmpfs pages are charged to the cgroup of the process that
	// allocates them, and past its limit the kernel OOM-kills.
	Cgroup CgroupLimits
	// MaxMapCount is vm.max_map_count (0 where the system has none),
	// Mappings this process's mappings now (-1 unknown), and MapHeadroom
	// how many mappings under the limit Create and Attach leave to the Go
	// runtime: they fail with ENOMEM instead.
	MaxMapCount, Mappings, MapHeadroom int64
	// OpenFiles is RLIMIT_NOFILE, and OpenNow the descriptors this process
	// has open (-1 unknown). Every open segment holds one; each lock on a
	// row range holds one more while it is held.
	OpenFiles Rlimit
	OpenNow   int64
	// Memlock is RLIMIT_MEMLOCK: the most Segment.Mlock can lock (root is
	// not limited).
	Memlock Rlimit
	// LargestSegment is the largest segment, header included, that a Create
	// in Dir can reserve now: the free space of FS, or the room left under
	// the memory cgroup's limit where that is less (on a tmpfs). -1 when
	// neither is known.
	LargestSegment int64
	// MoreSegments is how many more segments this process can hold open
	// at once: each takes one descriptor and one mapping, so it is the
	// smaller of the descriptors left under OpenFiles.Cur and the mappings
	// left under MaxMapCount less MapHeadroom. -1 when neither is known.
	MoreSegments int64
}

// FSLimits describes a filesystem.
type FSLimits struct {
	Type         string // "tmpfs", "ext4", ...; "" unknown
	MountPoint   string // "" unknown
	Options      string // the mount's options: "rw,nosuid,nodev"
	SuperOptions string // the filesystem's own: "rw,size=65536k,huge=advise" (Linux)
	// HugePages is a tmpfs's huge= setting: "never" (the default), "always",
	// "within_size" or "advise" (HugePages() gets huge pages only with
	// "advise" or "always"); "" on other filesystems.
	HugePages string
	// Size and Free are in bytes, -1 where the filesystem reports none
	// (ramfs); Free is what unprivileged users may use.
	Size, Free int64
	Tmpfs      bool // pages are memory, charged to the memory cgroup
}

// CgroupLimits describes the memory cgroup of this process through its
// tightest level: the one, itself or an ancestor, that leaves the least
// room; its own level where none sets a limit.
type CgroupLimits struct {
	Version   int    // 1 or 2; 0 without a memory cgroup
	Path      string // as /proc/self/cgroup names it
	Dir       string // the level's directory in cgroupfs
	LimitFile string // memory.max or memory.limit_in_bytes
	Limit     int64  // -1: no limit
	Usage     int64  // bytes charged to the level now
	// Room is what the level can still charge: Limit less Usage, plus the
	// file cache and free swap that reclaim could give back. -1: no limit.
	Room int64
}

// Rlimit is a resource limit: Cur, the soft limit, applies; a process may
// raise it up to Max. -1 stands for unlimited.
type Rlimit struct{ Cur, Max int64 }

// ReadLimits reports the limits on segments in dir, a directory for
// file:// names, or in shared memory when dir is "". The process-wide
// fields are those of the calling process.
func ReadLimits(dir string) (Limits, error) {
	l := Limits{Dir: dir, FS: FSLimits{Size: -1, Free: -1}, MapHeadroom: sys.MapHeadroom, LargestSegment: -1, MoreSegments: -1}
	if dir == "" && sys.ShmIsFile {
		l.Dir = sys.ShmDir
	}
	if l.Dir != "" {
		fs, err := sys.DirFS(l.Dir)
		if err != nil {
			return l, &Error{Op: "limits", Name: l.Dir, Err: limitsErrno(err)}
		}
		l.FS = fsLimits(fs)
	}
	l.Cgroup = cgroupLimits()
	l.MaxMapCount, l.Mappings = sys.MapCounts()
	nofile, memlock := sys.OpenFilesLimit(), sys.MemlockLimit()
	l.OpenFiles, l.Memlock = Rlimit(nofile), Rlimit(memlock)
	l.OpenNow = sys.OpenFiles()

	if l.FS.Free >= 0 {
		l.LargestSegment = l.FS.Free
	}
	if l.FS.Tmpfs && l.Cgroup.Room >= 0 && (l.LargestSegment < 0 || l.Cgroup.Room < l.LargestSegment) {
		l.LargestSegment = l.Cgroup.Room
	}
	more := func(n int64) {
		n = max(n, 0)
		if l.MoreSegments < 0 || n < l.MoreSegments {
			l.MoreSegments = n
		}
	}
	if l.OpenFiles.Cur >= 0 && l.OpenNow >= 0 {
		more(l.OpenFiles.Cur - l.OpenNow)
	}
	if l.MaxMapCount > 0 && l.Mappings >= 0 {
		more(l.MaxMapCount - l.Mappings - l.MapHeadroom)
	}
	return l, nil
}

func limitsErrno(err error) error {
	switch {
	case errors.Is(err, sys.ENOENT):
		return ErrNotExist
	case errors.Is(err, sys.EACCES), errors.Is(err, sys.EPERM):
		return permissionError(err)
	}
	return err
}

func fsLimits(fs sys.FS) FSLimits {
	f := FSLimits{Size: fs.Total, Free: fs.Free, Tmpfs: fs.Tmpfs}
	if fs.MountKnown {
		m := fs.Mount
		f.Type, f.MountPoint, f.Options, f.SuperOptions = m.FSType, m.Point, m.Options, m.SuperOptions
	}
	if fs.Tmpfs {
		f.HugePages = "never"
		for o := range strings.SplitSeq(f.SuperOptions, ",") {
			if v, ok := strings.CutPrefix(o, "huge="); ok {
				f.HugePages = v
			}
		}
		if f.Type == "" {
			f.Type = "tmpfs"
		}
	}
	return f
}

// cgroupLimits reads the memory cgroup afresh and picks its tightest level.
func cgroupLimits() CgroupLimits {
	cg, ok := sys.ReadMemoryCgroup()
	if !ok {
		return CgroupLimits{Limit: -1, Usage: -1, Room: -1}
	}
	own := cg.Levels[0]
	c := CgroupLimits{Version: cg.Version, Path: cg.Path, Dir: own.Dir, LimitFile: own.LimitFile, Limit: -1, Usage: own.Usage, Room: -1}
	swap := sys.SwapFree()
	for _, lv := range cg.Levels {
		if lv.Limit < 0 {
			continue
		}
		if room := cgroupRoom(lv, swap); c.Room < 0 || room < c.Room {
			c.Dir, c.LimitFile, c.Limit, c.Usage, c.Room = lv.Dir, lv.LimitFile, lv.Limit, lv.Usage, room
		}
	}
	return c
}
