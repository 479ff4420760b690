package zarr_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/zarr"
)

// Write a tensor as a Zarr v2 store that zarr-python, Dask and xarray read,
// and import it back into a new segment.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	x, err := shmtensor.Create[float32]("file://"+filepath.Join(dir, "x.npy"), []int{5, 4})
	if err != nil {
		log.Fatal(err)
	}
	defer x.Close()
	for i := range x.Data() {
		x.Data()[i] = float32(i)
	}

	store := filepath.Join(dir, "x.zarr")
	err = zarr.Write(store, x.Segment(), &zarr.Options{Chunks: []int{2, 4}, Compressor: zarr.Zlib(1)})
	if err != nil {
		log.Fatal(err)
	}
	a, err := zarr.ReadArray(store)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.DType(), a.Shape(), a.Chunks(), a.NumChunks(), "chunks,", a.Compressor())

	seg, err := zarr.Import(store, "file://"+filepath.Join(dir, "y.npy"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	y, _ := shmtensor.View[float32](seg)
	fmt.Println(y.At(4, 3))
	// Output:
	// float32 [5 4] [2 4] 3 chunks, zlib:1
	// 19
}

// WriteTensor stores any view: here every other column of a transpose.
func ExampleWriteTensor() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	m := shmtensor.New[int64](3, 4)
	for i := range m.Data() {
		m.Data()[i] = int64(i)
	}
	t, _ := m.Transpose()
	v, _ := t.Slice(shmtensor.Every(2))
	if err := zarr.WriteTensor(filepath.Join(dir, "v.zarr"), v, nil); err != nil {
		log.Fatal(err)
	}
	seg, err := zarr.Import(filepath.Join(dir, "v.zarr"), "file://"+filepath.Join(dir, "v.npy"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	got, _ := shmtensor.View[int64](seg)
	fmt.Println(got.Shape(), got.Data())
	// Output: [2 3] [0 4 8 2 6 10]
}

// Import names the codec it cannot read.
func ExampleImport_unsupported() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, ".zarray"), []byte(`{"zarr_format": 2, "shape": [10], "chunks": [5],
		"dtype": "<f8", "compressor": {"id": "blosc", "cname": "lz4"}, "fill_value": 0.0,
		"filters": null, "order": "C"}`), 0o644)
	_, err := zarr.Import(dir, "file://"+filepath.Join(dir, "x.npy"), nil)
	fmt.Println(errors.Is(err, zarr.ErrCodec))
	_, msg, _ := strings.Cut(err.Error(), ".zarray: ")
	fmt.Println(msg)
	// Output:
	// true
	// unsupported codec: compressor "blosc" (this package reads zlib, gzip or none; to rewrite the store with zlib in zarr-python: a = zarr.open("SRC", mode="r"); zarr.save_array("DST", a[...], chunks=a.chunks, compressor=numcodecs.Zlib()))
}
