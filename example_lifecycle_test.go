//go:build linux

package shmtensor_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"slices"
	"time"

	"github.com/shmtensor/shmtensor"
)

// A producer publishes versions of a tensor with Replace; a consumer (a
// goroutine here, another process or a numpy script in practice) sleeps in
// WaitReplaced until the next version and always reads a complete one.
func ExampleSegment_Replace() {
	name := fmt.Sprintf("example-features-%d", os.Getpid())
	defer shmtensor.Delete(name)

	publish := func(version float64) {
		t, err := shmtensor.Create[float64](name, []int{1000}, shmtensor.Unpublished())
		if err != nil {
			log.Fatal(err)
		}
		defer t.Close() // the published segment stays; Close only unmaps
		t.Fill(version) // nobody can see t yet
		if err := t.Segment().Replace(); err != nil {
			log.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	ready := make(chan shmtensor.Info)
	go func() { // the consumer
		defer close(done)
		info, err := shmtensor.Wait(ctx, name)
		if err != nil {
			log.Fatal(err)
		}
		for i := range 3 {
			t, err := shmtensor.Attach[float64](name, shmtensor.ReadOnly())
			if err != nil {
				log.Fatal(err)
			}
			fmt.Println("consumer read version", t.At(0), "…", t.At(999))
			t.Close()
			ready <- info
			if i == 2 {
				return
			}
			if info, err = shmtensor.WaitReplaced(ctx, name, info); err != nil {
				log.Fatal(err)
			}
		}
	}()

	publish(1)
	for v := 2.0; v <= 3; v++ {
		<-ready // the consumer has read the previous version
		publish(v)
	}
	<-ready
	<-done
	// Output:
	// consumer read version 1 … 1
	// consumer read version 2 … 2
	// consumer read version 3 … 3
}

// A test fixture shared by every package's test binary of a `go test ./...`
// run, which runs them as parallel processes: the first to get there loads
// the data set into shared memory, the others wait for it and attach it.
// In a real suite this goes in TestMain, with a name fixed per data set.
func ExampleAttachOrCreate() {
	name := fmt.Sprintf("example-fixture-%d", os.Getpid())
	defer shmtensor.Delete(name)

	load := func(t *shmtensor.Tensor[float32]) error {
		// Read files, decode, normalise: whatever takes long. If this
		// returns an error or the process dies, nothing is published
		// and another process loads instead.
		for i := range 1000 {
			t.Set(float32(i)/2, i, 0)
		}
		return nil
	}
	for range 2 { // as two test binaries would
		fixture, created, err := shmtensor.AttachOrCreate(name, []int{1000, 16}, load, shmtensor.ReadOnly())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("created:", created, "row 999:", fixture.At(999, 0))
		fixture.Close()
	}
	// Output:
	// created: true row 999: 499.5
	// created: false row 999: 499.5
}

// Mappers finds every process that maps a segment, numpy included: here,
// this one.
func ExampleMappers() {
	name := fmt.Sprintf("example-mapped-%d", os.Getpid())
	defer shmtensor.Delete(name)
	t, err := shmtensor.Create[int32](name, []int{4})
	if err != nil {
		log.Fatal(err)
	}
	pids, err := shmtensor.Mappers(name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("mapped by this process:", slices.Contains(pids, os.Getpid()))
	t.Close()
	pids, _ = shmtensor.Mappers(name)
	fmt.Println("after Close:", slices.Contains(pids, os.Getpid()))
	// Output:
	// mapped by this process: true
	// after Close: false
}
