//go:build amd64 || arm64 || loong64 || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x || wasm

package strided

// Tests whose tables hold sizes only a 64-bit int holds: the overflow
// checks at 1<<62 elements and more. The rest of the package's tests build
// everywhere.

import (
	"errors"
	"math"
	"slices"
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
	if n, err := ByteSize([]int{3, 4}, 8); n != 96 || err != nil {
		t.Errorf("ByteSize(3x4 float64) = %d, %v", n, err)
	}
	if _, err := ByteSize([]int{1 << 62}, 8); !errors.Is(err, errs.ErrShape) {
		t.Errorf("ByteSize overflow: %v, want errs.ErrShape", err)
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
	} {
		got, err := ResolveShape(tc.shape, tc.n)
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
