//go:build amd64 || arm64 || loong64 || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x || wasm

package shmtensor

// Tests whose shapes only a 64-bit int holds, as in internal/strided.

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestEmptyShapesTooBig: numpy's "array is too big" rule holds for empty
// shapes (their byte strides would overflow), and an empty tensor's views
// keep every offset in range whatever chain of views made them.
func TestEmptyShapesTooBig(t *testing.T) {
	for _, shape := range [][]int{{0, 1 << 60}, {1 << 60, 0}, {0, math.MaxInt}} {
		func() {
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), "too big") {
					t.Errorf("New[float64](%v) panicked with %v, want ErrShape: too big", shape, err)
				}
			}()
			New[float64](shape...)
		}()
		if _, err := FromSlice([]float64{}, shape...); !errors.Is(err, ErrShape) {
			t.Errorf("FromSlice(%v): %v, want ErrShape", shape, err)
		}
	}
	e := New[float64](0, 1<<59) // fits: its span is 1<<62 bytes
	if _, err := e.Reshape(0, 1<<60); !errors.Is(err, ErrShape) {
		t.Errorf("Reshape(0, 1<<60) of an empty float64 tensor: %v, want ErrShape", err)
	}
	// An empty slice far into an empty tensor, reshaped, then sliced again
	// from where the reshape put it: the offset used to overflow and panic.
	v, err := New[int8](0, math.MaxInt).Slice(Full(), Span(math.MaxInt-1, math.MaxInt))
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.Reshape(0, math.MaxInt)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Slice(Full(), Span(5, math.MaxInt))
	if err != nil || s.off < 0 || s.Len() != 0 || !slices.Equal(s.Shape(), []int{0, math.MaxInt - 5}) {
		t.Fatalf("slice of the reshaped empty tensor: %v at offset %d, %v", s.Shape(), s.off, err)
	}
}
