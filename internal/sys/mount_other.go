//go:build !linux && !darwin && !freebsd

package sys

// Mount describes a mounted filesystem; nothing reports one here.
type Mount struct {
	Dev          uint64
	Root         string
	Point        string
	Options      string
	FSType       string
	Source       string
	SuperOptions string
}

// MountOfFD reports that the mount is unknown.
func MountOfFD(fd int) (Mount, bool) { return Mount{}, false }
