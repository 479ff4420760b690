package shmtensor_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/shmtensor/shmtensor"
)

// exampleName returns a shm name unique to this process.
func exampleName(s string) string {
	return fmt.Sprintf("shmtensor-example-%s-%d", s, os.Getpid())
}

// One process creates a tensor in shared memory; another attaches it by
// name and sees the same memory. (Both ends run in this process here; the
// demo, go run ./cmd/shmtensor demo, uses two.)
func ExampleCreate() {
	name := exampleName("create")
	a, err := shmtensor.Create[float64](name, []int{2, 3})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name) // nothing is removed implicitly
	defer a.Close()
	a.Set(1.5, 1, 2)

	b, err := shmtensor.Attach[float64]("shm://" + name)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	fmt.Println(b.Shape(), b.At(1, 2))
	b.Set(-1, 0, 0)
	fmt.Println(a.At(0, 0))

	_, err = shmtensor.Create[float64](name, []int{9})
	fmt.Println(errors.Is(err, shmtensor.ErrExist))
	// Output:
	// [2 3] 1.5
	// -1
	// true
}

// Attach checks the element type against the segment's header.
func ExampleAttach() {
	name := exampleName("attach")
	a, err := shmtensor.Create[float32](name, []int{4})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	defer a.Close()

	_, err = shmtensor.Attach[float64](name)
	fmt.Println(errors.Is(err, shmtensor.ErrDType))
	// Output:
	// true
}

// Stat reads a segment's header without mapping it.
func ExampleStat() {
	name := exampleName("stat")
	a, err := shmtensor.Create[int16](name, []int{3, 4}, shmtensor.Mode(0o640))
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	a.Close()

	info, err := shmtensor.Stat(name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.DType, info.Shape, info.Layout, info.Mode, info.Size)
	// Output:
	// int16 [3 4] npy -rw-r----- 4120
}

// Open maps a segment without fixing its element type; View types it.
func ExampleOpen() {
	name := exampleName("open")
	a, err := shmtensor.Create[uint8](name, []int{2, 2}, shmtensor.SharedArrayLayout())
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	a.Set(7, 1, 1)
	a.Close()

	seg, err := shmtensor.Open(name, shmtensor.ReadOnly())
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	fmt.Println(seg.DType(), seg.Shape(), seg.Layout())
	if seg.DType() == shmtensor.Uint8 {
		t, err := shmtensor.View[uint8](seg)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.At(1, 1))
	}
	// Output:
	// uint8 [2 2] sharedarray
	// 7
}

// Delete refuses anything that is not a tensor segment.
func ExampleDelete() {
	path := fmt.Sprintf("%s/notes-%d.txt", os.TempDir(), os.Getpid())
	os.WriteFile(path, []byte("not a tensor"), 0o600)
	defer os.Remove(path)

	err := shmtensor.Delete("file://" + path)
	fmt.Println(errors.Is(err, shmtensor.ErrNotTensor))
	_, statErr := os.Stat(path)
	fmt.Println(statErr == nil)
	// Output:
	// true
	// true
}
