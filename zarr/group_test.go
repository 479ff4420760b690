package zarr

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor"
)

// TestWriteGroup: .zgroup, one array per member with its dimension names
// (defaulted, renamed where sizes differ, or given), fill_value null, and
// consolidated metadata that repeats each array's files exactly; every
// array reads back bit for bit.
func TestWriteGroup(t *testing.T) {
	a := fileSeg(t, shmtensor.Int32, []int{3, 4}, 1)
	b := fileSeg(t, shmtensor.Float32, []int{3, 5}, 2) // dim_1 is 4 in a
	c := fileSeg(t, shmtensor.Bool, []int{7}, 3)
	dir := filepath.Join(t.TempDir(), "ds.zarr")
	err := WriteGroup(dir, []GroupMember{{Name: "a", Segment: a}, {Name: "b", Segment: b}, {Name: "c", Segment: c, Dims: []string{"time"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var zmeta struct {
		Metadata map[string]json.RawMessage `json:"metadata"`
		Format   int                        `json:"zarr_consolidated_format"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, ".zmetadata"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &zmeta); err != nil || zmeta.Format != 1 {
		t.Fatalf(".zmetadata: %v, format %d", err, zmeta.Format)
	}
	if g, err := os.ReadFile(filepath.Join(dir, ".zgroup")); err != nil || !bytes.Contains(g, []byte(`"zarr_format": 2`)) {
		t.Fatalf(".zgroup: %q, %v", g, err)
	}
	want := map[string][]string{"a": {"dim_0", "dim_1"}, "b": {"dim_0", "b_dim_1"}, "c": {"time"}}
	for name, seg := range map[string]*shmtensor.Segment{"a": a, "b": b, "c": c} {
		for _, f := range []string{".zarray", ".zattrs"} {
			onDisk, err := os.ReadFile(filepath.Join(dir, name, f))
			if err != nil {
				t.Fatal(err)
			}
			var x, y any
			json.Unmarshal(onDisk, &x)
			json.Unmarshal(zmeta.Metadata[name+"/"+f], &y)
			if x == nil || !jsonEqual(x, y) {
				t.Errorf("%s/%s: consolidated %s, on disk %s", name, f, zmeta.Metadata[name+"/"+f], onDisk)
			}
		}
		var attrs struct {
			Dims []string `json:"_ARRAY_DIMENSIONS"`
		}
		zattrs, _ := os.ReadFile(filepath.Join(dir, name, ".zattrs"))
		if json.Unmarshal(zattrs, &attrs); !slices.Equal(attrs.Dims, want[name]) {
			t.Errorf("%s: dimensions %v, want %v", name, attrs.Dims, want[name])
		}
		zarray, _ := os.ReadFile(filepath.Join(dir, name, ".zarray"))
		if !bytes.Contains(zarray, []byte(`"fill_value": null`)) {
			t.Errorf("%s/.zarray has a fill value:\n%s", name, zarray)
		}
		back := importTemp(t, filepath.Join(dir, name))
		if !bytes.Equal(back.Bytes(), seg.Bytes()) || back.DType() != seg.DType() {
			t.Errorf("%s does not read back", name)
		}
	}
}

func jsonEqual(x, y any) bool {
	a, _ := json.Marshal(x)
	b, _ := json.Marshal(y)
	return bytes.Equal(a, b)
}

// TestWriteGroupRefuses: bad names, dimension names that disagree, and a
// directory in use are refused, and nothing is left behind.
func TestWriteGroupRefuses(t *testing.T) {
	a := fileSeg(t, shmtensor.Int32, []int{3, 4}, 1)
	b := fileSeg(t, shmtensor.Int32, []int{5}, 1)
	for _, c := range []struct {
		name    string
		members []GroupMember
		want    string
	}{
		{"no members", nil, "no arrays"},
		{"slash", []GroupMember{{Name: "x/y", Segment: a}}, "without /"},
		{"dot", []GroupMember{{Name: ".zattrs", Segment: a}}, "leading dot"},
		{"twice", []GroupMember{{Name: "x", Segment: a}, {Name: "x", Segment: b}}, "given twice"},
		{"dims count", []GroupMember{{Name: "x", Segment: a, Dims: []string{"t"}}}, "2 axes, 1 dimension names"},
		{"dims sizes", []GroupMember{{Name: "x", Segment: a, Dims: []string{"t", "u"}}, {Name: "y", Segment: b, Dims: []string{"t"}}}, `dimension "t" is 3 long in "x" and 5 in "y"`},
		{"dim twice", []GroupMember{{Name: "x", Segment: a, Dims: []string{"t", "t"}}}, `names dimension "t" twice`},
	} {
		dir := filepath.Join(t.TempDir(), "g.zarr")
		err := WriteGroup(dir, c.members, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: left %s", c.name, dir)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep"), []byte("x"), 0o600)
	if err := WriteGroup(dir, []GroupMember{{Name: "x", Segment: a}}, nil); !errors.Is(err, shmtensor.ErrExist) {
		t.Errorf("a directory in use: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "keep")); err != nil || string(b) != "x" {
		t.Errorf("the directory's file was touched: %q %v", b, err)
	}
}
