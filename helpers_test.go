package shmtensor

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/shmtensor/shmtensor/internal/numpytest"
)

// uniqueName returns a shm name no other test or program uses (pid plus a
// random suffix) and removes /dev/shm/NAME when the test ends, pass or fail.
func uniqueName(t testing.TB) string {
	t.Helper()
	var b [6]byte
	crand.Read(b[:])
	name := fmt.Sprintf("shmtensor-test-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	t.Cleanup(func() { removeShm(name) })
	return name
}

// tempFileName returns a file:// name in a fresh temporary directory.
func tempFileName(t testing.TB, base string) string {
	t.Helper()
	return "file://" + filepath.Join(t.TempDir(), base)
}

// needNumpy returns a Python interpreter that can import numpy, skipping
// the test without one (failing it under CI=true).
func needNumpy(t testing.TB) string {
	t.Helper()
	return numpytest.Need(t)
}

// runPython runs script with numpy available and returns its standard
// output; the test fails with the script's standard error if it fails.
func runPython(t testing.TB, script string, args ...string) string {
	t.Helper()
	return numpytest.Run(t, script, args...)
}

// removeShm unlinks /dev/shm/name, whatever it holds.
func removeShm(name string) { os.Remove(filepath.Join("/dev/shm", name)) }

// repeatDims returns n dimensions of 1 with a 2 at every seventh axis, so a
// many-dimensional shape still has a small size.
func repeatDims(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
		if i%7 == 3 {
			s[i] = 2
		}
	}
	return s
}

// values collects t's elements in C order through At, independently of the
// iterators under test.
func values[T Number](t *Tensor[T]) []T {
	var out []T
	n := t.Len()
	idx := make([]int, t.NDim())
	for range n {
		out = append(out, t.At(idx...))
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < t.shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

// second returns the error of a two-result call, for tests that only
// check the error.
func second[T any](_ T, err error) error { return err }

// must1 returns v, panicking if err is not nil.
func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// arange returns a C-ordered heap tensor holding 0, 1, 2, ... .
func arange[T Number](shape ...int) *Tensor[T] {
	t := New[T](shape...)
	d := t.Data()
	var v T
	for i := range d {
		d[i] = v
		v++
	}
	return t
}

// randShape returns up to maxDims dimensions of at most maxLen each.
func randShape(rng *rand.Rand, maxDims, maxLen int) []int {
	s := make([]int, rng.IntN(maxDims+1))
	for i := range s {
		s[i] = rng.IntN(maxLen + 1)
		if s[i] == 0 && rng.IntN(3) > 0 {
			s[i] = 1 + rng.IntN(maxLen) // keep empty tensors a minority
		}
	}
	return s
}

// randFactorShape returns a random shape of up to maxDims dimensions
// holding n elements.
func randFactorShape(rng *rand.Rand, n, maxDims int) []int {
	if n == 0 {
		s := randShape(rng, maxDims, 4)
		if len(s) == 0 {
			s = []int{0}
		}
		s[rng.IntN(len(s))] = 0
		return s
	}
	var s []int
	rest := n
	for len(s) < maxDims-1 && rng.IntN(4) > 0 {
		var divs []int
		for d := 1; d <= rest; d++ {
			if rest%d == 0 {
				divs = append(divs, d)
			}
		}
		d := divs[rng.IntN(len(divs))]
		s = append(s, d)
		rest /= d
	}
	s = append(s, rest)
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// randomView applies up to ops random slices, transposes and indexings.
func randomView[T Number](rng *rand.Rand, a *Tensor[T], ops int) *Tensor[T] {
	v := a
	for range rng.IntN(ops + 1) {
		var w *Tensor[T]
		var err error
		switch rng.IntN(3) {
		case 0:
			r := make([]Range, rng.IntN(v.NDim()+1))
			for k := range r {
				n := v.shape[k]
				r[k] = Range{rng.IntN(2*n+3) - n - 1, rng.IntN(2*n+3) - n - 1, []int{1, 2, 3, -1, -2}[rng.IntN(5)]}
				if rng.IntN(3) == 0 {
					r[k] = Every(r[k].Step)
				}
			}
			w, err = v.Slice(r...)
		case 1:
			w, err = v.Transpose(rng.Perm(v.NDim())...)
		case 2:
			if v.NDim() > 0 && v.Len() > 0 {
				ax := rng.IntN(v.NDim())
				w, err = v.Index(ax, rng.IntN(v.shape[ax]))
			}
		}
		if err != nil {
			panic(err)
		}
		if w != nil {
			v = w
		}
	}
	return v
}
