package codec

// The fuzz targets of the header parsers, which read what other programs
// wrote (the root package fuzzes Import). Their seeds are the files in testdata
// (written by numpy and SharedArray), encoder output and hand-written
// corner cases; .ci/run runs each for a fixed count.

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"
)

// FuzzParseNPYHeader feeds ParseNPYHeader any prefix and file size: it
// refuses with a codec error or returns a header that fits the file and
// re-encodes to the same tensor.
func FuzzParseNPYHeader(f *testing.F) {
	for _, dt := range allDTypes {
		for _, shape := range [][]int{{}, {0}, {3, 4}, {2, 3, 1}} {
			enc, err := encodeNPY(dt, shape, len(shape) > 1)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(enc, NPYDataOffset+int64(dt.Size())*product(shape))
		}
	}
	enc, _ := encodeNPY(Uint8, repeatDims(MaxDims), true)
	f.Add(enc, int64(NPYDataOffset+1<<10))
	for _, nf := range numpyFiles {
		b := readNumpyFile(f, nf.file)
		f.Add(npyPrefix(b), int64(len(b)))
	}
	for _, file := range [][]byte{
		npyFile(2, "{'shape': (3L, 4L,), \"fortran_order\": True, u'descr': '=f8'  # c\n}", 96),
		npyFile(3, "{'descr': [('\u03b1', '<f8', (2,))], 'fortran_order': False, 'shape': (1_0,), }", 160),
	} {
		f.Add(file, int64(len(file)))
	}

	f.Fuzz(func(t *testing.T, prefix []byte, fileSize int64) {
		h, err := ParseNPYHeader(prefix, fileSize)
		if err != nil {
			checkNPYErr(t, err, fileSize)
			return
		}
		checkHeader(t, h, fileSize)
		if h.Layout != NPY || h.DataOff < 10 || h.DataOff > int64(len(prefix)) || h.DataOff > NPYMaxPrefix {
			t.Fatalf("bad header %+v for a %d-byte prefix", h, len(prefix))
		}
		enc, err := encodeNPY(h.DType, h.Shape, h.Fortran)
		if err != nil {
			if h.DataLen <= math.MaxInt64-NPYDataOffset {
				t.Fatalf("re-encoding %+v: %v", h, err)
			}
			return
		}
		h2, err := ParseNPYHeader(enc, NPYDataOffset+h.DataLen)
		if err != nil {
			t.Fatalf("parsing re-encoded %+v: %v", h, err)
		}
		if h2.DType != h.DType || !slices.Equal(h2.Shape, h.Shape) || h2.Fortran != h.Fortran || h2.DataLen != h.DataLen {
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
		h, err := ParseNPYHeader(npyPrefix(file), int64(len(file))+room)
		if err != nil {
			checkNPYErr(t, err, int64(len(file))+room)
			return
		}
		checkHeader(t, h, int64(len(file))+room)
		if h.DataOff != int64(len(file)) {
			t.Fatalf("dataOff %d, want %d", h.DataOff, len(file))
		}
		enc, err := encodeNPY(h.DType, h.Shape, h.Fortran)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", h, err)
		}
		h2, err := ParseNPYHeader(enc, NPYDataOffset+h.DataLen)
		if err != nil || h2.DType != h.DType || !slices.Equal(h2.Shape, h.Shape) || h2.Fortran != h.Fortran {
			t.Fatalf("re-encoded %+v parses as %+v, %v", h, h2, err)
		}
	})
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

// FuzzParseSATrailer feeds parseSATrailer any tail and file size: it
// refuses with a codec error or returns a header whose data lies before the
// trailer and that re-encodes to the same tensor.
func FuzzParseSATrailer(f *testing.F) {
	for _, fx := range saFixtures {
		b := readSAFixture(f, fx.file)
		f.Add(saTail(b), int64(len(b)))
	}
	for _, dt := range allDTypes {
		for _, shape := range [][]int{{}, {0}, {3, 4}, repeatDims(32)} {
			tr, err := encodeSA(dt, shape)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(tr, int64(dt.Size())*product(shape)+SATrailerSize+int64(dt)) // some with a gap
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
		if h.Layout != SharedArray || h.DataOff != 0 || h.Fortran || h.DataLen > fileSize-SATrailerSize {
			t.Fatalf("bad header %+v for a file of %d bytes", h, fileSize)
		}
		if !isSATrailer(tail, fileSize) {
			t.Fatalf("parsed, but isSATrailer is false")
		}
		if len(h.Shape) > saMaxDims {
			return // only the 548-byte trailer holds these
		}
		enc, err := encodeSA(h.DType, h.Shape)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", h, err)
		}
		h2, err := parseSATrailer(enc, h.DataLen+SATrailerSize)
		if err != nil {
			t.Fatalf("parsing re-encoded %+v: %v", h, err)
		}
		if h2.DType != h.DType || !slices.Equal(h2.Shape, h.Shape) || h2.DataLen != h.DataLen {
			t.Fatalf("re-encoded %+v parses as %+v", h, h2)
		}
	})
}

// FuzzNPYShape builds .npy headers of up to four fuzzed dimensions, any of
// them zero, huge or negative, and checks the parser against numpy's rule:
// a shape is accepted exactly when its dimensions are non-negative and the
// item size times the non-zero dimensions fits in an int ("array is too
// big" otherwise, empty shapes included), and then every byte stride and
// element offset fits (checkHeader).
func FuzzNPYShape(f *testing.F) {
	const huge = 1 << 60
	for _, c := range []struct {
		d      [4]int64
		nd, dt uint8
	}{
		{[4]int64{0, huge}, 2, uint8(Float64)},
		{[4]int64{huge, 0}, 2, uint8(Float64)},
		{[4]int64{0, huge - 1}, 2, uint8(Float64)},
		{[4]int64{0, math.MaxInt64}, 2, uint8(Int8)},
		{[4]int64{0, math.MaxInt64}, 2, uint8(Int16)},
		{[4]int64{0, 1 << 30, 1 << 30, 16}, 4, uint8(Complex128)},
		{[4]int64{3, 0, -1}, 3, uint8(Int32)},
		{[4]int64{1 << 31, 1 << 31}, 2, uint8(Uint8)},
		{[4]int64{}, 0, uint8(Bool)},
	} {
		f.Add(c.d[0], c.d[1], c.d[2], c.d[3], c.nd, c.dt, false)
		f.Add(c.d[0], c.d[1], c.d[2], c.d[3], c.nd, c.dt, true)
		f.Add(c.d[0], c.d[1], c.d[2], c.d[3], c.nd, c.dt|0x80, false) // big-endian
	}
	f.Fuzz(func(t *testing.T, d0, d1, d2, d3 int64, nd, dti uint8, fortran bool) {
		dims := []int64{d0, d1, d2, d3}[:nd%5]
		dt := allDTypes[int(dti)%len(allDTypes)]
		parts := make([]string, len(dims))
		for i, d := range dims {
			parts[i] = fmt.Sprint(d)
		}
		shape := "(" + strings.Join(parts, ", ") + ",)"
		if len(dims) == 0 {
			shape = "()"
		}
		order := map[bool]string{false: "False", true: "True"}[fortran]
		descr := dt.Descr()
		bigEndian := dti&0x80 != 0 && dt.Size() > 1 // the same header, big-endian
		if bigEndian {
			descr = ">" + descr[1:]
		}
		file := npyFile(1, "{'descr': '"+descr+"', 'fortran_order': "+order+", 'shape': "+shape+", }", 0)
		h, err := ParseNPYHeader(npyPrefix(file), math.MaxInt64)

		// numpy's rule, with math/big.
		ok, span := true, new(big.Int).SetInt64(int64(dt.Size()))
		for _, d := range dims {
			if d < 0 || d > math.MaxInt {
				ok = false
			} else if d != 0 {
				span.Mul(span, new(big.Int).SetInt64(d))
			}
		}
		ok = ok && span.Cmp(new(big.Int).SetInt64(math.MaxInt)) <= 0
		if ok && span.Cmp(new(big.Int).SetInt64(math.MaxInt64-int64(len(file)))) > 0 {
			return // numpy-sized, but no file can hold its data after the header
		}
		if !ok {
			if err == nil {
				t.Fatalf("%s of %v accepted as %+v; numpy refuses it", shape, dt, h)
			}
			checkNPYErr(t, err, math.MaxInt64)
			return
		}
		var bo *ByteOrderError
		if bigEndian {
			if !errors.As(err, &bo) {
				t.Fatalf("%s of %s: %v, want a ByteOrderError", shape, descr, err)
			}
			h, err = bo.Header, nil
		}
		if err != nil {
			t.Fatalf("%s of %v refused, numpy accepts it: %v", shape, dt, err)
		}
		checkHeader(t, h, math.MaxInt64)
		if h.DType != dt || !slices.Equal(h.Shape, toInts(dims)) || h.Fortran != fortran {
			t.Fatalf("%s of %s parsed as %+v", shape, descr, h)
		}
	})
}

func toInts(d []int64) []int {
	out := make([]int, len(d))
	for i, x := range d {
		out[i] = int(x)
	}
	return out
}
