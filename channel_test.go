//go:build linux

package shmtensor

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/shmtensor/shmtensor/internal/codec"
)

// The Go overlays of the control area sit where the format puts the words.
func TestChannelLayout(t *testing.T) {
	var c ctrlWords
	var e entryWords
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"head", unsafe.Offsetof(c.head), codec.ChanOffHead},
		{"wake", unsafe.Offsetof(c.wake), codec.ChanOffWake},
		{"closed", unsafe.Offsetof(c.closed), codec.ChanOffClosed},
		{"epoch", unsafe.Offsetof(c.epoch), codec.ChanOffEpoch},
		{"joins", unsafe.Offsetof(c.joins), codec.ChanOffJoins},
		{"release", unsafe.Offsetof(c.release), codec.ChanOffRelease},
		{"prodwait", unsafe.Offsetof(c.prodWait), codec.ChanOffProdWait},
		{"entry state", unsafe.Offsetof(e.state), codec.ChanEntState},
		{"entry pid", unsafe.Offsetof(e.pid), codec.ChanEntPID},
		{"entry cursor", unsafe.Offsetof(e.cursor), codec.ChanEntCursor},
		{"entry waiting", unsafe.Offsetof(e.waiting), codec.ChanEntWaiting},
		{"entry flags", unsafe.Offsetof(e.flags), codec.ChanEntFlags},
		{"entry received", unsafe.Offsetof(e.received), codec.ChanEntReceived},
		{"entry lost", unsafe.Offsetof(e.lost), codec.ChanEntLost},
		{"entry size", unsafe.Sizeof(e), codec.ChanEntrySize},
	} {
		if f.got != f.want {
			t.Errorf("%s at %d, the format says %d", f.name, f.got, f.want)
		}
	}
}

func newTestChannel(t *testing.T, opts ...Option) (string, *Producer[float64]) {
	t.Helper()
	name := uniqueName(t)
	p, err := CreateChannel[float64](name, []int{2, 3}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return name, p
}

func subscribe(t *testing.T, name string, opts ...Option) *Subscriber[float64] {
	t.Helper()
	s, err := Subscribe[float64](name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func send(t *testing.T, p *Producer[float64], v float64) {
	t.Helper()
	m, err := p.Loan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m.Fill(v)
	if err := p.Send(); err != nil {
		t.Fatal(err)
	}
}

func next(t *testing.T, s *Subscriber[float64]) Message[float64] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestChannelSendReceive(t *testing.T) {
	name, p := newTestChannel(t, Slots(4))
	s := subscribe(t, name)
	for i := range 10 {
		send(t, p, float64(i))
		m := next(t, s)
		if m.Seq != uint64(i) || m.Lost != 0 || m.Tensor.At(1, 2) != float64(i) {
			t.Fatalf("message %d: seq %d lost %d value %v", i, m.Seq, m.Lost, m.Tensor.At(1, 2))
		}
		if !m.Tensor.ReadOnly() {
			t.Fatal("a subscriber's view is writable")
		}
		if got := m.Tensor.Shape(); len(got) != 2 || got[0] != 2 || got[1] != 3 {
			t.Fatalf("shape %v", got)
		}
	}
	if s.Received() != 10 {
		t.Fatalf("received %d", s.Received())
	}
	info, err := Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if info.Kind != KindChannel || len(info.Shape) != 3 || info.Shape[0] != 4 {
		t.Fatalf("Stat: kind %v shape %v", info.Kind, info.Shape)
	}
	ci, err := StatChannel(name)
	if err != nil {
		t.Fatal(err)
	}
	if ci.Sent != 10 || !ci.ProducerAlive || ci.Slots != 4 || len(ci.Subscribers) != 1 || !ci.Subscribers[0].Alive || ci.Subscribers[0].Received != 10 || ci.Policy != Block {
		t.Fatalf("StatChannel: %+v", ci)
	}
}

// The producer blocks on the slowest subscriber and goes on once it
// releases; nothing is lost.
func TestChannelBlockWaitsForSlowest(t *testing.T) {
	name, p := newTestChannel(t, Slots(2))
	fast, slow := subscribe(t, name), subscribe(t, name)
	send(t, p, 0)
	send(t, p, 1)
	next(t, fast)
	next(t, fast)
	next(t, slow) // holds message 0
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	_, err := p.Loan(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Loan with a full ring: %v", err)
	}
	if err := slow.Release(); err != nil {
		t.Fatal(err)
	}
	send(t, p, 2) // room now: slot of message 0 was released by both
	if m := next(t, slow); m.Seq != 1 || m.Tensor.At(0, 0) != 1 {
		t.Fatalf("slow got %d (%v)", m.Seq, m.Tensor.At(0, 0))
	}
	if m := next(t, slow); m.Seq != 2 {
		t.Fatalf("slow got %d", m.Seq)
	}
	if m := next(t, fast); m.Seq != 2 {
		t.Fatalf("fast got %d", m.Seq)
	}
}

// A subscriber whose lock is gone (its process died) no longer holds the
// producer back.
func TestChannelDeadSubscriberReleased(t *testing.T) {
	name, p := newTestChannel(t, Slots(2))
	s := subscribe(t, name)
	send(t, p, 0)
	send(t, p, 1)
	s.ch.seg.Close() // as death does: the lock goes, the entry stays active
	s.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.Loan(ctx); err != nil {
		t.Fatalf("Loan past a dead subscriber: %v", err)
	}
	if err := p.Send(); err != nil {
		t.Fatal(err)
	}
	// Its entry is taken again by the next subscriber.
	s2 := subscribe(t, name)
	if s2.j != s.j {
		t.Fatalf("new subscriber took entry %d, the dead one's was %d", s2.j, s.j)
	}
}

func TestChannelEndOfStreamAndProducerGone(t *testing.T) {
	name, p := newTestChannel(t)
	s := subscribe(t, name)
	send(t, p, 7)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if m := next(t, s); m.Tensor.At(0, 0) != 7 {
		t.Fatal("message sent before Close not delivered")
	}
	if _, err := s.Next(context.Background()); err != io.EOF {
		t.Fatalf("after Close: %v, want io.EOF", err)
	}
	// A new producer takes over and sends on.
	p2, err := AttachProducer[float64](name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AttachProducer[float64](name); !errors.Is(err, ErrInUse) {
		t.Fatalf("second producer: %v, want ErrInUse", err)
	}
	send(t, p2, 8)
	if m := next(t, s); m.Seq != 1 || m.Tensor.At(0, 0) != 8 {
		t.Fatalf("after takeover: seq %d value %v", m.Seq, m.Tensor.At(0, 0))
	}
	// Its death (the lock goes without Close) is ErrProducerGone.
	p2.ch.seg.Close()
	p2.closed = true
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrProducerGone) {
		t.Fatalf("after the producer died: %v", err)
	}
}

func TestChannelLatestSkips(t *testing.T) {
	name, p := newTestChannel(t, Slots(4), WithPolicy(Latest))
	s := subscribe(t, name)
	for i := range 10 {
		send(t, p, float64(i)) // never blocks
	}
	m := next(t, s)
	// Messages 6..9 are kept whole (the producer is not writing 10 yet).
	if m.Seq != 6 || m.Lost != 6 || m.Tensor.At(0, 0) != 6 {
		t.Fatalf("seq %d lost %d value %v", m.Seq, m.Lost, m.Tensor.At(0, 0))
	}
	// Overwrite the held message: Release says so and counts it.
	for i := 10; i < 14; i++ {
		send(t, p, float64(i))
	}
	if err := s.Release(); !errors.Is(err, ErrOverrun) {
		t.Fatalf("Release of an overwritten message: %v", err)
	}
	m = next(t, s)
	// Every message up to this one was received intact or counted lost.
	if m.Seq != 10 || m.Lost != 4 || s.Received()+s.Lost() != m.Seq+1 {
		t.Fatalf("seq %d (lost %d), received %d, lost %d in all", m.Seq, m.Lost, s.Received(), s.Lost())
	}
}

// With one slot, a Latest subscriber gets the last message sent.
func TestChannelLatestOneSlot(t *testing.T) {
	name, p := newTestChannel(t, Slots(1), WithPolicy(Latest))
	s := subscribe(t, name)
	for i := range 3 {
		send(t, p, float64(i))
	}
	if m := next(t, s); m.Seq != 2 || m.Lost != 2 || m.Tensor.At(0, 0) != 2 {
		t.Fatalf("seq %d lost %d value %v", m.Seq, m.Lost, m.Tensor.At(0, 0))
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	send(t, p, 3)
	if m := next(t, s); m.Seq != 3 || m.Lost != 0 {
		t.Fatalf("seq %d lost %d", m.Seq, m.Lost)
	}
}

func TestChannelErrors(t *testing.T) {
	name, _ := newTestChannel(t, MaxSubscribers(1))
	subscribe(t, name)
	if _, err := Subscribe[float64](name); !errors.Is(err, ErrTooManySubscribers) {
		t.Fatalf("second subscriber of one: %v", err)
	}
	if _, err := Subscribe[float32](name); !errors.Is(err, ErrDType) {
		t.Fatalf("wrong element type: %v", err)
	}
	if _, err := CreateChannel[float64](name, []int{2}); !errors.Is(err, ErrExist) {
		t.Fatalf("create over a channel: %v", err)
	}
	if _, err := AttachProducer[float64](name); !errors.Is(err, ErrInUse) {
		t.Fatalf("producer while one lives: %v", err)
	}
	plain := uniqueName(t)
	x, err := Create[float64](plain, []int{4, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	if _, err := Subscribe[float64](plain); !errors.Is(err, ErrNotTensor) {
		t.Fatalf("subscribe to a plain segment: %v", err)
	}
	for _, n := range []int{-1, 3, 1 << 25} {
		if _, err := CreateChannel[float64](uniqueName(t), []int{2}, Slots(n)); !errors.Is(err, ErrShape) {
			t.Errorf("Slots(%d): %v", n, err)
		}
	}
	if _, err := CreateChannel[float64](uniqueName(t), []int{2}, MaxSubscribers(2000)); !errors.Is(err, ErrShape) {
		t.Errorf("MaxSubscribers(2000): %v", err)
	}
}

// Loan, Send, Next and Release allocate nothing.
func TestChannelNoAllocations(t *testing.T) {
	name, p := newTestChannel(t, Slots(4)) // views are made at a slot's first use
	s := subscribe(t, name)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		m, _ := p.Loan(ctx)
		m.Set(1, 0, 0)
		p.Send()
		r, _ := s.Next(ctx)
		_ = r.Tensor.At(0, 0)
		s.Release()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per message", allocs)
	}
}

// numpy opens a live channel by path and sees the ring, shape (slots,
// *message), with the messages in place.
func TestChannelNumpySeesRing(t *testing.T) {
	needNumpy(t)
	name, p := newTestChannel(t, Slots(4))
	for i := range 3 {
		send(t, p, float64(i+1))
	}
	out := runPython(t, `import sys, numpy as np
a = np.load(sys.argv[1], mmap_mode="r")
print(a.shape, a.dtype, [float(a[i, 1, 2]) for i in range(4)])
`, "/dev/shm/"+name)
	if want := "(4, 2, 3) float64 [1.0, 2.0, 3.0, 0.0]"; strings.TrimSpace(out) != want {
		t.Fatalf("numpy sees %q, want %q", out, want)
	}
}

// A subscriber that joins a closed channel gets every message the ring
// still holds: no producer is writing over the oldest.
func TestChannelJoinClosed(t *testing.T) {
	name, p := newTestChannel(t, Slots(4))
	for i := range 5 {
		send(t, p, float64(i))
	}
	p.Close()
	s := subscribe(t, name)
	for want := uint64(1); want < 5; want++ {
		if m := next(t, s); m.Seq != want || m.Tensor.At(0, 0) != float64(want) {
			t.Fatalf("got %d (%v), want %d", m.Seq, m.Tensor.At(0, 0), want)
		}
	}
	if _, err := s.Next(context.Background()); err != io.EOF {
		t.Fatalf("after the ring: %v", err)
	}
	if _, err := Subscribe[float64](uniqueNameOfPlain(t)); !errors.Is(err, ErrNotTensor) || strings.Contains(err.Error(), "not a tensor segment") {
		t.Fatalf("subscribe to a plain segment: %v", err)
	}
}

func uniqueNameOfPlain(t *testing.T) string {
	name := uniqueName(t)
	x, err := Create[float64](name, []int{4, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	return name
}
