// Package floor holds the system-call floors that the benchmarks compare
// shmtensor against: the least an attach, a create or a lock does, written
// directly against the kernel's calls, and the pipe round trip that wake-ups
// are measured against. The root package's benchmarks and the bench module's
// comparison program both use it, so that both measure the same floor. It
// does not import the root package.
package floor
