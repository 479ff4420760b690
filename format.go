package shmtensor

import (
	"fmt"
	"reflect"
	"strconv"

	"github.com/shmtensor/shmtensor/internal/nprint"
)

// Printing follows numpy's str() with its default print options, so that a
// tensor prints the way a numpy user expects and the two can be compared.
// The printer itself, internal/nprint, is shared with the command's show,
// which prints segments of every dtype from their bytes.

// String formats t like numpy's str(): nested brackets, one row per line,
// columns aligned, floats with at most 8 fraction digits, and axes longer
// than 6 summarised with "..." when t has more than 1000 elements. A
// 0-dimensional tensor prints as its scalar, an empty one as "[]", and a
// tensor whose segment is closed as "<closed tensor>" (String never
// panics on one).
func (t *Tensor[T]) String() string {
	return t.format(nprint.Default())
}

// Format implements fmt.Formatter. %v and %s print like String; a
// precision (%.3v) sets the most fraction digits of floats, a width (%8v)
// the least width of every element, and %+v shows the sign of positive
// numbers. Any other verb (%d, %x, %.2f, %e, ...) formats each element as
// fmt does for a single value, in the same bracketed layout with aligned
// columns.
func (t *Tensor[T]) Format(f fmt.State, verb rune) {
	o := nprint.Default()
	o.Plus, o.Minus = f.Flag('+'), f.Flag('-')
	if prec, ok := f.Precision(); ok {
		o.Precision = prec
	}
	if w, ok := f.Width(); ok {
		o.Width = w
	}
	if verb != 'v' && verb != 's' {
		o.Directive = fmt.FormatString(f, verb)
	}
	f.Write([]byte(t.format(o)))
}

// format prints t through nprint, which reads the elements it shows one
// index at a time.
func (t *Tensor[T]) format(o nprint.Options) string {
	if t.isClosed() {
		return "<closed tensor>"
	}
	a := nprint.Array{Kind: nprint.Int, Shape: t.shape}
	switch dt := DTypeOf[T](); dt {
	case Float32, Float64:
		a.Kind, a.Bits = nprint.Float, 8*dt.Size()
	case Complex64, Complex128:
		a.Kind, a.Bits = nprint.Complex, 4*dt.Size()
	}
	a.Elem = func(idx []int) nprint.Value {
		p := t.off
		for k, i := range idx {
			p += i * t.strides[k]
		}
		v := t.data[p]
		var e nprint.Value
		switch a.Kind {
		case nprint.Float:
			e.Re = toFloat(v)
		case nprint.Complex:
			c := toComplex(v)
			e.Re, e.Im = real(c), imag(c)
		default:
			e.Int = intString(v)
		}
		if o.Directive != "" {
			e.Any = v
		}
		return e
	}
	return nprint.Format(a, o)
}

// toFloat returns a float element, of any named float type, as float64.
func toFloat[T Number](v T) float64 { return reflect.ValueOf(v).Float() }

// toComplex returns a complex element, of any named complex type, as
// complex128.
func toComplex[T Number](v T) complex128 { return reflect.ValueOf(v).Complex() }

// intString formats an integer element of any named integer type.
func intString[T Number](v T) string {
	switch rv := reflect.ValueOf(v); {
	case rv.CanInt():
		return strconv.FormatInt(rv.Int(), 10)
	case rv.CanUint():
		return strconv.FormatUint(rv.Uint(), 10)
	}
	return fmt.Sprint(v)
}
