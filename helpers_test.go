package shmtensor

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/numpytest"
)

// uniqueName returns a shm name no other test or program uses (pid plus a
// random suffix) and removes /dev/shm/NAME when the test ends, pass or fail.
func uniqueName(t testing.TB) string {
	t.Helper()
	var b [6]byte
	crand.Read(b[:])
	name := fmt.Sprintf("shmtensor-test-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	t.Cleanup(func() { removeShm(name) })
	return name
}

// tempFileName returns a file:// name in a fresh temporary directory.
func tempFileName(t testing.TB, base string) string {
	t.Helper()
	return "file://" + filepath.Join(t.TempDir(), base)
}

// needNumpy returns a Python interpreter that can import numpy, skipping
// the test without one (failing it under CI=true).
func needNumpy(t testing.TB) string {
	t.Helper()
	return numpytest.Need(t)
}

// runPython runs script with numpy available and returns its standard
// output; the test fails with the script's standard error if it fails.
func runPython(t testing.TB, script string, args ...string) string {
	t.Helper()
	return numpytest.Run(t, script, args...)
}

// removeShm unlinks /dev/shm/name, whatever it holds.
func removeShm(name string) { os.Remove(filepath.Join("/dev/shm", name)) }

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
func testParseErrors(t *testing.T, parse func(file []byte, size int64, cut int) (header, error), cases []parseCase) {
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
			} else if h.dtype != want {
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

// values collects t's elements in C order through At, independently of the
// iterators under test.
func values[T Number](t *Tensor[T]) []T {
	var out []T
	n := t.Len()
	idx := make([]int, t.NDim())
	for range n {
		out = append(out, t.At(idx...))
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < t.shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

// second returns the error of a two-result call, for tests that only
// check the error.
func second[T any](_ T, err error) error { return err }

// must1 returns v, panicking if err is not nil.
func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// arange returns a C-ordered heap tensor holding 0, 1, 2, ... .
func arange[T Number](shape ...int) *Tensor[T] {
	t := New[T](shape...)
	d := t.Data()
	var v T
	for i := range d {
		d[i] = v
		v++
	}
	return t
}

// randShape returns up to maxDims dimensions of at most maxLen each.
func randShape(rng *rand.Rand, maxDims, maxLen int) []int {
	s := make([]int, rng.IntN(maxDims+1))
	for i := range s {
		s[i] = rng.IntN(maxLen + 1)
		if s[i] == 0 && rng.IntN(3) > 0 {
			s[i] = 1 + rng.IntN(maxLen) // keep empty tensors a minority
		}
	}
	return s
}

// randFactorShape returns a random shape of up to maxDims dimensions
// holding n elements.
func randFactorShape(rng *rand.Rand, n, maxDims int) []int {
	if n == 0 {
		s := randShape(rng, maxDims, 4)
		if len(s) == 0 {
			s = []int{0}
		}
		s[rng.IntN(len(s))] = 0
		return s
	}
	var s []int
	rest := n
	for len(s) < maxDims-1 && rng.IntN(4) > 0 {
		var divs []int
		for d := 1; d <= rest; d++ {
			if rest%d == 0 {
				divs = append(divs, d)
			}
		}
		d := divs[rng.IntN(len(divs))]
		s = append(s, d)
		rest /= d
	}
	s = append(s, rest)
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// randomView applies up to ops random slices, transposes and indexings.
func randomView[T Number](rng *rand.Rand, a *Tensor[T], ops int) *Tensor[T] {
	v := a
	for range rng.IntN(ops + 1) {
		var w *Tensor[T]
		var err error
		switch rng.IntN(3) {
		case 0:
			r := make([]Range, rng.IntN(v.NDim()+1))
			for k := range r {
				n := v.shape[k]
				r[k] = Range{rng.IntN(2*n+3) - n - 1, rng.IntN(2*n+3) - n - 1, []int{1, 2, 3, -1, -2}[rng.IntN(5)]}
				if rng.IntN(3) == 0 {
					r[k] = Every(r[k].Step)
				}
			}
			w, err = v.Slice(r...)
		case 1:
			w, err = v.Transpose(rng.Perm(v.NDim())...)
		case 2:
			if v.NDim() > 0 && v.Len() > 0 {
				ax := rng.IntN(v.NDim())
				w, err = v.Index(ax, rng.IntN(v.shape[ax]))
			}
		}
		if err != nil {
			panic(err)
		}
		if w != nil {
			v = w
		}
	}
	return v
}
