//go:build linux

package shmtensor_test

// Atomics and wake-ups across processes: a shared counter, a barrier.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor"
)

func init() {
	shmtensor.ChildRoles["counter"] = childCounter
	shmtensor.ChildRoles["barrier"] = childBarrier
}

// childCounter adds M to element 0 with AtomicAdd, one at a time, and M/10
// to element 1 with a plain read-modify-write under Lock.
func childCounter(name string) error {
	t, err := shmtensor.Attach[int64](name)
	if err != nil {
		return err
	}
	defer t.Close()
	m := envInt("M")
	for i := range m {
		shmtensor.AtomicAdd(t, 1, 0)
		if i%10 == 0 {
			unlock, err := t.Segment().Lock(context.Background())
			if err != nil {
				return err
			}
			t.Set(t.At(1)+1, 1)
			unlock()
		}
	}
	return nil
}

// childBarrier runs R rounds of a barrier of N processes. Before each
// round's Wait it records its arrival; after it, every process must have
// arrived.
func childBarrier(name string) error {
	state, err := shmtensor.Attach[uint32](name)
	if err != nil {
		return err
	}
	defer state.Close()
	arrived, err := shmtensor.Attach[int64](name + "-arrived")
	if err != nil {
		return err
	}
	defer arrived.Close()
	n, rounds, me := envInt("N"), envInt("R"), envInt("I")
	b := &Barrier{t: state, n: uint32(n)}
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 2))
	// A deadline, so that a dead participant cannot hang the test; it also
	// makes WaitValue sleep in bounded slices, the cancellable path.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for r := 1; r <= rounds; r++ {
		if rng.IntN(4) == 0 {
			time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
		}
		shmtensor.AtomicStore(arrived, int64(r), me)
		if err := b.Wait(ctx); err != nil {
			return err
		}
		for j := range n {
			if got := shmtensor.AtomicLoad(arrived, j); got < int64(r) {
				return fmt.Errorf("process %d passed barrier round %d before process %d arrived (it is at round %d)", me, r, j, got)
			}
		}
	}
	return nil
}

func TestProcessCounter(t *testing.T) {
	const procs, m = 4, 20000
	name := shmtensor.UniqueName(t)
	c := createTensor[int64](t, name, 2)
	var cmds []*exec.Cmd
	for range procs {
		cmds = append(cmds, shmtensor.ChildCommand("counter", name, fmt.Sprint("M=", m)))
	}
	runChildren(t, cmds...)
	if got := shmtensor.AtomicLoad(c, 0); got != procs*m {
		t.Errorf("%d processes × %d AtomicAdd give %d, want %d", procs, m, got, procs*m)
	}
	if got := c.At(1); got != procs*m/10 {
		t.Errorf("%d processes × %d increments under Lock give %d, want %d", procs, m/10, got, procs*m/10)
	}
}

func TestProcessBarrier(t *testing.T) {
	const procs, rounds = 4, 300
	name := shmtensor.UniqueName(t)
	createTensor[uint32](t, name, 2)
	createTensor[int64](t, name+"-arrived", procs)
	t.Cleanup(func() { shmtensor.Delete(name + "-arrived") })
	var cmds []*exec.Cmd
	for i := range procs {
		cmds = append(cmds, shmtensor.ChildCommand("barrier", name, fmt.Sprint("N=", procs), fmt.Sprint("R=", rounds), fmt.Sprint("I=", i)))
	}
	runChildren(t, cmds...)
}
