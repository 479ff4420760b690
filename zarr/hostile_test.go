package zarr

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor"
)

// importErr imports dir and returns the error, failing the test if the
// import succeeded or left a segment.
func importErr(t *testing.T, dir string) error {
	t.Helper()
	name := "file://" + filepath.Join(t.TempDir(), "dst.npy")
	seg, err := Import(dir, name, nil)
	if err == nil {
		seg.Close()
		t.Fatal("Import succeeded")
	}
	if _, serr := shmtensor.Stat(name); !errors.Is(serr, shmtensor.ErrNotExist) {
		t.Fatalf("a failed import left %s: %v", name, serr)
	}
	return err
}

// TestImportRefusesSpecialFiles: a FIFO or a device in the store is
// refused at once, never waited on (a FIFO without a writer blocks open)
// nor read without end (/dev/zero).
func TestImportRefusesSpecialFiles(t *testing.T) {
	zarray := meta("<f8", "null", "0", "C", "")
	zlibArray := meta("<f8", `{"id": "zlib", "level": 1}`, "0", "C", "")
	for _, c := range []struct {
		name, zarray, file, say string
		fifo                    bool
		target                  string // a symbolic link to it, when not a FIFO
	}{
		{"fifo chunk", zarray, "0.1", "FIFO", true, ""},
		{"fifo .zarray", "", ".zarray", "FIFO", true, ""},
		{"fifo nested chunk", meta("<f8", "null", "0", "C", `, "dimension_separator": "/"`), "1/0", "FIFO", true, ""},
		{".zarray to /dev/zero", "", ".zarray", "outside the store", false, "/dev/zero"},
		{"chunk to /dev/urandom", zlibArray, "0.0", "outside the store", false, "/dev/urandom"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.target != "" {
				if _, err := os.Stat(c.target); err != nil {
					t.Skip(err)
				}
			}
			dir := filepath.Join(t.TempDir(), "s.zarr")
			os.MkdirAll(dir, 0o700)
			if c.zarray != "" {
				os.WriteFile(filepath.Join(dir, ".zarray"), []byte(c.zarray), 0o600)
			}
			p := filepath.Join(dir, filepath.FromSlash(c.file))
			if c.fifo {
				mkfifo(t, p)
			} else if err := os.Symlink(c.target, p); err != nil {
				t.Skip(err)
			}
			err := importErr(t, dir)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.say) {
				t.Fatalf("err = %v, want ErrFormat saying %q", err, c.say)
			}
		})
	}
}

// TestImportSymlinks: links are followed inside the store and refused
// when they lead out of it, for a chunk file and for a key directory.
func TestImportSymlinks(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), le64(7, 7, 7, 7), 0o600)
	os.MkdirAll(filepath.Join(outside, "d"), 0o700)
	os.WriteFile(filepath.Join(outside, "d", "0"), le64(7, 7, 7, 7), 0o600)

	flat := meta("<f8", "null", "0", "C", "")
	nested := meta("<f8", "null", "0", "C", `, "dimension_separator": "/"`)
	for _, c := range []struct {
		name, zarray string
		link, target string // relative to the store, or absolute
		relative     bool   // make an absolute target relative
		ok           bool
	}{
		{"file inside", flat, "1.1", "0.0", false, true},
		{"file outside", flat, "1.1", filepath.Join(outside, "secret"), false, false},
		{"file outside, relative", flat, "1.1", filepath.Join(outside, "secret"), true, false},
		{"directory inside", nested, "1", "0", false, true},
		{"directory outside", nested, "1", filepath.Join(outside, "d"), false, false},
		{"directory outside, relative", nested, "1", filepath.Join(outside, "d"), true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			chunks := map[string][]byte{"0.0": le64(1, 2, 3, 4)}
			if c.zarray == nested {
				chunks = map[string][]byte{"0/0": le64(1, 2, 3, 4)}
			}
			dir := writeStore(t, c.zarray, chunks)
			if c.relative {
				c.target, _ = filepath.Rel(dir, c.target)
			}
			if err := os.Symlink(c.target, filepath.Join(dir, c.link)); err != nil {
				t.Skip(err)
			}
			if !c.ok {
				err := importErr(t, dir)
				if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "outside the store") {
					t.Fatalf("err = %v, want ErrFormat saying the link leads outside the store", err)
				}
				return
			}
			got, _ := shmtensor.View[float64](importTemp(t, dir))
			want := []float64{1, 2, 0, 3, 4, 0, 0, 0, 1}
			if c.zarray == nested {
				want = []float64{1, 2, 0, 3, 4, 0, 1, 2, 0} // 1/0 is 0/0 again
			}
			if !slices.Equal(got.Data(), want) {
				t.Fatalf("got %v, want %v", got.Data(), want)
			}
		})
	}
}

// TestImportMemoryFollowsData: a 4-byte array declared with 256 MiB
// chunks, its one chunk compressed, allocates about what the array
// holds, not the declared chunk (it took 266–522 MiB).
func TestImportMemoryFollowsData(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 256 MiB")
	}
	const chunk = 64 << 20 // int32 elements: 256 MiB
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	one := []byte{42, 0, 0, 0}
	w.Write(one)
	zeros := make([]byte, 1<<20)
	for left := chunk*4 - 4; left > 0; left -= min(left, len(zeros)) {
		w.Write(zeros[:min(left, len(zeros))])
	}
	w.Close()
	dir := writeStore(t, `{"chunks": [67108864], "compressor": {"id": "zlib", "level": 1}, "dtype": "<i4",
		"fill_value": 0, "filters": null, "order": "C", "shape": [1], "zarr_format": 2}`, map[string][]byte{"0": z.Bytes()})

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	seg := importTemp(t, dir)
	runtime.ReadMemStats(&after)
	if !bytes.Equal(seg.Bytes(), one) {
		t.Fatalf("imported % x, want % x", seg.Bytes(), one)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB importing a 4-byte array with a 256 MiB chunk", alloc>>10)
	if alloc > 8<<20 {
		t.Fatalf("allocated %d MiB for a 4-byte array", alloc>>20)
	}
}

// TestImportEdgeRegions: chunks larger than the array, and edge chunks,
// in C and F order, uncompressed (seeking over the padding) and zlib,
// give the values zarr-python would.
func TestImportEdgeRegions(t *testing.T) {
	for _, comp := range []string{"null", `{"id": "zlib", "level": 1}`} {
		for _, order := range []string{"C", "F"} {
			// shape (3, 5), chunks (2, 600000): a chunk of 9.6 MB holding
			// 2×5 elements of the array, the rest padding to skip.
			const cw = 600000
			var chunks = map[string][]byte{}
			for ci := 0; ci < 2; ci++ {
				c := make([]float64, 2*cw)
				for r := 0; r < 2; r++ {
					for col := 0; col < 5; col++ {
						v := float64(10*(2*ci+r) + col)
						if order == "C" {
							c[r*cw+col] = v
						} else {
							c[col*2+r] = v
						}
					}
				}
				raw := le64(c...)
				if comp != "null" {
					var z bytes.Buffer
					w := zlib.NewWriter(&z)
					w.Write(raw)
					w.Close()
					raw = z.Bytes()
				}
				chunks[string(rune('0'+ci))+".0"] = raw
			}
			dir := writeStore(t, `{"chunks": [2, 600000], "compressor": `+comp+`, "dtype": "<f8", "fill_value": -1,
				"filters": null, "order": "`+order+`", "shape": [3, 5], "zarr_format": 2}`, chunks)
			got, _ := shmtensor.View[float64](importTemp(t, dir))
			want := []float64{0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24}
			if !slices.Equal(got.Data(), want) {
				t.Errorf("%s, order %s: got %v, want %v", comp, order, got.Data(), want)
			}
		}
	}
}

// TestDecodeStopsWithinChunk: a cancelled context stops the read of a
// chunk, not only the next chunk.
func TestDecodeStopsWithinChunk(t *testing.T) {
	a, err := ParseArray([]byte(`{"chunks": [1048576], "compressor": null, "dtype": "<f8", "fill_value": 0,
		"filters": null, "order": "C", "shape": [1048576], "zarr_format": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "0")
	os.WriteFile(p, make([]byte, a.ChunkBytes()), 0o600)
	f, _ := os.Open(p)
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = a.decode(ctx, f, int64(a.ChunkBytes()), a.Shape(), newChunkBuf(a.ChunkBytes()))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("decode with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestImportListsOnce: present finds exactly the chunk files, flat and
// nested, ignoring names that are not keys of the grid.
func TestImportListsOnce(t *testing.T) {
	flat := writeStore(t, meta("<f8", "null", "0", "C", ""), map[string][]byte{
		"0.1": nil, "1.1": nil, "2.0": nil, "01.1": nil, "x": nil, ".zattrs": nil})
	nested := writeStore(t, meta("<f8", "null", "0", "C", `, "dimension_separator": "/"`), map[string][]byte{
		"0/1": nil, "1/0": nil, "1/5": nil, "2/0": nil, "x/0": nil})
	os.WriteFile(filepath.Join(nested, "0", "0.0"), nil, 0o600)
	for _, c := range []struct {
		dir  string
		want []int
	}{{flat, []int{1, 3}}, {nested, []int{1, 2}}} {
		s, err := openStore(c.dir)
		if err != nil {
			t.Fatal(err)
		}
		a, err := readArray(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.present(context.Background(), a)
		s.Close()
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: present = %v, %v; want %v", c.dir, got, err, c.want)
		}
	}
}

// BenchmarkImportMissingChunks imports an array of 1 Mi chunks, all
// missing: a listing, not a million failed opens.
func BenchmarkImportMissingChunks(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "s.zarr")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, ".zarray"), []byte(`{"chunks": [1], "compressor": null, "dtype": "<f4",
		"fill_value": 0, "filters": null, "order": "C", "shape": [1048576], "zarr_format": 2}`), 0o600)
	for b.Loop() {
		name := "file://" + filepath.Join(b.TempDir(), "dst.npy")
		seg, err := Import(dir, name, nil)
		if err != nil {
			b.Fatal(err)
		}
		seg.Close()
	}
}

// FuzzParseArray: any document is parsed or refused without a panic, and
// one that is accepted reads back the same from what MarshalJSON writes.
func FuzzParseArray(f *testing.F) {
	f.Add([]byte(meta("<f8", "null", "0", "C", "")))
	f.Add([]byte(meta(">i2", `{"id": "zlib", "level": 5}`, "-3", "F", `, "dimension_separator": "/"`)))
	f.Add([]byte(meta("<c16", `{"id": "gzip"}`, "[1.5, \"NaN\"]", "C", `, "dimension_separator": null`)))
	f.Add([]byte(meta("|b1", "null", "true", "C", "") + " x"))
	f.Add([]byte(`{"chunks": [], "compressor": null, "dtype": "<f2", "fill_value": "Infinity", "filters": [], "order": "C", "shape": [], "zarr_format": 2}`))
	f.Add([]byte(`{"chunks": [1, 1], "dtype": "<u8", "shape": [9223372036854775807, 9223372036854775807], "order": "C", "zarr_format": 2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseArray(data)
		if err != nil {
			return
		}
		b, err := a.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON of an accepted array: %v", err)
		}
		a2, err := ParseArray(b)
		if err != nil {
			t.Fatalf("ParseArray of its own %s: %v", b, err)
		}
		if !slices.Equal(a.Shape(), a2.Shape()) || !slices.Equal(a.Chunks(), a2.Chunks()) || a.DType() != a2.DType() ||
			a.Compressor() != a2.Compressor() || a.Fortran() != a2.Fortran() || a.DimensionSeparator() != a2.DimensionSeparator() ||
			!bytes.Equal(a.fill, a2.fill) || a.NumChunks() != a2.NumChunks() {
			t.Fatalf("%s read back as %s", data, b)
		}
	})
}
