package zarr

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor"
)

var allDTypes = []shmtensor.DType{shmtensor.Bool, shmtensor.Int8, shmtensor.Int16, shmtensor.Int32, shmtensor.Int64,
	shmtensor.Uint8, shmtensor.Uint16, shmtensor.Uint32, shmtensor.Uint64, shmtensor.Float16,
	shmtensor.Float32, shmtensor.Float64, shmtensor.Complex64, shmtensor.Complex128}

// fileSeg creates a file:// segment in a temporary directory filled with
// values valid for its type (0 or 1 for bool, no NaN payload surprises).
func fileSeg(t testing.TB, dt shmtensor.DType, shape []int, seed uint64) *shmtensor.Segment {
	t.Helper()
	name := "file://" + filepath.Join(t.TempDir(), "src.npy")
	seg, err := shmtensor.CreateSegment(name, dt, shape)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	fillValues(seg.Bytes(), dt, seed)
	return seg
}

func fillValues(b []byte, dt shmtensor.DType, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	switch dt {
	case shmtensor.Bool:
		for i := range b {
			b[i] = byte(r.IntN(2))
		}
	case shmtensor.Float16:
		for i := 0; i+2 <= len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], float16Bits(float64(r.IntN(2000)-1000)/8))
		}
	case shmtensor.Float32, shmtensor.Complex64:
		for i := 0; i+4 <= len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], math.Float32bits(float32(r.NormFloat64())))
		}
	case shmtensor.Float64, shmtensor.Complex128:
		for i := 0; i+8 <= len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], math.Float64bits(r.NormFloat64()))
		}
	default:
		for i := range b {
			b[i] = byte(r.Uint32())
		}
	}
}

func importTemp(t testing.TB, dir string) *shmtensor.Segment {
	t.Helper()
	name := "file://" + filepath.Join(t.TempDir(), "dst.npy")
	seg, err := Import(dir, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	return seg
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		shape, chunks []int
		comp          Compressor
		sep           string
	}{
		{[]int{5, 7}, []int{2, 3}, Compressor{}, ""},
		{[]int{5, 7}, []int{2, 3}, Zlib(1), "/"},
		{[]int{4, 6}, []int{4, 6}, Gzip(6), ""},
		{[]int{3, 4, 5}, []int{2, 3, 4}, Zlib(9), ""},
		{[]int{}, []int{}, Compressor{}, ""},
		{[]int{}, []int{}, Gzip(1), ""},
		{[]int{0, 5}, []int{1, 5}, Compressor{}, ""},
		{[]int{10}, []int{20}, Zlib(0), ""}, // one chunk larger than the array
		{[]int{7, 1}, []int{-1, -1}, Compressor{}, "/"},
	}
	for _, dt := range allDTypes {
		for i, c := range cases {
			t.Run(fmt.Sprintf("%v/%d", dt, i), func(t *testing.T) {
				src := fileSeg(t, dt, c.shape, uint64(i))
				dir := filepath.Join(t.TempDir(), "a.zarr")
				if err := Write(dir, src, &Options{Chunks: c.chunks, Compressor: c.comp, DimensionSeparator: c.sep, Workers: 3}); err != nil {
					t.Fatal(err)
				}
				a, err := ReadArray(dir)
				if err != nil {
					t.Fatal(err)
				}
				if a.DType() != dt || !slices.Equal(a.Shape(), c.shape) || a.Compressor() != c.comp {
					t.Fatalf("read back %v %v %v", a.DType(), a.Shape(), a.Compressor())
				}
				files := countChunkFiles(t, dir)
				if files != a.NumChunks() {
					t.Fatalf("%d chunk files, want %d", files, a.NumChunks())
				}
				dst := importTemp(t, dir)
				if dst.DType() != dt || !slices.Equal(dst.Shape(), c.shape) {
					t.Fatalf("imported %v %v", dst.DType(), dst.Shape())
				}
				if !bytes.Equal(dst.Bytes(), src.Bytes()) {
					t.Fatal("imported data differs")
				}
			})
		}
	}
}

// countChunkFiles counts the files under dir other than .zarray.
func countChunkFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != ".zarray" {
			n++
		}
		return err
	})
	return n
}

func TestEdgeChunksPadded(t *testing.T) {
	src := fileSeg(t, shmtensor.Int16, []int{5, 3}, 1)
	dir := filepath.Join(t.TempDir(), "a.zarr")
	if err := Write(dir, src, &Options{Chunks: []int{2, 2}}); err != nil {
		t.Fatal(err)
	}
	// Chunk 2.1 covers row 4, column 2 only; the rest is zero padding.
	b, err := os.ReadFile(filepath.Join(dir, "2.1"))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 8)
	copy(want, src.Bytes()[(4*3+2)*2:])
	if !bytes.Equal(b, want) {
		t.Fatalf("edge chunk %v, want %v", b, want)
	}
}

func TestWriteTensorStrided(t *testing.T) {
	base := shmtensor.New[float64](6, 8)
	for i := range base.Data() {
		base.Data()[i] = float64(i)
	}
	tr, _ := base.Transpose()
	v, err := tr.Slice(shmtensor.Range{Start: 1, Stop: 8, Step: 2}, shmtensor.Reverse())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "v.zarr")
	if err := WriteTensor(dir, v, &Options{Chunks: []int{3, 4}, Compressor: Zlib(1)}); err != nil {
		t.Fatal(err)
	}
	got, err := shmtensor.View[float64](importTemp(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Data(), v.Clone().Data()) {
		t.Fatalf("got %v, want %v", got.Data(), v.Clone().Data())
	}
}

// TestWriteFortranSegment: a column-major segment is stored in C order
// with the same values at the same indices.
func TestWriteFortranSegment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.npy")
	hdr := "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }"
	hdr += strings.Repeat(" ", 64-(10+len(hdr)+1)%64) + "\n"
	var file bytes.Buffer
	file.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&file, binary.LittleEndian, uint16(len(hdr)))
	file.WriteString(hdr)
	for _, v := range []int32{0, 10, 1, 11, 2, 12} { // a[i, j] = 10i + j, column-major
		binary.Write(&file, binary.LittleEndian, v)
	}
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	seg, err := shmtensor.Open("file://"+path, shmtensor.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	dir := filepath.Join(t.TempDir(), "f.zarr")
	if err := Write(dir, seg, &Options{Chunks: []int{1, 2}}); err != nil {
		t.Fatal(err)
	}
	got, _ := shmtensor.View[int32](importTemp(t, dir))
	if want := []int32{0, 1, 2, 10, 11, 12}; !slices.Equal(got.Data(), want) {
		t.Fatalf("got %v, want %v", got.Data(), want)
	}
}

func TestWriteRefusesExisting(t *testing.T) {
	src := fileSeg(t, shmtensor.Uint8, []int{4}, 1)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep"), []byte("mine"), 0o600)
	err := Write(dir, src, nil)
	if !errors.Is(err, shmtensor.ErrExist) || !errors.Is(err, os.ErrExist) {
		t.Fatalf("err = %v, want ErrExist", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keep")); string(b) != "mine" {
		t.Fatal("Write touched an existing file")
	}
	// An empty directory is taken.
	empty := t.TempDir()
	if err := Write(empty, src, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(empty, ".zarray")); err != nil {
		t.Fatal(err)
	}
}

func TestWriteBadOptions(t *testing.T) {
	src := fileSeg(t, shmtensor.Float32, []int{4, 4}, 1)
	for _, o := range []Options{
		{Chunks: []int{2}},
		{Chunks: []int{0, 2}},
		{Chunks: []int{2, -2}},
		{Compressor: Compressor{ID: "blosc"}},
		{Compressor: Zlib(10)},
		{DimensionSeparator: "_"},
	} {
		dir := filepath.Join(t.TempDir(), "x.zarr")
		err := Write(dir, src, &o)
		var ze *Error
		if !errors.As(err, &ze) || ze.Path != dir {
			t.Errorf("%+v: err = %v, want *Error naming %s", o, err, dir)
		}
		if _, serr := os.Stat(dir); serr == nil {
			t.Errorf("%+v: the directory was created", o)
		}
	}
}

// TestWriteCleansUp: a write that fails halfway leaves no store behind.
func TestWriteCleansUp(t *testing.T) {
	src := fileSeg(t, shmtensor.Uint8, []int{64, 64}, 1)
	dir := filepath.Join(t.TempDir(), "x.zarr")
	opts := &Options{Chunks: []int{8, 8}, Workers: 1, Progress: func(done, total int) {
		if done == 10 {
			// Chunks go in order with one worker: make chunk 11's file
			// impossible to create.
			os.WriteFile(filepath.Join(dir, "1.3"), nil, 0o600)
		}
	}}
	err := Write(dir, src, opts)
	if err == nil {
		t.Fatal("Write succeeded over an existing chunk file")
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("the error does not name the store: %v", err)
	}
	if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
		t.Fatalf("store left behind after %v", err)
	}
}

func writeStore(t *testing.T, zarray string, chunks map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "s.zarr")
	os.MkdirAll(dir, 0o700)
	if err := os.WriteFile(filepath.Join(dir, ".zarray"), []byte(zarray), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range chunks {
		p := filepath.Join(dir, filepath.FromSlash(k))
		os.MkdirAll(filepath.Dir(p), 0o700)
		os.WriteFile(p, v, 0o600)
	}
	return dir
}

func meta(dtype, compressor, fill, order, extra string) string {
	return fmt.Sprintf(`{"chunks": [2, 2], "compressor": %s, "dtype": %q, "fill_value": %s, "filters": null,
		"order": %q, "shape": [3, 3], "zarr_format": 2%s}`, compressor, dtype, fill, order, extra)
}

func le64(vs ...float64) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

func TestImportMissingChunksAndOrders(t *testing.T) {
	nan := math.NaN()
	// Chunk 0.0 in F order: elements (0,0),(1,0),(0,1),(1,1). Chunks 0.1
	// and 1.0 missing (NaN), chunk 1.1 big-endian in the second store.
	dir := writeStore(t, meta("<f8", "null", `"NaN"`, "F", `, "dimension_separator": "/"`), map[string][]byte{
		"0/0": le64(1, 2, 3, 4),
		"1/1": le64(9, 0, 0, 0),
	})
	got, _ := shmtensor.View[float64](importTemp(t, dir))
	want := []float64{1, 3, nan, 2, 4, nan, nan, nan, 9}
	for i, w := range want {
		if g := got.Data()[i]; g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
			t.Fatalf("got %v, want %v", got.Data(), want)
		}
	}

	var be bytes.Buffer
	binary.Write(&be, binary.BigEndian, []float64{1, 2, 3, 4})
	dir = writeStore(t, meta(">f8", "null", "-1.5", "C", ""), map[string][]byte{"0.0": be.Bytes()})
	got, _ = shmtensor.View[float64](importTemp(t, dir))
	if w := []float64{1, 2, -1.5, 3, 4, -1.5, -1.5, -1.5, -1.5}; !slices.Equal(got.Data(), w) {
		t.Fatalf("big-endian: got %v, want %v", got.Data(), w)
	}
}

func TestImportFillValues(t *testing.T) {
	for _, c := range []struct {
		dtype, fill string
		want        []byte
	}{
		{"|b1", "true", []byte{1}},
		{"|i1", "-3", []byte{0xfd}},
		{"<u2", "513", []byte{1, 2}},
		{"<i8", "null", make([]byte, 8)},
		{"<f2", "1.5", []byte{0x00, 0x3e}},
		{"<f2", `"-Infinity"`, []byte{0x00, 0xfc}},
		{"<f4", "0.0", make([]byte, 4)},
		// NaN as numpy writes it: the quiet NaN without payload.
		{"<f8", `"NaN"`, binary.LittleEndian.AppendUint64(nil, 0x7ff8000000000000)},
		{"<f4", `"NaN"`, binary.LittleEndian.AppendUint32(nil, 0x7fc00000)},
		{"<f2", `"NaN"`, []byte{0x00, 0x7e}},
		{"<c16", `["NaN", "NaN"]`, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 0x7ff8000000000000), 0x7ff8000000000000)},
		{"<c8", "[1.0, -2.0]", append(binary.LittleEndian.AppendUint32(nil, math.Float32bits(1)), binary.LittleEndian.AppendUint32(nil, math.Float32bits(-2))...)},
	} {
		dir := writeStore(t, meta(c.dtype, "null", c.fill, "C", ""), nil)
		seg := importTemp(t, dir)
		b := seg.Bytes()
		for i := 0; i < len(b); i += len(c.want) {
			if !bytes.Equal(b[i:i+len(c.want)], c.want) {
				t.Fatalf("%s fill %s: element %d is %v, want %v", c.dtype, c.fill, i/len(c.want), b[i:i+len(c.want)], c.want)
			}
		}
	}
}

func TestFloat16Bits(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want uint16
	}{
		{0, 0}, {math.Copysign(0, -1), 0x8000}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff},
		{65519, 0x7bff}, {65520, 0x7c00}, {0x1p-24, 1}, {0x1p-25, 0}, {0x1.8p-25, 1},
		{0x1p-14, 0x0400}, {1 + 0x1p-11, 0x3c00}, {1 + 0x3p-11, 0x3c02}, {math.Inf(-1), 0xfc00},
	} {
		if got := float16Bits(c.f); got != c.want {
			t.Errorf("float16Bits(%v) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
	if got := float16Bits(math.NaN()); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
		t.Errorf("NaN = %#04x", got)
	}
}

func TestImportErrors(t *testing.T) {
	zchunk := func(b []byte) []byte {
		var buf bytes.Buffer
		w := zlib.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	gzchunk := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	good := zchunk(le64(1, 2, 3, 4))
	corrupt := slices.Clone(good)
	corrupt[len(corrupt)-1] ^= 0xff // the Adler-32 checksum
	cases := []struct {
		name, zarray string
		chunks       map[string][]byte
		want         error
		say          string
	}{
		{"blosc", meta("<f8", `{"id": "blosc", "cname": "lz4"}`, "0", "C", ""), nil, ErrCodec, `"blosc"`},
		{"filters", strings.Replace(meta("<f8", "null", "0", "C", ""), `"filters": null`, `"filters": [{"id": "delta"}]`, 1), nil, ErrCodec, `"delta"`},
		{"order", meta("<f8", "null", "0", "X", ""), nil, ErrFormat, "order"},
		{"dtype", meta("<U4", "null", "0", "C", ""), nil, shmtensor.ErrDType, "<U4"},
		{"structured", strings.Replace(meta("<f8", "null", "0", "C", ""), `"<f8"`, `[["a", "<f8"]]`, 1), nil, shmtensor.ErrDType, "structured"},
		{"version", strings.Replace(meta("<f8", "null", "0", "C", ""), `"zarr_format": 2`, `"zarr_format": 3`, 1), nil, ErrFormat, "zarr_format 3"},
		{"json", `{"zarr_format": 2,`, nil, ErrFormat, ".zarray"},
		{"fill", meta("<i2", "null", "70000", "C", ""), nil, ErrFormat, "fill_value"},
		{"chunks", strings.Replace(meta("<f8", "null", "0", "C", ""), `"chunks": [2, 2]`, `"chunks": [2, 0]`, 1), nil, shmtensor.ErrShape, "chunks"},
		{"short chunk", meta("<f8", "null", "0", "C", ""), map[string][]byte{"1.1": le64(1, 2, 3)}, ErrFormat, "1.1"},
		{"long chunk", meta("<f8", "null", "0", "C", ""), map[string][]byte{"0.0": le64(1, 2, 3, 4, 5)}, ErrFormat, "more than"},
		{"zlib checksum", meta("<f8", `{"id": "zlib", "level": 1}`, "0", "C", ""), map[string][]byte{"0.0": corrupt}, ErrFormat, "0.0"},
		{"zlib garbage", meta("<f8", `{"id": "zlib", "level": 1}`, "0", "C", ""), map[string][]byte{"0.1": []byte("nonsense")}, ErrFormat, "zlib"},
		{"gzip of zlib", meta("<f8", `{"id": "gzip", "level": 1}`, "0", "C", ""), map[string][]byte{"0.0": good}, ErrFormat, "gzip"},
		// Malformed input zarr-python refuses too.
		{"trailing garbage", meta("<f8", "null", "0", "C", "") + "\n}garbage", nil, ErrFormat, "after the JSON document"},
		{"two documents", meta("<f8", "null", "0", "C", "") + `{"zarr_format": 2}`, nil, ErrFormat, "after the JSON document"},
		{"empty separator", meta("<f8", "null", "0", "C", `, "dimension_separator": ""`), nil, ErrFormat, `dimension_separator ""`},
		{"separator", meta("<f8", "null", "0", "C", `, "dimension_separator": "_"`), nil, ErrFormat, `dimension_separator "_"`},
		{"huge .zarray", meta("<f8", "null", "0", "C", "") + strings.Repeat(" ", MaxMetadataBytes), nil, ErrFormat, "larger than"},
		// numcodecs' Zlib, through Python's zlib.decompress, ignores
		// bytes after the stream; they are corruption, and refused.
		{"after zlib", meta("<f8", `{"id": "zlib", "level": 1}`, "0", "C", ""), map[string][]byte{"0.0": append(slices.Clone(good), 0, 1, 2)}, ErrFormat, "after the end of the zlib stream"},
		{"after gzip", meta("<f8", `{"id": "gzip", "level": 1}`, "0", "C", ""), map[string][]byte{"0.0": append(gzchunk(le64(1, 2, 3, 4)), "trailing garbage"...)}, ErrFormat, "0.0"},
		{"zlib too long", meta("<f8", `{"id": "zlib", "level": 1}`, "0", "C", ""), map[string][]byte{"1.0": zchunk(le64(1, 2, 3, 4, 5))}, ErrFormat, "more than 32"},
		{"zlib too short", meta("<f8", `{"id": "zlib", "level": 1}`, "0", "C", ""), map[string][]byte{"1.0": zchunk(le64(1, 2, 3))}, ErrFormat, "fewer bytes"},
		{"zlib file too large", meta("<f8", `{"id": "zlib", "level": 1}`, "0", "C", ""), map[string][]byte{"1.1": append(slices.Clone(good), make([]byte, 70<<10)...)}, ErrFormat, "larger than any encoding"},
		{"edge chunk long", meta("<f8", "null", "0", "C", ""), map[string][]byte{"1.1": le64(1, 2, 3, 4, 5)}, ErrFormat, "more than"},
		{"edge chunk zlib short", meta("<f8", `{"id": "zlib", "level": 1}`, "0", "C", ""), map[string][]byte{"1.1": zchunk(le64(1, 2, 3))}, ErrFormat, "fewer bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeStore(t, c.zarray, c.chunks)
			name := "file://" + filepath.Join(t.TempDir(), "dst.npy")
			seg, err := Import(dir, name, nil)
			if err == nil {
				seg.Close()
				t.Fatal("Import succeeded")
			}
			var ze *Error
			if !errors.Is(err, c.want) || !errors.As(err, &ze) || !strings.Contains(err.Error(), c.say) {
				t.Fatalf("err = %v, want %v mentioning %s", err, c.want, c.say)
			}
			if _, serr := shmtensor.Stat(name); !errors.Is(serr, shmtensor.ErrNotExist) {
				t.Fatalf("a failed import left %s: %v", name, serr)
			}
		})
	}
	// A directory without .zarray, and a group.
	_, err := Import(t.TempDir(), "file://"+filepath.Join(t.TempDir(), "x.npy"), nil)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), ".zarray") {
		t.Fatalf("no .zarray: %v", err)
	}
	g := t.TempDir()
	os.WriteFile(filepath.Join(g, ".zgroup"), []byte(`{"zarr_format": 2}`), 0o600)
	if _, err = ReadArray(g); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "group") {
		t.Fatalf("group: %v", err)
	}
}

func TestImportRefusesExistingName(t *testing.T) {
	src := fileSeg(t, shmtensor.Uint8, []int{4}, 1)
	dir := filepath.Join(t.TempDir(), "a.zarr")
	if err := Write(dir, src, nil); err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(src.Bytes())
	_, err := Import(dir, src.Name(), nil)
	if !errors.Is(err, shmtensor.ErrExist) {
		t.Fatalf("err = %v, want ErrExist", err)
	}
	if !bytes.Equal(src.Bytes(), before) {
		t.Fatal("the existing segment changed")
	}
	if _, err := shmtensor.Stat(src.Name()); err != nil {
		t.Fatalf("the existing segment is gone: %v", err)
	}
}

func TestChunkKeys(t *testing.T) {
	a, err := NewArray(shmtensor.Float64, []int{10, 5}, &Options{Chunks: []int{3, 5}})
	if err != nil {
		t.Fatal(err)
	}
	if g := a.Grid(); !slices.Equal(g, []int{4, 1}) || a.NumChunks() != 4 || a.ChunkBytes() != 120 {
		t.Fatalf("grid %v, %d chunks of %d bytes", g, a.NumChunks(), a.ChunkBytes())
	}
	for _, k := range []string{"3.0", "0.0"} {
		if idx, err := a.ParseChunkKey(k); err != nil || a.ChunkKey(idx) != k {
			t.Errorf("%q: %v %v", k, idx, err)
		}
	}
	for _, k := range []string{"", "4.0", "0.1", "0", "0.0.0", "00.0", "-0.0", "+1.0", "1/0", "1.0 ", "a.0", "99999999999999999999.0", "0..0"} {
		if _, err := a.ParseChunkKey(k); !errors.Is(err, ErrChunkKey) {
			t.Errorf("%q: err = %v, want ErrChunkKey", k, err)
		}
	}
	s, _ := NewArray(shmtensor.Int8, nil, nil)
	if idx, err := s.ParseChunkKey("0"); err != nil || len(idx) != 0 || s.ChunkKey(idx) != "0" || s.NumChunks() != 1 {
		t.Errorf("0-d: %v %v", idx, err)
	}
	e, _ := NewArray(shmtensor.Int8, []int{0, 3}, nil)
	if e.NumChunks() != 0 {
		t.Errorf("empty array has %d chunks", e.NumChunks())
	}
	if _, err := e.ParseChunkKey("0.0"); !errors.Is(err, ErrChunkKey) {
		t.Errorf("empty array key: %v", err)
	}
}

func TestDefaultChunks(t *testing.T) {
	for _, c := range []struct {
		shape []int
		elem  int
		want  []int
	}{
		{[]int{1000, 1000}, 8, []int{500, 1000}},  // 8 MB → 4 MB
		{[]int{100}, 8, []int{100}},               // small: one chunk
		{[]int{0, 7}, 4, []int{1, 7}},             // empty axes get chunk 1
		{[]int{1 << 30}, 1, []int{1 << 22}},       // 1 GiB → 4 MiB
		{[]int{3, 1 << 21}, 8, []int{1, 1 << 19}}, // rows first, then the row
		{[]int{16384, 8192}, 8, []int{64, 8192}},  // whole rows: contiguous chunks
		{[]int{1 << 20, 1 << 20}, 16, []int{1, 1 << 18}},
		{[]int{}, 8, []int{}},
		// Halving math.MaxInt must not overflow.
		{[]int{0, math.MaxInt}, 1, []int{1, 1 << 22}},
		{[]int{math.MaxInt, 0}, 1, []int{1 << 22, 1}},
	} {
		got := defaultChunks(c.shape, c.elem)
		if !slices.Equal(got, c.want) {
			t.Errorf("defaultChunks(%v, %d) = %v, want %v", c.shape, c.elem, got, c.want)
		}
		n := c.elem
		for _, x := range got {
			n *= x
		}
		if n > DefaultChunkBytes {
			t.Errorf("defaultChunks(%v, %d): %d bytes", c.shape, c.elem, n)
		}
	}
}

// TestHugeEmptyShapes: an empty array may have axes near math.MaxInt (numpy
// allows (0, 2**63-1) of int8); its chunks and grid are computed without
// overflowing.
func TestHugeEmptyShapes(t *testing.T) {
	for _, shape := range [][]int{{0, math.MaxInt}, {math.MaxInt, 0}, {0, math.MaxInt - 1, 1}} {
		a, err := NewArray(shmtensor.Int8, shape, nil)
		if err != nil {
			t.Errorf("NewArray(int8, %v): %v", shape, err)
			continue
		}
		for i, c := range a.Chunks() {
			if c < 1 || c > max(shape[i], 1) {
				t.Errorf("NewArray(int8, %v): chunks %v", shape, a.Chunks())
			}
		}
		for i, g := range a.Grid() {
			if want := (shape[i] + a.Chunks()[i] - 1) / a.Chunks()[i]; shape[i] < math.MaxInt-a.Chunks()[i] && g != want {
				t.Errorf("NewArray(int8, %v): grid %v", shape, a.Grid())
			}
			if g < 0 {
				t.Errorf("NewArray(int8, %v): grid %v", shape, a.Grid())
			}
		}
		if a.NumChunks() != 0 {
			t.Errorf("NewArray(int8, %v): %d chunks, want 0", shape, a.NumChunks())
		}
	}
	a, err := NewArray(shmtensor.Int8, []int{0, math.MaxInt}, &Options{Chunks: []int{1, 3}})
	if err != nil || a.Grid()[1] != math.MaxInt/3+1 {
		t.Errorf("chunks (1, 3) of (0, MaxInt): grid %v, %v", a.Grid(), err)
	}
}

func TestParseCompressor(t *testing.T) {
	for s, want := range map[string]Compressor{"none": {}, "zlib": Zlib(1), "gzip:9": Gzip(9), "zlib:0": Zlib(0)} {
		if got, err := ParseCompressor(s); err != nil || got != want {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"blosc", "zlib:x", "gzip:12", "none:1", "zstd"} {
		if _, err := ParseCompressor(s); !errors.Is(err, ErrCodec) {
			t.Errorf("%q: err = %v", s, err)
		}
	}
}

func TestReadChunkLive(t *testing.T) {
	src := fileSeg(t, shmtensor.Uint16, []int{5, 3}, 1)
	a, _ := NewArray(src.DType(), src.Shape(), &Options{Chunks: []int{2, 2}})
	dir := filepath.Join(t.TempDir(), "a.zarr")
	Write(dir, src, &Options{Chunks: []int{2, 2}})
	buf := make([]byte, a.ChunkBytes()+1)[1:] // misaligned on purpose
	for _, key := range []string{"0.0", "2.1", "1.1"} {
		idx, _ := a.ParseChunkKey(key)
		if err := a.ReadChunk(buf, src, idx); err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(filepath.Join(dir, key))
		if !bytes.Equal(buf, want) {
			t.Fatalf("%s: %v, want %v", key, buf, want)
		}
	}
	if err := a.ReadChunk(buf, src, []int{3, 0}); !errors.Is(err, ErrChunkKey) {
		t.Fatalf("outside the grid: %v", err)
	}
	other := fileSeg(t, shmtensor.Uint16, []int{5, 4}, 1)
	if err := a.ReadChunk(buf, other, []int{0, 0}); !errors.Is(err, shmtensor.ErrShape) {
		t.Fatalf("other shape: %v", err)
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, comp := range []Compressor{{}, Zlib(1)} {
		b.Run(comp.String(), func(b *testing.B) {
			src := fileSeg(b, shmtensor.Float64, []int{2048, 2048}, 1)
			b.SetBytes(int64(len(src.Bytes())))
			root := b.TempDir()
			i := 0
			for b.Loop() {
				dir := filepath.Join(root, fmt.Sprint(i))
				i++
				if err := Write(dir, src, &Options{Compressor: comp}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.RemoveAll(dir)
				b.StartTimer()
			}
		})
	}
}

func TestContextStops(t *testing.T) {
	src := fileSeg(t, shmtensor.Uint8, []int{64, 64}, 1)
	dir := filepath.Join(t.TempDir(), "x.zarr")
	ctx, cancel := context.WithCancel(context.Background())
	err := Write(dir, src, &Options{Chunks: []int{8, 8}, Workers: 1, Context: ctx, Progress: func(done, total int) {
		if done == 5 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
		t.Fatal("a cancelled Write left its store")
	}
	if err := Write(dir, src, &Options{Chunks: []int{8, 8}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	name := "file://" + filepath.Join(t.TempDir(), "y.npy")
	_, err = Import(dir, name, &ImportOptions{Workers: 1, Context: ctx, Progress: func(done, total int) {
		if done == 5 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, serr := shmtensor.Stat(name); !errors.Is(serr, shmtensor.ErrNotExist) {
		t.Fatal("a cancelled Import left its segment")
	}
}

func TestClosedSegment(t *testing.T) {
	src := fileSeg(t, shmtensor.Float64, []int{4}, 1)
	x, _ := shmtensor.View[float64](src)
	src.Close()
	dir := filepath.Join(t.TempDir(), "x.zarr")
	if err := Write(dir, src, nil); !errors.Is(err, shmtensor.ErrClosed) {
		t.Errorf("Write: %v", err)
	}
	if err := WriteTensor(dir, x, nil); !errors.Is(err, shmtensor.ErrClosed) {
		t.Errorf("WriteTensor: %v", err)
	}
	a, _ := NewArray(shmtensor.Float64, []int{4}, nil)
	if err := a.ReadChunk(make([]byte, a.ChunkBytes()), src, []int{0}); !errors.Is(err, shmtensor.ErrClosed) {
		t.Errorf("ReadChunk: %v", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("Write of a closed segment made a store")
	}
}

// TestImportPublishesComplete: while chunks are decoded the name does not
// exist; it appears with the data complete.
func TestImportPublishesComplete(t *testing.T) {
	src := fileSeg(t, shmtensor.Int64, []int{40, 10}, 3)
	dir := filepath.Join(t.TempDir(), "x.zarr")
	if err := Write(dir, src, &Options{Chunks: []int{4, 10}}); err != nil {
		t.Fatal(err)
	}
	name := "file://" + filepath.Join(t.TempDir(), "y.npy")
	visible := 0
	seg, err := Import(dir, name, &ImportOptions{Workers: 2, Progress: func(done, total int) {
		if _, err := shmtensor.Stat(name); !errors.Is(err, shmtensor.ErrNotExist) {
			visible++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	if visible != 0 {
		t.Fatalf("the name was visible during %d of 10 chunks", visible)
	}
	got, err := shmtensor.Open(name, shmtensor.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if !bytes.Equal(got.Bytes(), src.Bytes()) {
		t.Fatal("the published segment differs")
	}
}
