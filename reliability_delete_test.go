//go:build linux

package shmtensor

// Delete against processes that swap or retake the name meanwhile.

import (
	"errors"
	"fmt"
	"os"
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
type deleteRaceResult struct {
	rounds, deleted, replaced, foreignRemoved, segmentLeft, otherErrors int
	firstOther                                                          error
}

func deleteRace(t testing.TB, d time.Duration) deleteRaceResult {
	name := uniqueName(t)
	foreignPath := filepath.Join("/dev/shm", name+"-foreign")
	t.Cleanup(func() {
		os.Remove(foreignPath)
		removeByPrefix(asidePrefix + name)
	})
	out, stop := startChild(t, child("exchange-loop", name))
	defer stop()
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
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
	for end := time.Now().Add(d); time.Now().Before(end); {
		r.rounds++
		// With one of the two names missing the swapper fails, so the
		// round starts from a known state.
		os.Remove(segPath)
		os.Remove(foreignPath)
		os.Remove(segPath)
		ffd, err := unix.Open(foreignPath, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		unix.Write(ffd, []byte("a foreign file that is not a tensor\n"))
		seg, err := CreateSegment(name, Float64, []int{8})
		if err != nil {
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
		default:
			r.otherErrors++
			if r.firstOther == nil {
				r.firstOther = err
			}
		}
		if nlink(ffd) == 0 {
			r.foreignRemoved++
		}
		if err == nil && nlink(seg.fd) != 0 {
			r.segmentLeft++
		}
		unix.Close(ffd)
		seg.Close()
	}
	return r
}

// TestDeleteRaceRemovesNoForeignFile: a process swapping the name being
// deleted with a foreign file's (RENAME_EXCHANGE, in a loop) never gets
// Delete to remove the foreign file.
func TestDeleteRaceRemovesNoForeignFile(t *testing.T) {
	d := 2 * time.Second
	if testing.Short() {
		d = 500 * time.Millisecond
	}
	r := deleteRace(t, d)
	t.Logf("%+v", r)
	if r.foreignRemoved != 0 || r.segmentLeft != 0 || r.otherErrors != 0 {
		t.Fatalf("%d rounds: %d deleted, %d refused, %d foreign files removed, %d deletes that left the segment, %d other errors (first: %v)",
			r.rounds, r.deleted, r.replaced, r.foreignRemoved, r.segmentLeft, r.otherErrors, r.firstOther)
	}
	if r.deleted == 0 {
		t.Fatalf("no Delete succeeded in %d rounds", r.rounds)
	}
	if left, _ := filepath.Glob("/dev/shm/" + asidePrefix + "*"); len(left) > 0 {
		t.Fatalf("private names left: %v", left)
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
	err = unlinkNamed(n, f)
	if !errors.Is(err, ErrNotTensor) || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("unlink of a replaced name: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join("/dev/shm", name)); err != nil || string(b) != "not ours" {
		t.Fatalf("the replacing file was not put back: %q, %v", b, err)
	}
	if left, _ := filepath.Glob("/dev/shm/" + asidePrefix + name + "*"); len(left) > 0 {
		t.Fatalf("private names left: %v", left)
	}
}

// TestDeleteLeavesAsideWhenNameRetaken: when the moved file is not the
// validated one and the name was taken again meanwhile, the file stays under
// the private name and the error says where.
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
	err = unlinkNamed(n, f)
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
