package shmtensor

// numpy and bundles, both ways, bit for bit: numpy reads every tensor of a
// live bundle through the offsets docs/formats.md documents
// (testdata/bundle/read_bundle.py), and a file numpy writes with an odd
// header, as Hugging Face's library does (testdata/bundle/write_safetensors.py),
// imports with every byte in place.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/codec"
)

// bundleDTypes are the element types a bundle holds: all of safetensors'.
var bundleDTypes = []DType{Bool, Uint8, Int8, Uint16, Int16, Uint32, Int32, Uint64, Int64,
	Float16, BFloat16, Float32, Float64, Float8E4M3, Float8E5M2, Complex64}

// stName is safetensors' name of d.
func stName(d DType) string { return codec.STName(codec.DType(d)) }

// allDTypeSpecs returns, for every bundle element type, a 2-d, a 0-d, an
// empty and a 3-d tensor, named after the type.
func allDTypeSpecs() []TensorSpec {
	var specs []TensorSpec
	for _, d := range bundleDTypes {
		n := strings.ToLower(stName(d))
		specs = append(specs,
			TensorSpec{n, d, []int{3, 5}},
			TensorSpec{n + ".scalar", d, []int{}},
			TensorSpec{n + ".empty", d, []int{0, 4}},
			TensorSpec{n + ".cube", d, []int{2, 1, 3}},
		)
	}
	return specs
}

// fillRandom gives every tensor of b random bits (0 or 1 for booleans):
// NaNs, infinities and subnormals included.
func fillRandom(t *testing.T, b *Bundle, rng *rand.Rand) {
	t.Helper()
	for ts := range b.Tensors() {
		p, err := b.Bytes(ts.Name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range p {
			p[i] = byte(rng.Uint32())
			if ts.DType == Bool {
				p[i] &= 1
			}
		}
	}
}

// runPyFile runs testdata/bundle/script with numpy available and returns
// its standard output.
func runPyFile(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	py := needNumpy(t)
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", "bundle", script)}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	return out
}

// numpyBundle is what read_bundle.py prints.
type numpyBundle struct {
	HeaderLen int64             `json:"header_len"`
	FileLen   int64             `json:"file_len"`
	Metadata  map[string]string `json:"metadata"`
	Tensors   map[string]struct {
		DType   string            `json:"dtype"`
		Shape   []int             `json:"shape"`
		Aligned bool              `json:"aligned"`
		Hex     string            `json:"hex"`
		Values  []json.RawMessage `json:"values"`
	} `json:"tensors"`
}

func readWithNumpy(t *testing.T, path string) numpyBundle {
	t.Helper()
	var nb numpyBundle
	if err := json.Unmarshal(runPyFile(t, "read_bundle.py", path), &nb); err != nil {
		t.Fatal(err)
	}
	return nb
}

// halfBits returns the float64 value of IEEE half-precision bits, written
// here independently of the package.
func halfBits(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * frac * math.Pow(2, -24)
	case 31:
		if frac != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * (1 + frac/1024) * math.Pow(2, float64(exp-15))
}

// sameFloat reports whether numpy's float.hex() text is v: both NaN (numpy
// converts to Python floats, which may not keep a payload), or the same
// bits (so -0 is not 0).
func sameFloat(text string, v float64) bool {
	got, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return false
	}
	if math.IsNaN(v) || math.IsNaN(got) {
		return math.IsNaN(v) && math.IsNaN(got)
	}
	return math.Float64bits(got) == math.Float64bits(v)
}

// checkNumpyValue checks element i, as numpy printed it, against the
// little-endian bytes p of the element in Go.
func checkNumpyValue(d DType, raw json.RawMessage, p []byte) error {
	le := binary.LittleEndian
	var ok bool
	switch d {
	case Bool:
		ok = string(raw) == strconv.FormatBool(p[0] != 0)
	case Uint8, Float8E4M3, Float8E5M2:
		ok = string(raw) == strconv.FormatUint(uint64(p[0]), 10)
	case Int8:
		ok = string(raw) == strconv.FormatInt(int64(int8(p[0])), 10)
	case Uint16, BFloat16:
		ok = string(raw) == strconv.FormatUint(uint64(le.Uint16(p)), 10)
	case Int16:
		ok = string(raw) == strconv.FormatInt(int64(int16(le.Uint16(p))), 10)
	case Uint32:
		ok = string(raw) == strconv.FormatUint(uint64(le.Uint32(p)), 10)
	case Int32:
		ok = string(raw) == strconv.FormatInt(int64(int32(le.Uint32(p))), 10)
	case Uint64:
		ok = string(raw) == strconv.FormatUint(le.Uint64(p), 10)
	case Int64:
		ok = string(raw) == strconv.FormatInt(int64(le.Uint64(p)), 10)
	case Float16, Float32, Float64:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		v := map[DType]func() float64{
			Float16: func() float64 { return halfBits(le.Uint16(p)) },
			Float32: func() float64 { return float64(math.Float32frombits(le.Uint32(p))) },
			Float64: func() float64 { return math.Float64frombits(le.Uint64(p)) },
		}[d]()
		ok = sameFloat(s, v)
	case Complex64:
		var s [2]string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		ok = sameFloat(s[0], float64(math.Float32frombits(le.Uint32(p)))) && sameFloat(s[1], float64(math.Float32frombits(le.Uint32(p[4:]))))
	default:
		return fmt.Errorf("no check for %v", d)
	}
	if !ok {
		return fmt.Errorf("numpy reads %s, Go has bytes %x", raw, p)
	}
	return nil
}

// checkNumpyReads checks that numpy read every tensor of b as b holds it:
// dtype, shape, bytes and values.
func checkNumpyReads(t *testing.T, b *Bundle, nb numpyBundle) {
	t.Helper()
	if len(nb.Tensors) != b.Len() {
		t.Fatalf("numpy read %d tensors, the bundle has %d", len(nb.Tensors), b.Len())
	}
	for ts := range b.Tensors() {
		got, ok := nb.Tensors[ts.Name]
		if !ok {
			t.Fatalf("numpy did not read %q", ts.Name)
		}
		p, _ := b.Bytes(ts.Name)
		if got.DType != stName(ts.DType) || !slices.Equal(got.Shape, ts.Shape) || !got.Aligned {
			t.Errorf("%s: numpy read %s %v (aligned %v), want %s %v", ts.Name, got.DType, got.Shape, got.Aligned, stName(ts.DType), ts.Shape)
		}
		if got.Hex != hex.EncodeToString(p) {
			t.Errorf("%s: numpy read bytes %s, Go has %x", ts.Name, got.Hex, p)
		}
		size := ts.DType.Size()
		if len(got.Values)*size != len(p) {
			t.Fatalf("%s: numpy read %d values of %d bytes", ts.Name, len(got.Values), len(p))
		}
		for i, v := range got.Values {
			if err := checkNumpyValue(ts.DType, v, p[i*size:(i+1)*size]); err != nil {
				t.Errorf("%s[%d] (%v): %v", ts.Name, i, ts.DType, err)
			}
		}
	}
}

// numpy reads every tensor of a live bundle, of every element type, 0-d
// and empty ones included, through the documented offsets, in place in
// /dev/shm: the same dtypes, shapes, bytes and values, each view aligned.
func TestBundleNumpyReadsOffsets(t *testing.T) {
	needNumpy(t)
	name := uniqueName(t)
	meta := map[string]string{"version": "1", "note": "written by Go: \u00e9\u4e16"}
	b, err := CreateBundle(name, allDTypeSpecs(), Metadata(meta))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fillRandom(t, b, rand.New(rand.NewPCG(22, 1)))
	// A few values typed views wrote, for good measure.
	f, _ := BundleView[float64](b, "f64")
	f.Set(4.5, 2, 1)
	l, _ := BundleView[int32](b, "i32.scalar")
	l.Set(-3)
	nb := readWithNumpy(t, "/dev/shm/"+name)
	if (8+nb.HeaderLen)%4096 != 0 || nb.FileLen != int64(len(b.Segment().mem)) {
		t.Errorf("header of %d bytes, file of %d: the data does not start at a page", nb.HeaderLen, nb.FileLen)
	}
	if !maps.Equal(nb.Metadata, meta) {
		t.Errorf("numpy read metadata %v, want %v", nb.Metadata, meta)
	}
	checkNumpyReads(t, b, nb)
	if v := nb.Tensors["f64"].Values[2*5+1]; string(v) != `"0x1.2000000000000p+2"` {
		t.Errorf("f64[2,1] reads %s in numpy", v)
	}
	if v := nb.Tensors["i32.scalar"].Values[0]; string(v) != "-3" {
		t.Errorf("i32.scalar reads %s in numpy", v)
	}
}

// A file numpy writes, with an odd header and misaligned tensors in an
// order of its own, imports from a file and from a stream with every
// tensor's dtype, shape and bytes, aligned; numpy then reads the bundle
// back the same.
func TestBundleNumpyWritesImport(t *testing.T) {
	needNumpy(t)
	path := filepath.Join(t.TempDir(), "numpy.safetensors")
	var written map[string]struct {
		DType string `json:"dtype"`
		Shape []int  `json:"shape"`
		Hex   string `json:"hex"`
	}
	if err := json.Unmarshal(runPyFile(t, "write_safetensors.py", path, "22"), &written); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(file); n%2 == 0 {
		t.Fatalf("numpy wrote an even header length %d", n)
	}
	if len(written) != 1+4*len(bundleDTypes) {
		t.Fatalf("numpy wrote %d tensors", len(written))
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
				r = bytes.NewReader(file)
			}
			name := uniqueName(t)
			b, err := ImportBundle(name, r)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if b.Len() != len(written) {
				t.Fatalf("imported %d tensors of %d", b.Len(), len(written))
			}
			if m := b.Metadata(); m["format"] != "pt" || m["writer"] != "numpy \u00e9" {
				t.Errorf("metadata %v", m)
			}
			for k, w := range written {
				ts, ok := b.Lookup(k)
				if !ok {
					t.Fatalf("no tensor %q", k)
				}
				p, _ := b.Bytes(k)
				if stName(ts.DType) != w.DType || !slices.Equal(ts.Shape, w.Shape) || hex.EncodeToString(p) != w.Hex {
					t.Errorf("%s: imported %v %v %x, numpy wrote %s %v %s", k, ts.DType, ts.Shape, p, w.DType, w.Shape, w.Hex)
				}
				if ts.Offset%int64(ts.DType.Size()) != 0 {
					t.Errorf("%s at %d: not aligned", k, ts.Offset)
				}
			}
			// Typed views see the same bits.
			if c, err := BundleView[complex64](b, "c64"); err != nil || !bytes.Equal(viewBytes(c.Data()), mustBytes(b, "c64")) {
				t.Errorf("complex64 view: %v", err)
			}
			if u, err := BundleView[uint64](b, "u64.cube"); err != nil || !bytes.Equal(viewBytes(u.Data()), mustBytes(b, "u64.cube")) {
				t.Errorf("uint64 view: %v", err)
			}
			// And numpy reads the imported bundle, aligned now, as it wrote it.
			checkNumpyReads(t, b, readWithNumpy(t, "/dev/shm/"+name))
		})
	}
}

func mustBytes(b *Bundle, key string) []byte { return must1(b.Bytes(key)) }

// viewBytes returns the bytes of a slice of numbers, little-endian.
func viewBytes[T Number](d []T) []byte {
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, d)
	return buf.Bytes()
}
