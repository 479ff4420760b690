package codec

// The NPY codec checked against numpy itself: numpy reads what the encoder
// writes, and the parser reads what numpy writes.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/errs"
	"github.com/shmtensor/shmtensor/internal/numpytest"
)

// npyResult is what the Python side reports about one .npy file.
type npyResult struct {
	Name        string `json:"name"`
	Unsupported bool   `json:"unsupported"`
	Version     int    `json:"version"`
	Descr       string `json:"descr"`
	Shape       []int  `json:"shape"`
	Fortran     bool   `json:"fortran"`
	Offset      int64  `json:"offset"`
	Ref         string `json:"ref"`
	Mmapped     bool   `json:"mmapped"`
	Err         string `json:"err"`
}

func decodeResults(t *testing.T, out string) map[string]npyResult {
	t.Helper()
	res := map[string]npyResult{}
	for line := range strings.Lines(out) {
		var r npyResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("python output %q: %v", line, err)
		}
		res[r.Name] = r
	}
	return res
}

// TestNPYEncoderNumpy checks that numpy loads our headers with
// mmap_mode="r+", sees the same dtype, shape and order, maps the data at
// byte 4096, and would format the same dict itself.
func TestNPYEncoderNumpy(t *testing.T) {
	numpytest.Need(t)
	cases := []struct {
		dt       DType
		shape    []int
		fortran  bool
		trailing int // bytes after the data
	}{
		{Float64, []int{3, 4}, false, 0},
		{Float64, []int{3, 4}, true, 0},
		{Int32, []int{5}, false, 0},
		{Bool, []int{}, false, 0},
		{Complex64, []int{2, 3}, true, 0},
		{Complex128, []int{2, 2}, false, 0},
		{Uint16, []int{0}, false, 0},
		{Uint16, []int{0}, false, 1},
		{Float16, []int{3, 0, 2}, true, 0},
		{Float16, []int{3, 0, 2}, true, 1},
		{Int8, repeatDims(32), false, 0},
		{Uint8, []int{2, 3, 4}, true, 0},
		{Int16, []int{7, 1}, false, 0},
		{Uint32, []int{1, 9}, true, 0},
		{Int64, []int{6}, false, 0},
		{Uint64, []int{2, 1, 2}, false, 0},
		{Float32, []int{4, 4}, true, 0},
		{Float32, []int{4, 4}, true, 100},
	}
	dir := t.TempDir()
	var paths []string
	for i, c := range cases {
		enc, err := encodeNPY(c.dt, c.shape, c.fortran)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("case%d.npy", i))
		if err := os.WriteFile(p, append(enc, make([]byte, int64(c.dt.Size())*product(c.shape)+int64(c.trailing))...), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	const script = `
import io, json, os, sys, numpy as np
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        offset = f.tell()
    try:
        a, mmapped = np.load(path, mmap_mode="r+"), True
    except ValueError:
        # numpy 1.24 cannot mmap an empty array whose data offset is the
        # file size ("mmap offset is greater than file size").
        a, mmapped = np.load(path), False
    ref = io.BytesIO()
    np.lib.format.write_array_header_1_0(ref, {"descr": np.lib.format.dtype_to_descr(dtype),
                                               "fortran_order": fortran, "shape": shape})
    if a.size:
        a[(0,) * a.ndim] = 1
        a.flush()
    print(json.dumps({"name": os.path.basename(path), "version": version[0], "descr": a.dtype.str,
                      "shape": list(a.shape), "fortran": bool(fortran), "offset": offset, "mmapped": mmapped,
                      "ref": ref.getvalue()[10:].decode("latin1").rstrip(" \n")}))
    del a
`
	res := decodeResults(t, numpytest.Run(t, script, paths...))
	for i, c := range cases {
		r, ok := res[filepath.Base(paths[i])]
		if !ok {
			t.Fatalf("case %d: no result from numpy", i)
		}
		if r.Version != 1 || r.Descr != c.dt.Descr() || !slices.Equal(r.Shape, c.shape) ||
			r.Fortran != c.fortran || r.Offset != NPYDataOffset {
			t.Errorf("%v %v fortran=%v: numpy saw %+v", c.dt, c.shape, c.fortran, r)
		}
		if !r.Mmapped {
			if product(c.shape) > 0 || c.trailing > 0 {
				t.Errorf("%v %v: numpy could not load it with mmap_mode=\"r+\"", c.dt, c.shape)
			} else {
				t.Logf("%v %v: numpy cannot mmap an empty array ending at the data offset; np.load without mmap works", c.dt, c.shape)
			}
		}
		enc, _ := encodeNPY(c.dt, c.shape, c.fortran)
		if ours := strings.TrimRight(string(enc[10:]), " \n"); ours != r.Ref {
			t.Errorf("%v %v: dict differs from numpy's\n ours %s\nnumpy %s", c.dt, c.shape, ours, r.Ref)
		}
		b, err := os.ReadFile(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		if product(c.shape) > 0 && !slices.ContainsFunc(b[NPYDataOffset:NPYDataOffset+c.dt.Size()], func(x byte) bool { return x != 0 }) {
			t.Errorf("%v %v: numpy's write to element 0 did not land at byte %d", c.dt, c.shape, NPYDataOffset)
		}
	}
}

// TestParseNumpyFiles parses files that numpy itself writes, in every
// version, order and a range of dtypes, including ones we must refuse.
func TestParseNumpyFiles(t *testing.T) {
	numpytest.Need(t)
	type spec struct {
		Name    string `json:"name"`
		DType   any    `json:"dtype"` // a string, or a list of [name, descr] fields
		Shape   []int  `json:"shape"`
		Order   string `json:"order"`
		Version []int  `json:"version"` // nil: let np.save choose
	}
	cases := []struct {
		spec
		dt      DType
		fortran bool // numpy records F only for arrays not also C-contiguous
		version int
		err     error
	}{
		{spec{"f8_c", "<f8", []int{3, 4}, "C", nil}, Float64, false, 1, nil},
		{spec{"f8_f", "<f8", []int{3, 4}, "F", nil}, Float64, true, 1, nil},
		{spec{"i4_1d_f", "<i4", []int{5}, "F", nil}, Int32, false, 1, nil},
		{spec{"b1_0d", "?", []int{}, "C", nil}, Bool, false, 1, nil},
		{spec{"u1_v2_f", "u1", []int{2, 3, 4}, "F", []int{2, 0}}, Uint8, true, 2, nil},
		{spec{"c16_v3", "<c16", []int{2, 2}, "C", []int{3, 0}}, Complex128, false, 3, nil},
		{spec{"f2_empty_v2", "<f2", []int{0}, "C", []int{2, 0}}, Float16, false, 2, nil},
		{spec{"i2_3x0x2_f", "<i2", []int{3, 0, 2}, "F", nil}, Int16, false, 1, nil},
		{spec{"u8_32d", "<u8", repeatDims(32), "C", nil}, Uint64, false, 1, nil},
		{spec{"u8_32d_f", "<u8", repeatDims(32), "F", []int{2, 0}}, Uint64, true, 2, nil},
		{spec{"i8_v3_f", "<i8", []int{7, 3}, "F", []int{3, 0}}, Int64, true, 3, nil},
		{spec{"c8", "<c8", []int{4}, "C", nil}, Complex64, false, 1, nil},
		{spec{"u2_f", "<u2", []int{2, 5}, "F", nil}, Uint16, true, 1, nil},
		{spec{"u4", "<u4", []int{1, 1}, "C", nil}, Uint32, false, 1, nil},
		{spec{"i1_v2", "i1", []int{9}, "C", []int{2, 0}}, Int8, false, 2, nil},
		{spec{"f4_f_v3", "<f4", []int{2, 3}, "F", []int{3, 0}}, Float32, true, 3, nil},
		{spec{"u1_big_endian_name", ">u1", []int{3}, "C", nil}, Uint8, false, 1, nil}, // numpy writes |u1
		{spec{"f8_be", ">f8", []int{2}, "C", nil}, Invalid, false, 1, errs.ErrDType},
		{spec{"i4_be_v2_f", ">i4", []int{2, 2}, "F", []int{2, 0}}, Invalid, true, 2, errs.ErrDType},
		{spec{"str", "<U3", []int{2}, "C", nil}, Invalid, false, 1, errs.ErrDType},
		{spec{"bytes", "|S4", []int{2}, "C", nil}, Invalid, false, 1, errs.ErrDType},
		{spec{"datetime", "<M8[ns]", []int{2}, "C", nil}, Invalid, false, 1, errs.ErrDType},
		{spec{"structured", []any{[]string{"a", "<f8"}, []string{"b", "i1"}}, []int{3}, "C", nil}, Invalid, false, 1, errs.ErrDType},
		// A field name outside latin-1 makes np.save choose version 3.0.
		{spec{"structured_utf8", []any{[]string{"\u03b1", "<f8"}}, []int{3}, "C", nil}, Invalid, false, 3, errs.ErrDType},
	}
	var specs []spec
	for _, c := range cases {
		specs = append(specs, c.spec)
	}
	js, _ := json.Marshal(specs)
	dir := t.TempDir()
	const script = `
import json, os, sys, warnings, numpy as np
warnings.simplefilter("ignore")
out, specs = sys.argv[1], json.loads(sys.argv[2])
for s in specs:
    d = s["dtype"]
    dt = np.dtype([tuple(f) for f in d] if isinstance(d, list) else d)
    a = np.zeros(s["shape"], dtype=dt, order=s["order"])
    path = os.path.join(out, s["name"] + ".npy")
    try:
        with open(path, "wb") as f:
            if s["version"] is None:
                np.save(f, a)
            else:
                np.lib.format.write_array(f, a, version=tuple(s["version"]))
    except ValueError as e:
        print(json.dumps({"name": s["name"], "unsupported": True, "err": str(e)}))
        continue
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        _, fortran, _ = np.lib.format._read_array_header(f, version)
    print(json.dumps({"name": s["name"], "version": version[0], "fortran": bool(fortran),
                      "offset": size - a.nbytes}))
`
	res := decodeResults(t, numpytest.Run(t, script, dir, string(js)))
	for _, c := range cases {
		r := res[c.Name]
		if r.Unsupported {
			t.Logf("%s: this numpy cannot write it: %s", c.Name, r.Err)
			continue
		}
		if r.Name == "" {
			t.Fatalf("%s: no result from numpy", c.Name)
		}
		if r.Version != c.version {
			t.Errorf("%s: numpy wrote version %d, want %d", c.Name, r.Version, c.version)
		}
		file, err := os.ReadFile(filepath.Join(dir, c.Name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseNPYHeader(npyPrefix(file), int64(len(file)))
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: err = %v, want %v", c.Name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if r.Fortran != c.fortran {
			t.Errorf("%s: numpy wrote fortran_order %v, want %v", c.Name, r.Fortran, c.fortran)
		}
		if h.DType != c.dt || !slices.Equal(h.Shape, c.Shape) || h.Fortran != r.Fortran ||
			h.DataOff != r.Offset || h.DataOff+h.DataLen != int64(len(file)) {
			t.Errorf("%s: parsed %+v; numpy: fortran %v, data at %d of %d bytes", c.Name, h, r.Fortran, r.Offset, len(file))
		}
	}
}
