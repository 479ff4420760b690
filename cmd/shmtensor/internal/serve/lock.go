package serve

import (
	"context"

	"github.com/shmtensor/shmtensor"
)

// rlock takes the shared lock a chunk is read under: every chunk the
// server computes goes through readChunk, which holds it for exactly the
// copy out of the segment. It locks the rows of axis 0 the chunk covers,
// so writers locking other rows (LockRows) are not held up, while a writer
// holding the whole segment (Lock) or any of those rows excludes the read;
// a 0-d tensor has no rows and is locked whole.
func rlock(ctx context.Context, seg *shmtensor.Segment, start, n []int) (unlock func(), err error) {
	if len(start) == 0 {
		return seg.RLock(ctx)
	}
	return seg.RLockRows(ctx, start[0], start[0]+n[0])
}
