package shmtensor_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/shmtensor/shmtensor"
)

// WriteTo writes a segment as an ordinary .npy file, the format of
// numpy's np.save; Import makes a new segment from one, here a copy of the
// first under another name.
func ExampleImport() {
	src := exampleName("export")
	a, err := shmtensor.Create[int32](src, []int{2, 3})
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(src)
	defer a.Close()
	a.Set(7, 1, 2)

	var npy bytes.Buffer // an *os.File works the same way
	if _, err := a.Segment().WriteTo(&npy); err != nil {
		log.Fatal(err)
	}

	dst := exampleName("import")
	seg, err := shmtensor.Import(dst, &npy)
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(dst)
	defer seg.Close()
	b, err := shmtensor.View[int32](seg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(seg.DType(), b.Shape(), b.At(1, 2))
	// Output:
	// int32 [2 3] 7
}
