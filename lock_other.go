//go:build !linux && !darwin && !freebsd

package shmtensor

// Segments cannot be opened on these systems (segment_other.go), so these
// are never reached; they keep the package compiling.

func reopen(s *Segment, write bool) (int, error) { return -1, ErrNotSupported }

func setLock(r lockRequest, wait bool) error { return ErrNotSupported }

func clearLock(r lockRequest) error { return ErrNotSupported }
