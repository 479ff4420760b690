//go:build amd64 || arm64 || loong64 || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x || wasm

package strided

// Tests whose tables hold sizes only a 64-bit int holds: the overflow
// checks at 1<<62 elements and more. The rest of the package's tests build
// everywhere.

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/errs"
)

func TestNumElements(t *testing.T) {
	for _, tc := range []struct {
		shape []int
		n     int
		ok    bool
	}{
		{nil, 1, true},
		{[]int{}, 1, true},
		{[]int{0}, 0, true},
		{[]int{2, 3, 4}, 24, true},
		{[]int{3, 0, 5}, 0, true},
		{[]int{-1}, 0, false},
		{[]int{2, -3}, 0, false},
		{[]int{math.MaxInt}, math.MaxInt, true},
		{[]int{math.MaxInt, 2}, 0, false},
		{[]int{1 << 32, 1 << 31}, 0, false},
		{[]int{1 << 32, 1 << 30}, 1 << 62, true},
		// Empty, but the strides of the other axes would overflow.
		{[]int{0, 1 << 40, 1 << 40}, 0, false},
		{[]int{1 << 40, 0, 1 << 20}, 0, true},
		{make([]int, MaxDims+1), 0, false},
		{slices.Repeat([]int{1}, MaxDims), 1, true},
	} {
		n, ok := NumElements(tc.shape)
		if n != tc.n || ok != tc.ok {
			t.Errorf("NumElements(%v) = %d, %v; want %d, %v", tc.shape, n, ok, tc.n, tc.ok)
		}
	}
}

func TestByteSizeOverflow(t *testing.T) {
	for _, tc := range []struct {
		shape []int
		elem  int
		n     int64 // -1: errs.ErrShape
	}{
		{[]int{3, 4}, 8, 96},
		{[]int{1 << 62}, 8, -1},
		{[]int{1 << 59}, 8, 1 << 62},
		{[]int{1 << 60}, 8, -1},
		// numpy: np.empty((0, 2**60), '<f8') is "too big", (0, 2**59) is not.
		{[]int{0, 1 << 60}, 8, -1},
		{[]int{0, 1 << 59}, 8, 0},
		{[]int{0, 1 << 60}, 1, 0},
		{[]int{0, math.MaxInt}, 1, 0},
		{[]int{0, math.MaxInt}, 2, -1},
		{[]int{1 << 60, 0}, 8, -1},
		{[]int{0, 0, 1 << 59, 0}, 8, 0},
		{[]int{0, 1 << 30, 1 << 30}, 16, -1},
		{[]int{0, 1 << 29, 1 << 29}, 16, 0},
		{[]int{}, 16, 16},
	} {
		n, err := ByteSize(tc.shape, tc.elem)
		if tc.n < 0 {
			if !errors.Is(err, errs.ErrShape) || !strings.Contains(err.Error(), "too big") {
				t.Errorf("ByteSize(%v, %d) = %d, %v; want errs.ErrShape, too big", tc.shape, tc.elem, n, err)
			}
			continue
		}
		if n != tc.n || err != nil {
			t.Errorf("ByteSize(%v, %d) = %d, %v; want %d", tc.shape, tc.elem, n, err, tc.n)
		}
	}
}

func TestResolveShape(t *testing.T) {
	for _, tc := range []struct {
		shape []int
		n     int
		want  []int // nil: errs.ErrShape
	}{
		{[]int{2, 3}, 6, []int{2, 3}},
		{[]int{-1}, 6, []int{6}},
		{[]int{-1, 3}, 6, []int{2, 3}},
		{[]int{2, -1, 1}, 6, []int{2, 3, 1}},
		{[]int{}, 1, []int{}},
		{[]int{-1}, 0, []int{0}},
		{[]int{3, -1}, 0, []int{3, 0}},
		{[]int{0, -1}, 0, nil}, // ambiguous, as in numpy
		{[]int{-1, -1}, 4, nil},
		{[]int{4, -1}, 6, nil},
		{[]int{2, 2}, 6, nil},
		{[]int{-2, 3}, 6, nil},
		{[]int{}, 2, nil},
		{[]int{math.MaxInt, 2, -1}, 6, nil},
		{[]int{0, 1 << 40, 1 << 40}, 0, nil},
		{[]int{0, 1 << 59}, 0, []int{0, 1 << 59}},
		{[]int{0, 1 << 60}, 0, nil}, // its element strides fit, its byte strides do not
		{[]int{-1, 1 << 60}, 0, nil},
	} {
		got, err := ResolveShape(tc.shape, tc.n, 8)
		if tc.want == nil {
			if !errors.Is(err, errs.ErrShape) {
				t.Errorf("ResolveShape(%v, %d) = %v, %v; want errs.ErrShape", tc.shape, tc.n, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ResolveShape(%v, %d) = %v, %v; want %v", tc.shape, tc.n, got, err, tc.want)
		}
	}
}
