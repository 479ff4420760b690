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

// numpyDir holds .npy files written by numpy 1.24.2; its README.md says
// how they were made.
const numpyDir = "testdata/npy"

// numpyFiles is the table of testdata/npy/README.md: each file, what
// parseNPYHeader makes of it, and for those it reads, the values in file
// order. They seed the fuzzer and pin numpy's exact formatting, including
// its 64-byte alignment.
var numpyFiles = []struct {
	file   string
	err    error // nil: parses
	values []complex128
}{
	{"f64_3x4.npy", nil, []complex128{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{"i32_5.npy", nil, []complex128{1, 2, 3, 4, -1}},
	{"b1_scalar.npy", nil, []complex128{1}},
	{"c64_2x3_fortran_v2.npy", nil, []complex128{1 + 2i, 5, 3, 6, 4, -7.5i}},
	{"f64_2x3_v3.npy", nil, []complex128{0, 1, 2, 3, 4, 5}},
	{"u3_2.npy", ErrDType, nil},
	{"struct_3.npy", ErrDType, nil},
	{"f64be_2.npy", ErrDType, nil},
	{"struct_latin1_3.npy", ErrDType, nil},
}

// readNumpyFile returns the contents of a file in numpyDir.
func readNumpyFile(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(numpyDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// npyHeaderLen returns the length of the magic, version, HEADER_LEN and
// header text of a well-formed .npy file.
func npyHeaderLen(file []byte) int {
	if file[6] == 1 {
		return 10 + int(binary.LittleEndian.Uint16(file[8:]))
	}
	return 12 + int(binary.LittleEndian.Uint32(file[8:]))
}

// TestNumpyWrittenFiles checks that the files numpy wrote parse (or are
// refused) as the table says, that their header lengths show numpy's
// 64-byte alignment of the data, and that the data holds the values.
func TestNumpyWrittenFiles(t *testing.T) {
	entries, err := filepath.Glob(filepath.Join(numpyDir, "*.npy"))
	if err != nil || len(entries) != len(numpyFiles) {
		t.Errorf("%s holds %d .npy files (%v), the table %d", numpyDir, len(entries), err, len(numpyFiles))
	}
	for _, c := range numpyFiles {
		file := readNumpyFile(t, c.file)
		size := int64(len(file))
		hdrLen := npyHeaderLen(file)
		if hdrLen%64 != 0 {
			t.Errorf("%s: numpy header length %d is not a multiple of 64", c.file, hdrLen)
		}
		h, err := parseNPYHeader(npyPrefix(file), size)
		if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", c.file, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if h.dataOff != int64(hdrLen) || h.dataOff+h.dataLen != size {
			t.Errorf("%s: dataOff %d dataLen %d, file has %d bytes after a %d-byte header",
				c.file, h.dataOff, h.dataLen, size, hdrLen)
			continue
		}
		if got := decodeValues(h.dtype, file[h.dataOff:h.dataOff+h.dataLen]); !slices.Equal(got, c.values) {
			t.Errorf("%s: values %v, want %v", c.file, got, c.values)
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
	cases := []encodeCase{
		{"invalid dtype", Invalid, []int{3}, ErrDType},
		{"out-of-range dtype", DType(200), []int{3}, ErrDType},
		{"negative dim", Float64, []int{3, -1}, ErrShape},
		{"too many dims", Uint8, make([]int, MaxDims+1), ErrShape},
		{"element count overflows", Uint8, []int{math.MaxInt/2 + 1, 2}, ErrShape},
		{"byte size overflows", Float64, []int{math.MaxInt/8 + 1}, ErrShape},
	}
	if math.MaxInt == math.MaxInt64 {
		cases = append(cases, encodeCase{"header plus data overflow int64", Uint8, []int{math.MaxInt}, ErrShape})
	}
	testEncodeErrors(t, func(dt DType, shape []int) ([]byte, error) {
		return encodeNPY(dt, shape, false)
	}, cases)
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
		{readNumpyFile(t, "c64_2x3_fortran_v2.npy"), true},
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

	cases := []parseCase{
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
		{name: "prefix too short for header", file: append(enc1000[:npyDataOffset:npyDataOffset], make([]byte, 96)...), size: 5000, cut: 100, err: ErrNotTensor, msg: "only 100 bytes"},
		{name: "prefix longer than file", file: withText(good), size: 50, err: ErrNotTensor, msg: "for a file of 50 bytes"},
		{name: "negative file size", file: withText(good), size: -1, err: ErrNotTensor, msg: "negative file size"},
	}
	testParseErrors(t, func(file []byte, size int64, cut int) (header, error) {
		prefix := npyPrefix(file)
		if cut != 0 {
			prefix = prefix[:cut]
		}
		return parseNPYHeader(prefix, size)
	}, cases)
}

// TestParseNPYHeaderTruncated cuts real files at every length: each cut is
// refused as ErrNotTensor and none panics.
func TestParseNPYHeaderTruncated(t *testing.T) {
	enc, _ := encodeNPY(Complex128, []int{2, 3}, true)
	files := [][]byte{append(enc, make([]byte, 96)...)}
	for _, nf := range numpyFiles {
		if nf.err == nil {
			files = append(files, readNumpyFile(t, nf.file))
		}
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

// encodeNPY validates dt and shape as Create does and returns a segment's
// .npy header for them.
func encodeNPY(dt DType, shape []int, fortran bool) ([]byte, error) {
	h, err := newHeader(NPY, dt, shape, fortran)
	if err != nil {
		return nil, err
	}
	return encodeNPYHeader(h, npyDataOffset), nil
}

// BenchmarkParseNPYHeader parses the header Create writes (a dict padded
// with spaces to a page), which every Attach does.
func BenchmarkParseNPYHeader(b *testing.B) {
	hb, err := encodeNPY(Float64, []int{1000, 64}, false)
	if err != nil {
		b.Fatal(err)
	}
	size := int64(len(hb)) + 1000*64*8
	for b.Loop() {
		if _, err := parseNPYHeader(hb, size); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTrimPadding compares trimPadding's fast path with trimming byte by
// byte.
func TestTrimPadding(t *testing.T) {
	pad := strings.Repeat(" ", 4000)
	for _, s := range []string{
		"", " ", "\n", "}", "}\n", "} \n", "{'a': 1}" + pad + "\n", "{'a': 1}" + pad,
		"{'a': 1}\n" + pad + "\n", "{'a}': 1}" + pad + "\n", "{'a': 1} x" + pad + "\n",
		"{'a': (1, 2)}" + pad[:7] + "\n\n", "{'a': 1}\t" + pad, "no dict" + pad + "\n", "}}" + pad,
	} {
		got, want := string(trimPadding([]byte(s))), strings.TrimRight(s, " \n")
		if got != want {
			t.Errorf("trimPadding(%.40q...) = %.40q, want %.40q", s, got, want)
		}
	}
}
