package shmtensor

import (
	"errors"
	"io/fs"
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
	name := uniqueName(t)
	_, err := Create[int8](name, []int{1}, Mode(fs.ModeDir|0o600))
	if !errors.Is(err, fs.ErrInvalid) || !strings.Contains(err.Error(), "bits other than permissions") {
		t.Errorf("Mode with a type bit: %v, want fs.ErrInvalid", err)
	}
	if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
		t.Errorf("refused Create left %v", err)
	}
}
