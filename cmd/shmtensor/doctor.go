package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

var cmdDoctor = &Command{
	UsageLine: "doctor [--json] [DIR]",
	Short:     "report the limits on segments: shm size, memory cgroup, mappings, open files",
	Long: `
Doctor reports what limits the segments you can make and hold open, each
with what it means, and exits 0. It describes the shared-memory filesystem
(/dev/shm on Linux), or the filesystem of the directory DIR for file://
names ("file://DIR" works too):

	filesystem     its type, mount point and options, among them a tmpfs's
	               size= and huge= (HugePages gets huge pages only with
	               huge=advise or huge=always)
	size           its size and free space: Docker gives /dev/shm 64 MiB
	               unless run with --shm-size
	memory cgroup  the limit and usage of the memory cgroup (of its level
	               that leaves the least room): tmpfs pages are charged to
	               it, and past it the kernel's OOM killer ends processes;
	               Create refuses a reservation past it with ENOSPC
	mappings       vm.max_map_count and the mappings of this process; Create
	               and Attach leave the last 1024 to the Go runtime
	open files     RLIMIT_NOFILE and the descriptors open now
	locked memory  RLIMIT_MEMLOCK, what Segment.Mlock can lock

and from these the largest segment a Create can reserve now and how many
more segments a process can hold open at once (each holds a descriptor and
a mapping). The process-wide figures are those of the doctor process: a
Go program starts with a few dozen mappings and descriptors more or less.

With --json it prints one object (see "shmtensor help json").
`,
	MaxArgs: 1,
}

var doctorJSON = cmdDoctor.Flag.Bool("json", false, "print a JSON object instead of text")

func init() { cmdDoctor.Run = runDoctor }

func runDoctor(_ *Command, args []string) error {
	dir := ""
	if len(args) == 1 {
		dir = strings.TrimPrefix(args[0], "file://")
	}
	l, err := shmtensor.ReadLimits(dir)
	if err != nil {
		return err
	}
	if *doctorJSON {
		return writeJSON(makeJSONLimits(l))
	}
	return writeDoctor(os.Stdout, l)
}

// writeDoctor prints the limits l, one a row, each with what it means.
func writeDoctor(w io.Writer, l shmtensor.Limits) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s:\t%s\n", k, fmt.Sprintf(format, args...)) }
	fs := l.FS
	if fs.MountPoint != "" {
		row("filesystem", "%s, %s mounted at %s (%s; %s)", escapeName(l.Dir), fs.Type, escapeName(fs.MountPoint), fs.Options, fs.SuperOptions)
	} else {
		row("filesystem", "%s, %s", escapeName(l.Dir), or(fs.Type, "type unknown"))
	}
	if fs.Size >= 0 {
		row("size", "%s, %s free%s", units.Bytes(fs.Size), units.Bytes(fs.Free), smallShm(l))
	} else {
		row("size", "unknown: the filesystem reports none (ramfs has no limit but memory)")
	}
	switch fs.HugePages {
	case "":
	case "advise", "always":
		row("huge pages", "huge=%s: HugePages() gets 2 MiB pages here", fs.HugePages)
	default:
		row("huge pages", "huge=%s: HugePages() gets small pages here (mount -o remount,huge=advise gives huge ones)", fs.HugePages)
	}
	c := l.Cgroup
	switch {
	case c.Version == 0:
		row("memory cgroup", "none found")
	case c.Limit < 0:
		row("memory cgroup", "v%d %s: no limit (%s charged to it)", c.Version, escapeName(c.Path), units.Bytes(c.Usage))
	default:
		row("memory cgroup", "v%d %s: limit %s (%s/%s), %s charged, room for about %s more: shared memory is charged to it, "+
			"and past it the kernel's OOM killer ends processes (a Create reserving past it fails with ENOSPC; "+
			"writes to Lazy segments past it are killed)",
			c.Version, escapeName(c.Path), units.Bytes(c.Limit), escapeName(c.Dir), c.LimitFile, units.Bytes(c.Usage), units.Bytes(c.Room))
	}
	if l.MaxMapCount > 0 {
		row("mappings", "vm.max_map_count %d; this process has %d; Create and Attach leave the last %d to the Go runtime "+
			"(sysctl vm.max_map_count=N raises it)", l.MaxMapCount, l.Mappings, l.MapHeadroom)
	} else {
		row("mappings", "no limit on the number of mappings known here")
	}
	row("open files", "RLIMIT_NOFILE %s (hard %s); %s open now (ulimit -n raises it up to the hard limit)",
		count(l.OpenFiles.Cur), count(l.OpenFiles.Max), count(l.OpenNow))
	row("locked memory", "RLIMIT_MEMLOCK %s (hard %s): the most Segment.Mlock can lock in all (root: no limit)",
		size(l.Memlock.Cur), size(l.Memlock.Max))
	switch {
	case l.LargestSegment < 0:
		row("largest tensor", "unknown")
	case fs.Tmpfs && c.Room >= 0 && c.Room == l.LargestSegment:
		row("largest tensor", "%s, header included, by the memory cgroup's room", units.Bytes(l.LargestSegment))
	default:
		row("largest tensor", "%s, header included, by the free space of %s", units.Bytes(l.LargestSegment), escapeName(l.Dir))
	}
	if l.MoreSegments >= 0 {
		by := "open files"
		if l.MaxMapCount > 0 && l.MoreSegments == max(l.MaxMapCount-l.Mappings-l.MapHeadroom, 0) {
			by = "mappings"
		}
		row("open tensors", "%d more at once in a process like this one, by its %s (each open segment holds a descriptor and a mapping)", l.MoreSegments, by)
	} else {
		row("open tensors", "no limit known")
	}
	return tw.Flush()
}

// smallShm warns of a /dev/shm smaller than 1 GiB, as Docker's 64 MiB.
func smallShm(l shmtensor.Limits) string {
	if l.Dir != "/dev/shm" || l.FS.Size >= 1<<30 {
		return ""
	}
	return " (small: docker run --shm-size=SIZE, a Kubernetes emptyDir with medium: Memory and a sizeLimit, or mount -o remount,size=SIZE /dev/shm gives more)"
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// count and size print a limit, -1 being unlimited.
func count(n int64) string {
	if n < 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

func size(n int64) string {
	if n < 0 {
		return "unlimited"
	}
	return units.Bytes(n)
}

// jsonLimits is the stable JSON form of shmtensor.Limits, documented in
// "shmtensor help json"; change it only compatibly.
type jsonLimits struct {
	Dir            string     `json:"dir"`
	FS             jsonFS     `json:"fs"`
	Cgroup         jsonCgroup `json:"cgroup"`
	MaxMapCount    int64      `json:"max_map_count"`
	Mappings       int64      `json:"mappings"`
	MapHeadroom    int64      `json:"map_headroom"`
	OpenFiles      jsonRlimit `json:"open_files"`
	OpenNow        int64      `json:"open_now"`
	Memlock        jsonRlimit `json:"memlock"`
	LargestSegment int64      `json:"largest_segment"`
	MoreSegments   int64      `json:"more_segments"`
}

type jsonFS struct {
	Type         string `json:"type"`
	MountPoint   string `json:"mount_point"`
	Options      string `json:"options"`
	SuperOptions string `json:"super_options"`
	HugePages    string `json:"huge_pages"`
	Size         int64  `json:"size"`
	Free         int64  `json:"free"`
	Tmpfs        bool   `json:"tmpfs"`
}

type jsonCgroup struct {
	Version   int    `json:"version"`
	Path      string `json:"path"`
	Dir       string `json:"dir"`
	LimitFile string `json:"limit_file"`
	Limit     int64  `json:"limit"`
	Usage     int64  `json:"usage"`
	Room      int64  `json:"room"`
}

type jsonRlimit struct {
	Cur int64 `json:"cur"`
	Max int64 `json:"max"`
}

func makeJSONLimits(l shmtensor.Limits) jsonLimits {
	return jsonLimits{
		Dir:            l.Dir,
		FS:             jsonFS(l.FS),
		Cgroup:         jsonCgroup(l.Cgroup),
		MaxMapCount:    l.MaxMapCount,
		Mappings:       l.Mappings,
		MapHeadroom:    l.MapHeadroom,
		OpenFiles:      jsonRlimit(l.OpenFiles),
		OpenNow:        l.OpenNow,
		Memlock:        jsonRlimit(l.Memlock),
		LargestSegment: l.LargestSegment,
		MoreSegments:   l.MoreSegments,
	}
}
