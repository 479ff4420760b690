package shmtensor

import "golang.org/x/sys/unix"

func unmap(b []byte) error { return unix.Munmap(b) }

