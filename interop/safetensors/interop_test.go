//go:build linux

package safetensors

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	st "github.com/nlpodyssey/safetensors"
	"github.com/shmtensor/shmtensor"
)

// pair is an element type in both implementations.
type pair struct {
	st  st.DType
	shm shmtensor.DType
}

// types pairs each element type both implementations know.
var types = []pair{
	{st.BOOL, shmtensor.Bool}, {st.U8, shmtensor.Uint8}, {st.I8, shmtensor.Int8},
	{st.I16, shmtensor.Int16}, {st.U16, shmtensor.Uint16}, {st.F16, shmtensor.Float16},
	{st.BF16, shmtensor.BFloat16}, {st.I32, shmtensor.Int32}, {st.U32, shmtensor.Uint32},
	{st.F32, shmtensor.Float32}, {st.F64, shmtensor.Float64}, {st.I64, shmtensor.Int64},
	{st.U64, shmtensor.Uint64},
}

// shapes are those of every type's tensors: 2-d, 0-d, empty, 3-d, 1-d of
// an odd length.
var shapes = [][]int{{3, 5}, {}, {0, 4}, {2, 1, 3}, {7}}

var meta = map[string]string{"format": "pt", "note": "héllo \"quoted\" \\ \u2028"}

// uniqueName is a /dev/shm name no other process uses.
func uniqueName(t *testing.T) string {
	var b [6]byte
	rand.Read(b[:])
	n := fmt.Sprintf("shmtensor-test-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	t.Cleanup(func() { os.Remove(filepath.Join("/dev/shm", n)) })
	return n
}

// randomBits fills p with random bytes, booleans with 0 or 1.
func randomBits(rng *mrand.Rand, p []byte, boolean bool) {
	for i := range p {
		p[i] = byte(rng.Uint32())
		if boolean {
			p[i] &= 1
		}
	}
}

func toUint64(s []int) []uint64 {
	u := make([]uint64, len(s))
	for i, d := range s {
		u[i] = uint64(d)
	}
	return u
}

func toInt(s []uint64) []int {
	u := make([]int, len(s))
	for i, d := range s {
		u[i] = int(d)
	}
	return u
}

// mapFile maps the whole file at path read-only: the independent reader
// then parses the live segment in place, not a copy.
func mapFile(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	return mem
}

// checkSame fails unless the bundle b and the independent reader's s hold
// the same tensors (names, types, shapes, bytes) and metadata.
func checkSame(t *testing.T, b *shmtensor.Bundle, s st.SafeTensors, md map[string]string) {
	t.Helper()
	if got := s.Names(); len(got) != b.Len() {
		t.Fatalf("independent reader sees %d tensors, bundle %d", len(got), b.Len())
	}
	for ts := range b.Tensors() {
		v, ok := s.Tensor(ts.Name)
		if !ok {
			t.Fatalf("independent reader lacks %q", ts.Name)
		}
		i := slices.IndexFunc(types, func(p pair) bool { return p.shm == ts.DType })
		if i < 0 || types[i].st != v.DType() {
			t.Fatalf("%q: bundle type %v, independent reader %v", ts.Name, ts.DType, v.DType())
		}
		if !slices.Equal(toInt(v.Shape()), ts.Shape) {
			t.Fatalf("%q: bundle shape %v, independent reader %v", ts.Name, ts.Shape, v.Shape())
		}
		p, err := b.Bytes(ts.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p, v.Data()) {
			t.Fatalf("%q: bytes differ", ts.Name)
		}
	}
	if !maps.Equal(b.Metadata(), md) {
		t.Fatalf("bundle metadata %v, want %v", b.Metadata(), md)
	}
}

// TestIndependentReaderOpensBundle: a live bundle made by shmtensor, every
// element type in every shape, is a file the independent implementation
// parses in place, holding the same bits and metadata.
func TestIndependentReaderOpensBundle(t *testing.T) {
	name := uniqueName(t)
	var specs []shmtensor.TensorSpec
	for _, ty := range types {
		for i, s := range shapes {
			specs = append(specs, shmtensor.TensorSpec{Name: fmt.Sprintf("%v.%d", ty.st, i), DType: ty.shm, Shape: s})
		}
	}
	b, err := shmtensor.CreateBundle("shm://"+name, specs, shmtensor.Metadata(meta), shmtensor.Unpublished())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rng := mrand.New(mrand.NewPCG(1, 2))
	for ts := range b.Tensors() {
		p, err := b.Bytes(ts.Name)
		if err != nil {
			t.Fatal(err)
		}
		randomBits(rng, p, ts.DType == shmtensor.Bool)
	}
	if err := b.Publish(); err != nil {
		t.Fatal(err)
	}
	mem := mapFile(t, filepath.Join("/dev/shm", name))
	s, err := st.Deserialize(mem)
	if err != nil {
		t.Fatalf("the independent reader refuses a live bundle: %v", err)
	}
	_, m, err := st.ReadMetadata(mem)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, b, s, m.Metadata())
	if !maps.Equal(m.Metadata(), meta) {
		t.Fatalf("independent reader's metadata %v, want %v", m.Metadata(), meta)
	}

	// The file the bundle exports is one too.
	var out bytes.Buffer
	if _, err := b.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	s2, err := st.Deserialize(out.Bytes())
	if err != nil {
		t.Fatalf("the independent reader refuses an exported bundle: %v", err)
	}
	checkSame(t, b, s2, meta)
}

// view is a tensor to serialize. (st.NewTensorView refuses 0-d tensors:
// it counts their elements as 0, not 1; its reader counts them right.)
type view struct {
	dtype st.DType
	shape []uint64
	data  []byte
}

func (v view) DType() st.DType { return v.dtype }
func (v view) Shape() []uint64 { return v.shape }
func (v view) Data() []byte    { return v.data }
func (v view) DataLen() uint64 { return uint64(len(v.data)) }

// written returns a file serialized by the independent implementation:
// every type in every shape, random bits, metadata.
func written(t *testing.T) []byte {
	t.Helper()
	rng := mrand.New(mrand.NewPCG(3, 4))
	views := map[string]view{}
	for _, ty := range types {
		for i, s := range shapes {
			n := 1
			for _, d := range s {
				n *= d
			}
			p := make([]byte, n*int(ty.st.Size()))
			randomBits(rng, p, ty.st == st.BOOL)
			views[fmt.Sprintf("%v.%d", ty.st, i)] = view{ty.st, toUint64(s), p}
		}
	}
	data, err := st.Serialize(views, meta)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestBundleOpensIndependentFile: a file written by the independent
// implementation attaches in place as a foreign bundle and imports as an
// aligned one, holding the same bits and metadata either way.
func TestBundleOpensIndependentFile(t *testing.T) {
	data := written(t)
	s, err := st.Deserialize(data)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("attach in place", func(t *testing.T) {
		name := uniqueName(t)
		if err := os.WriteFile(filepath.Join("/dev/shm", name), data, 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := shmtensor.AttachBundle("shm://"+name, shmtensor.ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		checkSame(t, b, s, meta)
		if info, err := shmtensor.StatBundle("shm://" + name); err != nil || len(info.Tensors) != b.Len() {
			t.Fatalf("StatBundle: %d tensors, %v", len(info.Tensors), err)
		}
	})

	t.Run("import", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "model.safetensors")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		name := uniqueName(t)
		b, err := shmtensor.ImportBundle("shm://"+name, f)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		checkSame(t, b, s, meta)
		for ts := range b.Tensors() {
			if ts.Offset%int64(ts.DType.Size()) != 0 {
				t.Fatalf("%q at %d: misaligned after import", ts.Name, ts.Offset)
			}
		}
		// And what it made reads back in the independent implementation.
		s2, err := st.Deserialize(mapFile(t, filepath.Join("/dev/shm", name)))
		if err != nil {
			t.Fatalf("the independent reader refuses an imported bundle: %v", err)
		}
		checkSame(t, b, s2, meta)
	})
}
