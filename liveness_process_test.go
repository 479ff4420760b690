//go:build linux

package shmtensor

// Liveness across PID namespaces, and gc's deletions under churn, with real
// processes (and real namespaces: unshare(1), as root).

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor/internal/testenv"
)

func init() {
	childRoles["live-holder"] = childLiveHolder
	childRoles["ns-gc"] = childNSGC
	childRoles["gc-churn"] = childGCChurn
}

// holderSegments keeps childLiveHolder's segments open.
var holderSegments []*Tensor[float32]

// childLiveHolder creates SHMTENSOR_COUNT segments NAME-0, NAME-1, ...,
// keeps them all open, says "ready" and waits to be killed.
func childLiveHolder(name string) error {
	n, _ := strconv.Atoi(os.Getenv("SHMTENSOR_COUNT"))
	for i := range n {
		t, err := Create[float32](fmt.Sprintf("%s-%d", name, i), []int{16})
		if err != nil {
			return err
		}
		holderSegments = append(holderSegments, t)
	}
	fmt.Println("ready")
	// Until killed. Not select {}: with no other goroutine the runtime
	// would end the process as deadlocked (it does on 386).
	for {
		time.Sleep(time.Hour)
	}
}

// childNSGC does what "shmtensor gc --yes --older-than 0s" does with the
// segments NAME-*, from wherever it runs (another PID namespace): for
// each, it notes whether /proc shows a mapper and what Mappers says, and
// calls DeleteUnused. It prints the counts.
func childNSGC(name string) error {
	infos, err := List()
	if err != nil {
		return err
	}
	mapped, err := MappedBy()
	if err != nil {
		return err
	}
	var seen, unseen, deleted, inUse int
	for _, in := range infos {
		if !strings.HasPrefix(in.Name, "shm://"+name+"-") {
			continue
		}
		if len(mapped[in.ID]) > 0 {
			seen++
		}
		if pids, err := Mappers(in.Name); err == nil && slices.Equal(pids, []int{UnseenMapper}) {
			unseen++
		}
		switch err := DeleteUnused(in.Name, in.ID); {
		case err == nil:
			deleted++
		case errors.Is(err, ErrInUse):
			inUse++
		default:
			return err
		}
	}
	fmt.Printf("procs=%d seen=%d unseen=%d deleted=%d inuse=%d\n", len(procPIDs()), seen, unseen, deleted, inUse)
	return nil
}

// procPIDs lists the processes /proc shows.
func procPIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// inNamespace returns a command that runs this test binary in role in a
// new PID namespace with its own /proc.
func inNamespace(unshare, role, name string, env ...string) *exec.Cmd {
	cmd := child(role, name, env...)
	cmd.Stderr = nil // unshare's complaint when its child is killed
	cmd.Args = append([]string{unshare, "--pid", "--fork", "--mount-proc", "--kill-child"}, cmd.Args...)
	cmd.Path = unshare
	return cmd
}

// nsGC runs childNSGC in a namespace of its own and returns its counts.
func nsGC(t *testing.T, unshare, name string) map[string]int {
	t.Helper()
	out, err := inNamespace(unshare, "ns-gc", name).Output()
	if err != nil {
		t.Fatalf("gc in another namespace: %v: %s", err, out)
	}
	counts := map[string]int{}
	for _, f := range strings.Fields(string(out)) {
		k, v, _ := strings.Cut(f, "=")
		counts[k], _ = strconv.Atoi(v)
	}
	return counts
}

// TestLivenessAcrossPIDNamespaces: a process in one PID namespace holds
// 1,000 segments; from a sibling namespace, where /proc does not show it
// (two containers sharing /dev/shm), Mappers reports each as held by an
// unseen process and gc's DeleteUnused deletes none of them; once the holder
// is killed, it deletes all of them.
func TestLivenessAcrossPIDNamespaces(t *testing.T) {
	unshare := testenv.NeedUnshare(t)
	const n = 1000
	during, after := livenessRound(t, unshare, n)
	if during["seen"] != 0 || during["unseen"] != n || during["deleted"] != 0 || during["inuse"] != n {
		t.Fatalf("while the holder lives: %v; want seen=0 unseen=%d deleted=0 inuse=%d", during, n, n)
	}
	if after["unseen"] != 0 || after["deleted"] != n || after["inuse"] != 0 {
		t.Fatalf("after the holder died: %v; want unseen=0 deleted=%d inuse=0", after, n)
	}
}

// livenessRound starts a holder of n segments in a PID namespace of its
// own and runs childNSGC in a sibling namespace, then kills the holder and
// runs childNSGC again; it returns the counts of both runs.
func livenessRound(t *testing.T, unshare string, n int) (during, after map[string]int) {
	t.Helper()
	name := uniqueName(t)
	defer removeByPrefix(name + "-")
	holder := inNamespace(unshare, "live-holder", name, "SHMTENSOR_COUNT="+strconv.Itoa(n))
	out, stop := startChild(t, holder)
	defer stop()
	if line, err := out.ReadString('\n'); strings.TrimSpace(line) != "ready" {
		t.Fatalf("holder: %q, %v", line, err)
	}
	during = nsGC(t, unshare, name)
	if during["procs"] > 2 {
		t.Fatalf("the gc namespace shows %d processes: not a namespace of its own", during["procs"])
	}
	// Kill the holder itself (pid 1 of its namespace, unshare's child):
	// once unshare has reaped it, its descriptors, and locks, are gone.
	kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", holder.Process.Pid, holder.Process.Pid))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(kids)))
	if err != nil || pid <= 0 {
		t.Fatalf("the holder's pid: %q, %v", kids, err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	holder.Wait()
	return during, nsGC(t, unshare, name)
}

// childGCChurn churns on the names NAME-0 ... NAME-4 until SHMTENSOR_UNTIL
// (Unix nanoseconds): Create, Unpublished + Publish, Unpublished + Replace,
// AttachOrCreate, Attach + read + Close. It never deletes. Right before
// closing each segment it held, it checks with fstat whether the file is
// still linked, and at the end prints the files it found unlinked under
// it ("vanished DEV INO"; its own Replaces and the others' unlink old
// versions too), then "ops N".
func childGCChurn(name string) error {
	until, _ := strconv.ParseInt(os.Getenv("SHMTENSOR_UNTIL"), 10, 64)
	shape := []int{64}
	var vanished []FileID
	ops := 0
	hold := func(t *Tensor[float64]) error {
		defer t.Close()
		t.At(0)
		// Hold it a little, and leave the names idle a little after, so
		// that gc finds segments unused between uses (pacing, not
		// synchronisation).
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
		defer time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		var st syscall.Stat_t
		if err := syscall.Fstat(t.seg.fd, &st); err != nil {
			return err
		}
		if st.Nlink == 0 {
			vanished = append(vanished, t.seg.ID())
		}
		return nil
	}
	for time.Now().UnixNano() < until {
		n := fmt.Sprintf("%s-%d", name, rand.IntN(5))
		var t *Tensor[float64]
		var err error
		switch rand.IntN(5) {
		case 0:
			t, err = Create[float64](n, shape)
		case 1, 2:
			if t, err = Create[float64](n, shape, Unpublished()); err == nil {
				publish := t.seg.Publish
				if rand.IntN(2) == 0 {
					publish = t.seg.Replace
				}
				if err = publish(); err != nil {
					t.Close()
				}
			}
		case 3:
			t, _, err = AttachOrCreate(n, shape, func(*Tensor[float64]) error { return nil })
		case 4:
			t, err = Attach[float64](n)
		}
		ops++
		if err != nil {
			if errors.Is(err, ErrExist) || errors.Is(err, ErrNotExist) {
				continue
			}
			return fmt.Errorf("%s: %w", n, err)
		}
		if err := hold(t); err != nil {
			return err
		}
	}
	for _, id := range vanished {
		fmt.Printf("vanished %d %d\n", id.Dev, id.Ino)
	}
	fmt.Printf("ops %d\n", ops)
	return nil
}

// gcChurn is the churn of issue #20, section 5: 4 processes churn on 5
// names (childGCChurn) while gc deletes, every 50 ms, every segment of
// theirs it finds unused (older-than 0s), for d. check is the deletion
// gc makes once it has found a segment unmapped in its scan.
//
// The oracle: a file is unlinked once. A child that finds the file it
// holds unlinked right before closing it saw it unlinked while it had it
// mapped, by a Replace (rename over it) or by gc. A hook in the deletion
// records the identity of every file that gc really unlinks (lstat of the
// private name right before the unlink, not what gc meant to delete), so
// a file both vanished under a child and unlinked by gc was deleted by gc
// while a live process mapped it: a fault.
func gcChurn(t *testing.T, d time.Duration, check func(name string, id FileID) error) (faults, deleted, refused, vanished, ops int) {
	name := uniqueName(t)
	defer removeByPrefix(name + "-")
	until := time.Now().Add(d)
	var outs []*bufio.Reader
	var cmds []*exec.Cmd
	for range 4 {
		cmd := child("gc-churn", name, "SHMTENSOR_UNTIL="+strconv.FormatInt(until.UnixNano(), 10))
		out, _ := startChild(t, cmd)
		outs, cmds = append(outs, out), append(cmds, cmd)
	}
	// What gc really unlinks, seen at the private name right before the
	// unlink, whatever gc believes it deletes.
	gone := map[FileID]bool{}
	testHookUnlink = func(aside string) {
		if id, err := lstatID(aside); err == nil {
			gone[id] = true
		}
	}
	defer func() { testHookUnlink = nil }()
	for time.Now().Before(until) {
		infos, err := List()
		if err != nil {
			t.Fatal(err)
		}
		mapped, err := MappedBy()
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range infos {
			if !strings.HasPrefix(in.Name, "shm://"+name+"-") || len(mapped[in.ID]) > 0 {
				continue
			}
			switch err := check(in.Name, in.ID); {
			case err == nil:
				deleted++
			case errors.Is(err, ErrInUse), errors.Is(err, ErrNotTensor), errors.Is(err, ErrNotExist):
				refused++
				if os.Getenv("SHMTENSOR_GC_DEBUG") != "" {
					t.Log(err)
				}
			default:
				t.Fatalf("gc: %v", err)
			}
		}
		time.Sleep(50 * time.Millisecond) // gc's period, not a synchronisation
	}
	for i, out := range outs {
		for {
			line, err := out.ReadString('\n')
			if err != nil {
				break
			}
			var id FileID
			var n int
			if _, err := fmt.Sscanf(line, "vanished %d %d", &id.Dev, &id.Ino); err == nil {
				vanished++
				if gone[id] {
					faults++
				}
			} else if _, err := fmt.Sscanf(line, "ops %d", &n); err == nil {
				ops += n
			}
		}
		if err := cmds[i].Wait(); err != nil {
			t.Fatalf("churn child: %v", err)
		}
	}
	return
}

// oldGCCheck is gc's check before the fix, kept as the oracle's control:
// Stat, Mappers and Delete each look the name up again.
func oldGCCheck(name string, id FileID) error {
	in, err := Stat(name)
	if err != nil {
		return err
	}
	if in.ID != id {
		return ErrNotTensor
	}
	if pids, err := Mappers(name); err != nil || len(pids) > 0 {
		return ErrInUse
	}
	return Delete(name)
}

// gcChurnDuration is how long the churn runs: SHMTENSOR_GC_CHURN (a Go
// duration), 2 s by default.
func gcChurnDuration(t *testing.T, def time.Duration) time.Duration {
	if s := os.Getenv("SHMTENSOR_GC_CHURN"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("SHMTENSOR_GC_CHURN=%q: %v", s, err)
		}
		return d
	}
	return def
}

// TestGCChurnDeletesNoMappedSegment: under the churn of gcChurn, gc
// (DeleteUnused) deletes no segment that a live process maps.
func TestGCChurnDeletesNoMappedSegment(t *testing.T) {
	d := gcChurnDuration(t, 2*time.Second)
	check := func(name string, id FileID) error { return DeleteUnused(name, id) }
	if os.Getenv("SHMTENSOR_GC_OLD") != "" {
		check = oldGCCheck // the control: this must find faults
	}
	faults, deleted, refused, vanished, ops := gcChurn(t, d, check)
	t.Logf("%v: %d churn operations, gc deleted %d and left %d alone; %d files unlinked under a child (by Replace); %d deleted by gc while mapped",
		d, ops, deleted, refused, vanished, faults)
	if faults != 0 {
		t.Fatalf("gc deleted %d segments that a live process mapped", faults)
	}
	if deleted == 0 || ops == 0 {
		t.Fatalf("the churn did nothing: %d operations, %d deleted", ops, deleted)
	}
}
