package shmtensor

import (
	"fmt"
	"testing"
)

// benchBundleTensors is the number of tensors of the bundle benchmarks:
// 1,000 float32 tensors of 1 MiB, a model's worth of weights.
const benchBundleTensors = 1000

func benchBundleSpecs() []TensorSpec {
	specs := make([]TensorSpec, benchBundleTensors)
	for i := range specs {
		specs[i] = TensorSpec{Name: fmt.Sprintf("model.layers.%d.mlp.weight", i), DType: Float32, Shape: []int{256, 1024}}
	}
	return specs
}

// BenchmarkBundleAttach attaches a bundle of 1,000 tensors of 1 MiB
// (about 1 GiB) and takes a view of every tensor, against what it
// replaces: one Attach of a tensor of the same size plus 1,000 map
// lookups (the floor: one mapping, one name), and 1,000 Attach calls of
// 1 MiB segments (one segment per tensor).
func BenchmarkBundleAttach(b *testing.B) {
	specs := benchBundleSpecs()
	keys := make([]string, len(specs))
	for i, s := range specs {
		keys[i] = s.Name
	}
	b.Run("bundle", func(b *testing.B) {
		name := uniqueName(b)
		bu, err := CreateBundle(name, specs, Lazy())
		if err != nil {
			b.Fatal(err)
		}
		bu.Close()
		b.ReportAllocs()
		for b.Loop() {
			bu, err := AttachBundle(name)
			if err != nil {
				b.Fatal(err)
			}
			for _, k := range keys {
				if _, err := BundleView[float32](bu, k); err != nil {
					b.Fatal(err)
				}
			}
			bu.Close()
		}
	})
	b.Run("single+lookups", func(b *testing.B) {
		name := uniqueName(b)
		t, err := Create[float32](name, []int{benchBundleTensors * 256, 1024}, Lazy())
		if err != nil {
			b.Fatal(err)
		}
		t.Close()
		index := make(map[string]int, len(keys))
		for i, k := range keys {
			index[k] = i
		}
		b.ReportAllocs()
		for b.Loop() {
			t, err := Attach[float32](name)
			if err != nil {
				b.Fatal(err)
			}
			for _, k := range keys {
				if _, ok := index[k]; !ok {
					b.Fatal(k)
				}
			}
			t.Close()
		}
	})
	b.Run("separate", func(b *testing.B) {
		names := make([]string, len(specs))
		for i := range names {
			names[i] = uniqueName(b)
			t, err := Create[float32](names[i], specs[i].Shape, Lazy())
			if err != nil {
				b.Fatal(err)
			}
			t.Close()
		}
		b.ReportAllocs()
		for b.Loop() {
			for _, n := range names {
				t, err := Attach[float32](n)
				if err != nil {
					b.Fatal(err)
				}
				t.Close()
			}
		}
	})
}
