package main

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/shmtensor/shmtensor"
)

// This file prints an array the way numpy's str() does (numpy 2, default
// print options: precision 8, threshold 1000, edgeitems 3, linewidth 75),
// working on the raw bytes of a segment so that every dtype, bool and
// float16 included, and either memory order can be shown.

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

// printOptions are numpy's print options that matter here.
type printOptions struct {
	threshold int // summarise when there are more elements; 0: never
	edgeItems int
	lineWidth int
}

var defaultPrintOptions = printOptions{threshold: 1000, edgeItems: 3, lineWidth: 75}

// formatArray returns a as numpy's str(a) prints it.
func formatArray(a rawArray, o printOptions) string {
	n := 1
	for _, d := range a.shape {
		n *= d
	}
	if n == 0 {
		return "[]"
	}
	summary := o.threshold > 0 && n > o.threshold
	shown := func(axis int) []int { // the indices shown along axis
		l := a.shape[axis]
		if summary && l > 2*o.edgeItems {
			idx := make([]int, 0, 2*o.edgeItems)
			for i := range o.edgeItems {
				idx = append(idx, i)
			}
			for i := l - o.edgeItems; i < l; i++ {
				idx = append(idx, i)
			}
			return idx
		}
		idx := make([]int, l)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	// The widths depend on the elements shown only, as in numpy.
	var elems [][]byte
	idx := make([]int, len(a.shape))
	var collect func(axis int)
	collect = func(axis int) {
		if axis == len(a.shape) {
			elems = append(elems, a.elem(idx))
			return
		}
		for _, i := range shown(axis) {
			idx[axis] = i
			collect(axis + 1)
		}
	}
	collect(0)
	if len(a.shape) == 0 {
		return formatScalar(a.dtype, elems[0])
	}
	format := newElemFormatter(a.dtype, elems, false)

	ndim := len(a.shape)
	index := make([]int, 0, ndim)
	var rec func(hanging string, width int) string
	rec = func(hanging string, width int) string {
		axis := len(index)
		if axis == ndim {
			return format(a.elem(index))
		}
		nextHanging := hanging + " "
		nextWidth := width - 1 // for the closing bracket
		l := a.shape[axis]
		lead, trail := 0, l
		showSummary := summary && l > 2*o.edgeItems
		if showSummary {
			lead, trail = o.edgeItems, o.edgeItems
		}
		sub := func(i int) string {
			index = append(index, i)
			s := rec(nextHanging, nextWidth)
			index = index[:len(index)-1]
			return s
		}
		var s strings.Builder
		if ndim-axis == 1 {
			line := hanging
			add := func(word string, w int) {
				if len(line)+len(word) > w && len(line) > len(hanging) {
					s.WriteString(strings.TrimRight(line, " "))
					s.WriteByte('\n')
					line = hanging
				}
				line += word
			}
			for i := range lead {
				add(sub(i), nextWidth)
				line += " "
			}
			if showSummary {
				add("...", nextWidth)
				line += " "
			}
			for i := l - trail; i < l-1; i++ {
				add(sub(i), nextWidth)
				line += " "
			}
			add(sub(l-1), nextWidth)
			s.WriteString(line)
		} else {
			sep := strings.Repeat("\n", ndim-axis-1)
			for i := range lead {
				s.WriteString(hanging + sub(i) + sep)
			}
			if showSummary {
				s.WriteString(hanging + "..." + sep)
			}
			for i := l - trail; i < l-1; i++ {
				s.WriteString(hanging + sub(i) + sep)
			}
			s.WriteString(hanging + sub(l-1))
		}
		return "[" + s.String()[len(hanging):] + "]"
	}
	return rec(" ", o.lineWidth)
}

// newElemFormatter returns a function formatting one element of dtype dt so
// that all of elems line up, by numpy's rules.
func newElemFormatter(dt shmtensor.DType, elems [][]byte, scalar bool) func([]byte) string {
	switch dt {
	case shmtensor.Bool:
		return func(b []byte) string {
			s := "False"
			if b[0] != 0 {
				s = "True"
			}
			if scalar {
				return s
			}
			return padLeft(s, 5)
		}
	case shmtensor.Int8, shmtensor.Int16, shmtensor.Int32, shmtensor.Int64,
		shmtensor.Uint8, shmtensor.Uint16, shmtensor.Uint32, shmtensor.Uint64:
		w := 0
		for _, e := range elems {
			w = max(w, len(intString(dt, e)))
		}
		return func(b []byte) string { return padLeft(intString(dt, b), w) }
	case shmtensor.Float16, shmtensor.Float32, shmtensor.Float64:
		vals := make([]float64, len(elems))
		for i, e := range elems {
			vals[i] = floatValue(dt, e)
		}
		f := newFloatFormat(vals, floatBits(dt), false)
		return func(b []byte) string { return f.format(floatValue(dt, b)) }
	case shmtensor.Complex64, shmtensor.Complex128:
		part := shmtensor.Float32
		if dt == shmtensor.Complex128 {
			part = shmtensor.Float64
		}
		ps := part.Size()
		re := make([]float64, len(elems))
		im := make([]float64, len(elems))
		for i, e := range elems {
			re[i], im[i] = floatValue(part, e[:ps]), floatValue(part, e[ps:])
		}
		fr := newFloatFormat(re, floatBits(part), false)
		fi := newFloatFormat(im, floatBits(part), true)
		return func(b []byte) string {
			r := fr.format(floatValue(part, b[:ps]))
			i := fi.format(floatValue(part, b[ps:]))
			t := strings.TrimRight(i, " ")
			return r + t + "j" + i[len(t):]
		}
	}
	return func([]byte) string { return "?" }
}

func padLeft(s string, w int) string {
	if len(s) >= w {
		return s
	}
	return strings.Repeat(" ", w-len(s)) + s
}

func padRight(s string, w int) string {
	if len(s) >= w {
		return s
	}
	return s + strings.Repeat(" ", w-len(s))
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

func floatBits(dt shmtensor.DType) int { return dt.Size() * 8 }

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

// floatFormat is numpy's FloatingFormat in its default "maxprec" mode:
// the shortest digits that identify each value, at most 8 after the point,
// aligned on the point, or scientific notation for all values when they
// span too many orders of magnitude.
type floatFormat struct {
	bits       int
	plus       bool // always print the sign (imaginary parts)
	sci        bool
	padLeft    int // characters before the point
	padRight   int // characters after the point (fixed notation)
	precision  int // digits after the point (scientific notation)
	expDigits  int
	widthNonFi int // width for nan and inf
}

const floatPrecision = 8

func newFloatFormat(vals []float64, bits int, plus bool) *floatFormat {
	f := &floatFormat{bits: bits, plus: plus}
	var finite []float64
	minAbs, maxAbs := math.Inf(1), 0.0
	nonFinite, negInf := false, false
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			nonFinite = true
			negInf = negInf || math.IsInf(v, -1)
			continue
		}
		finite = append(finite, v)
		if a := math.Abs(v); a != 0 {
			minAbs, maxAbs = min(minAbs, a), max(maxAbs, a)
		}
	}
	if maxAbs > 0 {
		f.sci = maxAbs >= 1e8 || minAbs < 1e-4 || maxAbs/minAbs > 1e3
	}
	for _, v := range finite {
		ip, fp, exp := f.parts(v)
		f.padLeft = max(f.padLeft, len(ip))
		if f.sci {
			f.precision = max(f.precision, len(fp))
			f.expDigits = max(f.expDigits, len(exp)-1)
		} else {
			f.padRight = max(f.padRight, len(fp))
		}
	}
	if nonFinite && !f.sci {
		extra := 0
		if negInf || plus {
			extra = 1
		}
		f.padLeft = max(f.padLeft, 3-(f.padRight+1), 3+extra-(f.padRight+1))
	}
	if f.sci {
		f.widthNonFi = f.padLeft + 1 + f.precision + 2 + f.expDigits
	} else {
		f.widthNonFi = f.padLeft + 1 + f.padRight
	}
	return f
}

// parts returns the shortest unique digits of v before and after the point
// (with the sign before) and, in scientific notation, the exponent ("+05").
func (f *floatFormat) parts(v float64) (ip, fp, exp string) {
	bits := f.bits
	if bits == 16 {
		v, bits = float16Shortest(v), 64
	}
	var s string
	if f.sci {
		s = strconv.FormatFloat(v, 'e', -1, bits)
		mant, e, _ := strings.Cut(s, "e")
		if i := strings.IndexByte(mant, '.'); i >= 0 && len(mant)-i-1 > floatPrecision {
			s = strconv.FormatFloat(v, 'e', floatPrecision, bits)
			mant, e, _ = strings.Cut(s, "e")
			if strings.Contains(mant, ".") {
				mant = strings.TrimRight(mant, "0")
			}
		}
		s, exp = mant, e
	} else {
		s = strconv.FormatFloat(v, 'f', -1, bits)
		if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > floatPrecision {
			s = strings.TrimRight(strconv.FormatFloat(v, 'f', floatPrecision, bits), "0")
		}
	}
	ip, fp, _ = strings.Cut(s, ".")
	if f.plus && !strings.HasPrefix(ip, "-") {
		ip = "+" + ip
	}
	return ip, fp, exp
}

func (f *floatFormat) format(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		s := "nan"
		if math.IsInf(v, 0) {
			s = "inf"
		}
		switch {
		case math.IsInf(v, -1):
			s = "-" + s
		case f.plus:
			s = "+" + s
		}
		return padLeft(s, f.widthNonFi)
	}
	ip, fp, exp := f.parts(v)
	if f.sci {
		if len(fp) < f.precision {
			// numpy prints more digits of the exact value, not zeros.
			mant, e, _ := strings.Cut(strconv.FormatFloat(v, 'e', f.precision, 64), "e")
			ip, fp, _ = strings.Cut(mant, ".")
			exp = e
			if f.plus && !strings.HasPrefix(ip, "-") {
				ip = "+" + ip
			}
		}
		sign, digits := exp[:1], exp[1:]
		digits = strings.Repeat("0", max(0, f.expDigits-len(digits))) + digits
		return padLeft(ip, f.padLeft) + "." + fp + "e" + sign + digits
	}
	return padLeft(ip, f.padLeft) + "." + padRight(fp, f.padRight)
}

// float16Shortest returns the decimal with the fewest digits that rounds to
// the half-precision value v, as a float64.
func float16Shortest(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	a := math.Abs(v)
	_, e := math.Frexp(a) // a = m * 2^e, 0.5 <= m < 1
	e2 := max(e-1, -14)
	ulp := math.Ldexp(1, e2-10)
	below := ulp // the gap to the next smaller half-precision value
	if a == math.Ldexp(1, e-1) && e-1 > -14 {
		below = ulp / 2
	}
	for p := 0; p < 17; p++ {
		d, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'e', p, 64), 64)
		diff := math.Abs(d) - a
		if (diff >= 0 && diff < ulp/2) || (diff < 0 && -diff < below/2) {
			return d
		}
	}
	return v
}

// formatScalar formats the element of a 0-d array as numpy does: like a
// Python scalar, "3.0", "1e-05", "(1+2j)", "True".
func formatScalar(dt shmtensor.DType, b []byte) string {
	switch dt {
	case shmtensor.Bool:
		if b[0] != 0 {
			return "True"
		}
		return "False"
	case shmtensor.Float16, shmtensor.Float32, shmtensor.Float64:
		return pyFloat(floatValue(dt, b), floatBits(dt))
	case shmtensor.Complex64, shmtensor.Complex128:
		part := shmtensor.Float32
		if dt == shmtensor.Complex128 {
			part = shmtensor.Float64
		}
		ps := part.Size()
		re, im := floatValue(part, b[:ps]), floatValue(part, b[ps:])
		is := pyComplexPart(im, floatBits(part))
		if !strings.HasPrefix(is, "-") {
			is = "+" + is
		}
		if re == 0 && !math.Signbit(re) {
			return strings.TrimPrefix(is, "+") + "j"
		}
		return "(" + pyComplexPart(re, floatBits(part)) + is + "j)"
	}
	return intString(dt, b)
}

// pyFloat formats v as Python's repr of a float: the shortest digits, in
// positional notation from 1e-4 to 1e16 with at least one decimal.
func pyFloat(v float64, bits int) string {
	if bits == 16 {
		v, bits = float16Shortest(v), 64
	}
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	if a := math.Abs(v); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(v, 'e', -1, bits)
	}
	s := strconv.FormatFloat(v, 'f', -1, bits)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyComplexPart formats a part of a complex number as Python does: like a
// float, without a ".0" on integral values.
func pyComplexPart(v float64, bits int) string {
	return strings.TrimSuffix(pyFloat(v, bits), ".0")
}
