//go:build linux

package shmtensor

// Wait and WaitReplaced: on inotify, by polling, and cancelled.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/sys"
)

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

// inotifyStarted replaces sys.InotifyInit for the test with one that first
// says on the channel returned that a wait has got that far (past its look
// at ctx), then fails as for a user out of inotify instances if exhausted,
// or calls inotify_init1.
func inotifyStarted(t *testing.T, exhausted bool) <-chan struct{} {
	started := make(chan struct{}, 1)
	sys.InotifyInit = func(flags int) (int, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		if exhausted {
			return -1, syscall.EMFILE
		}
		return unix.InotifyInit1(flags)
	}
	t.Cleanup(func() { sys.InotifyInit = unix.InotifyInit1 })
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
