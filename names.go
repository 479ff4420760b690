package shmtensor

import (
	"fmt"
	"strings"
)

const (
	schemeShm  = "shm://"
	schemeFile = "file://"
)

// segName is a parsed, validated segment name.
type segName struct {
	shm  bool
	name string // canonical: "shm://x" or "file://path"
	path string // the shm object name (no slash) or the file path
}

// parseName validates a name before any system call: shm://NAME, NAME (a
// shm name, as in SharedArray) or file://PATH.
func parseName(s string) (segName, error) {
	bad := func(why string) (segName, error) {
		return segName{}, fmt.Errorf("%w: %s", ErrInvalidName, why)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return bad("contains a NUL byte")
	}
	var n segName
	switch {
	case strings.HasPrefix(s, schemeFile):
		n.path = s[len(schemeFile):]
		if n.path == "" {
			return bad("empty file path")
		}
		if len(n.path) >= maxPath {
			return bad(fmt.Sprintf("file path longer than %d bytes", maxPath-1))
		}
		n.name = s
		return n, nil
	case strings.HasPrefix(s, schemeShm):
		n.path = s[len(schemeShm):]
	case strings.Contains(s, "://"):
		return bad(fmt.Sprintf("unknown scheme in %q (want shm:// or file://)", s))
	default:
		n.path = s
	}
	switch {
	case n.path == "":
		return bad("empty name")
	case n.path == "." || n.path == "..":
		return bad(fmt.Sprintf("%q is not a segment name", n.path))
	case strings.IndexByte(n.path, '/') >= 0:
		return bad(fmt.Sprintf("shm name %q contains '/' (use file:// for paths)", n.path))
	case len(n.path) > maxShmName:
		return bad(fmt.Sprintf("shm name longer than %d bytes", maxShmName))
	}
	n.shm = true
	n.name = schemeShm + n.path
	return n, nil
}

// tempPrefix starts the temporary names of segments being created.
const tempPrefix = ".shmtensor-creating-"
