package serve

// isFault is false: Plan 9 has no EFAULT, and segments cannot be served
// there.
func isFault(err error) bool { return false }
