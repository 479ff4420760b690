package shmtensor_test

import (
	"context"
	"fmt"
	"log"

	"github.com/shmtensor/shmtensor"
)

// Ring passes tensors from one producer process to one consumer process
// through shared memory without copying them through a pipe. slots holds
// the items, axis 0 numbering the slots; ctl, a uint32 tensor of shape (2,),
// counts the items written (element 0, advanced only by the producer) and
// read (element 1, advanced only by the consumer). The number of slots must
// be a power of two, so that the counts stay consistent when they wrap.
type Ring struct {
	slots *shmtensor.Tensor[float64]
	ctl   *shmtensor.Tensor[uint32]

	// Woken counts the sleeping peers this end's Wake calls woke (on
	// Linux; 0 where Wake cannot tell).
	Woken int
}

// Put waits for a free slot, lets fill write the item into it, then
// publishes it. It never overwrites a slot the consumer has not read.
func (r *Ring) Put(ctx context.Context, fill func(slot *shmtensor.Tensor[float64])) error {
	n := uint32(r.slots.Shape()[0])
	written := shmtensor.AtomicLoad(r.ctl, 0)
	for {
		read := shmtensor.AtomicLoad(r.ctl, 1)
		if written-read < n {
			break
		}
		// Full: sleep until the read count moves.
		if err := shmtensor.WaitValue(ctx, r.ctl, read, 1); err != nil {
			return err
		}
	}
	slot, err := r.slots.Index(0, int(written%n))
	if err != nil {
		return err
	}
	fill(slot)
	// The atomic store orders the slot's writes before the new count.
	shmtensor.AtomicStore(r.ctl, written+1, 0)
	woken, err := shmtensor.Wake(r.ctl, 1, 0)
	r.Woken += woken
	return err
}

// Get waits for an item, lets use read it in place, then frees its slot.
func (r *Ring) Get(ctx context.Context, use func(slot *shmtensor.Tensor[float64])) error {
	n := uint32(r.slots.Shape()[0])
	read := shmtensor.AtomicLoad(r.ctl, 1)
	for shmtensor.AtomicLoad(r.ctl, 0) == read {
		// Empty: sleep until the written count moves.
		if err := shmtensor.WaitValue(ctx, r.ctl, read, 0); err != nil {
			return err
		}
	}
	slot, err := r.slots.Index(0, int(read%n))
	if err != nil {
		return err
	}
	use(slot)
	shmtensor.AtomicStore(r.ctl, read+1, 1)
	woken, err := shmtensor.Wake(r.ctl, 1, 1)
	r.Woken += woken
	return err
}

// A producer passes ten 3-element vectors to a consumer through a ring of
// four slots. Here both ends are goroutines with attaches of their own; the
// process tests run them as two processes.
func Example_ring() {
	slotsName, ctlName := exampleName("ring-slots"), exampleName("ring-ctl")
	slots, err := shmtensor.Create[float64](slotsName, []int{4, 3})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(slotsName)
	defer slots.Close()
	ctl, err := shmtensor.Create[uint32](ctlName, []int{2})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(ctlName)
	defer ctl.Close()

	ctx := context.Background()
	produced := make(chan error)
	go func() {
		producer := &Ring{slots: slots, ctl: ctl}
		for i := range 10 {
			if err := producer.Put(ctx, func(s *shmtensor.Tensor[float64]) { s.Fill(float64(i)) }); err != nil {
				produced <- err
				return
			}
		}
		produced <- nil
	}()

	s2, err := shmtensor.Attach[float64](slotsName)
	if err != nil {
		log.Fatal(err)
	}
	defer s2.Close()
	c2, err := shmtensor.Attach[uint32](ctlName)
	if err != nil {
		log.Fatal(err)
	}
	defer c2.Close()
	consumer := &Ring{slots: s2, ctl: c2}
	sum := 0.0
	for range 10 {
		err := consumer.Get(ctx, func(s *shmtensor.Tensor[float64]) {
			for v := range s.Values() {
				sum += v
			}
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	if err := <-produced; err != nil {
		log.Fatal(err)
	}
	fmt.Println("sum of 10 items of 3:", sum)
	// Output:
	// sum of 10 items of 3: 135
}
