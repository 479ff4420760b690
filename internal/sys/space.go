package sys

import "errors"

// ErrNoAllocate reports a filesystem that cannot preallocate pages.
var ErrNoAllocate = errors.New("preallocation not supported")
