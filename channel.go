package shmtensor

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/strided"
	"github.com/shmtensor/shmtensor/internal/sys"
)

// A channel is a stream of tensors of one element type and shape from one
// producer to up to MaxSubscribers subscribers, in one segment: a ring of
// Slots messages that numpy sees as an array of shape (slots, *shape), and
// a control area after it (docs/formats.md, "Channels"). Messages are
// written and read in place: Loan hands the producer the next slot, Next
// hands a subscriber a read-only view of it. Liveness is a kernel fact: the
// producer and each subscriber hold an open-file-description lock that the
// kernel drops when they close or die, so a dead subscriber never stalls
// the producer for long and a dead producer is reported to its subscribers
// (ErrProducerGone) instead of hanging them. Channels need Linux.

// Policy is what a channel's producer does when the slot it needs next
// still holds a message that a subscriber has not released.
type Policy uint8

const (
	// Block makes the producer wait (honouring its context) for the
	// slowest live subscriber: no subscriber loses a message.
	Block Policy = Policy(codec.PolicyBlock)
	// Latest never makes the producer wait: it overwrites the oldest
	// message, and a subscriber that falls behind by the whole ring skips
	// ahead, told how many messages it lost (Message.Lost).
	Latest Policy = Policy(codec.PolicyLatest)
)

// String returns "block" or "latest".
func (p Policy) String() string {
	switch p {
	case Block:
		return "block"
	case Latest:
		return "latest"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// DefaultMaxSubscribers is the size of a channel's subscriber table unless
// MaxSubscribers says otherwise.
const DefaultMaxSubscribers = 8

// DefaultSlots returns the number of slots a channel of messages of
// messageBytes bytes gets unless Slots says otherwise: a ring of about
// 1 MiB, 16 slots for messages of 64 KiB and more, up to 1,024 for small
// ones. A deep ring lets producer and subscribers run for
// many messages between two sleeps; a wake-up costs tens of microseconds
// on a virtual machine.
func DefaultSlots(messageBytes int64) int {
	s := 16
	for s < 1024 && int64(2*s)*messageBytes <= 1<<20 {
		s *= 2
	}
	return s
}

// product multiplies a shape's dimensions, 0 for an invalid one (the
// header's checks then refuse it).
func product(shape []int) int64 {
	n := int64(1)
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt64/int64(d)) {
			return 0
		}
		n *= int64(d)
	}
	return n
}

// Slots sets the number of messages a channel made by CreateChannel holds
// at once: a power of two from 1 to 2^24. The default is a ring of about
// 1 MiB: 16 slots for messages of 64 KiB and more, up to 1,024 for small
// ones.
func Slots(n int) Option { return func(o *options) { o.slots = n } }

// MaxSubscribers sets how many subscribers a channel made by CreateChannel
// takes at once, from 1 to 1024 (default DefaultMaxSubscribers). The
// producer looks at every entry of the table now and then, so keep it near
// what is needed.
func MaxSubscribers(n int) Option { return func(o *options) { o.maxSubs = n } }

// WithPolicy sets the policy of a channel made by CreateChannel (default
// Block).
func WithPolicy(p Policy) Option { return func(o *options) { o.policy = p } }

// FromNewest makes Subscribe start from the most recent message sent (or
// the first one to be sent, if none was), instead of the oldest message the
// ring still holds.
func FromNewest() Option { return func(o *options) { o.fromNewest = true } }

// ctrlWords overlays the first 256 bytes of a control area; the layout
// test checks it against internal/codec's offsets. The fixed fields are
// read once, through the codec; only the moving words are used from here.
type ctrlWords struct {
	_        [64]byte // magic, version, policy, slots, maxsubs, msgbytes, offsets
	head     uint64   // 64
	wake     uint32   // 72
	closed   uint32   // 76
	epoch    uint32   // 80
	joins    uint32   // 84
	_        [40]byte
	release  uint32 // 128
	prodWait uint32 // 132
}

// entryWords overlays one 64-byte subscriber entry.
type entryWords struct {
	state    uint32 // bit 0 active, bits 1-31 generation
	pid      uint32
	cursor   uint64
	waiting  uint32
	flags    uint32
	received uint64
	lost     uint64
	_        [24]byte
}

// channel is what the producer and the subscribers share: the mapped
// segment and views of its control area, validated once at open.
type channel struct {
	seg     *Segment
	c       codec.Channel
	mask    uint64
	ctrl    *ctrlWords
	stamps  []uint64
	entries []entryWords
	shape   []int // of one message
}

// openChannel maps the channel segment name and validates its control
// area. The element type must be dt (ErrDType), the shape, if given, the
// message shape (ErrShape).
func openChannel(op, name string, dt DType, opts []Option) (*channel, error) {
	if !sys.LiveLocks {
		return nil, &Error{Op: op, Name: name, Err: fmt.Errorf("%w: channels need open file description locks (Linux)", ErrNotSupported)}
	}
	seg, err := openSegment(op, name, opts)
	if err != nil {
		return nil, err
	}
	ch, err := channelOf(seg)
	if err == nil && DType(seg.hdr.DType) != dt {
		err = fmt.Errorf("%w: channel carries %v, want %v", ErrDType, seg.hdr.DType, dt)
	}
	if err != nil {
		seg.Close()
		return nil, &Error{Op: op, Name: seg.name, Err: err}
	}
	return ch, nil
}

// channelOf validates the control area of a mapped segment and returns the
// channel over it.
func channelOf(seg *Segment) (*channel, error) {
	off, ok := codec.ChannelAt(seg.hdr, int64(len(seg.mem)))
	if !ok || !codec.IsChannel(seg.mem[off:]) {
		return nil, explain(fmt.Sprintf("a %v segment of one tensor, not a channel", Layout(seg.hdr.Layout)), ErrNotTensor)
	}
	c, err := codec.ParseChannel(seg.mem[off:off+64], seg.hdr, int64(len(seg.mem)))
	if err != nil {
		return nil, err
	}
	return newChannel(seg, c), nil
}

// newChannel builds the views of a validated control area. ParseChannel
// (or NewChannel at create) checked that the area lies within the mapping.
func newChannel(seg *Segment, c codec.Channel) *channel {
	ctrl := seg.mem[c.CtrlOff : c.CtrlOff+c.CtrlLen]
	eo := codec.ChanEntriesOff(c.Slots)
	return &channel{
		seg:     seg,
		c:       c,
		mask:    uint64(c.Slots - 1),
		ctrl:    (*ctrlWords)(unsafe.Pointer(&ctrl[0])),
		stamps:  unsafe.Slice((*uint64)(unsafe.Pointer(&ctrl[codec.ChanOffStamps])), c.Slots),
		entries: unsafe.Slice((*entryWords)(unsafe.Pointer(&ctrl[eo])), c.MaxSubscribers),
		shape:   slices.Clone(seg.hdr.Shape[1:]),
	}
}

// ptrAt returns the address of mem[off].
func ptrAt(mem []byte, off int64) unsafe.Pointer { return unsafe.Pointer(&mem[off]) }

// slotView returns a tensor over slot i of the ring.
func slotView[T Number](ch *channel, i uint64, ro bool) *Tensor[T] {
	n := int(ch.c.MessageBytes) / DTypeOf[T]().Size()
	var data []T
	if n > 0 {
		p := unsafe.Pointer(&ch.seg.mem[ch.seg.hdr.DataOff+int64(i)*ch.c.MessageBytes])
		data = unsafe.Slice((*T)(p), n)
	}
	shape := slices.Clone(ch.shape)
	return newTensor(data, 0, shape, strided.Strides(shape, false), ch.seg, ro)
}

// maxCachedViews bounds the slot views a producer or subscriber keeps:
// beyond it, views are made per message.
const maxCachedViews = 1 << 16

// views caches one tensor per slot, so that a message costs no allocation.
type views[T Number] struct {
	ch *channel
	ro bool
	t  []*Tensor[T]
}

func newViews[T Number](ch *channel, ro bool) views[T] {
	v := views[T]{ch: ch, ro: ro}
	if ch.c.Slots <= maxCachedViews {
		v.t = make([]*Tensor[T], ch.c.Slots)
	}
	return v
}

func (v *views[T]) get(i uint64) *Tensor[T] {
	if v.t == nil {
		return slotView[T](v.ch, i, v.ro)
	}
	if v.t[i] == nil {
		v.t[i] = slotView[T](v.ch, i, v.ro)
	}
	return v.t[i]
}

// lockHeld reports whether another open file description holds the lock
// byte b of the channel's file: its holder lives. An error (which the
// kernel gives only for a bad descriptor or argument) counts as held, so a
// participant is never dropped on a doubt.
func (ch *channel) lockHeld(b int64) bool {
	_, held, err := sys.TestLock(ch.seg.fd, b, 1)
	return held || err != nil
}

// producerAlive reports whether a producer holds the channel.
func (ch *channel) producerAlive() bool { return ch.lockHeld(codec.ChanProducerByte) }

// ChannelInfo describes a channel, as StatChannel reads it.
type ChannelInfo struct {
	Name           string
	DType          DType
	Shape          []int // of one message
	Slots          int
	MaxSubscribers int
	Policy         Policy
	MessageBytes   int64
	// Sent is how many messages were sent since the channel was made.
	Sent uint64
	// Closed reports that the producer ended the stream.
	Closed bool
	// ProducerAlive reports that a process holds the channel as its
	// producer (from any PID namespace).
	ProducerAlive bool
	// Epoch counts the producers the channel has had.
	Epoch       uint32
	Subscribers []SubscriberInfo
	ID          FileID
	Size        int64
}

// SubscriberInfo describes a subscriber entry in use.
type SubscriberInfo struct {
	Entry int
	// PID is the subscriber's process id in its own PID namespace.
	PID int
	// Cursor is the oldest message it may still read; Lag is how many
	// messages sent it has not released (Sent − Cursor).
	Cursor, Lag    uint64
	Received, Lost uint64
	// Alive reports that the subscriber's process holds its entry; a dead
	// one's entry is reused by the next subscriber.
	Alive      bool
	FromNewest bool
}

// StatChannel describes the channel name: its settings, its producer and
// its subscribers. It maps the channel read-only for a moment and takes no
// part in it. AnyOwner applies as for Attach.
func StatChannel(name string, opts ...Option) (ChannelInfo, error) {
	seg, err := openSegment("stat-channel", name, append(slices.Clip(opts), ReadOnly()))
	if err != nil {
		return ChannelInfo{}, err
	}
	defer seg.Close()
	ch, err := channelOf(seg)
	if err != nil {
		return ChannelInfo{}, &Error{Op: "stat-channel", Name: seg.name, Err: err}
	}
	head := atomic.LoadUint64(&ch.ctrl.head)
	info := ChannelInfo{
		Name: seg.name, DType: DType(seg.hdr.DType), Shape: slices.Clone(ch.shape),
		Slots: ch.c.Slots, MaxSubscribers: ch.c.MaxSubscribers, Policy: Policy(ch.c.Policy),
		MessageBytes: ch.c.MessageBytes, Sent: head,
		Closed:        atomic.LoadUint32(&ch.ctrl.closed) != 0,
		ProducerAlive: ch.producerAlive(),
		Epoch:         atomic.LoadUint32(&ch.ctrl.epoch),
		ID:            seg.id, Size: int64(len(seg.mem)),
	}
	for j := range ch.entries {
		e := &ch.entries[j]
		if atomic.LoadUint32(&e.state)&1 == 0 {
			continue
		}
		cur := atomic.LoadUint64(&e.cursor)
		info.Subscribers = append(info.Subscribers, SubscriberInfo{
			Entry: j, PID: int(atomic.LoadUint32(&e.pid)),
			Cursor: cur, Lag: head - min(cur, head),
			Received: atomic.LoadUint64(&e.received), Lost: atomic.LoadUint64(&e.lost),
			Alive:      ch.lockHeld(codec.ChanSubByte0 + int64(j)),
			FromNewest: atomic.LoadUint32(&e.flags)&codec.ChanEntFlagNewest != 0,
		})
	}
	return info, nil
}

// isChannelFile reports whether the file f, whose header is h, is a
// channel: an NPY ring followed by a valid control area.
func isChannelFile(f io.ReaderAt, h header, size int64) bool {
	off, ok := codec.ChannelAt(h, size)
	if !ok {
		return false
	}
	var fixed [64]byte
	if n, _ := f.ReadAt(fixed[:], off); n != len(fixed) {
		return false
	}
	_, err := codec.ParseChannel(fixed[:], h, size)
	return err == nil
}
