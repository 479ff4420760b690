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
