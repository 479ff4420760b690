//go:build linux

package shmtensor

// Hostile bundle files at the public boundary: hand-made files in
// /dev/shm, and bundles truncated or extended after creation, are refused
// by AttachBundle and StatBundle with ErrNotTensor before anything is
// mapped, never with a panic or a fault, and Delete leaves them in place.
// (internal/codec's TestParseSafetensorsHostile covers the header parser
// case by case.)

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeShm writes a file of the 8-byte length of hdr, hdr and data bytes
// of data under a fresh test name and returns the name.
func writeShm(t *testing.T, hdr string, data []byte) string {
	t.Helper()
	name := uniqueName(t)
	f := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	f = append(append(f, hdr...), data...)
	if err := os.WriteFile(filepath.Join("/dev/shm", name), f, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// checkRefused checks that every reader of the package refuses name with
// an error wrapping ErrNotTensor containing want, and that the file is
// still there afterwards.
func checkRefused(t *testing.T, name, want string, dtype bool) {
	t.Helper()
	for _, opts := range [][]Option{nil, {ReadOnly()}} {
		b, err := AttachBundle(name, opts...)
		if err == nil {
			b.Close()
			t.Fatalf("AttachBundle%v accepted it", opts)
		}
		if !errors.Is(err, ErrNotTensor) || !strings.Contains(err.Error(), want) || b != nil {
			t.Fatalf("AttachBundle: %v, want ErrNotTensor containing %q", err, want)
		}
		if dtype && !errors.Is(err, ErrDType) {
			t.Fatalf("AttachBundle: %v, want ErrDType too", err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Op != "attach-bundle" {
			t.Fatalf("AttachBundle: %T %v, not an *Error of attach-bundle", err, err)
		}
	}
	if _, err := StatBundle(name); !errors.Is(err, ErrNotTensor) || !strings.Contains(err.Error(), want) {
		t.Fatalf("StatBundle: %v, want ErrNotTensor containing %q", err, want)
	}
	if _, err := Stat(name); err == nil {
		t.Fatalf("Stat accepted it")
	}
	if err := Delete(name); err == nil {
		t.Fatalf("Delete removed it")
	}
	if _, err := os.Stat(filepath.Join("/dev/shm", name)); err != nil {
		t.Fatalf("the file is gone: %v", err)
	}
}

func TestBundleHostileFiles(t *testing.T) {
	u8 := func(name string, n int, b, e int) string {
		return `"` + name + `":{"dtype":"U8","shape":[` + strconv.Itoa(n) + `],"data_offsets":[` + strconv.Itoa(b) + `,` + strconv.Itoa(e) + `]}`
	}
	for _, c := range []struct {
		name, hdr string
		data      int
		want      string
		dtype     bool
	}{
		{"overlap", "{" + u8("a", 4, 0, 4) + "," + u8("b", 4, 2, 6) + "}", 6, "overlaps", false},
		{"hole", "{" + u8("a", 4, 0, 4) + "," + u8("b", 4, 6, 10) + "}", 10, "hole", false},
		{"offsets past the end", "{" + u8("a", 4, 0, 4) + "," + u8("b", 4, 4, 8) + "}", 6, "cover 8 bytes", false},
		{"trailing garbage after the data", "{" + u8("a", 4, 0, 4) + "}", 4096, "cover 4 bytes", false},
		{"overflowing shape", `{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, 8, `tensor "a"`, false},
		{"empty with huge axes", `{"a":{"dtype":"F64","shape":[0,1073741824,1073741824,1073741824],"data_offsets":[0,0]}}`, 0, "too large", false}, // each axis fits a 32-bit int
		{"an axis past int", `{"a":{"dtype":"F64","shape":[0,18446744073709551615],"data_offsets":[0,0]}}`, 0, "is not a size", false},
		{"duplicate key", "{" + u8("a", 1, 0, 1) + "," + u8("a", 1, 1, 2) + "}", 2, "twice", false},
		{"duplicate field", `{"a":{"dtype":"U8","dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, 8, "twice", false},
		{"unknown dtype", `{"a":{"dtype":"C128","shape":[1],"data_offsets":[0,16]}}`, 16, "C128", true},
		{"non-UTF-8", "{\"__metadata__\":{\"k\":\"\xff\"}}", 0, "UTF-8", false},
		{"nested metadata", `{"__metadata__":{"k":{"a":"b"}}}`, 0, "not a string", false},
		{"negative offset", `{"a":{"dtype":"U8","shape":[4],"data_offsets":[-1,3]}}`, 4, "not a range", false},
		{"float offset", `{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4.0]}}`, 4, "not a range", false},
		{"exponent dim", `{"a":{"dtype":"U8","shape":[4e0],"data_offsets":[0,4]}}`, 4, "not a size", false},
		{"string dim", `{"a":{"dtype":"U8","shape":["4"],"data_offsets":[0,4]}}`, 4, "not a size", false},
		{"leading zeros", `{"a":{"dtype":"U8","shape":[04],"data_offsets":[0,4]}}`, 4, "", false},
		{"trailing garbage after the header", `{} x`, 0, "after the object", false},
		{"two objects", `{}{}`, 0, "after the object", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkRefused(t, writeShm(t, c.hdr, make([]byte, c.data)), c.want, c.dtype)
		})
	}

	// Header lengths the file cannot hold, or beyond the limit.
	for _, c := range []struct {
		name string
		n    uint64
		size int
	}{
		{"100 MB header in a small file", 100_000_000, 4096},
		{"one past the limit", 100_000_001, 4096},
		{"one past the file", 4096 - 8 + 1, 4096},
		{"all ones", 1<<64 - 1, 4096},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := uniqueName(t)
			f := make([]byte, c.size)
			binary.LittleEndian.PutUint64(f, c.n)
			f[8], f[9] = '{', '}'
			if err := os.WriteFile(filepath.Join("/dev/shm", name), f, 0o600); err != nil {
				t.Fatal(err)
			}
			checkRefused(t, name, "", false)
		})
	}
}

// A bundle truncated or extended after its creation no longer matches its
// header: every reader refuses it before mapping, so no view can reach
// past the end of the file. (A mapping made before the truncation faults
// on the lost pages: the kernel's rule, TestTortureTruncateUnderReader.)
func TestBundleTruncatedAfterCreation(t *testing.T) {
	probe, pb := newTestBundle(t)
	full := int64(len(pb.Segment().mem))
	var dataOff int64 = -1
	for ts := range pb.Tensors() {
		if dataOff < 0 || ts.Offset < dataOff {
			dataOff = ts.Offset
		}
	}
	pb.Close()
	removeShm(probe)
	for _, size := range []int64{0, 7, 8, 9, 100, dataOff - 1, dataOff, dataOff + 1, full - 1, full + 1, full + 4096} {
		t.Run(strconv.Itoa(int(size)), func(t *testing.T) {
			name, b := newTestBundle(t)
			f, _ := BundleView[float64](b, "features")
			f.Fill(3)
			b.Close()
			if err := os.Truncate(filepath.Join("/dev/shm", name), size); err != nil {
				t.Fatal(err)
			}
			checkRefused(t, name, "", false)
		})
	}
	// The untouched bundle reads whole.
	name, b := newTestBundle(t)
	f, _ := BundleView[float64](b, "features")
	f.Fill(3)
	b.Close()
	a, err := AttachBundle(name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for ts := range a.Tensors() {
		if _, err := a.Bytes(ts.Name); err != nil {
			t.Fatal(err)
		}
	}
	if g, _ := BundleView[float64](a, "features"); g.At(3, 2) != 3 {
		t.Fatalf("features hold %v", g.At(3, 2))
	}
}

// A foreign file whose header length is odd, as Hugging Face's often is,
// attaches; its misaligned tensors are refused as typed views
// (ErrNotContiguous) instead of being read misaligned, and read as bytes.
func TestBundleMisalignedForeignFile(t *testing.T) {
	hdr := `{"b":{"dtype":"U8","shape":[3],"data_offsets":[16,19]},"e":{"dtype":"F64","shape":[0],"data_offsets":[16,16]},"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}`
	if len(hdr)%2 == 0 {
		hdr += " "
	}
	data := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	name := writeShm(t, hdr, data)
	b, err := AttachBundle(name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := BundleView[float64](b, "w"); !errors.Is(err, ErrNotContiguous) || !strings.Contains(err.Error(), "aligned") {
		t.Fatalf("misaligned float64 view: %v", err)
	}
	if e, err := BundleView[float64](b, "e"); err != nil || e.Len() != 0 {
		t.Fatalf("empty view: %v", err)
	}
	w, err := b.Bytes("w")
	if err != nil || !bytes.Equal(w, data[:16]) {
		t.Fatalf("bytes of w: %v %v", w, err)
	}
	if u, err := BundleView[uint8](b, "b"); err != nil || u.At(2) != 19 {
		t.Fatalf("bytes view: %v", err)
	}
}
