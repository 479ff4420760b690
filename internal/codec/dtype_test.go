package codec

import (
	"errors"
	"testing"

	"github.com/shmtensor/shmtensor/internal/errs"
)

func TestDTypeTable(t *testing.T) {
	tests := []struct {
		d     DType
		name  string
		descr string
		size  int
		num   int32
	}{
		{Bool, "bool", "|b1", 1, 0},
		{Int8, "int8", "|i1", 1, 1},
		{Int16, "int16", "<i2", 2, 3},
		{Int32, "int32", "<i4", 4, 5},
		{Int64, "int64", "<i8", 8, 7},
		{Uint8, "uint8", "|u1", 1, 2},
		{Uint16, "uint16", "<u2", 2, 4},
		{Uint32, "uint32", "<u4", 4, 6},
		{Uint64, "uint64", "<u8", 8, 8},
		{Float16, "float16", "<f2", 2, 23},
		{Float32, "float32", "<f4", 4, 11},
		{Float64, "float64", "<f8", 8, 12},
		{Complex64, "complex64", "<c8", 8, 14},
		{Complex128, "complex128", "<c16", 16, 15},
	}
	for _, tt := range tests {
		if tt.d.String() != tt.name || tt.d.Descr() != tt.descr || tt.d.Size() != tt.size || tt.d.typeNum() != tt.num {
			t.Errorf("%d: %s %s %d %d", tt.d, tt.d, tt.d.Descr(), tt.d.Size(), tt.d.typeNum())
		}
		if d, ok := DTypeNamed(tt.name); !ok || d != tt.d {
			t.Errorf("DTypeNamed(%q) = %v, %v; want %v", tt.name, d, ok, tt.d)
		}
		for _, s := range []string{tt.descr, tt.descr[1:], "=" + tt.descr[1:]} {
			if d, err := DTypeFromDescr(s); err != nil || d != tt.d {
				t.Errorf("DTypeFromDescr(%q) = %v, %v; want %v", s, d, err, tt.d)
			}
		}
		if d, ok := dtypeFromTypeNum(tt.num); !ok || d != tt.d {
			t.Errorf("type number %d = %v", tt.num, d)
		}
	}
	// numpy's long long and unsigned long long numbers are the 64-bit kinds.
	if d, _ := dtypeFromTypeNum(9); d != Int64 {
		t.Error("type number 9 is not int64")
	}
	if d, _ := dtypeFromTypeNum(10); d != Uint64 {
		t.Error("type number 10 is not uint64")
	}
	for _, n := range []int32{-1, 13, 16, 17, 18, 22, 24, 1000} {
		if _, ok := dtypeFromTypeNum(n); ok {
			t.Errorf("type number %d accepted", n)
		}
	}
	for _, s := range []string{"", "<", ">f8", ">i4", "<f16", "S10", "O", "<M8[ns]", "<float64", "int8 ", "bfloat16", "float8_e4m3", ">d"} {
		if _, err := DTypeFromDescr(s); !errors.Is(err, errs.ErrDType) {
			t.Errorf("DTypeFromDescr(%q): %v, want ErrDType", s, err)
		}
	}
	for _, s := range []string{"?", "b", "B", "e", ">u1", ">b1"} {
		if _, err := DTypeFromDescr(s); err != nil {
			t.Errorf("DTypeFromDescr(%q): %v", s, err)
		}
	}
	// Names and one-letter codes, as numpy 1.24's reader maps them.
	for s, want := range map[string]DType{"float64": Float64, "d": Float64, "<d": Float64, "int32": Int32,
		"i": Int32, "h": Int16, "H": Uint16, "I": Uint32, "q": Int64, "Q": Uint64, "l": Int64, "L": Uint64,
		"f": Float32, "F": Complex64, "D": Complex128, "bool": Bool, "float16": Float16, "uint8": Uint8} {
		if d, err := DTypeFromDescr(s); err != nil || d != want {
			t.Errorf("DTypeFromDescr(%q) = %v, %v; want %v", s, d, err, want)
		}
	}
	for _, s := range []string{"invalid", "", "Float64", "int", "<f8"} {
		if d, ok := DTypeNamed(s); ok {
			t.Errorf("DTypeNamed(%q) = %v", s, d)
		}
	}
	if Invalid.Size() != 0 || Invalid.Valid() || DType(200).Valid() || DType(200).String() != "DType(200)" || DType(200).Descr() != "" {
		t.Error("invalid DTypes")
	}
}
