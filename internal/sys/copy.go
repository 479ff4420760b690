package sys

// StreamAlign is where the parts of a split copy start: 2 MiB boundaries,
// whole huge pages.
const StreamAlign = 2 << 20

// Split runs f over blocks [0, blocks) of a copy of size bytes, in parts
// [a, b), perhaps at once in several goroutines; it returns when every part
// is done.
type Split func(size int64, blocks int, f func(a, b int))
