package strided

import (
	"errors"
	"math"
	"testing"
)

func TestCheckView(t *testing.T) {
	for _, c := range []struct {
		name           string
		n, off         int
		shape, strides []int
		ok             bool
	}{
		{"C order", 12, 0, []int{3, 4}, []int{4, 1}, true},
		{"last element", 12, 11, []int{}, []int{}, true},
		{"reversed", 12, 11, []int{3, 4}, []int{-4, -1}, true},
		{"broadcast", 1, 0, []int{5}, []int{0}, true},
		{"empty at end", 12, 12, []int{0, 4}, []int{4, 1}, true},
		{"empty data", 0, 0, []int{0}, []int{1}, true},
		{"past end", 12, 1, []int{3, 4}, []int{4, 1}, false},
		{"before start", 12, 10, []int{3, 4}, []int{-4, 1}, false},
		{"scalar past end", 12, 12, []int{}, []int{}, false},
		{"negative offset", 12, -1, []int{1}, []int{1}, false},
		{"empty past end", 12, 13, []int{0}, []int{1}, true},
		{"empty before start", 12, -1, []int{0}, []int{1}, false},
		{"lengths differ", 12, 0, []int{3, 4}, []int{4}, false},
		{"negative dim", 12, 0, []int{-1}, []int{1}, false},
		{"huge stride", 12, 0, []int{2}, []int{math.MaxInt}, false},
		{"huge negative stride", 12, 11, []int{2}, []int{math.MinInt}, false},
	} {
		err := CheckView(c.n, c.off, c.shape, c.strides)
		if (err == nil) != c.ok || err != nil && !errors.Is(err, ErrInvariant) {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
