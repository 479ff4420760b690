package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

// hiddenItems finds the package's hidden files in /dev/shm that gc
// deletes, whatever their age (olderThan is for segments): the leftovers
// of processes killed in the middle of Create, Replace, Delete or
// AttachOrCreate, which no process maps, holds open or locks
// (shmtensor.Leftovers). A foreign file that a killed Delete had moved
// aside is left for its owner (list --all shows it). Only the caller's
// own files are considered, unless root.
func hiddenItems(now time.Time, olderThan time.Duration, matches func(string) bool, mapped map[shmtensor.FileID][]int, root bool) []gcItem {
	left, err := shmtensor.Leftovers("")
	if err != nil {
		return nil
	}
	var items []gcItem
	for _, l := range left {
		if l.Foreign || !matches(leftoverBase(filepath.Base(l.Path))) {
			continue
		}
		what, detail := "temporary file", fmt.Sprintf("%s, unused, modified %s ago", units.Bytes(l.Size), now.Sub(l.ModTime).Round(time.Second))
		if l.Kind == "lock" {
			what, detail = "lock file", fmt.Sprintf("no process holds it, modified %s ago", now.Sub(l.ModTime).Round(time.Second))
		}
		items = append(items, gcItem{what, l.Path, l.ID, detail})
	}
	return items
}

// deleteHidden removes a hidden file found by hiddenItems after checking
// again that it is the same file and that no process uses it.
func deleteHidden(it gcItem) error {
	return shmtensor.RemoveLeftover(it.name, it.id)
}

// leftoverBase returns the segment name a hidden file was made for, as
// hiddenBase, also for Delete's private names:
// ".shmtensor-deleting-x-0123456789abcdef" → "x".
func leftoverBase(file string) string {
	const aside = reservedPrefix + "deleting-"
	if rest, ok := strings.CutPrefix(file, aside); ok {
		if len(rest) > 17 && rest[len(rest)-17] == '-' {
			return rest[:len(rest)-17]
		}
		return rest
	}
	return hiddenBase(file)
}
