package shmtensor

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/shmtensor/shmtensor/internal/sys"
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
		if len(n.path) >= sys.PathMax {
			return bad(fmt.Sprintf("file path longer than %d bytes", sys.PathMax-1))
		}
		if why := badBase(filepath.Base(n.path)); why != "" {
			return bad(why)
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
	case len(n.path) > sys.MaxShmName:
		return bad(fmt.Sprintf("shm name longer than %d bytes", sys.MaxShmName))
	}
	if why := badBase(n.path); why != "" {
		return bad(why)
	}
	n.shm = true
	n.name = schemeShm + n.path
	return n, nil
}

// reservedPrefix starts every name the package itself makes next to
// segments; users' names may not start with it, so List never hides one of
// theirs and cleanup never touches one.
const reservedPrefix = ".shmtensor-"

// tempPrefix starts the temporary names of segments being created, and
// asidePrefix the private names Delete moves a segment to before removing it.
const (
	tempPrefix  = reservedPrefix + "creating-"
	asidePrefix = reservedPrefix + "deleting-"
)

// badBase says what is wrong with the last component of a name, or "".
// Control characters (bytes below 0x20 and DEL) are refused because a name
// holding a newline or a tab can forge rows in listings.
func badBase(base string) string {
	if strings.HasPrefix(base, reservedPrefix) {
		return fmt.Sprintf("%q starts with %q, which is reserved for the package's temporary names", base, reservedPrefix)
	}
	for i := 0; i < len(base); i++ {
		if c := base[i]; c < 0x20 || c == 0x7f {
			return fmt.Sprintf("%q contains the control character %#02x", base, c)
		}
	}
	return ""
}
