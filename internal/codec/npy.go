package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/shmtensor/shmtensor/internal/errs"
	"github.com/shmtensor/shmtensor/internal/strided"
)

// NPYDataOffset is where Create's NPY segments put the data: one page in,
// so the data is page-aligned and the header has room for any shape.
const NPYDataOffset = 4096

// NPYMaxPrefix is the most bytes of a file the NPY codec reads to find its
// header. Longer headers are refused instead of reading unbounded input;
// numpy itself writes headers far shorter than this.
const NPYMaxPrefix = 1 << 16

// NPYMagic starts every .npy file; two version bytes follow.
const NPYMagic = "\x93NUMPY"

// isNPY reports whether prefix starts with the .npy magic, so that a caller
// can pick the NPY codec before parsing.
func isNPY(prefix []byte) bool {
	return bytes.HasPrefix(prefix, []byte(NPYMagic))
}

// NPYStreamAlign is the alignment WriteTo gives the data of a .npy stream:
// numpy pads its headers so that the data starts at a multiple of 64 bytes.
const NPYStreamAlign = 64

// npyPrefixLen is the length of a version 1.0 header before its dict: the
// magic, the version and the uint16 HEADER_LEN.
const npyPrefixLen = len(NPYMagic) + 2 + 2

// EncodeNPYHeader returns the bytes that precede the data of h in a .npy
// file: a version 1.0 header whose dict is formatted exactly as numpy writes
// it, padded with spaces and a final newline to the next multiple of align.
// Segments use NPYDataOffset, so the data starts one page in; streams use
// NPYStreamAlign, as numpy does. h comes from NewHeader, which has validated
// its element type and shape; align is a multiple of 64 of at most
// NPYDataOffset.
func EncodeNPYHeader(h Header, align int) []byte {
	// numpy writes repr() of each item in sorted key order, each followed
	// by ", ", then "}": {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
	dict := "{'descr': '" + h.DType.Descr() + "', 'fortran_order': " + pyBool(h.Fortran) +
		", 'shape': " + Tuple(h.Shape) + ", }"
	// NewHeader's MaxDims dimensions of at most 19 digits each always fit
	// in NPYDataOffset bytes, and the rounded length in HEADER_LEN.
	n := (npyPrefixLen + len(dict) + 1 + align - 1) / align * align
	buf := make([]byte, n)
	copy(buf, NPYMagic)
	buf[6], buf[7] = 1, 0
	binary.LittleEndian.PutUint16(buf[8:], uint16(n-npyPrefixLen))
	copy(buf[npyPrefixLen:], dict)
	// The padding, thousands of bytes, by doubling copies: a byte loop
	// took a tenth of a lazy Create.
	pad := buf[npyPrefixLen+len(dict) : n-1]
	if len(pad) > 0 {
		pad[0] = ' '
		for k := 1; k < len(pad); k *= 2 {
			copy(pad[k:], pad[:k])
		}
	}
	buf[n-1] = '\n'
	return buf
}

// npyErr returns an errs.ErrNotTensor error about an .npy header.
func npyErr(format string, args ...any) error {
	return fmt.Errorf("%w: npy header: "+format, append([]any{errs.ErrNotTensor}, args...)...)
}

// npyDTypeErr returns an errs.ErrDType error about an .npy header.
func npyDTypeErr(format string, args ...any) error {
	return fmt.Errorf("%w: npy header: "+format, append([]any{errs.ErrDType}, args...)...)
}

// ParseNPYHeader reads the header of an .npy file of fileSize bytes from
// prefix, the file's first min(fileSize, NPYMaxPrefix) bytes. It accepts
// what numpy writes and reads: versions 1.0, 2.0 and 3.0, any header
// length up to NPYMaxPrefix, C or Fortran order, little-endian or
// byte-order-free descriptors, and the dict in any key order and spacing.
// Every field is validated against overflow and the file size before
// anything is sliced, so a hostile file gives an error and never a panic:
// errs.ErrDType for element types this package cannot hold (big-endian,
// structured, strings, ...), errs.ErrNotTensor for everything else.
func ParseNPYHeader(prefix []byte, fileSize int64) (Header, error) {
	if fileSize < 0 {
		return Header{}, npyErr("negative file size %d", fileSize)
	}
	if int64(len(prefix)) > fileSize {
		return Header{}, npyErr("%d bytes of prefix given for a file of %d bytes", len(prefix), fileSize)
	}
	if m := min(len(prefix), len(NPYMagic)); string(prefix[:m]) != NPYMagic[:m] {
		return Header{}, npyErr("bad magic %q, want %q", prefix[:m], NPYMagic)
	}
	if len(prefix) < len(NPYMagic)+2 {
		return Header{}, npyErr("truncated: file has %d bytes, too short for the magic and version", fileSize)
	}
	major, minor := prefix[6], prefix[7]
	var lenSize int
	switch {
	case major == 1 && minor == 0:
		lenSize = 2
	case (major == 2 || major == 3) && minor == 0:
		lenSize = 4
	default:
		return Header{}, npyErr("unsupported version %d.%d (want 1.0, 2.0 or 3.0)", major, minor)
	}
	textOff := len(NPYMagic) + 2 + lenSize
	if len(prefix) < textOff {
		return Header{}, npyErr("truncated: file has %d bytes, too short for the version %d.0 header length", fileSize, major)
	}
	var hlen int64
	if lenSize == 2 {
		hlen = int64(binary.LittleEndian.Uint16(prefix[8:]))
	} else {
		hlen = int64(binary.LittleEndian.Uint32(prefix[8:]))
	}
	dataOff := int64(textOff) + hlen
	if dataOff > NPYMaxPrefix {
		return Header{}, npyErr("header of %d bytes is longer than the %d bytes this package reads", dataOff, NPYMaxPrefix)
	}
	if dataOff > fileSize {
		return Header{}, npyErr("truncated: header needs %d bytes, file has %d", dataOff, fileSize)
	}
	if dataOff > int64(len(prefix)) {
		return Header{}, npyErr("header needs %d bytes, only %d bytes of the file were read", dataOff, len(prefix))
	}
	text := prefix[textOff:dataOff]
	if major == 3 && !utf8.Valid(text) {
		return Header{}, npyErr("version 3.0 header is not valid UTF-8")
	}

	text = trimPadding(text)
	if descr, fortran, dims, ok := parseCanonicalNPYDict(text); ok {
		return npyHeaderFor(string(descr), fortran, dims, dataOff, fileSize)
	}
	p := pyParser{s: text, allowL: major < 3}
	items, err := p.dict()
	if err != nil {
		return Header{}, err
	}
	var descr, fortran, shape *pyValue
	for i := range items {
		it := &items[i]
		var slot **pyValue
		switch it.key {
		case "descr":
			slot = &descr
		case "fortran_order":
			slot = &fortran
		case "shape":
			slot = &shape
		default:
			return Header{}, npyErr("unknown key %q (want 'descr', 'fortran_order' and 'shape')", it.key)
		}
		if *slot != nil {
			return Header{}, npyErr("duplicate key %q", it.key)
		}
		*slot = &it.val
	}
	for _, k := range []struct {
		name string
		v    *pyValue
	}{{"descr", descr}, {"fortran_order", fortran}, {"shape", shape}} {
		if k.v == nil {
			return Header{}, npyErr("missing key '%s'", k.name)
		}
	}

	// shape: a tuple of non-negative ints that fit in int.
	if shape.kind != pyTupleKind {
		return Header{}, npyErr("shape %s is not a tuple", shape.text)
	}
	if len(shape.items) > MaxDims {
		return Header{}, npyErr("shape has %d dimensions, at most %d are supported", len(shape.items), MaxDims)
	}
	dims := make([]int, 0, len(shape.items))
	for _, d := range shape.items {
		switch {
		case d.kind != pyIntKind:
			return Header{}, npyErr("shape %s: dimension %s is not an int", shape.text, d.text)
		case d.neg:
			return Header{}, npyErr("shape %s: negative dimension %s", shape.text, d.text)
		case d.big || d.num > math.MaxInt:
			return Header{}, npyErr("shape %s: dimension %s is too large", shape.text, d.text)
		}
		dims = append(dims, int(d.num))
	}

	if fortran.kind != pyBoolKind {
		return Header{}, npyErr("fortran_order %s is not True or False", fortran.text)
	}

	switch descr.kind {
	case pyStrKind:
	case pyListKind:
		return Header{}, npyDTypeErr("structured dtype %s is not supported", descr.text)
	case pyTupleKind:
		return Header{}, npyDTypeErr("subarray dtype %s is not supported", descr.text)
	default:
		return Header{}, npyErr("descr %s is not a dtype descriptor", descr.text)
	}
	return npyHeaderFor(descr.str, fortran.b, dims, dataOff, fileSize)
}

// npyHeaderFor checks a parsed dict's descriptor and shape against the file
// and builds the header.
func npyHeaderFor(descr string, fortran bool, dims []int, dataOff, fileSize int64) (Header, error) {
	dt, err := DTypeFromDescr(descr)
	if err != nil {
		if native, ok := nativeDescr(descr); ok {
			// Valid .npy data in the other byte order: check the header
			// as the native type's, and say what is really wrong.
			h, err := npyHeaderFor(native, fortran, dims, dataOff, fileSize)
			if err != nil {
				return Header{}, err
			}
			return Header{}, &ByteOrderError{Descr: descr, Native: native, Header: h}
		}
		return Header{}, npyDTypeErr("%v", err)
	}
	dataLen, err := strided.ByteSize(dims, dt.Size())
	if err != nil {
		return Header{}, npyErr("%s", tooBig(dims, dt))
	}
	if dataLen > fileSize-dataOff {
		return Header{}, npyErr("shape %s of %v needs %d bytes of data at offset %d, file has %d",
			Tuple(dims), dt, dataLen, dataOff, fileSize)
	}
	return Header{
		Layout:  NPY,
		DType:   dt,
		Shape:   dims,
		Fortran: fortran,
		DataOff: dataOff,
		DataLen: dataLen,
	}, nil
}

// parseCanonicalNPYDict recognises, without the general parser's
// allocations, the header dict exactly as numpy and Create write it:
//
//	{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
//
// with trailing padding already removed. On any difference from that form
// it returns ok false and the general parser decides (and gives the
// errors); whatever it accepts, the general parser reads the same way.
func parseCanonicalNPYDict(t []byte) (descr []byte, fortran bool, dims []int, ok bool) {
	const (
		pre     = "{'descr': '"
		fortKey = "', 'fortran_order': "
		shapeKy = ", 'shape': ("
		end     = "), }"
	)
	if !bytes.HasPrefix(t, []byte(pre)) {
		return nil, false, nil, false
	}
	t = t[len(pre):]
	i := bytes.IndexByte(t, '\'')
	if i <= 0 {
		return nil, false, nil, false
	}
	descr, t = t[:i], t[i:]
	for _, c := range descr {
		if c <= ' ' || c > '~' || c == '\\' || c == '"' {
			return nil, false, nil, false
		}
	}
	if !bytes.HasPrefix(t, []byte(fortKey)) {
		return nil, false, nil, false
	}
	t = t[len(fortKey):]
	switch {
	case bytes.HasPrefix(t, []byte("False")):
		t = t[len("False"):]
	case bytes.HasPrefix(t, []byte("True")):
		fortran, t = true, t[len("True"):]
	default:
		return nil, false, nil, false
	}
	if !bytes.HasPrefix(t, []byte(shapeKy)) {
		return nil, false, nil, false
	}
	t = t[len(shapeKy):]
	comma := false // after the last dimension; "(3)" is an int, not a tuple
	for len(t) > 0 && t[0] != ')' {
		n, k := 0, 0
		for ; k < len(t) && '0' <= t[k] && t[k] <= '9'; k++ {
			if n > (math.MaxInt-9)/10 {
				return nil, false, nil, false // let the general parser judge the size
			}
			n = n*10 + int(t[k]-'0')
		}
		if k == 0 || t[0] == '0' && k > 1 || len(dims) == MaxDims {
			return nil, false, nil, false
		}
		dims = append(dims, n)
		t = t[k:]
		switch {
		case bytes.HasPrefix(t, []byte(", ")):
			t, comma = t[2:], true
		case bytes.HasPrefix(t, []byte(",)")):
			t, comma = t[1:], true
		case len(t) > 0 && t[0] == ')':
			comma = false
		default:
			return nil, false, nil, false
		}
	}
	if len(dims) == 1 && !comma || string(t) != end {
		return nil, false, nil, false
	}
	if dims == nil {
		dims = []int{}
	}
	return descr, fortran, dims, true
}

// trimPadding drops the spaces and newlines that end a header's text:
// trailing whitespace never changes what the dict means, and Create pads
// the header with thousands of spaces. Where the first '}' is followed
// only by spaces and a newline, as in every header numpy or Create writes,
// bytes.Count checks the padding many bytes per instruction; otherwise the
// loop drops it eight bytes at a time.
func trimPadding(text []byte) []byte {
	if i := bytes.IndexByte(text, '}'); i >= 0 {
		rest := text[i+1:]
		if len(rest) > 0 && rest[len(rest)-1] == '\n' {
			rest = rest[:len(rest)-1]
		}
		if bytes.Count(rest, space) == len(rest) {
			return text[:i+1]
		}
	}
	const spaces8 = 0x2020202020202020
	for len(text) > 0 {
		if len(text) >= 8 && binary.LittleEndian.Uint64(text[len(text)-8:]) == spaces8 {
			text = text[:len(text)-8]
		} else if c := text[len(text)-1]; c == ' ' || c == '\n' {
			text = text[:len(text)-1]
		} else {
			break
		}
	}
	return text
}

// space is the padding of a header, for bytes.Count.
var space = []byte{' '}
