package shmtensor

import "golang.org/x/sys/unix"

func unmap(b []byte) error { return unix.Munmap(b) }

// removeShm unlinks /dev/shm/name; tests use it to clean up whatever they
// made, valid tensor or not.
func removeShm(name string) { unix.Unlink("/dev/shm/" + name) }
