//go:build linux

package shmtensor

// Segment names: parsing, and bad names refused before any system call.

import (
	"errors"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/sys"
)

func TestParseName(t *testing.T) {
	long := strings.Repeat("a", sys.MaxShmName+1)
	tests := []struct {
		in   string
		want string // canonical name; "" means invalid
		shm  bool
	}{
		{"prices", "shm://prices", true},
		{"shm://prices", "shm://prices", true},
		{"file://data/x.npy", "file://data/x.npy", false},
		{"file:///tmp/x", "file:///tmp/x", false},
		{"shm://a.b-c_d", "shm://a.b-c_d", true},
		{"", "", false},
		{"shm://", "", false},
		{"file://", "", false},
		{"shm://a/b", "", false},
		{"a/b", "", false},
		{".", "", false},
		{"..", "", false},
		{"shm://..", "", false},
		{"x\x00y", "", false},
		{"file://x\x00y", "", false},
		{"a\nb", "", false},
		{"shm://tab\there", "", false},
		{"del\x7f", "", false},
		{"file://dir/new\nline.npy", "", false},
		{"file://dir\n/x.npy", "file://dir\n/x.npy", false}, // only the last component is checked
		{tempPrefix + "x", "", false},
		{asidePrefix + "x", "", false},
		{".shmtensor-anything", "", false},
		{"file:///tmp/" + tempPrefix + "x.npy", "", false},
		{".shmtensorx", "shm://.shmtensorx", true},
		{".hidden", "shm://.hidden", true},
		{"http://x", "", false},
		{"s3://bucket/x", "", false},
		{long, "", false},
		{strings.Repeat("a", sys.MaxShmName), "shm://" + strings.Repeat("a", sys.MaxShmName), true},
	}
	for _, tt := range tests {
		n, err := parseName(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("parseName(%q) = %+v, %v; want ErrInvalidName", tt.in, n, err)
			}
			continue
		}
		if err != nil || n.name != tt.want || n.shm != tt.shm {
			t.Errorf("parseName(%q) = %+v, %v; want %q shm=%v", tt.in, n, err, tt.want, tt.shm)
		}
	}
}

func TestBadNamesNeverReachTheSystem(t *testing.T) {
	for _, name := range []string{"", "a/b", "../etc/passwd", "shm://..", "ftp://x", "x\x00"} {
		if _, err := Create[float64](name, []int{1}); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Create(%q): %v, want ErrInvalidName", name, err)
		}
		if _, err := Attach[float64](name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Attach(%q): %v, want ErrInvalidName", name, err)
		}
		if _, err := Stat(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Stat(%q): %v, want ErrInvalidName", name, err)
		}
		if err := Delete(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Delete(%q): %v, want ErrInvalidName", name, err)
		}
	}
}
