package sys

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// The primitives' contracts, checked directly; the root package's tests
// check them again through the API.

func TestOpenRefusesLinksAndFIFOs(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "f")
	if err := os.WriteFile(reg, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(reg, filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(dir, "l"), false); !errors.Is(err, ELOOP) {
		t.Errorf("Open of a symlink: %v, want ELOOP", err)
	}
	fd, err := Open(reg, true)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Fstat(fd)
	Close(fd)
	if err != nil || st.Kind != Regular || st.Size != 1 || st.Perm != 0o600 {
		t.Errorf("Fstat = %+v, %v", st, err)
	}
	if st, err := Lstat(filepath.Join(dir, "l")); err != nil || st.Kind != Symlink {
		t.Errorf("Lstat of a symlink: %+v, %v", st, err)
	}
	if st, err := Lstat(dir); err != nil || st.Kind != Dir {
		t.Errorf("Lstat of a directory: %+v, %v", st, err)
	}
}

func TestCreateExclusiveAndUnlinkID(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	fd, err := CreateExclusive(p)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(fd)
	if _, err := CreateExclusive(p); !errors.Is(err, EEXIST) {
		t.Errorf("second CreateExclusive: %v, want EEXIST", err)
	}
	st, err := Fstat(fd)
	if err != nil {
		t.Fatal(err)
	}
	if err := UnlinkID(p, ID{Dev: st.ID.Dev, Ino: st.ID.Ino + 1}); !errors.Is(err, ErrReplaced) {
		t.Errorf("UnlinkID of another identity: %v, want ErrReplaced", err)
	}
	if _, err := Lstat(p); err != nil {
		t.Fatalf("UnlinkID removed a file it was not given: %v", err)
	}
	if err := UnlinkID(p, st.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := Lstat(p); !errors.Is(err, ENOENT) {
		t.Errorf("after UnlinkID: %v, want ENOENT", err)
	}
}

func TestRenameNoReplaceAndExchange(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("a"), 0o600)
	os.WriteFile(b, []byte("b"), 0o600)
	switch err := RenameNoReplace(a, b); {
	case errors.Is(err, ErrNoRenameFlags):
		t.Log("no RENAME_NOREPLACE on this filesystem")
	case !errors.Is(err, EEXIST):
		t.Errorf("RenameNoReplace onto a file: %v, want EEXIST", err)
	}
	switch err := Exchange(a, b); {
	case errors.Is(err, ErrNoExchange):
		t.Skip("no RENAME_EXCHANGE on this filesystem")
	case err != nil:
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(a); string(got) != "b" {
		t.Errorf("after Exchange, a holds %q", got)
	}
}

func TestTmpfileLinkFD(t *testing.T) {
	dir := t.TempDir()
	fd, err := OpenTmpfile(dir, 0o640)
	if err != nil {
		t.Skipf("no O_TMPFILE here: %v", err)
	}
	defer Close(fd)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("an unnamed file shows up as %v", entries)
	}
	p := filepath.Join(dir, "x")
	if err := LinkFD(fd, p); err != nil {
		t.Fatal(err)
	}
	if st, err := Lstat(p); err != nil || st.Perm != 0o640 {
		t.Errorf("linked file: %+v, %v (want mode exactly 0640)", st, err)
	}
	if err := LinkFD(fd, p); !errors.Is(err, EEXIST) {
		t.Errorf("LinkFD onto a taken name: %v, want EEXIST", err)
	}
}

func TestLocksBelongToTheDescription(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	fd, err := CreateExclusive(p)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(fd)
	Truncate(fd, 100)
	other, err := ReopenFD(fd, true)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(other)
	if err := SetLock(fd, 0, 50, false, false); err != nil {
		t.Fatal(err)
	}
	// A second description of the same process conflicts on the range...
	if err := SetLock(other, 10, 10, true, false); !errors.Is(err, ErrWouldBlock) {
		t.Errorf("overlapping lock from another description: %v, want ErrWouldBlock", err)
	}
	// ...and not beside it.
	if err := SetLock(other, 50, 10, false, false); err != nil {
		t.Errorf("disjoint lock: %v", err)
	}
	if err := ClearLock(fd, 0, 50); err != nil {
		t.Fatal(err)
	}
	if err := SetLock(other, 10, 10, true, false); err != nil {
		t.Errorf("after ClearLock: %v", err)
	}
}

func TestWaitWordWake(t *testing.T) {
	word := new(uint32)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := WaitWord(ctx, word, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitWord with nothing changing: %v, want DeadlineExceeded", err)
	}
	if err := WaitWord(context.Background(), word, 1); err != nil {
		t.Errorf("WaitWord on a word that differs: %v", err)
	}
	var started atomic.Bool
	done := make(chan error, 1)
	go func() {
		started.Store(true)
		done <- WaitWord(context.Background(), word, 0)
	}()
	for !started.Load() {
		time.Sleep(time.Millisecond)
	}
	// The change comes before the wake, as the contract says; a waiter not
	// yet asleep sees it and returns, one asleep is woken.
	atomic.StoreUint32(word, 1)
	for {
		WakeWord(word, 1)
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestWatchDir(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	calls := 0
	err := WatchDir(ctx, dir, "x", func() (bool, error) {
		calls++
		if calls == 1 {
			// After the watch is in place: the creation is seen.
			return false, os.WriteFile(filepath.Join(dir, "x"), nil, 0o600)
		}
		_, err := os.Stat(filepath.Join(dir, "x"))
		return err == nil, nil
	})
	if err != nil || calls < 2 {
		t.Fatalf("WatchDir: %v after %d checks", err, calls)
	}
	if err := WatchDir(ctx, filepath.Join(dir, "none"), "x", func() (bool, error) { return false, nil }); !errors.Is(err, errs.ErrNotExist) {
		t.Errorf("WatchDir of a missing directory: %v, want ErrNotExist", err)
	}
	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := WatchDir(short, dir, "y", func() (bool, error) { return false, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("WatchDir with a cancelled context: %v", err)
	}
}

func TestMapCountsMappings(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	fd, err := CreateExclusive(p)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(fd)
	if err := Allocate(fd, 1<<16); err != nil && !errors.Is(err, ErrNoAllocate) {
		t.Fatal(err)
	}
	Truncate(fd, 1<<16)
	before := Mappings()
	mem, err := Map(fd, 1<<16, true, Populate)
	if err != nil {
		t.Fatal(err)
	}
	if Mappings() != before+1 {
		t.Errorf("Mappings after Map: %d, want %d", Mappings(), before+1)
	}
	mem[100] = 7
	if err := Msync(mem, SyncSync); err != nil {
		t.Error(err)
	}
	if err := ProtectRead(mem); err != nil {
		t.Error(err)
	}
	if m, err := ScanMappers(&ID{}); err != nil || len(m) != 0 {
		t.Errorf("ScanMappers of no file: %v, %v", m, err)
	}
	st, _ := Fstat(fd)
	if m, err := ScanMappers(&st.ID); err != nil || len(m[st.ID]) != 1 || m[st.ID][0] != os.Getpid() {
		t.Errorf("ScanMappers of the mapped file: %v, %v; want this process", m, err)
	}
	if n, err := HugeBytes(mem); err != nil || n < 0 {
		t.Errorf("HugeBytes: %d, %v", n, err)
	}
	if err := Unmap(mem); err != nil {
		t.Fatal(err)
	}
	if Mappings() != before {
		t.Errorf("Mappings after Unmap: %d, want %d", Mappings(), before)
	}
	b := make([]byte, 200)
	if n, err := Pread(fd, b, 0); n != 200 || err != nil || b[100] != 7 {
		t.Errorf("Pread after writing through the mapping: %d, %v, %d", n, err, b[100])
	}
}

func TestPseudoFS(t *testing.T) {
	for path, want := range map[string]string{"/proc": "procfs", "/proc/self": "procfs", "/sys": "sysfs", "/dev/shm": "", t.TempDir(): ""} {
		name, ok := PseudoFS(path)
		if name != want || ok != (want != "") {
			if _, err := os.Stat(path); err != nil {
				continue // not mounted here
			}
			t.Errorf("PseudoFS(%s) = %q, %v; want %q", path, name, ok, want)
		}
	}
}
