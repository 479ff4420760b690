package zarr

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shmtensor/shmtensor"
)

// GroupMember is an array of a group written by WriteGroup: the segment
// Segment under the key Name, with the dimension names Dims (one per axis;
// nil for the defaults).
type GroupMember struct {
	Name    string
	Segment *shmtensor.Segment
	Dims    []string
}

// WriteGroup writes a Zarr v2 group in the directory dir, which must not
// exist or be empty: .zgroup, one array per member under its name (as
// Write writes it, with opts), each with the "_ARRAY_DIMENSIONS" attribute
// xarray reads, and the consolidated metadata (.zmetadata) that
// xarray.open_zarr and zarr.open_consolidated read in one request. So
// xarray.open_zarr(dir) opens the segments as the variables of a data set.
//
// opts applies to every member (so Chunks only when all have as many
// axes; nil chooses each member's chunks).
//
// Dimension names default to dim_0, dim_1, ... when the members agree on
// the sizes of those they share; a member whose axis i differs in size
// from another's dim_i gets NAME_dim_i instead, since xarray requires
// one size per dimension. Given names are checked the same way.
//
// Every chunk is written, so no element is ever a fill value: the arrays'
// fill_value is null. (xarray reads fill_value as the variable's
// _FillValue and would turn every element equal to it, 0 by default, into
// NaN, and integers into floats.)
func WriteGroup(dir string, members []GroupMember, opts *Options) (err error) {
	fail := func(err error) error { return &Error{Op: "write", Path: dir, Err: err} }
	if len(members) == 0 {
		return fail(fmt.Errorf("%w: a group of no arrays", ErrFormat))
	}
	dims, err := groupDims(members)
	if err != nil {
		return fail(err)
	}
	made, err := makeStoreDir(dir)
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err != nil {
			cleanStore(dir, made)
		}
	}()
	group := json.RawMessage(`{"zarr_format": 2}`)
	if err := os.WriteFile(filepath.Join(dir, ".zgroup"), append(group, '\n'), 0o644); err != nil {
		return fail(err)
	}
	meta := map[string]json.RawMessage{".zgroup": group}
	for i, m := range members {
		o := Options{}
		if opts != nil {
			o = *opts
		}
		o.Attributes = map[string]any{"_ARRAY_DIMENSIONS": dims[i]}
		if opts != nil {
			for k, v := range opts.Attributes {
				if k != "_ARRAY_DIMENSIONS" {
					o.Attributes[k] = v
				}
			}
		}
		o.NoFillValue = true
		if err := Write(filepath.Join(dir, m.Name), m.Segment, &o); err != nil {
			return err
		}
		for _, f := range []string{".zarray", ".zattrs"} {
			b, err := os.ReadFile(filepath.Join(dir, m.Name, f))
			if err != nil {
				return fail(err)
			}
			meta[m.Name+"/"+f] = json.RawMessage(b)
		}
	}
	zmeta, err := json.MarshalIndent(map[string]any{"metadata": meta, "zarr_consolidated_format": 1}, "", "    ")
	if err != nil {
		return fail(err)
	}
	// Last: a reader that finds .zmetadata finds every array complete.
	if err := os.WriteFile(filepath.Join(dir, ".zmetadata"), append(zmeta, '\n'), 0o644); err != nil {
		return fail(err)
	}
	return nil
}

// groupDims checks the members' names and returns each one's dimension
// names, defaulted or given, with one size per name.
func groupDims(members []GroupMember) ([][]string, error) {
	seen := map[string]bool{}
	size := map[string]int{}
	owner := map[string]string{}
	out := make([][]string, len(members))
	for i, m := range members {
		switch {
		case m.Name == "" || strings.ContainsAny(m.Name, `/\`) || strings.HasPrefix(m.Name, "."):
			return nil, fmt.Errorf("%w: array name %q (want a name without / or a leading dot)", ErrFormat, m.Name)
		case seen[m.Name]:
			return nil, fmt.Errorf("%w: array name %q given twice", ErrFormat, m.Name)
		case m.Segment == nil:
			return nil, fmt.Errorf("%w: array %q has no segment", ErrFormat, m.Name)
		}
		seen[m.Name] = true
		shape := m.Segment.Shape()
		given := m.Dims != nil
		if given && len(m.Dims) != len(shape) {
			return nil, fmt.Errorf("%w: array %q has %d axes, %d dimension names given", shmtensor.ErrShape, m.Name, len(shape), len(m.Dims))
		}
		d := make([]string, len(shape))
		for ax, n := range shape {
			name := fmt.Sprintf("dim_%d", ax)
			if given {
				name = m.Dims[ax]
			}
			if slices.Contains(d[:ax], name) {
				return nil, fmt.Errorf("%w: array %q names dimension %q twice", ErrFormat, m.Name, name)
			}
			if s, ok := size[name]; ok && s != n {
				if given {
					return nil, fmt.Errorf("%w: dimension %q is %d long in %q and %d in %q (xarray needs one size per dimension)", shmtensor.ErrShape, name, s, owner[name], n, m.Name)
				}
				name = fmt.Sprintf("%s_dim_%d", m.Name, ax)
			}
			if name == "" {
				return nil, fmt.Errorf("%w: array %q: an empty dimension name", ErrFormat, m.Name)
			}
			size[name], owner[name] = n, m.Name
			d[ax] = name
		}
		out[i] = d
	}
	return out, nil
}
