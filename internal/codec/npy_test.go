package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// npyFile builds an .npy file: magic, version major.0, header length (2
// bytes for 1.0, 4 otherwise), text, then dataLen zero bytes.
func npyFile(major byte, text string, dataLen int) []byte {
	b := []byte(NPYMagic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(text)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(text)))
	}
	b = append(b, text...)
	return append(b, make([]byte, dataLen)...)
}

// npyPrefix returns what a caller passes to ParseNPYHeader for file.
func npyPrefix(file []byte) []byte { return file[:min(len(file), NPYMaxPrefix)] }

// numpyDir holds .npy files written by numpy 1.24.2; its README.md says
// how they were made.
const numpyDir = "testdata/npy"

// numpyFiles is the table of testdata/npy/README.md: each file, what
// ParseNPYHeader makes of it, and for those it reads, the values in file
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
	{"u3_2.npy", errs.ErrDType, nil},
	{"struct_3.npy", errs.ErrDType, nil},
	{"f64be_2.npy", errs.ErrDType, nil},
	{"struct_latin1_3.npy", errs.ErrDType, nil},
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
		h, err := ParseNPYHeader(npyPrefix(file), size)
		if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", c.file, err, c.err)
			continue
		}
		var bo *ByteOrderError
		if errors.As(err, &bo) {
			// Big-endian: refused, but the header it carries is the file's.
			h = bo.Header
			if c.file != "f64be_2.npy" || h.DType != Float64 || !slices.Equal(h.Shape, []int{2}) ||
				h.DataOff != int64(hdrLen) || h.DataOff+h.DataLen != size {
				t.Errorf("%s: byte order error with %+v", c.file, h)
			}
			continue
		}
		if err != nil {
			continue
		}
		if h.DataOff != int64(hdrLen) || h.DataOff+h.DataLen != size {
			t.Errorf("%s: dataOff %d dataLen %d, file has %d bytes after a %d-byte header",
				c.file, h.DataOff, h.DataLen, size, hdrLen)
			continue
		}
		if got := decodeValues(h.DType, file[h.DataOff:h.DataOff+h.DataLen]); !slices.Equal(got, c.values) {
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
		if len(b) != NPYDataOffset {
			t.Fatalf("%v %v: %d bytes, want %d", c.dt, c.shape, len(b), NPYDataOffset)
		}
		if got := string(b[:8]); got != "\x93NUMPY\x01\x00" {
			t.Errorf("%v %v: magic and version %q", c.dt, c.shape, got)
		}
		if n := binary.LittleEndian.Uint16(b[8:]); 10+int(n) != NPYDataOffset {
			t.Errorf("%v %v: HEADER_LEN %d, want %d", c.dt, c.shape, n, NPYDataOffset-10)
		}
		if got := string(b[10 : 10+len(c.dict)]); got != c.dict {
			t.Errorf("%v %v: dict\n got %s\nwant %s", c.dt, c.shape, got, c.dict)
		}
		pad := b[10+len(c.dict) : NPYDataOffset-1]
		if len(bytes.Trim(pad, " ")) != 0 {
			t.Errorf("%v %v: padding is not all spaces: %q", c.dt, c.shape, bytes.Trim(pad, " "))
		}
		if b[NPYDataOffset-1] != '\n' {
			t.Errorf("%v %v: last header byte %q, want newline", c.dt, c.shape, b[NPYDataOffset-1])
		}
	}
}

func TestEncodeNPYHeaderErrors(t *testing.T) {
	cases := []encodeCase{
		{"invalid dtype", Invalid, []int{3}, errs.ErrDType},
		{"out-of-range dtype", DType(200), []int{3}, errs.ErrDType},
		{"negative dim", Float64, []int{3, -1}, errs.ErrShape},
		{"too many dims", Uint8, make([]int, MaxDims+1), errs.ErrShape},
		{"element count overflows", Uint8, []int{math.MaxInt/2 + 1, 2}, errs.ErrShape},
		{"byte size overflows", Float64, []int{math.MaxInt/8 + 1}, errs.ErrShape},
	}
	if math.MaxInt == math.MaxInt64 {
		cases = append(cases, encodeCase{"header plus data overflow int64", Uint8, []int{math.MaxInt}, errs.ErrShape})
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
					size := NPYDataOffset + dataLen + extra
					prefix := append(enc, make([]byte, min(size, NPYMaxPrefix)-NPYDataOffset)...)
					h, err := ParseNPYHeader(prefix, size)
					if err != nil {
						t.Fatalf("parse %v %v fortran=%v: %v", dt, shape, fortran, err)
					}
					if h.Layout != NPY || h.DType != dt || !slices.Equal(h.Shape, shape) || h.Fortran != fortran ||
						h.DataOff != NPYDataOffset || h.DataLen != dataLen {
						t.Fatalf("%v %v fortran=%v: parsed %+v", dt, shape, fortran, h)
					}
					if h.Shape == nil {
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
		{[]byte(NPYMagic), true},
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
	long := npyFile(2, good+strings.Repeat(" ", NPYMaxPrefix)+"\n", 96)
	nested := withText("{'descr': " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + ", 'fortran_order': False, 'shape': (3, 4), }")

	cases := []parseCase{
		{name: "empty file", file: []byte{}, err: errs.ErrNotTensor, msg: "truncated"},
		{name: "bad magic", file: append([]byte("\x93NUMPX\x01\x00"), withText(good)[8:]...), err: errs.ErrNotTensor, msg: "bad magic"},
		{name: "zip file", file: []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), err: errs.ErrNotTensor, msg: "bad magic"},
		{name: "version 4.0", file: append([]byte("\x93NUMPY\x04\x00"), withText(good)[8:]...), err: errs.ErrNotTensor, msg: "unsupported version 4.0"},
		{name: "version 1.1", file: append([]byte("\x93NUMPY\x01\x01"), withText(good)[8:]...), err: errs.ErrNotTensor, msg: "unsupported version 1.1"},
		{name: "lying shape", file: append(enc1000, make([]byte, 100)...), err: errs.ErrNotTensor,
			msg: "not a tensor segment: npy header: shape (1000, 1000) of float64 needs 8000000 bytes of data at offset 4096, file has 4196"},
		{name: "one byte short", file: withText(good)[:len(withText(good))-1], err: errs.ErrNotTensor, msg: "needs 96 bytes"},
		{name: "negative dims", file: withShape("(-1, 3)"), err: errs.ErrNotTensor, msg: "negative dimension -1"},
		{name: "too many dims", file: withShape("(" + strings.Repeat("1, ", MaxDims+1) + ")"), err: errs.ErrNotTensor, msg: "65 dimensions"},
		{name: "MaxDims dims", file: withShape("(" + strings.Repeat("1, ", MaxDims-1) + "12)"), err: nil},
		{name: "overflowing product", file: withShape(fmt.Sprintf("(%d, %d)", math.MaxInt/2+1, 2)), err: errs.ErrNotTensor, msg: "overflows"},
		{name: "dim beyond int64", file: withShape("(9223372036854775808,)"), err: errs.ErrNotTensor, msg: "too large"},
		{name: "huge dim", file: withShape("(99999999999999999999999999999, 0)"), err: errs.ErrNotTensor, msg: "too large"},
		{name: "huge dim times zero", file: withShape(fmt.Sprintf("(%d, 0)", math.MaxInt/8)), err: nil},
		// numpy refuses these ("array is too big"): empty, but the byte
		// stride of the first axis, 8 << 60, overflows.
		{name: "empty, too big", file: withShape("(0, 1152921504606846976)"), err: errs.ErrNotTensor,
			msg: "shape (0, 1152921504606846976) of float64 is too big: its 8-byte items times its non-zero dimensions exceed"},
		{name: "too big, empty", file: withShape("(1152921504606846976, 0)"), err: errs.ErrNotTensor, msg: "too big"},
		{name: "empty, max dim", file: withShape("(0, 9223372036854775807)"), err: errs.ErrNotTensor, msg: "too big"},
		{name: "empty, just fits", file: withShape("(0, 1152921504606846975)"), err: nil},
		{name: "unknown descr", file: withText("{'descr': '<q16', 'fortran_order': False, 'shape': (3, 4), }"), err: errs.ErrDType, msg: `"<q16"`},
		{name: "object descr", file: withText("{'descr': '|O', 'fortran_order': False, 'shape': (12,), }"), err: errs.ErrDType, msg: `"|O"`},
		{name: "big-endian", file: withText("{'descr': '>f8', 'fortran_order': False, 'shape': (3, 4), }"), err: errs.ErrDType,
			msg: "npy header: big-endian '>f8' data: shmtensor maps only native little-endian element types; numpy can convert it with arr.astype('<f8')"},
		// A big-endian header is checked as fully as a native one.
		{name: "big-endian, lying shape", file: withText("{'descr': '>f8', 'fortran_order': False, 'shape': (3, 5), }"), err: errs.ErrNotTensor, msg: "needs 120 bytes"},
		{name: "big-endian, too big", file: withText("{'descr': '>f8', 'fortran_order': False, 'shape': (0, 1152921504606846976), }"), err: errs.ErrNotTensor, msg: "too big"},
		{name: "big-endian unknown", file: withText("{'descr': '>q16', 'fortran_order': False, 'shape': (3, 4), }"), err: errs.ErrDType, msg: "unknown element type"},
		{name: "structured", file: withText("{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,), }"), err: errs.ErrDType, msg: "structured"},
		{name: "deeply nested descr", file: nested, err: errs.ErrNotTensor, msg: "nested"},
		{name: "non-ASCII key", file: withText("{'d\xe9scr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"), err: errs.ErrNotTensor, msg: "unknown key"},
		{name: "non-ASCII value", file: withText("{'descr': \xe9, 'fortran_order': False, 'shape': (3, 4), }"), err: errs.ErrNotTensor, msg: "want a value"},
		{name: "duplicate key", file: withText("{'shape': (3, 4), 'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"), err: errs.ErrNotTensor, msg: "duplicate key \"shape\""},
		{name: "missing key", file: withText("{'descr': '<f8', 'shape': (3, 4), }"), err: errs.ErrNotTensor, msg: "missing key 'fortran_order'"},
		{name: "v1 header_len 0xffff", file: hdrLen(1, 0xffff, 200), err: errs.ErrNotTensor, msg: "longer than"},
		{name: "v2 header_len 0xffffffff", file: hdrLen(2, 0xffffffff, 200), err: errs.ErrNotTensor, msg: "longer than"},
		{name: "v3 header_len past EOF", file: hdrLen(3, 1000, 200), err: errs.ErrNotTensor, msg: "header needs 1012 bytes, file has 212"},
		{name: "header longer than NPYMaxPrefix", file: long, err: errs.ErrNotTensor, msg: "longer than the 65536 bytes"},
		{name: "prefix too short for header", file: append(enc1000[:NPYDataOffset:NPYDataOffset], make([]byte, 96)...), size: 5000, cut: 100, err: errs.ErrNotTensor, msg: "only 100 bytes"},
		{name: "prefix longer than file", file: withText(good), size: 50, err: errs.ErrNotTensor, msg: "for a file of 50 bytes"},
		{name: "negative file size", file: withText(good), size: -1, err: errs.ErrNotTensor, msg: "negative file size"},
	}
	cases = on32Bit(cases, "empty, too big", "too big, empty", "empty, max dim", "empty, just fits", "big-endian, too big")
	testParseErrors(t, func(file []byte, size int64, cut int) (Header, error) {
		prefix := npyPrefix(file)
		if cut != 0 {
			prefix = prefix[:cut]
		}
		return ParseNPYHeader(prefix, size)
	}, cases)
}

// TestParseNPYHeaderTruncated cuts real files at every length: each cut is
// refused as errs.ErrNotTensor and none panics.
func TestParseNPYHeaderTruncated(t *testing.T) {
	enc, _ := encodeNPY(Complex128, []int{2, 3}, true)
	files := [][]byte{append(enc, make([]byte, 96)...)}
	for _, nf := range numpyFiles {
		if nf.err == nil {
			files = append(files, readNumpyFile(t, nf.file))
		}
	}
	for i, file := range files {
		if _, err := ParseNPYHeader(npyPrefix(file), int64(len(file))); err != nil {
			t.Fatalf("file %d: whole file: %v", i, err)
		}
		hdr, _ := ParseNPYHeader(npyPrefix(file), int64(len(file)))
		for n := range len(file) {
			if hdr.DataLen == 0 && int64(n) >= hdr.DataOff {
				break
			}
			_, err := ParseNPYHeader(npyPrefix(file[:n]), int64(n))
			if !errors.Is(err, errs.ErrNotTensor) {
				t.Fatalf("file %d cut at %d: err = %v, want errs.ErrNotTensor", i, n, err)
			}
		}
	}
}

// encodeNPY validates dt and shape as Create does and returns a segment's
// .npy header for them.
func encodeNPY(dt DType, shape []int, fortran bool) ([]byte, error) {
	h, err := NewHeader(NPY, dt, shape, fortran)
	if err != nil {
		return nil, err
	}
	return EncodeNPYHeader(h, NPYDataOffset), nil
}
