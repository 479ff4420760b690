package shmtensor_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/shmtensor/shmtensor"
)

// Writers in any number of processes update a tensor under an exclusive
// lock; the kernel releases it if a holder dies.
func ExampleSegment_Lock() {
	name := exampleName("lock")
	t, err := shmtensor.Create[float64](name, []int{2, 3})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	defer t.Close()

	unlock, err := t.Segment().Lock(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	t.Fill(1) // no other locker sees a half-filled tensor
	// Another attach (or process) is excluded meanwhile.
	other, err := shmtensor.Open(name)
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	_, err = other.TryLock()
	fmt.Println(errors.Is(err, shmtensor.ErrLocked))
	unlock()

	// A cancellable context bounds the wait.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	unlock, err = other.RLock(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer unlock()
	fmt.Println("shared lock taken")
	// Output:
	// true
	// shared lock taken
}

// Row locks let writers work on different rows at once.
func ExampleSegment_LockRows() {
	name := exampleName("lockrows")
	t, err := shmtensor.Create[int32](name, []int{4, 1000})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	defer t.Close()
	s := t.Segment()
	ctx := context.Background()

	top, err := s.LockRows(ctx, 0, 2)
	if err != nil {
		log.Fatal(err)
	}
	defer top()
	bottom, err := s.LockRows(ctx, 2, 4) // disjoint: does not wait
	if err != nil {
		log.Fatal(err)
	}
	defer bottom()
	_, err = s.TryLock() // the whole data overlaps both
	fmt.Println(errors.Is(err, shmtensor.ErrLocked))
	// Output:
	// true
}

// AtomicAdd counts across processes without a lock.
func ExampleAtomicAdd() {
	name := exampleName("counter")
	t, err := shmtensor.Create[int64](name, []int{1})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	defer t.Close()
	for range 3 {
		shmtensor.AtomicAdd(t, 1, 0)
	}
	fmt.Println(shmtensor.AtomicLoad(t, 0))
	// Output:
	// 3
}

// One process waits for a flag that another sets, sleeping meanwhile.
func ExampleWaitValue() {
	name := exampleName("flag")
	flag, err := shmtensor.Create[int32](name, nil) // a 0-d tensor: one element
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	defer flag.Close()

	setter := make(chan struct{})
	go func() {
		defer close(setter)
		time.Sleep(10 * time.Millisecond)
		shmtensor.AtomicStore(flag, 1)
		shmtensor.Wake(flag, 1)
	}()
	defer func() { <-setter }() // before Close
	for shmtensor.AtomicLoad(flag) == 0 {
		if err := shmtensor.WaitValue(context.Background(), flag, 0); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("flag set:", shmtensor.AtomicLoad(flag))
	// Output:
	// flag set: 1
}
