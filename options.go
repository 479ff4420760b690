package shmtensor

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// Option configures Create, Import, Attach and Open.
type Option func(*options)

type options struct {
	readOnly bool
	mode     uint32
	modeErr  error
	lazy     bool
	layout   Layout
	populate bool
	huge     bool
	anyOwner bool
	reserve  bool

	unpublished bool

	// Set by CreateChannel: the file goes on, past the data's last page, by
	// tail bytes, and prepare runs on the new file before it gets its name.
	tail    int64
	prepare func(fd int, mem []byte) error

	// Channel settings (channel.go).
	slots, maxSubs int
	policy         Policy
	fromNewest     bool
}

func buildOptions(opts []Option) options {
	o := options{mode: 0o600, layout: NPY}
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// ReadOnly maps the segment without write permission (PROT_READ on a
// descriptor opened O_RDONLY). Set, Fill and the other write methods of its
// tensors panic with ErrReadOnly instead of faulting; those that return an
// error (CopyFrom, Dense and the other gonum conversions, which hand out
// writable matrices) return one wrapping ErrReadOnly. Slices from Data must
// only be read.
func ReadOnly() Option { return func(o *options) { o.readOnly = true } }

// Mode sets the permission bits of a segment made by Create or Import. They
// are set exactly, whatever the process umask. The default is 0600. Bits
// other than the permission bits 0o777 are refused before any system call:
// Create fails with an error matching fs.ErrInvalid, the standard library's
// sentinel for an invalid argument (no sentinel of this package is about
// modes), naming the bits. A segment is a regular file of data, so file
// type bits (fs.ModeDir, ...) cannot describe it, and setuid, setgid and
// sticky bits, whether as Unix numbers (04755) or as fs.ModeSetuid and its
// kin, mean nothing for it or would only mislead.
func Mode(perm fs.FileMode) Option {
	return func(o *options) {
		if perm&^fs.ModePerm != 0 {
			o.modeErr = modeError(perm)
			return
		}
		o.mode = uint32(perm)
	}
}

// modeBits names the bits Mode refuses, in the order modeError lists them.
var modeBits = []struct {
	bit  fs.FileMode
	name string
}{
	{0o4000, "setuid (04000)"}, {0o2000, "setgid (02000)"}, {0o1000, "sticky (01000)"},
	{fs.ModeSetuid, "fs.ModeSetuid"}, {fs.ModeSetgid, "fs.ModeSetgid"}, {fs.ModeSticky, "fs.ModeSticky"},
	{fs.ModeDir, "fs.ModeDir"}, {fs.ModeSymlink, "fs.ModeSymlink"}, {fs.ModeNamedPipe, "fs.ModeNamedPipe"},
	{fs.ModeSocket, "fs.ModeSocket"}, {fs.ModeDevice, "fs.ModeDevice"}, {fs.ModeCharDevice, "fs.ModeCharDevice"},
	{fs.ModeIrregular, "fs.ModeIrregular"}, {fs.ModeAppend, "fs.ModeAppend"},
	{fs.ModeExclusive, "fs.ModeExclusive"}, {fs.ModeTemporary, "fs.ModeTemporary"},
}

// modeError says which bits of perm Mode refuses, and why.
func modeError(perm fs.FileMode) error {
	var names []string
	rest := perm &^ fs.ModePerm
	for _, b := range modeBits {
		if rest&b.bit != 0 {
			names = append(names, b.name)
			rest &^= b.bit
		}
	}
	if rest != 0 {
		names = append(names, fmt.Sprintf("%#o", uint32(rest)))
	}
	return fmt.Errorf("%w: Mode(%#o) sets %s: only the permission bits 0777 are allowed (a segment is a regular file of data: file type, setuid, setgid and sticky bits do not apply to it)",
		fs.ErrInvalid, uint32(perm), strings.Join(names, ", "))
}

// Lazy makes Create size the segment without reserving its pages, as
// ftruncate alone does: Create is faster and untouched pages cost nothing,
// but if the filesystem fills up later, touching a page raises SIGBUS, and
// a write to a page of a tmpfs that the writer's memory cgroup has no room
// for brings the kernel's OOM killer. Create still refuses a segment larger
// than the free space it sees; it does not check the cgroup, since the
// pages are charged to whichever process touches them first.
func Lazy() Option { return func(o *options) { o.lazy = true } }

// SharedArrayLayout makes Create write Python SharedArray's layout (data at
// offset 0, a 292-byte trailer at the end) instead of NPY, so that
// SharedArray.attach opens the segment.
func SharedArrayLayout() Option { return func(o *options) { o.layout = SharedArray } }

// Populate makes Create and Attach fault in every page of the mapping at
// once, instead of one page fault at first touch of each page (4 KiB on
// /dev/shm). It trades a longer Create or Attach for code that then runs at
// memory speed from its first pass: writing every page of a resident 1 GiB
// segment after an attach with Populate is several times faster than taking
// the faults one by one (see docs/PERFORMANCE.md). It is opt-in because the
// cost is paid even for pages never touched.
//
// On Linux, Populate maps with MAP_POPULATE, or, with HugePages, faults the
// advised mapping in with MADV_POPULATE_READ (Linux 5.14 or later; on older
// kernels the pages are faulted in at first touch instead). A read fault
// on tmpfs maps the page writable, so this serves writable mappings too and
// was measured faster than MADV_POPULATE_WRITE. On FreeBSD and macOS it asks
// with MADV_WILLNEED, which maps what is resident where the system does
// that. Populate is never an error: where the system cannot populate, pages
// fault in on first touch as without it.
func Populate() Option { return func(o *options) { o.populate = true } }

// HugePages asks for transparent huge pages (2 MiB on x86-64) for the
// mapping with madvise(MADV_HUGEPAGE): one TLB entry and one page fault then
// cover 512 small pages. The filesystem decides whether it hands out huge
// pages: on Linux a tmpfs mounted with huge=advise honours the request,
// huge=always and huge=within_size give them to every mapping, and the
// default /dev/shm (huge=never) and disk filesystems give none. HugePages
// is never an error where huge pages are unavailable; Segment.HugePageBytes
// reports how much of a mapping they actually back.
//
// On a huge=advise tmpfs, pages reserved before any advised mapping exists
// are small, so Create with HugePages on tmpfs reserves its pages through
// the advised mapping (MADV_POPULATE_WRITE) instead of with fallocate; on a
// kernel older than 5.14 it falls back to fallocate, and the pages are small.
// It does so on every tmpfs, /dev/shm included, so such a Create also leaves
// every page mapped, as Populate would. Reserve on Attach allocates missing
// pages with fallocate, which gives small pages on a huge=advise mount.
// The page size is fixed when a page is allocated: any Attach maps pages
// that are already huge as huge pages, with or without HugePages. On
// Attach, HugePages matters for the pages the attach itself allocates
// (untouched pages of a Lazy segment) and lets khugepaged collapse small
// pages of the mapping later.
func HugePages() Option { return func(o *options) { o.huge = true } }

// advice is what Populate and HugePages ask of a mapping.
type advice = sys.Advice

const (
	advPopulate = sys.Populate // fault every page in at once
	advHuge     = sys.Huge     // madvise(MADV_HUGEPAGE)
)

// advice returns the placement requests among the options.
func (o *options) advice() advice {
	var a advice
	if o.populate {
		a |= advPopulate
	}
	if o.huge {
		a |= advHuge
	}
	return a
}

// AnyOwner lets Attach and Open map a segment owned by a user other than
// the caller and root. Without it they refuse one with ErrPermission: any
// user can create a name in /dev/shm before its intended creator does
// (Create then fails with ErrExist), and the owner of a mapped file can
// truncate it under the mapping, killing every process that then touches a
// page past the new end with SIGBUS. Segments owned by root stay
// attachable, as root can do that anyway. For root, a segment owned by any
// other user is foreign.
func AnyOwner() Option { return func(o *options) { o.anyOwner = true } }

// Reserve makes Attach and Open allocate every page of the segment that is
// not yet allocated (fallocate, which keeps the data), as Create does
// without Lazy: a reader of a segment created with Lazy then gets ENOSPC
// from Attach on a full filesystem instead of SIGBUS when it touches a page.
// Info.Reserved tells whether a segment needs it. It needs write
// permission on the segment, even with ReadOnly, and fails with
// ErrNotSupported where the filesystem cannot preallocate (FreeBSD and
// macOS shm objects).
func Reserve() Option { return func(o *options) { o.reserve = true } }
