package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/floor"
)

// The coordination section compares the synchronisation primitives with
// what they are made of or replace: an uncontended Segment.Lock with the
// bare fcntl pair and with sync.Mutex, AtomicAdd on a shared element with
// one on a heap element, and a WaitValue/Wake round trip between two
// processes with a byte sent through a pipe and back.
const (
	caseLock      = "Segment.Lock + unlock, uncontended"
	caseFcntlPair = "fcntl F_OFD_SETLK lock + unlock on an open descriptor"
	caseMutex     = "sync.Mutex Lock + Unlock"
	caseAddShared = "AtomicAdd on a shared segment's element"
	caseAddHeap   = "AtomicAdd on a heap tensor's element"
	caseWakeTrip  = "round trip to another process: AtomicStore + Wake, answered the same way (WaitValue)"
	casePipeTrip  = "round trip to another process: 1 byte through a pipe and back"
)

// coordChildFlag re-executes this program as the other side of a round
// trip: "wake:NAME" answers pings on element 0 of NAME on element 1, "pipe"
// echoes bytes.
const coordChildFlag = "coord-child"

func benchCoordination() []row {
	rounds, batch := 15, 20000
	if *quick {
		rounds, batch = 5, 2000
	}
	progress("coordination: locks, atomics, round trips (%d rounds)", rounds)
	one := size{"–", 0}
	var rows []row

	// Locks and atomics.
	name := shmName("coord")
	t, err := shmtensor.Create[int64](name, []int{64, 64})
	if err != nil {
		fatal(err)
	}
	defer os.Remove(shmDir + "/" + name)
	defer t.Close()
	seg := t.Segment()
	fd, err := unix.Open(shmDir+"/"+name, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		fatal(err)
	}
	defer unix.Close(fd)
	var mu sync.Mutex
	counter := 0
	heap := shmtensor.New[int64](8)
	ctx := context.Background()
	cases := []bcase{
		{name: caseLock, op: func() error {
			unlock, err := seg.Lock(ctx)
			if err != nil {
				return err
			}
			unlock()
			return nil
		}},
		{name: caseFcntlPair, op: func() error {
			return floor.LockPair(fd, 4096, 64*64*8)
		}},
		{name: caseMutex, op: func() error {
			mu.Lock()
			counter++
			mu.Unlock()
			return nil
		}},
		{name: caseAddShared, op: func() error { shmtensor.AtomicAdd(t, 1, 3, 5); return nil }},
		{name: caseAddHeap, op: func() error { shmtensor.AtomicAdd(heap, 1, 3); return nil }},
	}

	// Round trips with a child process each.
	wake, stopWake, err := wakeTripCase()
	if err != nil {
		fatal(err)
	}
	defer stopWake()
	pipe, stopPipe, err := pipeTripCase()
	if err != nil {
		fatal(err)
	}
	defer stopPipe()
	cases = append(cases, wake, pipe)

	res, err := interleave(rounds, batch, cases)
	if err != nil {
		fatal(err)
	}
	rows = append(rows,
		newRow("coordination", caseFcntlPair, one, res[caseFcntlPair], "", nil),
		newRow("coordination", caseLock, one, res[caseLock], caseFcntlPair, res[caseFcntlPair]),
		newRow("coordination", caseMutex, one, res[caseMutex], caseLock, res[caseLock]),
		newRow("coordination", caseAddHeap, one, res[caseAddHeap], "", nil),
		newRow("coordination", caseAddShared, one, res[caseAddShared], caseAddHeap, res[caseAddHeap]),
		newRow("coordination", casePipeTrip, one, res[casePipeTrip], "", nil),
		newRow("coordination", caseWakeTrip, one, res[caseWakeTrip], casePipeTrip, res[casePipeTrip]),
	)
	return rows
}

// wakeTripCase starts a child that answers pings through a shared uint32
// pair, and returns the case that times round trips with it.
func wakeTripCase() (bcase, func(), error) {
	name := shmName("coord-wake")
	t, err := shmtensor.Create[uint32](name, []int{2})
	if err != nil {
		return bcase{}, nil, err
	}
	cmd, _, _, err := startCoordChild("wake:" + name)
	if err != nil {
		t.Close()
		os.Remove(shmDir + "/" + name)
		return bcase{}, nil, err
	}
	ctx := context.Background()
	var i uint32
	c := bcase{name: caseWakeTrip, op: func() error {
		i++
		if i == math.MaxUint32 { // the child's stop value
			i = 1
		}
		shmtensor.AtomicStore(t, i, 0)
		if _, err := shmtensor.Wake(t, 1, 0); err != nil {
			return err
		}
		for v := shmtensor.AtomicLoad(t, 1); v != i; v = shmtensor.AtomicLoad(t, 1) {
			if err := shmtensor.WaitValue(ctx, t, v, 1); err != nil {
				return err
			}
		}
		return nil
	}}
	stop := func() {
		shmtensor.AtomicStore(t, math.MaxUint32, 0)
		shmtensor.Wake(t, 1, 0)
		cmd.Wait()
		t.Close()
		os.Remove(shmDir + "/" + name)
	}
	return c, stop, nil
}

// pipeTripCase starts a child that echoes bytes, and returns the case that
// times round trips with it.
func pipeTripCase() (bcase, func(), error) {
	cmd, in, out, err := startCoordChild("pipe")
	if err != nil {
		return bcase{}, nil, err
	}
	buf := []byte{'x'}
	c := bcase{name: casePipeTrip, op: func() error {
		if _, err := in.Write(buf); err != nil {
			return err
		}
		_, err := io.ReadFull(out, buf)
		return err
	}}
	stop := func() {
		in.Close()
		cmd.Wait()
	}
	return c, stop, nil
}

func startCoordChild(spec string) (*exec.Cmd, io.WriteCloser, io.Reader, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, nil, err
	}
	cmd := exec.Command(exe, "-"+coordChildFlag, spec)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	return cmd, in, out, nil
}

// runCoordChild is the child's side of a round trip.
func runCoordChild(spec string) error {
	if spec == "pipe" {
		return floor.Echo(os.Stdin, os.Stdout)
	}
	name, ok := strings.CutPrefix(spec, "wake:")
	if !ok {
		return fmt.Errorf("bad spec %q", spec)
	}
	t, err := shmtensor.Attach[uint32](name)
	if err != nil {
		return err
	}
	defer t.Close()
	ctx := context.Background()
	last := uint32(0)
	for {
		v := shmtensor.AtomicLoad(t, 0)
		if v == last {
			if err := shmtensor.WaitValue(ctx, t, last, 0); err != nil {
				return err
			}
			continue
		}
		if v == math.MaxUint32 {
			return nil
		}
		last = v
		shmtensor.AtomicStore(t, v, 1)
		if _, err := shmtensor.Wake(t, 1, 1); err != nil {
			return err
		}
	}
}

const coordText = `Locks, atomics and wake-ups (docs/coordination.md): an uncontended ` + "`Segment.Lock`" + `
and its unlock against the two ` + "`fcntl(F_OFD_SETLK)`" + ` calls it is made of, on a descriptor opened
once (a lock reuses its descriptors, so it adds only bookkeeping), and ` + "`sync.Mutex`" + ` for the
scale of a lock that no other process can see; ` + "`AtomicAdd`" + ` on an element of a shared segment
against one on a heap tensor (the same instruction on the same kind of memory); and a round trip
to another process, which sleeps in ` + "`WaitValue`" + ` (futex) and answers with ` + "`AtomicStore`" + ` +
` + "`Wake`" + `, against one byte through a pipe and back.

`
