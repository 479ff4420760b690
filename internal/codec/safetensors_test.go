package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/errs"
)

func TestBundleLayoutRoundTrip(t *testing.T) {
	specs := []STSpec{
		{"mask", Bool, []int{3}},
		{"w", Float64, []int{2, 3}},
		{"ids", Int32, []int{5}},
		{"scalar", Float32, []int{}},
		{"empty", Float64, []int{0, 4}},
		{"h", BFloat16, []int{3}},
		{"f8", Float8E4M3, []int{2}},
		{"z", Complex64, []int{1}},
	}
	hdr, h, err := LayoutBundle(specs, map[string]string{"version": "7"}, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if len(hdr)%4096 != 0 || h.DataOff != int64(len(hdr)) {
		t.Fatalf("header %d bytes, data at %d: not page-aligned", len(hdr), h.DataOff)
	}
	for _, ts := range h.Tensors {
		if ts.Begin%int64(ts.DType.Size()) != 0 {
			t.Errorf("%s (%v) at %d: not aligned", ts.Name, ts.DType, ts.Begin)
		}
	}
	got, err := ParseSafetensors(hdr[8:], int64(len(hdr))+h.DataLen)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tensors) != len(specs) || got.Metadata["version"] != "7" || got.DataLen != h.DataLen {
		t.Fatalf("parsed %+v", got)
	}
	for i, ts := range got.Tensors {
		w := h.Tensors[i]
		if ts.Name != w.Name || ts.DType != w.DType || ts.Begin != w.Begin || ts.End != w.End || Tuple(ts.Shape) != Tuple(w.Shape) {
			t.Errorf("tensor %d: %+v, want %+v", i, ts, w)
		}
	}
	if _, _, err := LayoutBundle([]STSpec{{"a", Complex128, []int{1}}}, nil, 4096); !errors.Is(err, errs.ErrDType) {
		t.Errorf("complex128: %v", err)
	}
	if _, _, err := LayoutBundle([]STSpec{{"a", Int8, nil}, {"a", Int8, nil}}, nil, 4096); !errors.Is(err, errs.ErrShape) {
		t.Errorf("duplicate names: %v", err)
	}
}

// stFile returns a file of a header and dataLen bytes of data.
func stFile(hdr string, dataLen int) []byte {
	b := make([]byte, 8+len(hdr)+dataLen)
	binary.LittleEndian.PutUint64(b, uint64(len(hdr)))
	copy(b[8:], hdr)
	return b
}

type byteReader []byte

func (b byteReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, nil
	}
	return copy(p, b[off:]), nil
}

func TestParseSafetensorsHostile(t *testing.T) {
	for _, c := range []struct {
		name, hdr string
		data      int
		want      string
	}{
		{"overlap", `{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, 6, "overlaps"},
		{"hole", `{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[6,10]}}`, 10, "hole"},
		{"past the end", `{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, 2, "cover 4 bytes"},
		{"trailing data", `{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, 9, "cover 4 bytes"},
		{"size mismatch", `{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,4]}}`, 4, "16 bytes"},
		{"huge shape", `{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, 8, "tensor \"a\""},
		{"negative dim", `{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, 0, "not a size"},
		{"float dim", `{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,0]}}`, 0, "not a size"},
		{"offsets reversed", `{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, 4, "not a range"},
		{"offset overflow", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,18446744073709551616]}}`, 1, "data_offsets[0] = 18446744073709551615 is not a size"},
		{"duplicate key", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 1, "twice"},
		{"unknown dtype", `{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, 16, "F128"},
		{"missing field", `{"a":{"dtype":"U8","shape":[1]}}`, 1, "lacks"},
		{"metadata not strings", `{"__metadata__":{"k":1}}`, 0, "not a string"},
		{"not an object", `[1,2]`, 0, "JSON object"},
		{"trailing garbage", `{} x`, 0, "after the object"},
		{"unterminated", `{"a":`, 0, ""},
		{"non-UTF-8", "{\"\xff\":1}", 0, "UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := stFile(c.hdr, c.data)
			_, err := ReadSafetensors(byteReader(f), int64(len(f)))
			if !errors.Is(err, errs.ErrNotTensor) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrNotTensor containing %q", err, c.want)
			}
		})
	}
	// A header length beyond the limit or the file.
	for _, n := range []uint64{STMaxHeader + 1, 1 << 63, 1000} {
		f := make([]byte, 100)
		binary.LittleEndian.PutUint64(f, n)
		if _, err := ReadSafetensors(byteReader(f), 100); !errors.Is(err, errs.ErrNotTensor) {
			t.Errorf("header length %d: %v", n, err)
		}
	}
	// Padding with spaces and an empty file of tensors are fine.
	f := stFile(`{"__metadata__":{"a":"b"}}      `, 0)
	if h, err := ReadSafetensors(byteReader(f), int64(len(f))); err != nil || h.Metadata["a"] != "b" {
		t.Fatalf("padded header: %+v, %v", h, err)
	}
}

func FuzzParseSafetensors(f *testing.F) {
	hdr, h, _ := LayoutBundle([]STSpec{{"w", Float64, []int{2, 3}}, {"m", Bool, []int{2}}}, map[string]string{"k": "v"}, 64)
	f.Add(hdr[8:], h.DataLen)
	f.Add([]byte(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`), int64(4))
	f.Add([]byte(`{"__metadata__":{}}`), int64(0))
	f.Add([]byte(`{"a":{"dtype":"U8","DTYPE":"I8","shape":[4],"data_offsets":[0,4]}}`), int64(4)) // read differently by encoding/json
	f.Fuzz(func(t *testing.T, hdr []byte, dataLen int64) {
		if dataLen < 0 || dataLen > 1<<40 {
			return
		}
		size := 8 + int64(len(hdr)) + dataLen
		h, err := ParseSafetensors(hdr, size)
		ref, refErr := parseSafetensorsJSON(hdr, size)
		switch {
		case err == nil && refErr != nil:
			t.Fatalf("the scanner accepts what encoding/json refuses (%v): %+v", refErr, h)
		case err == nil && !sameSTHeader(h, ref) && !fieldInOtherCase(hdr):
			t.Fatalf("the scanner reads\n%+v\nencoding/json\n%+v", h, ref)
		case err != nil && refErr == nil && !stricterThanJSON(err, hdr):
			t.Fatalf("the scanner refuses what encoding/json accepts: %v\n%+v", err, ref)
		}
		if err != nil {
			return
		}
		// What validates tiles the data exactly with tensors of their size.
		at := int64(0)
		for _, ts := range h.Tensors {
			if ts.Begin != at || ts.End < ts.Begin {
				t.Fatalf("tensor %q at [%d, %d), expected at %d", ts.Name, ts.Begin, ts.End, at)
			}
			at = ts.End
		}
		if at != dataLen {
			t.Fatalf("tensors end at %d of %d", at, dataLen)
		}
	})
}

// stricterThanJSON reports whether err is one of the cases where the
// scanner is stricter than encoding/json by design: a field or metadata
// key given twice (encoding/json keeps the last), a size written as a
// string (json.Number takes one), nesting deeper than the scanner's bound,
// and a field name in another case ("dtYpe"), which encoding/json matches
// to its field and safetensors' own reader, like the scanner, does not.
func stricterThanJSON(err error, hdr []byte) bool {
	for _, s := range []string{"appears twice", "is not a size", "nested too deep"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	// A field in another case: encoding/json takes the last case-folded
	// match, the scanner the exact one only; any refusal may follow.
	return fieldInOtherCase(hdr)
}

// fieldInOtherCase reports whether hdr spells a tensor field in another
// case ("dtYpe"): encoding/json matches it to the field (the last one
// given wins), the scanner and safetensors' reader take it for an unknown
// field, so their readings may differ.
func fieldInOtherCase(hdr []byte) bool {
	lower := bytes.ToLower(hdr)
	for _, f := range []string{`"dtype"`, `"shape"`, `"data_offsets"`} {
		if bytes.Count(lower, []byte(f)) != bytes.Count(hdr, []byte(f)) {
			return true
		}
	}
	return false
}

// BenchmarkParseSafetensors parses the header of a 1,000-tensor bundle
// with the scanner and with encoding/json (the oracle), for the ratio.
func BenchmarkParseSafetensors(b *testing.B) {
	specs := make([]STSpec, 1000)
	for i := range specs {
		specs[i] = STSpec{Name: fmt.Sprintf("model.layers.%d.mlp.weight", i), DType: Float32, Shape: []int{256, 1024}}
	}
	hdr, h, err := LayoutBundle(specs, map[string]string{"format": "pt"}, 4096)
	if err != nil {
		b.Fatal(err)
	}
	size := int64(len(hdr)) + h.DataLen
	for _, p := range []struct {
		name  string
		parse func([]byte, int64) (STHeader, error)
	}{{"scanner", ParseSafetensors}, {"encoding-json", parseSafetensorsJSON}} {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(hdr)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.parse(hdr[8:], size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sameSTHeader compares a header of the scanner with one of the oracle,
// which has no index: the scanner's must point every name at its tensor.
func sameSTHeader(h, ref STHeader) bool {
	if len(h.Index) != len(h.Tensors) {
		return false
	}
	for i, t := range h.Tensors {
		if h.Index[t.Name] != i {
			return false
		}
	}
	h.Index = nil
	if len(h.Tensors) == 0 && len(ref.Tensors) == 0 {
		h.Tensors, ref.Tensors = nil, nil
	}
	return reflect.DeepEqual(h, ref)
}
