//go:build linux

package shmtensor

// The layout rule: files carrying both layouts' magic, and the helpers
// that build such files (torture_test.go uses them too).

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/shmtensor/shmtensor/internal/codec"
)

// testNPYHeader returns the 4096-byte NPY header Create writes.
func testNPYHeader(dt DType, shape []int, fortran bool) ([]byte, error) {
	h, err := newHeader(NPY, dt, shape, fortran)
	if err != nil {
		return nil, err
	}
	return codec.EncodeNPYHeader(h, codec.NPYDataOffset), nil
}

// testSATrailer returns the SharedArray trailer Create writes.
func testSATrailer(dt DType, shape []int) ([]byte, error) {
	h, err := newHeader(SharedArray, dt, shape, false)
	if err != nil {
		return nil, err
	}
	return codec.EncodeSATrailer(h), nil
}

// saFile returns the bytes of a SharedArray-layout file holding data as a
// uint8 array.
func saFile(t *testing.T, data []byte) []byte {
	t.Helper()
	tr, err := testSATrailer(Uint8, []int{len(data)})
	if err != nil {
		t.Fatal(err)
	}
	return append(bytes.Clone(data), tr...)
}

// npyWrapping returns the bytes of an NPY-layout file (as Create writes it)
// holding data as a uint8 array.
func npyWrapping(t *testing.T, data []byte) []byte {
	t.Helper()
	h, err := testNPYHeader(Uint8, []int{len(data)}, false)
	if err != nil {
		t.Fatal(err)
	}
	return append(h, data...)
}

// TestLayoutRule: a file carrying both layouts' magic is read as the
// layout that explains more of its bytes, in both directions.
func TestLayoutRule(t *testing.T) {
	inner, err := testNPYHeader(Float64, []int{3, 4}, false)
	if err != nil {
		t.Fatal(err)
	}
	wholeNPY := append(inner, make([]byte, 96)...)
	saInner := saFile(t, []byte("0123456789abcdef"))
	// Crafted to be both: an NPY header whose data runs to the end of the
	// file, and a trailer whose data is everything before it.
	const size = 8192
	crafted := make([]byte, size)
	h, _ := testNPYHeader(Uint8, []int{size - codec.NPYDataOffset}, false)
	copy(crafted, h)
	tr, _ := testSATrailer(Uint8, []int{size - codec.SATrailerSize})
	copy(crafted[size-codec.SATrailerSize:], tr)

	cases := []struct {
		name   string
		file   []byte
		layout Layout
		data   []byte
	}{
		{"sharedarray holding a whole .npy file", saFile(t, wholeNPY), SharedArray, wholeNPY},
		{"sharedarray holding only the npy magic", saFile(t, []byte(codec.NPYMagic)), SharedArray, []byte(codec.NPYMagic)},
		{"sharedarray holding a broken npy header", saFile(t, []byte("\x93NUMPY\x09\x09garbage")), SharedArray, []byte("\x93NUMPY\x09\x09garbage")},
		{"npy holding a sharedarray file", npyWrapping(t, saInner), NPY, saInner},
		{"npy holding a broken sharedarray trailer", npyWrapping(t, append([]byte("[SharedArray]\x00\x00\x00"), make([]byte, 276)...)), NPY, append([]byte("[SharedArray]\x00\x00\x00"), make([]byte, 276)...)},
		{"crafted to be both", crafted, NPY, crafted[codec.NPYDataOffset:]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := uniqueName(t)
			if err := os.WriteFile(filepath.Join("/dev/shm", name), c.file, 0o600); err != nil {
				t.Fatal(err)
			}
			info, err := Stat(name)
			if err != nil || info.Layout != c.layout {
				t.Fatalf("Stat: %+v, %v; want layout %v", info, err, c.layout)
			}
			a, err := Attach[uint8](name)
			if err != nil {
				t.Fatalf("Attach: %v", err)
			}
			if got := a.Data(); !bytes.Equal(got, c.data) || a.Segment().Layout() != c.layout {
				t.Errorf("Attach read %d bytes as %v, want %d bytes as %v", len(got), a.Segment().Layout(), len(c.data), c.layout)
			}
			a.Close()
			list, err := List()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, in := range list {
				found = found || in.Name == "shm://"+name
			}
			if !found {
				t.Errorf("List leaves it out")
			}
			if err := Delete(name); err != nil {
				t.Fatalf("Delete: %v", err)
			}
		})
	}
}
