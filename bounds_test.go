//go:build shmtensor_bounds

package shmtensor

import (
	"errors"
	"testing"

	"github.com/shmtensor/shmtensor/internal/strided"
)

// Run with: go test -tags shmtensor_bounds ./...
// The whole suite then runs with the checked At and with every view's
// invariant asserted; these tests check that the assertions are there.

func TestBoundsTagAssertsViews(t *testing.T) {
	if !boundsTag {
		t.Fatal("built with shmtensor_bounds but boundsTag is false")
	}
	a := arange[int64](3, 4)
	for _, c := range []struct {
		name           string
		off            int
		shape, strides []int
	}{
		{"offset past the data", 12, []int{1}, []int{1}},
		{"last row past the data", 4, []int{3, 4}, []int{4, 1}},
		{"negative stride before the start", 0, []int{2}, []int{-1}},
		{"shape and strides differ", 0, []int{3, 4}, []int{1}},
	} {
		err := recoverError(t, c.name, func() { a.view(c.off, c.shape, c.strides) })
		var e *Error
		if err != nil && (!errors.As(err, &e) || !errors.Is(err, strided.ErrInvariant)) {
			t.Errorf("%s: panic %v, want an *Error wrapping strided.ErrInvariant", c.name, err)
		}
	}
	// Views the package makes satisfy the invariant.
	v, err := a.Slice(Reverse(), Every(-3))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.At(2, 1); got != 0 {
		t.Errorf("v.At(2, 1) = %d, want 0", got)
	}
}

// TestBoundsAtUsesSliceChecks: the tag's At reads through t.data, so a
// tensor whose fields were corrupted fails a Go bounds check instead of
// reading memory outside the data.
func TestBoundsAtUsesSliceChecks(t *testing.T) {
	a := arange[int64](3, 4)
	a.data = a.data[:5] // as if newTensor's caller had lied
	defer func() {
		if recover() == nil {
			t.Error("At(2, 3) past a shortened data read without a panic")
		}
	}()
	_ = a.At(2, 3)
}
