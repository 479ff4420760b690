package shmtensor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync/atomic"
	"time"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/sys"
)

// Subscriber is a receiving end of a channel. It is not safe for
// concurrent use: one goroutine calls Next and Release.
type Subscriber[T Number] struct {
	ch    *channel
	views views[T]
	j     int
	e     *entryWords
	state uint32 // the entry's state word while this subscriber holds it

	cursor    uint64 // the next message, or the one held
	held      bool
	heldStamp uint64 // Latest: the slot's stamp when the held message was read
	pending   uint64 // messages lost since the last one returned
	closed    bool
}

// Message is one message of a channel as Next returns it.
type Message[T Number] struct {
	// Seq is the message's sequence number: 0 for the first message sent
	// on the channel, counting on across producers.
	Seq uint64
	// Lost is how many messages this subscriber lost just before this one
	// (Latest policy only): overwritten before it got to them, or while it
	// held them.
	Lost uint64
	// Tensor is a read-only view of the message in its slot, valid until
	// Release, the next Next or Close.
	Tensor *Tensor[T]
}

// subscriberWaitSlice bounds one sleep of a subscriber waiting for a
// message: after it, it tests the producer's lock, so a dead producer is
// reported this long after it died at most (plus a system call).
const subscriberWaitSlice = 20 * time.Millisecond

// subscriberSpins is how many times Next looks for a message before it
// goes to sleep: a message due within a microsecond or so saves the sleep
// and the wake-up.
const subscriberSpins = 64

// Subscribe joins the channel name as a subscriber, starting from the
// oldest message the ring still holds, or with FromNewest from the most
// recent one. T must be the channel's element type (ErrDType). It fails
// with ErrTooManySubscribers when every entry of the channel's table is
// held by a live subscriber, and with ErrNotTensor when the name holds a
// segment that is not a channel. ReadOnly and AnyOwner apply as for Attach;
// a subscriber writes its own entry of the control area only, so
// ReadOnly is ignored.
func Subscribe[T Number](name string, opts ...Option) (*Subscriber[T], error) {
	const op = "subscribe"
	ch, err := openChannel(op, name, DTypeOf[T](), withoutReadOnly(opts))
	if err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	s := &Subscriber[T]{ch: ch, views: newViews[T](ch, true), j: -1}
	fail := func(err error) (*Subscriber[T], error) {
		ch.seg.Close()
		return nil, &Error{Op: op, Name: ch.seg.name, Err: err}
	}
	for j := range ch.entries {
		err := sys.SetLock(ch.seg.fd, codec.ChanSubByte0+int64(j), 1, false, false)
		if err == nil {
			s.j = j
			break
		}
		if !errors.Is(err, sys.ErrWouldBlock) {
			return fail(fmt.Errorf("subscriber lock: %w", err))
		}
	}
	if s.j < 0 {
		return fail(fmt.Errorf("%w: all %d are taken", ErrTooManySubscribers, len(ch.entries)))
	}
	s.e = &ch.entries[s.j]
	e, ctrl, slots := s.e, ch.ctrl, uint64(ch.c.Slots)
	var flags uint32
	if o.fromNewest {
		flags = codec.ChanEntFlagNewest
	}
	atomic.StoreUint32(&e.pid, uint32(os.Getpid()))
	atomic.StoreUint32(&e.flags, flags)
	atomic.StoreUint64(&e.received, 0)
	atomic.StoreUint64(&e.lost, 0)
	atomic.StoreUint32(&e.waiting, 0)
	head := atomic.LoadUint64(&ctrl.head)
	c := oldestKept(head, slots)
	idle := atomic.LoadUint32(&ctrl.closed) != 0 && !ch.producerAlive()
	if idle {
		// No producer writes: the whole ring is intact.
		c = head - min(head, slots)
	}
	if o.fromNewest && head > 0 {
		c = head - 1
	}
	atomic.StoreUint64(&e.cursor, c)
	s.state = (atomic.LoadUint32(&e.state)>>1+1)<<1 | 1
	atomic.StoreUint32(&e.state, s.state)
	// Tell the producer, under the join lock (Python has no atomic add).
	if err := sys.SetLock(ch.seg.fd, codec.ChanJoinByte, 1, false, true); err != nil {
		return fail(fmt.Errorf("join lock: %w", err))
	}
	atomic.StoreUint32(&ctrl.joins, atomic.LoadUint32(&ctrl.joins)+1)
	sys.ClearLock(ch.seg.fd, codec.ChanJoinByte, 1)
	// A producer that had not seen the join may have overwritten the
	// slots below what it writes now.
	if low := oldestKept(atomic.LoadUint64(&ctrl.head), slots); c < low && (!idle || atomic.LoadUint32(&ctrl.closed) == 0) {
		c = low
		atomic.StoreUint64(&e.cursor, c)
	}
	s.cursor = c
	return s, nil
}

// oldestKept is the oldest message a ring of slots slots holds intact
// while the producer may be writing message head: head + 1 − slots.
func oldestKept(head, slots uint64) uint64 {
	if head+1 > slots {
		return head + 1 - slots
	}
	return 0
}

// Name returns the channel's name with its scheme.
func (s *Subscriber[T]) Name() string { return s.ch.seg.name }

// Shape returns the shape of one message.
func (s *Subscriber[T]) Shape() []int { return append([]int(nil), s.ch.shape...) }

// Policy returns the channel's policy.
func (s *Subscriber[T]) Policy() Policy { return Policy(s.ch.c.Policy) }

// Received returns how many messages this subscriber received intact:
// those Next returned, less those found overwritten at their release.
func (s *Subscriber[T]) Received() uint64 { return atomic.LoadUint64(&s.e.received) }

// Lost returns how many messages this subscriber lost (Latest policy).
func (s *Subscriber[T]) Lost() uint64 { return atomic.LoadUint64(&s.e.lost) }

// Next releases the message held, if any, and returns the next one,
// waiting for it to be sent. It returns io.EOF once the producer closed
// the stream and every message was delivered, ErrProducerGone (wrapped)
// when no producer lives and every message sent was delivered, within
// about 20 ms of the producer's death, and ctx's error if ctx ends first.
// After io.EOF or ErrProducerGone, Next may be called again: a producer
// that takes the channel over (AttachProducer) sends on.
func (s *Subscriber[T]) Next(ctx context.Context) (Message[T], error) {
	if s.closed {
		return Message[T]{}, &Error{Op: "next", Name: s.ch.seg.name, Err: ErrClosed}
	}
	if s.held {
		if err := s.release(); err != nil {
			s.pending++
		}
	}
	ch, e := s.ch, s.e
	latest := ch.c.Policy == codec.PolicyLatest
	spins := 0
	for {
		h := atomic.LoadUint64(&ch.ctrl.head)
		c := s.cursor
		if h > c {
			if latest {
				// The oldest message that may still be whole: h − S, unless
				// the producer is writing h over it, which its stamp says.
				if slots := uint64(ch.c.Slots); h > slots && c < h-slots {
					s.lose(h - slots - c)
					c = h - slots
				}
				st := atomic.LoadUint64(&ch.stamps[c&ch.mask])
				if st != 2*c+2 {
					// Overwritten (or being overwritten) by a later lap.
					s.lose(1)
					s.cursor = c + 1
					atomic.StoreUint64(&e.cursor, c+1)
					continue
				}
				s.heldStamp = st
				if c != s.cursor {
					atomic.StoreUint64(&e.cursor, c)
				}
			}
			s.cursor, s.held = c, true
			atomic.StoreUint64(&e.received, atomic.LoadUint64(&e.received)+1)
			lost := s.pending
			s.pending = 0
			return Message[T]{Seq: c, Lost: lost, Tensor: s.views.get(c & ch.mask)}, nil
		}
		if atomic.LoadUint32(&ch.ctrl.closed) != 0 {
			if atomic.LoadUint64(&ch.ctrl.head) > c {
				continue
			}
			return Message[T]{}, io.EOF
		}
		if spins < subscriberSpins {
			spins++
			continue
		}
		if err := s.sleep(ctx, c); err != nil {
			return Message[T]{}, err
		}
	}
}

// lose counts n lost messages.
func (s *Subscriber[T]) lose(n uint64) {
	s.pending += n
	atomic.StoreUint64(&s.e.lost, atomic.LoadUint64(&s.e.lost)+n)
}

// sleep waits on the wake word for a message after c, for one slice at
// most. It fails with ErrProducerGone when no producer lives (tested before
// the first sleep and after each one), and with ctx's error.
func (s *Subscriber[T]) sleep(ctx context.Context, c uint64) error {
	ch, e := s.ch, s.e
	if err := ctx.Err(); err != nil {
		return err
	}
	w := atomic.LoadUint32(&ch.ctrl.wake)
	atomic.StoreUint32(&e.waiting, 1)
	defer atomic.StoreUint32(&e.waiting, 0)
	if atomic.LoadUint64(&ch.ctrl.head) > c || atomic.LoadUint32(&ch.ctrl.closed) != 0 {
		return nil
	}
	if !ch.producerAlive() {
		if atomic.LoadUint64(&ch.ctrl.head) > c || atomic.LoadUint32(&ch.ctrl.closed) != 0 {
			return nil
		}
		return &Error{Op: "next", Name: ch.seg.name, Err: ErrProducerGone}
	}
	d := subscriberWaitSlice
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, max(time.Until(dl), time.Microsecond))
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { sys.WakeWord(&ch.ctrl.wake, math.MaxInt32) })
	}
	err := sys.SleepWord(&ch.ctrl.wake, w, d)
	if stop != nil {
		stop()
	}
	if err != nil {
		return &Error{Op: "next", Name: ch.seg.name, Err: fmt.Errorf("wait for a message: %w", err)}
	}
	return ctx.Err()
}

// Release lets go of the message Next returned, so that a Block producer
// may reuse its slot. In the Latest policy it reports ErrOverrun if the
// producer overwrote the message while it was held: what was read from it
// may be torn (the loss is counted in the next message's Lost). Next
// releases the held message itself; Release without one does nothing.
func (s *Subscriber[T]) Release() error {
	if !s.held || s.closed {
		return nil
	}
	if err := s.release(); err != nil {
		s.pending++
		return &Error{Op: "release", Name: s.ch.seg.name, Err: err}
	}
	return nil
}

func (s *Subscriber[T]) release() error {
	ch, c := s.ch, s.cursor
	s.held = false
	s.cursor = c + 1
	var err error
	if ch.c.Policy == codec.PolicyLatest {
		// A compare-and-swap, not a load: it orders the reads of the
		// message before it on every architecture.
		if !atomic.CompareAndSwapUint64(&ch.stamps[c&ch.mask], s.heldStamp, s.heldStamp) {
			// It was not received after all: it counts as lost.
			atomic.StoreUint64(&s.e.received, atomic.LoadUint64(&s.e.received)-1)
			atomic.StoreUint64(&s.e.lost, atomic.LoadUint64(&s.e.lost)+1)
			err = fmt.Errorf("%w: message %d", ErrOverrun, c)
		}
	}
	atomic.StoreUint64(&s.e.cursor, c+1)
	if pw := &ch.ctrl.prodWait; atomic.LoadUint32(pw) != 0 && atomic.CompareAndSwapUint32(pw, 1, 0) {
		atomic.AddUint32(&ch.ctrl.release, 1)
		sys.WakeWord(&ch.ctrl.release, 1)
	}
	return err
}

// Close leaves the channel: the entry is freed for another subscriber and
// the producer no longer waits for this one. The views Next returned
// become invalid.
func (s *Subscriber[T]) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	ch := s.ch
	atomic.StoreUint32(&s.e.state, s.state&^1)
	if pw := &ch.ctrl.prodWait; atomic.LoadUint32(pw) != 0 && atomic.CompareAndSwapUint32(pw, 1, 0) {
		atomic.AddUint32(&ch.ctrl.release, 1)
		sys.WakeWord(&ch.ctrl.release, 1)
	}
	return ch.seg.Close()
}
