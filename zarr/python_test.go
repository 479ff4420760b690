package zarr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/numpytest"
)

// needZarr returns a Python interpreter that imports zarr, skipping the
// test without one, or failing it under CI=true, where CI installs
// python3-zarr.
func needZarr(t *testing.T) string {
	t.Helper()
	py := numpytest.Need(t)
	if out, err := exec.Command(py, "-c", "import zarr, numcodecs").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("zarr-python is not available to %s (install python3-zarr): %v %s", py, err, bytes.TrimSpace(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// runScript writes script to a file and runs it with py, returning its
// standard output; the test fails with its standard error if it fails.
func runScript(t *testing.T, py, script string, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script.py")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, append([]string{path}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s failed: %v\n%s", path, err, stderr.String())
	}
	return string(out)
}

const readStoresPy = `
import json, sys
import numpy as np
import zarr

cases = json.load(open(sys.argv[1]))
for c in cases:
    want = np.load(c["npy"])
    z = zarr.open_array(c["store"], mode="r")
    assert z.dtype == want.dtype, (c, z.dtype, want.dtype)
    assert z.shape == want.shape, (c, z.shape, want.shape)
    assert list(z.chunks) == c["chunks"], (c, z.chunks)
    comp = None if z.compressor is None else z.compressor.codec_id
    assert comp == c["compressor"], (c, comp)
    assert z.fill_value == 0 and z.order == "C", (c, z.fill_value, z.order)
    assert z.attrs.asdict() == c["attrs"], (c, z.attrs.asdict())
    got = z[...]
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), (c, got, want)
    # A window across chunk boundaries, read through zarr's own slicing.
    if got.ndim == 2 and got.size:
        assert np.array_equal(z[1:, 1:], want[1:, 1:], equal_nan=want.dtype.kind in "fc"), c
print("checked", len(cases))
`

// TestPythonReadsGoStores: every dtype, edge chunks, 0-d and empty arrays,
// each compressor and separator, written by Write, read by zarr-python with
// identical values (bitwise) and dtype.
func TestPythonReadsGoStores(t *testing.T) {
	py := needZarr(t)
	type pycase struct {
		NPY        string         `json:"npy"`
		Store      string         `json:"store"`
		Chunks     []int          `json:"chunks"`
		Compressor *string        `json:"compressor"`
		Attrs      map[string]any `json:"attrs"`
	}
	var cases []pycase
	shapes := []struct{ shape, chunks []int }{
		{[]int{5, 7}, []int{2, 3}},
		{[]int{}, []int{}},
		{[]int{0, 4}, []int{1, 4}},
		{[]int{3, 4, 5}, []int{2, 4, 3}},
	}
	comps := []Compressor{{}, Zlib(1), Gzip(5)}
	n := 0
	for _, dt := range allDTypes {
		for si, s := range shapes {
			comp := comps[(int(dt)+si)%len(comps)]
			sep := []string{".", "/"}[si%2]
			src := fileSeg(t, dt, s.shape, uint64(n))
			dir := filepath.Join(t.TempDir(), fmt.Sprintf("%d.zarr", n))
			n++
			attrs := map[string]any{}
			if n%3 == 0 {
				attrs = map[string]any{"_ARRAY_DIMENSIONS": []string{"y", "x"}, "units": "m/s", "n": 3.5}
			}
			if err := Write(dir, src, &Options{Chunks: s.chunks, Compressor: comp, DimensionSeparator: sep, Attributes: attrs}); err != nil {
				t.Fatal(err)
			}
			var id *string
			if comp.ID != "" {
				id = &comp.ID
			}
			cases = append(cases, pycase{strings.TrimPrefix(src.Name(), "file://"), dir, s.chunks, id, attrs})
		}
	}
	manifest := filepath.Join(t.TempDir(), "cases.json")
	b, _ := json.Marshal(cases)
	os.WriteFile(manifest, b, 0o600)
	out := runScript(t, py, readStoresPy, manifest)
	if want := fmt.Sprintf("checked %d\n", len(cases)); out != want {
		t.Fatalf("python said %q, want %q", out, want)
	}
}

const writeStoresPy = `
import os, sys
import numpy as np
import numcodecs
import zarr

root = sys.argv[1]
rng = np.random.default_rng(5)
dtypes = ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8", "<c8", "<c16"]

def values(dt, shape):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True)
    if dt.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    return rng.standard_normal(shape).astype(dt)

def save(name, z):
    # What Go should hold: C order, little-endian, the values zarr reads.
    a = z[...]
    np.save(os.path.join(root, name + ".npy"), a.astype(a.dtype.newbyteorder("<"), order="C"))
    print(name)

for i, dt in enumerate(dtypes):
    for comp in (None, numcodecs.Zlib(level=1), numcodecs.GZip(level=5)):
        name = "%s-%s" % (dt[1:], "none" if comp is None else comp.codec_id)
        z = zarr.open_array(os.path.join(root, name + ".zarr"), mode="w", shape=(7, 5), chunks=(3, 2), dtype=dt, compressor=comp)
        z[...] = values(dt, (7, 5))
        save(name, z)

# Column-major chunks, nested keys, big-endian, a NaN fill value with
# chunks never written, a 0-d and an empty array.
z = zarr.open_array(os.path.join(root, "forder.zarr"), mode="w", shape=(6, 5, 4), chunks=(4, 2, 3), dtype="<i4", order="F", compressor=numcodecs.Zlib(1))
z[...] = values("<i4", (6, 5, 4)); save("forder", z)
z = zarr.open_array(os.path.join(root, "nested.zarr"), mode="w", shape=(9, 9), chunks=(4, 4), dtype="<f8", dimension_separator="/", compressor=None)
z[...] = values("<f8", (9, 9)); save("nested", z)
z = zarr.open_array(os.path.join(root, "bigendian.zarr"), mode="w", shape=(5, 3), chunks=(2, 2), dtype=">f8", compressor=None)
z[...] = values("<f8", (5, 3)); save("bigendian", z)
z = zarr.open_array(os.path.join(root, "bigc.zarr"), mode="w", shape=(5,), chunks=(2,), dtype=">c8", compressor=numcodecs.Zlib(1))
z[...] = values("<c8", (5,)); save("bigc", z)
z = zarr.open_array(os.path.join(root, "sparse.zarr"), mode="w", shape=(10, 10), chunks=(3, 3), dtype="<f4", fill_value=np.nan, compressor=numcodecs.Zlib(1))
z[0:2, 4:8] = 7.5; save("sparse", z)
z = zarr.open_array(os.path.join(root, "scalar.zarr"), mode="w", shape=(), dtype="<c16", compressor=None)
z[...] = 1.5 - 2j; save("scalar", z)
z = zarr.open_array(os.path.join(root, "empty.zarr"), mode="w", shape=(0, 3), dtype="<u2", compressor=numcodecs.Zlib(1))
save("empty", z)
`

// TestGoImportsPythonStores: stores zarr-python writes (uncompressed, zlib,
// gzip; C and F order; "." and "/" keys; big-endian; missing chunks) import
// into segments holding exactly what zarr-python reads from them.
func TestGoImportsPythonStores(t *testing.T) {
	py := needZarr(t)
	root := t.TempDir()
	names := strings.Fields(runScript(t, py, writeStoresPy, root))
	if len(names) != 14*3+7 {
		t.Fatalf("python wrote %d stores: %v", len(names), names)
	}
	for _, name := range names {
		want, err := shmtensor.Open("file://"+filepath.Join(root, name+".npy"), shmtensor.ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		got, err := Import(filepath.Join(root, name+".zarr"), "file://"+filepath.Join(root, name+".imported.npy"), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want.DType() != got.DType() || !slices.Equal(want.Shape(), got.Shape()) || !bytes.Equal(want.Bytes(), got.Bytes()) {
			t.Errorf("%s: imported %v %v, want %v %v; equal data %v", name, got.DType(), got.Shape(), want.DType(), want.Shape(), bytes.Equal(want.Bytes(), got.Bytes()))
		}
		want.Close()
		got.Close()
	}
}
