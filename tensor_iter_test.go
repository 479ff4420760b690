package shmtensor

// The iterators Values and All: on random views, and stopping when the
// segment is closed in the loop.

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestValuesStopsWhenClosedInLoop: closing the segment inside the loop
// body panics at the next element instead of reading unmapped memory.
func TestValuesStopsWhenClosedInLoop(t *testing.T) {
	name := tempFileName(t, "c.npy")
	a, err := Create[int32](name, []int{10, 10})
	if err != nil {
		t.Fatal(err)
	}
	defer Delete(name)
	v, _ := a.Transpose()
	msg := panicMessage(func() {
		for range v.Values() {
			a.Close()
		}
	})
	if !strings.Contains(msg, ErrClosed.Error()) {
		t.Errorf("closing inside Values: panic %q", msg)
	}
}

func TestIterators(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		a := arange[int16](randShape(rng, 4, 5)...)
		v := randomView(rng, a, 4)
		want := values(v)
		if got := slices.Collect(v.Values()); !slices.Equal(got, want) && len(want) > 0 {
			t.Fatalf("Values of %v/%v: %v, want %v", v.shape, v.strides, got, want)
		}
		i := 0
		for idx, x := range v.All() {
			if x != want[i] || v.At(idx...) != x {
				t.Fatalf("All of %v/%v: element %d at %v is %d, want %d", v.shape, v.strides, i, idx, x, want[i])
			}
			i++
		}
		if i != len(want) {
			t.Fatalf("All yields %d elements, want %d", i, len(want))
		}
		if d := v.Data(); (d != nil) != v.IsContiguous() || d != nil && !slices.Equal(d, want) && len(want) > 0 {
			t.Fatalf("Data of %v/%v: %v", v.shape, v.strides, d)
		}
	}
	// Breaking out of the loop stops the iteration.
	a := arange[int](4, 4)
	tr, _ := a.Transpose()
	for _, it := range []func(func(int) bool){a.Values(), tr.Values()} {
		n := 0
		for range it {
			n++
			if n == 5 {
				break
			}
		}
		if n != 5 {
			t.Errorf("break after %d elements", n)
		}
	}
}
