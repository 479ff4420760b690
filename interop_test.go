//go:build linux

package shmtensor

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNumpyReadsAndWritesGoSegments: Go creates, numpy maps the same memory
// with np.load(mmap_mode="r+"), checks what Go wrote and writes back.
func TestNumpyReadsAndWritesGoSegments(t *testing.T) {
	needNumpy(t)
	name := uniqueName(t)
	a, err := Create[float64](name, []int{3, 4})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := range a.Data() {
		a.Data()[i] = float64(i) + 0.5
	}
	out := runPython(t, `
import sys, numpy as np
a = np.load(sys.argv[1], mmap_mode="r+")
assert isinstance(a, np.memmap), type(a)
print(a.dtype.str, a.shape, a.flags.c_contiguous, float(a.sum()))
a[2, 3] = -7.25
a.flush()
`, filepath.Join("/dev/shm", name))
	want := "<f8 (3, 4) True 72.0" // sum of i+0.5 for i in 0..11
	if strings.TrimSpace(out) != want {
		t.Fatalf("numpy printed %q, want %q", out, want)
	}
	if got := a.At(2, 3); got != -7.25 {
		t.Fatalf("Go sees %v after numpy's write, want -7.25", got)
	}
}

// TestGoAttachesNumpyFiles: numpy saves C and Fortran arrays of several
// dtypes and .npy versions; Go attaches each with the right shape, strides
// and values, and refuses big-endian data.
func TestGoAttachesNumpyFiles(t *testing.T) {
	needNumpy(t)
	dir := t.TempDir()
	runPython(t, `
import sys, os, numpy as np
d = sys.argv[1]
def save(name, a, version=None):
    with open(os.path.join(d, name), "wb") as f:
        np.lib.format.write_array(f, a, version=version)
base = np.arange(24).reshape(2, 3, 4)
for dt in ["f8", "f4", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "c8", "c16"]:
    save("c_%s.npy" % dt, (base * 3 - 5).astype(dt) if dt[0] in "if" else (base * 3).astype(dt))
    save("f_%s.npy" % dt, np.asfortranarray((base * 3).astype(dt)))
save("v2.npy", base.astype("f8"), version=(2, 0))
save("v3.npy", base.astype("f8"), version=(3, 0))
save("scalar.npy", np.array(2.5))
save("empty.npy", np.zeros((3, 0), "i4"))
save("bool.npy", np.array([True, False, True]))
save("half.npy", np.array([1, 2], "f2"))
save("big.npy", np.arange(4, dtype=">f8"))
`, dir)
	checkAll := func(t *testing.T, file string, dt DType, fortran bool, scale, shift int) {
		name := "file://" + filepath.Join(dir, file)
		s, err := Open(name)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		defer s.Close()
		if s.DType() != dt || !slices.Equal(s.Shape(), []int{2, 3, 4}) || s.Fortran() != fortran {
			t.Fatalf("%s: %v %v fortran=%v", file, s.DType(), s.Shape(), s.Fortran())
		}
		// Check element (i,j,k) == base*scale+shift through a typed view.
		var at func(i, j, k int) float64
		var strides []int
		switch dt {
		case Float64:
			v, _ := View[float64](s)
			at, strides = func(i, j, k int) float64 { return v.At(i, j, k) }, v.Strides()
		case Int8:
			v, _ := View[int8](s)
			at, strides = func(i, j, k int) float64 { return float64(v.At(i, j, k)) }, v.Strides()
		case Int32:
			v, _ := View[int32](s)
			at, strides = func(i, j, k int) float64 { return float64(v.At(i, j, k)) }, v.Strides()
		case Uint16:
			v, _ := View[uint16](s)
			at, strides = func(i, j, k int) float64 { return float64(v.At(i, j, k)) }, v.Strides()
		case Complex64:
			v, _ := View[complex64](s)
			at, strides = func(i, j, k int) float64 { return float64(real(v.At(i, j, k))) }, v.Strides()
		default:
			return
		}
		wantStrides := []int{12, 4, 1}
		if fortran {
			wantStrides = []int{1, 2, 6}
		}
		if !slices.Equal(strides, wantStrides) {
			t.Fatalf("%s: strides %v, want %v", file, strides, wantStrides)
		}
		for i := range 2 {
			for j := range 3 {
				for k := range 4 {
					if got, want := at(i, j, k), float64((i*12+j*4+k)*scale+shift); got != want {
						t.Fatalf("%s: (%d,%d,%d) = %v, want %v", file, i, j, k, got, want)
					}
				}
			}
		}
	}
	for _, tc := range []struct {
		code string
		dt   DType
	}{{"f8", Float64}, {"f4", Float32}, {"i1", Int8}, {"i2", Int16}, {"i4", Int32}, {"i8", Int64}, {"u1", Uint8}, {"u2", Uint16}, {"u4", Uint32}, {"u8", Uint64}, {"c8", Complex64}, {"c16", Complex128}} {
		shift := 0
		if tc.code[0] == 'i' || tc.code[0] == 'f' {
			shift = -5
		}
		checkAll(t, "c_"+tc.code+".npy", tc.dt, false, 3, shift)
		checkAll(t, "f_"+tc.code+".npy", tc.dt, true, 3, 0)
	}
	checkAll(t, "v2.npy", Float64, false, 1, 0)
	checkAll(t, "v3.npy", Float64, false, 1, 0)

	sc, err := Attach[float64]("file://" + filepath.Join(dir, "scalar.npy"))
	if err != nil || sc.NDim() != 0 || sc.At() != 2.5 {
		t.Fatalf("0-d: %v", err)
	}
	sc.Close()
	em, err := Attach[int32]("file://" + filepath.Join(dir, "empty.npy"))
	if err != nil || !slices.Equal(em.Shape(), []int{3, 0}) || em.Len() != 0 {
		t.Fatalf("empty: %v", err)
	}
	em.Close()
	for file, dt := range map[string]DType{"bool.npy": Bool, "half.npy": Float16} {
		info, err := Stat("file://" + filepath.Join(dir, file))
		if err != nil || info.DType != dt {
			t.Fatalf("Stat %s: %+v %v", file, info, err)
		}
		if _, err := Attach[uint8]("file://" + filepath.Join(dir, file)); !errors.Is(err, ErrDType) {
			t.Fatalf("Attach %s as uint8: %v, want ErrDType", file, err)
		}
	}
	if _, err := Attach[float64]("file://" + filepath.Join(dir, "big.npy")); !errors.Is(err, ErrDType) || !strings.Contains(err.Error(), "big-endian") {
		t.Fatalf("big-endian: %v", err)
	}
	if _, err := Stat("file://" + filepath.Join(dir, "big.npy")); !errors.Is(err, ErrDType) ||
		!strings.Contains(err.Error(), "big-endian '>f8' data: shmtensor maps only native little-endian element types; numpy can convert it with arr.astype('<f8')") ||
		strings.Contains(err.Error(), ErrDType.Error()) {
		t.Fatalf("Stat of a big-endian npy: %v; want ErrDType saying big-endian, not %q", err, ErrDType)
	}
	// A valid .npy file all the same: Delete removes it.
	if err := Delete("file://" + filepath.Join(dir, "big.npy")); err != nil {
		t.Fatalf("Delete of a big-endian npy: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "big.npy")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("big-endian file left: %v", err)
	}
}

// saFixtureDir holds segments written by Python's SharedArray 3.2.3; its
// README.md says how they were made. internal/codec parses its own copy.
const saFixtureDir = "testdata/sharedarray"

// TestSharedArrayFixtures attaches every segment Python's SharedArray wrote
// and checks Go writes byte-identical ones.
func TestSharedArrayFixtures(t *testing.T) {
	entries, _ := filepath.Glob(filepath.Join(saFixtureDir, "*.sa"))
	if len(entries) != 7 {
		t.Fatalf("found %d fixtures, want 7", len(entries))
	}
	type fixture struct {
		dt    DType
		shape []int
		check func(t *testing.T, name string) // values, through Attach
		make  func(name string) error         // the same segment, through Create
	}
	fixtures := map[string]fixture{
		"f64_3x4.sa":    {Float64, []int{3, 4}, checkValues[float64](seq[float64](12)), makeSA[float64]([]int{3, 4}, seq[float64](12))},
		"i32_5.sa":      {Int32, []int{5}, checkValues([]int32{1, 2, 3, 4, -1}), makeSA([]int{5}, []int32{1, 2, 3, 4, -1})},
		"u8_2x3x4.sa":   {Uint8, []int{2, 3, 4}, checkValues(seq[uint8](24)), makeSA([]int{2, 3, 4}, seq[uint8](24))},
		"c128_2.sa":     {Complex128, []int{2}, checkValues([]complex128{1 + 2i, -3.5 - 0.25i}), makeSA([]int{2}, []complex128{1 + 2i, -3.5 - 0.25i})},
		"f32_scalar.sa": {Float32, []int{}, checkValues([]float32{6.5}), makeSA([]int{}, []float32{6.5})},
		"i64_empty.sa":  {Int64, []int{0}, checkValues([]int64{}), makeSA([]int{0}, []int64{})},
		"i16_2x2.sa":    {Int16, []int{2, 2}, checkValues([]int16{-1, 2, -300, 400}), makeSA([]int{2, 2}, []int16{-1, 2, -300, 400})},
	}
	for _, path := range entries {
		base := filepath.Base(path)
		fx, ok := fixtures[base]
		if !ok {
			t.Errorf("unexpected fixture %s", base)
			continue
		}
		t.Run(base, func(t *testing.T) {
			// Attach the fixture read-only (tests leave testdata as it
			// is), then build the same segment with Create to compare.
			orig := "file://" + path
			info, err := Stat(orig)
			if err != nil {
				t.Fatal(err)
			}
			if info.DType != fx.dt || !slices.Equal(info.Shape, fx.shape) || info.Layout != SharedArray {
				t.Fatalf("Stat = %+v", info)
			}
			fx.check(t, orig)
			want, _ := os.ReadFile(path)
			out := filepath.Join(t.TempDir(), base)
			if err := fx.make("file://" + out); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(out)
			if string(got) != string(want) {
				t.Fatalf("Go's SharedArray segment differs from SharedArray's:\n got % x\nwant % x", got, want)
			}
		})
	}
}

func seq[T Number](n int) []T {
	s := make([]T, n)
	var v T
	for i := range s {
		s[i] = v
		v++
	}
	return s
}

func checkValues[T Number](want []T) func(t *testing.T, name string) {
	return func(t *testing.T, name string) {
		a, err := Attach[T](name, ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		got := append([]T(nil), a.Data()...)
		if len(got) != len(want) || !slices.Equal(got, want) && len(want) > 0 {
			t.Fatalf("values %v, want %v", got, want)
		}
	}
}

func makeSA[T Number](shape []int, vals []T) func(name string) error {
	return func(name string) error {
		a, err := Create[T](name, shape, SharedArrayLayout(), Mode(0o644))
		if err != nil {
			return err
		}
		copy(a.Data(), vals)
		return a.Close()
	}
}

// TestSharedArray548Trailer: builds against numpy 2 size the dims for 64
// dimensions; such segments attach too.
func TestSharedArray548Trailer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n2.sa")
	data := make([]byte, 3*8)
	for i := range 3 {
		putU64(data[i*8:], math.Float64bits(float64(i)+0.5))
	}
	tr := make([]byte, 548)
	copy(tr, "[SharedArray]")
	putU64(tr[16:], 24)
	putU32(tr[24:], 12)
	putU32(tr[28:], 8)
	putU32(tr[32:], 1)
	putU64(tr[36:], 3)
	os.WriteFile(path, append(data, tr...), 0o600)
	a, err := Attach[float64]("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !slices.Equal(a.Shape(), []int{3}) || a.At(2) != 2.5 {
		t.Fatalf("shape %v, a[2] = %v", a.Shape(), a.At(2))
	}
}

func putU64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

func putU32(b []byte, v uint32) {
	for i := range 4 {
		b[i] = byte(v >> (8 * i))
	}
}

// TestNumpyMapsEmptyAndScalarSegments: numpy opens 0-d and empty segments
// with mmap_mode too.
func TestNumpyMapsEmptyAndScalarSegments(t *testing.T) {
	needNumpy(t)
	empty, scalar := uniqueName(t), uniqueName(t)
	e, err := Create[int32](empty, []int{0, 3})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	s, err := Create[float64](scalar, []int{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Set(4.5)
	out := runPython(t, `
import sys, numpy as np
e = np.load(sys.argv[1], mmap_mode="r+")
s = np.load(sys.argv[2], mmap_mode="r+")
print(e.shape, e.dtype, s.shape, float(s))
s[()] = 8.25
s.flush()
`, filepath.Join("/dev/shm", empty), filepath.Join("/dev/shm", scalar))
	if strings.TrimSpace(out) != "(0, 3) int32 () 4.5" {
		t.Fatalf("numpy printed %q", out)
	}
	if s.At() != 8.25 {
		t.Fatalf("Go sees %v after numpy wrote the scalar", s.At())
	}
}
