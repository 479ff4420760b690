package shmtensor

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/numpytest"
	"github.com/shmtensor/shmtensor/internal/strided"
)

func TestStringExamples(t *testing.T) {
	a := arange[int](2, 3)
	f, _ := FromSlice([]float64{1.5, 2, 3.25})
	big := arange[int](2000)
	bigRows, _ := big.Reshape(100, 20)
	name := tempFileName(t, "s.npy")
	seg, err := Create[float32](name, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	defer Delete(name)
	seg.Close()
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"2-D", a.String(), "[[0 1 2]\n [3 4 5]]"},
		{"Println", fmt.Sprintln(a), "[[0 1 2]\n [3 4 5]]\n"},
		{"floats", f.String(), "[1.5  2.   3.25]"},
		{"precision", fmt.Sprintf("%.1v", f), "[1.5 2.  3.2]"},
		{"width", fmt.Sprintf("%6v", a), "[[     0      1      2]\n [     3      4      5]]"},
		{"left", fmt.Sprintf("%-3v", a), "[[0   1   2  ]\n [3   4   5  ]]"},
		{"plus", fmt.Sprintf("%+v", f), "[+1.5  +2.   +3.25]"},
		{"verb d", fmt.Sprintf("%03d", a), "[[000 001 002]\n [003 004 005]]"},
		{"verb x", fmt.Sprintf("%x", arange[int](16)), "[0 1 2 3 4 5 6 7 8 9 a b c d e f]"},
		{"verb f", fmt.Sprintf("%.2f", f), "[1.50 2.00 3.25]"},
		{"verb e", fmt.Sprintf("%.1e", f), "[1.5e+00 2.0e+00 3.2e+00]"},
		{"scalar", New[float64]().String(), "0.0"},
		{"scalar precision", fmt.Sprintf("%.2v", must1(FromSlice([]float64{1.0 / 3}, []int{}...))), "0.33"},
		{"empty", New[int](0, 3).String(), "[]"},
		{"summarised", big.String(), "[   0    1    2 ... 1997 1998 1999]"},
		{"summarised rows", bigRows.String(), "[[   0    1    2 ...   17   18   19]\n [  20   21   22 ...   37   38   39]\n [  40   41   42 ...   57   58   59]\n ...\n [1940 1941 1942 ... 1957 1958 1959]\n [1960 1961 1962 ... 1977 1978 1979]\n [1980 1981 1982 ... 1997 1998 1999]]"},
		{"closed", seg.String(), "<closed tensor>"},
		{"closed Sprintf", fmt.Sprintf("%v %d", seg, seg), "<closed tensor> <closed tensor>"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, tc.got, tc.want)
		}
	}
}

// fmtCase is one array sent to numpy for printing.
type fmtCase struct {
	DType string   `json:"dtype"`
	Shape []int    `json:"shape"`
	Vals  []string `json:"vals"` // real parts, as Go's strconv writes them
	Imag  []string `json:"imag"` // imaginary parts of complex arrays
	Prec  int      `json:"prec"` // >= 0: print with this precision
	Plus  bool     `json:"plus"`
}

const fmtScript = `
import json, sys
import numpy as np
out = []
for c in json.load(sys.stdin):
    re = [float(s) for s in c["vals"] or []]
    if c["imag"]:
        vals = [complex(r, float(i)) for r, i in zip(re, c["imag"])]
    else:
        vals = re
    a = np.array(vals).astype(c["dtype"]).reshape(c["shape"])
    kw = {}
    if c["prec"] >= 0:
        kw["precision"] = c["prec"]
    if c["plus"]:
        kw["sign"] = "+"
    if a.ndim == 0 and not kw:
        out.append(str(a))
    else:
        out.append(np.array2string(a, **kw) if kw else str(a))
json.dump(out, sys.stdout)
`

// TestStringMatchesNumpy prints many arrays in Go and with numpy's str
// (or array2string with precision and sign) and compares the text.
func TestStringMatchesNumpy(t *testing.T) {
	needNumpy(t)
	rng := rand.New(rand.NewPCG(11, 12))
	var cases []fmtCase
	var got []string
	add := func(s string, c fmtCase) {
		cases = append(cases, c)
		got = append(got, s)
	}
	floatGens := []func() float64{
		func() float64 { return float64(rng.IntN(20) - 10) },
		func() float64 { return float64(rng.IntN(40)) / 4 },
		func() float64 { return rng.NormFloat64() },
		func() float64 { return rng.NormFloat64() * 1e-6 },
		func() float64 { return rng.NormFloat64() * 1e9 },
		func() float64 { return math.Exp(rng.NormFloat64() * 10) },
		func() float64 {
			return []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e-300, 1e300, 0.1, 1.0 / 3}[rng.IntN(9)]
		},
	}
	for i := range 400 {
		shape := randShape(rng, 3, 5)
		if i%40 == 0 {
			shape = []int{[]int{1001, 2000, 30}[rng.IntN(3)]} // summarised or wrapped
			if rng.IntN(2) == 0 {
				shape = []int{12, 10, 11}
			}
		}
		n, _ := strided.NumElements(shape)
		prec, plus := -1, false
		if i%5 == 0 {
			prec = rng.IntN(6)
		}
		if i%7 == 0 {
			plus = true
		}
		spec := ""
		switch {
		case prec >= 0 && plus:
			spec = "%+." + strconv.Itoa(prec) + "v"
		case prec >= 0:
			spec = "%." + strconv.Itoa(prec) + "v"
		case plus:
			spec = "%+v"
		}
		sprint := func(x fmt.Formatter) string {
			if spec == "" {
				return fmt.Sprint(x)
			}
			return fmt.Sprintf(spec, x)
		}
		c := fmtCase{Shape: shape, Prec: prec, Plus: plus}
		switch i % 4 {
		case 0, 1:
			gens := []func() float64{floatGens[rng.IntN(len(floatGens))], floatGens[rng.IntN(len(floatGens))]}
			d := make([]float64, n)
			for k := range d {
				d[k] = gens[rng.IntN(2)]()
				c.Vals = append(c.Vals, strconv.FormatFloat(d[k], 'g', -1, 64))
			}
			if i%4 == 0 {
				c.DType = "float64"
				add(sprint(must1(FromSlice(d, shape...))), c)
			} else {
				c.DType = "float32"
				d32 := make([]float32, n)
				c.Vals = c.Vals[:0]
				for k := range d {
					d32[k] = float32(d[k])
					c.Vals = append(c.Vals, strconv.FormatFloat(float64(d32[k]), 'g', -1, 32))
				}
				add(sprint(must1(FromSlice(d32, shape...))), c)
			}
		case 2:
			if plus {
				continue // numpy 1.x ignores sign for integers
			}
			c.DType = []string{"int64", "int8", "uint16"}[rng.IntN(3)]
			scale := []int64{10, 1000, 1 << 40}[rng.IntN(3)]
			d := make([]int64, n)
			for k := range d {
				d[k] = rng.Int64N(2*scale) - scale
				switch c.DType {
				case "int8":
					d[k] = int64(int8(d[k]))
				case "uint16":
					d[k] = int64(uint16(d[k]))
				}
				c.Vals = append(c.Vals, strconv.FormatInt(d[k], 10))
			}
			var s string
			switch c.DType {
			case "int64":
				s = sprint(must1(FromSlice(d, shape...)))
			case "int8":
				s = sprint(convert[int64, int8](d, shape))
			case "uint16":
				s = sprint(convert[int64, uint16](d, shape))
			}
			add(s, c)
		case 3:
			c.DType = "complex128"
			g1, g2 := floatGens[rng.IntN(len(floatGens))], floatGens[rng.IntN(len(floatGens))]
			d := make([]complex128, n)
			for k := range d {
				d[k] = complex(g1(), g2())
				c.Vals = append(c.Vals, strconv.FormatFloat(real(d[k]), 'g', -1, 64))
				c.Imag = append(c.Imag, strconv.FormatFloat(imag(d[k]), 'g', -1, 64))
			}
			add(sprint(must1(FromSlice(d, shape...))), c)
		}
	}
	js, _ := json.Marshal(cases)
	var want []string
	if err := json.Unmarshal([]byte(numpytest.RunInput(t, js, fmtScript)), &want); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i := range cases {
		if got[i] != want[i] {
			bad++
			if bad <= 10 {
				t.Errorf("%s %v %v (prec %d, plus %v):\n Go:\n%s\n numpy:\n%s", cases[i].DType, cases[i].Shape, cases[i].Vals, cases[i].Prec, cases[i].Plus, got[i], want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d arrays print differently", bad, len(cases))
	}
}

func convert[F ~int64, T ~int8 | ~uint16](d []F, shape []int) *Tensor[T] {
	out := make([]T, len(d))
	for i, x := range d {
		out[i] = T(x)
	}
	return must1(FromSlice(out, shape...))
}

// TestScalarStringMatchesNumpy compares 0-d tensors with numpy's str of
// 0-d arrays, which print like Python's repr of the scalar.
func TestScalarStringMatchesNumpy(t *testing.T) {
	needNumpy(t)
	xs := []float64{0, 7, -7, 1e6, 1e15, 1e16, 1.5e-5, 1e-4, 0.1 + 0.2, 1.0 / 3, math.NaN(), math.Inf(-1), 123456789.125, math.Copysign(0, -1)}
	var lines []string
	var got []string
	for _, x := range xs {
		f := New[float64]()
		f.Set(x)
		g := New[float32]()
		g.Set(float32(x))
		c := New[complex128]()
		c.Set(complex(x, 2))
		z := New[complex128]()
		z.Set(complex(0, x))
		got = append(got, f.String(), g.String(), c.String(), z.String())
		s := strconv.FormatFloat(x, 'g', -1, 64)
		lines = append(lines,
			fmt.Sprintf("np.array(float(%q))", s),
			fmt.Sprintf("np.array(np.float32(float(%q)))", s),
			fmt.Sprintf("np.array(complex(float(%q), 2))", s),
			fmt.Sprintf("np.array(complex(0, float(%q)))", s))
	}
	for _, v := range []int64{0, -5, math.MaxInt64} {
		i := New[int64]()
		i.Set(v)
		got = append(got, i.String())
		lines = append(lines, fmt.Sprintf("np.array(%d)", v))
	}
	script := "import numpy as np, json\nprint(json.dumps([str(x) for x in [" + strings.Join(lines, ",") + "]]))"
	var want []string
	if err := json.Unmarshal([]byte(runPython(t, script)), &want); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: Go %q, numpy %q", lines[i], got[i], want[i])
		}
	}
}
