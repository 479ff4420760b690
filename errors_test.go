package shmtensor

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
)

func TestParseDTypeErrors(t *testing.T) {
	for _, c := range []struct{ s, msg string }{
		{"flaot64", `shmtensor: parse dtype: unknown element type "flaot64"`},
		{">f8", `shmtensor: parse dtype: big-endian element type ">f8" is not supported`},
		{"", `shmtensor: parse dtype: empty element type`},
	} {
		_, err := ParseDType(c.s)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrDType) || err.Error() != c.msg {
			t.Errorf("ParseDType(%q): %v; want an *Error wrapping ErrDType saying %q", c.s, err, c.msg)
		}
	}
}

func TestModeErrors(t *testing.T) {
	for _, c := range []struct {
		mode fs.FileMode
		says string
	}{
		{0o4755, "sets setuid (04000):"},
		{0o2755, "sets setgid (02000):"},
		{0o1777, "sets sticky (01000):"},
		{0o7777, "sets setuid (04000), setgid (02000), sticky (01000):"},
		{fs.ModeDir | 0o755, "sets fs.ModeDir:"},
		{fs.ModeDir | 0o600, "sets fs.ModeDir:"},
		{fs.ModeSetuid | 0o755, "sets fs.ModeSetuid:"},
		{fs.ModeSymlink | fs.ModeSticky, "sets fs.ModeSticky, fs.ModeSymlink:"},
		{fs.ModeNamedPipe, "sets fs.ModeNamedPipe:"},
		{1 << 12, "sets 010000:"}, // a bit neither Unix nor io/fs defines
	} {
		name := uniqueName(t)
		_, err := Create[int8](name, []int{1}, Mode(c.mode))
		if !errors.Is(err, fs.ErrInvalid) || !strings.Contains(err.Error(), c.says) ||
			!strings.Contains(err.Error(), "only the permission bits 0777 are allowed") {
			t.Errorf("Mode(%#o): %v, want fs.ErrInvalid saying %q and why", uint32(c.mode), err, c.says)
		}
		if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
			t.Errorf("Mode(%#o): refused Create left %v", uint32(c.mode), err)
			Delete(name)
		}
		// file:// names are refused the same way, before any file is made.
		dir := t.TempDir()
		if _, err := Create[int8]("file://"+dir+"/x.npy", []int{1}, Mode(c.mode)); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Mode(%#o) on a file: %v, want fs.ErrInvalid", uint32(c.mode), err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("Mode(%#o): refused Create left %d files in %s", uint32(c.mode), len(ents), dir)
		}
	}
	for _, perm := range []fs.FileMode{0o400, 0o640, 0o777} {
		name := uniqueName(t)
		tn, err := Create[int8](name, []int{1}, Mode(perm))
		if err != nil {
			t.Errorf("Mode(%#o): %v", uint32(perm), err)
			continue
		}
		tn.Close()
		if info, err := Stat(name); err != nil || info.Mode != perm {
			t.Errorf("Mode(%#o): segment has mode %v (%v)", uint32(perm), info.Mode, err)
		}
		Delete(name)
	}
}
