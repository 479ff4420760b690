package strided

import (
	"runtime"
	"slices"
	"testing"
	"unsafe"
)

func TestParallelFor(t *testing.T) {
	for _, c := range []struct{ n, w, align int }{
		{10, 4, 1}, {10, 4, 3}, {1000, 3, 256}, {5, 8, 1}, {1, 4, 1}, {513, 2, 256}, {100, 1, 7},
	} {
		var parts [][2]int
		ch := make(chan [2]int, 64)
		ParallelFor(c.n, c.w, c.align, func(lo, hi int) { ch <- [2]int{lo, hi} })
		close(ch)
		for p := range ch {
			parts = append(parts, p)
		}
		slices.SortFunc(parts, func(a, b [2]int) int { return a[0] - b[0] })
		at := 0
		for _, p := range parts {
			if p[0] != at || p[1] <= p[0] || (p[0]%c.align != 0) {
				t.Errorf("ParallelFor(%d, %d, %d): parts %v", c.n, c.w, c.align, parts)
				break
			}
			at = p[1]
		}
		if at != c.n || len(parts) > c.w {
			t.Errorf("ParallelFor(%d, %d, %d): parts %v", c.n, c.w, c.align, parts)
		}
	}
}

func TestMakeNoZero(t *testing.T) {
	for _, n := range []int{0, 1, noZeroMin/8 - 1, noZeroMin / 8, 5<<20/8 + 3} {
		s := MakeNoZero[float64](n)
		if len(s) != n || cap(s) < n {
			t.Fatalf("MakeNoZero(%d): len %d cap %d", n, len(s), cap(s))
		}
		if n > 0 && uintptr(unsafe.Pointer(&s[0]))%8 != 0 {
			t.Fatalf("MakeNoZero(%d): %p is not aligned", n, &s[0])
		}
		for i := range s { // every element is writable
			s[i] = float64(i)
		}
		runtime.KeepAlive(s)
	}
	c := MakeNoZero[complex128](noZeroMin)
	if uintptr(unsafe.Pointer(&c[0]))%unsafe.Alignof(c[0]) != 0 {
		t.Fatalf("MakeNoZero[complex128]: %p is not aligned", &c[0])
	}
}
