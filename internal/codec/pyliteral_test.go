package codec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/errs"
	"github.com/shmtensor/shmtensor/internal/numpytest"
)

// TestParseNPYHeaderVariants feeds header dicts that numpy does not write
// but Python's literal syntax allows (or forbids), and checks that numpy
// agrees with every decision except where this parser is deliberately
// stricter.
func TestParseNPYHeaderVariants(t *testing.T) {
	const ok3x4 = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"
	cases := []struct {
		name    string
		version byte
		text    string
		err     error // nil: parses as float64 (3, 4), or shape/fortran below
		shape   []int
		fortran bool
		strict  bool // numpy accepts what we refuse
	}{
		{name: "numpy's own", version: 1, text: ok3x4},
		{name: "no spaces or trailing comma", version: 1, text: "{'descr':'<f8','fortran_order':False,'shape':(3,4)}"},
		{name: "keys reversed", version: 1, text: "{'shape': (3, 4), 'fortran_order': True, 'descr': '<f8'}", fortran: true},
		{name: "double quotes", version: 2, text: `{"descr": "<f8", "fortran_order": False, "shape": (3, 4)}`},
		{name: "tabs newlines CR", version: 1, text: "{\n\t'descr' :\t'<f8' ,\r\n 'fortran_order':False,\n'shape':(\n3,\n4,\n)\n}\n"},
		{name: "leading spaces", version: 1, text: "  \t{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "leading newline", version: 1, text: "\n{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "comment", version: 1, text: "{'descr': '<f8', # the dtype\n'fortran_order': False, 'shape': (3, 4)}  # done"},
		{name: "trailing comma in shape", version: 3, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4,), }"},
		{name: "no final newline", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "python 2 long ints v1", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }"},
		{name: "python 2 long ints v2", version: 2, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }"},
		{name: "python 2 long ints v3", version: 3, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }", err: errs.ErrNotTensor},
		{name: "u prefix", version: 1, text: "{u'descr': u'<f8', u'fortran_order': False, u'shape': (3, 4)}"},
		{name: "underscore digits", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (1_2,)}", shape: []int{12}},
		{name: "plus sign", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (+3, 4)}"},
		{name: "zero with zeros", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (00, 12)}", shape: []int{0, 12}},
		{name: "native order", version: 1, text: "{'descr': '=f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "no order", version: 1, text: "{'descr': 'f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "pipe order", version: 1, text: "{'descr': '|f8', 'fortran_order': False, 'shape': (3, 4)}"},
		{name: "utf-8 descr v3", version: 3, text: "{'descr': '<f8\u00e9', 'fortran_order': False, 'shape': (12,)}", err: errs.ErrDType},
		{name: "latin-1 descr v1", version: 1, text: "{'descr': '<f8\xe9', 'fortran_order': False, 'shape': (12,)}", err: errs.ErrDType},
		{name: "nbsp as space", version: 1, text: "{'descr':\xa0'<f8', 'fortran_order': False, 'shape': (12,)}", err: errs.ErrNotTensor},
		{name: "invalid utf-8 v3", version: 3, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (12,)}\xff", err: errs.ErrNotTensor},
		{name: "NUL in padding", version: 1, text: ok3x4 + "\x00\n", err: errs.ErrNotTensor},
		{name: "NUL in comment", version: 1, text: ok3x4 + " # \x00\n", err: errs.ErrNotTensor},
		{name: "shape not a tuple", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (12)}", err: errs.ErrNotTensor},
		{name: "shape list", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': [3, 4]}", err: errs.ErrNotTensor},
		{name: "leading zero", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (03, 4)}", err: errs.ErrNotTensor},
		{name: "negative dim", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (-3, -4)}", err: errs.ErrNotTensor},
		{name: "float dim", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3.0, 4)}", err: errs.ErrNotTensor},
		{name: "hex dim", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (0x3, 4)}", err: errs.ErrNotTensor, strict: true},
		{name: "bool dim", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (True, 12)}", err: errs.ErrNotTensor},
		{name: "duplicate key", version: 1, text: "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}", err: errs.ErrNotTensor, strict: true},
		{name: "escape", version: 1, text: "{'descr': '\\x3cf8', 'fortran_order': False, 'shape': (3, 4)}", err: errs.ErrNotTensor, strict: true},
		{name: "unicode dtype", version: 1, text: "{'descr': '<U1', 'fortran_order': False, 'shape': (24,)}", err: errs.ErrDType, strict: true},
		{name: "extra key", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), 'x': 1}", err: errs.ErrNotTensor},
		{name: "missing shape", version: 1, text: "{'descr': '<f8', 'fortran_order': False}", err: errs.ErrNotTensor},
		{name: "empty dict", version: 1, text: "{}", err: errs.ErrNotTensor},
		{name: "fortran 0", version: 1, text: "{'descr': '<f8', 'fortran_order': 0, 'shape': (3, 4)}", err: errs.ErrNotTensor},
		{name: "fortran None", version: 1, text: "{'descr': '<f8', 'fortran_order': None, 'shape': (3, 4)}", err: errs.ErrNotTensor},
		{name: "bytes descr", version: 1, text: "{'descr': b'<f8', 'fortran_order': False, 'shape': (3, 4)}", err: errs.ErrNotTensor},
		{name: "not a dict", version: 1, text: "[('descr', '<f8')]", err: errs.ErrNotTensor},
		{name: "text after dict", version: 1, text: ok3x4 + " x", err: errs.ErrNotTensor},
		{name: "set as shape", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': {3}}", err: errs.ErrNotTensor},
		{name: "structured", version: 1, text: "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (12,)}", err: errs.ErrDType, strict: true},
		{name: "subarray", version: 1, text: "{'descr': ('<f8', (2,)), 'fortran_order': False, 'shape': (6,)}", err: errs.ErrDType},
		{name: "overflowing shape", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904)}", err: errs.ErrNotTensor},
		{name: "unclosed", version: 1, text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)", err: errs.ErrNotTensor},
		{name: "unterminated string", version: 1, text: "{'descr': '<f8, 'fortran_order': False, 'shape': (3, 4)}", err: errs.ErrNotTensor},
	}
	dir := t.TempDir()
	var paths []string
	results := make([]error, len(cases))
	for i, c := range cases {
		shape := c.shape
		if shape == nil {
			shape = []int{3, 4}
		}
		dataLen := 8 * int(product(shape))
		file := npyFile(c.version, c.text, dataLen)
		h, err := ParseNPYHeader(npyPrefix(file), int64(len(file)))
		results[i] = err
		switch {
		case c.err == nil && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != nil && !errors.Is(err, c.err):
			t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
		case c.err == nil && (h.DType != Float64 || !slices.Equal(h.Shape, shape) || h.Fortran != c.fortran ||
			h.DataOff != int64(len(file)-dataLen) || h.DataLen != int64(dataLen)):
			t.Errorf("%s: parsed %+v", c.name, h)
		}
		p := filepath.Join(dir, fmt.Sprintf("v%d.npy", i))
		if err := os.WriteFile(p, file, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}

	numpytest.Need(t)
	const script = `
import json, os, sys, warnings, numpy as np
warnings.simplefilter("ignore")
for path in sys.argv[1:]:
    try:
        a = np.load(path)
        print(json.dumps({"name": os.path.basename(path), "descr": a.dtype.str, "shape": list(a.shape),
                          "fortran": bool(a.flags.f_contiguous and not a.flags.c_contiguous)}))
    except Exception as e:
        print(json.dumps({"name": os.path.basename(path), "err": "%s: %s" % (type(e).__name__, e)}))
`
	res := decodeResults(t, numpytest.Run(t, script, paths...))
	for i, c := range cases {
		r, ok := res[filepath.Base(paths[i])]
		if !ok {
			t.Fatalf("%s: no result from numpy", c.name)
		}
		numpyOK := r.Err == ""
		if c.strict {
			if !numpyOK {
				t.Errorf("%s: marked stricter than numpy, but numpy refuses it too: %s", c.name, r.Err)
			}
			continue
		}
		if numpyOK != (results[i] == nil) {
			t.Errorf("%s: numpy ok=%v (%s), we err=%v", c.name, numpyOK, r.Err, results[i])
		}
	}
}

// TestPyParserValues parses a dict of every kind of literal and checks the
// values it builds.
func TestPyParserValues(t *testing.T) {
	text := `{'i': (1, -2, + 3, -0, 1_000), "b": [True, False, None], u'u': 'x y', 'big': -99999999999999999999,
	 'paren': (5), 'empty': (), 'one': (7,), 'long': 3L,  # comment
	 'nested': [('a', '<f8', (2,))], }`
	p := pyParser{s: []byte(text), allowL: true}
	items, err := p.dict()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	got := map[string]pyValue{}
	for _, it := range items {
		keys = append(keys, it.key)
		got[it.key] = it.val
	}
	if want := []string{"i", "b", "u", "big", "paren", "empty", "one", "long", "nested"}; !slices.Equal(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
	ints := func(v pyValue) string {
		var s []string
		for _, x := range v.items {
			if x.kind != pyIntKind {
				return fmt.Sprintf("not an int: %+v", x)
			}
			s = append(s, fmt.Sprintf("%v%d", map[bool]string{true: "-"}[x.neg], x.num))
		}
		return strings.Join(s, " ")
	}
	if v := got["i"]; v.kind != pyTupleKind || ints(v) != "1 -2 3 0 1000" || v.text != "(1, -2, + 3, -0, 1_000)" {
		t.Errorf("i = %+v (%s)", v, ints(v))
	}
	if v := got["b"]; v.kind != pyListKind || len(v.items) != 3 || v.items[0].kind != pyBoolKind || !v.items[0].b ||
		v.items[1].kind != pyBoolKind || v.items[1].b || v.items[2].kind != pyNoneKind {
		t.Errorf("b = %+v", v)
	}
	if v := got["u"]; v.kind != pyStrKind || v.str != "x y" || v.text != "'x y'" {
		t.Errorf("u = %+v", v)
	}
	if v := got["big"]; v.kind != pyIntKind || !v.big || !v.neg {
		t.Errorf("big = %+v", v)
	}
	if v := got["paren"]; v.kind != pyIntKind || v.num != 5 {
		t.Errorf("paren = %+v, want the int 5", v)
	}
	if v := got["empty"]; v.kind != pyTupleKind || len(v.items) != 0 {
		t.Errorf("empty = %+v", v)
	}
	if v := got["one"]; v.kind != pyTupleKind || ints(v) != "7" {
		t.Errorf("one = %+v", v)
	}
	if v := got["long"]; v.kind != pyIntKind || v.num != 3 || v.text != "3L" {
		t.Errorf("long = %+v", v)
	}
	if v := got["nested"]; v.kind != pyListKind || len(v.items) != 1 || v.items[0].kind != pyTupleKind ||
		v.items[0].items[1].str != "<f8" || ints(v.items[0].items[2]) != "2" {
		t.Errorf("nested = %+v", v)
	}
}

// TestPyParserErrors checks that the parser refuses what ast.literal_eval
// refuses (or what it deliberately does not support) with an errs.ErrNotTensor
// error that says what it found and where.
func TestPyParserErrors(t *testing.T) {
	cases := []struct {
		text   string
		allowL bool
		msg    string
	}{
		{"", false, "at byte 0 of the header text: want '{', found end of header"},
		{"  [1]", false, "at byte 2 of the header text: want '{', found '['"},
		{"{'a': 1", false, "want ',' or '}' after the value of 'a', found end of header"},
		{"{'a': 1} x", false, "at byte 9 of the header text: unexpected 'x' after the dict"},
		{"{'a': 1}\x00", false, "at byte 8 of the header text: NUL byte"},
		{"{1: 2}", false, "at byte 1 of the header text: key 1 is not a string"},
		{"{'a' 1}", false, "want ':' after key 'a', found '1'"},
		{"{'a': 1.5}", false, "only decimal ints are supported, found '.'"},
		{"{'a': 0x1}", false, "only decimal ints are supported, found 'x'"},
		{"{'a': 01}", false, `leading zeros in "01"`},
		{"{'a': 1__0}", false, "only decimal ints are supported, found '_'"},
		{"{'a': 3L}", false, "only decimal ints are supported, found 'L'"},
		{"{'a': -}", false, "want digits, found '}'"},
		{"{'a': 'x\\y'}", false, "escape sequences"},
		{"{'a': 'x''y'}", false, "adjacent string literals"},
		{"{'a': 'x' 'y'}", false, "want ',' or '}' after the value of 'a', found '\\''"},
		{"{'a': 'x\ny'}", false, "unterminated string"},
		{"{'a': 'x}", false, "unterminated string"},
		{"{'a': abc}", false, `unsupported name "abc"`},
		{"{'a': b'x'}", false, `unsupported name "b"`},
		{"{'a': \xe9}", false, "want a value, found byte 0xe9"},
		{"{'a': (1 2)}", false, "want ',' or ')', found '2'"},
		{"{'a': " + strings.Repeat("(", pyMaxDepth+1) + strings.Repeat(")", pyMaxDepth+1) + "}", false, "nested more than 32 deep"},
	}
	for _, c := range cases {
		p := pyParser{s: []byte(c.text), allowL: c.allowL}
		items, err := p.dict()
		if !errors.Is(err, errs.ErrNotTensor) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: items %+v, err = %v; want errs.ErrNotTensor containing %q", c.text, items, err, c.msg)
		}
	}
	// The deepest nesting allowed parses.
	deep := "{'a': " + strings.Repeat("[", pyMaxDepth) + strings.Repeat("]", pyMaxDepth) + "}"
	p := pyParser{s: []byte(deep)}
	if _, err := p.dict(); err != nil {
		t.Errorf("%d levels: %v", pyMaxDepth, err)
	}
}
