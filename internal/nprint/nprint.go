// Package nprint prints arrays the way numpy's str() does (numpy 2 with its
// default print options: threshold 1000, edge items 3, line width 75,
// precision 8). It is the one printer behind Tensor.String and the
// command's show, which reach it with typed tensors and with raw segment
// bytes (bool and float16 included) respectively.
package nprint

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// numpy's default print options.
const (
	DefaultThreshold = 1000 // more elements than this are summarised
	edgeItems        = 3    // elements kept at each end of a summarised axis
	lineWidth        = 75   // line width before wrapping
	defaultPrecision = 8    // most fraction digits of a float
)

// Kind is how an array's elements print.
type Kind uint8

const (
	Bool Kind = iota
	Int       // signed or unsigned integers, given as decimal text
	Float
	Complex
)

// Value is one element as the printer needs it.
type Value struct {
	Re, Im float64 // Float: Re; Complex: Re and Im
	Int    string  // Int: the decimal digits, with a sign if negative
	Bool   bool
	Any    any // the element as a Go value, read only with a Directive
}

// Array is what Format prints: Elem gives the element at one index per
// axis of Shape.
type Array struct {
	Kind  Kind
	Bits  int // size of a float, or of each part of a complex: 8, 16, 32 or 64
	Shape []int
	Elem  func(idx []int) Value
	// Narrow is the format of floats narrower than float32 (their values
	// given in Re), printed with the fewest digits that identify them in
	// it; zero means Half for Bits 16.
	Narrow Narrow
}

// Narrow is a binary float format narrower than float32: its mantissa bits
// (without the implicit one) and its least normal exponent.
type Narrow struct{ Mant, MinExp int }

// The narrow float formats: IEEE half precision, bfloat16 (the top half of
// a float32) and the 8-bit floats of ml_dtypes, float8_e4m3fn and
// float8_e5m2.
var (
	Half       = Narrow{10, -14}
	BFloat16   = Narrow{7, -126}
	Float8E4M3 = Narrow{3, -6}
	Float8E5M2 = Narrow{2, -14}
)

// narrowOf returns the narrow format of floats of bits bits, or the zero
// Narrow for float32 and float64.
func narrowOf(bits int, n Narrow) Narrow {
	if n == (Narrow{}) && bits == 16 {
		return Half
	}
	return n
}

// Options are the print options, numpy's and fmt's.
type Options struct {
	Threshold int    // summarise arrays with more elements than this; 0: never
	Precision int    // most fraction digits of floats; -1: numpy's 8
	Width     int    // least width of every element
	Plus      bool   // show the sign of positive numbers
	Minus     bool   // pad elements on the right instead of the left
	Directive string // a fmt directive (%d, %x, %.2f...) for each element instead of numpy's format
}

// Default returns numpy's default options.
func Default() Options { return Options{Threshold: DefaultThreshold, Precision: -1} }

// Format returns a printed like numpy's str(a) with options o. A
// 0-dimensional array prints as its scalar, an empty one as "[]".
func Format(a Array, o Options) string {
	nd := len(a.Shape)
	if nd == 0 {
		v := a.Elem(nil)
		if o.Directive == "" && o.Precision < 0 && o.Width == 0 && !o.Plus {
			return scalar(a.Kind, a.Bits, narrowOf(a.Bits, a.Narrow), v)
		}
		return words(a, []Value{v}, o)[0]
	}
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	if n == 0 {
		return "[]"
	}
	// The axes as shown: all of each, or the edges of long ones. The
	// widths depend on the shown elements only, as in numpy.
	summarise := o.Threshold > 0 && n > o.Threshold
	shown := make([]int, nd) // elements shown per axis
	cut := make([]bool, nd)  // axis is summarised
	total := 1
	for k, d := range a.Shape {
		shown[k] = d
		if summarise && d > 2*edgeItems {
			shown[k], cut[k] = 2*edgeItems, true
		}
		total *= shown[k]
	}
	vals := make([]Value, 0, total)
	ctr := make([]int, nd)
	idx := make([]int, nd)
	for {
		for k, i := range ctr {
			if cut[k] && i >= edgeItems {
				i += a.Shape[k] - 2*edgeItems
			}
			idx[k] = i
		}
		vals = append(vals, a.Elem(idx))
		k := nd - 1
		for ; k >= 0; k-- {
			ctr[k]++
			if ctr[k] < shown[k] {
				break
			}
			ctr[k] = 0
		}
		if k < 0 {
			break
		}
	}
	p := printer{words: words(a, vals, o), shown: shown, cut: cut}
	return p.array(0, " ", lineWidth)
}

// printer lays out formatted elements in numpy's nested-bracket style.
type printer struct {
	words []string // every shown element in C order, all of one width
	next  int
	shown []int
	cut   []bool
}

// array returns the text of the sub-array at axis: lines after the first
// start with hang, and no line is longer than width where wrapping helps.
func (p *printer) array(axis int, hang string, width int) string {
	var b strings.Builder
	nd := len(p.shown)
	n := p.shown[axis]
	if axis == nd-1 {
		// Words go on the line while they fit before the closing bracket.
		limit := width - 1
		line := []byte(hang)
		for i := range n {
			if p.cut[axis] && i == edgeItems {
				line = wrapAdd(&b, line, "...", limit, hang)
				line = append(line, ' ')
			}
			line = wrapAdd(&b, line, p.words[p.next], limit, hang)
			p.next++
			if i < n-1 {
				line = append(line, ' ')
			}
		}
		b.Write(line)
	} else {
		sep := strings.Repeat("\n", nd-axis-1)
		for i := range n {
			if p.cut[axis] && i == edgeItems {
				b.WriteString(hang + "..." + sep)
			}
			b.WriteString(hang)
			b.WriteString(p.array(axis+1, hang+" ", width-1))
			if i < n-1 {
				b.WriteString(sep)
			}
		}
	}
	return "[" + b.String()[len(hang):] + "]"
}

// wrapAdd appends word to line, first moving line to b and starting a new
// one with hang if the word would pass limit (unless the line holds
// nothing yet, where wrapping would not help).
func wrapAdd(b *strings.Builder, line []byte, word string, limit int, hang string) []byte {
	if len(line)+len(word) > limit && len(line) > len(hang) {
		b.WriteString(strings.TrimRight(string(line), " "))
		b.WriteByte('\n')
		line = append(line[:0], hang...)
	}
	return append(line, word...)
}

// words formats vals as the words of one printed array, padded to a
// common width.
func words(a Array, vals []Value, o Options) []string {
	ws := make([]string, len(vals))
	if o.Directive != "" {
		for i, v := range vals {
			ws[i] = fmt.Sprintf(o.Directive, v.Any)
		}
	} else {
		numbers(ws, a, vals, o)
	}
	w := o.Width
	for _, s := range ws {
		w = max(w, len(s))
	}
	for i, s := range ws {
		if pad := w - len(s); pad > 0 {
			if o.Minus {
				ws[i] = s + strings.Repeat(" ", pad)
			} else {
				ws[i] = strings.Repeat(" ", pad) + s
			}
		}
	}
	return ws
}

// numbers fills ws with numpy's formatting of vals.
func numbers(ws []string, a Array, vals []Value, o Options) {
	prec := o.Precision
	if prec < 0 {
		prec = defaultPrecision
	}
	switch a.Kind {
	case Bool:
		for i, v := range vals {
			ws[i] = boolString(v.Bool)
			if v.Bool && len(a.Shape) > 0 {
				// numpy pads True to the width of False in every array,
				// whether or not it holds a False; only a 0-d one
				// prints "True".
				ws[i] = " True"
			}
		}
	case Float:
		xs := make([]float64, len(vals))
		for i, v := range vals {
			xs[i] = v.Re
		}
		ff := newFloatFormat(xs, a.Bits, narrowOf(a.Bits, a.Narrow), prec, o.Plus)
		for i, x := range xs {
			ws[i] = ff.format(x)
		}
	case Complex:
		re := make([]float64, len(vals))
		im := make([]float64, len(vals))
		for i, v := range vals {
			re[i], im[i] = v.Re, v.Im
		}
		rf := newFloatFormat(re, a.Bits, Narrow{}, prec, o.Plus)
		imf := newFloatFormat(im, a.Bits, Narrow{}, prec, true)
		for i := range vals {
			// The j goes before the padding of the imaginary part, so the
			// j's do not line up but the digits do, as in numpy.
			s := imf.format(im[i])
			k := len(strings.TrimRight(s, " "))
			ws[i] = rf.format(re[i]) + s[:k] + "j" + s[k:]
		}
	default:
		for i, v := range vals {
			s := v.Int
			if o.Plus && s[0] != '-' {
				s = "+" + s
			}
			ws[i] = s
		}
	}
}

func boolString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// floatFormat is numpy's float layout for one array: positional or
// scientific for all elements, with the integer parts right-aligned and
// the fraction parts left-aligned.
type floatFormat struct {
	bits     int
	narrow   Narrow // the format of floats narrower than float32
	prec     int    // most fraction digits; in scientific mode, exactly these
	sci      bool   // scientific notation
	plus     bool   // show + on positive values
	padLeft  int    // width of the integer part, sign included
	padRight int    // width after the point: fraction (and exponent)
	expSize  int    // exponent digits in scientific mode
}

func newFloatFormat(xs []float64, bits int, narrow Narrow, prec int, plus bool) *floatFormat {
	f := &floatFormat{bits: bits, narrow: narrow, prec: prec, plus: plus}
	// Scientific notation when the finite non-zero magnitudes are very
	// large, very small, or span more than three decades.
	lo, hi := math.Inf(1), 0.0
	finite, negInf := 0, false
	for _, x := range xs {
		switch {
		case math.IsInf(x, 0):
			negInf = negInf || x < 0
			continue
		case math.IsNaN(x):
			continue
		}
		finite++
		if a := math.Abs(x); a != 0 {
			lo, hi = min(lo, a), max(hi, a)
		}
	}
	if hi > 0 && (hi >= 1e8 || lo < 1e-4 || hi/lo > 1000) {
		f.sci = true
	}
	if finite > 0 {
		maxFrac := 0
		for _, x := range xs {
			if math.IsInf(x, 0) || math.IsNaN(x) {
				continue
			}
			var ip, fp string
			if f.sci {
				ip, fp, _ = f.sciParts(x, false)
				exp := len(strings.TrimLeft(f.expPart(x), "+-"))
				f.expSize = max(f.expSize, exp)
			} else {
				ip, fp = f.posParts(x)
			}
			f.padLeft = max(f.padLeft, len(ip))
			maxFrac = max(maxFrac, len(fp))
		}
		if f.sci {
			f.prec = maxFrac // every mantissa gets this many digits
			f.padRight = f.expSize + 2 + f.prec
		} else {
			f.padRight = maxFrac
		}
	}
	// Room for nan and inf in the same width.
	if finite < len(xs) {
		infLen := 3
		if negInf || plus {
			infLen++
		}
		off := f.padRight + 1
		f.padLeft = max(f.padLeft, 3-off, infLen-off)
	}
	return f
}

// digits returns x's shortest round-tripping digits in format fmtc ('f'
// or 'e'), cut to prec fraction digits if that is shorter.
func (f *floatFormat) digits(x float64, fmtc byte, prec int) string {
	bits := f.bits
	if f.narrow.Mant > 0 {
		x, bits = f.narrow.shortest(x), 64
	}
	s := strconv.FormatFloat(x, fmtc, -1, bits)
	if frac := fracLen(s); frac > prec {
		s = strconv.FormatFloat(x, fmtc, prec, bits)
		// Rounding may leave zeros that the shortest form would not have.
		mant, exp, _ := strings.Cut(s, "e")
		if strings.Contains(mant, ".") {
			mant = strings.TrimRight(mant, "0")
		}
		if fmtc == 'e' {
			s = mant + "e" + exp
		} else {
			s = mant
		}
	}
	return s
}

// fracLen counts the digits after the point, before any exponent.
func fracLen(s string) int {
	mant, _, _ := strings.Cut(s, "e")
	_, frac, ok := strings.Cut(mant, ".")
	if !ok {
		return 0
	}
	return len(frac)
}

// posParts splits x's positional digits into the integer part (with
// sign) and the fraction digits.
func (f *floatFormat) posParts(x float64) (ip, fp string) {
	s := f.digits(x, 'f', f.prec)
	ip, fp, _ = strings.Cut(s, ".")
	if f.plus && !math.Signbit(x) {
		ip = "+" + ip
	}
	return ip, fp
}

// sciParts splits x's scientific digits into the integer part (with sign),
// the fraction digits and the exponent ("-05"). With exact false the
// digits are the shortest that identify x, up to f.prec of them; with
// exact true there are exactly f.prec, continuing with x's exact digits
// (not zeros) where the shortest form is shorter, as numpy does.
func (f *floatFormat) sciParts(x float64, exact bool) (ip, fp, exp string) {
	var s string
	if exact {
		bits := f.bits
		if f.narrow.Mant > 0 { // a narrow float is exact in float64; only its shortest form differs
			bits = 64
		}
		s = strconv.FormatFloat(x, 'e', f.prec, bits)
	} else {
		s = f.digits(x, 'e', f.prec)
	}
	mant, exp, _ := strings.Cut(s, "e")
	ip, fp, _ = strings.Cut(mant, ".")
	if f.plus && !math.Signbit(x) {
		ip = "+" + ip
	}
	return ip, fp, exp
}

func (f *floatFormat) expPart(x float64) string {
	_, _, exp := f.sciParts(x, false)
	return exp
}

// format returns x laid out in the array's common width.
func (f *floatFormat) format(x float64) string {
	width := f.padLeft + f.padRight + 1
	if math.IsNaN(x) || math.IsInf(x, 0) {
		s := "nan"
		switch {
		case math.IsInf(x, -1):
			s = "-inf"
		case math.IsInf(x, 1):
			s = "inf"
		}
		if f.plus && s[0] != '-' {
			s = "+" + s
		}
		return pad(s, width, false)
	}
	if f.sci {
		ip, fp, exp := f.sciParts(x, true)
		sign, digs := exp[:1], exp[1:]
		if len(digs) < f.expSize {
			digs = strings.Repeat("0", f.expSize-len(digs)) + digs
		}
		return pad(ip, f.padLeft, false) + "." + fp + "e" + sign + digs
	}
	ip, fp := f.posParts(x)
	return pad(ip, f.padLeft, false) + "." + pad(fp, f.padRight, true)
}

// pad pads s with spaces to width, on the left or (right) the right.
func pad(s string, width int, right bool) string {
	if len(s) >= width {
		return s
	}
	sp := strings.Repeat(" ", width-len(s))
	if right {
		return s + sp
	}
	return sp + s
}

// shortest returns the decimal with the fewest digits that rounds to the
// value v of format n, as a float64: what numpy prints for a float16.
func (n Narrow) shortest(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	a := math.Abs(v)
	_, e := math.Frexp(a) // a = m * 2^e, 0.5 <= m < 1
	e2 := max(e-1, n.MinExp)
	ulp := math.Ldexp(1, e2-n.Mant)
	below := ulp // the gap to the next smaller value of the format
	if a == math.Ldexp(1, e-1) && e-1 > n.MinExp {
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

// scalar formats the element of a 0-dimensional array as numpy prints a
// scalar, which for floats is Python's repr: "3.0", "1e-05", "(1+2j)",
// "True".
func scalar(k Kind, bits int, n Narrow, v Value) string {
	switch k {
	case Bool:
		return boolString(v.Bool)
	case Float:
		if n.Mant > 0 {
			return pyFloat(n.shortest(v.Re), 64, true)
		}
		return pyFloat(v.Re, bits, true)
	case Complex:
		im := pyFloat(v.Im, bits, false) + "j"
		if v.Re == 0 && !math.Signbit(v.Re) {
			return im
		}
		if im[0] != '-' {
			im = "+" + im
		}
		return "(" + pyFloat(v.Re, bits, false) + im + ")"
	}
	return v.Int
}

// pyFloat formats x as Python's repr does; point adds ".0" to whole
// numbers in positional notation (complex parts go without).
func pyFloat(x float64, bits int, point bool) string {
	if bits == 16 {
		x, bits = Half.shortest(x), 64
	}
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	if a := math.Abs(x); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(x, 'e', -1, bits)
	}
	s := strconv.FormatFloat(x, 'f', -1, bits)
	if point && !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
