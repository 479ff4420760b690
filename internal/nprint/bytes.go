package nprint

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// Bytes describes an array whose elements are stored as bytes in the host's
// byte order, as in a shared memory segment: element (i, j, ...) starts at
// byte i*strides[0] + j*strides[1] + ... of data. kind and size are numpy's
// dtype.kind and dtype.itemsize: 'b' (bool, 1), 'i' and 'u' (1, 2, 4, 8),
// 'f' (2, 4, 8) and 'c' (8, 16). It panics on any other pair.
func Bytes(kind byte, size int, shape, strides []int, data []byte) Array {
	a := Array{Shape: shape}
	switch {
	case kind == 'b' && size == 1:
		a.Kind = Bool
	case (kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8):
		a.Kind = Int
	case kind == 'f' && (size == 2 || size == 4 || size == 8):
		a.Kind, a.Bits = Float, 8*size
	case kind == 'c' && (size == 8 || size == 16):
		a.Kind, a.Bits = Complex, 4*size
	default:
		panic(fmt.Sprintf("nprint: no element type of kind %q and size %d", kind, size))
	}
	a.Elem = func(idx []int) Value {
		off := 0
		for k, i := range idx {
			off += i * strides[k]
		}
		b := data[off : off+size]
		switch a.Kind {
		case Bool:
			return Value{Bool: b[0] != 0}
		case Float:
			return Value{Re: floatBytes(b)}
		case Complex:
			return Value{Re: floatBytes(b[:size/2]), Im: floatBytes(b[size/2:])}
		}
		if kind == 'u' {
			return Value{Int: strconv.FormatUint(uintBytes(b), 10)}
		}
		// Sign-extend from the element's width.
		shift := 64 - 8*size
		return Value{Int: strconv.FormatInt(int64(uintBytes(b)<<shift)>>shift, 10)}
	}
	return a
}

// uintBytes reads an unsigned integer of len(b) bytes.
func uintBytes(b []byte) uint64 {
	ne := binary.NativeEndian
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(ne.Uint16(b))
	case 4:
		return uint64(ne.Uint32(b))
	}
	return ne.Uint64(b)
}

// floatBytes reads an IEEE 754 float of len(b) bytes: half, single or
// double precision.
func floatBytes(b []byte) float64 {
	switch len(b) {
	case 2:
		return float16(uint16(uintBytes(b)))
	case 4:
		return float64(math.Float32frombits(uint32(uintBytes(b))))
	}
	return math.Float64frombits(uintBytes(b))
}

// float16 decodes an IEEE 754 half-precision number.
func float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(mant, -24)
	case 0x1f:
		if mant != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1+mant/1024, exp-15)
}

// NarrowBytes describes a C-order array of the floats numpy has no
// descriptor for, stored little-endian in data: "bfloat16",
// "float8_e4m3fn" or "float8_e5m2" (ml_dtypes' names), each value printed
// with the fewest digits that identify it in its format. ok is false for
// any other name.
func NarrowBytes(dtype string, shape []int, data []byte) (a Array, ok bool) {
	var size int
	var decode func(b []byte) float64
	switch dtype {
	case "bfloat16":
		a.Bits, a.Narrow, size = 16, BFloat16, 2
		decode = func(b []byte) float64 {
			return float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16))
		}
	case "float8_e4m3fn":
		a.Bits, a.Narrow, size = 8, Float8E4M3, 1
		decode = func(b []byte) float64 { return float8(b[0], 3, 7, false) }
	case "float8_e5m2":
		a.Bits, a.Narrow, size = 8, Float8E5M2, 1
		decode = func(b []byte) float64 { return float8(b[0], 2, 15, true) }
	default:
		return Array{}, false
	}
	a.Kind, a.Shape = Float, shape
	strides := make([]int, len(shape))
	s := size
	for k := len(shape) - 1; k >= 0; k-- {
		strides[k] = s
		s *= shape[k]
	}
	a.Elem = func(idx []int) Value {
		off := 0
		for k, i := range idx {
			off += i * strides[k]
		}
		return Value{Re: decode(data[off : off+size])}
	}
	return a, true
}

// float8 decodes an 8-bit float of mant mantissa bits and exponent bias
// bias. With ieee, the largest exponent holds the infinities and NaNs
// (float8_e5m2); without, only S.1111.111 is NaN and there are no
// infinities (float8_e4m3fn).
func float8(v byte, mant, bias int, ieee bool) float64 {
	sign := 1.0
	if v&0x80 != 0 {
		sign = -1
	}
	expBits := 7 - mant
	exp := int(v>>mant) & (1<<expBits - 1)
	m := float64(int(v) & (1<<mant - 1))
	one := float64(int(1) << mant)
	top := 1<<expBits - 1
	switch {
	case ieee && exp == top:
		if m != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	case !ieee && exp == top && int(m) == 1<<mant-1:
		return math.NaN()
	case exp == 0:
		return sign * math.Ldexp(m/one, 1-bias)
	}
	return sign * math.Ldexp(1+m/one, exp-bias)
}
