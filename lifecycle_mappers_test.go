//go:build linux

package shmtensor

// Mappers and MappedBy: who maps a segment, from /proc/PID/maps.

import (
	"errors"
	"os"
	"slices"
	"testing"
)

func TestMappersSelf(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{10})
	if err != nil {
		t.Fatal(err)
	}
	pids, err := Mappers(name)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, os.Getpid()) {
		t.Fatalf("Mappers %v lacks this process %d", pids, os.Getpid())
	}
	table, err := MappedBy()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(table[a.Segment().ID()], os.Getpid()) {
		t.Fatalf("MappedBy()[%v] = %v lacks this process", a.Segment().ID(), table[a.Segment().ID()])
	}
	a.Close()
	pids, err = Mappers(name)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(pids, os.Getpid()) {
		t.Fatalf("Mappers %v still lists this process after Close", pids)
	}
	if _, err := Mappers(uniqueName(t)); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Mappers of a missing name: %v", err)
	}
}
