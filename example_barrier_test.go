package shmtensor_test

import (
	"context"
	"fmt"
	"log"
	"math"
	"sync"

	"github.com/shmtensor/shmtensor"
)

// Barrier makes n processes wait for each other, round after round. Its
// whole state is a uint32 tensor of shape (2,) in shared memory, which every
// process attaches: element 0 counts the arrivals of the current round,
// element 1 numbers the rounds.
type Barrier struct {
	t *shmtensor.Tensor[uint32]
	n uint32
}

// Wait returns once all n processes have called it for this round. The
// last to arrive resets the count and opens the barrier by advancing the
// round; the others sleep in WaitValue until it does.
func (b *Barrier) Wait(ctx context.Context) error {
	round := shmtensor.AtomicLoad(b.t, 1)
	if shmtensor.AtomicAdd(b.t, 1, 0) == b.n {
		// The reset comes first: a process passing the barrier may arrive
		// for the next round at once.
		shmtensor.AtomicStore(b.t, 0, 0)
		shmtensor.AtomicAdd(b.t, 1, 1)
		_, err := shmtensor.Wake(b.t, math.MaxInt32, 1)
		return err
	}
	// WaitValue may return early (a spurious wake-up): check again.
	for shmtensor.AtomicLoad(b.t, 1) == round {
		if err := shmtensor.WaitValue(ctx, b.t, round, 1); err != nil {
			return err
		}
	}
	return nil
}

// A barrier for four workers, each with its own attach of the barrier's
// segment as a separate process would have (the process tests run it with
// real processes). No worker starts a round before all have finished the
// previous one.
func Example_barrier() {
	name := exampleName("barrier")
	state, err := shmtensor.Create[uint32](name, []int{2})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	defer state.Close()

	const workers, rounds = 4, 3
	var (
		mu   sync.Mutex
		done [rounds]int // workers that finished each round
		bad  int         // workers that saw a round unfinished
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			t, err := shmtensor.Attach[uint32](name)
			if err != nil {
				log.Fatal(err)
			}
			defer t.Close()
			b := &Barrier{t: t, n: workers}
			for r := range rounds {
				if r > 0 {
					mu.Lock()
					if done[r-1] != workers {
						bad++
					}
					mu.Unlock()
				}
				mu.Lock()
				done[r]++
				mu.Unlock()
				if err := b.Wait(context.Background()); err != nil {
					log.Fatal(err)
				}
			}
		})
	}
	wg.Wait()
	fmt.Println("rounds finished by all:", done, "early starts:", bad)
	// Output:
	// rounds finished by all: [4 4 4] early starts: 0
}
