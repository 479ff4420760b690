package shmtensor

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
)

// saFixtureDir is where the SharedArray 3.2.3 fixtures live, relative to
// the repository root (the test's working directory).
const saFixtureDir = "../shared/fixtures/sharedarray"

// saFixtures is the table of fixtures/sharedarray/README.md.
var saFixtures = []struct {
	file   string
	dt     DType
	shape  []int
	values []complex128 // C order
}{
	{"f64_3x4.sa", Float64, []int{3, 4}, []complex128{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	{"i32_5.sa", Int32, []int{5}, []complex128{1, 2, 3, 4, -1}},
	{"u8_2x3x4.sa", Uint8, []int{2, 3, 4}, func() []complex128 {
		v := make([]complex128, 24)
		for i := range v {
			v[i] = complex(float64(i), 0)
		}
		return v
	}()},
	{"c128_2.sa", Complex128, []int{2}, []complex128{1 + 2i, -3.5 - 0.25i}},
	{"f32_scalar.sa", Float32, []int{}, []complex128{6.5}},
	{"i64_empty.sa", Int64, []int{0}, nil},
	{"i16_2x2.sa", Int16, []int{2, 2}, []complex128{-1, 2, -300, 400}},
}

// needSAFixtures returns saFixtureDir, skipping the test if it is missing,
// except under CI=true, where that is a failure.
func needSAFixtures(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(saFixtureDir); err != nil {
		msg := fmt.Sprintf("SharedArray fixtures not found at %s (relative to the repository root): %v", saFixtureDir, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return saFixtureDir
}

// saTail returns what a caller passes to parseSATrailer for file.
func saTail(file []byte) []byte { return file[len(file)-min(len(file), saTrailerSizeNumpy2):] }

// decodeValues reads little-endian elements of dt from data.
func decodeValues(dt DType, data []byte) []complex128 {
	le := binary.LittleEndian
	var v []complex128
	for i := 0; i+dt.Size() <= len(data); i += dt.Size() {
		b := data[i:]
		var x complex128
		switch dt {
		case Bool, Uint8:
			x = complex(float64(b[0]), 0)
		case Int8:
			x = complex(float64(int8(b[0])), 0)
		case Int16:
			x = complex(float64(int16(le.Uint16(b))), 0)
		case Uint16:
			x = complex(float64(le.Uint16(b)), 0)
		case Int32:
			x = complex(float64(int32(le.Uint32(b))), 0)
		case Uint32:
			x = complex(float64(le.Uint32(b)), 0)
		case Int64:
			x = complex(float64(int64(le.Uint64(b))), 0)
		case Uint64:
			x = complex(float64(le.Uint64(b)), 0)
		case Float32:
			x = complex(float64(math.Float32frombits(le.Uint32(b))), 0)
		case Float64:
			x = complex(math.Float64frombits(le.Uint64(b)), 0)
		case Complex64:
			x = complex(float64(math.Float32frombits(le.Uint32(b))), float64(math.Float32frombits(le.Uint32(b[4:]))))
		case Complex128:
			x = complex(math.Float64frombits(le.Uint64(b)), math.Float64frombits(le.Uint64(b[8:])))
		}
		v = append(v, x)
	}
	return v
}

// TestSAFixtures parses every fixture written by SharedArray 3.2.3, checks
// its data, and rebuilds it byte for byte from its data and encodeSATrailer.
func TestSAFixtures(t *testing.T) {
	dir := needSAFixtures(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sa") {
			seen[e.Name()] = false
		}
	}
	for _, fx := range saFixtures {
		if _, ok := seen[fx.file]; !ok {
			t.Errorf("%s: listed in the README but missing", fx.file)
			continue
		}
		seen[fx.file] = true
		file, err := os.ReadFile(filepath.Join(dir, fx.file))
		if err != nil {
			t.Fatal(err)
		}
		h, err := parseSATrailer(saTail(file), int64(len(file)))
		if err != nil {
			t.Errorf("%s: %v", fx.file, err)
			continue
		}
		dataLen := int64(fx.dt.Size()) * product(fx.shape)
		if h.layout != SharedArray || h.dtype != fx.dt || !slices.Equal(h.shape, fx.shape) || h.fortran ||
			h.dataOff != 0 || h.dataLen != dataLen {
			t.Errorf("%s: parsed %+v, want %v %v with %d bytes of data", fx.file, h, fx.dt, fx.shape, dataLen)
			continue
		}
		if int64(len(file)) != dataLen+saTrailerSize {
			t.Errorf("%s: %d bytes, want data %d + trailer %d", fx.file, len(file), dataLen, saTrailerSize)
		}
		if got := decodeValues(h.dtype, file[h.dataOff:h.dataOff+h.dataLen]); !slices.Equal(got, fx.values) {
			t.Errorf("%s: values %v, want %v", fx.file, got, fx.values)
		}
		tr, err := encodeSA(fx.dt, fx.shape)
		if err != nil {
			t.Errorf("%s: encode: %v", fx.file, err)
			continue
		}
		if rebuilt := append(slices.Clone(file[:dataLen]), tr...); !bytes.Equal(rebuilt, file) {
			t.Errorf("%s: data + encodeSATrailer differs from the fixture\n got %x\nwant %x", fx.file, rebuilt[dataLen:], file[dataLen:])
		}
	}
	for name, listed := range seen {
		if !listed {
			t.Errorf("%s: fixture not in the test's table", name)
		}
	}
}

func TestEncodeSATrailerBytes(t *testing.T) {
	tr, err := encodeSA(Uint16, []int{3, 0, 7})
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if len(tr) != saTrailerSize {
		t.Fatalf("%d bytes, want %d", len(tr), saTrailerSize)
	}
	if got := string(tr[:16]); got != "[SharedArray]\x00\x00\x00" {
		t.Errorf("magic %q", got)
	}
	if le.Uint64(tr[16:]) != 0 || le.Uint32(tr[24:]) != 4 || le.Uint32(tr[28:]) != 2 || le.Uint32(tr[32:]) != 3 {
		t.Errorf("size/typenum/itemsize/ndims: % x", tr[16:36])
	}
	if le.Uint64(tr[36:]) != 3 || le.Uint64(tr[44:]) != 0 || le.Uint64(tr[52:]) != 7 {
		t.Errorf("dims: % x", tr[36:60])
	}
	if len(bytes.Trim(tr[60:], "\x00")) != 0 {
		t.Errorf("unused dim slots are not zero: % x", tr[60:])
	}

	tr, _ = encodeSA(Complex64, []int{5, 2})
	if le.Uint64(tr[16:]) != 80 || le.Uint32(tr[24:]) != 14 || le.Uint32(tr[28:]) != 8 {
		t.Errorf("complex64 (5, 2): % x", tr[16:36])
	}
}

func TestEncodeSATrailerErrors(t *testing.T) {
	cases := []struct {
		name  string
		dt    DType
		shape []int
		want  error
	}{
		{"invalid dtype", Invalid, []int{3}, ErrDType},
		{"out-of-range dtype", DType(99), []int{3}, ErrDType},
		{"33 dims", Uint8, repeatDims(33), ErrShape},
		{"MaxDims dims", Uint8, repeatDims(MaxDims), ErrShape},
		{"negative dim", Int32, []int{2, -2}, ErrShape},
		{"overflow", Float64, []int{math.MaxInt/4 + 1, 4}, ErrShape},
	}
	if math.MaxInt == math.MaxInt64 {
		cases = append(cases, struct {
			name  string
			dt    DType
			shape []int
			want  error
		}{"file size overflows int64", Uint8, []int{math.MaxInt - 100}, ErrShape})
	}
	for _, c := range cases {
		tr, err := encodeSA(c.dt, c.shape)
		if !errors.Is(err, c.want) || tr != nil {
			t.Errorf("%s: got %d bytes, err %v; want %v", c.name, len(tr), err, c.want)
		}
	}
}

func TestSARoundTrip(t *testing.T) {
	for _, dt := range allDTypes {
		for _, shape := range roundTripShapes {
			tr, err := encodeSA(dt, shape)
			if err != nil {
				t.Fatalf("encode %v %v: %v", dt, shape, err)
			}
			dataLen := int64(dt.Size()) * product(shape)
			// Exact size, then page-rounded sizes with a gap before the trailer.
			for _, gap := range []int64{0, 1, 4096 - (dataLen+saTrailerSize)%4096} {
				file := append(make([]byte, dataLen+gap), tr...)
				h, err := parseSATrailer(saTail(file), int64(len(file)))
				if err != nil {
					t.Fatalf("%v %v gap %d: %v", dt, shape, gap, err)
				}
				if h.layout != SharedArray || h.dtype != dt || !slices.Equal(h.shape, shape) || h.fortran ||
					h.dataOff != 0 || h.dataLen != dataLen {
					t.Fatalf("%v %v gap %d: parsed %+v", dt, shape, gap, h)
				}
				if !isSATrailer(saTail(file), int64(len(file))) {
					t.Fatalf("%v %v: isSATrailer false", dt, shape)
				}
			}
		}
	}
}

// saTrailer548 builds the 548-byte trailer of a numpy-2 build of
// SharedArray: the same fields, with 64 dim slots.
func saTrailer548(dt DType, shape []int) []byte {
	t := make([]byte, saTrailerSizeNumpy2)
	copy(t, saMagic)
	le := binary.LittleEndian
	le.PutUint64(t[16:], uint64(int64(dt.Size())*product(shape)))
	le.PutUint32(t[24:], uint32(dt.typeNum()))
	le.PutUint32(t[28:], uint32(dt.Size()))
	le.PutUint32(t[32:], uint32(len(shape)))
	for i, d := range shape {
		le.PutUint64(t[36+8*i:], uint64(d))
	}
	return t
}

func TestParseSATrailer548(t *testing.T) {
	for _, shape := range [][]int{{3, 4}, {}, repeatDims(33), repeatDims(MaxDims)} {
		dataLen := 2 * product(shape)
		file := append(make([]byte, dataLen), saTrailer548(Float16, shape)...)
		h, err := parseSATrailer(saTail(file), int64(len(file)))
		if err != nil {
			t.Fatalf("%d dims: %v", len(shape), err)
		}
		if h.dtype != Float16 || !slices.Equal(h.shape, shape) || h.dataOff != 0 || h.dataLen != dataLen {
			t.Fatalf("%d dims: parsed %+v", len(shape), h)
		}
		// The magic is only found at file_size-548 if the caller passes
		// that many bytes.
		if _, err := parseSATrailer(file[len(file)-saTrailerSize:], int64(len(file))); !errors.Is(err, ErrNotTensor) {
			t.Fatalf("%d dims, 292-byte tail: err = %v", len(shape), err)
		}
	}
	tr := saTrailer548(Uint8, repeatDims(MaxDims))
	binary.LittleEndian.PutUint32(tr[32:], MaxDims+1)
	if _, err := parseSATrailer(tr, int64(len(tr))+100); !errors.Is(err, ErrNotTensor) || !strings.Contains(err.Error(), "65 dimensions") {
		t.Fatalf("65 dims: err = %v", err)
	}
}

func TestParseSATrailerErrors(t *testing.T) {
	le := binary.LittleEndian
	// base is a valid float64 (3, 4) file; each case mutates its trailer.
	base := func(mut func(tr []byte)) []byte {
		tr, _ := encodeSA(Float64, []int{3, 4})
		if mut != nil {
			mut(tr)
		}
		return append(make([]byte, 96), tr...)
	}
	cases := []struct {
		name string
		file []byte
		size int64 // 0: len(file)
		tail int   // 0: saTail(file)
		err  error // nil: must parse
		msg  string
	}{
		{name: "valid", file: base(nil)},
		{name: "garbage after the magic's NUL", file: base(func(tr []byte) { tr[14], tr[15] = 'x', 'y' })},
		{name: "unused dim slots set", file: base(func(tr []byte) { le.PutUint64(tr[36+8*5:], 77) })},
		{name: "type number 9 (longlong)", file: base(func(tr []byte) { le.PutUint32(tr[24:], 9) })},
		{name: "empty file", file: []byte{}, err: ErrNotTensor, msg: "shorter than the 292-byte trailer"},
		{name: "shorter than a trailer", file: base(nil)[97:], err: ErrNotTensor, msg: "shorter than the 292-byte trailer"},
		{name: "bad magic", file: base(func(tr []byte) { tr[12] = '}' }), err: ErrNotTensor, msg: "no \"[SharedArray]\" magic"},
		{name: "magic not NUL-terminated", file: base(func(tr []byte) { tr[13] = ' ' }), err: ErrNotTensor, msg: "magic"},
		{name: "npy file", file: npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (300,), }", 2400), err: ErrNotTensor, msg: "magic"},
		{name: "unknown type number", file: base(func(tr []byte) { le.PutUint32(tr[24:], 13) }), err: ErrDType, msg: "type number 13"},
		{name: "object type number", file: base(func(tr []byte) { le.PutUint32(tr[24:], 17) }), err: ErrDType, msg: "type number 17"},
		{name: "negative type number", file: base(func(tr []byte) { le.PutUint32(tr[24:], 0xffffffff) }), err: ErrDType, msg: "type number -1"},
		{name: "item size mismatch", file: base(func(tr []byte) { le.PutUint32(tr[28:], 4) }), err: ErrNotTensor, msg: "item size 4"},
		{name: "negative ndims", file: base(func(tr []byte) { le.PutUint32(tr[32:], 0xffffffff) }), err: ErrNotTensor, msg: "-1 dimensions"},
		{name: "33 dims", file: base(func(tr []byte) { le.PutUint32(tr[32:], 33) }), err: ErrNotTensor, msg: "33 dimensions"},
		{name: "negative dim", file: base(func(tr []byte) { le.PutUint64(tr[44:], uint64(1<<64-4)) }), err: ErrNotTensor, msg: "dimension 1 is negative: -4"},
		{name: "overflowing dims", file: base(func(tr []byte) {
			le.PutUint64(tr[36:], math.MaxInt/2+1)
			le.PutUint64(tr[44:], 2)
		}), err: ErrNotTensor, msg: "overflows"},
		{name: "size field too big", file: base(func(tr []byte) { le.PutUint64(tr[16:], 97) }), err: ErrNotTensor, msg: "data size field says 97 bytes, shape (3, 4) of float64 needs 96"},
		{name: "size field zero", file: base(func(tr []byte) { le.PutUint64(tr[16:], 0) }), err: ErrNotTensor, msg: "data size field"},
		{name: "lying shape", file: base(func(tr []byte) {
			le.PutUint64(tr[16:], 8*3*5)
			le.PutUint64(tr[44:], 5)
		}), err: ErrNotTensor, msg: "shape (3, 5) of float64 needs 120 bytes of data before the trailer, file has 96"},
		{name: "tail shorter than a trailer", file: base(nil), tail: 200, err: ErrNotTensor, msg: "only the last 200 bytes"},
		{name: "tail longer than file", file: base(nil), size: 300, err: ErrNotTensor, msg: "for a file of 300 bytes"},
		{name: "negative file size", file: base(nil), size: -5, err: ErrNotTensor, msg: "negative file size"},
	}
	for _, c := range cases {
		size := c.size
		if size == 0 {
			size = int64(len(c.file))
		}
		tail := saTail(c.file)
		if c.tail != 0 {
			tail = tail[len(tail)-c.tail:]
		}
		h, err := parseSATrailer(tail, size)
		if c.err == nil {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			} else if h.dtype != Float64 && !(c.name == "type number 9 (longlong)" && h.dtype == Int64) {
				t.Errorf("%s: parsed %+v", c.name, h)
			}
			continue
		}
		if !errors.Is(err, c.err) || !strings.Contains(fmt.Sprint(err), c.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.err, c.msg)
		}
	}
}

// TestParseSATrailerTruncated cuts every fixture (and an encoded file) to
// every shorter length, losing its end (a short write) or its start: each
// is refused and none panics.
func TestParseSATrailerTruncated(t *testing.T) {
	tr, _ := encodeSA(Complex128, []int{2, 3})
	files := [][]byte{append(make([]byte, 96), tr...)}
	if _, err := os.Stat(saFixtureDir); err == nil {
		for _, fx := range saFixtures {
			b, err := os.ReadFile(filepath.Join(saFixtureDir, fx.file))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, b)
		}
	}
	for i, file := range files {
		for n := range len(file) {
			for _, cut := range [][]byte{file[:n], file[len(file)-n:]} {
				if _, err := parseSATrailer(saTail(cut), int64(n)); !errors.Is(err, ErrNotTensor) {
					t.Fatalf("file %d cut to %d bytes: err = %v", i, n, err)
				}
			}
		}
	}
}

func FuzzParseSATrailer(f *testing.F) {
	if _, err := os.Stat(saFixtureDir); err == nil {
		for _, fx := range saFixtures {
			b, err := os.ReadFile(filepath.Join(saFixtureDir, fx.file))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(saTail(b), int64(len(b)))
		}
	}
	for _, dt := range allDTypes {
		for _, shape := range [][]int{{}, {0}, {3, 4}, repeatDims(32)} {
			tr, err := encodeSA(dt, shape)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(tr, int64(dt.Size())*product(shape)+saTrailerSize+int64(dt)) // some with a gap
		}
	}
	tr := saTrailer548(Int32, repeatDims(40))
	f.Add(tr, int64(len(tr))+4*product(repeatDims(40)))

	f.Fuzz(func(t *testing.T, tail []byte, fileSize int64) {
		h, err := parseSATrailer(tail, fileSize)
		if err != nil {
			checkErr(t, err, "sharedarray trailer")
			return
		}
		checkHeader(t, h, fileSize)
		if h.layout != SharedArray || h.dataOff != 0 || h.fortran || h.dataLen > fileSize-saTrailerSize {
			t.Fatalf("bad header %+v for a file of %d bytes", h, fileSize)
		}
		if !isSATrailer(tail, fileSize) {
			t.Fatalf("parsed, but isSATrailer is false")
		}
		if len(h.shape) > saMaxDims {
			return // only the 548-byte trailer holds these
		}
		enc, err := encodeSA(h.dtype, h.shape)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", h, err)
		}
		h2, err := parseSATrailer(enc, h.dataLen+saTrailerSize)
		if err != nil {
			t.Fatalf("parsing re-encoded %+v: %v", h, err)
		}
		if h2.dtype != h.dtype || !slices.Equal(h2.shape, h.shape) || h2.dataLen != h.dataLen {
			t.Fatalf("re-encoded %+v parses as %+v", h, h2)
		}
	})
}

// encodeSA validates dt and shape as Create does and returns the
// SharedArray trailer for them.
func encodeSA(dt DType, shape []int) ([]byte, error) {
	h, err := newHeader(SharedArray, dt, shape, false)
	if err != nil {
		return nil, err
	}
	return encodeSATrailer(h), nil
}
