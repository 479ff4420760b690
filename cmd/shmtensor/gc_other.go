//go:build !linux

package main

import (
	"time"

	"github.com/shmtensor/shmtensor"
)

// hiddenItems finds nothing here: gc's scan of shared memory needs Linux,
// and fails before this with ErrNotSupported.
func hiddenItems(now time.Time, olderThan time.Duration, matches func(string) bool, mapped map[shmtensor.FileID][]int, root bool) []gcItem {
	return nil
}

func deleteHidden(it gcItem) error { return shmtensor.ErrNotSupported }

func segmentHeld(base string) bool { return false }
