//go:build torture && linux

// The adversarial campaign: go test -tags torture -run Torture -v .
//
// Every case runs real processes, is bounded in time, counts its outcomes
// and prints them as a "RESULT" line (appended to the file named by
// SHMTENSOR_TORTURE_REPORT, if set). SHMTENSOR_TORTURE=short runs each case
// for a few hundred milliseconds, for CI; the default is the full run that
// docs/RELIABILITY.md quotes. Cases needing root (mounting a small tmpfs,
// a second user) skip without it. SHMTENSOR_TORTURE_SYSCTL=1 lets the
// mapping-limit case lower vm.max_map_count for the whole machine for a few
// seconds (and restore it).

package shmtensor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/sys"
)

func init() {
	childRoles["torture-create-loop"] = tortureCreateLoop
	childRoles["torture-enospc"] = tortureENOSPC
	childRoles["torture-squat"] = tortureSquat
	childRoles["torture-reader"] = tortureReader
	childRoles["torture-rewriter"] = tortureRewriter
	childRoles["torture-maplimit"] = tortureMapLimit
}

var short = os.Getenv("SHMTENSOR_TORTURE") == "short"

// scale returns full, or small in a short run.
func scale[T int | time.Duration](full, small T) T {
	if short {
		return small
	}
	return full
}

// result logs a case's counts as one line and appends it to the report.
func result(t *testing.T, kv ...any) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "RESULT %s:", strings.TrimPrefix(t.Name(), "Torture"))
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	t.Log(b.String())
	if p := os.Getenv("SHMTENSOR_TORTURE_REPORT"); p != "" {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, b.String())
			f.Close()
		}
	}
}

// checkContract fails the test unless err is nil or an *Error wrapping one
// of the sentinels or a system errno.
func checkContract(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %T is not an *Error: %v", what, err, err)
	}
	for _, s := range []error{ErrExist, ErrNotExist, ErrNotTensor, ErrDType, ErrShape, ErrInvalidName,
		ErrPermission, ErrNotSupported, ErrClosed, fs.ErrInvalid} {
		if errors.Is(err, s) {
			return
		}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return
	}
	t.Fatalf("%s: error matches no sentinel or errno: %v", what, err)
}

// TestTortureCreateRace: 16 processes create one name at the same instant;
// exactly one wins and the 15 others attach the complete segment.
func TestTortureCreateRace(t *testing.T) {
	rounds := scale(60, 3)
	var won, lost, bad int
	for round := range rounds {
		name := uniqueName(t)
		start := time.Now().Add(200 * time.Millisecond).UnixNano()
		var wg sync.WaitGroup
		var mu sync.Mutex
		w := 0
		for range 16 {
			wg.Go(func() {
				out, err := child("race-create", name, fmt.Sprintf("SHMTENSOR_START=%d", start)).Output()
				mu.Lock()
				defer mu.Unlock()
				switch s := strings.TrimSpace(string(out)); {
				case err != nil:
					bad++
					t.Errorf("round %d: %v %q", round, err, s)
				case s == "won":
					w++
					won++
				case s == "lost":
					lost++
				default:
					bad++
				}
			})
		}
		wg.Wait()
		if w != 1 {
			t.Errorf("round %d: %d winners", round, w)
		}
		Delete(name)
	}
	result(t, "rounds", rounds, "processes", 16*rounds, "won", won, "lost_and_attached", lost, "failures", bad)
	if bad != 0 || won != rounds {
		t.Fatal("a round without exactly one winner")
	}
}

// tortureCreateLoop creates segments under numbered names until killed, in
// the directory SHMTENSOR_DIR (shm when empty), through the temporary-name
// path when SHMTENSOR_TEMPNAME is set.
func tortureCreateLoop(prefix string) error {
	if os.Getenv("SHMTENSOR_TEMPNAME") != "" {
		openTmpfile = func(string, uint32) (int, error) { return -1, syscall.EOPNOTSUPP }
	}
	dir := os.Getenv("SHMTENSOR_DIR")
	for i := 0; ; i++ {
		n := fmt.Sprintf("%s-%d", prefix, i)
		if dir != "" {
			n = "file://" + filepath.Join(dir, n)
		}
		var opts []Option
		if i%2 == 1 {
			opts = append(opts, SharedArrayLayout())
		}
		if i%3 == 2 {
			opts = append(opts, Lazy())
		}
		t, err := Create[float32](n, []int{1024, 1024 + i%7}, opts...)
		if err != nil {
			return err
		}
		t.Close()
		fmt.Println(n)
	}
}

// TestTortureKillDuringCreate: creators killed with SIGKILL at random
// moments leave every name either absent or attachable, and no temporary
// file on the O_TMPFILE path; on the temporary-name path what they leave is
// found and removed by RemoveStale.
func TestTortureKillDuringCreate(t *testing.T) {
	kills := scale(400, 6)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for _, mode := range []string{"shm", "file-tmpfile", "file-tempname"} {
		t.Run(mode, func(t *testing.T) {
			dir := ""
			if mode != "shm" {
				dir = t.TempDir()
			}
			var names, attachable, broken, temps, removedTemps int
			for k := range kills / 3 {
				prefix := uniqueName(t)
				t.Cleanup(func() { removeByPrefix(prefix) })
				env := []string{"SHMTENSOR_DIR=" + dir}
				if mode == "file-tempname" {
					env = append(env, "SHMTENSOR_TEMPNAME=1")
				}
				killMidway(t, child("torture-create-loop", prefix, env...), rng, 15*time.Millisecond)
				where := dir
				if where == "" {
					where = "/dev/shm"
				}
				matches, _ := filepath.Glob(filepath.Join(where, prefix+"*"))
				for _, m := range matches {
					names++
					n := filepath.Base(m)
					if dir != "" {
						n = "file://" + m
					}
					a, err := Attach[float32](n)
					if err != nil {
						broken++
						t.Errorf("kill %d: %s: %v", k, n, err)
						continue
					}
					attachable++
					a.Close()
					Delete(n)
				}
				tmp, _ := filepath.Glob(filepath.Join(where, tempPrefix+prefix+"*"))
				temps += len(tmp)
				if len(tmp) > 0 {
					removed, err := RemoveStale(where, 0)
					if err != nil {
						t.Fatal(err)
					}
					removedTemps += len(removed)
				}
			}
			result(t, "kills", kills/3, "names_found", names, "attachable", attachable, "broken", broken,
				"temporaries_left", temps, "temporaries_removed_by_RemoveStale", removedTemps)
			if broken != 0 || (mode != "file-tempname" && temps != 0) || removedTemps != temps {
				t.Fatal("a killed creator left something broken or unremovable")
			}
		})
	}
}

// tortureENOSPC fills the small filesystem SHMTENSOR_DIR with segments of
// random sizes, reserved and lazy (attached with Reserve before writing),
// writes every page of what it got, and prints its counts.
func tortureENOSPC(dir string) error {
	rounds, _ := strconv.Atoi(os.Getenv("SHMTENSOR_ROUNDS"))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	var created, enospc, reserveENOSPC, written int
	var open []*Tensor[uint8]
	var pending []string
	for i := range rounds {
		n := "file://" + filepath.Join(dir, fmt.Sprintf("s%d.npy", i))
		lazy := rng.IntN(2) == 0
		var opts []Option
		if lazy {
			opts = append(opts, Lazy())
		}
		a, err := Create[uint8](n, []int{rng.IntN(3 << 19)}, opts...)
		if errors.Is(err, syscall.ENOSPC) {
			enospc++
		} else if err != nil {
			return err
		} else {
			created++
			a.Close()
			pending = append(pending, n)
		}
		// Lazy segments are attached a little later, when others may have
		// taken the space their pages need; a reader makes one safe with
		// Reserve before touching it.
		if len(pending) >= 3 || !lazy {
			for _, p := range pending {
				a, err := Attach[uint8](p, Reserve())
				if errors.Is(err, syscall.ENOSPC) {
					reserveENOSPC++
					Delete(p)
				} else if err != nil {
					return err
				} else {
					a.Fill(0xa5)
					written++
					open = append(open, a)
				}
			}
			pending = pending[:0]
		}
		if len(open) > 5 || rng.IntN(6) == 0 {
			for _, o := range open {
				name := o.Segment().Name()
				o.Close()
				Delete(name)
			}
			open = open[:0]
		}
	}
	fmt.Println(created, enospc, reserveENOSPC, written)
	return nil
}

// TestTortureENOSPC: on a 4 MiB tmpfs, segments of random sizes either
// fail with ENOSPC or are fully writable; nothing faults (the work runs in
// a child, so a SIGBUS would show as its death).
func TestTortureENOSPC(t *testing.T) {
	dir := mountFS(t, "tmpfs", "size=4m")
	rounds := scale(20000, 300)
	out, err := child("torture-enospc", dir, fmt.Sprintf("SHMTENSOR_ROUNDS=%d", rounds)).Output()
	if err != nil {
		t.Fatalf("child died (a fault?): %v", err)
	}
	var created, enospc, reserveENOSPC, written int
	fmt.Sscan(string(out), &created, &enospc, &reserveENOSPC, &written)
	result(t, "creates", rounds, "created", created, "create_ENOSPC", enospc, "attach_Reserve_ENOSPC", reserveENOSPC,
		"filled_completely", written, "faults", 0)
	if enospc == 0 || created == 0 {
		t.Fatalf("the case did not reach both outcomes: %s", out)
	}
}

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

// tortureSquat runs as another user: it pre-creates the name with mode
// 0666, as a squatter would, and prints its uid.
func tortureSquat(name string) error {
	a, err := Create[float64](name, []int{4}, Mode(0o666))
	if err != nil {
		return err
	}
	a.Close()
	fmt.Println(os.Getuid())
	return nil
}

// TestTorturePermissions: a segment squatted by another user is refused by
// the victim's Create (ErrExist) and Attach (ErrPermission), so the
// squatter's truncation cannot fault the victim; the other user cannot
// delete the victim's segments.
func TestTorturePermissions(t *testing.T) {
	needRoot(t, "a second user")
	rounds := scale(200, 5)
	var squatted, createRefused, attachRefused, deleteRefused int
	exe := nobodyExe(t)
	for range rounds {
		name := uniqueName(t)
		if out, err := runAsNobody(t, exe, "torture-squat", name); err != nil {
			t.Fatalf("squatter: %v %s", err, out)
		}
		squatted++
		if _, err := Create[float64](name, []int{4}); errors.Is(err, ErrExist) {
			createRefused++
		}
		if _, err := Attach[float64](name); errors.Is(err, ErrPermission) {
			attachRefused++
		}
		// The victim's own segment, 0644: the other user cannot remove it.
		mine := uniqueName(t)
		m, err := Create[float64](mine, []int{4}, Mode(0o644))
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
		if out, err := runAsNobody(t, exe, "attach-perm", mine); err == nil {
			deleteRefused++
		} else {
			t.Errorf("other user against a 0644 segment: %v %s", err, out)
		}
	}
	result(t, "rounds", rounds, "squatted", squatted, "victim_create_ErrExist", createRefused,
		"victim_attach_ErrPermission", attachRefused, "other_user_delete_refused", deleteRefused)
	if createRefused != rounds || attachRefused != rounds || deleteRefused != rounds {
		t.Fatal("a squatted or foreign segment was accepted")
	}
}

// TestTortureDeleteRace: Delete against a process swapping the name with
// a foreign file's (renameat2 RENAME_EXCHANGE in a loop).
func TestTortureDeleteRace(t *testing.T) {
	d := scale(30*time.Second, 700*time.Millisecond)
	r := deleteRace(t, d)
	result(t, "seconds", d.Seconds(), "rounds", r.rounds, "deleted", r.deleted, "refused_replaced", r.replaced,
		"foreign_removed", r.foreignRemoved, "segment_left_after_success", r.segmentLeft, "other_errors", r.otherErrors)
	if r.foreignRemoved != 0 || r.segmentLeft != 0 || r.otherErrors != 0 {
		t.Fatalf("%+v", r)
	}
}

func countFDs() int {
	es, _ := os.ReadDir("/proc/self/fd")
	return len(es)
}

func countSegmentMaps() int {
	b, _ := os.ReadFile("/proc/self/maps")
	return bytes.Count(b, []byte("/dev/shm/shmtensor-test-"))
}

// TestTortureLeaks: many create/attach/close/delete cycles, successful and
// failing, leave the process with the descriptors and segment mappings it
// had.
func TestTortureLeaks(t *testing.T) {
	cycles := scale(100000, 2000)
	runtime.GC()
	fd0, maps0, live0 := countFDs(), countSegmentMaps(), sys.Mappings()
	name := uniqueName(t)
	for i := range cycles {
		var opts []Option
		if i%2 == 1 {
			opts = append(opts, SharedArrayLayout())
		}
		a, err := Create[float32](name, []int{16, 16}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Create[float32](name, []int{1}); !errors.Is(err, ErrExist) {
			t.Fatal(err)
		}
		b, err := Attach[float32](name, ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Attach[int8](name); !errors.Is(err, ErrDType) {
			t.Fatal(err)
		}
		b.Close()
		a.Close()
		if err := Delete(name); err != nil {
			t.Fatal(err)
		}
	}
	fd1, maps1, live1 := countFDs(), countSegmentMaps(), sys.Mappings()
	result(t, "cycles", cycles, "fds_before", fd0, "fds_after", fd1, "segment_maps_before", maps0, "segment_maps_after", maps1,
		"live_mappings_before", live0, "live_mappings_after", live1)
	if fd1 != fd0 || maps1 != maps0 || live1 != live0 {
		t.Fatal("leak")
	}
}

// tortureMapLimit attaches one segment until refused, then grows the heap
// by 512 MiB: the runtime must survive. With SHMTENSOR_FAKE_LIMIT it
// lowers the limit for this process only.
func tortureMapLimit(name string) error {
	if v := os.Getenv("SHMTENSOR_FAKE_LIMIT"); v != "" {
		extra, _ := strconv.ParseInt(v, 10, 64)
		limit := sys.CountMaps() + sys.MapHeadroom + extra
		sys.MaxMapCount = func() int64 { return limit }
	}
	var open []*Segment
	var refused error
	for {
		s, err := Open(name, ReadOnly())
		if err != nil {
			refused = err
			break
		}
		open = append(open, s)
	}
	if !errors.Is(refused, syscall.ENOMEM) || !strings.Contains(refused.Error(), "vm.max_map_count") {
		return fmt.Errorf("after %d mappings: %v", len(open), refused)
	}
	var heap [][]byte
	for range 512 {
		b := make([]byte, 1<<20)
		b[0] = 1
		heap = append(heap, b)
	}
	runtime.GC()
	fmt.Println(len(open), len(heap), refused)
	for _, s := range open {
		s.Close()
	}
	return nil
}

// TestTortureMapLimit: near vm.max_map_count, Open is refused with ENOMEM
// while the runtime still has room to grow the heap. By default the limit
// is lowered for the child process alone (through the package's view of
// it); with SHMTENSOR_TORTURE_SYSCTL=1 (root) the real sysctl is lowered
// to 8192 for the duration and restored.
func TestTortureMapLimit(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[uint8](name, []int{16})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	env := []string{fmt.Sprintf("SHMTENSOR_FAKE_LIMIT=%d", scale(3000, 200))}
	how := "package_limit"
	if os.Getenv("SHMTENSOR_TORTURE_SYSCTL") == "1" {
		needRoot(t, "sysctl vm.max_map_count")
		old, err := os.ReadFile("/proc/sys/vm/max_map_count")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("/proc/sys/vm/max_map_count", []byte("8192"), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.WriteFile("/proc/sys/vm/max_map_count", old, 0) })
		env, how = nil, "sysctl_8192"
	}
	out, err := child("torture-maplimit", name, env...).Output()
	if err != nil {
		t.Fatalf("child: %v %s", err, out)
	}
	fields := strings.Fields(string(out))
	result(t, "limit", how, "segments_mapped_before_refusal", fields[0], "heap_MiB_grown_after", fields[1], "runtime_died", 0)
	t.Log(string(out))
}

// tortureReader attaches the segment, says so, and reads it until it
// faults. With SHMTENSOR_PANIC_ON_FAULT it recovers the fault as a panic
// (debug.SetPanicOnFault) and prints "recovered".
func tortureReader(name string) error {
	a, err := Attach[uint8](name, ReadOnly())
	if err != nil {
		return err
	}
	if os.Getenv("SHMTENSOR_PANIC_ON_FAULT") != "" {
		debug.SetPanicOnFault(true)
		defer func() {
			if r := recover(); r != nil {
				fmt.Println("recovered:", r)
				os.Exit(0)
			}
		}()
	}
	fmt.Println("attached")
	data := a.Data()
	var sum byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		for i := 0; i < len(data); i += 4096 {
			sum += data[i]
		}
	}
	fmt.Println("no fault", sum)
	return nil
}

// TestTortureTruncateUnderReader: the owner truncating a segment under a
// reader kills the reader with SIGBUS (the kernel's rule for MAP_SHARED;
// the package cannot prevent it, which is why Attach refuses segments of
// other owners), unless the reader turned faults into panics with
// debug.SetPanicOnFault.
func TestTortureTruncateUnderReader(t *testing.T) {
	rounds := scale(20, 2)
	var sigbus, recovered int
	for i := range rounds {
		name := uniqueName(t)
		a, err := Create[uint8](name, []int{4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		var env []string
		if i%2 == 1 {
			env = append(env, "SHMTENSOR_PANIC_ON_FAULT=1")
		}
		cmd := child("torture-reader", name, env...)
		cmd.Stderr = io.Discard
		stdout, _ := startChild(t, cmd)
		sc := bufio.NewScanner(stdout)
		sc.Scan()
		os.Truncate(filepath.Join("/dev/shm", name), 4096)
		var last string
		for sc.Scan() {
			last = sc.Text()
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		switch {
		case strings.HasPrefix(last, "recovered"):
			recovered++
		case errors.As(err, &ee) && strings.Contains(ee.String(), "exit status 2"):
			sigbus++ // the Go runtime reports "unexpected fault address" and exits 2
		case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGBUS:
			sigbus++
		default:
			t.Errorf("round %d: reader ended with %v, last line %q", i, err, last)
		}
	}
	result(t, "rounds", rounds, "reader_killed_by_SIGBUS", sigbus, "reader_recovered_with_SetPanicOnFault", recovered)
}

// tortureRewriter rewrites the segment's header in place, alternating two
// valid headers of the same size, until killed: a foreign writer that does
// not use Create.
func tortureRewriter(name string) error {
	h1, _ := testNPYHeader(Float64, []int{2, 8}, false)
	h2, _ := testNPYHeader(Float64, []int{16}, true)
	f, err := os.OpenFile(filepath.Join("/dev/shm", name), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	for {
		f.WriteAt(h1, 0)
		f.WriteAt(h2, 0)
	}
}

// TestTortureTornHeader: reads racing a foreign in-place rewrite of the
// header can see a mix of two valid headers (a documented limit: Create
// never rewrites a header, so only foreign writers cause it). Counted, not
// asserted.
func TestTortureTornHeader(t *testing.T) {
	reads := scale(60000, 2000)
	name := uniqueName(t)
	a, err := Create[float64](name, []int{2, 8})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	out, stop := startChild(t, child("torture-rewriter", name))
	defer stop()
	out.ReadString('\n')
	outcomes := map[string]int{}
	for range reads {
		in, err := Stat(name)
		checkContract(t, "stat", err)
		switch {
		case err != nil:
			outcomes["refused"]++
		case !in.Fortran && len(in.Shape) == 2 && in.Shape[0] == 2 && in.Shape[1] == 8:
			outcomes["first"]++
		case in.Fortran && len(in.Shape) == 1 && in.Shape[0] == 16:
			outcomes["second"]++
		default:
			outcomes["torn"]++
		}
	}
	result(t, "reads", reads, "first_header", outcomes["first"], "second_header", outcomes["second"],
		"torn_mix", outcomes["torn"], "refused", outcomes["refused"])
}
