//go:build linux

package shmtensor_test

// A ring buffer between a producer and a consumer process.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor"
)

func init() {
	shmtensor.ChildRoles["ring-producer"] = childRingProducer
	shmtensor.ChildRoles["ring-consumer"] = childRingConsumer
}

// The ring: K items of a slot each, item i filled with the value i. The
// consumer is slow for the first half (the ring fills up and the producer
// waits), the producer for the second (the consumer waits).
func ringOf(name string) (*Ring, func(), error) {
	slots, err := shmtensor.Attach[float64](name)
	if err != nil {
		return nil, nil, err
	}
	ctl, err := shmtensor.Attach[uint32](name + "-ctl")
	if err != nil {
		slots.Close()
		return nil, nil, err
	}
	return &Ring{slots: slots, ctl: ctl}, func() { slots.Close(); ctl.Close() }, nil
}

func childRingProducer(name string) error {
	r, closeRing, err := ringOf(name)
	if err != nil {
		return err
	}
	defer closeRing()
	k := envInt("K")
	for i := range k {
		if i > k/2 && i%4 == 0 {
			time.Sleep(200 * time.Microsecond)
		}
		if err := r.Put(context.Background(), func(s *shmtensor.Tensor[float64]) { s.Fill(float64(i)) }); err != nil {
			return err
		}
	}
	fmt.Println("woke", r.Woken)
	return nil
}

func childRingConsumer(name string) error {
	r, closeRing, err := ringOf(name)
	if err != nil {
		return err
	}
	defer closeRing()
	k := envInt("K")
	for i := range k {
		if i < k/2 && i%4 == 0 {
			time.Sleep(200 * time.Microsecond)
		}
		var bad error
		err := r.Get(context.Background(), func(s *shmtensor.Tensor[float64]) {
			for v := range s.Values() {
				if v != float64(i) {
					bad = fmt.Errorf("item %d holds %v: a slot was overwritten before it was read, or read before it was written", i, v)
					return
				}
			}
		})
		if err != nil {
			return err
		}
		if bad != nil {
			return bad
		}
	}
	fmt.Println("received", k, "woke", r.Woken)
	return nil
}

func TestProcessRing(t *testing.T) {
	const items = 4000
	name := shmtensor.UniqueName(t)
	createTensor[float64](t, name, 8, 512)
	ctl := createTensor[uint32](t, name+"-ctl", 2)
	t.Cleanup(func() { shmtensor.Delete(name + "-ctl") })
	outs := runChildren(t,
		shmtensor.ChildCommand("ring-consumer", name, fmt.Sprint("K=", items)),
		shmtensor.ChildCommand("ring-producer", name, fmt.Sprint("K=", items)))
	var received, consumerWoke, producerWoke int
	if _, err := fmt.Sscanf(outs[0], "received %d woke %d", &received, &consumerWoke); err != nil || received != items {
		t.Fatalf("consumer: %q", outs[0])
	}
	if _, err := fmt.Sscanf(outs[1], "woke %d", &producerWoke); err != nil {
		t.Fatalf("producer: %q", outs[1])
	}
	// Each side was slow in turn, so the other slept in WaitValue (in the
	// kernel: Wake counts the sleepers it woke) rather than spinning.
	if producerWoke == 0 || consumerWoke == 0 {
		t.Errorf("the producer woke the consumer %d times and the consumer the producer %d times; want both asleep some of the time", producerWoke, consumerWoke)
	}
	t.Logf("%d items: the producer woke the sleeping consumer %d times, the consumer the producer %d times", items, producerWoke, consumerWoke)
	if w, r := shmtensor.AtomicLoad(ctl, 0), shmtensor.AtomicLoad(ctl, 1); w != items || r != items {
		t.Fatalf("counts at the end: %d written, %d read, want %d", w, r, items)
	}
}
