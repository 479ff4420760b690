package nprint

import (
	"strconv"
	"testing"
)

// The printer is checked against numpy through its two users
// (shmtensor's TestStringMatchesNumpy and the command's
// TestShowMatchesNumpy); these cases pin what only one of them reaches.

func vector(k Kind, bits int, vals ...Value) Array {
	return Array{Kind: k, Bits: bits, Shape: []int{len(vals)}, Elem: func(idx []int) Value { return vals[idx[0]] }}
}

func ints(n int) Array {
	return Array{Kind: Int, Shape: []int{n}, Elem: func(idx []int) Value { return Value{Int: strconv.Itoa(idx[0])} }}
}

func TestFormat(t *testing.T) {
	threshold0 := Default()
	threshold0.Threshold = 0
	for _, tc := range []struct {
		name string
		a    Array
		o    Options
		want string
	}{
		{"bool", vector(Bool, 0, Value{Bool: true}, Value{}), Default(), "[ True False]"},
		{"all True", Array{Kind: Bool, Shape: []int{2, 2}, Elem: func([]int) Value { return Value{Bool: true} }}, Default(), "[[ True  True]\n [ True  True]]"},
		{"all False", vector(Bool, 0, Value{}, Value{}), Default(), "[False False]"},
		{"bool scalar", Array{Kind: Bool, Elem: func([]int) Value { return Value{Bool: true} }}, Default(), "True"},
		// 0.1 as a float16 is 0.0999755859375; numpy prints its shortest form.
		{"float16", vector(Float, 16, Value{Re: 0.0999755859375}, Value{Re: 1.5}, Value{Re: -2}), Default(), "[ 0.1  1.5 -2. ]"},
		{"float16 scalar", Array{Kind: Float, Bits: 16, Elem: func([]int) Value { return Value{Re: 0.0999755859375} }}, Default(), "0.1"},
		// In scientific notation numpy pads mantissas with the exact digits.
		{"float16 scientific", vector(Float, 16, Value{Re: 0.0999755859375}, Value{Re: 1000.5}, Value{Re: 65504}), Default(), "[9.9976e-02 1.0005e+03 6.5504e+04]"},
		{"summarised", ints(1001), Default(), "[   0    1    2 ...  998  999 1000]"},
		{"threshold 0", ints(1001), threshold0, ""},
		{"empty", Array{Kind: Int, Shape: []int{2, 0}}, Default(), "[]"},
	} {
		got := Format(tc.a, tc.o)
		if tc.want == "" { // only: not summarised
			if len(got) < 4000 || got[len(got)-5:] != "1000]" {
				t.Errorf("%s: %q...", tc.name, got[:min(len(got), 40)])
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
