package shmtensor

import (
	"encoding/binary"
	"math"
	"math/big"
	"testing"

	"github.com/shmtensor/shmtensor/internal/strided"
)

// FuzzViewStrides builds a tensor of a fuzzed shape, empty ones with axes
// near math.MaxInt included, applies a fuzzed chain of Slice, Index,
// Transpose and Reshape, and checks after each step that no offset or
// stride in bytes overflows: every axis's byte stride fits in an int, the
// elements reachable (empty axes counted as length 1) lie within the span
// numpy allows the array (SpanBytes), and a non-empty view passes
// strided.CheckView. New refuses, as numpy does, the shapes whose span
// overflows.
func FuzzViewStrides(f *testing.F) {
	op := func(kind byte, vals ...int64) []byte {
		b := []byte{kind}
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		return b
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	f.Add(int64(0), int64(1<<59), int64(1), uint8(2), uint8(0), cat(op(0, 1, 0, math.MaxInt64, 1<<58), op(2, 1), op(3, -1)))
	f.Add(int64(0), int64(1<<60), int64(1), uint8(2), uint8(1), cat(op(0, 1, math.MaxInt64, math.MinInt64, -3), op(3, 0, -1)))
	f.Add(int64(5), int64(7), int64(3), uint8(3), uint8(0), cat(op(0, 0, -1, math.MinInt64, math.MinInt64), op(0, 2, 1, 6, 1<<62), op(1, 0, -1)))
	f.Add(int64(1), int64(1), int64(1), uint8(1), uint8(2), op(0, 0, 0, 1, math.MaxInt64))
	f.Add(int64(0), int64(math.MaxInt64), int64(3), uint8(3), uint8(1), cat(op(3, 3, -1), op(2, 2), op(0, 1, 1, 1<<61, 1<<40)))
	// An empty slice far into an empty tensor, reshaped, then sliced again:
	// the offset must not carry over (it overflowed once).
	f.Add(int64(0), int64(math.MaxInt64), int64(0), uint8(2), uint8(1),
		cat(op(0, 1, math.MaxInt64-1, math.MaxInt64, 1), op(3, 0, math.MaxInt64), op(0, 1, 5, math.MaxInt64, 1)))
	f.Fuzz(func(t *testing.T, d0, d1, d2 int64, nd, kind uint8, ops []byte) {
		var shape []int
		for _, d := range []int64{d0, d1, d2}[:nd%4] {
			if d < 0 || d > math.MaxInt {
				return
			}
			shape = append(shape, int(d))
		}
		switch kind % 3 {
		case 0:
			fuzzViews(t, shape, ops, New[float64])
		case 1:
			fuzzViews(t, shape, ops, New[int8])
		default:
			fuzzViews(t, shape, ops, New[complex128])
		}
	})
}

func fuzzViews[T Number](t *testing.T, shape []int, ops []byte, newT func(...int) *Tensor[T]) {
	elem := elemSize[T]()
	span, ok := strided.SpanBytes(shape, elem)
	if n, _ := strided.NumElements(shape); !ok || n > 1<<12 {
		return // refused by New, or too big to allocate here
	}
	v := newT(shape...)
	checkViewBytes(t, v, elem, span, "new")
	next := func() int64 {
		if len(ops) < 8 {
			ops = nil
			return 0
		}
		x := int64(binary.LittleEndian.Uint64(ops))
		ops = ops[8:]
		return x
	}
	for len(ops) > 0 && v != nil {
		k := ops[0]
		ops = ops[1:]
		var (
			w    *Tensor[T]
			err  error
			what string
		)
		switch k % 4 {
		case 0:
			what = "slice"
			ax := int(uint64(next()) % uint64(max(len(v.shape), 1)))
			r := make([]Range, min(ax+1, len(v.shape)))
			for i := range r {
				r[i] = Full()
			}
			rr := Range{int(next()), int(next()), int(next())}
			if len(r) > 0 {
				r[ax] = rr
			}
			w, err = v.Slice(r...)
		case 1:
			what = "index"
			if len(v.shape) > 0 {
				w, err = v.Index(int(next()), int(next()))
			} else {
				w = v
			}
		case 2:
			what = "transpose"
			rot := int(uint64(next()) % uint64(max(len(v.shape), 1)))
			axes := make([]int, len(v.shape))
			for i := range axes {
				axes[i] = (i + rot) % len(axes)
			}
			w, err = v.Transpose(axes...)
		default:
			what = "reshape"
			a, b := int(next()), int(next())
			w, err = v.Reshape(a, b)
			if err != nil {
				w, err = v.Reshape(-1)
			}
			if err == nil && w.Len() == 0 {
				// An empty tensor takes any shape whose own span fits,
				// which then bounds its views.
				span, _ = strided.SpanBytes(w.shape, elem)
			}
		}
		if err != nil {
			continue
		}
		v = w
		checkViewBytes(t, v, elem, span, what)
	}
}

// checkViewBytes fails t unless every byte stride of v fits in an int, and
// the bytes v reaches, empty axes counted as length 1, lie within [0, span).
func checkViewBytes[T Number](t *testing.T, v *Tensor[T], elem, span int, what string) {
	t.Helper()
	e := big.NewInt(int64(elem))
	lo, hi := new(big.Int), new(big.Int)
	empty := false
	for i, d := range v.shape {
		s := big.NewInt(int64(v.strides[i]))
		if new(big.Int).Abs(new(big.Int).Mul(s, e)).Cmp(big.NewInt(math.MaxInt)) > 0 {
			t.Fatalf("%s: shape %v strides %v: byte stride of axis %d overflows", what, v.shape, v.strides, i)
		}
		empty = empty || d == 0
		if d > 1 {
			ext := new(big.Int).Mul(s, big.NewInt(int64(d-1)))
			if ext.Sign() < 0 {
				lo.Add(lo, ext)
			} else {
				hi.Add(hi, ext)
			}
		}
	}
	off := big.NewInt(int64(v.off))
	lo.Add(lo, off).Mul(lo, e)
	hi.Add(hi, off).Add(hi, big.NewInt(1)).Mul(hi, e)
	if lo.Sign() < 0 || hi.Cmp(big.NewInt(int64(span))) > 0 {
		t.Fatalf("%s: shape %v strides %v offset %d: reaches bytes [%v, %v), outside the span %d", what, v.shape, v.strides, v.off, lo, hi, span)
	}
	if !empty {
		if err := strided.CheckView(len(v.data), v.off, v.shape, v.strides); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}
