//go:build !linux && !darwin && !freebsd

package shmtensor

import "context"

func newStagedCreator(n segName, mode uint32) (creator, error) { return nil, ErrNotSupported }

func replaceStaged(cp *creator, n segName, self FileID) error { return ErrNotSupported }

func lockCreation(n segName, mode uint32) (unlock func(), err error) { return nil, ErrNotSupported }

func scanMappers(want *FileID) (map[FileID][]int, error) { return nil, ErrNotSupported }

// waitFor polls, as statName fails with ErrNotSupported at once here.
func waitFor(ctx context.Context, n segName, check func() (Info, bool, error)) (Info, error) {
	return pollWait(ctx, check)
}

func mappedFile(p string, mapped map[FileID][]int) bool { return false }
