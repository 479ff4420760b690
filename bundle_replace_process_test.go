//go:build linux

package shmtensor

// Replace of a bundle under reader processes: each version writes its
// number into every element of every tensor before Replace, and readers
// that attach, read every tensor and close, over and over, never see two
// versions in one attach. The torture campaign runs it longer
// (torture_bundle_test.go).

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func init() {
	childRoles["bundle-version-reader"] = bundleVersionReader
}

// versionNum are the element types that hold a version number as is.
type versionNum interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// versionSpecs returns the tensors of a versioned bundle of about 32n
// bytes: many element types, a 0-d and an empty tensor. "a" comes first
// in every check: its first element is the version read.
func versionSpecs(n int) []TensorSpec {
	return []TensorSpec{
		{"a", Int64, []int{n}},
		{"b", Float64, []int{n / 2, 2}},
		{"c", Float32, []int{n}},
		{"d", Int32, []int{2, n / 2}},
		{"e", Uint16, []int{n}},
		{"f", Uint8, []int{n}},
		{"g", Int16, []int{}},
		{"h", Float64, []int{0, 3}},
		{"i", BFloat16, []int{n}}, // its raw bits: uint16(v)
		{"j", Uint64, []int{n / 4, 2, 2}},
	}
}

// eachVersionTensor calls f with the name and element type of every
// tensor of b in turn, "a" first.
func eachVersionTensor(b *Bundle, f func(key string, dt DType) error) error {
	if err := f("a", Int64); err != nil {
		return err
	}
	for ts := range b.Tensors() {
		if ts.Name == "a" {
			continue
		}
		if err := f(ts.Name, ts.DType); err != nil {
			return err
		}
	}
	return nil
}

func fillAs[T versionNum](b *Bundle, key string, v int64) error {
	x, err := BundleView[T](b, key)
	if err != nil {
		return err
	}
	x.Fill(T(v))
	return nil
}

// fillBundleVersion writes v into every element of every tensor of b.
func fillBundleVersion(b *Bundle, v int64) error {
	return eachVersionTensor(b, func(key string, dt DType) error {
		switch dt {
		case Int64:
			return fillAs[int64](b, key, v)
		case Float64:
			return fillAs[float64](b, key, v)
		case Float32:
			return fillAs[float32](b, key, v)
		case Int32:
			return fillAs[int32](b, key, v)
		case Uint16, BFloat16:
			return fillAs[uint16](b, key, v)
		case Uint8:
			return fillAs[uint8](b, key, v)
		case Int16:
			return fillAs[int16](b, key, v)
		case Uint64:
			return fillAs[uint64](b, key, v)
		}
		return fmt.Errorf("no element type %v in a versioned bundle", dt)
	})
}

// countOthers returns how many elements of the tensor key do not hold v.
func countOthers[T versionNum](b *Bundle, key string, v int64) (int, error) {
	x, err := BundleView[T](b, key)
	if err != nil {
		return 0, err
	}
	want, bad := T(v), 0
	for _, e := range x.Data() {
		if e != want {
			bad++
		}
	}
	return bad, nil
}

// readBundleVersion reads every element of every tensor of b and returns
// the version of "a"'s first element and how many elements hold another.
func readBundleVersion(b *Bundle) (v int64, others int, err error) {
	a, err := BundleView[int64](b, "a")
	if err != nil {
		return 0, 0, err
	}
	v = a.Data()[0]
	err = eachVersionTensor(b, func(key string, dt DType) error {
		var n int
		var err error
		switch dt {
		case Int64:
			n, err = countOthers[int64](b, key, v)
		case Float64:
			n, err = countOthers[float64](b, key, v)
		case Float32:
			n, err = countOthers[float32](b, key, v)
		case Int32:
			n, err = countOthers[int32](b, key, v)
		case Uint16, BFloat16:
			n, err = countOthers[uint16](b, key, v)
		case Uint8:
			n, err = countOthers[uint8](b, key, v)
		case Int16:
			n, err = countOthers[int16](b, key, v)
		case Uint64:
			n, err = countOthers[uint64](b, key, v)
		default:
			err = fmt.Errorf("no element type %v in a versioned bundle", dt)
		}
		others += n
		return err
	})
	return v, others, err
}

// bundleVersionReader attaches the bundle, reads every tensor and closes
// it, until it reads version SHMTENSOR_LAST. It prints "ready" after its
// first read, "saw V" the first time it reads version V, and at the end
// "done READS MIXED VERSIONS": the reads in which some element held
// another version than "a"'s first are MIXED.
func bundleVersionReader(name string) error {
	last, err := strconv.ParseInt(os.Getenv("SHMTENSOR_LAST"), 10, 64)
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	reads, mixed := 0, 0
	for {
		b, err := AttachBundle(name, ReadOnly())
		if err != nil {
			return err
		}
		v, others, err := readBundleVersion(b)
		b.Close()
		if err != nil {
			return err
		}
		reads++
		if others > 0 {
			mixed++
			fmt.Fprintf(os.Stderr, "read %d: version %d with %d elements of others\n", reads, v, others)
		}
		if reads == 1 {
			fmt.Println("ready")
		}
		if !seen[v] {
			seen[v] = true
			fmt.Println("saw", v)
		}
		if v == last {
			break
		}
	}
	fmt.Println("done", reads, mixed, len(seen))
	return nil
}

// bundleReplaceStats counts what the readers of runBundleReplace saw.
type bundleReplaceStats struct {
	reads, mixed      int
	minSeen, maxSeen  int // versions seen by one reader
	versions, readers int
	bytes             int64 // of one version
}

// runBundleReplace starts readers reader processes on a bundle of
// versionSpecs(n) and replaces it versions times; every sync versions, it
// waits until every reader has read that version (or a later one), so
// each reader sees at least versions/sync of them. It fails the test on a
// mixed read or a reader's failure.
func runBundleReplace(t *testing.T, readers, versions, sync, n int) bundleReplaceStats {
	t.Helper()
	name := uniqueName(t)
	specs := versionSpecs(n)
	var size int64
	publish := func(v int64) {
		t.Helper()
		b, err := CreateBundle(name, specs, Unpublished())
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := fillBundleVersion(b, v); err != nil {
			t.Fatal(err)
		}
		if err := b.Replace(); err != nil {
			t.Fatal(err)
		}
		size = int64(len(b.Segment().mem))
	}
	publish(1)

	type done struct {
		i                  int
		reads, mixed, seen int
		err                error
		lastLine           string
	}
	maxSeen := make([]atomic.Int64, readers)
	ended := make([]atomic.Bool, readers)
	progress := make(chan struct{}, 1)
	results := make(chan done, readers)
	for i := range readers {
		// startChild registers the kill and wait after uniqueName's
		// removal, so the children are dead before the name goes.
		out, _ := startChild(t, child("bundle-version-reader", name, fmt.Sprintf("SHMTENSOR_LAST=%d", versions)))
		go func() {
			sc := bufio.NewScanner(out)
			r := done{i: i, err: fmt.Errorf("reader %d ended without a result", i)}
			for sc.Scan() {
				line := sc.Text()
				r.lastLine = line
				f := strings.Fields(line)
				switch {
				case len(f) == 2 && f[0] == "saw":
					v, _ := strconv.ParseInt(f[1], 10, 64)
					if v > maxSeen[i].Load() {
						maxSeen[i].Store(v)
					}
				case len(f) == 4 && f[0] == "done":
					r.reads, _ = strconv.Atoi(f[1])
					r.mixed, _ = strconv.Atoi(f[2])
					r.seen, _ = strconv.Atoi(f[3])
					r.err = nil
				}
				select {
				case progress <- struct{}{}:
				default:
				}
			}
			ended[i].Store(true)
			results <- r
			select {
			case progress <- struct{}{}:
			default:
			}
		}()
	}
	// Wait until every reader has read at least version v.
	waitAll := func(v int64) {
		t.Helper()
		timeout := time.After(2 * time.Minute)
		for {
			all := true
			for i := range maxSeen {
				if maxSeen[i].Load() < v {
					all = false
					if ended[i].Load() {
						t.Fatalf("reader %d ended before version %d", i, v)
					}
				}
			}
			if all {
				return
			}
			select {
			case <-progress:
			case <-timeout:
				t.Fatalf("the readers did not all read version %d within 2 minutes", v)
			}
		}
	}
	waitAll(1)
	for v := int64(2); v <= int64(versions); v++ {
		publish(v)
		if v%int64(sync) == 0 {
			waitAll(v)
		}
	}
	st := bundleReplaceStats{versions: versions, readers: readers, bytes: size, minSeen: versions + 1}
	for range readers {
		r := <-results
		if r.err != nil {
			t.Fatalf("reader %d: %v (last line %q)", r.i, r.err, r.lastLine)
		}
		st.reads += r.reads
		st.mixed += r.mixed
		st.minSeen = min(st.minSeen, r.seen)
		st.maxSeen = max(st.maxSeen, r.seen)
	}
	if st.mixed != 0 {
		t.Errorf("%d of %d reads saw two versions in one attach", st.mixed, st.reads)
	}
	if want := versions / sync; st.minSeen < want {
		t.Errorf("a reader saw %d versions, want at least %d", st.minSeen, want)
	}
	if got := leftovers(t, name); len(got) > 0 {
		t.Errorf("left %v", got)
	}
	return st
}

// TestBundleReplaceUnderReaders: 8 reader processes, 30 versions; each
// reader sees at least 10 of them, none mixed.
func TestBundleReplaceUnderReaders(t *testing.T) {
	st := runBundleReplace(t, 8, 30, 3, 1<<12)
	t.Logf("%d readers, %d versions of %d bytes: %d reads, %d mixed, each reader saw %d to %d versions",
		st.readers, st.versions, st.bytes, st.reads, st.mixed, st.minSeen, st.maxSeen)
}
