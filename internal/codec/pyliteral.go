package codec

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// pyKind is the type of a Python literal in an .npy header.
type pyKind uint8

// The kinds of literal the parser builds.
const (
	pyStrKind pyKind = iota + 1
	pyIntKind
	pyBoolKind
	pyNoneKind
	pyTupleKind
	pyListKind
)

// pyValue is a parsed Python literal. Only what the header dict can
// meaningfully hold is supported: strings, ints, True/False/None, tuples
// and lists (lists and tuples appear in structured descriptors, which are
// parsed only to be refused with a precise error).
type pyValue struct {
	kind  pyKind
	text  string // the literal's source text, for error messages
	str   string
	num   int64 // magnitude of an int
	neg   bool  // the int is negative (and nonzero)
	big   bool  // the int's magnitude does not fit in int64
	b     bool
	items []pyValue
}

// pyItem is one key: value pair of the header dict.
type pyItem struct {
	key string
	val pyValue
}

// pyParser parses the subset of Python literal syntax that ast.literal_eval
// accepts and numpy's header dict needs. It refuses rather than guesses:
// escapes in strings, floats, sets and nested dicts are syntax errors here.
type pyParser struct {
	s      []byte
	i      int
	depth  int
	allowL bool // accept Python 2 "3L" ints, as numpy does for versions 1.0 and 2.0
}

// pyMaxDepth bounds the nesting of tuples and lists in a header.
const pyMaxDepth = 32

// errorf returns an errs.ErrNotTensor error that locates the parser in the text.
func (p *pyParser) errorf(format string, args ...any) error {
	return npyErr("cannot parse dict at byte %d of the header text: "+format, append([]any{p.i}, args...)...)
}

// skip moves past whitespace and comments, as Python's tokenizer does
// between the tokens of a bracketed expression.
func (p *pyParser) skip() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case ' ', '\t', '\f', '\n', '\r':
			p.i++
		case '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' && p.s[p.i] != '\r' {
				p.i++
			}
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end (callers
// compare it with punctuation, so a NUL in the text never matches).
func (p *pyParser) peek() byte {
	p.skip()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// describe names the character at the parser's position for an error.
func (p *pyParser) describe() string {
	if p.i >= len(p.s) {
		return "end of header"
	}
	r, _ := utf8.DecodeRune(p.s[p.i:])
	if r == utf8.RuneError {
		return fmt.Sprintf("byte %#02x", p.s[p.i])
	}
	return strconv.QuoteRune(r)
}

// dict parses the whole header text: one dict with string keys, and only
// whitespace or comments after it.
func (p *pyParser) dict() ([]pyItem, error) {
	if i := bytes.IndexByte(p.s, 0); i >= 0 {
		// Python refuses source text with NULs anywhere, even in comments.
		p.i = i
		return nil, p.errorf("NUL byte")
	}
	if p.peek() != '{' {
		return nil, p.errorf("want '{', found %s", p.describe())
	}
	p.i++
	var items []pyItem
	for {
		if p.peek() == '}' {
			p.i++
			break
		}
		start := p.i
		k, err := p.value()
		if err != nil {
			return nil, err
		}
		if k.kind != pyStrKind {
			p.i = start
			return nil, p.errorf("key %s is not a string", k.text)
		}
		if p.peek() != ':' {
			return nil, p.errorf("want ':' after key %s, found %s", k.text, p.describe())
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		items = append(items, pyItem{k.str, v})
		switch p.peek() {
		case ',':
			p.i++
		case '}':
		default:
			return nil, p.errorf("want ',' or '}' after the value of %s, found %s", k.text, p.describe())
		}
	}
	if p.skip(); p.i < len(p.s) {
		return nil, p.errorf("unexpected %s after the dict", p.describe())
	}
	return items, nil
}

// value parses one literal.
func (p *pyParser) value() (pyValue, error) {
	c := p.peek()
	start := p.i
	var v pyValue
	var err error
	switch {
	case c == '(' || c == '[':
		v, err = p.sequence()
	case c == '\'' || c == '"':
		v, err = p.str()
	case c == '-' || c == '+' || isDigit(c):
		v, err = p.integer()
	case isIdentStart(c):
		j := p.i
		for j < len(p.s) && isIdentChar(p.s[j]) {
			j++
		}
		word := string(p.s[p.i:j])
		if j < len(p.s) && (p.s[j] == '\'' || p.s[j] == '"') && (word == "u" || word == "U" || word == "r" || word == "R") {
			p.i = j // u'...' and r'...' without escapes are plain strs
			v, err = p.str()
			break
		}
		switch word {
		case "True", "False":
			v = pyValue{kind: pyBoolKind, b: word == "True"}
		case "None":
			v = pyValue{kind: pyNoneKind}
		default:
			return pyValue{}, p.errorf("unsupported name %q", word)
		}
		p.i = j
	default:
		return pyValue{}, p.errorf("want a value, found %s", p.describe())
	}
	if err != nil {
		return pyValue{}, err
	}
	v.text = string(p.s[start:p.i])
	return v, nil
}

// sequence parses a tuple "(a, b)" or list "[a, b]", with an optional
// trailing comma. As in Python, "(x)" without a comma is just x.
func (p *pyParser) sequence() (pyValue, error) {
	open := p.s[p.i]
	close, kind := byte(')'), pyTupleKind
	if open == '[' {
		close, kind = ']', pyListKind
	}
	if p.depth >= pyMaxDepth {
		return pyValue{}, p.errorf("nested more than %d deep", pyMaxDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	p.i++
	var items []pyValue
	comma := false
	for {
		if p.peek() == close {
			p.i++
			break
		}
		v, err := p.value()
		if err != nil {
			return pyValue{}, err
		}
		items = append(items, v)
		switch p.peek() {
		case ',':
			p.i++
			comma = true
		case close:
		default:
			return pyValue{}, p.errorf("want ',' or %q, found %s", close, p.describe())
		}
	}
	if kind == pyTupleKind && len(items) == 1 && !comma {
		return items[0], nil // parenthesised expression
	}
	return pyValue{kind: kind, items: items}, nil
}

// str parses a single-line string in single or double quotes. Escapes are
// refused: no numpy descriptor needs one.
func (p *pyParser) str() (pyValue, error) {
	q := p.s[p.i]
	p.i++
	start := p.i
	for p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case q:
			s := string(p.s[start:p.i])
			p.i++
			if p.i < len(p.s) && (p.s[p.i] == '\'' || p.s[p.i] == '"') {
				return pyValue{}, p.errorf("adjacent string literals are not supported")
			}
			return pyValue{kind: pyStrKind, str: s}, nil
		case '\\':
			return pyValue{}, p.errorf("escape sequences in strings are not supported")
		case '\n', '\r':
			return pyValue{}, p.errorf("unterminated string")
		}
		p.i++
	}
	return pyValue{}, p.errorf("unterminated string")
}

// integer parses a decimal int with an optional sign, the way Python does:
// digits may be grouped with single underscores, and a nonzero number may
// not start with 0. Magnitudes beyond int64 set big.
func (p *pyParser) integer() (pyValue, error) {
	v := pyValue{kind: pyIntKind}
	if c := p.s[p.i]; c == '-' || c == '+' {
		v.neg = c == '-'
		p.i++
		p.skip() // Python allows "- 1"
	}
	start := p.i
	var n uint64
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' && p.i > start && p.i+1 < len(p.s) && isDigit(p.s[p.i+1]) {
			p.i++
			continue
		}
		if !isDigit(c) {
			break
		}
		if d := uint64(c - '0'); !v.big && n > (math.MaxInt64-d)/10 {
			v.big = true
		} else if !v.big {
			n = n*10 + d
		}
		p.i++
	}
	if p.i == start {
		return pyValue{}, p.errorf("want digits, found %s", p.describe())
	}
	digits := p.s[start:p.i]
	if digits[0] == '0' && len(bytes.Trim(digits, "0_")) > 0 {
		return pyValue{}, p.errorf("leading zeros in %q are not allowed in Python 3", digits)
	}
	if p.allowL && p.i < len(p.s) && p.s[p.i] == 'L' {
		p.i++
	}
	if p.i < len(p.s) {
		if c := p.s[p.i]; c == '.' || isIdentChar(c) {
			return pyValue{}, p.errorf("only decimal ints are supported, found %s", p.describe())
		}
	}
	v.num = int64(n)
	if n == 0 {
		v.neg = false
	}
	return v, nil
}

// isDigit, isIdentStart and isIdentChar classify ASCII bytes the way
// Python's tokenizer does; bytes >= 0x80 continue identifiers, so "3é" is
// one malformed token rather than a number.
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) || c >= 0x80 }

// pyBool is Python's repr of a bool.
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// Tuple is Python's repr of a tuple of ints: "()", "(5,)", "(3, 4)".
// numpy writes shapes this way, and error messages use it too.
func Tuple(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}
