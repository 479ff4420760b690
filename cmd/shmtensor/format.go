package main

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/nprint"
)

// This file hands the raw bytes of a segment to the package's numpy
// printer (internal/nprint), so that every dtype, bool and float16
// included, and either memory order can be shown.

// rawArray is an array as bytes: element (i, j, ...) starts at byte
// i*strides[0] + j*strides[1] + ... of data.
type rawArray struct {
	dtype   shmtensor.DType
	shape   []int
	strides []int // in bytes
	data    []byte
}

func (a rawArray) elem(idx []int) []byte {
	off := 0
	for k, i := range idx {
		off += i * a.strides[k]
	}
	return a.data[off : off+a.dtype.Size()]
}

// formatArray returns a as numpy's str(a) prints it, summarised when it
// has more than threshold elements (0: never).
func formatArray(a rawArray, threshold int) string {
	dt := a.dtype
	na := nprint.Array{Kind: nprint.Int, Shape: a.shape}
	switch dt {
	case shmtensor.Bool:
		na.Kind = nprint.Bool
	case shmtensor.Float16, shmtensor.Float32, shmtensor.Float64:
		na.Kind, na.Bits = nprint.Float, 8*dt.Size()
	case shmtensor.Complex64, shmtensor.Complex128:
		na.Kind, na.Bits = nprint.Complex, 4*dt.Size()
	}
	part := shmtensor.Float32 // of a complex
	if dt == shmtensor.Complex128 {
		part = shmtensor.Float64
	}
	na.Elem = func(idx []int) nprint.Value {
		b := a.elem(idx)
		switch na.Kind {
		case nprint.Bool:
			return nprint.Value{Bool: b[0] != 0}
		case nprint.Float:
			return nprint.Value{Re: floatValue(dt, b)}
		case nprint.Complex:
			ps := part.Size()
			return nprint.Value{Re: floatValue(part, b[:ps]), Im: floatValue(part, b[ps:])}
		}
		return nprint.Value{Int: intString(dt, b)}
	}
	o := nprint.Default()
	o.Threshold = threshold
	return nprint.Format(na, o)
}

var le = binary.LittleEndian

func intString(dt shmtensor.DType, b []byte) string {
	switch dt {
	case shmtensor.Int8:
		return strconv.FormatInt(int64(int8(b[0])), 10)
	case shmtensor.Int16:
		return strconv.FormatInt(int64(int16(le.Uint16(b))), 10)
	case shmtensor.Int32:
		return strconv.FormatInt(int64(int32(le.Uint32(b))), 10)
	case shmtensor.Int64:
		return strconv.FormatInt(int64(le.Uint64(b)), 10)
	case shmtensor.Uint8:
		return strconv.FormatUint(uint64(b[0]), 10)
	case shmtensor.Uint16:
		return strconv.FormatUint(uint64(le.Uint16(b)), 10)
	case shmtensor.Uint32:
		return strconv.FormatUint(uint64(le.Uint32(b)), 10)
	}
	return strconv.FormatUint(le.Uint64(b), 10)
}

func floatValue(dt shmtensor.DType, b []byte) float64 {
	switch dt {
	case shmtensor.Float16:
		return float16Value(le.Uint16(b))
	case shmtensor.Float32:
		return float64(math.Float32frombits(le.Uint32(b)))
	}
	return math.Float64frombits(le.Uint64(b))
}

// float16Value decodes an IEEE 754 half-precision number.
func float16Value(h uint16) float64 {
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
