package shmtensor

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strconv"
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
)

// dtypeInfo holds what each format needs to know about a DType: numpy's name,
// its .npy descriptor (little-endian or byte-order-free) and numpy's type
// number as written in SharedArray's trailer on x86-64 Linux.
var dtypeInfo = [...]struct {
	name    string
	descr   string
	size    int
	typeNum int32
}{
	Invalid:    {"invalid", "", 0, -1},
	Bool:       {"bool", "|b1", 1, 0},
	Int8:       {"int8", "|i1", 1, 1},
	Int16:      {"int16", "<i2", 2, 3},
	Int32:      {"int32", "<i4", 4, 5},
	Int64:      {"int64", "<i8", 8, 7},
	Uint8:      {"uint8", "|u1", 1, 2},
	Uint16:     {"uint16", "<u2", 2, 4},
	Uint32:     {"uint32", "<u4", 4, 6},
	Uint64:     {"uint64", "<u8", 8, 8},
	Float16:    {"float16", "<f2", 2, 23},
	Float32:    {"float32", "<f4", 4, 11},
	Float64:    {"float64", "<f8", 8, 12},
	Complex64:  {"complex64", "<c8", 8, 14},
	Complex128: {"complex128", "<c16", 16, 15},
}

// String returns numpy's name for d: "float64", "int32", "bool", ...
func (d DType) String() string {
	if d.valid() {
		return dtypeInfo[d].name
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Size returns the number of bytes of one element of type d, or 0 for an
// invalid DType.
func (d DType) Size() int {
	if d.valid() {
		return dtypeInfo[d].size
	}
	return 0
}

// Descr returns the .npy descriptor of d, such as "<f8" or "|u1".
func (d DType) Descr() string {
	if d.valid() {
		return dtypeInfo[d].descr
	}
	return ""
}

func (d DType) valid() bool { return d > Invalid && int(d) < len(dtypeInfo) }

// ParseDType returns the DType with numpy's name s ("float64", "uint8", ...),
// one of numpy's common aliases ("int", "int_", "uint", "float", "float_",
// "double", "complex") mapped as numpy maps them on the same machine, or
// the .npy descriptor s ("<f8", "|u1", "f8", "=i4"). Anything else,
// including big-endian descriptors ('>') of multi-byte types, is refused
// with an *Error wrapping ErrDType.
func ParseDType(s string) (DType, error) {
	for d := Bool; d.valid(); d++ {
		if s == dtypeInfo[d].name {
			return d, nil
		}
	}
	if d, ok := dtypeAliases[s]; ok {
		return d, nil
	}
	d, err := dtypeFromDescr(s)
	if err != nil {
		return Invalid, &Error{Op: "parse dtype", Err: err}
	}
	return d, nil
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

// dtypeError is an ErrDType error whose message does not repeat the
// sentinel's ("element type mismatch"), which would mislead where nothing
// was matched.
type dtypeError string

func (e dtypeError) Error() string { return string(e) }
func (e dtypeError) Unwrap() error { return ErrDType }

// dtypeFromDescr maps a .npy descr string to a DType. numpy writes '<' or
// '|'; '=' (native) is accepted because every platform Go supports for this
// package is little-endian here, and '>' is refused for multi-byte types.
func dtypeFromDescr(s string) (DType, error) {
	if s == "" {
		return Invalid, dtypeError("empty element type")
	}
	order := byte('=')
	body := s
	switch s[0] {
	case '<', '>', '|', '=':
		order, body = s[0], s[1:]
	}
	var d DType
	switch body {
	case "b1", "?":
		d = Bool
	case "i1", "b":
		d = Int8
	case "u1", "B":
		d = Uint8
	case "i2":
		d = Int16
	case "u2":
		d = Uint16
	case "i4":
		d = Int32
	case "u4":
		d = Uint32
	case "i8":
		d = Int64
	case "u8":
		d = Uint64
	case "f2", "e":
		d = Float16
	case "f4":
		d = Float32
	case "f8":
		d = Float64
	case "c8":
		d = Complex64
	case "c16":
		d = Complex128
	default:
		return Invalid, dtypeError(fmt.Sprintf("unknown element type %q", s))
	}
	if order == '>' && d.Size() > 1 {
		return Invalid, dtypeError(fmt.Sprintf("big-endian element type %q is not supported", s))
	}
	if !littleEndian && d.Size() > 1 {
		return Invalid, dtypeError(fmt.Sprintf("element type %q on a big-endian host is not supported", s))
	}
	return d, nil
}

// dtypeFromTypeNum maps numpy's type number (as SharedArray stores it) to a
// DType. 7 and 9 are both int64 (long and longlong on LP64), 8 and 10 both
// uint64.
func dtypeFromTypeNum(n int32) (DType, bool) {
	switch n {
	case 9:
		return Int64, true
	case 10:
		return Uint64, true
	}
	for d := Bool; d.valid(); d++ {
		if dtypeInfo[d].typeNum == n {
			return d, true
		}
	}
	return Invalid, false
}

// typeNum returns numpy's type number for d, as SharedArray writes it.
func (d DType) typeNum() int32 { return dtypeInfo[d].typeNum }

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

// littleEndian reports the host byte order; segments hold native-order data.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
