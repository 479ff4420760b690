//go:build linux

package shmtensor

// AttachOrCreate within one process (lifecycle_process_test.go has the
// cases across processes).

import (
	"errors"
	"testing"
)

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
