package shmtensor

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// writeNPYWithHeader writes a version 1.0 .npy file of float64 data whose
// data starts at dataOff, the header dict padded with spaces to reach it.
func writeNPYWithHeader(t *testing.T, path string, dataOff int, data []float64) {
	t.Helper()
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': (" + strconv.Itoa(len(data)) + ",), }"
	hlen := dataOff - 10
	buf := make([]byte, dataOff+8*len(data))
	copy(buf, npyMagic)
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
// second pass; a header past npyMaxPrefix is still refused.
func TestAttachHeaderLongerThanAPage(t *testing.T) {
	for _, off := range []int{128, npyDataOffset, npyDataOffset + 64, 3 * npyDataOffset, 65536} {
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
	binary.LittleEndian.PutUint16(b[8:], 65535) // data would start past npyMaxPrefix
	b = append(b[:10+65535], make([]byte, 8)...)
	os.WriteFile(path, b, 0o600)
	if _, err := Attach[float64](name); !errors.Is(err, ErrNotTensor) {
		t.Errorf("header past %d bytes: %v, want ErrNotTensor", npyMaxPrefix, err)
	}
}
