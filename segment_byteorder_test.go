//go:build linux || darwin || freebsd

package shmtensor

// Big-endian .npy files: valid numpy files this package does not map.

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBigEndianNPY: Stat and Attach refuse a big-endian .npy file with
// ErrDType saying it is big-endian and how numpy converts it (not "element
// type mismatch": no type was asked for); Delete removes it, as the valid
// .npy file it is, but still refuses one whose header lies about its size
// or names a type it does not know, and leaves those untouched.
func TestBigEndianNPY(t *testing.T) {
	be, err := os.ReadFile("testdata/npy/f64be_2.npy") // np.save of np.array([1.5, -2], dtype='>f8')
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "be.npy")
	if err := os.WriteFile(path, be, 0o600); err != nil {
		t.Fatal(err)
	}
	const says = "npy header: big-endian '>f8' data: shmtensor maps only native little-endian element types; numpy can convert it with arr.astype('<f8')"
	_, errStat := Stat("file://" + path)
	_, errAttach := Attach[float64]("file://" + path)
	_, errOpen := Open("file://" + path)
	for op, err := range map[string]error{"Stat": errStat, "Attach": errAttach, "Open": errOpen} {
		if !errors.Is(err, ErrDType) || !strings.Contains(err.Error(), says) || strings.Contains(err.Error(), ErrDType.Error()) {
			t.Errorf("%s of a big-endian .npy: %v; want ErrDType saying %q", op, err, says)
		}
	}
	if err := Delete("file://" + path); err != nil {
		t.Fatalf("Delete of a big-endian .npy: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Delete left the big-endian .npy: %v", err)
	}

	// Only a valid header counts: these stay.
	for base, c := range map[string]struct {
		content []byte
		err     error
	}{
		"short.npy":   {be[:len(be)-1], ErrNotTensor},                                       // 15 bytes of data for 16
		"lying.npy":   {bytes.Replace(be, []byte("(2,)"), []byte("(3,)"), 1), ErrNotTensor}, // 24 bytes claimed
		"unknown.npy": {bytes.Replace(be, []byte("'>f8'"), []byte("'>q8'"), 1), ErrDType},
	} {
		p := filepath.Join(dir, base)
		if err := os.WriteFile(p, c.content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Delete("file://" + p); !errors.Is(err, c.err) {
			t.Errorf("Delete(%s): %v, want %v", base, err, c.err)
		}
		if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, c.content) {
			t.Errorf("Delete(%s) touched the file: %v", base, err)
		}
	}
}
