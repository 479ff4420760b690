package sys

import "errors"

// ErrNoWatch is what WatchDir returns when it cannot watch the directory
// (no such mechanism, or the user's limits on it are exhausted): the caller
// polls instead.
var ErrNoWatch = errors.New("cannot watch the directory")
