package codec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/shmtensor/shmtensor/internal/errs"
	"github.com/shmtensor/shmtensor/internal/strided"
)

// The safetensors header is scanned by hand rather than with
// encoding/json: a bundle of 1,000 tensors is attached in tens of
// microseconds, and a generic decoder (tokens, reflection, a RawMessage
// per tensor) takes ten times that. The scanner accepts exactly JSON
// (RFC 8259) of the header's shape and is stricter than encoding/json
// where a lenient reading could hide a forged header: a field given twice
// in a tensor, a key twice in the metadata, or a size written as a string
// or a fraction is an error.

// stMaxDepth bounds the nesting of values skipped under unknown fields.
const stMaxDepth = 1000

// stScan is a position in a header.
type stScan struct {
	b    []byte
	s    string // b as a string: strings without escapes are cut from it
	i    int
	dims []int // the shapes of the tensors scanned, one after another
	// buf holds the numbers of the tensor being scanned: a field, not a
	// local, so that it is not cleared for every tensor.
	buf [2 * (2*strided.MaxDims + 1)]int64
}

var errSTSyntax = errors.New("not valid JSON")

func (s *stScan) errAt(what string) error {
	if s.i >= len(s.b) {
		return fmt.Errorf("%w: %s at the end of the header", errSTSyntax, what)
	}
	return fmt.Errorf("%w: %s at byte %d", errSTSyntax, what, s.i)
}

// ws skips JSON whitespace.
func (s *stScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (s *stScan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// eat consumes c after whitespace.
func (s *stScan) eat(c byte) error {
	if s.peek() != c {
		return s.errAt(fmt.Sprintf("%q expected", c))
	}
	s.i++
	return nil
}

// more consumes the ',' between members or elements, or the closing
// delimiter (returning false).
func (s *stScan) more(closing byte) (bool, error) {
	switch s.peek() {
	case ',':
		s.i++
		return true, nil
	case closing:
		s.i++
		return false, nil
	}
	return false, s.errAt(fmt.Sprintf("',' or %q expected", closing))
}

// str scans a string. The header was checked to be UTF-8 as a whole.
func (s *stScan) str() (string, error) {
	if s.peek() != '"' {
		return "", s.errAt("a string expected")
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			var v string
			if len(s.s) == len(s.b) {
				v = s.s[start:s.i]
			} else {
				v = string(s.b[start:s.i])
			}
			s.i++
			return v, nil
		case c == '\\':
			return s.strEscaped(start)
		case c < 0x20:
			return "", s.errAt("a control character in a string")
		}
		s.i++
	}
	return "", s.errAt("an unterminated string")
}

// strBytes scans a string and returns its bytes, which alias the header
// unless the string has escapes.
func (s *stScan) strBytes() ([]byte, error) {
	if s.peek() == '"' {
		for j := s.i + 1; j < len(s.b); j++ {
			c := s.b[j]
			if c == '"' {
				v := s.b[s.i+1 : j]
				s.i = j + 1
				return v, nil
			}
			if c == '\\' || c < 0x20 {
				break
			}
		}
	}
	v, err := s.str()
	return []byte(v), err
}

// strEscaped finishes a string from start that has escapes, decoding
// them as encoding/json does (a lone surrogate becomes U+FFFD).
func (s *stScan) strEscaped(start int) (string, error) {
	out := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), nil
		case c < 0x20:
			return "", s.errAt("a control character in a string")
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", s.errAt(`a bad \u escape`)
			}
			if utf16.IsSurrogate(r) {
				save := s.i
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					s.i += 2
					if r2, ok := s.hex4(); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							out = utf8.AppendRune(out, d)
							continue
						}
					}
				}
				s.i = save
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			s.i--
			return "", s.errAt("a bad escape")
		}
	}
	return "", s.errAt("an unterminated string")
}

func (s *stScan) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(v), true
}

// size scans a non-negative integer of at most math.MaxInt64. A valid
// JSON number that is not one (negative, a fraction, an exponent, too
// big) is errNotSize, with its text.
func (s *stScan) size() (int64, string, error) {
	s.ws()
	start := s.i
	// The common case in one pass: digits without a leading zero, of at
	// most 18 (no overflow), ending where a number cannot go on.
	if j := s.i; j < len(s.b) && s.b[j] >= '1' && s.b[j] <= '9' {
		var v int64
		for j < len(s.b) && j-start < 18 && s.b[j] >= '0' && s.b[j] <= '9' {
			v = v*10 + int64(s.b[j]-'0')
			j++
		}
		if j == len(s.b) || s.b[j] == ',' || s.b[j] == ']' || s.b[j] == ' ' {
			s.i = j
			return v, "", nil
		}
	}
	if err := s.number(); err != nil {
		return 0, "", err
	}
	var v int64
	for _, c := range s.b[start:s.i] {
		d := int64(c - '0')
		if c < '0' || c > '9' || v > (math.MaxInt64-d)/10 {
			return 0, string(s.b[start:s.i]), errNotSize
		}
		v = v*10 + d
	}
	return v, "", nil
}

var errNotSize = errors.New("not a size")

// number scans a JSON number.
func (s *stScan) number() error {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case digits() == 0:
		return s.errAt("a number expected")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return s.errAt("a digit expected")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return s.errAt("a digit expected")
		}
	}
	return nil
}

// sizes scans an array of sizes, appending them to out.
func (s *stScan) sizes(what string, key string, out []int64) ([]int64, error) {
	if err := s.eat('['); err != nil {
		return nil, err
	}
	if s.peek() == ']' {
		s.i++
		return out, nil
	}
	notSize := func(text string) error {
		if what == "data_offsets" {
			return fmt.Errorf("tensor %q: data_offsets are not a range: data_offsets[%d] = %s is not a size", key, len(out), text)
		}
		return fmt.Errorf("tensor %q: %s[%d] = %s is not a size", key, what, len(out), text)
	}
	for {
		if c := s.peek(); c != '-' && (c < '0' || c > '9') {
			start := s.i
			if err := s.skip(1); err != nil {
				return nil, err
			}
			return nil, notSize(string(s.b[start:s.i]))
		}
		v, text, err := s.size()
		if err == errNotSize {
			return nil, notSize(text)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if len(out) > 2*strided.MaxDims {
			return nil, fmt.Errorf("tensor %q: %s has more than %d numbers", key, what, 2*strided.MaxDims)
		}
		more, err := s.more(']')
		if err != nil || !more {
			return out, err
		}
	}
}

// skip scans any JSON value.
func (s *stScan) skip(depth int) error {
	if depth > stMaxDepth {
		return s.errAt("values nested too deep")
	}
	switch c := s.peek(); {
	case c == '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return nil
		}
		for {
			if _, err := s.str(); err != nil {
				return err
			}
			if err := s.eat(':'); err != nil {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if more, err := s.more('}'); err != nil || !more {
				return err
			}
		}
	case c == '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if more, err := s.more(']'); err != nil || !more {
				return err
			}
		}
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
			s.i += len(lit)
			return nil
		}
	}
	return s.errAt("a value expected")
}

// metadata scans the metadata object: string keys, each once, to strings.
func (s *stScan) metadata() (map[string]string, error) {
	bad := fmt.Errorf("%s is not an object of strings", STMetadataKey)
	if s.peek() != '{' {
		return nil, bad
	}
	s.i++
	m := map[string]string{}
	if s.peek() == '}' {
		s.i++
		return m, nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return nil, err
		}
		if err := s.eat(':'); err != nil {
			return nil, err
		}
		if s.peek() != '"' {
			if err := s.skip(0); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%s[%q] is not a string", STMetadataKey, k)
		}
		v, err := s.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%s[%q] appears twice", STMetadataKey, k)
		}
		m[k] = v
		if more, err := s.more('}'); err != nil || !more {
			return m, err
		}
	}
}

// tensor scans the object describing the tensor key.
func (s *stScan) tensor(key string) (STTensor, error) {
	if s.peek() != '{' {
		if err := s.skip(0); err != nil {
			return STTensor{}, err
		}
		return STTensor{}, fmt.Errorf("tensor %q is not an object", key)
	}
	s.i++
	var (
		dtype          []byte
		shape, offsets []int64
		have           [3]bool
		buf            = s.buf[:]
	)
	if s.peek() != '}' {
		for {
			f, err := s.str()
			if err != nil {
				return STTensor{}, err
			}
			if err := s.eat(':'); err != nil {
				return STTensor{}, err
			}
			field := -1
			switch f {
			case "dtype":
				field = 0
				dtype, err = s.strBytes()
			case "shape":
				field = 1
				shape, err = s.sizes("shape", key, buf[:0:len(buf)/2])
			case "data_offsets":
				field = 2
				offsets, err = s.sizes("data_offsets", key, buf[len(buf)/2:len(buf)/2])
			default:
				err = s.skip(1)
			}
			if err != nil {
				return STTensor{}, err
			}
			if field >= 0 {
				if have[field] {
					return STTensor{}, fmt.Errorf("tensor %q: field %q appears twice", key, f)
				}
				have[field] = true
			}
			if more, err := s.more('}'); err != nil {
				return STTensor{}, err
			} else if !more {
				break
			}
		}
	} else {
		s.i++
	}
	if !have[0] || !have[1] || !have[2] {
		return STTensor{}, fmt.Errorf("tensor %q lacks dtype, shape or data_offsets", key)
	}
	t, err := checkSTTensor(key, dtype, shape, offsets, s.dims)
	s.dims = append(s.dims, t.Shape...)
	if err == nil {
		t.Shape = s.dims[len(s.dims)-len(t.Shape) : len(s.dims) : len(s.dims)]
	}
	return t, err
}

// checkSTTensor validates one tensor's fields. Its shape is in scratch
// space after dims, which the caller keeps.
func checkSTTensor(key string, dtype []byte, shape64, offsets []int64, dims []int) (STTensor, error) {
	dt, ok := stDTypes[string(dtype)]
	if !ok {
		return STTensor{}, fmt.Errorf("tensor %q: %w: dtype %q", key, errs.ErrDType, dtype)
	}
	if len(shape64) > strided.MaxDims {
		return STTensor{}, fmt.Errorf("tensor %q: %d dimensions, at most %d", key, len(shape64), strided.MaxDims)
	}
	shape := dims[len(dims):]
	if cap(shape) < len(shape64) {
		shape = make([]int, len(shape64))
	} else {
		shape = shape[:len(shape64)]
	}
	for i, d := range shape64 {
		if d > math.MaxInt {
			return STTensor{}, fmt.Errorf("tensor %q: shape[%d] = %d does not fit in an int", key, i, d)
		}
		shape[i] = int(d)
	}
	nbytes, err := strided.ByteSize(shape, dt.Size())
	if err != nil {
		return STTensor{}, fmt.Errorf("tensor %q: %v", key, err)
	}
	if len(offsets) != 2 {
		return STTensor{}, fmt.Errorf("tensor %q: data_offsets has %d numbers, not 2", key, len(offsets))
	}
	b, e := offsets[0], offsets[1]
	if e < b {
		return STTensor{}, fmt.Errorf("tensor %q: data_offsets [%d, %d] are not a range", key, b, e)
	}
	if e-b != nbytes {
		return STTensor{}, fmt.Errorf("tensor %q: %v of shape %v is %d bytes, data_offsets [%d, %d] hold %d", key, dt, Tuple(shape), nbytes, b, e, e-b)
	}
	return STTensor{Name: key, DType: dt, Shape: shape, Begin: b, End: e}, nil
}
