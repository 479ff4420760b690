//go:build linux

package shmtensor

// Replace: a new segment under a name, readers of the old one unharmed.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
