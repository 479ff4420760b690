//go:build !linux && !darwin && !freebsd

package sys

// Rlimit is a resource limit; -1 stands for unlimited or unknown.
type Rlimit struct{ Cur, Max int64 }

func OpenFilesLimit() Rlimit { return Rlimit{-1, -1} }
func MemlockLimit() Rlimit   { return Rlimit{-1, -1} }
func OpenFiles() int64       { return -1 }
