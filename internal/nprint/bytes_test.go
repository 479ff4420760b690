package nprint

import (
	"encoding/binary"
	"math"
	"testing"
)

func TestBytes(t *testing.T) {
	ne := binary.NativeEndian
	le16 := func(vs ...uint16) []byte {
		var b []byte
		for _, v := range vs {
			b = ne.AppendUint16(b, v)
		}
		return b
	}
	le32 := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = ne.AppendUint32(b, v)
		}
		return b
	}
	le64 := func(vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			b = ne.AppendUint64(b, v)
		}
		return b
	}
	f64 := math.Float64bits
	for _, tc := range []struct {
		name    string
		kind    byte
		size    int
		shape   []int
		strides []int
		data    []byte
		want    string
	}{
		{"bool", 'b', 1, []int{3}, []int{1}, []byte{1, 0, 2}, "[ True False  True]"},
		{"int8", 'i', 1, []int{3}, []int{1}, []byte{0x80, 0xff, 0x7f}, "[-128   -1  127]"},
		{"uint8", 'u', 1, []int{2}, []int{1}, []byte{0xff, 0}, "[255   0]"},
		{"int16", 'i', 2, []int{2}, []int{2}, le16(0x8000, 7), "[-32768      7]"},
		{"uint16", 'u', 2, []int{1}, []int{2}, le16(0xffff), "[65535]"},
		{"int32", 'i', 4, []int{2}, []int{4}, le32(0xffffffff, 1<<31-1), "[        -1 2147483647]"},
		{"uint32", 'u', 4, []int{1}, []int{4}, le32(0xffffffff), "[4294967295]"},
		{"int64", 'i', 8, []int{1}, []int{8}, le64(1 << 63), "[-9223372036854775808]"},
		{"uint64", 'u', 8, []int{1}, []int{8}, le64(1<<64 - 1), "[18446744073709551615]"},
		// 0x2e66 is float16's 0.1; 0x7c00 is +inf, 0x7e00 a NaN, 0x0001 the
		// smallest subnormal.
		{"float16", 'f', 2, []int{3}, []int{2}, le16(0x2e66, 0x3e00, 0xc000), "[ 0.1  1.5 -2. ]"},
		{"float16 special", 'f', 2, []int{3}, []int{2}, le16(0x7c00, 0x7e00, 0xfc00), "[ inf  nan -inf]"},
		{"float16 subnormal", 'f', 2, []int{1}, []int{2}, le16(0x0001), "[6.e-08]"},
		{"float32", 'f', 4, []int{2}, []int{4}, le32(math.Float32bits(0.5), math.Float32bits(-3)), "[ 0.5 -3. ]"},
		{"float64 transposed", 'f', 8, []int{2, 2}, []int{8, 16}, le64(f64(1), f64(2), f64(3), f64(4)), "[[1. 3.]\n [2. 4.]]"},
		{"complex64", 'c', 8, []int{1}, []int{8}, le32(math.Float32bits(1), math.Float32bits(-2)), "[1.-2.j]"},
		{"complex128", 'c', 16, []int{1}, []int{16}, le64(f64(0.5), f64(3)), "[0.5+3.j]"},
		{"0-d", 'i', 4, nil, nil, le32(7), "7"},
	} {
		if got := Format(Bytes(tc.kind, tc.size, tc.shape, tc.strides, tc.data), Default()); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Bytes of kind 'f' and size 16 did not panic")
		}
	}()
	Bytes('f', 16, nil, nil, nil)
}

// TestNarrowBytes: bfloat16 and the 8-bit floats print with the fewest
// digits that identify each value in its format, as numpy prints float16.
func TestNarrowBytes(t *testing.T) {
	for _, tc := range []struct {
		dtype string
		shape []int
		data  []byte
		want  string
	}{
		// bfloat16 0x3dcd is 0.10009765625, the nearest to 0.1.
		{"bfloat16", []int{4}, []byte{0xcd, 0x3d, 0x80, 0x3f, 0x00, 0xc0, 0x80, 0x7f}, "[ 0.1  1.  -2.   inf]"},
		{"bfloat16", nil, []byte{0xc0, 0x3f}, "1.5"},
		// e4m3fn: 0x38 is 1, 0xb0 -0.5, 0x7f NaN (no infinities), 0x7e 448.
		{"float8_e4m3fn", []int{2, 2}, []byte{0x38, 0xb0, 0x7f, 0x44}, "[[ 1.  -0.5]\n [ nan  3. ]]"},
		// 448 is printed 450.0, as numpy prints float16's 65504 65500.0:
		// the nearest e4m3fn to 450 is 448.
		{"float8_e4m3fn", nil, []byte{0x7e}, "450.0"},
		// e5m2: 0x3c is 1, 0x7c +inf, 0xfc -inf, 0x7e a NaN, 0x01 2^-16.
		{"float8_e5m2", []int{4}, []byte{0x3c, 0x7c, 0xfc, 0x7e}, "[  1.  inf -inf  nan]"},
		{"float8_e5m2", nil, []byte{0x01}, "2e-05"},
	} {
		a, ok := NarrowBytes(tc.dtype, tc.shape, tc.data)
		if !ok {
			t.Fatalf("%s: not a narrow float", tc.dtype)
		}
		if got := Format(a, Default()); got != tc.want {
			t.Errorf("%s %v % x:\n%s\nwant\n%s", tc.dtype, tc.shape, tc.data, got, tc.want)
		}
	}
	if _, ok := NarrowBytes("float32", nil, nil); ok {
		t.Error("float32 is not a narrow float here")
	}
}
