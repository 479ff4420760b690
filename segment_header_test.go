//go:build linux

package shmtensor

// Segments whose .npy header is long, or longer than a page.

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/codec"
)

// TestLongNPYHeader: a version 2.0 header longer than the page readHeader
// reads first is read in full.
func TestLongNPYHeader(t *testing.T) {
	dict := "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"
	hlen := 20000 - 12
	text := dict + strings.Repeat(" ", hlen-len(dict)-1) + "\n"
	b := append([]byte("\x93NUMPY\x02\x00"), byte(hlen), byte(hlen>>8), 0, 0)
	b = append(b, text...)
	b = append(b, 7, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0)
	path := filepath.Join(t.TempDir(), "long.npy")
	os.WriteFile(path, b, 0o600)
	a, err := Attach[int32]("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Segment().hdr.DataOff != 20000 || a.At(2) != 9 {
		t.Fatalf("data offset %d, a[2] = %d", a.Segment().hdr.DataOff, a.At(2))
	}
	// The same header cut short is refused.
	os.WriteFile(path, b[:15000], 0o600)
	if _, err := Attach[int32]("file://" + path); !errors.Is(err, ErrNotTensor) {
		t.Fatalf("truncated long header: %v", err)
	}
}

// writeNPYWithHeader writes a version 1.0 .npy file of float64 data whose
// data starts at dataOff, the header dict padded with spaces to reach it.
func writeNPYWithHeader(t *testing.T, path string, dataOff int, data []float64) {
	t.Helper()
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': (" + strconv.Itoa(len(data)) + ",), }"
	hlen := dataOff - 10
	buf := make([]byte, dataOff+8*len(data))
	copy(buf, codec.NPYMagic)
	buf[6], buf[7] = 1, 0
	binary.LittleEndian.PutUint16(buf[8:], uint16(hlen))
	copy(buf[10:], dict+strings.Repeat(" ", hlen-len(dict)-1)+"\n")
	for i, v := range data {
		binary.LittleEndian.PutUint64(buf[dataOff+8*i:], math.Float64bits(v))
	}
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Headers longer than the first page that readHeader reads are read in a
// second pass; a header past codec.NPYMaxPrefix is still refused.
func TestAttachHeaderLongerThanAPage(t *testing.T) {
	for _, off := range []int{128, codec.NPYDataOffset, codec.NPYDataOffset + 64, 3 * codec.NPYDataOffset, 65536} {
		name := tempFileName(t, "long.npy")
		writeNPYWithHeader(t, name[len(schemeFile):], off, []float64{1.5, 2.5, 3.5})
		x, err := Attach[float64](name)
		if err != nil {
			t.Fatalf("data at %d: %v", off, err)
		}
		if got := x.Data(); len(got) != 3 || got[0] != 1.5 || got[2] != 3.5 {
			t.Errorf("data at %d: got %v", off, got)
		}
		x.Close()
	}
	name := tempFileName(t, "huge.npy")
	path := name[len(schemeFile):]
	writeNPYWithHeader(t, path, 65536, []float64{1})
	b, _ := os.ReadFile(path)
	binary.LittleEndian.PutUint16(b[8:], 65535) // data would start past codec.NPYMaxPrefix
	b = append(b[:10+65535], make([]byte, 8)...)
	os.WriteFile(path, b, 0o600)
	if _, err := Attach[float64](name); !errors.Is(err, ErrNotTensor) {
		t.Errorf("header past %d bytes: %v, want ErrNotTensor", codec.NPYMaxPrefix, err)
	}
}
