package shmtensor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// Locks on a segment are advisory: they exclude other lockers, not plain
// readers and writers. Each held lock owns a descriptor of its own, opened
// on the very file the segment maps (never by looking the name up again on
// Linux), so the kernel tells apart two locks of one process as well as
// locks of two processes, and releases a lock when its holder dies.
//
// On Linux they are open file description locks (fcntl F_OFD_SETLK) over
// byte ranges of the data, which a Python or C process can take part in
// with the same fcntl call (docs/coordination.md has the recipe). On
// FreeBSD and macOS they are flock(2) locks on the whole segment.

// Lock takes an exclusive lock on the segment's data, waiting while another
// process or goroutine holds a lock on any part of it. It returns a function
// that releases the lock; calling it more than once is a no-op, and Close
// releases every lock still held. An exclusive lock needs a segment
// attached for writing: on a ReadOnly segment it fails with ErrReadOnly.
//
// Locks are not reentrant, as sync.Mutex is not: a goroutine holding a lock
// that asks for a conflicting one, even on the same Segment, waits for
// itself.
//
// With a ctx that is never done (context.Background()), Lock sleeps in the
// kernel and is woken the moment the lock is free. Close cannot interrupt
// that sleep; the call then returns ErrClosed once it has the lock, which
// it drops. A thread asleep there cannot be interrupted from Go either, so
// with a ctx that can be cancelled Lock retries a non-blocking attempt
// instead, sleeping 100 µs after the first refusal and twice as long after
// each other one, up to 10 ms, and retrying at once when a lock of this
// process is released. It returns ctx.Err() (wrapped) as soon as ctx is
// done, or ErrClosed within 10 ms of Close; a lock freed by another process
// is taken up to 10 ms late, and a waiter costs a system call every 10 ms.
// Polling waiters are not queued: under constant contention one may be
// overtaken.
func (s *Segment) Lock(ctx context.Context) (unlock func(), err error) {
	return s.lock(ctx, "lock", lockWait, false, false, 0, 0)
}

// RLock takes a shared lock on the segment's data: any number of shared
// locks are held at once, none while an exclusive one is. Read-only
// segments can take shared locks. It waits as Lock does.
func (s *Segment) RLock(ctx context.Context) (unlock func(), err error) {
	return s.lock(ctx, "rlock", lockWait, true, false, 0, 0)
}

// TryLock takes an exclusive lock on the segment's data if no one holds a
// lock on any part of it, and fails at once with ErrLocked otherwise.
func (s *Segment) TryLock() (unlock func(), err error) {
	return s.lock(context.Background(), "trylock", lockTry, false, false, 0, 0)
}

// TryRLock takes a shared lock on the segment's data if no one holds an
// exclusive lock on any part of it, and fails at once with ErrLocked
// otherwise.
func (s *Segment) TryRLock() (unlock func(), err error) {
	return s.lock(context.Background(), "tryrlock", lockTry, true, false, 0, 0)
}

// LockRows takes an exclusive lock on rows [start, stop) of axis 0: locks on
// disjoint rows do not conflict, and a whole-segment Lock or RLock conflicts
// with every row lock. It waits as Lock does. start and stop must satisfy
// 0 <= start <= stop <= Shape()[0] (ErrIndex otherwise); an empty range
// locks nothing and returns a no-op unlock.
//
// Rows are byte ranges of the data only in C order. In a Fortran-order
// segment with more than one axis the elements of a row are spread over the
// whole data, so a row lock there locks the whole data. On FreeBSD and macOS
// every lock covers the whole segment.
func (s *Segment) LockRows(ctx context.Context, start, stop int) (unlock func(), err error) {
	return s.lock(ctx, "lock rows", lockWait, false, true, start, stop)
}

// RLockRows takes a shared lock on rows [start, stop) of axis 0, as
// LockRows does an exclusive one.
func (s *Segment) RLockRows(ctx context.Context, start, stop int) (unlock func(), err error) {
	return s.lock(ctx, "rlock rows", lockWait, true, true, start, stop)
}

// TryLockRows takes an exclusive lock on rows [start, stop) of axis 0 if
// no one holds a lock on any of them, and fails at once with ErrLocked
// otherwise; the rows are as for LockRows.
func (s *Segment) TryLockRows(start, stop int) (unlock func(), err error) {
	return s.lock(context.Background(), "trylock rows", lockTry, false, true, start, stop)
}

// TryRLockRows takes a shared lock on rows [start, stop) of axis 0 if no
// one holds an exclusive lock on any of them, and fails at once with
// ErrLocked otherwise.
func (s *Segment) TryRLockRows(start, stop int) (unlock func(), err error) {
	return s.lock(context.Background(), "tryrlock rows", lockTry, true, true, start, stop)
}

// heldLock is a lock the segment holds: the descriptor that owns it and
// what it locks. Closing the descriptor releases the lock.
type heldLock struct{ req lockRequest }

// lockPool keeps a few descriptors of a segment's file that hold no lock,
// for the next locks to reuse: opening and checking one costs as much as
// the lock itself. idle[0] are read-only, idle[1] read-write.
type lockPool struct {
	idle [2][]int
}

// maxIdleLockFDs bounds the idle descriptors kept per kind and segment.
const maxIdleLockFDs = 4

// lockRequest is what the platform layer locks: a descriptor of its own and
// a byte range of the file (ignored where only whole-file locks exist).
type lockRequest struct {
	fd         int
	shared     bool
	start, len int64
}

type lockMode int

const (
	lockTry lockMode = iota
	lockWait
)

// errWouldBlock is what setLock returns when a conflicting lock is held.
var errWouldBlock = sys.ErrWouldBlock

// Polling bounds for waiting with a cancellable context (see Lock).
const (
	lockPollMin = 100 * time.Microsecond
	lockPollMax = 10 * time.Millisecond
)

func (s *Segment) lock(ctx context.Context, op string, mode lockMode, shared, rows bool, start, stop int) (func(), error) {
	fail := func(err error) (func(), error) { return nil, &Error{Op: op, Name: s.name, Err: err} }
	if s.closed.Load() {
		return fail(ErrClosed)
	}
	off, n, err := s.lockRange(rows, start, stop)
	if err != nil {
		return fail(err)
	}
	if n == 0 {
		return func() {}, nil
	}
	if !shared && s.readOnly {
		return fail(fmt.Errorf("%w: an exclusive lock needs a segment attached for writing (a shared lock does not)", ErrReadOnly))
	}
	fd, err := s.lockDescriptor(!shared)
	if err != nil {
		return fail(err)
	}
	r := lockRequest{fd: fd, shared: shared, start: off, len: n}
	if err := s.acquire(ctx, r, mode); err != nil {
		s.mu.Lock()
		s.putDescriptor(fd, !shared) // a refused request leaves no lock
		s.mu.Unlock()
		return fail(err)
	}
	h := &heldLock{req: r}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		// Closed while this call waited: the lock must not outlive it.
		closeFD(fd)
		return fail(ErrClosed)
	}
	if s.locks == nil {
		s.locks = make(map[*heldLock]struct{})
	}
	s.locks[h] = struct{}{}
	return func() { s.unlock(h) }, nil
}

// unlock releases h unless it was released already, by an earlier call or
// by Close; the map check keeps a second call from touching a descriptor
// that now serves another lock.
func (s *Segment) unlock(h *heldLock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.locks[h]; !ok {
		return
	}
	delete(s.locks, h)
	defer announceRelease()
	if clearLock(h.req) != nil {
		closeFD(h.req.fd) // closing releases the lock too
		return
	}
	s.putDescriptor(h.req.fd, !h.req.shared)
}

// releaseLocks closes the descriptor of every lock held and every idle
// one; Close calls it with s.mu held.
func (s *Segment) releaseLocks() {
	for h := range s.locks {
		closeFD(h.req.fd)
	}
	if len(s.locks) > 0 {
		announceRelease()
	}
	s.locks = nil
	for _, fds := range s.lockPool.idle {
		for _, fd := range fds {
			closeFD(fd)
		}
	}
	s.lockPool = lockPool{}
}

// acquire takes the lock r describes, as mode says.
func (s *Segment) acquire(ctx context.Context, r lockRequest, mode lockMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := setLock(r, false)
	if err != errWouldBlock {
		return err
	}
	if mode == lockTry {
		return ErrLocked
	}
	if ctx.Done() == nil {
		// Nothing can cancel the wait: let the kernel wake this thread
		// when the lock is free.
		return setLock(r, true)
	}
	released.waiters.Add(1)
	defer released.waiters.Add(-1)
	delay := lockPollMin
	timer := time.NewTimer(jitter(delay))
	defer timer.Stop()
	for {
		// Take the channel before trying, so that a release after a
		// refusal closes the channel this waiter selects on.
		rel := releasedChan()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-rel:
		case <-timer.C:
			delay = min(2*delay, lockPollMax)
			timer.Reset(jitter(delay))
		}
		if s.closed.Load() {
			return ErrClosed
		}
		if err := setLock(r, false); err != errWouldBlock {
			return err
		}
	}
}

// released lets polling waiters know that a lock of this process has just
// been released, so that they retry at once instead of at their next poll:
// a lock handed from one goroutine to another is not late. Releases by
// other processes are seen by polling only.
var released struct {
	mu      sync.Mutex
	ch      chan struct{} // closed at the next release
	waiters atomic.Int32  // polling waiters; releases skip the channel when 0
}

// releasedChan returns a channel closed at the next release.
func releasedChan() <-chan struct{} {
	released.mu.Lock()
	defer released.mu.Unlock()
	if released.ch == nil {
		released.ch = make(chan struct{})
	}
	return released.ch
}

// announceRelease wakes the polling waiters after a lock was released.
func announceRelease() {
	if released.waiters.Load() == 0 {
		return
	}
	released.mu.Lock()
	defer released.mu.Unlock()
	if released.ch != nil {
		close(released.ch)
		released.ch = nil
	}
}

// jitter spreads d over [0.75d, 1.25d) so that waiters started together do
// not retry in step.
func jitter(d time.Duration) time.Duration {
	return d*3/4 + rand.N(d/2)
}

// lockRange returns the bytes of the file that a lock covers: the data, or
// the rows [start, stop) of it. A zero length means nothing to lock. An
// empty tensor still gets one byte, since a length of 0 means "to the end of
// the file, however far it grows" to fcntl.
func (s *Segment) lockRange(rows bool, start, stop int) (off, n int64, err error) {
	off, n = s.hdr.DataOff, s.hdr.DataLen
	if rows {
		sh := s.hdr.Shape
		if len(sh) == 0 {
			return 0, 0, fmt.Errorf("%w: a 0-d tensor has no rows", ErrIndex)
		}
		if start < 0 || stop < start || stop > sh[0] {
			return 0, 0, fmt.Errorf("%w: rows [%d, %d) outside [0, %d)", ErrIndex, start, stop, sh[0])
		}
		if start == stop {
			return 0, 0, nil
		}
		if n > 0 && (!s.hdr.Fortran || len(sh) == 1) {
			row := n / int64(sh[0])
			off += int64(start) * row
			n = int64(stop-start) * row
		}
	}
	return off, max(n, 1), nil
}

func setLock(r lockRequest, wait bool) error {
	return sys.SetLock(r.fd, r.start, r.len, r.shared, wait)
}

// clearLock releases the lock r took, leaving its descriptor free for
// another lock.
func clearLock(r lockRequest) error { return sys.ClearLock(r.fd, r.start, r.len) }
