package shmtensor

import (
	"testing"

	"github.com/shmtensor/shmtensor/internal/sys"
)

func TestPlacementOptionsWork(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{300, 500}, Populate(), HugePages())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Set(3.5, 299, 499)
	for _, opts := range [][]Option{{Populate()}, {HugePages()}, {Populate(), HugePages()}, {Populate(), ReadOnly()}, {Populate(), HugePages(), ReadOnly()}} {
		live := sys.Mappings()
		b, err := Attach[float64](name, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.At(299, 499); got != 3.5 {
			t.Errorf("attach with %d options: At = %v, want 3.5", len(opts), got)
		}
		// Placed mappings count against vm.max_map_count like others.
		if got := sys.Mappings(); got != live+1 {
			t.Errorf("attach with %d options: %d segment mappings counted, want %d", len(opts), got, live+1)
		}
		b.Close()
		if got := sys.Mappings(); got != live {
			t.Errorf("attach with %d options, closed: %d segment mappings counted, want %d", len(opts), got, live)
		}
	}
	l, err := Create[int32](uniqueName(t), []int{1 << 16}, Lazy(), Populate(), HugePages())
	if err != nil {
		t.Fatal(err)
	}
	l.Fill(7)
	if l.At(1<<16-1) != 7 {
		t.Error("lazy populated huge-page tensor does not keep what Fill wrote")
	}
	l.Close()
}
