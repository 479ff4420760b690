package shmtensor

import (
	"path/filepath"
	"testing"
)

// BenchmarkHugePages attaches a resident 256 MiB segment on a huge=advise
// tmpfs (mounted for the benchmark; root only) and reads one byte of every
// 4 KiB page, or sums it with Values, for a segment created with
// HugePages and one without.
func BenchmarkHugePages(b *testing.B) {
	const size = 256 << 20
	dir := hugeDir(b, "600m")
	for _, c := range []struct {
		name string
		opts []Option
	}{{"4KiB", nil}, {"huge", []Option{HugePages()}}} {
		name := "file://" + filepath.Join(dir, c.name+".npy")
		t, err := Create[float64](name, []int{size / 8}, c.opts...)
		if err != nil {
			b.Fatal(err)
		}
		fillSeq(t.Data())
		t.Close()
		b.Run("AttachReadPages/"+c.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				a, err := Open(name, ReadOnly())
				if err != nil {
					b.Fatal(err)
				}
				d := a.Bytes()
				var s byte
				for i := 0; i < len(d); i += 4096 {
					s += d[i]
				}
				sinkByte += s
				a.Close()
			}
		})
		b.Run("ValuesSum/"+c.name, func(b *testing.B) {
			a, err := Attach[float64](name, ReadOnly(), Populate())
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			b.SetBytes(size)
			for b.Loop() {
				var s float64
				for v := range a.Values() {
					s += v
				}
				sinkFloat += s
			}
		})
	}
}

var (
	sinkByte  byte
	sinkFloat float64
)
