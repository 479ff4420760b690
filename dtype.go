package shmtensor

import (
	"reflect"
	"strconv"

	"github.com/shmtensor/shmtensor/internal/codec"
)

// Number is the set of Go element types a Tensor can hold. Each maps to one
// numpy dtype (see DTypeOf); int and uint are the 64-bit kinds on 64-bit
// platforms and the 32-bit kinds on 32-bit ones.
type Number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~int |
		~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uint |
		~float32 | ~float64 | ~complex64 | ~complex128
}

// DType is the element type recorded in a segment's header.
//
// Bool and Float16 segments (written by numpy) can be listed, stat'ed and
// opened as a Segment, but Go has no matching Number type, so View and
// Attach refuse them with ErrDType.
type DType uint8

// The element types, numbered as they were listed from the start; the
// numbers are not numpy's.
const (
	// Invalid is the zero DType, which no segment holds.
	Invalid DType = iota
	// Bool is numpy's bool ('|b1'): one byte, 0 or 1. No Number type holds it.
	Bool
	// Int8 is int8 ('|i1').
	Int8
	// Int16 is int16 ('<i2').
	Int16
	// Int32 is int32 ('<i4').
	Int32
	// Int64 is int64 ('<i8').
	Int64
	// Uint8 is uint8 ('|u1').
	Uint8
	// Uint16 is uint16 ('<u2').
	Uint16
	// Uint32 is uint32 ('<u4').
	Uint32
	// Uint64 is uint64 ('<u8').
	Uint64
	// Float16 is IEEE half precision ('<f2'). No Number type holds it.
	Float16
	// Float32 is float32 ('<f4').
	Float32
	// Float64 is float64 ('<f8').
	Float64
	// Complex64 is complex64 ('<c8'): two float32s.
	Complex64
	// Complex128 is complex128 ('<c16'): two float64s.
	Complex128
	// BFloat16 is bfloat16 (safetensors' BF16): the top half of a float32.
	// numpy has no descriptor for it, so only bundles hold it; no Number
	// type does: view it as uint16 or bytes.
	BFloat16
	// Float8E4M3 and Float8E5M2 are the 8-bit floats of safetensors
	// (F8_E4M3, F8_E5M2; ml_dtypes' float8_e4m3fn and float8_e5m2): bundles
	// only, viewed as bytes.
	Float8E4M3
	Float8E5M2
)

// String returns numpy's name for d: "float64", "int32", "bool", ...
func (d DType) String() string { return codec.DType(d).String() }

// Size returns the number of bytes of one element of type d, or 0 for an
// invalid DType.
func (d DType) Size() int { return codec.DType(d).Size() }

// Descr returns the .npy descriptor of d, such as "<f8" or "|u1".
func (d DType) Descr() string { return codec.DType(d).Descr() }

func (d DType) valid() bool { return codec.DType(d).Valid() }

// ParseDType returns the DType with numpy's name s ("float64", "uint8", ...),
// one of numpy's common aliases ("int", "int_", "uint", "float", "float_",
// "double", "complex") mapped as numpy maps them on the same machine, or
// the .npy descriptor s ("<f8", "|u1", "f8", "=i4"). Anything else,
// including big-endian descriptors ('>') of multi-byte types, is refused
// with an *Error wrapping ErrDType.
func ParseDType(s string) (DType, error) {
	if d, ok := codec.DTypeNamed(s); ok {
		return DType(d), nil
	}
	if d, ok := dtypeAliases[s]; ok {
		return d, nil
	}
	d, err := codec.DTypeFromDescr(s)
	if err != nil {
		return Invalid, &Error{Op: "parse dtype", Err: err}
	}
	return DType(d), nil
}

// dtypeAliases are the names numpy.dtype accepts for its default integer,
// float and complex types: C long (numpy 1) or intptr (numpy 2), which are
// both Go's int on the 64-bit Unix systems segments live on, and C double.
var dtypeAliases = map[string]DType{
	"int":     intDType(strconv.IntSize),
	"int_":    intDType(strconv.IntSize),
	"uint":    uintDType(strconv.IntSize),
	"float":   Float64,
	"float_":  Float64,
	"double":  Float64,
	"complex": Complex128,
}

// DTypeOf returns the DType that holds elements of Go type T. int and uint
// map to the 64-bit kinds on 64-bit platforms; named types (~float64 and so
// on) map like their underlying type.
func DTypeOf[T Number]() DType {
	return kindDType[reflect.TypeFor[T]().Kind()]
}

var kindDType = map[reflect.Kind]DType{
	reflect.Int8: Int8, reflect.Int16: Int16, reflect.Int32: Int32, reflect.Int64: Int64,
	reflect.Uint8: Uint8, reflect.Uint16: Uint16, reflect.Uint32: Uint32, reflect.Uint64: Uint64,
	reflect.Int: intDType(strconv.IntSize), reflect.Uint: uintDType(strconv.IntSize),
	reflect.Float32: Float32, reflect.Float64: Float64,
	reflect.Complex64: Complex64, reflect.Complex128: Complex128,
}

func intDType(bits int) DType {
	if bits == 32 {
		return Int32
	}
	return Int64
}

func uintDType(bits int) DType {
	if bits == 32 {
		return Uint32
	}
	return Uint64
}
