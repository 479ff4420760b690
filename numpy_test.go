package shmtensor

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/strided"
)

// The differential test applies the same random sequences of views in Go
// and in numpy (one Python process for all of them) and compares shapes,
// strides, values and which reshapes need a copy. Fill and CopyFrom run
// on shared file segments that Python then reads with np.load(mmap_mode)
// and compares with numpy's own assignments.

type npOp struct {
	Op     string   `json:"op"` // slice, index, transpose, reshape
	Ranges [][3]int `json:"ranges"`
	Axis   int      `json:"axis"`
	I      int      `json:"i"`
	Axes   []int    `json:"axes"`
	Shape  []int    `json:"shape"`
}

type npSeq struct {
	Base []int  `json:"base"`
	Off  int    `json:"off"` // where its elements start in the segments
	Ops  []npOp `json:"ops"`
}

type npStep struct {
	Err     string  `json:"err"` // "", "error" (bad arguments), "copy" (no view)
	Shape   []int   `json:"shape"`
	Strides []int   `json:"strides"`
	Values  []int64 `json:"values"`
}

const npScript = `
import json, sys
import numpy as np

seqs = json.load(open(sys.argv[1]))
segs = [np.load(p, mmap_mode="r") for p in sys.argv[2:5]]

class Copy(Exception):
    pass

def apply(v, op):
    k = op["op"]
    if k == "slice":
        return v[tuple(slice(a, b, c) for a, b, c in op["ranges"] or []) + (Ellipsis,)]
    if k == "index":
        ax = op["axis"]
        if ax < 0:
            ax += v.ndim
        if not 0 <= ax < v.ndim:
            raise IndexError("axis")
        return v[(slice(None),) * ax + (op["i"], Ellipsis)]
    if k == "transpose":
        return v.transpose(op["axes"]) if op["axes"] else v.transpose()
    if k == "reshape":
        w = v.view()
        try:
            w.shape = op["shape"] or []
        except AttributeError:
            raise Copy()
        return w
    raise ValueError(k)

def replay(base, ops, steps=None):
    v = base
    for op in ops:
        try:
            v = apply(v, op)
            if steps is not None:
                steps.append({"err": "", "shape": list(v.shape),
                              "strides": [s // v.itemsize for s in v.strides],
                              "values": v.ravel().tolist()})
        except Copy:
            if steps is not None:
                steps.append({"err": "copy"})
        except (IndexError, ValueError, TypeError):
            if steps is not None:
                steps.append({"err": "error"})
    return v

def self_source(v):
    if v.ndim >= 2 and v.shape[-1] == v.shape[-2]:
        return np.swapaxes(v, -1, -2)
    if v.ndim >= 1:
        return v[::-1]
    return v

out = {"steps": [], "bad": []}
for n, s in enumerate(seqs):
    size = int(np.prod(s["base"], dtype=np.int64))
    fresh = lambda: np.arange(size, dtype=np.int64).reshape(s["base"])
    steps = []
    replay(fresh(), s["ops"], steps)
    out["steps"].append(steps)

    b = fresh(); v = replay(b, s["ops"]); v[...] = -1
    c = fresh(); v = replay(c, s["ops"]); v[...] = np.arange(v.size, dtype=np.int64).reshape(v.shape) + 1000
    d = fresh(); v = replay(d, s["ops"]); v[...] = self_source(v)
    for what, want, seg in zip(("Fill", "CopyFrom", "CopyFrom itself"), (b, c, d), segs):
        got = seg[s["off"]:s["off"] + size]
        if not np.array_equal(got, want.ravel()):
            out["bad"].append("sequence %d %s: segment holds %s, numpy gives %s" % (n, what, got.tolist(), want.ravel().tolist()))
json.dump(out, sys.stdout)
`

func TestViewsMatchNumpy(t *testing.T) {
	needNumpy(t)
	rng := rand.New(rand.NewPCG(2024, 11))
	const nseq = 300
	seqs := make([]npSeq, nseq)
	var goSteps [][]npStep
	total := 0
	for i := range seqs {
		base := randShape(rng, 4, 6)
		seqs[i] = npSeq{Base: base, Off: total}
		n, _ := strided.NumElements(base)
		total += n
		a := arange[int64](base...)
		v := a
		var steps []npStep
		for range 1 + rng.IntN(7) {
			op := randomOp(rng, v)
			seqs[i].Ops = append(seqs[i].Ops, op)
			w, err := applyOp(v, op)
			switch {
			case errors.Is(err, ErrNotContiguous):
				steps = append(steps, npStep{Err: "copy"})
			case err != nil:
				steps = append(steps, npStep{Err: "error"})
			default:
				v = w
				steps = append(steps, npStep{Shape: w.Shape(), Strides: w.Strides(), Values: slices.Collect(w.Values())})
			}
		}
		goSteps = append(goSteps, steps)
	}

	// Fill and CopyFrom on file segments, one region of each per sequence.
	names := []string{tempFileName(t, "fill.npy"), tempFileName(t, "copy.npy"), tempFileName(t, "self.npy")}
	for k, name := range names {
		seg, err := Create[int64](name, []int{total})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { Delete(name) })
		for _, s := range seqs {
			n, _ := strided.NumElements(s.Base)
			region, err := seg.Slice(Span(s.Off, s.Off+n))
			if err != nil {
				t.Fatal(err)
			}
			copy(region.Data(), arange[int64](n).Data())
			base, err := region.Reshape(s.Base...)
			if err != nil {
				t.Fatal(err)
			}
			v := base
			for _, op := range s.Ops {
				if w, err := applyOp(v, op); err == nil {
					v = w
				}
			}
			switch k {
			case 0:
				v.Fill(-1)
			case 1:
				src := arange[int64](v.shape...)
				for i := range src.Data() {
					src.Data()[i] += 1000
				}
				err = v.CopyFrom(src)
			case 2:
				err = v.CopyFrom(selfSource(v))
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := seg.Close(); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	seqFile := filepath.Join(dir, "seqs.json")
	js, _ := json.Marshal(seqs)
	if err := os.WriteFile(seqFile, js, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{seqFile}
	for _, name := range names {
		args = append(args, strings.TrimPrefix(name, "file://"))
	}
	var out struct {
		Steps [][]npStep `json:"steps"`
		Bad   []string   `json:"bad"`
	}
	if err := json.Unmarshal([]byte(runPython(t, npScript, args...)), &out); err != nil {
		t.Fatal(err)
	}
	for _, b := range out.Bad {
		t.Error(b)
	}
	counts := map[string]int{}
	for i, steps := range goSteps {
		for j, g := range steps {
			p := out.Steps[i][j]
			op := seqs[i].Ops[j]
			counts[op.Op+" "+g.Err]++
			if g.Err != p.Err {
				t.Errorf("sequence %d (base %v) step %d %+v: Go gives %q, numpy %q", i, seqs[i].Base, j, op, g.Err, p.Err)
				break
			}
			if g.Err != "" {
				continue
			}
			// numpy gives new empty arrays zero strides, where Go keeps C
			// strides; no element is reached either way.
			sameStrides := slices.Equal(g.Strides, p.Strides) || len(g.Values) == 0
			if !slices.Equal(g.Shape, p.Shape) || !sameStrides || !slices.Equal(g.Values, p.Values) && len(g.Values)+len(p.Values) > 0 {
				t.Errorf("sequence %d (base %v) step %d %+v:\n Go    shape %v strides %v values %v\n numpy shape %v strides %v values %v",
					i, seqs[i].Base, j, op, g.Shape, g.Strides, g.Values, p.Shape, p.Strides, p.Values)
				break
			}
		}
	}
	t.Logf("outcomes: %v", counts)
	// The random sequences must reach the interesting cases.
	for _, k := range []string{"reshape ", "reshape copy", "reshape error", "slice ", "slice error", "index ", "index error", "transpose ", "transpose error"} {
		if counts[k] < 5 {
			t.Errorf("only %d cases of %q", counts[k], k)
		}
	}
}

// selfSource is the overlapping source of the CopyFrom-itself case: the
// view with its last two axes swapped when they are equal, else reversed
// along its first axis.
func selfSource[T Number](v *Tensor[T]) *Tensor[T] {
	nd := v.NDim()
	switch {
	case nd >= 2 && v.shape[nd-1] == v.shape[nd-2]:
		perm := make([]int, nd)
		for k := range perm {
			perm[k] = k
		}
		perm[nd-1], perm[nd-2] = nd-2, nd-1
		w, _ := v.Transpose(perm...)
		return w
	case nd >= 1:
		w, _ := v.Slice(Reverse())
		return w
	}
	return v
}

func applyOp[T Number](v *Tensor[T], op npOp) (*Tensor[T], error) {
	switch op.Op {
	case "slice":
		r := make([]Range, len(op.Ranges))
		for k, x := range op.Ranges {
			r[k] = Range{x[0], x[1], x[2]}
		}
		return v.Slice(r...)
	case "index":
		return v.Index(op.Axis, op.I)
	case "transpose":
		return v.Transpose(op.Axes...)
	case "reshape":
		return v.Reshape(op.Shape...)
	}
	panic(op.Op)
}

// randomOp returns a random view operation for v, mostly valid.
func randomOp[T Number](rng *rand.Rand, v *Tensor[T]) npOp {
	nd := v.NDim()
	bound := func(n int) int {
		switch rng.IntN(10) {
		case 0:
			return math.MaxInt
		case 1:
			return math.MinInt
		}
		return rng.IntN(2*n+5) - n - 2
	}
	switch rng.IntN(5) {
	case 0:
		op := npOp{Op: "slice"}
		for k := range rng.IntN(nd + 1) {
			n := v.shape[k]
			// numpy has no step 0; Go reads it as 1, so both get 1.
			step := []int{1, 1, 2, 3, -1, -1, -2, -3}[rng.IntN(8)]
			op.Ranges = append(op.Ranges, [3]int{bound(n), bound(n), step})
		}
		if rng.IntN(15) == 0 {
			op.Ranges = append(op.Ranges, [3]int{0, 1, 1}) // one too many
		}
		return op
	case 1:
		op := npOp{Op: "index", Axis: rng.IntN(2*nd+3) - nd - 1}
		n := 3
		if ax, ok := strided.NormAxis(op.Axis, nd); ok {
			n = v.shape[ax]
		}
		op.I = rng.IntN(2*n+3) - n - 1
		return op
	case 2:
		op := npOp{Op: "transpose"}
		if rng.IntN(4) > 0 {
			op.Axes = rng.Perm(nd)
			for k := range op.Axes {
				if rng.IntN(3) == 0 {
					op.Axes[k] -= nd // negative axes count from the end
				}
			}
		}
		if rng.IntN(6) == 0 && len(op.Axes) > 1 {
			op.Axes[0] = op.Axes[1] // not a permutation
		}
		return op
	}
	op := npOp{Op: "reshape", Shape: randFactorShape(rng, v.Len(), 5)}
	switch rng.IntN(8) {
	case 0, 1:
		op.Shape[rng.IntN(len(op.Shape))] = -1
	case 2:
		op.Shape[rng.IntN(len(op.Shape))]++ // wrong size
	}
	return op
}
