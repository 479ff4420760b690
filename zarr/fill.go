package zarr

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/shmtensor/shmtensor"
)

// zeroFill is the fill_value this package writes, spelled as zarr-python
// 2.13 spells a zero fill value of each type in .zarray.
func zeroFill(dt shmtensor.DType) json.RawMessage {
	switch dt {
	case shmtensor.Bool:
		return json.RawMessage("false")
	case shmtensor.Float16, shmtensor.Float32, shmtensor.Float64:
		return json.RawMessage("0.0")
	case shmtensor.Complex64, shmtensor.Complex128:
		return json.RawMessage("[0.0, 0.0]")
	}
	return json.RawMessage("0")
}

// decodeFill returns one element of type dt holding the fill_value raw, in
// the host's (little-endian) byte order. null means "no fill value": missing
// chunks are then undefined in Zarr, and zero here. Floats may be given as
// the strings "NaN", "Infinity" and "-Infinity" (the v2 spec's spelling),
// complex numbers as [real, imag].
func decodeFill(raw json.RawMessage, dt shmtensor.DType) ([]byte, error) {
	out := make([]byte, dt.Size())
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	bad := func(err error) ([]byte, error) {
		if err != nil {
			return nil, fmt.Errorf("%w: fill_value %s for dtype %s: %v", ErrFormat, raw, dt, err)
		}
		return nil, fmt.Errorf("%w: fill_value %s for dtype %s", ErrFormat, raw, dt)
	}
	switch dt {
	case shmtensor.Bool:
		var b any
		if err := json.Unmarshal(raw, &b); err != nil {
			return bad(err)
		}
		switch v := b.(type) {
		case bool:
			if v {
				out[0] = 1
			}
		case float64:
			if v != 0 && v != 1 {
				return bad(nil)
			}
			out[0] = byte(v)
		default:
			return bad(nil)
		}
	case shmtensor.Int8, shmtensor.Int16, shmtensor.Int32, shmtensor.Int64:
		n, err := parseIntFill(raw, dt.Size()*8)
		if err != nil {
			return bad(err)
		}
		putUint(out, uint64(n))
	case shmtensor.Uint8, shmtensor.Uint16, shmtensor.Uint32, shmtensor.Uint64:
		n, err := parseUintFill(raw, dt.Size()*8)
		if err != nil {
			return bad(err)
		}
		putUint(out, n)
	case shmtensor.Float16, shmtensor.Float32, shmtensor.Float64:
		f, err := parseFloatFill(raw)
		if err != nil {
			return bad(err)
		}
		putFloat(out, f)
	case shmtensor.Complex64, shmtensor.Complex128:
		var parts []json.RawMessage
		if err := json.Unmarshal(raw, &parts); err != nil || len(parts) != 2 {
			// A plain number is a complex number with no imaginary part.
			f, ferr := parseFloatFill(raw)
			if ferr != nil {
				return bad(nil)
			}
			parts = []json.RawMessage{json.RawMessage(strconv.FormatFloat(f, 'g', -1, 64)), json.RawMessage("0")}
		}
		half := dt.Size() / 2
		for i, p := range parts {
			f, err := parseFloatFill(p)
			if err != nil {
				return bad(err)
			}
			putFloat(out[i*half:(i+1)*half], f)
		}
	default:
		return bad(nil)
	}
	return out, nil
}

func putUint(b []byte, v uint64) {
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
}

// putFloat stores f as a float of len(b) bytes: 2, 4 or 8.
func putFloat(b []byte, f float64) {
	switch len(b) {
	case 2:
		binary.LittleEndian.PutUint16(b, float16Bits(f))
	case 4:
		binary.LittleEndian.PutUint32(b, math.Float32bits(float32(f)))
	case 8:
		binary.LittleEndian.PutUint64(b, math.Float64bits(f))
	}
}

func parseIntFill(raw json.RawMessage, bits int) (int64, error) {
	s := string(raw)
	if n, err := strconv.ParseInt(s, 10, bits); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < -math.Ldexp(1, bits-1) || f >= math.Ldexp(1, bits-1) {
		return 0, fmt.Errorf("not an integer of %d bits", bits)
	}
	return int64(f), nil
}

func parseUintFill(raw json.RawMessage, bits int) (uint64, error) {
	s := string(raw)
	if n, err := strconv.ParseUint(s, 10, bits); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f >= math.Ldexp(1, bits) {
		return 0, fmt.Errorf("not an unsigned integer of %d bits", bits)
	}
	return uint64(f), nil
}

// numpyNaN is the NaN numpy and zarr-python write for a "NaN" fill value,
// the quiet NaN with no payload (0x7ff8000000000000; as a float32
// 0x7fc00000). Go's math.NaN() has a payload bit set.
var numpyNaN = math.Float64frombits(0x7ff8000000000000)

func parseFloatFill(raw json.RawMessage) (float64, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, err
	}
	switch v := v.(type) {
	case float64:
		return v, nil
	case string:
		switch v {
		case "NaN":
			return numpyNaN, nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
	}
	return 0, fmt.Errorf("not a number")
}

// float16Bits returns the IEEE 754 half-precision encoding of f, rounded to
// nearest even, as numpy's float16(f) does.
func float16Bits(f float64) uint16 {
	sign := uint16(math.Float64bits(f)>>48) & 0x8000
	a := math.Abs(f)
	switch {
	case math.IsNaN(f):
		return sign | 0x7e00
	case a >= 65520: // halfway between the largest half, 65504, and 2^16
		return sign | 0x7c00
	case a < 0x1p-14: // subnormal: units of 2^-24; 1024 units is the smallest normal
		return sign | uint16(math.RoundToEven(a*0x1p24))
	}
	frac, exp := math.Frexp(a) // a = frac × 2^exp, frac in [0.5, 1)
	m := math.RoundToEven((frac*2 - 1) * 1024)
	if m == 1024 {
		m, exp = 0, exp+1
	}
	return sign | uint16(exp-1+15)<<10 | uint16(m)
}
