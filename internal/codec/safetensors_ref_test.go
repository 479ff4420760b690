package codec

import (
	"bytes"
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

// parseSafetensorsJSON is the parser bundles had before the scanner of
// safetensors_json.go, on encoding/json: the oracle the fuzzer compares
// the scanner with. It validates the JSON header hdr of a file of size bytes
// (8 + len(hdr) + the data; size < 0: a stream, whose data is then what
// the tensors cover): every tensor's dtype, shape and offsets, that
// the offsets tile the data exactly (no hole, no overlap, nothing after),
// no duplicate key, and string-only metadata.
func parseSafetensorsJSON(hdr []byte, size int64) (STHeader, error) {
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
	if len(body) == 0 || body[0] != '{' {
		return bad("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return bad("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad("%v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return bad("a key that is not a string")
		}
		if seen[key] {
			return bad("key %q appears twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return bad("value of %q: %v", key, err)
		}
		if key == STMetadataKey {
			if err := refSTMetadata(raw, &h); err != nil {
				return bad("%v", err)
			}
			continue
		}
		t, err := refSTTensor(key, raw)
		if err != nil {
			return bad("%v", err)
		}
		h.Tensors = append(h.Tensors, t)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return bad("the object does not end")
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("something after the object")
	}
	slices.SortStableFunc(h.Tensors, func(a, b STTensor) int {
		if a.Begin != b.Begin {
			return cmpInt64(a.Begin, b.Begin)
		}
		return cmpInt64(a.End, b.End)
	})
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

func refSTMetadata(raw json.RawMessage, h *STHeader) error {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return fmt.Errorf("%s is not an object of strings", STMetadataKey)
	}
	h.Metadata = make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s[%q] is not a string", STMetadataKey, k)
		}
		h.Metadata[k] = s
	}
	return nil
}

func refSTTensor(key string, raw json.RawMessage) (STTensor, error) {
	var v struct {
		DType   *string       `json:"dtype"`
		Shape   []json.Number `json:"shape"`
		Offsets []json.Number `json:"data_offsets"`
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return STTensor{}, fmt.Errorf("tensor %q: %v", key, err)
	}
	if v.DType == nil || v.Shape == nil || v.Offsets == nil {
		return STTensor{}, fmt.Errorf("tensor %q lacks dtype, shape or data_offsets", key)
	}
	dt, ok := stDTypes[*v.DType]
	if !ok {
		return STTensor{}, fmt.Errorf("tensor %q: %w: dtype %q", key, errs.ErrDType, *v.DType)
	}
	if len(v.Shape) > strided.MaxDims {
		return STTensor{}, fmt.Errorf("tensor %q: %d dimensions, at most %d", key, len(v.Shape), strided.MaxDims)
	}
	shape := make([]int, len(v.Shape))
	for i, s := range v.Shape {
		n, err := refUint(s)
		if err != nil || n > math.MaxInt64 {
			return STTensor{}, fmt.Errorf("tensor %q: shape[%d] = %s is not a size", key, i, s)
		}
		shape[i] = int(n)
	}
	nbytes, err := strided.ByteSize(shape, dt.Size())
	if err != nil {
		return STTensor{}, fmt.Errorf("tensor %q: %v", key, err)
	}
	if len(v.Offsets) != 2 {
		return STTensor{}, fmt.Errorf("tensor %q: data_offsets has %d numbers, not 2", key, len(v.Offsets))
	}
	b, err1 := refUint(v.Offsets[0])
	e, err2 := refUint(v.Offsets[1])
	if err1 != nil || err2 != nil || b > math.MaxInt64 || e > math.MaxInt64 || e < b {
		return STTensor{}, fmt.Errorf("tensor %q: data_offsets [%s, %s] are not a range", key, v.Offsets[0], v.Offsets[1])
	}
	if int64(e-b) != nbytes {
		return STTensor{}, fmt.Errorf("tensor %q: %v of shape %v is %d bytes, data_offsets [%d, %d] hold %d", key, dt, Tuple(shape), nbytes, b, e, e-b)
	}
	if strings.TrimSpace(key) == "" {
		return STTensor{}, fmt.Errorf("a tensor with an empty name")
	}
	return STTensor{Name: key, DType: dt, Shape: shape, Begin: int64(b), End: int64(e)}, nil
}

// strictUint parses a JSON number that must be a non-negative integer.
func refUint(n json.Number) (uint64, error) {
	s := n.String()
	if s == "" || strings.ContainsAny(s, ".eE-+") {
		return 0, fmt.Errorf("not an unsigned integer")
	}
	var v uint64
	for _, c := range s {
		d := uint64(c - '0')
		if d > 9 || v > (math.MaxUint64-d)/10 {
			return 0, fmt.Errorf("not an unsigned integer")
		}
		v = v*10 + d
	}
	return v, nil
}
