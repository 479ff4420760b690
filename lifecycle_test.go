//go:build linux

package shmtensor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lifecycleNames returns a shm name and a file:// name for lifecycle tests,
// each removed when the test ends.
func lifecycleNames(t *testing.T) map[string]string {
	return map[string]string{"shm": uniqueName(t), "file": tempFileName(t, "x.npy")}
}

// dirOf returns the directory a name's file is in.
func dirOf(t *testing.T, name string) string {
	n, err := parseName(name)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(pathOf(n))
}

// leftovers lists hidden names of the package left in the name's directory
// by this name.
func leftovers(t *testing.T, name string) []string {
	n, _ := parseName(name)
	base := filepath.Base(pathOf(n))
	var out []string
	for _, p := range []string{tempPrefix + base, lockPrefix + base} {
		m, _ := filepath.Glob(filepath.Join(dirOf(t, name), p+"*"))
		out = append(out, m...)
	}
	return out
}

func TestPublish(t *testing.T) {
	for kind, name := range lifecycleNames(t) {
		t.Run(kind, func(t *testing.T) {
			a, err := Create[int32](name, []int{4, 5}, Unpublished())
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			a.Set(7, 3, 4)
			if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
				t.Fatalf("Stat of an unpublished segment: %v, want ErrNotExist", err)
			}
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("unpublished segment visible under %v", got)
			}
			if err := a.Segment().Publish(); err != nil {
				t.Fatal(err)
			}
			b, err := Attach[int32](name)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if b.At(3, 4) != 7 || b.Segment().ID() != a.Segment().ID() {
				t.Fatalf("attached %v (id %v), want 7 from id %v", b.At(3, 4), b.Segment().ID(), a.Segment().ID())
			}
			if err := a.Segment().Publish(); !errors.Is(err, ErrExist) {
				t.Fatalf("second Publish: %v, want ErrExist", err)
			}
			if err := a.Segment().Replace(); !errors.Is(err, ErrExist) {
				t.Fatalf("Replace after Publish: %v, want ErrExist", err)
			}
			a.Close()
			if _, err := Stat(name); err != nil {
				t.Fatalf("Close of a published segment removed it: %v", err)
			}
			if err := Delete(name); err != nil {
				t.Fatal(err)
			}
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
}

func TestUnpublishedCloseLeavesNothing(t *testing.T) {
	for kind, name := range lifecycleNames(t) {
		t.Run(kind, func(t *testing.T) {
			var before []string
			if kind == "file" {
				before, _ = filepath.Glob(filepath.Join(dirOf(t, name), "*"))
			}
			a, err := Create[float64](name, []int{100}, Unpublished(), SharedArrayLayout())
			if err != nil {
				t.Fatal(err)
			}
			a.Fill(1)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
				t.Fatalf("Stat after closing unpublished: %v", err)
			}
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
			if kind == "file" {
				after, _ := filepath.Glob(filepath.Join(dirOf(t, name), ".*"))
				after2, _ := filepath.Glob(filepath.Join(dirOf(t, name), "*"))
				if len(after)+len(after2) != len(before) {
					t.Fatalf("directory holds %v %v, before %v", after, after2, before)
				}
			}
			if err := a.Segment().Publish(); !errors.Is(err, ErrClosed) {
				t.Fatalf("Publish after Close: %v, want ErrClosed", err)
			}
		})
	}
}

func TestPublishTaken(t *testing.T) {
	for kind, name := range lifecycleNames(t) {
		t.Run(kind, func(t *testing.T) {
			old, err := Create[float32](name, []int{3})
			if err != nil {
				t.Fatal(err)
			}
			old.Fill(1)
			defer old.Close()
			a, err := Create[float32](name, []int{3}, Unpublished())
			if err != nil {
				t.Fatalf("Unpublished create under a taken name: %v", err)
			}
			defer a.Close()
			a.Fill(2)
			if err := a.Segment().Publish(); !errors.Is(err, ErrExist) {
				t.Fatalf("Publish over a taken name: %v, want ErrExist", err)
			}
			// Still unpublished: Replace may name it.
			if err := a.Segment().Replace(); err != nil {
				t.Fatal(err)
			}
			b, err := Attach[float32](name)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if b.At(0) != 2 || old.At(0) != 1 {
				t.Fatalf("after replace: new attach sees %v, old holder %v; want 2 and 1", b.At(0), old.At(0))
			}
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
}

func TestReplace(t *testing.T) {
	for kind, name := range lifecycleNames(t) {
		t.Run(kind, func(t *testing.T) {
			// Replace with nothing there publishes.
			v1, err := Create[int64](name, []int{2, 2}, Unpublished())
			if err != nil {
				t.Fatal(err)
			}
			v1.Fill(1)
			if err := v1.Segment().Replace(); err != nil {
				t.Fatal(err)
			}
			r1, err := Attach[int64](name, ReadOnly())
			if err != nil {
				t.Fatal(err)
			}
			defer r1.Close()
			info1, _ := Stat(name)
			// Another shape and type: a replacement is a new segment.
			v2, err := Create[float64](name, []int{5}, Unpublished())
			if err != nil {
				t.Fatal(err)
			}
			v2.Fill(2)
			if err := v2.Segment().Replace(); err != nil {
				t.Fatal(err)
			}
			v1.Fill(9) // the replaced segment stays the creator's and reader's
			if r1.At(1, 1) != 9 {
				t.Fatalf("holder of the replaced segment sees %v, want 9", r1.At(1, 1))
			}
			info2, err := Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if info2.ID == info1.ID || info2.ID != v2.Segment().ID() || info2.DType != Float64 {
				t.Fatalf("after Replace the name holds %+v; before %+v", info2, info1)
			}
			r2, err := Attach[float64](name)
			if err != nil {
				t.Fatal(err)
			}
			defer r2.Close()
			if r2.At(4) != 2 {
				t.Fatalf("new attach sees %v, want 2", r2.At(4))
			}
			v1.Close()
			v2.Close()
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
}

func TestReplaceRefusesForeign(t *testing.T) {
	for kind, name := range lifecycleNames(t) {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(dirOf(t, name), filepath.Base(strings.TrimPrefix(strings.TrimPrefix(name, "file://"), "shm://")))
			foreign := []byte("someone else's data, not a tensor\n")
			if err := os.WriteFile(path, foreign, 0o600); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(path)
			a, err := Create[uint8](name, []int{64}, Unpublished())
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if err := a.Segment().Replace(); !errors.Is(err, ErrNotTensor) {
				t.Fatalf("Replace over a foreign file: %v, want ErrNotTensor", err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != string(foreign) {
				t.Fatalf("foreign file now %q, %v", got, err)
			}
			if err := a.Segment().Publish(); !errors.Is(err, ErrExist) {
				t.Fatalf("Publish over a foreign file: %v, want ErrExist", err)
			}
			// A directory under the name is refused too.
			os.Remove(path)
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := a.Segment().Replace(); !errors.Is(err, ErrNotTensor) {
				t.Fatalf("Replace over a directory: %v, want ErrNotTensor", err)
			}
			if st, err := os.Stat(path); err != nil || !st.IsDir() {
				t.Fatalf("directory gone: %v", err)
			}
			os.Remove(path)
			a.Close()
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
}

func TestWait(t *testing.T) {
	for kind, name := range lifecycleNames(t) {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan error, 1)
			var got Info
			go func() {
				var err error
				got, err = Wait(ctx, name)
				done <- err
			}()
			// A foreign file under the name does not end the wait.
			path := dirOf(t, name) + "/" + filepath.Base(pathOfName(t, name))
			os.WriteFile(path, []byte("not a tensor"), 0o600)
			select {
			case err := <-done:
				t.Fatalf("Wait ended on a foreign file: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
			os.Remove(path)
			a, err := Create[int16](name, []int{8}, Unpublished())
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if err := a.Segment().Publish(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got.ID != a.Segment().ID() || got.DType != Int16 {
				t.Fatalf("Wait returned %+v, want the published segment %v", got, a.Segment().ID())
			}
			// Present already: at once.
			if info, err := Wait(ctx, name); err != nil || info.ID != got.ID {
				t.Fatalf("Wait on a present segment: %+v, %v", info, err)
			}
			// WaitReplaced.
			go func() {
				var err error
				got, err = WaitReplaced(ctx, name, got)
				done <- err
			}()
			select {
			case err := <-done:
				t.Fatalf("WaitReplaced ended without a replacement: %v", err)
			case <-time.After(50 * time.Millisecond):
			}
			b, err := Create[int16](name, []int{8}, Unpublished())
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if err := b.Segment().Replace(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got.ID != b.Segment().ID() {
				t.Fatalf("WaitReplaced returned %v, want %v", got.ID, b.Segment().ID())
			}
		})
	}
}

func pathOfName(t *testing.T, name string) string {
	n, err := parseName(name)
	if err != nil {
		t.Fatal(err)
	}
	return pathOf(n)
}

// inotifyStarted replaces inotifyInit for the test with one that first
// says on the channel returned that a wait has got that far (past its look
// at ctx), then fails as for a user out of inotify instances if exhausted,
// or calls inotify_init1.
func inotifyStarted(t *testing.T, exhausted bool) <-chan struct{} {
	started := make(chan struct{}, 1)
	inotifyInit = func(flags int) (int, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		if exhausted {
			return -1, syscall.EMFILE
		}
		return unix.InotifyInit1(flags)
	}
	t.Cleanup(func() { inotifyInit = unix.InotifyInit1 })
	return started
}

func TestWaitCancel(t *testing.T) {
	started := inotifyStarted(t, false)
	name := uniqueName(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Wait(ctx, name)
		done <- err
	}()
	<-started // cancelled while it waits, not before
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancel: %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := WaitReplaced(ctx, name, Info{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitReplaced past its deadline: %v, want context.DeadlineExceeded", err)
	}
	// A cancelled context with the segment present: the segment wins only
	// if the context is live.
	if _, err := Wait(ctx, name); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a done context: %v", err)
	}
	if _, err := Wait(context.Background(), "file:///nonexistent-dir-shmtensor/x"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Wait in a missing directory: %v, want ErrNotExist", err)
	}
}

func TestMappersSelf(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{10})
	if err != nil {
		t.Fatal(err)
	}
	pids, err := Mappers(name)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, os.Getpid()) {
		t.Fatalf("Mappers %v lacks this process %d", pids, os.Getpid())
	}
	table, err := MappedBy()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(table[a.Segment().ID()], os.Getpid()) {
		t.Fatalf("MappedBy()[%v] = %v lacks this process", a.Segment().ID(), table[a.Segment().ID()])
	}
	a.Close()
	pids, err = Mappers(name)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(pids, os.Getpid()) {
		t.Fatalf("Mappers %v still lists this process after Close", pids)
	}
	if _, err := Mappers(uniqueName(t)); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Mappers of a missing name: %v", err)
	}
}

func TestMapsLine(t *testing.T) {
	for _, c := range []struct {
		line string
		id   FileID
		ok   bool
	}{
		{"7f1c2a000000-7f1c2a001000 rw-s 00000000 00:1a 12345                      /dev/shm/x", FileID{Dev: 0x1a, Ino: 12345}, true},
		{"7f1c2a000000-7f1c2a001000 r--s 00001000 fd:01 987 /data/x.npy (deleted)", FileID{Dev: 0xfd<<8 | 1, Ino: 987}, true},
		{"7ffd5f3e0000-7ffd5f401000 rw-p 00000000 00:00 0                          [stack]", FileID{}, false},
		{"garbage", FileID{}, false},
		{"a-b rw-p 0 zz:01 5 /x", FileID{}, false},
	} {
		id, ok := mapsLineFile([]byte(c.line))
		if ok != c.ok || id != c.id {
			t.Errorf("mapsLineFile(%q) = %v, %v; want %v, %v", c.line, id, ok, c.id, c.ok)
		}
	}
}

func TestAttachOrCreate(t *testing.T) {
	for kind, name := range lifecycleNames(t) {
		t.Run(kind, func(t *testing.T) {
			calls := 0
			init := func(x *Tensor[float32]) error {
				calls++
				x.Fill(3)
				return nil
			}
			// A failing init publishes nothing and leaves no lock file.
			boom := errors.New("boom")
			if _, _, err := AttachOrCreate(name, []int{2, 3}, func(*Tensor[float32]) error { return boom }); !errors.Is(err, boom) {
				t.Fatalf("failing init: %v", err)
			}
			if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
				t.Fatalf("after a failed init: %v", err)
			}
			a, created, err := AttachOrCreate(name, []int{2, 3}, init)
			if err != nil || !created || calls != 1 || a.At(1, 2) != 3 {
				t.Fatalf("first call: created %v, %d init calls, err %v", created, calls, err)
			}
			defer a.Close()
			b, created, err := AttachOrCreate(name, []int{2, 3}, init, ReadOnly())
			if err != nil || created || calls != 1 || b.At(1, 2) != 3 || !b.ReadOnly() {
				t.Fatalf("second call: created %v, %d init calls, err %v", created, calls, err)
			}
			defer b.Close()
			if _, _, err := AttachOrCreate(name, []int{3, 2}, init); !errors.Is(err, ErrShape) {
				t.Fatalf("other shape: %v, want ErrShape", err)
			}
			if _, _, err := AttachOrCreate(name, []int{2, 3}, func(*Tensor[int32]) error { return nil }); !errors.Is(err, ErrDType) {
				t.Fatalf("other type: %v, want ErrDType", err)
			}
			if calls != 1 {
				t.Fatalf("%d init calls", calls)
			}
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
			// A panicking init publishes nothing and releases the lock.
			other := name + "-p"
			func() {
				defer func() { recover() }()
				AttachOrCreate(other, []int{1}, func(*Tensor[int8]) error { panic("init panics") })
			}()
			if _, err := Stat(other); !errors.Is(err, ErrNotExist) {
				t.Fatalf("after a panicking init: %v", err)
			}
			c, created, err := AttachOrCreate(other, []int{1}, func(*Tensor[int8]) error { return nil })
			if err != nil || !created {
				t.Fatalf("after a panicking init: created %v, %v", created, err)
			}
			c.Close()
			Delete(other)
			if got := leftovers(t, other); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
}

// TestReplaceRace: a foreign file put under the name after Replace checked
// it, before the swap, gets the name back and is left intact.
func TestReplaceRace(t *testing.T) {
	for kind, name := range lifecycleNames(t) {
		t.Run(kind, func(t *testing.T) {
			old, err := Create[int8](name, []int{4})
			if err != nil {
				t.Fatal(err)
			}
			old.Close()
			foreign := []byte("written by someone else between check and swap\n")
			testHookBeforeExchange = func(final string) {
				os.Remove(final)
				if err := os.WriteFile(final, foreign, 0o600); err != nil {
					t.Error(err)
				}
			}
			defer func() { testHookBeforeExchange = nil }()
			a, err := Create[int8](name, []int{4}, Unpublished())
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if err := a.Segment().Replace(); !errors.Is(err, ErrNotTensor) {
				t.Fatalf("Replace with a foreign file swapped in: %v, want ErrNotTensor", err)
			}
			path := pathOfName(t, name)
			if got, err := os.ReadFile(path); err != nil || string(got) != string(foreign) {
				t.Fatalf("the foreign file under the name is now %q, %v", got, err)
			}
			os.Remove(path)
			// Still unpublished: with the hook gone it can be published,
			// and its private name goes.
			testHookBeforeExchange = nil
			if err := a.Segment().Publish(); err != nil {
				t.Fatal(err)
			}
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
			b, err := Attach[int8](name)
			if err != nil || b.Segment().ID() != a.Segment().ID() {
				t.Fatalf("after Publish: %v", err)
			}
			b.Close()
			// Close after a failed Replace leaves nothing either.
			c, err := Create[int8](name, []int{4}, Unpublished())
			if err != nil {
				t.Fatal(err)
			}
			testHookBeforeExchange = func(final string) {
				os.Remove(final)
				os.WriteFile(final, foreign, 0o600)
			}
			if err := c.Segment().Replace(); !errors.Is(err, ErrNotTensor) {
				t.Fatalf("Replace over a foreign file: %v", err)
			}
			c.Close()
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
			if got, _ := os.ReadFile(path); string(got) != string(foreign) {
				t.Fatalf("foreign file now %q", got)
			}
			os.Remove(path)
		})
	}
}

// TestWaitWithoutInotify: a user out of inotify instances still waits, by
// polling.
func TestWaitWithoutInotify(t *testing.T) {
	started := inotifyStarted(t, true)
	name := uniqueName(t)
	done := make(chan error, 1)
	go func() {
		_, err := Wait(context.Background(), name)
		done <- err
	}()
	<-started // created while it waits, not before
	a, err := Create[int8](name, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	info, _ := Stat(name)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := WaitReplaced(ctx, name, info)
		done <- err
	}()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("polling WaitReplaced after cancel: %v", err)
	}
}

// TestWaitHalfWritten: a .npy file written in place, as np.save does, ends
// the wait only once it is complete.
func TestWaitHalfWritten(t *testing.T) {
	name := tempFileName(t, "x.npy")
	src, err := Create[float64](uniqueName(t), []int{64, 64})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var npy strings.Builder
	if _, err := src.Segment().WriteTo(&npy); err != nil {
		t.Fatal(err)
	}
	path := pathOfName(t, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	half := len(npy.String()) / 2
	f.WriteString(npy.String()[:half])
	done := make(chan error, 1)
	go func() {
		_, err := Wait(context.Background(), name)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Wait ended on a half-written file: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	f.WriteString(npy.String()[half:])
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestUnpublishedSurvivesRemoveStale: on a filesystem without O_TMPFILE an
// Unpublished segment has a temporary name, however long it is filled;
// RemoveStale leaves it while it is mapped, and removes it once it is not.
func TestUnpublishedSurvivesRemoveStale(t *testing.T) {
	saved := openTmpfile
	t.Cleanup(func() { openTmpfile = saved })
	openTmpfile = func(string, uint32) (int, error) { return -1, syscall.EOPNOTSUPP }
	name := tempFileName(t, "x.npy")
	dir := dirOf(t, name)
	a, err := Create[int16](name, []int{8}, Unpublished())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tmp := leftovers(t, name)
	if len(tmp) != 1 {
		t.Fatalf("temporary names %v, want one", tmp)
	}
	old := time.Now().Add(-2 * StaleAge)
	os.Chtimes(tmp[0], old, old)
	if removed, err := RemoveStale(dir, StaleAge); err != nil || len(removed) > 0 {
		t.Fatalf("RemoveStale removed %v, %v: the file is mapped", removed, err)
	}
	a.Fill(5)
	if err := a.Segment().Publish(); err != nil {
		t.Fatal(err)
	}
	if got := leftovers(t, name); len(got) > 0 {
		t.Fatalf("left behind %v", got)
	}
	// An unmapped one of the same age is stale.
	b, err := Create[int16](name+"2", []int{8}, Unpublished())
	if err != nil {
		t.Fatal(err)
	}
	tmp = leftovers(t, name+"2")
	os.Chtimes(tmp[0], old, old)
	// Unmapped but still open: a killed creator leaves exactly this.
	unmap(b.Segment().mem)
	b.Segment().mem = nil
	if removed, err := RemoveStale(dir, StaleAge); err != nil || len(removed) != 1 {
		t.Fatalf("RemoveStale removed %v, %v; want the unmapped temporary file", removed, err)
	}
	b.Close()
}
