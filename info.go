package shmtensor

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/strided"
)

// Info describes a segment, as read from its header by Stat and List.
type Info struct {
	// Name is the segment's name with its scheme: "shm://x",
	// "file://data/x.npy".
	Name string
	// DType is the element type.
	DType DType
	// Shape is the shape.
	Shape []int
	// Size is the number of bytes of the whole segment, header included.
	Size int64
	// Layout is the on-segment format.
	Layout Layout
	// Mode is the permission bits.
	Mode fs.FileMode
	// Fortran reports column-major data (NPY segments written that way).
	Fortran bool
	// DataOffset is the byte offset of the first element.
	DataOffset int64
	// ModTime is the last modification of the segment's metadata or size.
	ModTime time.Time
	// UID and GID are the owner's user and group ids.
	UID, GID uint32
	// ID identifies the file itself: it tells two segments under one name
	// apart.
	ID FileID

	// Reserved reports whether storage is allocated for every byte of the
	// segment (st_blocks × 512 ≥ Size). It is false for a segment created
	// with Lazy whose pages were not all written: a reader touching such a
	// page on a full filesystem gets SIGBUS, which Attach with Reserve()
	// prevents. Filesystems that compress or deduplicate may report false
	// for a segment whose pages are all written.
	Reserved bool

	// Kind tells a plain tensor segment from a channel (CreateChannel),
	// whose Shape is then (slots, *message shape): see StatChannel.
	Kind Kind
}

// Kind is what a segment holds.
type Kind uint8

const (
	// KindTensor is a segment holding one tensor.
	KindTensor Kind = iota
	// KindChannel is a channel: a ring of messages and its control area.
	KindChannel
	// KindBundle is a bundle of named tensors (CreateBundle): Shape is
	// then the length of its data in bytes; see StatBundle.
	KindBundle
)

// String returns "tensor", "channel" or "bundle".
func (k Kind) String() string {
	switch k {
	case KindTensor:
		return "tensor"
	case KindChannel:
		return "channel"
	case KindBundle:
		return "bundle"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// FileID identifies a file: its device and inode numbers (or what the
// system has in their place). Two segments with equal IDs are the same
// file, whatever their names; a name whose ID changed holds a new segment.
type FileID struct {
	// Dev and Ino are the device and inode numbers.
	Dev, Ino uint64
}

// Strides returns the strides, in elements, of the segment's data as
// stored (see Segment.Strides).
func (in Info) Strides() []int { return strided.Strides(in.Shape, in.Fortran) }

// Stat reads a segment's header without mapping it.
func Stat(name string) (Info, error) {
	n, err := parseName(name)
	if err != nil {
		return Info{}, &Error{Op: "stat", Name: name, Err: err}
	}
	info, err := statName(n)
	if err != nil {
		return Info{}, &Error{Op: "stat", Name: n.name, Err: err}
	}
	return info, nil
}

func statName(n segName) (Info, error) {
	f, err := openFile(n, false)
	if err != nil {
		return Info{}, err
	}
	defer f.close()
	h, err := readHeader(f)
	if err != nil {
		return Info{}, err
	}
	return makeInfo(n, h, f), nil
}

func makeInfo(n segName, h header, f *file) Info {
	return Info{
		Name:       n.name,
		DType:      DType(h.DType),
		Shape:      h.Shape,
		Size:       f.size,
		Layout:     Layout(h.Layout),
		Mode:       f.perm,
		Fortran:    h.Fortran,
		DataOffset: h.DataOff,
		ModTime:    f.modTime,
		UID:        f.uid,
		GID:        f.gid,
		ID:         f.id,
		Reserved:   f.blocks*512 >= f.size,
		Kind:       kindOf(h, f),
	}
}

// kindOf reads, for a file longer than its data, whether a channel's
// control area follows it.
func kindOf(h header, f *file) Kind {
	if h.Layout == codec.Safetensors {
		return KindBundle
	}
	if f.size > h.DataOff+h.DataLen && isChannelFile(f, h, f.size) {
		return KindChannel
	}
	return KindTensor
}

// List returns every tensor segment in shared memory, sorted by name.
// Objects that are not tensor segments (other programs' shm, unreadable
// ones, broken segments: see ListBroken) are skipped, and so are names the
// package refuses (holding control characters, or starting with the
// ".shmtensor-" of its temporary files). Where the system cannot enumerate
// shared memory (macOS, FreeBSD) it fails with ErrNotSupported; file://
// segments are not listed (use Stat).
func List() ([]Info, error) {
	names, err := listShm()
	if err != nil {
		return nil, &Error{Op: "list", Err: err}
	}
	var out []Info
	for _, name := range names {
		n, err := parseName(schemeShm + name)
		if err != nil {
			continue
		}
		info, err := statName(n)
		if err != nil {
			continue
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
