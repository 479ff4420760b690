package zarr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor"
)

// needXarray returns a Python interpreter that imports xarray and zarr,
// skipping the test without one, or failing it under CI=true, where CI
// installs python3-xarray.
func needXarray(t *testing.T) string {
	t.Helper()
	py := needZarr(t)
	if out, err := exec.Command(py, "-c", "import xarray").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("xarray is not available to %s (install python3-xarray): %v %s", py, err, bytes.TrimSpace(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// xarrayReadPy opens the group argv[1] with xarray, plainly and from the
// consolidated metadata, and compares each variable argv[2+2i] with the
// .npy file argv[3+2i] (the segment's own file, read by numpy): values,
// dtype and dimension names.
const xarrayReadPy = `
import json, sys
import numpy as np
import xarray as xr
group, pairs = sys.argv[1], sys.argv[2:]
out = {}
for consolidated in (False, True):
    ds = xr.open_zarr(group, consolidated=consolidated)
    for name, path in zip(pairs[0::2], pairs[1::2]):
        want = np.load(path, mmap_mode="r")
        v = ds[name]
        got = v.values
        out["%s consolidated=%s" % (name, consolidated)] = {
            "dtype": got.dtype.str, "want_dtype": want.dtype.str,
            "equal": bool(got.shape == want.shape and np.array_equal(got, want)),
            "dims": list(v.dims),
        }
print(json.dumps(out))
`

// TestXarrayOpensGroup: xarray.open_zarr on a WriteGroup store of int32,
// float32, complex64 and bool segments (zeros among the values, which a
// fill value would turn into NaN) gives the values, dtypes and dimension
// names of numpy's view of the segments, with and without consolidated
// metadata.
func TestXarrayOpensGroup(t *testing.T) {
	py := needXarray(t)
	segs := map[string]*shmtensor.Segment{
		"counts": fileSeg(t, shmtensor.Int32, []int{4, 6}, 11),
		"temp":   fileSeg(t, shmtensor.Float32, []int{4, 6}, 12),
		"wave":   fileSeg(t, shmtensor.Complex64, []int{4}, 13),
		"mask":   fileSeg(t, shmtensor.Bool, []int{4, 6}, 14),
	}
	// Zeros, which xarray would mask if they were the fill value.
	for _, s := range segs {
		clear(s.Bytes()[:s.DType().Size()*2])
	}
	dims := map[string][]string{"counts": {"y", "x"}, "temp": {"y", "x"}, "wave": {"y"}, "mask": nil}
	var members []GroupMember
	var args []string
	for _, name := range []string{"counts", "temp", "wave", "mask"} {
		members = append(members, GroupMember{Name: name, Segment: segs[name], Dims: dims[name]})
		args = append(args, name, strings.TrimPrefix(segs[name].Name(), "file://"))
	}
	dir := filepath.Join(t.TempDir(), "ds.zarr")
	if err := WriteGroup(dir, members, &Options{Chunks: []int{3, -1}[:1:1]}); err == nil {
		t.Fatal("chunks of one axis accepted for 2-d arrays")
	}
	if err := WriteGroup(dir, members, nil); err != nil {
		t.Fatal(err)
	}
	var res map[string]struct {
		DType     string   `json:"dtype"`
		WantDType string   `json:"want_dtype"`
		Equal     bool     `json:"equal"`
		Dims      []string `json:"dims"`
	}
	out := runScript(t, py, xarrayReadPy, append([]string{dir}, args...)...)
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(res) != 8 {
		t.Fatalf("xarray read %d variables, want 8: %s", len(res), out)
	}
	wantDims := map[string]string{"counts": "[y x]", "temp": "[y x]", "wave": "[y]", "mask": "[dim_0 dim_1]"}
	for k, r := range res {
		name, _, _ := strings.Cut(k, " ")
		if r.DType != r.WantDType || !r.Equal || fmt.Sprint(r.Dims) != wantDims[name] {
			t.Errorf("%s: xarray gives %s %v (equal %v), numpy %s, want dimensions %s", k, r.DType, r.Dims, r.Equal, r.WantDType, wantDims[name])
		}
	}
}
