package codec

import (
	"encoding/binary"
	"fmt"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// DType is the element type a header records. It is numbered as the root
// package's DType, which converts to it: the table below is the one both
// read.
type DType uint8

// The element types, in the root package's order.
const (
	Invalid DType = iota
	Bool
	Int8
	Int16
	Int32
	Int64
	Uint8
	Uint16
	Uint32
	Uint64
	Float16
	Float32
	Float64
	Complex64
	Complex128
	BFloat16
	Float8E4M3
	Float8E5M2
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
	// Types numpy has no descriptor for: bundles (safetensors) only.
	BFloat16:   {"bfloat16", "", 2, -1},
	Float8E4M3: {"float8_e4m3fn", "", 1, -1},
	Float8E5M2: {"float8_e5m2", "", 1, -1},
}

// String returns numpy's name for d: "float64", "int32", "bool", ...
func (d DType) String() string {
	if d.Valid() {
		return dtypeInfo[d].name
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Size returns the number of bytes of one element of type d, or 0 for an
// invalid DType.
func (d DType) Size() int {
	if d.Valid() {
		return dtypeInfo[d].size
	}
	return 0
}

// Descr returns the .npy descriptor of d, such as "<f8" or "|u1".
func (d DType) Descr() string {
	if d.Valid() {
		return dtypeInfo[d].descr
	}
	return ""
}

// Valid reports whether d is one of the element types, not Invalid or out
// of range.
func (d DType) Valid() bool { return d > Invalid && int(d) < len(dtypeInfo) }

// typeNum returns numpy's type number for d, as SharedArray writes it.
func (d DType) typeNum() int32 { return dtypeInfo[d].typeNum }

// DTypeNamed returns the DType whose numpy name is s ("float64", "uint8",
// ...), without aliases or descriptors.
func DTypeNamed(s string) (DType, bool) {
	for d := Bool; d.Valid(); d++ {
		if s == dtypeInfo[d].name {
			return d, true
		}
	}
	return Invalid, false
}

// dtypeError is an ErrDType error whose message does not repeat the
// sentinel's ("element type mismatch"), which would mislead where nothing
// was matched.
type dtypeError string

func (e dtypeError) Error() string { return string(e) }
func (e dtypeError) Unwrap() error { return errs.ErrDType }

// DTypeFromDescr maps a .npy descr string to a DType. numpy writes '<' or
// '|'; '=' (native) is accepted because every platform Go supports for this
// package is little-endian here, and '>' is refused for multi-byte types.
// Like numpy's reader it also takes a type's name ("float64", no order
// prefix) and its one-letter code ("d", "<d"). The error wraps
// errs.ErrDType.
func DTypeFromDescr(s string) (DType, error) {
	if s == "" {
		return Invalid, dtypeError("empty element type")
	}
	// numpy also reads a header whose descr is a type's name ("float64")
	// or its one-letter code ("d"), as numpy.dtype spells them.
	if d, ok := DTypeNamed(s); ok && d.Descr() != "" { // not bfloat16 or the 8-bit floats, which numpy lacks
		return d, nil
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
	case "i2", "h":
		d = Int16
	case "u2", "H":
		d = Uint16
	case "i4", "i":
		d = Int32
	case "u4", "I":
		d = Uint32
	case "i8", "q", "l": // l, C long: 64 bits as numpy reads it on Linux and macOS
		d = Int64
	case "u8", "Q", "L":
		d = Uint64
	case "f2", "e":
		d = Float16
	case "f4", "f":
		d = Float32
	case "f8", "d":
		d = Float64
	case "c8", "F":
		d = Complex64
	case "c16", "D":
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

// ByteOrderError is how ParseNPYHeader refuses an .npy header that is
// valid but whose multi-byte element type is big-endian ('>f8'): numpy
// reads such files, this package maps only native little-endian types. Header is what the file holds,
// checked against its size as for the native type Native ('<f8'), so a
// caller may treat the file as the valid .npy file it is (Delete removes
// it). It matches errs.ErrDType under errors.Is.
type ByteOrderError struct {
	Descr, Native string
	Header        Header
}

func (e *ByteOrderError) Error() string {
	return fmt.Sprintf("npy header: big-endian '%s' data: shmtensor maps only native little-endian element types; numpy can convert it with arr.astype('%s')",
		e.Descr, e.Native)
}

func (e *ByteOrderError) Unwrap() error { return errs.ErrDType }

// nativeDescr returns the little-endian descr of a big-endian multi-byte
// descr s ('>f8' gives '<f8') that this package knows, on a little-endian
// host (on a big-endian one no multi-byte type is native here).
func nativeDescr(s string) (string, bool) {
	if !littleEndian || len(s) < 2 || s[0] != '>' {
		return "", false
	}
	native := "<" + s[1:]
	if d, err := DTypeFromDescr(native); err != nil || d.Size() < 2 {
		return "", false
	}
	return native, true
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
	for d := Bool; d.Valid(); d++ {
		if n >= 0 && dtypeInfo[d].typeNum == n {
			return d, true
		}
	}
	return Invalid, false
}

// littleEndian reports the host byte order; segments hold native-order data.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
