package shmtensor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/codec"
)

// importCases are arrays numpy writes for TestImportNumpyFiles: each kind
// of header and element type Import must read.
const importScript = `
import json, sys
import numpy as np
from numpy.lib import format as fmt

d = sys.argv[1]
cases = {
    "c_f8": np.arange(6, dtype=np.float64).reshape(2, 3) / 4,
    "fortran_i4": np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4) - 5),
    "fortran_3d_u2": np.asfortranarray(np.arange(24, dtype=np.uint16).reshape(2, 3, 4)),
    "bool": np.array([[True, False, True], [False, False, True]]),
    "f2": np.array([0.5, -1.25, 65504, 1e-3], dtype=np.float16),
    "c8": (np.arange(4) + 1j * np.arange(4)[::-1]).astype(np.complex64),
    "c16": np.array([[1 + 2j, -3.5j], [np.inf, 0]], dtype=np.complex128),
    "u1": np.arange(250, 256, dtype=np.uint8),
    "i1": np.array([-128, 0, 127], dtype=np.int8),
    "scalar_i8": np.array(-7, dtype=np.int64),
    "empty_f4": np.zeros((0, 3), dtype=np.float32),
}
versions = {"v2_f8": (2, 0), "v3_u8": (3, 0)}
cases["v2_f8"] = np.arange(5, dtype=np.float64)
cases["v3_u8"] = np.asfortranarray(np.arange(6, dtype=np.uint64).reshape(3, 2))
meta = {}
for k, a in cases.items():
    with open(d + "/" + k + ".npy", "wb") as f:
        fmt.write_array(f, a, version=versions.get(k))
    meta[k] = {"dtype": a.dtype.name, "shape": list(a.shape), "fortran": bool(a.flags.f_contiguous and not a.flags.c_contiguous),
               "raw": a.tobytes(order="F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C").hex()}
json.dump(meta, sys.stdout)
`

// checkScript loads the files WriteTo wrote and compares them with the
// originals: values, dtype, shape and order.
const checkScript = `
import sys
import numpy as np
d = sys.argv[1]
for k in sys.argv[2:]:
    want = np.load(d + "/" + k + ".npy")
    got = np.load(d + "/" + k + ".out.npy")
    with open(d + "/" + k + ".out.npy", "rb") as f:
        head = f.read(10)
        hlen = int.from_bytes(head[8:10], "little")
    assert head[:8] == b"\x93NUMPY\x01\x00", (k, head)
    assert (10 + hlen) % 64 == 0, (k, hlen)
    assert got.dtype == want.dtype, (k, got.dtype, want.dtype)
    assert got.shape == want.shape, (k, got.shape, want.shape)
    assert np.isfortran(got) == np.isfortran(want), (k, "order")
    assert np.array_equal(got, want, equal_nan=want.dtype.kind in "fc"), (k, got, want)
print("ok")
`

func TestImportNumpyFilesAndWriteToBack(t *testing.T) {
	needNumpy(t)
	dir := t.TempDir()
	var meta map[string]struct {
		DType   string
		Shape   []int
		Fortran bool
		Raw     string
	}
	if err := json.Unmarshal([]byte(runPython(t, importScript, dir)), &meta); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k, m := range meta {
		keys = append(keys, k)
		f, err := os.Open(filepath.Join(dir, k+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		name := uniqueName(t)
		seg, err := Import(name, f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if seg.DType().String() != m.DType || !slices.Equal(seg.Shape(), m.Shape) || seg.Fortran() != m.Fortran {
			t.Errorf("%s: imported %v %v fortran=%v, numpy wrote %s %v fortran=%v",
				k, seg.DType(), seg.Shape(), seg.Fortran(), m.DType, m.Shape, m.Fortran)
		}
		if got := hexBytes(seg.Bytes()); got != m.Raw {
			t.Errorf("%s: data %s, numpy has %s", k, got, m.Raw)
		}
		// The segment itself is a valid .npy (with its 4096-byte header).
		if in, err := Stat(name); err != nil || in.DType != seg.DType() || !slices.Equal(in.Shape, m.Shape) {
			t.Errorf("%s: Stat after Import: %+v, %v", k, in, err)
		}
		out, err := os.Create(filepath.Join(dir, k+".out.npy"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := seg.WriteTo(out)
		if err != nil {
			t.Fatalf("%s: WriteTo: %v", k, err)
		}
		if st, _ := out.Stat(); st.Size() != n {
			t.Errorf("%s: WriteTo returned %d, wrote %d bytes", k, n, st.Size())
		}
		out.Close()
		seg.Close()
	}
	if got := runPython(t, checkScript, append([]string{dir}, keys...)...); strings.TrimSpace(got) != "ok" {
		t.Errorf("numpy check: %s", got)
	}
}

func hexBytes(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// npyStream returns a .npy stream of a float64 tensor written by WriteTo.
func npyStream(t *testing.T, shape []int) ([]byte, *Tensor[float64]) {
	t.Helper()
	a, err := Create[float64](uniqueName(t), shape)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	for i := range a.Data() {
		a.Data()[i] = float64(i) + 0.5
	}
	var b bytes.Buffer
	n, err := a.Segment().WriteTo(&b)
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteTo: %d, %v (buffer has %d)", n, err, b.Len())
	}
	return b.Bytes(), a
}

func TestWriteToHeader(t *testing.T) {
	for _, shape := range [][]int{{}, {0}, {3}, {2, 3}, repeatDims(MaxDims)} {
		b, a := npyStream(t, shape)
		hlen := int(binary.LittleEndian.Uint16(b[8:]))
		if string(b[:8]) != "\x93NUMPY\x01\x00" || (10+hlen)%codec.NPYStreamAlign != 0 || b[10+hlen-1] != '\n' {
			t.Errorf("%v: header %q does not end a version 1.0 header at a multiple of 64", shape, b[:min(len(b), 10+hlen)])
		}
		if !bytes.Equal(b[10+hlen:], a.Segment().Bytes()) {
			t.Errorf("%v: data after the header differs from the segment's", shape)
		}
		h, err := codec.ParseNPYHeader(b, int64(len(b)))
		if err != nil || !slices.Equal(h.Shape, shape) || DType(h.DType) != Float64 || h.DataOff != int64(10+hlen) {
			t.Errorf("%v: written header parses as %+v, %v", shape, h, err)
		}
	}
}

func TestImportRoundTripOptions(t *testing.T) {
	b, a := npyStream(t, []int{4, 5})
	for _, c := range []struct {
		name string
		opts []Option
	}{
		{"default", nil},
		{"lazy", []Option{Lazy()}},
		{"sharedarray", []Option{SharedArrayLayout()}},
		{"readonly", []Option{ReadOnly()}},
		{"mode", []Option{Mode(0o640)}},
	} {
		for _, name := range []string{uniqueName(t), tempFileName(t, "x.npy")} {
			seg, err := Import(name, bytes.NewReader(b), c.opts...)
			if err != nil {
				t.Fatalf("%s %s: %v", c.name, name, err)
			}
			if !bytes.Equal(seg.Bytes(), a.Segment().Bytes()) || !slices.Equal(seg.Shape(), []int{4, 5}) {
				t.Errorf("%s %s: imported data or shape differs", c.name, name)
			}
			in, err := Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			wantLayout, wantMode := NPY, fs.FileMode(0o600)
			if c.name == "sharedarray" {
				wantLayout = SharedArray
			}
			if c.name == "mode" {
				wantMode = 0o640
			}
			if in.Layout != wantLayout || in.Mode != wantMode || seg.ReadOnly() != (c.name == "readonly") {
				t.Errorf("%s %s: layout %v mode %v read-only %v", c.name, name, in.Layout, in.Mode, seg.ReadOnly())
			}
			seg.Close()
		}
	}
}

// TestImportLeavesTrailingBytes: Import reads exactly one array, so
// consecutive arrays in a stream import one after the other.
func TestImportLeavesTrailingBytes(t *testing.T) {
	b1, _ := npyStream(t, []int{3})
	b2, _ := npyStream(t, []int{2, 2})
	r := bytes.NewReader(append(append(slices.Clone(b1), b2...), "tail"...))
	s1, err := Import(uniqueName(t), r)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	if r.Len() != len(b2)+4 {
		t.Fatalf("after the first Import %d bytes remain, want %d", r.Len(), len(b2)+4)
	}
	s2, err := Import(uniqueName(t), r)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !slices.Equal(s2.Shape(), []int{2, 2}) {
		t.Errorf("second array has shape %v", s2.Shape())
	}
	if rest, _ := io.ReadAll(r); string(rest) != "tail" {
		t.Errorf("left in the stream: %q, want \"tail\"", rest)
	}
}

// assertNothingUnder checks that a failed Import left no segment under
// name, and, for a file:// name, no file at all in its directory.
func assertNothingUnder(t *testing.T, name string) {
	t.Helper()
	if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
		t.Errorf("%s after a failed Import: Stat says %v, want ErrNotExist", name, err)
	}
	if p, ok := strings.CutPrefix(name, "file://"); ok {
		if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 0 {
			t.Errorf("%s: files left behind: %v", name, ents)
		}
	}
}

func TestImportTruncated(t *testing.T) {
	b, _ := npyStream(t, []int{4, 5})
	hlen := 10 + int(binary.LittleEndian.Uint16(b[8:]))
	for _, cut := range []int{0, 3, 7, 9, 40, hlen - 1, hlen, hlen + 1, len(b) - 8, len(b) - 1} {
		for _, opts := range [][]Option{nil, {Lazy()}, {SharedArrayLayout()}} {
			for _, name := range []string{uniqueName(t), tempFileName(t, "x.npy")} {
				seg, err := Import(name, bytes.NewReader(b[:cut]), opts...)
				if err == nil {
					seg.Close()
					t.Fatalf("cut at %d of %d: Import succeeded", cut, len(b))
				}
				if !errors.Is(err, ErrNotTensor) || !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("cut at %d: %v, want ErrNotTensor and io.ErrUnexpectedEOF", cut, err)
				}
				var e *Error
				if !errors.As(err, &e) || e.Op != "import" {
					t.Errorf("cut at %d: %#v is not an *Error of import", cut, err)
				}
				assertNothingUnder(t, name)
			}
		}
	}
}

func TestImportCorrupt(t *testing.T) {
	b, _ := npyStream(t, []int{2})
	edit := func(f func(b []byte) []byte) []byte { return f(slices.Clone(b)) }
	for _, c := range []struct {
		name   string
		stream []byte
		want   error
	}{
		{"not npy", []byte("PK\x03\x04 this is a zip file, not an array"), ErrNotTensor},
		{"short and not npy", []byte("PK\x03"), ErrNotTensor},
		{"bad version", edit(func(b []byte) []byte { b[6] = 4; return b }), ErrNotTensor},
		{"bad minor version", edit(func(b []byte) []byte { b[7] = 1; return b }), ErrNotTensor},
		{"bad dict", edit(func(b []byte) []byte { b[12] = '#'; return b }), ErrNotTensor},
		{"header too long", edit(func(b []byte) []byte { b[6] = 2; binary.LittleEndian.PutUint32(b[8:], 1<<20); return b }), ErrNotTensor},
		{"big-endian", edit(func(b []byte) []byte { i := bytes.Index(b, []byte("<f8")); b[i] = '>'; return b }), ErrDType},
		{"structured", npyFromDict("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", 16), ErrDType},
	} {
		for _, name := range []string{uniqueName(t), tempFileName(t, "x.npy")} {
			seg, err := Import(name, bytes.NewReader(c.stream))
			if err == nil {
				seg.Close()
				t.Fatalf("%s: Import succeeded", c.name)
			}
			if !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
			if strings.HasSuffix(c.name, "not npy") && !strings.Contains(err.Error(), "bad magic") {
				t.Errorf("%s: %v does not say bad magic", c.name, err)
			}
			assertNothingUnder(t, name)
		}
	}
}

// npyFromDict returns a version 1.0 .npy stream with the given dict and
// n bytes of zero data.
func npyFromDict(dict string, n int) []byte {
	b := append([]byte("\x93NUMPY\x01\x00\x00\x00"), dict+"\n"...)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(b)-10))
	return append(b, make([]byte, n)...)
}

type failingReader struct {
	r   io.Reader
	n   int // bytes to give before failing
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

func TestImportReadError(t *testing.T) {
	b, _ := npyStream(t, []int{64, 64})
	boom := errors.New("connection reset")
	for _, at := range []int{5, 100, len(b) / 2} {
		for _, name := range []string{uniqueName(t), tempFileName(t, "x.npy")} {
			_, err := Import(name, &failingReader{bytes.NewReader(b), at, boom})
			if !errors.Is(err, boom) || errors.Is(err, ErrNotTensor) {
				t.Errorf("failing after %d bytes: %v, want the reader's error", at, err)
			}
			assertNothingUnder(t, name)
		}
	}
}

func TestImportExisting(t *testing.T) {
	b, _ := npyStream(t, []int{3})
	for _, opts := range [][]Option{nil, {Lazy()}} {
		name := uniqueName(t)
		old, err := Create[int32](name, []int{2})
		if err != nil {
			t.Fatal(err)
		}
		old.Set(42, 1)
		before, _ := Stat(name)
		r := bytes.NewReader(b)
		_, err = Import(name, r, opts...)
		if !errors.Is(err, ErrExist) || !errors.Is(err, fs.ErrExist) {
			t.Errorf("Import over an existing name: %v, want ErrExist", err)
		}
		if hlen := 10 + int(binary.LittleEndian.Uint16(b[8:])); r.Len() != len(b)-hlen {
			t.Errorf("Import read %d bytes, the header has %d: it read data before finding the name taken", len(b)-r.Len(), hlen)
		}
		again, err := Attach[int32](name)
		if err != nil {
			t.Fatal(err)
		}
		after, _ := Stat(name)
		if again.At(1) != 42 || after.ID != before.ID || !slices.Equal(after.Shape, []int{2}) {
			t.Errorf("the existing segment changed: %v %+v", again.At(1), after)
		}
		again.Close()
		old.Close()
	}
}

func TestImportFortranSharedArray(t *testing.T) {
	// A (1, 5) Fortran array is also C-ordered: stored as C. A (2, 3) one
	// is not, and the SharedArray layout cannot record its order.
	for _, c := range []struct {
		shape []int
		ok    bool
	}{{[]int{1, 5}, true}, {[]int{5}, true}, {[]int{2, 3}, false}} {
		h, _ := newHeader(NPY, Float32, c.shape, true)
		stream := append(codec.EncodeNPYHeader(h, codec.NPYStreamAlign), make([]byte, h.DataLen)...)
		name := uniqueName(t)
		seg, err := Import(name, bytes.NewReader(stream), SharedArrayLayout())
		if c.ok {
			if err != nil {
				t.Fatalf("%v: %v", c.shape, err)
			}
			if seg.Fortran() || seg.Layout() != SharedArray {
				t.Errorf("%v: fortran %v layout %v", c.shape, seg.Fortran(), seg.Layout())
			}
			seg.Close()
			continue
		}
		if !errors.Is(err, ErrNotContiguous) {
			t.Errorf("%v: %v, want ErrNotContiguous", c.shape, err)
		}
		assertNothingUnder(t, name)
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteToErrors(t *testing.T) {
	_, a := npyStream(t, []int{100})
	n, err := a.Segment().WriteTo(&failingWriter{n: 100})
	if err == nil || n != 100 || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: %d, %v", n, err)
	}
	a.Close()
	if _, err := a.Segment().WriteTo(io.Discard); !errors.Is(err, ErrClosed) {
		t.Errorf("closed segment: %v, want ErrClosed", err)
	}
}

func TestImportInvalidName(t *testing.T) {
	b, _ := npyStream(t, []int{3})
	r := bytes.NewReader(b)
	if _, err := Import("a/b", r); !errors.Is(err, ErrInvalidName) || r.Len() != len(b) {
		t.Errorf("Import(\"a/b\"): %v, %d bytes read; want ErrInvalidName before reading", err, len(b)-r.Len())
	}
}
