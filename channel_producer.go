package shmtensor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/sys"
)

// Producer is the sending end of a channel. It is not safe for concurrent
// use: one goroutine loans and sends.
type Producer[T Number] struct {
	ch     *channel
	views  views[T]
	head   uint64 // the next message's sequence number
	loaned bool
	closed bool

	// Block policy: h < limit needs no look at the subscribers, as long as
	// joins is still joinsSeen.
	limit     uint64
	joinsSeen uint32
	scanned   bool
	// dead[j] is the state word of entry j when it was found without its
	// lock: that subscriber is gone until a new one takes the entry.
	dead []uint32

	// Subscribers woken after a send are looked for in entries [0, hi),
	// recounted when joins changes.
	hi        int
	wakeJoins uint32
	wakeSeen  bool
}

// producerWaitSlice bounds one sleep of a blocked producer: after it, the
// producer tests the locks of the subscribers it waits for, so a killed one
// stalls it about this long.
const producerWaitSlice = 5 * time.Millisecond

// CreateChannel makes a new channel of messages of the given shape and
// element type, and returns its producer. The name must not exist (as for
// Create, ErrExist). Slots, MaxSubscribers and WithPolicy set the ring;
// Mode, Lazy, Populate and HugePages apply as for Create. The segment is
// S × message bytes, plus the header page and a control area of a page or
// more. The channel stays under its name after Close, for subscribers to
// drain and for a later AttachProducer; Delete removes it.
func CreateChannel[T Number](name string, shape []int, opts ...Option) (*Producer[T], error) {
	const op = "create-channel"
	if !sys.LiveLocks {
		return nil, &Error{Op: op, Name: name, Err: fmt.Errorf("%w: channels need open file description locks (Linux)", ErrNotSupported)}
	}
	o := buildOptions(opts)
	slots, subs := o.slots, o.maxSubs
	if slots == 0 {
		slots = DefaultSlots(int64(DTypeOf[T]().Size()) * product(shape))
	}
	if subs == 0 {
		subs = DefaultMaxSubscribers
	}
	if slots < 1 || slots > codec.ChanMaxSlots {
		return nil, &Error{Op: op, Name: name, Err: fmt.Errorf("%w: %d slots: a channel needs a power of two from 1 to %d", ErrShape, slots, codec.ChanMaxSlots)}
	}
	ring := append([]int{slots}, shape...)
	dt := DTypeOf[T]()
	h, err := newHeader(NPY, dt, ring, false)
	if err != nil {
		return nil, &Error{Op: op, Name: name, Err: err}
	}
	c, err := codec.NewChannel(h, codec.Policy(o.policy), slots, subs)
	if err != nil {
		return nil, &Error{Op: op, Name: name, Err: err}
	}
	setup := func(o *options) {
		o.layout, o.unpublished, o.readOnly = NPY, false, false
		o.tail = c.CtrlLen
		o.prepare = func(fd int, mem []byte) error {
			// The producer lock is held before the name exists, so no
			// subscriber ever sees the channel without its producer.
			if err := sys.SetLock(fd, codec.ChanProducerByte, 1, false, false); err != nil {
				return fmt.Errorf("producer lock: %w", err)
			}
			codec.EncodeChannel(mem[c.CtrlOff:], c, h.DataOff)
			(*ctrlWords)(ptrAt(mem, c.CtrlOff)).epoch = 1
			return nil
		}
	}
	seg, err := newSegment(op, name, dt, ring, false, append(slices.Clip(opts), setup), nil)
	if err != nil {
		return nil, err
	}
	return newProducer[T](newChannel(seg, c)), nil
}

// AttachProducer takes over the channel name as its producer, after the
// producer it had died or closed: sending goes on from the next sequence
// number, and subscribers that got ErrProducerGone receive again. While
// another producer lives it fails with ErrInUse. T must be the channel's
// element type (ErrDType).
func AttachProducer[T Number](name string, opts ...Option) (*Producer[T], error) {
	const op = "attach-producer"
	ch, err := openChannel(op, name, DTypeOf[T](), withoutReadOnly(opts))
	if err != nil {
		return nil, err
	}
	if err := sys.SetLock(ch.seg.fd, codec.ChanProducerByte, 1, false, false); err != nil {
		ch.seg.Close()
		if errors.Is(err, sys.ErrWouldBlock) {
			err = fmt.Errorf("%w: the channel has a live producer", ErrInUse)
		}
		return nil, &Error{Op: op, Name: ch.seg.name, Err: err}
	}
	atomic.AddUint32(&ch.ctrl.epoch, 1)
	atomic.StoreUint32(&ch.ctrl.closed, 0)
	p := newProducer[T](ch)
	p.head = atomic.LoadUint64(&ch.ctrl.head)
	return p, nil
}

func withoutReadOnly(opts []Option) []Option {
	return append(slices.Clip(opts), func(o *options) { o.readOnly = false })
}

func newProducer[T Number](ch *channel) *Producer[T] {
	return &Producer[T]{ch: ch, views: newViews[T](ch, false), dead: make([]uint32, ch.c.MaxSubscribers)}
}

// Name returns the channel's name with its scheme.
func (p *Producer[T]) Name() string { return p.ch.seg.name }

// Shape returns the shape of one message.
func (p *Producer[T]) Shape() []int { return slices.Clone(p.ch.shape) }

// Slots returns the number of slots of the ring.
func (p *Producer[T]) Slots() int { return p.ch.c.Slots }

// Policy returns the channel's policy.
func (p *Producer[T]) Policy() Policy { return Policy(p.ch.c.Policy) }

// Sent returns the number of messages sent on the channel, by this
// producer and those before it: the sequence number of the next message.
func (p *Producer[T]) Sent() uint64 { return p.head }

// Loan returns the slot the next message is written into, as a writable
// tensor of the channel's message shape, holding whatever it held before.
// Send publishes it. In the Block policy Loan waits until every live
// subscriber has released the message that the slot held; a subscriber
// that died is noticed within a few milliseconds (its lock is gone) and no
// longer waited for. Loan returns ctx's error if ctx ends first. Calling
// Loan again before Send returns the same slot. From Loan on, the slot's
// previous message counts as overwritten for Latest subscribers: have the
// message's data at hand before calling it.
func (p *Producer[T]) Loan(ctx context.Context) (*Tensor[T], error) {
	if p.closed {
		return nil, &Error{Op: "loan", Name: p.ch.seg.name, Err: ErrClosed}
	}
	h := p.head
	if !p.loaned {
		if p.ch.c.Policy == codec.PolicyBlock {
			if err := p.waitRoom(ctx, h); err != nil {
				return nil, &Error{Op: "loan", Name: p.ch.seg.name, Err: err}
			}
		}
		// An exchange, not a store: the message's writes must not become
		// visible before the stamp saying the slot is being written.
		atomic.SwapUint64(&p.ch.stamps[h&p.ch.mask], 2*h+1)
		p.loaned = true
	}
	return p.views.get(h & p.ch.mask), nil
}

// Send publishes the loaned slot as the next message and wakes the
// subscribers waiting for it. Without a loan it fails.
func (p *Producer[T]) Send() error {
	if p.closed {
		return &Error{Op: "send", Name: p.ch.seg.name, Err: ErrClosed}
	}
	if !p.loaned {
		return &Error{Op: "send", Name: p.ch.seg.name, Err: errors.New("nothing loaned: call Loan first")}
	}
	h := p.head
	ctrl := p.ch.ctrl
	atomic.StoreUint64(&p.ch.stamps[h&p.ch.mask], 2*h+2)
	atomic.StoreUint64(&ctrl.head, h+1)
	p.head, p.loaned = h+1, false
	atomic.AddUint32(&ctrl.wake, 1)
	p.wakeSubscribers()
	return nil
}

// SendCopy sends a copy of src, which must hold exactly one message's
// elements in C order: Loan, copy, Send.
func (p *Producer[T]) SendCopy(ctx context.Context, src []T) error {
	t, err := p.Loan(ctx)
	if err != nil {
		return err
	}
	if len(src) != len(t.data) {
		return &Error{Op: "send", Name: p.ch.seg.name, Err: fmt.Errorf("%w: %d elements, a message holds %d", ErrShape, len(src), len(t.data))}
	}
	copy(t.data, src)
	return p.Send()
}

// wakeSubscribers wakes the subscribers asleep on the wake word, if any:
// the futex call is made only when a subscriber said it sleeps.
func (p *Producer[T]) wakeSubscribers() {
	ch := p.ch
	if j := atomic.LoadUint32(&ch.ctrl.joins); !p.wakeSeen || j != p.wakeJoins {
		p.hi = 0
		for i := range ch.entries {
			if atomic.LoadUint32(&ch.entries[i].state)&1 != 0 {
				p.hi = i + 1
			}
		}
		p.wakeJoins, p.wakeSeen = j, true
	}
	// The waker clears the flags it acts on: one wake-up per sleep, not
	// one per message sent while the sleeper is being woken.
	wake := false
	for i := range ch.entries[:p.hi] {
		if w := &ch.entries[i].waiting; atomic.LoadUint32(w) != 0 && atomic.CompareAndSwapUint32(w, 1, 0) {
			wake = true
		}
	}
	if wake {
		sys.WakeWord(&ch.ctrl.wake, math.MaxInt32)
	}
}

// waitRoom waits until slot h may be written: every live subscriber's
// cursor is past h − S.
func (p *Producer[T]) waitRoom(ctx context.Context, h uint64) error {
	ch := p.ch
	if p.scanned && h < p.limit && atomic.LoadUint32(&ch.ctrl.joins) == p.joinsSeen {
		return nil
	}
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		joins := atomic.LoadUint32(&ch.ctrl.joins)
		low, ok := p.lowestCursor()
		if !ok || h < low+uint64(ch.c.Slots) {
			p.limit = math.MaxUint64
			if ok {
				p.limit = low + uint64(ch.c.Slots)
			}
			p.joinsSeen, p.scanned = joins, true
			return nil
		}
		if p.reapLaggards(h) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if stop == nil && ctx.Done() != nil {
			stop = context.AfterFunc(ctx, func() { sys.WakeWord(&ch.ctrl.release, math.MaxInt32) })
		}
		// release is read before prodwait is set: a subscriber that
		// clears prodwait has advanced its cursor and bumps release after.
		r := atomic.LoadUint32(&ch.ctrl.release)
		atomic.StoreUint32(&ch.ctrl.prodWait, 1)
		if low, ok := p.lowestCursor(); !ok || h < low+uint64(ch.c.Slots) {
			atomic.StoreUint32(&ch.ctrl.prodWait, 0)
			continue
		}
		d := producerWaitSlice
		if dl, ok := ctx.Deadline(); ok {
			d = min(d, max(time.Until(dl), time.Microsecond))
		}
		err := sys.SleepWord(&ch.ctrl.release, r, d)
		atomic.StoreUint32(&ch.ctrl.prodWait, 0)
		if err != nil {
			return fmt.Errorf("wait for subscribers: %w", err)
		}
	}
}

// lowestCursor returns the lowest cursor of the live active subscribers,
// and false if there are none.
func (p *Producer[T]) lowestCursor() (uint64, bool) {
	low, ok := uint64(math.MaxUint64), false
	for j := range p.ch.entries {
		e := &p.ch.entries[j]
		st := atomic.LoadUint32(&e.state)
		if st&1 == 0 || st == p.dead[j] {
			continue
		}
		low, ok = min(low, atomic.LoadUint64(&e.cursor)), true
	}
	return low, ok
}

// reapLaggards tests the locks of the subscribers that hold back message
// h, and marks those without one dead. It reports whether it found any.
func (p *Producer[T]) reapLaggards(h uint64) bool {
	found := false
	for j := range p.ch.entries {
		e := &p.ch.entries[j]
		st := atomic.LoadUint32(&e.state)
		if st&1 == 0 || st == p.dead[j] || atomic.LoadUint64(&e.cursor)+uint64(p.ch.c.Slots) > h {
			continue
		}
		if !p.ch.lockHeld(codec.ChanSubByte0 + int64(j)) {
			p.dead[j] = st
			found = true
		}
	}
	return found
}

// Close ends the stream: subscribers receive every message sent, then
// io.EOF. It unmaps the channel and lets go of the producer lock; the
// channel stays under its name (Delete removes it). A loaned slot is not
// sent.
func (p *Producer[T]) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	ctrl := p.ch.ctrl
	atomic.StoreUint32(&ctrl.closed, 1)
	atomic.AddUint32(&ctrl.wake, 1)
	sys.WakeWord(&ctrl.wake, math.MaxInt32)
	return p.ch.seg.Close()
}
