package strided

// The fuzz target of the shape arithmetic; .ci/run runs every FuzzX of
// every package for a fixed count. The root package fuzzes the views built
// on it (FuzzViewStrides).

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// FuzzSpanBytes checks SpanBytes and ByteSize against numpy's rule computed
// with math/big (the item size times the non-zero dimensions must fit in an
// int), and that for every accepted shape the byte strides in either order,
// the byte offset of the last element and every reshape ResolveShape allows
// stay within int.
func FuzzSpanBytes(f *testing.F) {
	for _, c := range []struct {
		d    [4]int64
		nd   uint8
		elem uint8
	}{
		{[4]int64{0, 1 << 60}, 2, 8},
		{[4]int64{0, 1<<60 - 1}, 2, 8},
		{[4]int64{1 << 60, 0}, 2, 8},
		{[4]int64{0, math.MaxInt64}, 2, 1},
		{[4]int64{0, math.MaxInt64}, 2, 2},
		{[4]int64{0, 1 << 40, 1 << 40}, 3, 1},
		{[4]int64{3, 0, 1 << 59, 7}, 4, 16},
		{[4]int64{1 << 32, 1 << 30}, 2, 2},
		{[4]int64{-1, 0}, 2, 4},
		{[4]int64{}, 0, 8},
	} {
		f.Add(c.d[0], c.d[1], c.d[2], c.d[3], c.nd, c.elem, int64(-1))
	}
	f.Fuzz(func(t *testing.T, d0, d1, d2, d3 int64, nd, elemByte uint8, reshapeTo int64) {
		elem := []int{1, 2, 4, 8, 16}[int(elemByte)%5]
		var shape []int
		valid := true
		span := big.NewInt(int64(elem))
		for _, d := range []int64{d0, d1, d2, d3}[:nd%5] {
			if d > math.MaxInt || d < math.MinInt {
				return // not an int here
			}
			shape = append(shape, int(d))
			if d < 0 {
				valid = false
			} else if d != 0 {
				span.Mul(span, big.NewInt(d))
			}
		}
		fits := valid && span.Cmp(big.NewInt(math.MaxInt)) <= 0
		got, ok := SpanBytes(shape, elem)
		if ok != fits || ok && int64(got) != span.Int64() {
			t.Fatalf("SpanBytes(%v, %d) = %d, %v; want %v, %v", shape, elem, got, ok, span, fits)
		}
		size, err := ByteSize(shape, elem)
		if !fits {
			if !errors.Is(err, errs.ErrShape) {
				t.Fatalf("ByteSize(%v, %d) = %d, %v; want errs.ErrShape", shape, elem, size, err)
			}
			return
		}
		if n, _ := NumElements(shape); err != nil || size != int64(n)*int64(elem) {
			t.Fatalf("ByteSize(%v, %d) = %d, %v", shape, elem, size, err)
		}
		checkByteLayout(t, shape, CStrides(shape), elem, got)
		checkByteLayout(t, shape, FStrides(shape), elem, got)

		// Reshapes of the (possibly empty) tensor: to a 1-D length, and to
		// (-1, reshapeTo) and (reshapeTo, -1) when it divides.
		n, _ := NumElements(shape)
		for _, target := range [][]int{{-1}, {int(reshapeTo), -1}, {-1, int(reshapeTo)}, {0, int(reshapeTo)}, {int(reshapeTo), 0}} {
			if int64(int(reshapeTo)) != reshapeTo {
				return
			}
			out, err := ResolveShape(target, n, elem)
			if err != nil {
				continue
			}
			s, ok := SpanBytes(out, elem)
			if !ok {
				t.Fatalf("ResolveShape(%v, %d, %d) = %v, whose span overflows", target, n, elem, out)
			}
			checkByteLayout(t, out, CStrides(out), elem, s)
		}
	})
}

// checkByteLayout fails t unless every byte stride of (shape, strides) and
// the byte offset of the last element, empty axes counted as length 1,
// fit within span, computed with math/big.
func checkByteLayout(t *testing.T, shape, strides []int, elem, span int) {
	t.Helper()
	last := new(big.Int)
	for i, s := range strides {
		b := new(big.Int).Mul(big.NewInt(int64(s)), big.NewInt(int64(elem)))
		if s < 0 || b.Cmp(big.NewInt(int64(span))) > 0 {
			t.Fatalf("shape %v, strides %v of %d-byte items: axis %d's byte stride %v exceeds the span %d", shape, strides, elem, i, b, span)
		}
		if shape[i] > 1 {
			last.Add(last, b.Mul(b, big.NewInt(int64(shape[i]-1))))
		}
	}
	if last.Cmp(big.NewInt(int64(span))) >= 0 {
		t.Fatalf("shape %v, strides %v of %d-byte items: last element at byte %v, span %d", shape, strides, elem, last, span)
	}
}
