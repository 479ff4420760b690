package shmtensor

import (
	"errors"
	"testing"
)

// recoverError runs f and returns the error it panicked with, failing the
// test if it did not panic or panicked with something else.
func recoverError(t *testing.T, what string, f func()) (err error) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic", what)
			return
		}
		var ok bool
		if err, ok = r.(error); !ok {
			t.Errorf("%s: panicked with %T %v, not an error", what, r, r)
		}
	}()
	f()
	return nil
}

// TestPanicsCarryAnError: every panic's value is an error in which
// errors.As finds an *Error and errors.Is the sentinel it wraps.
func TestPanicsCarryAnError(t *testing.T) {
	a := arange[float64](3, 4)
	name := uniqueName(t)
	c, err := Create[float64](name, []int{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	ro, err := Attach[float64](name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	cv, _ := c.Transpose()
	c.Close()
	for _, tc := range []struct {
		name string
		f    func()
		want error
		op   string
	}{
		{"At past end", func() { a.At(3, 0) }, ErrIndex, "index"},
		{"At negative", func() { a.At(0, -1) }, ErrIndex, "index"},
		{"At count", func() { a.At(1) }, ErrIndex, "index"},
		{"Set past end", func() { a.Set(0, 1, 4) }, ErrIndex, "index"},
		{"Set count", func() { a.Set(0, 1, 2, 3) }, ErrIndex, "index"},
		{"New", func() { New[int](-1) }, ErrShape, "new"},
		{"New too many dims", func() { New[int](make([]int, MaxDims+1)...) }, ErrShape, "new"},
		{"Set read-only", func() { ro.Set(1, 0, 0) }, ErrReadOnly, "set"},
		{"Fill read-only", func() { ro.Fill(1) }, ErrReadOnly, "fill"},
		{"At closed", func() { c.At(0, 0) }, ErrClosed, "use of tensor"},
		{"At closed, wrong count", func() { c.At(0) }, ErrClosed, "use of tensor"},
		{"Set closed", func() { c.Set(1, 0, 0) }, ErrClosed, "use of tensor"},
		{"view closed", func() { cv.Slice(Full()) }, ErrClosed, "use of tensor"},
		{"Bytes closed", func() { c.Segment().Bytes() }, ErrClosed, "bytes"},
	} {
		err := recoverError(t, tc.name, tc.f)
		if err == nil {
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, tc.want) || e.Op != tc.op {
			t.Errorf("%s: panic %v (%T): want an *Error of %q wrapping %v", tc.name, err, err, tc.op, tc.want)
		}
		if err.Error() != e.Error() {
			t.Errorf("%s: panic says %q, its *Error %q", tc.name, err, e)
		}
		for _, other := range []error{ErrIndex, ErrShape, ErrReadOnly, ErrClosed} {
			if other != tc.want && errors.Is(err, other) {
				t.Errorf("%s: panic %v also matches %v", tc.name, err, other)
			}
		}
	}
}
