package shmtensor

import (
	"context"
	"time"
)

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
