//go:build !linux && !darwin && !freebsd

package sys

import "context"

// WatchDir cannot watch here: the caller polls.
func WatchDir(ctx context.Context, dir, base string, check func() (done bool, err error)) error {
	return ErrNoWatch
}
