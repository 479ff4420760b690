package shmtensor

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// waitFor calls check until it reports the wait over, each time the system
// reports a change to the name or its content in the name's directory
// (inotify, kqueue), and returns ctx.Err() as soon as ctx is done. Where
// the name has no directory to watch, or the system cannot watch it, it
// polls.
func waitFor(ctx context.Context, n segName, check func() (Info, bool, error)) (Info, error) {
	if n.shm && !sys.ShmIsFile {
		return pollWait(ctx, check)
	}
	dir, base := filepath.Split(pathOf(n))
	if dir == "" {
		dir = "."
	}
	var info Info
	err := sys.WatchDir(ctx, dir, base, func() (bool, error) {
		i, ok, err := check()
		if err != nil || ok {
			info = i
		}
		return ok, err
	})
	if errors.Is(err, sys.ErrNoWatch) {
		return pollWait(ctx, check)
	}
	return info, err
}

// pollWait calls check until it reports the wait over, sleeping between
// calls from 1 ms doubling up to 50 ms, and returns ctx.Err() as soon as
// ctx is done. It serves where the system has no way to watch a name.
func pollWait(ctx context.Context, check func() (Info, bool, error)) (Info, error) {
	const first, most = time.Millisecond, 50 * time.Millisecond
	timer := time.NewTimer(first)
	defer timer.Stop()
	for d := first; ; d = min(2*d, most) {
		if info, ok, err := check(); err != nil || ok {
			return info, err
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return Info{}, ctx.Err()
		case <-timer.C:
		}
	}
}
