package shmtensor

import (
	"errors"
	"strconv"
	"testing"
	"unsafe"

	"github.com/shmtensor/shmtensor/internal/codec"
)

// TestDTypeTable checks ParseDType on every DType's name and descriptors;
// internal/codec's TestDTypeTable pins the names, descriptors and sizes,
// and TestCodecTypes that the root's DType reads them.
func TestDTypeTable(t *testing.T) {
	for d := Bool; d.valid(); d++ {
		if d.Descr() == "" { // bundles only: by name
			if got, err := ParseDType(d.String()); err != nil || got != d {
				t.Errorf("ParseDType(%q) = %v, %v; want %v", d.String(), got, err, d)
			}
			continue
		}
		for _, s := range []string{d.String(), d.Descr(), d.Descr()[1:], "=" + d.Descr()[1:]} {
			if got, err := ParseDType(s); err != nil || got != d {
				t.Errorf("ParseDType(%q) = %v, %v; want %v", s, got, err, d)
			}
		}
	}
	for _, s := range []string{"", "<", ">f8", ">i4", "<f16", "S10", "O", "<M8[ns]", "Float64", "int8 ", "long double"} {
		if _, err := ParseDType(s); !errors.Is(err, ErrDType) {
			t.Errorf("ParseDType(%q): %v, want ErrDType", s, err)
		}
	}
	for _, s := range []string{"?", "b", "B", "e", ">u1", ">b1"} {
		if _, err := ParseDType(s); err != nil {
			t.Errorf("ParseDType(%q): %v", s, err)
		}
	}
	// numpy's aliases, as numpy 1.24 maps them on Linux x86-64; int and
	// uint follow the platform's word size, as numpy's do.
	aliases := map[string]DType{"int": Int64, "int_": Int64, "uint": Uint64, "float": Float64,
		"float_": Float64, "double": Float64, "complex": Complex128, "bool": Bool}
	if strconv.IntSize == 32 {
		aliases["int"], aliases["int_"], aliases["uint"] = Int32, Int32, Uint32
	}
	for s, want := range aliases {
		if d, err := ParseDType(s); err != nil || d != want {
			t.Errorf("ParseDType(%q) = %v, %v; want %v", s, d, err, want)
		}
	}
	if Invalid.Size() != 0 || DType(200).String() != "DType(200)" {
		t.Error("invalid DTypes")
	}
}

// TestCodecTypes checks that the root's DType and Layout convert to the
// codec's, which numbers them the same, and that both agree on MaxDims:
// the root's methods read the codec's table.
func TestCodecTypes(t *testing.T) {
	for d := Invalid; d <= Float8E5M2+1; d++ {
		c := codec.DType(d)
		if d.String() != c.String() || d.Size() != c.Size() || d.Descr() != c.Descr() || d.valid() != c.Valid() {
			t.Errorf("DType %d: root %s %d %q, codec %s %d %q", d, d, d.Size(), d.Descr(), c, c.Size(), c.Descr())
		}
	}
	if Float8E5M2.valid() && codec.DType(Float8E5M2+1).Valid() {
		t.Error("the codec knows more element types than the root")
	}
	for _, c := range []struct {
		l    Layout
		c    codec.Layout
		name string
	}{{NPY, codec.NPY, "npy"}, {SharedArray, codec.SharedArray, "sharedarray"}, {0, 0, "invalid"}, {3, 3, "invalid"}} {
		if codec.Layout(c.l) != c.c || c.l.String() != c.name || c.c.String() != c.name {
			t.Errorf("Layout %d: root %v, codec %v, want %s", c.l, c.l, c.c, c.name)
		}
	}
	if MaxDims != codec.MaxDims {
		t.Errorf("MaxDims %d, codec.MaxDims %d", MaxDims, codec.MaxDims)
	}
}

type myFloat float64
type myUint uint

func TestDTypeOf(t *testing.T) {
	check := func(got, want DType) {
		t.Helper()
		if got != want {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	check(DTypeOf[int8](), Int8)
	check(DTypeOf[int16](), Int16)
	check(DTypeOf[int32](), Int32)
	check(DTypeOf[int64](), Int64)
	check(DTypeOf[uint8](), Uint8)
	check(DTypeOf[uint16](), Uint16)
	check(DTypeOf[uint32](), Uint32)
	check(DTypeOf[uint64](), Uint64)
	check(DTypeOf[float32](), Float32)
	check(DTypeOf[float64](), Float64)
	check(DTypeOf[complex64](), Complex64)
	check(DTypeOf[complex128](), Complex128)
	check(DTypeOf[myFloat](), Float64)
	if strconv.IntSize == 64 {
		check(DTypeOf[int](), Int64)
		check(DTypeOf[myUint](), Uint64)
	} else {
		check(DTypeOf[int](), Int32)
		check(DTypeOf[myUint](), Uint32)
	}
	check(DType(DTypeOf[uint]().Size()), DType(unsafe.Sizeof(uint(0))))
}
