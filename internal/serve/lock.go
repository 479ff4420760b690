package serve

import (
	"context"

	"github.com/shmtensor/shmtensor"
)

// rlock takes the shared lock a chunk is read under: every chunk the
// server computes goes through readChunk, which holds it for exactly the
// copy out of the segment. shmtensor has no segment locks on this branch
// (they are issue #13's (*Segment).RLock), so there is nothing to take and
// a chunk is as consistent as the writers make it by themselves; once
// RLock exists this function returns seg.RLock(ctx).
func rlock(ctx context.Context, seg *shmtensor.Segment) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return func() {}, nil
}
