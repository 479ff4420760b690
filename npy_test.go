package shmtensor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allDTypes lists every valid DType, so tests cover new ones automatically.
var allDTypes = func() []DType {
	var ds []DType
	for d := Bool; d.valid(); d++ {
		ds = append(ds, d)
	}
	return ds
}()

// product multiplies shape without overflow checks (tests use small shapes).
func product(shape []int) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= int64(d)
	}
	return n
}

// repeatDims returns n dimensions of 1 with a 2 at every seventh axis, so a
// many-dimensional shape still has a small size.
func repeatDims(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
		if i%7 == 3 {
			s[i] = 2
		}
	}
	return s
}

// npyFile builds an .npy file: magic, version major.0, header length (2
// bytes for 1.0, 4 otherwise), text, then dataLen zero bytes.
func npyFile(major byte, text string, dataLen int) []byte {
	b := []byte(npyMagic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(text)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(text)))
	}
	b = append(b, text...)
	return append(b, make([]byte, dataLen)...)
}

// npyPrefix returns what a caller passes to parseNPYHeader for file.
func npyPrefix(file []byte) []byte { return file[:min(len(file), npyMaxPrefix)] }

// numpyHeaders are headers written by numpy 1.24.2 (np.lib.format.write_array
// or np.save), with the size of the whole file. They seed the fuzzer and
// pin numpy's exact formatting, including its 64-byte alignment.
var numpyHeaders = []struct {
	hdr  string
	size int64
}{
	{"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }                                                          \x0a", 224},
	{"\x93NUMPY\x01\x00v\x00{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }                                                            \x0a", 148},
	{"\x93NUMPY\x01\x00v\x00{'descr': '|b1', 'fortran_order': False, 'shape': (), }                                                              \x0a", 129},
	{"\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '<c8', 'fortran_order': True, 'shape': (2, 3), }                                                         \x0a", 176},
	{"\x93NUMPY\x03\x00t\x00\x00\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }                                                        \x0a", 176},
	{"\x93NUMPY\x01\x00v\x00{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }                                                            \x0a", 152},
	{"\x93NUMPY\x01\x00v\x00{'descr': [('a', '<f8'), ('b', '|i1')], 'fortran_order': False, 'shape': (3,), }                                     \x0a", 155},
	{"\x93NUMPY\x01\x00v\x00{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }                                                            \x0a", 144},
	{"\x93NUMPY\x01\x00v\x00{'descr': [('\xe9', '<f8')], 'fortran_order': False, 'shape': (3,), }                                                   \x0a", 152},
}

func TestNumpyHeaderLiterals(t *testing.T) {
	// The embedded headers parse (or are refused) as numpy wrote them, and
	// their lengths show numpy's 64-byte alignment of the data.
	want := []error{nil, nil, nil, nil, nil, ErrDType, ErrDType, ErrDType, ErrDType}
	for i, c := range numpyHeaders {
		if len(c.hdr)%64 != 0 {
			t.Errorf("header %d: numpy header length %d is not a multiple of 64", i, len(c.hdr))
		}
		h, err := parseNPYHeader([]byte(c.hdr), c.size)
		if !errors.Is(err, want[i]) || (want[i] == nil) != (err == nil) {
			t.Errorf("header %d: err = %v, want %v", i, err, want[i])
			continue
		}
		if err == nil && (h.dataOff != int64(len(c.hdr)) || h.dataOff+h.dataLen != c.size) {
			t.Errorf("header %d: dataOff %d dataLen %d, file has %d bytes after a %d-byte header",
				i, h.dataOff, h.dataLen, c.size, len(c.hdr))
		}
	}
}

func TestEncodeNPYHeaderBytes(t *testing.T) {
	// The dict texts are what numpy 1.24 writes for the same arrays.
	cases := []struct {
		dt      DType
		shape   []int
		fortran bool
		dict    string
	}{
		{Float64, []int{3, 4}, false, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"},
		{Int32, []int{5}, false, "{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }"},
		{Bool, []int{}, false, "{'descr': '|b1', 'fortran_order': False, 'shape': (), }"},
		{Uint8, nil, false, "{'descr': '|u1', 'fortran_order': False, 'shape': (), }"},
		{Complex64, []int{2, 3}, true, "{'descr': '<c8', 'fortran_order': True, 'shape': (2, 3), }"},
		{Complex128, []int{0}, false, "{'descr': '<c16', 'fortran_order': False, 'shape': (0,), }"},
		{Float16, []int{3, 0, 2}, true, "{'descr': '<f2', 'fortran_order': True, 'shape': (3, 0, 2), }"},
		{Int8, []int{math.MaxInt, 0}, false, fmt.Sprintf("{'descr': '|i1', 'fortran_order': False, 'shape': (%d, 0), }", math.MaxInt)},
	}
	for _, c := range cases {
		b, err := encodeNPY(c.dt, c.shape, c.fortran)
		if err != nil {
			t.Fatalf("%v %v: %v", c.dt, c.shape, err)
		}
		if len(b) != npyDataOffset {
			t.Fatalf("%v %v: %d bytes, want %d", c.dt, c.shape, len(b), npyDataOffset)
		}
		if got := string(b[:8]); got != "\x93NUMPY\x01\x00" {
			t.Errorf("%v %v: magic and version %q", c.dt, c.shape, got)
		}
		if n := binary.LittleEndian.Uint16(b[8:]); 10+int(n) != npyDataOffset {
			t.Errorf("%v %v: HEADER_LEN %d, want %d", c.dt, c.shape, n, npyDataOffset-10)
		}
		if got := string(b[10 : 10+len(c.dict)]); got != c.dict {
			t.Errorf("%v %v: dict\n got %s\nwant %s", c.dt, c.shape, got, c.dict)
		}
		pad := b[10+len(c.dict) : npyDataOffset-1]
		if len(bytes.Trim(pad, " ")) != 0 {
			t.Errorf("%v %v: padding is not all spaces: %q", c.dt, c.shape, bytes.Trim(pad, " "))
		}
		if b[npyDataOffset-1] != '\n' {
			t.Errorf("%v %v: last header byte %q, want newline", c.dt, c.shape, b[npyDataOffset-1])
		}
	}
}

func TestEncodeNPYHeaderErrors(t *testing.T) {
	cases := []struct {
		name  string
		dt    DType
		shape []int
		want  error
	}{
		{"invalid dtype", Invalid, []int{3}, ErrDType},
		{"out-of-range dtype", DType(200), []int{3}, ErrDType},
		{"negative dim", Float64, []int{3, -1}, ErrShape},
		{"too many dims", Uint8, make([]int, MaxDims+1), ErrShape},
		{"element count overflows", Uint8, []int{math.MaxInt/2 + 1, 2}, ErrShape},
		{"byte size overflows", Float64, []int{math.MaxInt/8 + 1}, ErrShape},
	}
	if math.MaxInt == math.MaxInt64 {
		cases = append(cases, struct {
			name  string
			dt    DType
			shape []int
			want  error
		}{"header plus data overflow int64", Uint8, []int{math.MaxInt}, ErrShape})
	}
	for _, c := range cases {
		b, err := encodeNPY(c.dt, c.shape, false)
		if !errors.Is(err, c.want) || b != nil {
			t.Errorf("%s: got %d bytes, err %v; want %v", c.name, len(b), err, c.want)
		}
	}
}

// roundTripShapes are the shapes every codec round-trips.
var roundTripShapes = [][]int{
	{}, {0}, {3, 0, 2}, {1}, {7}, {2, 3}, {4, 1, 5}, {math.MaxInt / 16, 0},
	repeatDims(32),
}

func TestNPYRoundTrip(t *testing.T) {
	shapes := append(slices.Clone(roundTripShapes), repeatDims(MaxDims))
	for _, dt := range allDTypes {
		for _, shape := range shapes {
			for _, fortran := range []bool{false, true} {
				for _, extra := range []int64{0, 1, 4096} { // numpy allows trailing bytes
					enc, err := encodeNPY(dt, shape, fortran)
					if err != nil {
						t.Fatalf("encode %v %v: %v", dt, shape, err)
					}
					dataLen := int64(dt.Size()) * product(shape)
					size := npyDataOffset + dataLen + extra
					prefix := append(enc, make([]byte, min(size, npyMaxPrefix)-npyDataOffset)...)
					h, err := parseNPYHeader(prefix, size)
					if err != nil {
						t.Fatalf("parse %v %v fortran=%v: %v", dt, shape, fortran, err)
					}
					if h.layout != NPY || h.dtype != dt || !slices.Equal(h.shape, shape) || h.fortran != fortran ||
						h.dataOff != npyDataOffset || h.dataLen != dataLen {
						t.Fatalf("%v %v fortran=%v: parsed %+v", dt, shape, fortran, h)
					}
					if h.shape == nil {
						t.Fatalf("%v %v: nil shape, want an empty slice", dt, shape)
					}
				}
			}
		}
	}
}

func TestIsNPY(t *testing.T) {
	enc, _ := encodeNPY(Float32, []int{2}, false)
	for _, c := range []struct {
		b    []byte
		want bool
	}{
		{enc, true},
		{[]byte(npyMagic), true},
		{[]byte(numpyHeaders[3].hdr), true},
		{nil, false},
		{[]byte("\x93NUMP"), false},
		{[]byte("\x93numpy\x01\x00"), false},
		{[]byte("[SharedArray]"), false},
	} {
		if got := isNPY(c.b); got != c.want {
			t.Errorf("isNPY(%q) = %v", c.b[:min(len(c.b), 10)], got)
		}
	}
}

// npyResult is what the Python side reports about one .npy file.
type npyResult struct {
	Name        string `json:"name"`
	Unsupported bool   `json:"unsupported"`
	Version     int    `json:"version"`
	Descr       string `json:"descr"`
	Shape       []int  `json:"shape"`
	Fortran     bool   `json:"fortran"`
	Offset      int64  `json:"offset"`
	Ref         string `json:"ref"`
	Mmapped     bool   `json:"mmapped"`
	Err         string `json:"err"`
}

func decodeResults(t *testing.T, out string) map[string]npyResult {
	t.Helper()
	res := map[string]npyResult{}
	for line := range strings.Lines(out) {
		var r npyResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("python output %q: %v", line, err)
		}
		res[r.Name] = r
	}
	return res
}

// TestNPYEncoderNumpy checks that numpy loads our headers with
// mmap_mode="r+", sees the same dtype, shape and order, maps the data at
// byte 4096, and would format the same dict itself.
func TestNPYEncoderNumpy(t *testing.T) {
	needNumpy(t)
	cases := []struct {
		dt       DType
		shape    []int
		fortran  bool
		trailing int // bytes after the data
	}{
		{Float64, []int{3, 4}, false, 0},
		{Float64, []int{3, 4}, true, 0},
		{Int32, []int{5}, false, 0},
		{Bool, []int{}, false, 0},
		{Complex64, []int{2, 3}, true, 0},
		{Complex128, []int{2, 2}, false, 0},
		{Uint16, []int{0}, false, 0},
		{Uint16, []int{0}, false, 1},
		{Float16, []int{3, 0, 2}, true, 0},
		{Float16, []int{3, 0, 2}, true, 1},
		{Int8, repeatDims(32), false, 0},
		{Uint8, []int{2, 3, 4}, true, 0},
		{Int16, []int{7, 1}, false, 0},
		{Uint32, []int{1, 9}, true, 0},
		{Int64, []int{6}, false, 0},
		{Uint64, []int{2, 1, 2}, false, 0},
		{Float32, []int{4, 4}, true, 0},
		{Float32, []int{4, 4}, true, 100},
	}
	dir := t.TempDir()
	var paths []string
	for i, c := range cases {
		enc, err := encodeNPY(c.dt, c.shape, c.fortran)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("case%d.npy", i))
		if err := os.WriteFile(p, append(enc, make([]byte, int64(c.dt.Size())*product(c.shape)+int64(c.trailing))...), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	const script = `
import io, json, os, sys, numpy as np
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        offset = f.tell()
    try:
        a, mmapped = np.load(path, mmap_mode="r+"), True
    except ValueError:
        # numpy 1.24 cannot mmap an empty array whose data offset is the
        # file size ("mmap offset is greater than file size").
        a, mmapped = np.load(path), False
    ref = io.BytesIO()
    np.lib.format.write_array_header_1_0(ref, {"descr": np.lib.format.dtype_to_descr(dtype),
                                               "fortran_order": fortran, "shape": shape})
    if a.size:
        a[(0,) * a.ndim] = 1
        a.flush()
    print(json.dumps({"name": os.path.basename(path), "version": version[0], "descr": a.dtype.str,
                      "shape": list(a.shape), "fortran": bool(fortran), "offset": offset, "mmapped": mmapped,
                      "ref": ref.getvalue()[10:].decode("latin1").rstrip(" \n")}))
    del a
`
	res := decodeResults(t, runPython(t, script, paths...))
	for i, c := range cases {
		r, ok := res[filepath.Base(paths[i])]
		if !ok {
			t.Fatalf("case %d: no result from numpy", i)
		}
		if r.Version != 1 || r.Descr != c.dt.Descr() || !slices.Equal(r.Shape, c.shape) ||
			r.Fortran != c.fortran || r.Offset != npyDataOffset {
			t.Errorf("%v %v fortran=%v: numpy saw %+v", c.dt, c.shape, c.fortran, r)
		}
		if !r.Mmapped {
			if product(c.shape) > 0 || c.trailing > 0 {
				t.Errorf("%v %v: numpy could not load it with mmap_mode=\"r+\"", c.dt, c.shape)
			} else {
				t.Logf("%v %v: numpy cannot mmap an empty array ending at the data offset; np.load without mmap works", c.dt, c.shape)
			}
		}
		enc, _ := encodeNPY(c.dt, c.shape, c.fortran)
		if ours := strings.TrimRight(string(enc[10:]), " \n"); ours != r.Ref {
			t.Errorf("%v %v: dict differs from numpy's\n ours %s\nnumpy %s", c.dt, c.shape, ours, r.Ref)
		}
		b, err := os.ReadFile(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		if product(c.shape) > 0 && !slices.ContainsFunc(b[npyDataOffset:npyDataOffset+c.dt.Size()], func(x byte) bool { return x != 0 }) {
			t.Errorf("%v %v: numpy's write to element 0 did not land at byte %d", c.dt, c.shape, npyDataOffset)
		}
	}
}

// TestParseNumpyFiles parses files that numpy itself writes, in every
// version, order and a range of dtypes, including ones we must refuse.
func TestParseNumpyFiles(t *testing.T) {
	needNumpy(t)
	type spec struct {
		Name    string `json:"name"`
		DType   any    `json:"dtype"` // a string, or a list of [name, descr] fields
		Shape   []int  `json:"shape"`
		Order   string `json:"order"`
		Version []int  `json:"version"` // nil: let np.save choose
	}
	cases := []struct {
		spec
		dt      DType
		fortran bool // numpy records F only for arrays not also C-contiguous
		version int
		err     error
	}{
		{spec{"f8_c", "<f8", []int{3, 4}, "C", nil}, Float64, false, 1, nil},
		{spec{"f8_f", "<f8", []int{3, 4}, "F", nil}, Float64, true, 1, nil},
		{spec{"i4_1d_f", "<i4", []int{5}, "F", nil}, Int32, false, 1, nil},
		{spec{"b1_0d", "?", []int{}, "C", nil}, Bool, false, 1, nil},
		{spec{"u1_v2_f", "u1", []int{2, 3, 4}, "F", []int{2, 0}}, Uint8, true, 2, nil},
		{spec{"c16_v3", "<c16", []int{2, 2}, "C", []int{3, 0}}, Complex128, false, 3, nil},
		{spec{"f2_empty_v2", "<f2", []int{0}, "C", []int{2, 0}}, Float16, false, 2, nil},
		{spec{"i2_3x0x2_f", "<i2", []int{3, 0, 2}, "F", nil}, Int16, false, 1, nil},
		{spec{"u8_32d", "<u8", repeatDims(32), "C", nil}, Uint64, false, 1, nil},
		{spec{"u8_32d_f", "<u8", repeatDims(32), "F", []int{2, 0}}, Uint64, true, 2, nil},
		{spec{"i8_v3_f", "<i8", []int{7, 3}, "F", []int{3, 0}}, Int64, true, 3, nil},
		{spec{"c8", "<c8", []int{4}, "C", nil}, Complex64, false, 1, nil},
		{spec{"u2_f", "<u2", []int{2, 5}, "F", nil}, Uint16, true, 1, nil},
		{spec{"u4", "<u4", []int{1, 1}, "C", nil}, Uint32, false, 1, nil},
		{spec{"i1_v2", "i1", []int{9}, "C", []int{2, 0}}, Int8, false, 2, nil},
		{spec{"f4_f_v3", "<f4", []int{2, 3}, "F", []int{3, 0}}, Float32, true, 3, nil},
		{spec{"u1_big_endian_name", ">u1", []int{3}, "C", nil}, Uint8, false, 1, nil}, // numpy writes |u1
		{spec{"f8_be", ">f8", []int{2}, "C", nil}, Invalid, false, 1, ErrDType},
		{spec{"i4_be_v2_f", ">i4", []int{2, 2}, "F", []int{2, 0}}, Invalid, true, 2, ErrDType},
		{spec{"str", "<U3", []int{2}, "C", nil}, Invalid, false, 1, ErrDType},
		{spec{"bytes", "|S4", []int{2}, "C", nil}, Invalid, false, 1, ErrDType},
		{spec{"datetime", "<M8[ns]", []int{2}, "C", nil}, Invalid, false, 1, ErrDType},
		{spec{"structured", []any{[]string{"a", "<f8"}, []string{"b", "i1"}}, []int{3}, "C", nil}, Invalid, false, 1, ErrDType},
		// A field name outside latin-1 makes np.save choose version 3.0.
		{spec{"structured_utf8", []any{[]string{"\u03b1", "<f8"}}, []int{3}, "C", nil}, Invalid, false, 3, ErrDType},
	}
	var specs []spec
	for _, c := range cases {
		specs = append(specs, c.spec)
	}
	js, _ := json.Marshal(specs)
	dir := t.TempDir()
	const script = `
import json, os, sys, warnings, numpy as np
warnings.simplefilter("ignore")
out, specs = sys.argv[1], json.loads(sys.argv[2])
for s in specs:
    d = s["dtype"]
    dt = np.dtype([tuple(f) for f in d] if isinstance(d, list) else d)
    a = np.zeros(s["shape"], dtype=dt, order=s["order"])
    path = os.path.join(out, s["name"] + ".npy")
    try:
        with open(path, "wb") as f:
            if s["version"] is None:
                np.save(f, a)
            else:
                np.lib.format.write_array(f, a, version=tuple(s["version"]))
    except ValueError as e:
        print(json.dumps({"name": s["name"], "unsupported": True, "err": str(e)}))
        continue
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        _, fortran, _ = np.lib.format._read_array_header(f, version)
    print(json.dumps({"name": s["name"], "version": version[0], "fortran": bool(fortran),
                      "offset": size - a.nbytes}))
`
	res := decodeResults(t, runPython(t, script, dir, string(js)))
	for _, c := range cases {
		r := res[c.Name]
		if r.Unsupported {
			t.Logf("%s: this numpy cannot write it: %s", c.Name, r.Err)
			continue
		}
		if r.Name == "" {
			t.Fatalf("%s: no result from numpy", c.Name)
		}
		if r.Version != c.version {
			t.Errorf("%s: numpy wrote version %d, want %d", c.Name, r.Version, c.version)
		}
		file, err := os.ReadFile(filepath.Join(dir, c.Name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		h, err := parseNPYHeader(npyPrefix(file), int64(len(file)))
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: err = %v, want %v", c.Name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if r.Fortran != c.fortran {
			t.Errorf("%s: numpy wrote fortran_order %v, want %v", c.Name, r.Fortran, c.fortran)
		}
		if h.dtype != c.dt || !slices.Equal(h.shape, c.Shape) || h.fortran != r.Fortran ||
			h.dataOff != r.Offset || h.dataOff+h.dataLen != int64(len(file)) {
			t.Errorf("%s: parsed %+v; numpy: fortran %v, data at %d of %d bytes", c.Name, h, r.Fortran, r.Offset, len(file))
		}
	}
}

// TestParseNPYHeaderVariants feeds header dicts that numpy does not write
// but Python's literal syntax allows (or forbids), and checks that numpy
// agrees with every decision except where this parser is deliberately
// stricter.
func TestParseNPYHeaderVariants(t *testing.T) {
	const ok3x4 = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"
	cases := []struct {
		name    string
		version byte
		text    string
		err     error // nil: parses as float64 (3, 4), or shape/fortran below
		shape   []int
		fortran bool
		strict  bool // numpy accepts what we refuse
	}{
		{name: "numpy's own", version: 1, text: ok3x4},
		{name: "no spaces or trailing comma", version: 1, text: "{'descr':'<f8','fortran_order':False,'shape':(3,4)}"},
		{name: "keys reversed", version: 1, text: "{'shape': (3, 4), 'fortran_order': True, 'descr': '<f8'}", fortran: true},
		{name: "double quotes", version: 2, text: `{"descr": "<f8", "fortran_order": False, "shape": (3, 4)}`},
		{name: "tabs newlines CR", version: 1, text: "{\n\t'descr' :\t'<f8' ,\r\n 'fortran_order':False,\n'shape':(\n3,\n4,\n)\n}\n"},
		{name: "leading spaces", version: 1, text: "  \t{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "leading newline", version: 1, text: "\n{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "comment", version: 1, text: "{'descr': '<f8', # the dtype\n'fortran_order': False, 'shape': (3, 4)}  # done"},
		{name: "trailing comma in shape", version: 3, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4,), }"},
		{name: "no final newline", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "python 2 long ints v1", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }"},
		{name: "python 2 long ints v2", version: 2, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }"},
		{name: "python 2 long ints v3", version: 3, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }", err: ErrNotTensor},
		{name: "u prefix", version: 1, text: "{u'descr': u'<f8', u'fortran_order': False, u'shape': (3, 4)}"},
		{name: "underscore digits", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (1_2,)}", shape: []int{12}},
		{name: "plus sign", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (+3, 4)}"},
		{name: "zero with zeros", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (00, 12)}", shape: []int{0, 12}},
		{name: "native order", version: 1, text: "{'descr': '=f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "no order", version: 1, text: "{'descr': 'f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "pipe order", version: 1, text: "{'descr': '|f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "utf-8 descr v3", version: 3, text: "{'descr': '<f8\u00e9', 'fortran_order': False, 'shape': (12,)}", err: ErrDType},
		{name: "latin-1 descr v1", version: 1, text: "{'descr': '<f8\xe9', 'fortran_order': False, 'shape': (12,)}", err: ErrDType},
		{name: "nbsp as space", version: 1, text: "{'descr':\xa0'<f8', 'fortran_order': False, 'shape': (12,)}", err: ErrNotTensor},
		{name: "invalid utf-8 v3", version: 3, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (12,)}\xff", err: ErrNotTensor},
		{name: "NUL in padding", version: 1, text: ok3x4 + "\x00\n", err: ErrNotTensor},
		{name: "NUL in comment", version: 1, text: ok3x4 + " # \x00\n", err: ErrNotTensor},
		{name: "shape not a tuple", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (12)}", err: ErrNotTensor},
		{name: "shape list", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': [3, 4]}", err: ErrNotTensor},
		{name: "leading zero", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (03, 4)}", err: ErrNotTensor},
		{name: "negative dim", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (-3, -4)}", err: ErrNotTensor},
		{name: "float dim", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3.0, 4)}", err: ErrNotTensor},
		{name: "hex dim", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (0x3, 4)}", err: ErrNotTensor, strict: true},
		{name: "bool dim", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (True, 12)}", err: ErrNotTensor},
		{name: "duplicate key", version: 1, text: "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}", err: ErrNotTensor, strict: true},
		{name: "escape", version: 1, text: "{'descr': '\\x3cf8', 'fortran_order': False, 'shape': (3, 4)}", err: ErrNotTensor, strict: true},
		{name: "unicode dtype", version: 1, text: "{'descr': '<U1', 'fortran_order': False, 'shape': (24,)}", err: ErrDType, strict: true},
		{name: "extra key", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), 'x': 1}", err: ErrNotTensor},
		{name: "missing shape", version: 1, text: "{'descr': '<f8', 'fortran_order': False}", err: ErrNotTensor},
		{name: "empty dict", version: 1, text: "{}", err: ErrNotTensor},
		{name: "fortran 0", version: 1, text: "{'descr': '<f8', 'fortran_order': 0, 'shape': (3, 4)}", err: ErrNotTensor},
		{name: "fortran None", version: 1, text: "{'descr': '<f8', 'fortran_order': None, 'shape': (3, 4)}", err: ErrNotTensor},
		{name: "bytes descr", version: 1, text: "{'descr': b'<f8', 'fortran_order': False, 'shape': (3, 4)}", err: ErrNotTensor},
		{name: "not a dict", version: 1, text: "[('descr', '<f8')]", err: ErrNotTensor},
		{name: "text after dict", version: 1, text: ok3x4 + " x", err: ErrNotTensor},
		{name: "set as shape", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': {3}}", err: ErrNotTensor},
		{name: "structured", version: 1, text: "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (12,)}", err: ErrDType, strict: true},
		{name: "subarray", version: 1, text: "{'descr': ('<f8', (2,)), 'fortran_order': False, 'shape': (6,)}", err: ErrDType},
		{name: "overflowing shape", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904)}", err: ErrNotTensor},
		{name: "unclosed", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)", err: ErrNotTensor},
		{name: "unterminated string", version: 1, text: "{'descr': '<f8, 'fortran_order': False, 'shape': (3, 4)}", err: ErrNotTensor},
	}
	dir := t.TempDir()
	var paths []string
	results := make([]error, len(cases))
	for i, c := range cases {
		shape := c.shape
		if shape == nil {
			shape = []int{3, 4}
		}
		dataLen := 8 * int(product(shape))
		file := npyFile(c.version, c.text, dataLen)
		h, err := parseNPYHeader(npyPrefix(file), int64(len(file)))
		results[i] = err
		switch {
		case c.err == nil && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != nil && !errors.Is(err, c.err):
			t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
		case c.err == nil && (h.dtype != Float64 || !slices.Equal(h.shape, shape) || h.fortran != c.fortran ||
			h.dataOff != int64(len(file)-dataLen) || h.dataLen != int64(dataLen)):
			t.Errorf("%s: parsed %+v", c.name, h)
		}
		p := filepath.Join(dir, fmt.Sprintf("v%d.npy", i))
		if err := os.WriteFile(p, file, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}

	needNumpy(t)
	const script = `
import json, os, sys, warnings, numpy as np
warnings.simplefilter("ignore")
for path in sys.argv[1:]:
    try:
        a = np.load(path)
        print(json.dumps({"name": os.path.basename(path), "descr": a.dtype.str, "shape": list(a.shape),
                          "fortran": bool(a.flags.f_contiguous and not a.flags.c_contiguous)}))
    except Exception as e:
        print(json.dumps({"name": os.path.basename(path), "err": "%s: %s" % (type(e).__name__, e)}))
`
	res := decodeResults(t, runPython(t, script, paths...))
	for i, c := range cases {
		r, ok := res[filepath.Base(paths[i])]
		if !ok {
			t.Fatalf("%s: no result from numpy", c.name)
		}
		numpyOK := r.Err == ""
		if c.strict {
			if !numpyOK {
				t.Errorf("%s: marked stricter than numpy, but numpy refuses it too: %s", c.name, r.Err)
			}
			continue
		}
		if numpyOK != (results[i] == nil) {
			t.Errorf("%s: numpy ok=%v (%s), we err=%v", c.name, numpyOK, r.Err, results[i])
		}
	}
}

func TestParseNPYHeaderErrors(t *testing.T) {
	good := "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"
	withText := func(text string) []byte { return npyFile(1, text, 96) }
	withShape := func(shape string) []byte {
		return withText("{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }")
	}
	hdrLen := func(major byte, n uint32, total int) []byte {
		b := npyFile(major, "", total)
		if major == 1 {
			binary.LittleEndian.PutUint16(b[8:], uint16(n))
		} else {
			binary.LittleEndian.PutUint32(b[8:], n)
		}
		return b
	}
	enc1000, _ := encodeNPY(Float64, []int{1000, 1000}, false)
	long := npyFile(2, good+strings.Repeat(" ", npyMaxPrefix)+"\n", 96)
	nested := withText("{'descr': " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + ", 'fortran_order': False, 'shape': (3, 4), }")

	cases := []struct {
		name   string
		file   []byte
		size   int64 // 0: len(file)
		prefix int   // 0: npyPrefix(file)
		err    error
		msg    string
	}{
		{name: "empty file", file: []byte{}, err: ErrNotTensor, msg: "truncated"},
		{name: "bad magic", file: append([]byte("\x93NUMPX\x01\x00"), withText(good)[8:]...), err: ErrNotTensor, msg: "bad magic"},
		{name: "zip file", file: []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), err: ErrNotTensor, msg: "bad magic"},
		{name: "version 4.0", file: append([]byte("\x93NUMPY\x04\x00"), withText(good)[8:]...), err: ErrNotTensor, msg: "unsupported version 4.0"},
		{name: "version 1.1", file: append([]byte("\x93NUMPY\x01\x01"), withText(good)[8:]...), err: ErrNotTensor, msg: "unsupported version 1.1"},
		{name: "lying shape", file: append(enc1000, make([]byte, 100)...), err: ErrNotTensor,
			msg: "not a tensor segment: npy header: shape (1000, 1000) of float64 needs 8000000 bytes of data at offset 4096, file has 4196"},
		{name: "one byte short", file: withText(good)[:len(withText(good))-1], err: ErrNotTensor, msg: "needs 96 bytes"},
		{name: "negative dims", file: withShape("(-1, 3)"), err: ErrNotTensor, msg: "negative dimension -1"},
		{name: "too many dims", file: withShape("(" + strings.Repeat("1, ", MaxDims+1) + ")"), err: ErrNotTensor, msg: "65 dimensions"},
		{name: "MaxDims dims", file: withShape("(" + strings.Repeat("1, ", MaxDims-1) + "12)"), err: nil},
		{name: "overflowing product", file: withShape(fmt.Sprintf("(%d, %d)", math.MaxInt/2+1, 2)), err: ErrNotTensor, msg: "overflows"},
		{name: "dim beyond int64", file: withShape("(9223372036854775808,)"), err: ErrNotTensor, msg: "too large"},
		{name: "huge dim", file: withShape("(99999999999999999999999999999, 0)"), err: ErrNotTensor, msg: "too large"},
		{name: "huge dim times zero", file: withShape(fmt.Sprintf("(%d, 0)", math.MaxInt/8)), err: nil},
		{name: "unknown descr", file: withText("{'descr': '<q16', 'fortran_order': False, 'shape': (3, 4), }"), err: ErrDType, msg: `"<q16"`},
		{name: "object descr", file: withText("{'descr': '|O', 'fortran_order': False, 'shape': (12,), }"), err: ErrDType, msg: `"|O"`},
		{name: "big-endian", file: withText("{'descr': '>f8', 'fortran_order': False, 'shape': (3, 4), }"), err: ErrDType, msg: "big-endian"},
		{name: "structured", file: withText("{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,), }"), err: ErrDType, msg: "structured"},
		{name: "deeply nested descr", file: nested, err: ErrNotTensor, msg: "nested"},
		{name: "non-ASCII key", file: withText("{'d\xe9scr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"), err: ErrNotTensor, msg: "unknown key"},
		{name: "non-ASCII value", file: withText("{'descr': \xe9, 'fortran_order': False, 'shape': (3, 4), }"), err: ErrNotTensor, msg: "want a value"},
		{name: "duplicate key", file: withText("{'shape': (3, 4), 'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"), err: ErrNotTensor, msg: "duplicate key \"shape\""},
		{name: "missing key", file: withText("{'descr': '<f8', 'shape': (3, 4), }"), err: ErrNotTensor, msg: "missing key 'fortran_order'"},
		{name: "v1 header_len 0xffff", file: hdrLen(1, 0xffff, 200), err: ErrNotTensor, msg: "longer than"},
		{name: "v2 header_len 0xffffffff", file: hdrLen(2, 0xffffffff, 200), err: ErrNotTensor, msg: "longer than"},
		{name: "v3 header_len past EOF", file: hdrLen(3, 1000, 200), err: ErrNotTensor, msg: "header needs 1012 bytes, file has 212"},
		{name: "header longer than npyMaxPrefix", file: long, err: ErrNotTensor, msg: "longer than the 65536 bytes"},
		{name: "prefix too short for header", file: append(enc1000[:npyDataOffset:npyDataOffset], make([]byte, 96)...), size: 5000, prefix: 100, err: ErrNotTensor, msg: "only 100 bytes"},
		{name: "prefix longer than file", file: withText(good), size: 50, err: ErrNotTensor, msg: "for a file of 50 bytes"},
		{name: "negative file size", file: withText(good), size: -1, err: ErrNotTensor, msg: "negative file size"},
	}
	for _, c := range cases {
		size := c.size
		if size == 0 {
			size = int64(len(c.file))
		}
		prefix := npyPrefix(c.file)
		if c.prefix != 0 {
			prefix = prefix[:c.prefix]
		}
		_, err := parseNPYHeader(prefix, size)
		if c.err == nil {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if !errors.Is(err, c.err) || !strings.Contains(fmt.Sprint(err), c.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.err, c.msg)
		}
	}
}

// TestParseNPYHeaderTruncated cuts real files at every length: each cut is
// refused as ErrNotTensor and none panics.
func TestParseNPYHeaderTruncated(t *testing.T) {
	enc, _ := encodeNPY(Complex128, []int{2, 3}, true)
	files := [][]byte{append(enc, make([]byte, 96)...)}
	for _, h := range numpyHeaders[:5] {
		files = append(files, append([]byte(h.hdr), make([]byte, h.size-int64(len(h.hdr)))...))
	}
	for i, file := range files {
		if _, err := parseNPYHeader(npyPrefix(file), int64(len(file))); err != nil {
			t.Fatalf("file %d: whole file: %v", i, err)
		}
		hdr, _ := parseNPYHeader(npyPrefix(file), int64(len(file)))
		for n := range len(file) {
			if hdr.dataLen == 0 && int64(n) >= hdr.dataOff {
				break
			}
			_, err := parseNPYHeader(npyPrefix(file[:n]), int64(n))
			if !errors.Is(err, ErrNotTensor) {
				t.Fatalf("file %d cut at %d: err = %v, want ErrNotTensor", i, n, err)
			}
		}
	}
}

// checkHeader fails t unless h satisfies what every parsed header promises
// its caller, whatever the input.
func checkHeader(t *testing.T, h header, fileSize int64) {
	t.Helper()
	if !h.dtype.valid() {
		t.Fatalf("invalid dtype in %+v", h)
	}
	if len(h.shape) > MaxDims {
		t.Fatalf("%d dimensions", len(h.shape))
	}
	n := int64(h.dtype.Size())
	if slices.Contains(h.shape, 0) {
		n = 0 // however large the other dimensions are
	}
	for _, d := range h.shape {
		if d < 0 {
			t.Fatalf("negative dimension in %v", h.shape)
		}
		if n != 0 && n > math.MaxInt64/int64(d) {
			t.Fatalf("size of %v overflows but was accepted", h.shape)
		}
		n *= int64(d)
	}
	if h.dataLen != n {
		t.Fatalf("dataLen %d, want %d for %v of %v", h.dataLen, n, h.shape, h.dtype)
	}
	if h.dataOff < 0 || h.dataLen < 0 || h.dataOff > fileSize || h.dataLen > fileSize-h.dataOff {
		t.Fatalf("data [%d, +%d) outside a file of %d bytes", h.dataOff, h.dataLen, fileSize)
	}
}

// checkErr fails t unless err wraps one of the two sentinels the codecs use
// and says which codec refused.
func checkErr(t *testing.T, err error, codec string) {
	t.Helper()
	msg := err.Error()
	switch {
	case errors.Is(err, ErrNotTensor):
		if !strings.HasPrefix(msg, ErrNotTensor.Error()+": "+codec+": ") {
			t.Fatalf("message %q", msg)
		}
	case errors.Is(err, ErrDType):
		if !strings.HasPrefix(msg, ErrDType.Error()+": "+codec+": ") {
			t.Fatalf("message %q", msg)
		}
	default:
		t.Fatalf("error %v wraps neither ErrNotTensor nor ErrDType", err)
	}
}

func FuzzParseNPYHeader(f *testing.F) {
	for _, dt := range allDTypes {
		for _, shape := range [][]int{{}, {0}, {3, 4}, {2, 3, 1}} {
			enc, err := encodeNPY(dt, shape, len(shape) > 1)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(enc, npyDataOffset+int64(dt.Size())*product(shape))
		}
	}
	enc, _ := encodeNPY(Uint8, repeatDims(MaxDims), true)
	f.Add(enc, int64(npyDataOffset+1<<10))
	for _, h := range numpyHeaders {
		f.Add([]byte(h.hdr), h.size)
	}
	for _, file := range [][]byte{
		npyFile(2, "{'shape': (3L, 4L,), \"fortran_order\": True, u'descr': '=f8'  # c\n}", 96),
		npyFile(3, "{'descr': [('\u03b1', '<f8', (2,))], 'fortran_order': False, 'shape': (1_0,), }", 160),
	} {
		f.Add(file, int64(len(file)))
	}

	f.Fuzz(func(t *testing.T, prefix []byte, fileSize int64) {
		h, err := parseNPYHeader(prefix, fileSize)
		if err != nil {
			checkErr(t, err, "npy header")
			return
		}
		checkHeader(t, h, fileSize)
		if h.layout != NPY || h.dataOff < 10 || h.dataOff > int64(len(prefix)) || h.dataOff > npyMaxPrefix {
			t.Fatalf("bad header %+v for a %d-byte prefix", h, len(prefix))
		}
		enc, err := encodeNPY(h.dtype, h.shape, h.fortran)
		if err != nil {
			if h.dataLen <= math.MaxInt64-npyDataOffset {
				t.Fatalf("re-encoding %+v: %v", h, err)
			}
			return
		}
		h2, err := parseNPYHeader(enc, npyDataOffset+h.dataLen)
		if err != nil {
			t.Fatalf("parsing re-encoded %+v: %v", h, err)
		}
		if h2.dtype != h.dtype || !slices.Equal(h2.shape, h.shape) || h2.fortran != h.fortran || h2.dataLen != h.dataLen {
			t.Fatalf("re-encoded %+v parses as %+v", h, h2)
		}
	})
}

// FuzzParseNPYDict fuzzes the header dict alone, wrapped in a consistent
// file, so that mutations exercise the literal parser instead of mostly
// breaking the length fields FuzzParseNPYHeader also covers.
func FuzzParseNPYDict(f *testing.F) {
	for _, text := range []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
		"{'shape': (3L, 4L,), \"fortran_order\": True, u'descr': '=f8'  # c\n}",
		"{'descr': [('a', '<f8', (2,)), ('b', [('c', '|i1')])], 'fortran_order': False, 'shape': (1_0,), }",
		"{'descr': ('<f8', (2,)), 'fortran_order': None, 'shape': (-1, +2, 00)}",
		"  {\n\t'descr':'|b1','fortran_order':True,'shape':()}\n",
	} {
		for major := range byte(3) {
			f.Add(text, major+1)
		}
	}
	f.Fuzz(func(t *testing.T, text string, major byte) {
		major = major%3 + 1
		if major == 1 && len(text) > math.MaxUint16 {
			return
		}
		file := npyFile(major, text, 0)
		const room = 1 << 40 // data bytes the file claims to hold
		h, err := parseNPYHeader(npyPrefix(file), int64(len(file))+room)
		if err != nil {
			checkErr(t, err, "npy header")
			return
		}
		checkHeader(t, h, int64(len(file))+room)
		if h.dataOff != int64(len(file)) {
			t.Fatalf("dataOff %d, want %d", h.dataOff, len(file))
		}
		enc, err := encodeNPY(h.dtype, h.shape, h.fortran)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", h, err)
		}
		h2, err := parseNPYHeader(enc, npyDataOffset+h.dataLen)
		if err != nil || h2.dtype != h.dtype || !slices.Equal(h2.shape, h.shape) || h2.fortran != h.fortran {
			t.Fatalf("re-encoded %+v parses as %+v, %v", h, h2, err)
		}
	})
}

// canonicalDicts are dicts in the exact form parseCanonicalNPYDict reads,
// and near misses it must leave to the general parser.
var canonicalDicts = []struct {
	text string
	fast bool
}{
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", true},
	{"{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }", true},
	{"{'descr': '|b1', 'fortran_order': False, 'shape': (), }", true},
	{"{'descr': '<c8', 'fortran_order': True, 'shape': (2, 3), }", true},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (0, 0, 7), }", true},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3, ), }", true},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4,), }", true},
	{"{'descr': '<x9', 'fortran_order': False, 'shape': (3,), }", true}, // read fast, refused by dtypeFromDescr
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3), }", false}, // an int, not a tuple
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (03,), }", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (1_0,), }", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3L,), }", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", false},
	{"{'descr': '<f8', 'fortran_order': None, 'shape': (3,), }", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), } # c", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\x00", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}", false},
	{"{'shape': (3,), 'descr': '<f8', 'fortran_order': False, }", false},
	{"{'descr': '<f\\x38', 'fortran_order': False, 'shape': (3,), }", false},
	{"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }", false},
}

func TestCanonicalNPYDict(t *testing.T) {
	for _, c := range canonicalDicts {
		_, _, _, ok := parseCanonicalNPYDict([]byte(c.text))
		if ok != c.fast {
			t.Errorf("parseCanonicalNPYDict(%q) ok = %v, want %v", c.text, ok, c.fast)
		}
		checkSameAsGeneralParser(t, c.text)
	}
}

// checkSameAsGeneralParser parses text as it is and with a leading space,
// which the fast path never accepts, and wants the same header or the same
// kind of error from both.
func checkSameAsGeneralParser(t *testing.T, text string) {
	t.Helper()
	const room = 1 << 40
	a := npyFile(1, text, 0)
	b := npyFile(1, " "+text, 0)
	ha, erra := parseNPYHeader(npyPrefix(a), int64(len(a))+room)
	hb, errb := parseNPYHeader(npyPrefix(b), int64(len(b))+room)
	if (erra == nil) != (errb == nil) || errors.Is(erra, ErrDType) != errors.Is(errb, ErrDType) ||
		errors.Is(erra, ErrNotTensor) != errors.Is(errb, ErrNotTensor) {
		t.Fatalf("%q: fast path says %v, general parser %v", text, erra, errb)
	}
	if erra == nil && (ha.dtype != hb.dtype || ha.fortran != hb.fortran || !slices.Equal(ha.shape, hb.shape) ||
		ha.dataLen != hb.dataLen || ha.dataOff+1 != hb.dataOff) {
		t.Fatalf("%q: fast path reads %+v, general parser %+v", text, ha, hb)
	}
}

// FuzzCanonicalNPYDict checks that whatever the fast path accepts, the
// general parser reads the same way.
func FuzzCanonicalNPYDict(f *testing.F) {
	for _, c := range canonicalDicts {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 60000 {
			return
		}
		checkSameAsGeneralParser(t, text)
	})
}

// encodeNPY validates dt and shape as Create does and returns a segment's
// .npy header for them.
func encodeNPY(dt DType, shape []int, fortran bool) ([]byte, error) {
	h, err := newHeader(NPY, dt, shape, fortran)
	if err != nil {
		return nil, err
	}
	return encodeNPYHeader(h, npyDataOffset), nil
}
