package shmtensor

import (
	"errors"
	"slices"
	"testing"
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
	{"{'descr': '<x9', 'fortran_order': False, 'shape': (3,), }", true}, // read fast, refused by dtypeFromDescr
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
	ha, erra := parseNPYHeader(npyPrefix(a), int64(len(a))+room)
	hb, errb := parseNPYHeader(npyPrefix(b), int64(len(b))+room)
	if (erra == nil) != (errb == nil) || errors.Is(erra, ErrDType) != errors.Is(errb, ErrDType) ||
		errors.Is(erra, ErrNotTensor) != errors.Is(errb, ErrNotTensor) {
		t.Fatalf("%q: fast path says %v, general parser %v", text, erra, errb)
	}
	if erra == nil && (ha.dtype != hb.dtype || ha.fortran != hb.fortran || !slices.Equal(ha.shape, hb.shape) ||
		ha.dataLen != hb.dataLen || ha.dataOff+1 != hb.dataOff) {
		t.Fatalf("%q: fast path reads %+v, general parser %+v", text, ha, hb)
	}
}

// FuzzCanonicalNPYDict checks that whatever the fast path accepts, the
// general parser reads the same way.
func FuzzCanonicalNPYDict(f *testing.F) {
	for _, c := range canonicalDicts {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 60000 {
			return
		}
		checkSameAsGeneralParser(t, text)
	})
}
