package shmtensor

import (
	"fmt"
	"io/fs"
)

// Option configures Create, Import, Attach and Open.
type Option func(*options)

type options struct {
	readOnly bool
	mode     uint32
	modeErr  error
	lazy     bool
	layout   Layout
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
// other than the permission bits are refused: Create fails with an error
// matching fs.ErrInvalid, the standard library's sentinel for an invalid
// argument, since no sentinel of this package is about modes.
func Mode(perm fs.FileMode) Option {
	return func(o *options) {
		if perm&^fs.ModePerm != 0 {
			o.modeErr = fmt.Errorf("%w: mode %v has bits other than permissions", fs.ErrInvalid, perm)
			return
		}
		o.mode = uint32(perm)
	}
}

// Lazy makes Create size the segment without reserving its pages, as
// ftruncate alone does: Create is faster and untouched pages cost nothing,
// but if the filesystem fills up later, touching a page raises SIGBUS.
// Create still refuses a segment larger than the free space it sees.
func Lazy() Option { return func(o *options) { o.lazy = true } }

// SharedArrayLayout makes Create write Python SharedArray's layout (data at
// offset 0, a 292-byte trailer at the end) instead of NPY, so that
// SharedArray.attach opens the segment.
func SharedArrayLayout() Option { return func(o *options) { o.layout = SharedArray } }
