//go:build torture && linux

package shmtensor

// Part of the adversarial campaign (torture_test.go).
// The campaign's hostile files: mutated headers and special files
// under segment names.

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/codec"
)

// mutate returns a copy of seg with a random kind of damage.
func mutate(rng *rand.Rand, seg []byte) []byte {
	b := bytes.Clone(seg)
	switch rng.IntN(6) {
	case 0, 1: // flip bytes in the header region
		region := min(len(b), 128)
		if rng.IntN(2) == 0 && len(b) > 600 {
			region = -600 // the trailer region
		}
		for range 1 + rng.IntN(4) {
			if region > 0 {
				b[rng.IntN(region)] = byte(rng.Uint32())
			} else {
				b[len(b)+region+rng.IntN(-region)] = byte(rng.Uint32())
			}
		}
	case 2: // truncate
		b = b[:rng.IntN(len(b)+1)]
	case 3: // extend
		b = append(b, make([]byte, rng.IntN(5000))...)
	case 4: // rewrite a length or dimension field with an extreme value
		vals := []uint64{0, 1, 1 << 31, 1<<63 - 1, 1 << 63, ^uint64(0), uint64(len(b)), uint64(len(b) - 4096)}
		v := vals[rng.IntN(len(vals))]
		off := rng.IntN(max(1, min(len(b), 64)-8))
		if rng.IntN(2) == 0 && len(b) >= codec.SATrailerSize {
			off = len(b) - codec.SATrailerSize + 16 + 8*rng.IntN(8)
		}
		for i := 0; i < 8 && off+i < len(b); i++ {
			b[off+i] = byte(v >> (8 * i))
		}
	case 5: // replace the dict text with digits and punctuation
		for i := 10; i < min(len(b), 100); i++ {
			if rng.IntN(8) == 0 {
				b[i] = "(),:'{} 0123456789-Le"[rng.IntN(21)]
			}
		}
	}
	return b
}

// TestTortureMutatedHeaders: Stat, Open, Attach and Delete of damaged
// segments never panic or fault, and fail only with the error contract;
// whatever opens has every data byte readable.
func TestTortureMutatedHeaders(t *testing.T) {
	n := scale(150000, 2000)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 4))
	var seeds [][]byte
	for i, opts := range [][]Option{nil, {SharedArrayLayout()}, {Lazy()}} {
		for _, shape := range [][]int{{}, {0}, {3}, {2, 3}, {5, 1, 7}} {
			for _, dt := range []DType{Float64, Int8, Complex64, Bool, Float16} {
				name := uniqueName(t)
				s, err := CreateSegment(name, dt, shape, opts...)
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				b, _ := os.ReadFile(filepath.Join("/dev/shm", name))
				seeds = append(seeds, b)
				Delete(name)
				_ = i
			}
		}
	}
	var opened, refused, deleted, panics int
	name := uniqueName(t)
	path := filepath.Join("/dev/shm", name)
	for i := range n {
		b := mutate(rng, seeds[rng.IntN(len(seeds))])
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		os.Truncate(path, int64(len(b)))
		func() {
			defer func() {
				if r := recover(); r != nil {
					panics++
					t.Errorf("mutation %d panicked: %v\n%q", i, r, b[:min(len(b), 200)])
				}
			}()
			_, err := Stat(name)
			checkContract(t, "stat", err)
			s, err := Open(name)
			checkContract(t, "open", err)
			if err == nil {
				opened++
				var sum byte
				for _, c := range s.Bytes() {
					sum += c
				}
				_ = sum
				s.Close()
			} else {
				refused++
			}
			a, err := Attach[float64](name, ReadOnly())
			checkContract(t, "attach", err)
			if err == nil {
				for v := range a.Values() {
					_ = v
				}
				a.Close()
			}
			if rng.IntN(8) == 0 {
				err := Delete(name)
				checkContract(t, "delete", err)
				if err == nil {
					deleted++
				}
			}
		}()
	}
	os.Remove(path)
	result(t, "mutations", n, "opened", opened, "refused", refused, "deleted", deleted, "panics", panics, "faults", 0)
	if panics != 0 {
		t.Fatal("panics")
	}
}

// TestTortureSpecialFiles: every operation on things that are not regular
// files is refused without blocking and leaves them in place.
func TestTortureSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	seg := uniqueName(t)
	a, err := Create[float64](seg, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	os.Mkdir(filepath.Join(dir, "dir"), 0o700)
	unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	l, err := net.Listen("unix", filepath.Join(dir, "socket"))
	if err == nil {
		defer l.Close()
	}
	os.Symlink(filepath.Join("/dev/shm", seg), filepath.Join(dir, "symlink"))
	os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling"))
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "noaccess"), []byte("\x93NUMPY"), 0)
	if f, err := os.Create(filepath.Join(dir, "sparse-huge")); err == nil {
		h, _ := testNPYHeader(Uint8, []int{1 << 40}, false)
		f.Write(h)
		f.Truncate(codec.NPYDataOffset + 1<<40)
		f.Close()
	}
	if os.Geteuid() == 0 {
		unix.Mknod(filepath.Join(dir, "chardev"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))) // like /dev/null
	}
	entries, _ := os.ReadDir(dir)
	ops := 0
	outcomes := map[string]int{}
	for _, e := range entries {
		n := "file://" + filepath.Join(dir, e.Name())
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, op := range []func() error{
				func() error { _, err := Stat(n); return err },
				func() error { return closeIfOpen(Open(n)) },
				func() error { return closeIfOpen(Open(n, ReadOnly())) },
				func() error { return closeIfOpen(Attach[uint8](n)) },
				func() error { return Delete(n) },
				func() error { return closeIfOpen(Create[uint8](n, []int{1})) },
			} {
				err := op()
				ops++
				checkContract(t, e.Name(), err)
				switch {
				case err == nil && e.Name() == "sparse-huge":
					outcomes["sparse_huge_ok"]++
				case errors.Is(err, ErrNotTensor):
					outcomes["ErrNotTensor"]++
				case errors.Is(err, ErrExist):
					outcomes["ErrExist"]++
				case errors.Is(err, ErrPermission):
					outcomes["ErrPermission"]++
				case err != nil:
					outcomes["other:"+err.Error()]++
				default:
					outcomes["ok"]++
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: an operation blocked", e.Name())
		}
		if e.Name() != "sparse-huge" {
			if _, err := os.Lstat(filepath.Join(dir, e.Name())); err != nil {
				t.Errorf("%s was removed", e.Name())
			}
		}
	}
	keys := make([]string, 0, len(outcomes))
	for k := range outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kv := []any{"files", len(entries), "operations", ops}
	for _, k := range keys {
		kv = append(kv, k, outcomes[k])
	}
	result(t, kv...)
}

// closeIfOpen closes what an operation opened.
func closeIfOpen[C interface{ Close() error }](c C, err error) error {
	if err == nil {
		c.Close()
	}
	return err
}
