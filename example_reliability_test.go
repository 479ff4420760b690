//go:build linux

package shmtensor_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/shmtensor/shmtensor"
)

// A reader cannot tell from the data that a segment was created with Lazy,
// but Stat can; attaching with Reserve allocates the missing pages, so the
// reader gets ENOSPC now rather than SIGBUS when it touches one.
func ExampleReserve() {
	name := exampleName("reserve")
	w, err := shmtensor.Create[float64](name, []int{1 << 16}, shmtensor.Lazy())
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	defer w.Close()

	in, _ := shmtensor.Stat(name)
	fmt.Println("reserved:", in.Reserved)

	r, err := shmtensor.Attach[float64](name, shmtensor.ReadOnly(), shmtensor.Reserve())
	if err != nil {
		log.Fatal(err) // wraps syscall.ENOSPC on a full /dev/shm
	}
	defer r.Close()
	in, _ = shmtensor.Stat(name)
	fmt.Println("reserved:", in.Reserved)
	// Output:
	// reserved: false
	// reserved: true
}

// A broken segment (here one truncated after it was created) is refused by
// Delete and left out of List; ListBroken finds it with the reason, and
// DeleteBroken removes it.
func ExampleListBroken() {
	name := exampleName("broken")
	s, err := shmtensor.CreateSegment(name, shmtensor.Float64, []int{100})
	if err != nil {
		log.Fatal(err)
	}
	s.Close()
	if err := os.Truncate("/dev/shm/"+name, 4096+8); err != nil {
		log.Fatal(err)
	}

	err = shmtensor.Delete(name)
	fmt.Println(errors.Is(err, shmtensor.ErrNotTensor))
	broken, _ := shmtensor.ListBroken()
	for _, b := range broken {
		if b.Name == "shm://"+name {
			fmt.Println(b.Err)
		}
	}
	fmt.Println(shmtensor.DeleteBroken(name))
	// Output:
	// true
	// not a tensor segment: npy header: shape (100,) of float64 needs 800 bytes of data at offset 4096, file has 4104
	// <nil>
}
