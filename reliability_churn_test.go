//go:build linux

package shmtensor

// Delete, Create, Attach and Replace by several processes on the same few
// names: legitimate churn, every file a tensor segment.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func init() { childRoles["churn"] = churnLoop }

// churnNames is how many names the churn processes share.
const churnNames = 3

// churnLoop runs random Create, Attach, Delete and Replace on the names
// name-0, name-1, ... (name itself if SHMTENSOR_CHURN_EXACT is set) for
// SHMTENSOR_CHURN_FOR, then prints one line of
// counts, "op.outcome=N ...", outcome being ok, exist, notexist or other,
// and one "other op: error" line for each of the first errors outside
// the contract.
func churnLoop(name string) error {
	d, err := time.ParseDuration(os.Getenv("SHMTENSOR_CHURN_FOR"))
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	counts := map[string]int{}
	var others []string
	note := func(op string, err error) {
		kind := "ok"
		switch {
		case err == nil:
		case errors.Is(err, ErrExist):
			kind = "exist"
		case errors.Is(err, ErrNotExist):
			kind = "notexist"
		default:
			kind = "other"
			if len(others) < 5 {
				others = append(others, fmt.Sprintf("other %s: %v", op, err))
			}
		}
		counts[op+"."+kind]++
	}
	exact := os.Getenv("SHMTENSOR_CHURN_EXACT") != ""
	for end := time.Now().Add(d); time.Now().Before(end); {
		n := fmt.Sprintf("%s-%d", name, rng.IntN(churnNames))
		if exact {
			n = name
		}
		switch rng.IntN(4) {
		case 0:
			t, err := Create[float64](n, []int{16})
			if err == nil {
				t.Set(1, 0)
				t.Close()
			}
			note("create", err)
		case 1:
			t, err := Attach[float64](n)
			if err == nil {
				_ = t.At(0)
				t.Close()
			}
			note("attach", err)
		case 2:
			note("delete", Delete(n))
		case 3:
			s, err := CreateSegment(n, Float64, []int{16}, Unpublished())
			if err == nil {
				err = s.Replace()
				s.Close()
			}
			note("replace", err)
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, counts[k])
	}
	fmt.Println("counts" + b.String())
	for _, o := range others {
		fmt.Println(strings.ReplaceAll(o, "\n", " "))
	}
	return nil
}

// churnResult sums the children's counts.
type churnResult struct {
	counts    map[string]int // "delete.ok" → N
	others    []string       // first errors outside the contract
	leftovers []string       // private names left in /dev/shm
}

func (r churnResult) total(suffix string) int {
	n := 0
	for k, v := range r.counts {
		if strings.HasSuffix(k, suffix) {
			n += v
		}
	}
	return n
}

// churn runs procs processes of churnLoop for d on fresh names and
// returns what they counted and what they left at private names.
func churn(t testing.TB, procs int, d time.Duration) churnResult {
	name := uniqueName(t)
	t.Cleanup(func() {
		for _, p := range []string{name, tempPrefix + name, asidePrefix + name, lockPrefix + name} {
			removeByPrefix(p)
		}
	})
	r := churnResult{counts: map[string]int{}}
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := child("churn", name, "SHMTENSOR_CHURN_FOR="+d.String()).Output()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.others = append(r.others, fmt.Sprintf("child: %v: %s", err, out))
				return
			}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				counts, ok := strings.CutPrefix(line, "counts")
				if !ok {
					r.others = append(r.others, line)
					continue
				}
				for _, kv := range strings.Fields(counts) {
					k, v, _ := strings.Cut(kv, "=")
					n, _ := strconv.Atoi(v)
					r.counts[k] += n
				}
			}
		}()
	}
	wg.Wait()
	for _, p := range []string{tempPrefix, asidePrefix, lockPrefix} {
		left, _ := filepath.Glob(filepath.Join("/dev/shm", p+name+"*"))
		r.leftovers = append(r.leftovers, left...)
	}
	return r
}

// churnDuration is SHMTENSOR_CHURN (a duration such as "20s") or def.
func churnDuration(t testing.TB, def time.Duration) time.Duration {
	if s := os.Getenv("SHMTENSOR_CHURN"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("SHMTENSOR_CHURN=%q: %v", s, err)
		}
		return d
	}
	return def
}

// checkChurn fails t unless every error was ErrExist or ErrNotExist,
// nothing was left at a private name, and deletes succeeded.
func checkChurn(t testing.TB, r churnResult) {
	t.Helper()
	if len(r.others) > 0 || r.counts["delete.ok"] == 0 || r.total(".ok") == 0 || len(r.leftovers) > 0 {
		t.Fatalf("counts %v\nerrors outside ErrExist/ErrNotExist (first ones): %q\nleft at private names: %q",
			r.counts, r.others, r.leftovers)
	}
}

// TestDeleteChurn: 4 processes Create, Attach, Delete and Replace on 3
// names for 3 s (SHMTENSOR_CHURN): every error is ErrExist or ErrNotExist
// and nothing is left at a private name. Before Delete took whatever the
// name held, it failed with "the name was replaced" dozens of times a
// second and hid the segments it had moved aside.
func TestDeleteChurn(t *testing.T) {
	def := 3 * time.Second
	if testing.Short() {
		def = time.Second
	}
	r := churn(t, 4, churnDuration(t, def))
	t.Logf("counts %v", r.counts)
	checkChurn(t, r)
}
