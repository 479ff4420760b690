package shmtensor_test

import (
	"fmt"
	"log"

	"github.com/shmtensor/shmtensor"
)

// A process that will read or write a whole big tensor right away attaches
// it with Populate: one call maps every page, instead of a page fault on
// first touch of each 4 KiB.
func ExamplePopulate() {
	name := exampleName("populate")
	a, err := shmtensor.Create[float32](name, []int{1024, 1024})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	defer a.Close()
	a.Fill(0.5)

	b, err := shmtensor.Attach[float32](name, shmtensor.Populate(), shmtensor.ReadOnly())
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	var sum float32
	for _, v := range b.Data() {
		sum += v
	}
	fmt.Println(sum)
	// Output:
	// 524288
}

// Huge pages need a filesystem that hands them out: on Linux a tmpfs
// mounted with huge=advise (or always), for example
//
//	mount -t tmpfs -o huge=advise,size=8G tmpfs /mnt/hugeshm
//
// and file:// names on it. HugePageBytes tells whether they took effect; on
// a filesystem without huge pages the segment works with small ones.
func ExampleHugePages() {
	t, err := shmtensor.Create[float64]("file:///mnt/hugeshm/weights.npy", []int{4096, 4096},
		shmtensor.HugePages())
	if err != nil {
		log.Fatal(err)
	}
	defer t.Close()
	n, err := t.Segment().HugePageBytes()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d of %d bytes in huge pages\n", n, t.Segment().Size())
}
