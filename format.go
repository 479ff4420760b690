package shmtensor

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"
)

// Printing follows numpy's str() with its default print options, so that a
// tensor prints the way a numpy user expects and the two can be compared.
const (
	printThreshold = 1000 // more elements than this are summarised
	printEdge      = 3    // elements kept at each end of a summarised axis
	printWidth     = 75   // line width before wrapping
	printPrecision = 8    // most fraction digits of a float
)

// String formats t like numpy's str(): nested brackets, one row per line,
// columns aligned, floats with at most 8 fraction digits, and axes longer
// than 6 summarised with "..." when t has more than 1000 elements. A
// 0-dimensional tensor prints as its scalar, an empty one as "[]", and a
// tensor whose segment is closed as "<closed tensor>" (String never
// panics on one).
func (t *Tensor[T]) String() string {
	return t.format(printSpec{verb: 'v', prec: -1})
}

// Format implements fmt.Formatter. %v and %s print like String; a
// precision (%.3v) sets the most fraction digits of floats, a width (%8v)
// the least width of every element, and %+v shows the sign of positive
// numbers. Any other verb (%d, %x, %.2f, %e, ...) formats each element as
// fmt does for a single value, in the same bracketed layout with aligned
// columns.
func (t *Tensor[T]) Format(f fmt.State, verb rune) {
	p := printSpec{verb: verb, prec: -1, plus: f.Flag('+'), minus: f.Flag('-')}
	if prec, ok := f.Precision(); ok {
		p.prec = prec
	}
	if w, ok := f.Width(); ok {
		p.width = w
	}
	if verb != 'v' && verb != 's' {
		p.directive = fmt.FormatString(f, verb)
	}
	f.Write([]byte(t.format(p)))
}

// printSpec is what Format takes from its verb and flags.
type printSpec struct {
	verb      rune
	directive string // per-element fmt directive for verbs other than v, s
	prec      int    // -1: numpy's default
	width     int
	plus      bool
	minus     bool
}

func (t *Tensor[T]) format(p printSpec) string {
	if t.isClosed() {
		return "<closed tensor>"
	}
	nd := len(t.shape)
	if nd == 0 {
		v := t.data[t.off]
		if p.directive == "" && p.prec < 0 && p.width == 0 && !p.plus {
			return scalarString(v)
		}
		return formatWords([]T{v}, p)[0]
	}
	n := t.Len()
	if n == 0 {
		return "[]"
	}
	// The axes as shown: all of each, or the edges of long ones.
	summarise := n > printThreshold
	shown := make([]int, nd) // elements shown per axis
	cut := make([]bool, nd)  // axis is summarised
	for k, d := range t.shape {
		shown[k] = d
		if summarise && d > 2*printEdge {
			shown[k], cut[k] = 2*printEdge, true
		}
	}
	total, _ := numElements(shown)
	vals := make([]T, 0, total)
	var ctr [MaxDims]int
	for {
		p := t.off
		for k := range nd {
			i := ctr[k]
			if cut[k] && i >= printEdge {
				i += t.shape[k] - 2*printEdge
			}
			p += i * t.strides[k]
		}
		vals = append(vals, t.data[p])
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
	pr := printer{words: formatWords(vals, p), shown: shown, cut: cut}
	return pr.array(0, " ", printWidth)
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
			if p.cut[axis] && i == printEdge {
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
			if p.cut[axis] && i == printEdge {
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

// formatWords formats vals as the words of one printed array, padded to a
// common width.
func formatWords[T Number](vals []T, p printSpec) []string {
	words := make([]string, len(vals))
	switch {
	case p.directive != "":
		for i, v := range vals {
			words[i] = fmt.Sprintf(p.directive, v)
		}
	default:
		formatNumbers(words, vals, p)
	}
	w := p.width
	for _, s := range words {
		w = max(w, len(s))
	}
	for i, s := range words {
		if pad := w - len(s); pad > 0 {
			if p.minus {
				words[i] = s + strings.Repeat(" ", pad)
			} else {
				words[i] = strings.Repeat(" ", pad) + s
			}
		}
	}
	return words
}

// formatNumbers fills words with numpy's formatting of vals.
func formatNumbers[T Number](words []string, vals []T, p printSpec) {
	prec := p.prec
	if prec < 0 {
		prec = printPrecision
	}
	switch DTypeOf[T]() {
	case Float32, Float64:
		bits := 64
		if DTypeOf[T]() == Float32 {
			bits = 32
		}
		xs := make([]float64, len(vals))
		for i, v := range vals {
			xs[i] = toFloat(v)
		}
		ff := newFloatFormat(xs, bits, prec, p.plus)
		for i, x := range xs {
			words[i] = ff.format(x)
		}
	case Complex64, Complex128:
		bits := 64
		if DTypeOf[T]() == Complex64 {
			bits = 32
		}
		re := make([]float64, len(vals))
		im := make([]float64, len(vals))
		for i, v := range vals {
			c := toComplex(v)
			re[i], im[i] = real(c), imag(c)
		}
		rf := newFloatFormat(re, bits, prec, p.plus)
		imf := newFloatFormat(im, bits, prec, true)
		for i := range vals {
			// The j goes before the padding of the imaginary part, so the
			// j's do not line up but the digits do, as in numpy.
			s := imf.format(im[i])
			k := len(strings.TrimRight(s, " "))
			words[i] = rf.format(re[i]) + s[:k] + "j" + s[k:]
		}
	default:
		for i, v := range vals {
			s := intString(v)
			if p.plus && s[0] != '-' {
				s = "+" + s
			}
			words[i] = s
		}
	}
}

// toFloat returns a float element, of any named float type, as float64.
func toFloat[T Number](v T) float64 {
	if DTypeOf[T]() == Float32 {
		return float64(*(*float32)(unsafe.Pointer(&v)))
	}
	return *(*float64)(unsafe.Pointer(&v))
}

// toComplex returns a complex element, of any named complex type, as
// complex128.
func toComplex[T Number](v T) complex128 {
	if DTypeOf[T]() == Complex64 {
		return complex128(*(*complex64)(unsafe.Pointer(&v)))
	}
	return *(*complex128)(unsafe.Pointer(&v))
}

// intString formats an integer element of any named integer type. The
// DType gives the size and signedness, so the bits can be read directly.
func intString[T Number](v T) string {
	p := unsafe.Pointer(&v)
	switch DTypeOf[T]() {
	case Int8:
		return strconv.FormatInt(int64(*(*int8)(p)), 10)
	case Int16:
		return strconv.FormatInt(int64(*(*int16)(p)), 10)
	case Int32:
		return strconv.FormatInt(int64(*(*int32)(p)), 10)
	case Int64:
		return strconv.FormatInt(*(*int64)(p), 10)
	case Uint8:
		return strconv.FormatUint(uint64(*(*uint8)(p)), 10)
	case Uint16:
		return strconv.FormatUint(uint64(*(*uint16)(p)), 10)
	case Uint32:
		return strconv.FormatUint(uint64(*(*uint32)(p)), 10)
	case Uint64:
		return strconv.FormatUint(*(*uint64)(p), 10)
	}
	return fmt.Sprint(v)
}

// floatFormat is numpy's float layout for one array: positional or
// scientific for all elements, with the integer parts right-aligned and
// the fraction parts left-aligned.
type floatFormat struct {
	bits     int
	prec     int  // most fraction digits; in scientific mode, exactly these
	sci      bool // scientific notation
	plus     bool // show + on positive values
	padLeft  int  // width of the integer part, sign included
	padRight int  // width after the point: fraction (and exponent)
	expSize  int  // exponent digits in scientific mode
}

func newFloatFormat(xs []float64, bits, prec int, plus bool) *floatFormat {
	f := &floatFormat{bits: bits, prec: prec, plus: plus}
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
	s := strconv.FormatFloat(x, fmtc, -1, f.bits)
	if frac := fracLen(s); frac > prec {
		s = strconv.FormatFloat(x, fmtc, prec, f.bits)
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
		s = strconv.FormatFloat(x, 'e', f.prec, f.bits)
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

// scalarString formats one element as numpy prints a scalar, which for
// floats is Python's repr: shortest digits, with a ".0" on whole numbers
// and scientific notation below 1e-4 and from 1e16 on.
func scalarString[T Number](v T) string {
	switch DTypeOf[T]() {
	case Float32, Float64:
		return pyFloat(toFloat(v), floatBits[T](), true)
	case Complex64, Complex128:
		c := toComplex(v)
		bits := 64
		if DTypeOf[T]() == Complex64 {
			bits = 32
		}
		im := pyFloat(imag(c), bits, false) + "j"
		if real(c) == 0 && !math.Signbit(real(c)) {
			return im
		}
		if im[0] != '-' {
			im = "+" + im
		}
		return "(" + pyFloat(real(c), bits, false) + im + ")"
	}
	return intString(v)
}

func floatBits[T Number]() int {
	if DTypeOf[T]() == Float32 {
		return 32
	}
	return 64
}

// pyFloat formats x as Python's repr does; point adds ".0" to whole
// numbers in positional notation (complex parts go without).
func pyFloat(x float64, bits int, point bool) string {
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
