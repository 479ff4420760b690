//go:build linux

package shmtensor

// Delete against processes that swap or retake the name meanwhile.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func init() { childRoles["exchange-loop"] = exchangeLoop }

// exchangeLoop swaps the names name and name+"-foreign" in /dev/shm with
// renameat2(RENAME_EXCHANGE) until killed.
func exchangeLoop(name string) error {
	a, b := filepath.Join("/dev/shm", name), filepath.Join("/dev/shm", name+"-foreign")
	fmt.Println("ready")
	for {
		unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	}
}

// deleteRace runs Delete against a process swapping the segment's name with
// a foreign file's for d and counts the outcomes. A foreign file removed is
// detected by its link count dropping to 0 on a descriptor kept open.
// With churners, as many processes also Create, Attach, Delete and
// Replace segments under the name (churnLoop): Delete then also meets
// segments that take the name while it holds the foreign file aside, and
// names that others deleted first (gone); a successful Delete may have
// removed one of theirs instead of the round's segment.
type deleteRaceResult struct {
	rounds, deleted, replaced, gone, foreignRemoved, segmentLeft, otherErrors int
	firstOther                                                                error
	leftovers                                                                 []string
}

func deleteRace(t testing.TB, d time.Duration, churners int) deleteRaceResult {
	name := uniqueName(t)
	foreignPath := filepath.Join("/dev/shm", name+"-foreign")
	t.Cleanup(func() {
		removeByPrefix(name)
		removeByPrefix(asidePrefix + name)
		removeByPrefix(tempPrefix + name)
	})
	out, stop := startChild(t, child("exchange-loop", name))
	defer stop()
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	// The churners end on their own, after d: one killed could leave a
	// private name.
	var cs []*exec.Cmd
	for range churners {
		c := child("churn", name, "SHMTENSOR_CHURN_EXACT=1", "SHMTENSOR_CHURN_FOR="+d.String())
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	var r deleteRaceResult
	segPath := filepath.Join("/dev/shm", name)
	nlink := func(fd int) uint64 {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		return uint64(st.Nlink)
	}
	newForeign := func() int {
		ffd, err := unix.Open(foreignPath, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		unix.Write(ffd, []byte("a foreign file that is not a tensor\n"))
		return ffd
	}
	// With churners, one foreign file serves the whole run: two foreign
	// files cannot share the name, and the churners' Deletes may hold one
	// aside across rounds.
	ffd := -1
	if churners > 0 {
		ffd = newForeign()
		defer unix.Close(ffd)
	}
	for end := time.Now().Add(d); time.Now().Before(end); {
		r.rounds++
		if churners == 0 {
			// With one of the two names missing the swapper fails, so
			// the round starts from a known state.
			os.Remove(segPath)
			os.Remove(foreignPath)
			os.Remove(segPath)
			ffd = newForeign()
		}
		seg, err := CreateSegment(name, Float64, []int{8})
		if err != nil && (churners == 0 || !errors.Is(err, ErrExist)) {
			unix.Close(ffd)
			if errors.Is(err, ErrExist) {
				continue // the foreign file was swapped onto the name first
			}
			t.Fatal(err)
		}
		err = Delete(name)
		switch {
		case err == nil:
			r.deleted++
		case errors.Is(err, ErrNotTensor):
			r.replaced++ // refused: found the foreign file, or a changed name
		case churners > 0 && errors.Is(err, ErrNotExist):
			r.gone++ // another process deleted it first
		default:
			r.otherErrors++
			if r.firstOther == nil {
				r.firstOther = err
			}
		}
		if nlink(ffd) == 0 {
			r.foreignRemoved++
			if churners > 0 {
				break
			}
		}
		if err == nil && churners == 0 && nlink(seg.fd) != 0 {
			r.segmentLeft++
		}
		if seg != nil {
			seg.Close()
		}
		if churners == 0 {
			unix.Close(ffd)
		}
	}
	stop()
	for _, c := range cs {
		if err := c.Wait(); err != nil {
			t.Errorf("churner: %v", err)
		}
	}
	r.leftovers, _ = filepath.Glob("/dev/shm/" + asidePrefix + name + "*")
	return r
}

// TestDeleteRaceRemovesNoForeignFile: a process swapping the name being
// deleted with a foreign file's (RENAME_EXCHANGE, in a loop) never gets
// Delete to remove the foreign file, nor to leave anything at a private
// name, also while other processes create, replace and delete segments
// under the name.
func TestDeleteRaceRemovesNoForeignFile(t *testing.T) {
	d := 2 * time.Second
	if testing.Short() {
		d = 500 * time.Millisecond
	}
	for _, churners := range []int{0, 2} {
		t.Run(fmt.Sprintf("churners=%d", churners), func(t *testing.T) {
			r := deleteRace(t, d, churners)
			t.Logf("%+v", r)
			if r.foreignRemoved != 0 || r.segmentLeft != 0 || r.otherErrors != 0 || len(r.leftovers) > 0 {
				t.Fatalf("%d rounds: %d deleted, %d refused, %d gone, %d foreign files removed, %d deletes that left the segment, %d other errors (first: %v), private names left %q",
					r.rounds, r.deleted, r.replaced, r.gone, r.foreignRemoved, r.segmentLeft, r.otherErrors, r.firstOther, r.leftovers)
			}
			if r.deleted == 0 {
				t.Fatalf("no Delete succeeded in %d rounds", r.rounds)
			}
		})
	}
}

// TestDeletePutsBackAReplacedFile: a file renamed over the name after
// Delete validated the segment is put back, not removed.
func TestDeletePutsBackAReplacedFile(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	n, _ := parseName(name)
	f, err := openFile(n, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	// Another file is renamed over the name after f was validated.
	stranger := filepath.Join("/dev/shm", name+"-stranger")
	os.WriteFile(stranger, []byte("not ours"), 0o600)
	t.Cleanup(func() { os.Remove(stranger) })
	if err := os.Rename(stranger, filepath.Join("/dev/shm", name)); err != nil {
		t.Fatal(err)
	}
	err = unlinkNamed(n, f, isSegment)
	if !errors.Is(err, ErrNotTensor) || !strings.Contains(err.Error(), "not a tensor segment") {
		t.Fatalf("unlink of a replaced name: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join("/dev/shm", name)); err != nil || string(b) != "not ours" {
		t.Fatalf("the replacing file was not put back: %q, %v", b, err)
	}
	if left, _ := filepath.Glob("/dev/shm/" + asidePrefix + name + "*"); len(left) > 0 {
		t.Fatalf("private names left: %v", left)
	}
}

// TestDeleteLeavesAsideWhenNameRetaken: when the moved file must be given
// back and the name was taken again meanwhile by another file that must be
// kept too, the two cannot share the name: the moved file stays under the
// private name and the error says where.
func TestDeleteLeavesAsideWhenNameRetaken(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	t.Cleanup(func() { removeByPrefix(asidePrefix + name) })
	n, _ := parseName(name)
	f, err := openFile(n, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	path := filepath.Join("/dev/shm", name)
	stranger := path + "-stranger"
	os.WriteFile(stranger, []byte("not ours"), 0o600)
	t.Cleanup(func() { os.Remove(stranger) })
	if err := os.Rename(stranger, path); err != nil {
		t.Fatal(err)
	}
	testHookAside = func(p string) { os.WriteFile(p, []byte("new"), 0o600) }
	defer func() { testHookAside = nil }()
	err = unlinkNamed(n, f, isSegment)
	left, _ := filepath.Glob("/dev/shm/" + asidePrefix + name + "*")
	if !errors.Is(err, ErrNotTensor) || len(left) != 1 || !strings.Contains(err.Error(), left[0]) {
		t.Fatalf("got %v; private names %v", err, left)
	}
	if b, _ := os.ReadFile(left[0]); string(b) != "not ours" {
		t.Fatalf("the private name holds %q", b)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("the name holds %q", b)
	}
}

// validated creates a segment under a fresh name and opens it as Delete
// does, returning the name, its parsed form and the open file.
func validated(t *testing.T) (string, segName, *file) {
	t.Helper()
	name := uniqueName(t)
	t.Cleanup(func() { removeByPrefix(name); removeByPrefix(asidePrefix + name) })
	a, err := Create[float64](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	n, _ := parseName(name)
	f, err := openFile(n, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.close)
	return name, n, f
}

// renamedOver creates a segment under name+suffix and renames it over
// name, as another process's Replace or Delete-then-Create would leave it.
func renamedOver(t *testing.T, name, suffix string) *Segment {
	t.Helper()
	s, err := CreateSegment(name+suffix, Float64, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := os.Rename(filepath.Join("/dev/shm", name+suffix), filepath.Join("/dev/shm", name)); err != nil {
		t.Fatal(err)
	}
	return s
}

// linked returns the link count of the segment's file.
func linked(t *testing.T, s *Segment) uint64 {
	var st unix.Stat_t
	if err := unix.Fstat(s.fd, &st); err != nil {
		t.Fatal(err)
	}
	return uint64(st.Nlink)
}

func noAside(t *testing.T, name string) {
	t.Helper()
	if left, _ := filepath.Glob("/dev/shm/" + asidePrefix + name + "*"); len(left) > 0 {
		t.Fatalf("private names left: %v", left)
	}
}

// TestDeleteRemovesTheSegmentTheNameHolds: a segment that replaced the
// validated one is the one the name holds when Delete takes it: it is
// validated in turn and removed.
func TestDeleteRemovesTheSegmentTheNameHolds(t *testing.T) {
	name, n, f := validated(t)
	b := renamedOver(t, name, "-b")
	if err := unlinkNamed(n, f, isSegment); err != nil {
		t.Fatal(err)
	}
	if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
		t.Fatalf("after delete: %v", err)
	}
	if linked(t, b) != 0 {
		t.Fatal("the segment the name held was not removed")
	}
	noAside(t, name)
}

// TestDeleteKeepsASegmentCreatedMeanwhile: a segment created under the
// name while Delete holds what it took aside stays.
func TestDeleteKeepsASegmentCreatedMeanwhile(t *testing.T) {
	name, n, f := validated(t)
	b := renamedOver(t, name, "-b")
	var c *Segment
	testHookAside = func(string) {
		var err error
		if c, err = CreateSegment(name, Float64, []int{4}); err != nil {
			t.Error(err)
		}
	}
	defer func() { testHookAside = nil }()
	if err := unlinkNamed(n, f, isSegment); err != nil {
		t.Fatal(err)
	}
	if c == nil {
		t.FailNow()
	}
	defer c.Close()
	if in, err := Stat(name); err != nil || in.ID != c.id {
		t.Fatalf("the name holds %v (%v), not the segment created meanwhile", in.ID, err)
	}
	if linked(t, b) != 0 {
		t.Fatal("the segment the name held was not removed")
	}
	noAside(t, name)
}

// TestDeleteGivesTheNameBackToAForeignFile: a foreign file found aside
// gets its name back even when a segment took the name meanwhile: the two
// are exchanged, and the segment, the name's holder at that instant, is
// removed.
func TestDeleteGivesTheNameBackToAForeignFile(t *testing.T) {
	name, n, f := validated(t)
	path := filepath.Join("/dev/shm", name)
	os.WriteFile(path+"-stranger", []byte("not ours"), 0o600)
	if err := os.Rename(path+"-stranger", path); err != nil {
		t.Fatal(err)
	}
	var c *Segment
	testHookAside = func(string) {
		var err error
		if c, err = CreateSegment(name, Float64, []int{4}); err != nil {
			t.Error(err)
		}
	}
	defer func() { testHookAside = nil }()
	err := unlinkNamed(n, f, isSegment)
	if c == nil {
		t.FailNow()
	}
	defer c.Close()
	if !errors.Is(err, ErrNotTensor) {
		t.Fatalf("delete of a name given a foreign file: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "not ours" {
		t.Fatalf("the name holds %q (%v), not the foreign file", b, err)
	}
	if linked(t, c) != 0 {
		t.Fatal("the segment that took the name is still linked")
	}
	noAside(t, name)
}
