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

func TestMapsLine(t *testing.T) {
	for _, c := range []struct {
		line string
		id   FileID
		ok   bool
	}{
		{"7f1c2a000000-7f1c2a001000 rw-s 00000000 00:1a 12345                      /dev/shm/x", FileID{Dev: 0x1a, Ino: 12345}, true},
		{"7f1c2a000000-7f1c2a001000 r--s 00001000 fd:01 987 /data/x.npy (deleted)", FileID{Dev: 0xfd<<8 | 1, Ino: 987}, true},
		{"7ffd5f3e0000-7ffd5f401000 rw-p 00000000 00:00 0                          [stack]", FileID{}, false},
		{"garbage", FileID{}, false},
		{"a-b rw-p 0 zz:01 5 /x", FileID{}, false},
	} {
		id, ok := mapsLineFile([]byte(c.line))
		if ok != c.ok || id != c.id {
			t.Errorf("mapsLineFile(%q) = %v, %v; want %v, %v", c.line, id, ok, c.id, c.ok)
		}
	}
}
