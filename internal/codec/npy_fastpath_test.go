package codec

// The NPY parser's fast paths: the canonical dict and the padding trim
// must read exactly as the general code does.

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// canonicalDicts are dicts in the exact form parseCanonicalNPYDict reads,
// and near misses it must leave to the general parser.
var canonicalDicts = []struct {
	text string
	fast bool
}{
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", true},
	{"{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }", true},
	{"{'descr': '|b1', 'fortran_order': False, 'shape': (), }", true},
	{"{'descr': '<c8', 'fortran_order': True, 'shape': (2, 3), }", true},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (0, 0, 7), }", true},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3, ), }", true},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4,), }", true},
	{"{'descr': '<x9', 'fortran_order': False, 'shape': (3,), }", true}, // read fast, refused by DTypeFromDescr
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3), }", false}, // an int, not a tuple
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (03,), }", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (1_0,), }", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3L,), }", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", false},
	{"{'descr': '<f8', 'fortran_order': None, 'shape': (3,), }", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), } # c", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\x00", false},
	{"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}", false},
	{"{'shape': (3,), 'descr': '<f8', 'fortran_order': False, }", false},
	{"{'descr': '<f\\x38', 'fortran_order': False, 'shape': (3,), }", false},
	{"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }", false},
}

func TestCanonicalNPYDict(t *testing.T) {
	for _, c := range canonicalDicts {
		_, _, _, ok := parseCanonicalNPYDict([]byte(c.text))
		if ok != c.fast {
			t.Errorf("parseCanonicalNPYDict(%q) ok = %v, want %v", c.text, ok, c.fast)
		}
		checkSameAsGeneralParser(t, c.text)
	}
}

// checkSameAsGeneralParser parses text as it is and with a leading space,
// which the fast path never accepts, and wants the same header or the same
// kind of error from both.
func checkSameAsGeneralParser(t *testing.T, text string) {
	t.Helper()
	const room = 1 << 40
	a := npyFile(1, text, 0)
	b := npyFile(1, " "+text, 0)
	ha, erra := ParseNPYHeader(npyPrefix(a), int64(len(a))+room)
	hb, errb := ParseNPYHeader(npyPrefix(b), int64(len(b))+room)
	if (erra == nil) != (errb == nil) || errors.Is(erra, errs.ErrDType) != errors.Is(errb, errs.ErrDType) ||
		errors.Is(erra, errs.ErrNotTensor) != errors.Is(errb, errs.ErrNotTensor) {
		t.Fatalf("%q: fast path says %v, general parser %v", text, erra, errb)
	}
	if erra == nil && (ha.DType != hb.DType || ha.Fortran != hb.Fortran || !slices.Equal(ha.Shape, hb.Shape) ||
		ha.DataLen != hb.DataLen || ha.DataOff+1 != hb.DataOff) {
		t.Fatalf("%q: fast path reads %+v, general parser %+v", text, ha, hb)
	}
}

// BenchmarkParseNPYHeader parses the header Create writes (a dict padded
// with spaces to a page), which every Attach does.
func BenchmarkParseNPYHeader(b *testing.B) {
	hb, err := encodeNPY(Float64, []int{1000, 64}, false)
	if err != nil {
		b.Fatal(err)
	}
	size := int64(len(hb)) + 1000*64*8
	for b.Loop() {
		if _, err := ParseNPYHeader(hb, size); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTrimPadding compares trimPadding's fast path with trimming byte by
// byte.
func TestTrimPadding(t *testing.T) {
	pad := strings.Repeat(" ", 4000)
	for _, s := range []string{
		"", " ", "\n", "}", "}\n", "} \n", "{'a': 1}" + pad + "\n", "{'a': 1}" + pad,
		"{'a': 1}\n" + pad + "\n", "{'a}': 1}" + pad + "\n", "{'a': 1} x" + pad + "\n",
		"{'a': (1, 2)}" + pad[:7] + "\n\n", "{'a': 1}\t" + pad, "no dict" + pad + "\n", "}}" + pad,
	} {
		got, want := string(trimPadding([]byte(s))), strings.TrimRight(s, " \n")
		if got != want {
			t.Errorf("trimPadding(%.40q...) = %.40q, want %.40q", s, got, want)
		}
	}
}
