package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/errs"
	"github.com/shmtensor/shmtensor/internal/strided"
)

// allDTypes lists every valid DType that numpy knows (the ones segments
// hold), so tests cover new ones automatically.
var allDTypes = func() []DType {
	var ds []DType
	for d := Bool; d.Valid(); d++ {
		if d.Descr() != "" {
			ds = append(ds, d)
		}
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

// checkHeader fails t unless h satisfies what every parsed header promises
// its caller, whatever the input.
func checkHeader(t *testing.T, h Header, fileSize int64) {
	t.Helper()
	if !h.DType.Valid() {
		t.Fatalf("invalid dtype in %+v", h)
	}
	if len(h.Shape) > MaxDims {
		t.Fatalf("%d dimensions", len(h.Shape))
	}
	n := int64(h.DType.Size())
	if slices.Contains(h.Shape, 0) {
		n = 0 // however large the other dimensions are
	}
	for _, d := range h.Shape {
		if d < 0 {
			t.Fatalf("negative dimension in %v", h.Shape)
		}
		if n != 0 && n > math.MaxInt64/int64(d) {
			t.Fatalf("size of %v overflows but was accepted", h.Shape)
		}
		n *= int64(d)
	}
	if h.DataLen != n {
		t.Fatalf("dataLen %d, want %d for %v of %v", h.DataLen, n, h.Shape, h.DType)
	}
	if h.DataOff < 0 || h.DataLen < 0 || h.DataOff > fileSize || h.DataLen > fileSize-h.DataOff {
		t.Fatalf("data [%d, +%d) outside a file of %d bytes", h.DataOff, h.DataLen, fileSize)
	}
	checkStridesFit(t, h.Shape, h.DType.Size(), h.Fortran)
}

// checkStridesFit fails t unless numpy would accept shape with items of
// elem bytes (elem times the non-zero dimensions fits in an int) and every
// byte stride of the stored order, and the byte offset of every element,
// empty axes ignored, fits in an int: so no caller's arithmetic on an
// accepted header can overflow. It computes with math/big, apart from the
// code it checks.
func checkStridesFit(t *testing.T, shape []int, elem int, fortran bool) {
	t.Helper()
	maxInt := big.NewInt(math.MaxInt)
	span := big.NewInt(int64(elem))
	for _, d := range shape {
		if d != 0 {
			span.Mul(span, big.NewInt(int64(d)))
		}
	}
	if span.Cmp(maxInt) > 0 {
		t.Fatalf("shape %v of %d-byte items accepted, numpy refuses it: array is too big", shape, elem)
	}
	strides := strided.Strides(shape, fortran)
	last := new(big.Int) // the byte offset of the last element, empty axes counted as length 1
	for i, s := range strides {
		b := new(big.Int).Mul(big.NewInt(int64(s)), big.NewInt(int64(elem)))
		if b.Cmp(maxInt) > 0 || s < 0 {
			t.Fatalf("shape %v of %d-byte items: byte stride %d of axis %d overflows", shape, elem, b, i)
		}
		if shape[i] > 1 {
			last.Add(last, b.Mul(b, big.NewInt(int64(shape[i]-1))))
		}
	}
	if last.Cmp(span) >= 0 && span.Sign() > 0 {
		t.Fatalf("shape %v of %d-byte items: last element at byte %d, past the span %d", shape, elem, last, span)
	}
}

// checkErr fails t unless err wraps one of the two sentinels the codecs use
// and says which codec refused; a ByteOrderError must describe its header's
// element type (checkNPYErr checks the header against the file).
func checkErr(t *testing.T, err error, codec string) {
	t.Helper()
	msg := err.Error()
	var bo *ByteOrderError
	switch {
	case errors.As(err, &bo):
		if codec != "npy header" || !errors.Is(err, errs.ErrDType) || !strings.HasPrefix(msg, "npy header: big-endian '"+bo.Descr+"' data: ") ||
			!bo.Header.DType.Valid() || bo.Header.DType.Size() < 2 || "<"+bo.Descr[1:] != bo.Native || bo.Header.DType.Descr() != bo.Native {
			t.Fatalf("byte order error %q, %+v", msg, bo)
		}
	case errors.Is(err, errs.ErrNotTensor):
		if !strings.HasPrefix(msg, errs.ErrNotTensor.Error()+": "+codec+": ") {
			t.Fatalf("message %q", msg)
		}
	case errors.Is(err, errs.ErrDType):
		if !strings.HasPrefix(msg, errs.ErrDType.Error()+": "+codec+": ") {
			t.Fatalf("message %q", msg)
		}
	default:
		t.Fatalf("error %v wraps neither ErrNotTensor nor ErrDType", err)
	}
}

// encodeCase is a tensor a header encoder must refuse.
type encodeCase struct {
	name  string
	dt    DType
	shape []int
	want  error
}

// testEncodeErrors checks that encode refuses every case with its sentinel
// and returns no bytes. The NPY and SharedArray encoders share it.
func testEncodeErrors(t *testing.T, encode func(DType, []int) ([]byte, error), cases []encodeCase) {
	t.Helper()
	for _, c := range cases {
		b, err := encode(c.dt, c.shape)
		if !errors.Is(err, c.want) || b != nil {
			t.Errorf("%s: got %d bytes, err %v; want %v", c.name, len(b), err, c.want)
		}
	}
}

// parseCase is a file a header parser must read or refuse.
type parseCase struct {
	name  string
	file  []byte
	size  int64 // the file's size; 0: len(file)
	cut   int   // 0: the parser gets what a reader passes it; n: only n bytes of that
	err   error // nil: must parse
	msg   string
	dtype DType // when err is nil, the dtype read; Invalid stands for Float64
}

// testParseErrors runs parse on every case: it must read the dtype the case
// names, or refuse with the case's sentinel and a message containing its
// msg. parse gets the whole file, its size and the cut, and passes the
// parser the prefix or tail a reader would, cut to cut bytes if cut > 0.
// The NPY and SharedArray parsers share it.
func testParseErrors(t *testing.T, parse func(file []byte, size int64, cut int) (Header, error), cases []parseCase) {
	t.Helper()
	for _, c := range cases {
		size := c.size
		if size == 0 {
			size = int64(len(c.file))
		}
		h, err := parse(c.file, size, c.cut)
		if c.err == nil {
			want := c.dtype
			if want == Invalid {
				want = Float64
			}
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			} else if h.DType != want {
				t.Errorf("%s: parsed %+v, want %v", c.name, h, want)
			}
			continue
		}
		if !errors.Is(err, c.err) || !strings.Contains(fmt.Sprint(err), c.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.err, c.msg)
		}
	}
}

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

// roundTripShapes are the shapes every codec round-trips.
var roundTripShapes = [][]int{
	{}, {0}, {3, 0, 2}, {1}, {7}, {2, 3}, {4, 1, 5}, {math.MaxInt / 16, 0},
	repeatDims(32),
}

// checkNPYErr is checkErr for ParseNPYHeader, which also checks the header
// a ByteOrderError carries as a parsed one, against the file's size.
func checkNPYErr(t *testing.T, err error, fileSize int64) {
	t.Helper()
	checkErr(t, err, "npy header")
	var bo *ByteOrderError
	if errors.As(err, &bo) {
		checkHeader(t, bo.Header, fileSize)
	}
}

// on32Bit turns, where int is 32 bits, the named cases into refusals of a
// dimension that does not fit an int ("too large"): their shapes need a
// 64-bit int, and there the dimension itself is refused before the
// byte-size rule they check is reached.
func on32Bit(cases []parseCase, names ...string) []parseCase {
	if strconv.IntSize == 64 {
		return cases
	}
	for i, c := range cases {
		if slices.Contains(names, c.name) {
			cases[i].err, cases[i].msg = errs.ErrNotTensor, "too large"
		}
	}
	return cases
}
