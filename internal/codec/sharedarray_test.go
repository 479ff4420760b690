package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// saFixtureDir holds segments written by Python's SharedArray 3.2.3; its
// README.md says how they were made.
const saFixtureDir = "testdata/sharedarray"

// saFixtures is the table of testdata/sharedarray/README.md.
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

// readSAFixture returns the contents of the fixture file.
func readSAFixture(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(saFixtureDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// saTail returns what a caller passes to parseSATrailer for file.
func saTail(file []byte) []byte { return file[len(file)-min(len(file), saTrailerSizeNumpy2):] }

// TestSAFixtures parses every fixture written by SharedArray 3.2.3, checks
// its data, and rebuilds it byte for byte from its data and EncodeSATrailer.
func TestSAFixtures(t *testing.T) {
	entries, err := os.ReadDir(saFixtureDir)
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
		file := readSAFixture(t, fx.file)
		h, err := parseSATrailer(saTail(file), int64(len(file)))
		if err != nil {
			t.Errorf("%s: %v", fx.file, err)
			continue
		}
		dataLen := int64(fx.dt.Size()) * product(fx.shape)
		if h.Layout != SharedArray || h.DType != fx.dt || !slices.Equal(h.Shape, fx.shape) || h.Fortran ||
			h.DataOff != 0 || h.DataLen != dataLen {
			t.Errorf("%s: parsed %+v, want %v %v with %d bytes of data", fx.file, h, fx.dt, fx.shape, dataLen)
			continue
		}
		if int64(len(file)) != dataLen+SATrailerSize {
			t.Errorf("%s: %d bytes, want data %d + trailer %d", fx.file, len(file), dataLen, SATrailerSize)
		}
		if got := decodeValues(h.DType, file[h.DataOff:h.DataOff+h.DataLen]); !slices.Equal(got, fx.values) {
			t.Errorf("%s: values %v, want %v", fx.file, got, fx.values)
		}
		tr, err := encodeSA(fx.dt, fx.shape)
		if err != nil {
			t.Errorf("%s: encode: %v", fx.file, err)
			continue
		}
		if rebuilt := append(slices.Clone(file[:dataLen]), tr...); !bytes.Equal(rebuilt, file) {
			t.Errorf("%s: data + EncodeSATrailer differs from the fixture\n got %x\nwant %x", fx.file, rebuilt[dataLen:], file[dataLen:])
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
	if len(tr) != SATrailerSize {
		t.Fatalf("%d bytes, want %d", len(tr), SATrailerSize)
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
	cases := []encodeCase{
		{"invalid dtype", Invalid, []int{3}, errs.ErrDType},
		{"out-of-range dtype", DType(99), []int{3}, errs.ErrDType},
		{"33 dims", Uint8, repeatDims(33), errs.ErrShape},
		{"MaxDims dims", Uint8, repeatDims(MaxDims), errs.ErrShape},
		{"negative dim", Int32, []int{2, -2}, errs.ErrShape},
		{"overflow", Float64, []int{math.MaxInt/4 + 1, 4}, errs.ErrShape},
	}
	if math.MaxInt == math.MaxInt64 {
		cases = append(cases, encodeCase{"file size overflows int64", Uint8, []int{math.MaxInt - 100}, errs.ErrShape})
	}
	testEncodeErrors(t, encodeSA, cases)
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
			for _, gap := range []int64{0, 1, 4096 - (dataLen+SATrailerSize)%4096} {
				file := append(make([]byte, dataLen+gap), tr...)
				h, err := parseSATrailer(saTail(file), int64(len(file)))
				if err != nil {
					t.Fatalf("%v %v gap %d: %v", dt, shape, gap, err)
				}
				if h.Layout != SharedArray || h.DType != dt || !slices.Equal(h.Shape, shape) || h.Fortran ||
					h.DataOff != 0 || h.DataLen != dataLen {
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
		if h.DType != Float16 || !slices.Equal(h.Shape, shape) || h.DataOff != 0 || h.DataLen != dataLen {
			t.Fatalf("%d dims: parsed %+v", len(shape), h)
		}
		// The magic is only found at file_size-548 if the caller passes
		// that many bytes.
		if _, err := parseSATrailer(file[len(file)-SATrailerSize:], int64(len(file))); !errors.Is(err, errs.ErrNotTensor) {
			t.Fatalf("%d dims, 292-byte tail: err = %v", len(shape), err)
		}
	}
	tr := saTrailer548(Uint8, repeatDims(MaxDims))
	binary.LittleEndian.PutUint32(tr[32:], MaxDims+1)
	if _, err := parseSATrailer(tr, int64(len(tr))+100); !errors.Is(err, errs.ErrNotTensor) || !strings.Contains(err.Error(), "65 dimensions") {
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
	cases := []parseCase{
		{name: "valid", file: base(nil)},
		{name: "garbage after the magic's NUL", file: base(func(tr []byte) { tr[14], tr[15] = 'x', 'y' })},
		{name: "unused dim slots set", file: base(func(tr []byte) { le.PutUint64(tr[36+8*5:], 77) })},
		{name: "type number 9 (longlong)", file: base(func(tr []byte) { le.PutUint32(tr[24:], 9) }), dtype: Int64},
		{name: "empty file", file: []byte{}, err: errs.ErrNotTensor, msg: "shorter than the 292-byte trailer"},
		{name: "shorter than a trailer", file: base(nil)[97:], err: errs.ErrNotTensor, msg: "shorter than the 292-byte trailer"},
		{name: "bad magic", file: base(func(tr []byte) { tr[12] = '}' }), err: errs.ErrNotTensor, msg: "no \"[SharedArray]\" magic"},
		{name: "magic not NUL-terminated", file: base(func(tr []byte) { tr[13] = ' ' }), err: errs.ErrNotTensor, msg: "magic"},
		{name: "npy file", file: npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (300,), }", 2400), err: errs.ErrNotTensor, msg: "magic"},
		{name: "unknown type number", file: base(func(tr []byte) { le.PutUint32(tr[24:], 13) }), err: errs.ErrDType, msg: "type number 13"},
		{name: "object type number", file: base(func(tr []byte) { le.PutUint32(tr[24:], 17) }), err: errs.ErrDType, msg: "type number 17"},
		{name: "negative type number", file: base(func(tr []byte) { le.PutUint32(tr[24:], 0xffffffff) }), err: errs.ErrDType, msg: "type number -1"},
		{name: "item size mismatch", file: base(func(tr []byte) { le.PutUint32(tr[28:], 4) }), err: errs.ErrNotTensor, msg: "item size 4"},
		{name: "negative ndims", file: base(func(tr []byte) { le.PutUint32(tr[32:], 0xffffffff) }), err: errs.ErrNotTensor, msg: "-1 dimensions"},
		{name: "33 dims", file: base(func(tr []byte) { le.PutUint32(tr[32:], 33) }), err: errs.ErrNotTensor, msg: "33 dimensions"},
		{name: "negative dim", file: base(func(tr []byte) { le.PutUint64(tr[44:], uint64(1<<64-4)) }), err: errs.ErrNotTensor, msg: "dimension 1 is negative: -4"},
		{name: "overflowing dims", file: base(func(tr []byte) {
			le.PutUint64(tr[36:], math.MaxInt/2+1)
			le.PutUint64(tr[44:], 2)
		}), err: errs.ErrNotTensor, msg: "overflows"},
		{name: "empty, too big", file: base(func(tr []byte) {
			le.PutUint64(tr[16:], 0)
			le.PutUint64(tr[36:], 0)
			le.PutUint64(tr[44:], 1<<60)
		}), err: errs.ErrNotTensor, msg: "shape (0, 1152921504606846976) of float64 is too big"},
		{name: "size field too big", file: base(func(tr []byte) { le.PutUint64(tr[16:], 97) }), err: errs.ErrNotTensor, msg: "data size field says 97 bytes, shape (3, 4) of float64 needs 96"},
		{name: "size field zero", file: base(func(tr []byte) { le.PutUint64(tr[16:], 0) }), err: errs.ErrNotTensor, msg: "data size field"},
		{name: "lying shape", file: base(func(tr []byte) {
			le.PutUint64(tr[16:], 8*3*5)
			le.PutUint64(tr[44:], 5)
		}), err: errs.ErrNotTensor, msg: "shape (3, 5) of float64 needs 120 bytes of data before the trailer, file has 96"},
		{name: "tail shorter than a trailer", file: base(nil), cut: 200, err: errs.ErrNotTensor, msg: "only the last 200 bytes"},
		{name: "tail longer than file", file: base(nil), size: 300, err: errs.ErrNotTensor, msg: "for a file of 300 bytes"},
		{name: "negative file size", file: base(nil), size: -5, err: errs.ErrNotTensor, msg: "negative file size"},
	}
	cases = on32Bit(cases, "empty, too big")
	testParseErrors(t, func(file []byte, size int64, cut int) (Header, error) {
		tail := saTail(file)
		if cut != 0 {
			tail = tail[len(tail)-cut:]
		}
		return parseSATrailer(tail, size)
	}, cases)
}

// TestParseSATrailerTruncated cuts every fixture (and an encoded file) to
// every shorter length, losing its end (a short write) or its start: each
// is refused and none panics.
func TestParseSATrailerTruncated(t *testing.T) {
	tr, _ := encodeSA(Complex128, []int{2, 3})
	files := [][]byte{append(make([]byte, 96), tr...)}
	for _, fx := range saFixtures {
		files = append(files, readSAFixture(t, fx.file))
	}
	for i, file := range files {
		for n := range len(file) {
			for _, cut := range [][]byte{file[:n], file[len(file)-n:]} {
				if _, err := parseSATrailer(saTail(cut), int64(n)); !errors.Is(err, errs.ErrNotTensor) {
					t.Fatalf("file %d cut to %d bytes: err = %v", i, n, err)
				}
			}
		}
	}
}

// encodeSA validates dt and shape as Create does and returns the
// SharedArray trailer for them.
func encodeSA(dt DType, shape []int) ([]byte, error) {
	h, err := NewHeader(SharedArray, dt, shape, false)
	if err != nil {
		return nil, err
	}
	return EncodeSATrailer(h), nil
}
