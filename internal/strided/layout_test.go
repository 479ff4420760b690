package strided

import (
	"slices"
	"testing"
)

func TestStrides(t *testing.T) {
	for _, tc := range []struct {
		shape, c, f []int
	}{
		{[]int{}, []int{}, []int{}},
		{[]int{5}, []int{1}, []int{1}},
		{[]int{2, 3, 4}, []int{12, 4, 1}, []int{1, 2, 6}},
		{[]int{2, 0, 4}, []int{4, 4, 1}, []int{1, 2, 2}}, // numpy counts 0 as 1
		{[]int{1, 1, 3}, []int{3, 3, 1}, []int{1, 1, 1}},
	} {
		if got := CStrides(tc.shape); !slices.Equal(got, tc.c) {
			t.Errorf("CStrides(%v) = %v, want %v", tc.shape, got, tc.c)
		}
		if got := FStrides(tc.shape); !slices.Equal(got, tc.f) {
			t.Errorf("FStrides(%v) = %v, want %v", tc.shape, got, tc.f)
		}
		if got := Strides(tc.shape, false); !slices.Equal(got, tc.c) {
			t.Errorf("Strides(%v, false) = %v, want %v", tc.shape, got, tc.c)
		}
		if got := Strides(tc.shape, true); !slices.Equal(got, tc.f) {
			t.Errorf("Strides(%v, true) = %v, want %v", tc.shape, got, tc.f)
		}
	}
}

func TestNormAxis(t *testing.T) {
	for _, tc := range []struct {
		axis, ndim, want int
		ok               bool
	}{
		{0, 3, 0, true}, {2, 3, 2, true}, {-1, 3, 2, true}, {-3, 3, 0, true},
		{3, 3, 3, false}, {-4, 3, -1, false}, {0, 0, 0, false}, {-1, 0, -1, false},
	} {
		if got, ok := NormAxis(tc.axis, tc.ndim); got != tc.want || ok != tc.ok {
			t.Errorf("NormAxis(%d, %d) = %d, %v; want %d, %v", tc.axis, tc.ndim, got, ok, tc.want, tc.ok)
		}
	}
}

func TestContiguityRule(t *testing.T) {
	for _, tc := range []struct {
		shape, strides []int
		c, f           bool
	}{
		{[]int{}, []int{}, true, true},
		{[]int{3, 4}, []int{4, 1}, true, false},
		{[]int{3, 4}, []int{1, 3}, false, true},
		{[]int{3, 4}, []int{8, 1}, false, false},      // every other row
		{[]int{3, 4}, []int{4, -1}, false, false},     // reversed
		{[]int{1, 4}, []int{99, 1}, true, true},       // length-1 axes do not count
		{[]int{4, 1}, []int{1, -7}, true, true},       // a column is both
		{[]int{1, 1}, []int{5, 9}, true, true},        // one element
		{[]int{3, 0, 4}, []int{-5, 7, 2}, true, true}, // empty is contiguous
		{[]int{2, 1, 3}, []int{3, 100, 1}, true, false},
		{[]int{5}, []int{2}, false, false},
		{[]int{5}, []int{0}, false, false},
	} {
		if got := IsCContiguous(tc.shape, tc.strides); got != tc.c {
			t.Errorf("IsCContiguous(%v, %v) = %v", tc.shape, tc.strides, got)
		}
		if got := IsFContiguous(tc.shape, tc.strides); got != tc.f {
			t.Errorf("IsFContiguous(%v, %v) = %v", tc.shape, tc.strides, got)
		}
	}
}

func TestReshapeStrides(t *testing.T) {
	for _, tc := range []struct {
		name             string
		shape, strides   []int
		newShape, expect []int // expect nil: numpy copies
	}{
		{"contiguous", []int{2, 3, 4}, []int{12, 4, 1}, []int{6, 4}, []int{4, 1}},
		{"same shape", []int{3, 4}, []int{1, 3}, []int{3, 4}, []int{1, 3}},
		{"same shape with ones", []int{1, 3, 1}, []int{-1, 2, 5}, []int{1, 3, 1}, []int{6, 2, 2}},
		// a[:, ::2] of a 4×6: rows 6 apart, columns 2 apart.
		{"a[:, ::2] split columns", []int{4, 3}, []int{6, 2}, []int{4, 3, 1}, []int{6, 2, 2}},
		{"a[:, ::2] split rows", []int{4, 3}, []int{6, 2}, []int{2, 2, 3}, []int{12, 6, 2}},
		{"a[:, ::2] flatten", []int{4, 3}, []int{6, 2}, []int{12}, []int{2}}, // all even offsets
		{"a[:, :2] flatten", []int{4, 2}, []int{6, 1}, []int{8}, nil},
		{"a[:, :2] regroup", []int{4, 2}, []int{6, 1}, []int{2, 2, 2}, []int{12, 6, 1}},
		// a[::2] of a 4×3×2: the last two axes still group.
		{"a[::2] merge inner", []int{2, 3, 2}, []int{12, 2, 1}, []int{2, 6}, []int{12, 1}},
		{"a[::2] merge outer", []int{2, 3, 2}, []int{12, 2, 1}, []int{6, 2}, nil},
		{"a[::2] split inner", []int{2, 3, 2}, []int{12, 2, 1}, []int{2, 3, 2, 1}, []int{12, 2, 1, 1}},
		{"transposed 3x4 flatten", []int{4, 3}, []int{1, 4}, []int{12}, nil},
		{"transposed 3x4 regroup", []int{4, 3}, []int{1, 4}, []int{2, 2, 3}, []int{2, 1, 4}},
		{"transposed 3x4 to 3x4", []int{4, 3}, []int{1, 4}, []int{3, 4}, nil},
		{"reversed 1-D", []int{6}, []int{-1}, []int{2, 3}, []int{-3, -1}},
		{"reversed 1-D with ones", []int{6}, []int{-1}, []int{1, 2, 1, 3, 1}, []int{-6, -3, -3, -1, -1}},
		{"unit axes ignored", []int{3, 1, 4}, []int{8, 99, 2}, []int{12}, []int{2}},
		{"unit axes ignored 2", []int{3, 1, 4}, []int{9, 99, 2}, []int{12}, nil},
		{"unit axes ignored 3", []int{3, 1, 4}, []int{9, 99, 2}, []int{3, 2, 2}, []int{9, 4, 2}},
		{"strided to ones", []int{1, 5}, []int{10, 2}, []int{5, 1}, []int{2, 2}},
		{"empty strided", []int{3, 0}, []int{7, 3}, []int{0, 5}, []int{5, 1}},
	} {
		got, ok := ReshapeStrides(tc.shape, tc.strides, tc.newShape)
		if tc.expect == nil {
			if ok {
				t.Errorf("%s: ReshapeStrides(%v, %v, %v) = %v, want no view", tc.name, tc.shape, tc.strides, tc.newShape, got)
			}
			continue
		}
		if !ok || !slices.Equal(got, tc.expect) {
			t.Errorf("%s: ReshapeStrides(%v, %v, %v) = %v, %v; want %v", tc.name, tc.shape, tc.strides, tc.newShape, got, ok, tc.expect)
		}
	}
}

func TestCoalesce(t *testing.T) {
	// Axes 0 and 1 merge in both stride sets; 1 and 3 only in the first.
	nd, sh, st := Coalesce([]int{2, 3, 1, 4}, []int{12, 4, 77, 1}, []int{6, 2, 0, 24})
	if nd != 2 || !slices.Equal(sh[:nd], []int{6, 4}) || !slices.Equal(st[0][:nd], []int{4, 1}) || !slices.Equal(st[1][:nd], []int{2, 24}) {
		t.Errorf("Coalesce = %d %v %v %v", nd, sh[:nd], st[0][:nd], st[1][:nd])
	}
	nd, _, _ = Coalesce([]int{1, 1}, []int{5, 3})
	if nd != 0 {
		t.Errorf("Coalesce of a single element kept %d axes", nd)
	}
}
