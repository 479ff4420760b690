package shmtensor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var bundleSpecs = []TensorSpec{
	{"features", Float64, []int{4, 3}},
	{"labels", Int32, []int{4}},
	{"mask", Bool, []int{4}},
	{"scale", Float32, []int{}},
	{"none", Float64, []int{0, 5}},
	{"half", BFloat16, []int{2}},
}

func newTestBundle(t *testing.T, opts ...Option) (string, *Bundle) {
	t.Helper()
	name := uniqueName(t)
	b, err := CreateBundle(name, bundleSpecs, append([]Option{Metadata(map[string]string{"version": "1"})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return name, b
}

func TestBundleViews(t *testing.T) {
	name, b := newTestBundle(t)
	f, err := BundleView[float64](b, "features")
	if err != nil {
		t.Fatal(err)
	}
	f.Set(2.5, 3, 2)
	l, err := BundleView[int32](b, "labels")
	if err != nil {
		t.Fatal(err)
	}
	l.Set(7, 1)
	if _, err := BundleView[float32](b, "features"); !errors.Is(err, ErrDType) {
		t.Errorf("float32 view of float64 tensor: %v", err)
	}
	if _, err := BundleView[float64](b, "weights"); !errors.Is(err, ErrNotExist) || !strings.Contains(err.Error(), `"weights"`) {
		t.Errorf("missing key: %v", err)
	}
	if h, err := BundleView[uint16](b, "half"); err != nil || h.Len() != 2 {
		t.Errorf("bfloat16 as uint16: %v", err)
	}
	if m, err := b.Bytes("mask"); err != nil || len(m) != 4 {
		t.Errorf("mask bytes: %v %v", m, err)
	}
	if _, err := Attach[float64](name); !errors.Is(err, ErrNotTensor) || !strings.Contains(err.Error(), "AttachBundle") {
		t.Errorf("Attach of a bundle: %v", err)
	}
	// Every tensor starts aligned for its type, the data at a page.
	for ts := range b.Tensors() {
		if ts.Offset%int64(ts.DType.Size()) != 0 || ts.Offset < 4096 {
			t.Errorf("%s at %d", ts.Name, ts.Offset)
		}
	}

	// Another attach (another mapping) sees the values.
	b2, err := AttachBundle(name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	f2, _ := BundleView[float64](b2, "features")
	l2, _ := BundleView[int32](b2, "labels")
	if f2.At(3, 2) != 2.5 || l2.At(1) != 7 || b2.Metadata()["version"] != "1" || b2.Len() != len(bundleSpecs) {
		t.Fatalf("second attach: %v %v %v", f2.At(3, 2), l2.At(1), b2.Metadata())
	}
	info, err := Stat(name)
	if err != nil || info.Kind != KindBundle || info.Layout != Safetensors {
		t.Fatalf("Stat: %+v %v", info, err)
	}
	si, err := StatBundle(name)
	if err != nil || len(si.Tensors) != len(bundleSpecs) {
		t.Fatalf("StatBundle: %+v %v", si, err)
	}
	m, err := Dense(f) // zero-copy gonum over the read-write bundle
	if err != nil || m.At(3, 2) != 2.5 {
		t.Fatalf("Dense of a bundle tensor: %v", err)
	}
}

func TestBundleErrors(t *testing.T) {
	name := uniqueName(t)
	for _, specs := range [][]TensorSpec{
		{{"a", Complex128, []int{1}}},
		{{"a", Int8, nil}, {"a", Int8, nil}},
		{{"__metadata__", Int8, nil}},
		{{"", Int8, nil}},
		{{"a", Int8, []int{-1}}},
	} {
		if _, err := CreateBundle(name, specs); err == nil {
			t.Errorf("CreateBundle(%v) succeeded", specs)
		}
	}
	plain := uniqueName(t)
	x, err := Create[float64](plain, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	if _, err := AttachBundle(plain); !errors.Is(err, ErrNotTensor) {
		t.Errorf("AttachBundle of a plain segment: %v", err)
	}
	_, b := newTestBundle(t)
	b.Close()
	if _, err := BundleView[float64](b, "features"); !errors.Is(err, ErrClosed) {
		t.Errorf("view of a closed bundle: %v", err)
	}
}

// Replace swaps every tensor at once: a reader attached before keeps the
// old version whole, a new attach gets the new one whole.
func TestBundleReplace(t *testing.T) {
	name, b := newTestBundle(t)
	f, _ := BundleView[float64](b, "features")
	f.Fill(1)
	old, err := AttachBundle(name)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	nb, err := CreateBundle(name, bundleSpecs, Unpublished())
	if err != nil {
		t.Fatal(err)
	}
	defer nb.Close()
	nf, _ := BundleView[float64](nb, "features")
	nf.Fill(2)
	if err := nb.Replace(); err != nil {
		t.Fatal(err)
	}
	of, _ := BundleView[float64](old, "features")
	cur, err := AttachBundle(name)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	cf, _ := BundleView[float64](cur, "features")
	if of.At(0, 0) != 1 || cf.At(0, 0) != 2 {
		t.Fatalf("old reader sees %v, new one %v", of.At(0, 0), cf.At(0, 0))
	}
}

// A bundle written out is a standard safetensors file; one with an odd
// header length (as Hugging Face writes) imports aligned, bytes intact.
func TestBundleExportImport(t *testing.T) {
	_, b := newTestBundle(t)
	f, _ := BundleView[float64](b, "features")
	for i := range 4 {
		for j := range 3 {
			f.Set(float64(10*i+j), i, j)
		}
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	// Rewrite it with a minimal, odd-length header, in another order.
	n := binary.LittleEndian.Uint64(buf.Bytes())
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimRight(buf.Bytes()[8:8+n], " "), &hdr); err != nil {
		t.Fatal(err)
	}
	compact, _ := json.Marshal(hdr)
	if len(compact)%2 == 0 {
		compact = append(compact, ' ')
	}
	odd := binary.LittleEndian.AppendUint64(nil, uint64(len(compact)))
	odd = append(append(odd, compact...), buf.Bytes()[8+n:]...)
	path := filepath.Join(t.TempDir(), "odd.safetensors")
	if err := os.WriteFile(path, odd, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"file", "stream"} {
		t.Run(src, func(t *testing.T) {
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			var r interface{ Read([]byte) (int, error) } = fh
			if src == "stream" {
				r = bytes.NewReader(odd)
			}
			name := uniqueName(t)
			ib, err := ImportBundle(name, r)
			if err != nil {
				t.Fatal(err)
			}
			defer ib.Close()
			g, err := BundleView[float64](ib, "features")
			if err != nil {
				t.Fatal(err)
			}
			if g.At(3, 2) != 32 || g.At(1, 0) != 10 || ib.Metadata()["version"] != "1" {
				t.Fatalf("imported: %v %v %v", g.At(3, 2), g.At(1, 0), ib.Metadata())
			}
		})
	}
	// Truncated: a clear error, nothing left under the name.
	name := uniqueName(t)
	if _, err := ImportBundle(name, bytes.NewReader(odd[:len(odd)-9])); !errors.Is(err, ErrNotTensor) {
		t.Fatalf("truncated import: %v", err)
	}
	if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
		t.Fatalf("after a failed import: %v", err)
	}
}

// Delete removes a bundle, and refuses a file that only looks like one.
func TestBundleDelete(t *testing.T) {
	name, b := newTestBundle(t)
	b.Close()
	if err := Delete(name); err != nil {
		t.Fatalf("Delete of a bundle: %v", err)
	}
	if _, err := StatBundle(name); !errors.Is(err, ErrNotExist) {
		t.Fatalf("after Delete: %v", err)
	}
	fake := uniqueName(t)
	f := binary.LittleEndian.AppendUint64(nil, 40)
	f = append(f, []byte(`{"a":{"dtype":"U8","shape":[9],"data_offsets":[0,9]}}`)[:40]...)
	if err := os.WriteFile("/dev/shm/"+fake, f, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Delete(fake); !errors.Is(err, ErrNotTensor) {
		t.Fatalf("Delete of a broken safetensors file: %v", err)
	}
	if _, err := os.Stat("/dev/shm/" + fake); err != nil {
		t.Fatalf("the broken file is gone: %v", err)
	}
}
