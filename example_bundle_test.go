package shmtensor_test

import (
	"fmt"
	"log"
	"os"

	"gonum.org/v1/gonum/mat"

	"github.com/shmtensor/shmtensor"
)

// A producer publishes a data set of three arrays as one bundle, one
// version of all three at once; a worker (another process, usually)
// attaches it with one mapping and multiplies two of them with gonum,
// without copying either.
func Example_bundle() {
	name := fmt.Sprintf("example-dataset-%d", os.Getpid())

	// Producer: build the bundle unpublished, fill it, then publish it.
	b, err := shmtensor.CreateBundle(name, []shmtensor.TensorSpec{
		{Name: "features", DType: shmtensor.Float64, Shape: []int{2, 3}},
		{Name: "weights", DType: shmtensor.Float64, Shape: []int{3, 1}},
		{Name: "ids", DType: shmtensor.Int64, Shape: []int{2}},
	}, shmtensor.Unpublished(), shmtensor.Metadata(map[string]string{"source": "example"}))
	if err != nil {
		log.Fatal(err)
	}
	defer shmtensor.Delete(name)
	x, _ := shmtensor.BundleView[float64](b, "features")
	w, _ := shmtensor.BundleView[float64](b, "weights")
	ids, _ := shmtensor.BundleView[int64](b, "ids")
	copy(x.Data(), []float64{1, 2, 3, 4, 5, 6})
	copy(w.Data(), []float64{1, 0, -1})
	ids.Set(17, 0)
	ids.Set(42, 1)
	if err := b.Publish(); err != nil {
		log.Fatal(err)
	}
	b.Close()

	// Worker.
	ds, err := shmtensor.AttachBundle(name)
	if err != nil {
		log.Fatal(err)
	}
	defer ds.Close()
	for t := range ds.Tensors() { // in the order of their data
		fmt.Println(t.Name, t.DType, t.Shape)
	}
	features, _ := shmtensor.BundleView[float64](ds, "features")
	weights, _ := shmtensor.BundleView[float64](ds, "weights")
	a, err := shmtensor.Dense(features) // gonum matrices over the mapping
	if err != nil {
		log.Fatal(err)
	}
	c, _ := shmtensor.Dense(weights)
	var y mat.Dense
	y.Mul(a, c)
	fmt.Println(mat.Formatted(&y, mat.Squeeze()), ds.Metadata()["source"])
	// Output:
	// features float64 [2 3]
	// ids int64 [2]
	// weights float64 [3 1]
	// ⎡-2⎤
	// ⎣-2⎦ example
}
