package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/shmtensor/shmtensor/internal/errs"
	"github.com/shmtensor/shmtensor/internal/strided"
)

// A safetensors file: an 8-byte little-endian header length N, N bytes of
// JSON ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {str: str}}), then the data; offsets count from the
// byte after the header and tile the data exactly. A bundle is such a file
// whose header is padded with spaces so the data starts at a page, with
// the tensors in decreasing order of element size, so each is aligned.

// STMaxHeader bounds the JSON header, as the reference reader does
// (100,000,000 bytes).
const STMaxHeader = 100_000_000

// STMetadataKey is the header key of the string metadata.
const STMetadataKey = "__metadata__"

// stDTypes maps safetensors' dtype names to DTypes.
var stDTypes = map[string]DType{
	"BOOL": Bool, "U8": Uint8, "I8": Int8, "U16": Uint16, "I16": Int16,
	"U32": Uint32, "I32": Int32, "U64": Uint64, "I64": Int64,
	"F16": Float16, "BF16": BFloat16, "F32": Float32, "F64": Float64,
	"F8_E4M3": Float8E4M3, "F8_E5M2": Float8E5M2, "C64": Complex64,
}

// STName returns safetensors' name for d, or "" if it has none
// (complex128).
func STName(d DType) string {
	for k, v := range stDTypes {
		if v == d {
			return k
		}
	}
	return ""
}

// STTensor is one tensor of a safetensors header.
type STTensor struct {
	Name  string
	DType DType
	Shape []int
	// Begin and End are byte offsets in the data, from its start.
	Begin, End int64
}

// STHeader is a validated safetensors header.
type STHeader struct {
	Tensors  []STTensor     // in the order of their offsets
	Index    map[string]int // the position of each name in Tensors
	Metadata map[string]string
	DataOff  int64 // 8 + header length
	DataLen  int64
}

// Header returns the segment header of a bundle: its data as bytes.
func (h STHeader) Header() Header {
	return Header{Layout: Safetensors, DType: Uint8, Shape: []int{int(min(h.DataLen, math.MaxInt))}, DataOff: h.DataOff, DataLen: h.DataLen, Bundle: &h}
}

// IsSafetensors reports whether the first bytes of a file could start a
// safetensors header: a length that fits in the file, then '{'.
func IsSafetensors(prefix []byte, size int64) bool {
	if len(prefix) < 9 || size < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(prefix)
	return n >= 2 && n <= STMaxHeader && n <= uint64(size-8) && prefix[8] == '{'
}

// ReadSTStream reads the header of a safetensors stream from r, leaving r
// at the start of the data.
func ReadSTStream(r io.Reader) (STHeader, error) {
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return STHeader{}, fmt.Errorf("%w: safetensors: reading the header length: %w", errs.ErrNotTensor, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > STMaxHeader {
		return STHeader{}, fmt.Errorf("%w: safetensors: a %d-byte header, more than the %d allowed", errs.ErrNotTensor, n, STMaxHeader)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return STHeader{}, fmt.Errorf("%w: safetensors: reading the %d-byte header: %w", errs.ErrNotTensor, n, err)
	}
	return ParseSafetensors(hdr, -1)
}

// ReadSafetensors reads and validates the header of a safetensors file of
// size bytes.
func ReadSafetensors(r io.ReaderAt, size int64) (STHeader, error) {
	var lenBuf [8]byte
	if size < 8 {
		return STHeader{}, fmt.Errorf("%w: safetensors: %d bytes, shorter than the header length", errs.ErrNotTensor, size)
	}
	if err := readFull(r, lenBuf[:], 0); err != nil {
		return STHeader{}, err
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > STMaxHeader {
		return STHeader{}, fmt.Errorf("%w: safetensors: a %d-byte header, more than the %d allowed", errs.ErrNotTensor, n, STMaxHeader)
	}
	if n > uint64(size-8) {
		return STHeader{}, fmt.Errorf("%w: safetensors: a %d-byte header in a %d-byte file", errs.ErrNotTensor, n, size)
	}
	hdr := make([]byte, n)
	if err := readFull(r, hdr, 8); err != nil {
		return STHeader{}, err
	}
	return ParseSafetensors(hdr, size)
}

// ParseSafetensors validates the JSON header hdr of a file of size bytes
// (8 + len(hdr) + the data; size < 0: a stream, whose data is then what
// the tensors cover): every tensor's dtype, shape and offsets, that
// the offsets tile the data exactly (no hole, no overlap, nothing after),
// no duplicate key, and string-only metadata.
func ParseSafetensors(hdr []byte, size int64) (STHeader, error) {
	bad := func(format string, a ...any) (STHeader, error) {
		return STHeader{}, fmt.Errorf("%w: safetensors header: "+format, append([]any{errs.ErrNotTensor}, a...)...)
	}
	if !utf8.Valid(hdr) {
		return bad("not UTF-8")
	}
	h := STHeader{DataOff: 8 + int64(len(hdr))}
	if size >= 0 && h.DataOff > size {
		return bad("longer than the file")
	}
	h.DataLen = size - h.DataOff
	body := bytes.TrimRight(hdr, " ")
	// One conversion of the header to a string, one slice for the shapes
	// and the index made at its size: a bundle of 1,000 tensors is
	// attached with a few allocations per tensor (the key's, in the index).
	// At least the tensors, one object each; at most what the header can
	// hold (an entry is 50 bytes or more), so that a hostile header of
	// braces does not size anything beyond its length.
	n := min(bytes.Count(body, []byte("{")), len(body)/50+1)
	sc := stScan{b: body, s: string(body), dims: make([]int, 0, 2*n)}
	if sc.peek() != '{' {
		return bad("not a JSON object")
	}
	sc.i++
	seen := make(map[string]int, n)
	h.Tensors = make([]STTensor, 0, n)
	if sc.peek() == '}' {
		sc.i++
	} else {
		for {
			key, err := sc.str()
			if err != nil {
				return bad("%v", err)
			}
			if _, dup := seen[key]; dup || key == STMetadataKey && h.Metadata != nil {
				return bad("key %q appears twice", key)
			}
			if err := sc.eat(':'); err != nil {
				return bad("%v", err)
			}
			if key == STMetadataKey {
				if h.Metadata, err = sc.metadata(); err != nil {
					return bad("%v", err)
				}
			} else {
				if strings.TrimSpace(key) == "" {
					return bad("a tensor with an empty name")
				}
				t, err := sc.tensor(key)
				if err != nil {
					return bad("%w", err)
				}
				seen[key] = len(h.Tensors)
				h.Tensors = append(h.Tensors, t)
			}
			more, err := sc.more('}')
			if err != nil {
				return bad("%v", err)
			}
			if !more {
				break
			}
		}
	}
	if sc.peek() != 0 || sc.i != len(sc.b) {
		return bad("something after the object")
	}
	byOffset := func(a, b STTensor) int {
		if a.Begin != b.Begin {
			return cmpInt64(a.Begin, b.Begin)
		}
		return cmpInt64(a.End, b.End)
	}
	// A bundle's header lists its tensors in the order of their data.
	if !slices.IsSortedFunc(h.Tensors, byOffset) {
		slices.SortStableFunc(h.Tensors, byOffset)
		for i, t := range h.Tensors {
			seen[t.Name] = i
		}
	}
	h.Index = seen
	at := int64(0)
	for _, t := range h.Tensors {
		switch {
		case t.Begin < at:
			return bad("tensor %q at [%d, %d) overlaps the one before, which ends at %d", t.Name, t.Begin, t.End, at)
		case t.Begin > at:
			return bad("a hole at [%d, %d) before tensor %q", at, t.Begin, t.Name)
		}
		at = t.End
	}
	if size < 0 {
		h.DataLen = at // a stream: the data is what the tensors cover
	}
	if at != h.DataLen {
		return bad("the tensors cover %d bytes of data, the file holds %d", at, h.DataLen)
	}
	return h, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// STSpec is a tensor to lay out in a new bundle.
type STSpec struct {
	Name  string
	DType DType
	Shape []int
}

// LayoutBundle orders and places specs for a new bundle: decreasing
// element size (so every tensor starts at a multiple of its own), then
// name; the header is padded with spaces so the data starts at a multiple
// of align. It returns the header (with its 8-byte length) and the tensors
// with their offsets.
func LayoutBundle(specs []STSpec, meta map[string]string, align int64) ([]byte, STHeader, error) {
	ts := make([]STTensor, 0, len(specs))
	seen := map[string]bool{}
	for _, s := range specs {
		switch {
		case s.Name == STMetadataKey:
			return nil, STHeader{}, fmt.Errorf("%w: %q is reserved for the metadata", errs.ErrShape, s.Name)
		case strings.TrimSpace(s.Name) == "" || !utf8.ValidString(s.Name):
			return nil, STHeader{}, fmt.Errorf("%w: tensor name %q: empty or not UTF-8", errs.ErrShape, s.Name)
		case seen[s.Name]:
			return nil, STHeader{}, fmt.Errorf("%w: two tensors named %q", errs.ErrShape, s.Name)
		case STName(s.DType) == "":
			return nil, STHeader{}, fmt.Errorf("%w: tensor %q: safetensors has no element type %v", errs.ErrDType, s.Name, s.DType)
		}
		seen[s.Name] = true
		n, err := strided.ByteSize(s.Shape, s.DType.Size())
		if err != nil {
			return nil, STHeader{}, fmt.Errorf("tensor %q: %w", s.Name, err)
		}
		ts = append(ts, STTensor{Name: s.Name, DType: s.DType, Shape: slices.Clone(s.Shape), End: n})
	}
	slices.SortFunc(ts, func(a, b STTensor) int {
		if a.DType.Size() != b.DType.Size() {
			return b.DType.Size() - a.DType.Size()
		}
		return strings.Compare(a.Name, b.Name)
	})
	var at int64
	for i := range ts {
		n := ts[i].End
		if at > math.MaxInt64-n {
			return nil, STHeader{}, fmt.Errorf("%w: the tensors do not fit in a file", errs.ErrShape)
		}
		ts[i].Begin, ts[i].End = at, at+n
		at += n
	}
	var b bytes.Buffer
	b.WriteString("{")
	if len(meta) > 0 {
		m, err := json.Marshal(meta)
		if err != nil {
			return nil, STHeader{}, err
		}
		b.WriteString(`"` + STMetadataKey + `":`)
		b.Write(m)
	}
	for i, t := range ts {
		if i > 0 || len(meta) > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(t.Name)
		b.Write(k)
		fmt.Fprintf(&b, `:{"dtype":"%s","shape":[`, STName(t.DType))
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d", d)
		}
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, t.Begin, t.End)
	}
	b.WriteString("}")
	n := int64(8 + b.Len())
	pad := (n+align-1)/align*align - n
	if n+pad-8 > STMaxHeader {
		return nil, STHeader{}, fmt.Errorf("%w: a %d-byte header, more than safetensors allows", errs.ErrShape, n+pad-8)
	}
	out := make([]byte, n+pad)
	binary.LittleEndian.PutUint64(out, uint64(n+pad-8))
	copy(out[8:], b.Bytes())
	for i := n; i < n+pad; i++ {
		out[i] = ' '
	}
	if at > math.MaxInt64-int64(len(out)) {
		return nil, STHeader{}, fmt.Errorf("%w: the tensors do not fit in a file", errs.ErrShape)
	}
	return out, STHeader{Tensors: ts, Metadata: meta, DataOff: int64(len(out)), DataLen: at}, nil
}
