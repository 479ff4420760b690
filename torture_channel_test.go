//go:build torture && linux

package shmtensor

// Part of the adversarial campaign (torture_test.go): channels at the
// scale issue #21 names (channel_process_test.go and
// channel_python_test.go run the same cases briefly in the normal tests).

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestTortureChannelSubscriberKills: a Block producer here streams to two
// subscriber processes (one with random pauses) while 1,000 (short: 20)
// victim subscriber processes, one after another, join mid-stream,
// receive with random pauses and are SIGKILLed at a random moment. With
// MaxSubscribers(4) the victims must reuse the two free entries. Asserted:
// every victim joins, the survivors receive every message in order and
// intact, and the producer goes past every dead cursor. Measured: the
// stall, from a kill to the Send of the first message that needed the
// dead subscriber's slot, for the kills that held the producer back.
func TestTortureChannelSubscriberKills(t *testing.T) {
	kills := scale(1000, 20)
	name := uniqueName(t)
	p, err := CreateChannel[float64](name, []int{chanMsgLen}, Slots(cpSlots), MaxSubscribers(4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ch := observe(t, name)
	survivors := []*cpChild{startCP(t, name, "recv", 0), startCP(t, name, "jitter", 0)}
	for _, s := range survivors {
		s.joined(t)
	}

	// The producer records when each Send returned, in a ring far larger
	// than what it sends while a kill is looked at.
	const ringLen = 1 << 20
	sentAt := make([]atomic.Int64, ringLen)
	var stop atomic.Bool
	done := make(chan error, 1)
	var total uint64
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		for seq := uint64(0); !stop.Load(); seq++ {
			m, err := p.Loan(ctx)
			if err != nil {
				done <- fmt.Errorf("message %d: %w", seq, err)
				return
			}
			fillChanMsg(m.Data(), seq)
			if err := p.Send(); err != nil {
				done <- err
				return
			}
			sentAt[seq%ringLen].Store(time.Now().UnixNano())
			total = seq + 1
		}
		done <- p.Close()
	}()

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 211))
	var stalls []time.Duration
	entries := map[int]int{}
	for range kills {
		v := startCP(t, name, "late", 0)
		j := v.joined(t)
		entries[j]++
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond) // a random point, not a synchronisation
		headAtKill := atomic.LoadUint64(&ch.ctrl.head)
		killAt := time.Now()
		v.kill()
		v.waitKilled(t)
		c := atomic.LoadUint64(&ch.entries[j].cursor)
		if headAtKill < c+cpSlots {
			continue // the producer was not yet at the dead subscriber's slot
		}
		waitUntil(t, "the producer to pass the dead cursor", func() bool {
			return atomic.LoadUint64(&ch.ctrl.head) > c+cpSlots
		})
		stalls = append(stalls, time.Duration(sentAt[(c+cpSlots)%ringLen].Load()-killAt.UnixNano()))
	}
	stop.Store(true)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("producer: %v", err)
		}
	case <-time.After(cpTimeout):
		t.Fatalf("producer not done within %v", cpTimeout)
	}
	for _, s := range survivors {
		if got, want := s.expect(t, "done "), fmt.Sprintf("done %d gone 0", total); got != want {
			t.Fatalf("survivor said %q, want %q", got, want)
		}
		s.waitExit(t)
	}
	slices.Sort(stalls)
	q := func(f float64) string {
		if len(stalls) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fms", float64(stalls[int(f*float64(len(stalls)-1))])/1e6)
	}
	over := len(stalls) - slices.IndexFunc(append(stalls, time.Hour), func(d time.Duration) bool { return d > 20*time.Millisecond })
	result(t, "kills", kills, "messages", total, "survivors_lost", 0, "entries_used", len(entries),
		"kills_that_held_the_producer", len(stalls), "stall_p50", q(0.5), "p90", q(0.9), "p99", q(0.99), "max", q(1), "stalls_over_20ms", over)
	if len(entries) > 2 {
		t.Fatalf("victims used %d entries of 4 with 2 taken: %v", len(entries), entries)
	}
	if n := len(stalls); n > 0 && stalls[n-1] > 2*time.Second {
		t.Fatalf("a stall of %v after a subscriber's death", stalls[n-1])
	}
}

// TestTortureChannelProducerKills: 200 (short: 3) rounds of a producer
// process SIGKILLed at a random point after 50 to 1,050 messages, with
// three subscribers (two processes, one here) that each receive exactly
// the messages sent, intact, then ErrProducerGone; after each round a new
// producer (this process) takes the channel over, numbering on.
func TestTortureChannelProducerKills(t *testing.T) {
	rounds := scale(200, 3)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 212))
	var lat []time.Duration
	var messages uint64
	for round := range rounds {
		name, sent, worst := cpProducerKilled(t, rng, round)
		lat = append(lat, worst)
		messages += sent
		p, err := AttachProducer[float64](name)
		if err != nil {
			t.Fatalf("round %d: a new producer after the death: %v", round, err)
		}
		m, err := p.Loan(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		fillChanMsg(m.Data(), sent)
		if err := p.Send(); err != nil {
			t.Fatal(err)
		}
		info, err := StatChannel(name)
		if err != nil || !info.ProducerAlive || info.Sent != sent+1 {
			t.Fatalf("round %d: after the takeover: %+v, %v; want alive, %d sent", round, info, err, sent+1)
		}
		p.Close()
	}
	slices.Sort(lat)
	q := func(f float64) string { return fmt.Sprintf("%.1fms", float64(lat[int(f*float64(len(lat)-1))])/1e6) }
	over := len(lat) - slices.IndexFunc(append(lat, time.Hour), func(d time.Duration) bool { return d > 100*time.Millisecond })
	result(t, "rounds", rounds, "messages", messages, "takeovers", rounds,
		"gone_latency_worst_of_3_p50", q(0.5), "p90", q(0.9), "p99", q(0.99), "max", q(1), "over_100ms", over)
}

// TestTortureChannelGoAndPython: a Block producer here sends 1,000,000
// (short: 20,000) messages, pausing at random, to two Go and two Python
// subscriber processes that pause at random too: each receives every
// message exactly once, in order, intact (each message carries its
// sequence number and a checksum, checked on every side).
func TestTortureChannelGoAndPython(t *testing.T) {
	n := scale(1_000_000, 20_000)
	name := uniqueName(t)
	p, err := CreateChannel[float64](name, []int{chanMsgLen}, Slots(cpSlots))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	gos := []*cpChild{startCP(t, name, "jitter", 0), startCP(t, name, "jitter", 0)}
	for _, c := range gos {
		c.joined(t)
	}
	pys := []*pyChan{startPyChan(t, "receive-jitter", name), startPyChan(t, "receive-jitter", name)}
	for _, c := range pys {
		c.expect(t, "joined")
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 213))
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	start := time.Now()
	for seq := uint64(0); seq < uint64(n); seq++ {
		if rng.IntN(64) == 0 {
			time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond)
		}
		m, err := p.Loan(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		fillChanMsg(m.Data(), seq)
		if err := p.Send(); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range gos {
		if got, want := c.expect(t, "done "), fmt.Sprintf("done %d gone 0", n); got != want {
			t.Fatalf("Go subscriber said %q, want %q", got, want)
		}
		c.waitExit(t)
	}
	for i, c := range pys {
		r := c.result(t)
		if len(r.Seqs) != n || r.Bad != 0 || r.Lost != 0 || r.End != "eos" {
			t.Fatalf("Python subscriber %d: %d messages (%d bad, %d lost), end %q", i, len(r.Seqs), r.Bad, r.Lost, r.End)
		}
		for k, s := range r.Seqs {
			if s != uint64(k) {
				t.Fatalf("Python subscriber %d: message %d is %d", i, k, s)
			}
		}
	}
	el := time.Since(start)
	result(t, "messages", n, "subscribers_go", 2, "subscribers_python", 2, "lost", 0, "out_of_order", 0, "bad", 0,
		"seconds", fmt.Sprintf("%.1f", el.Seconds()))
}

func init() { childRoles["chan-echo"] = childChanEcho }

// childChanEcho subscribes to the channel name, creates name-pong, says
// "ready", and sends each message's first element back on name-pong until
// the stream ends.
func childChanEcho(name string) error {
	s, err := Subscribe[float64](name)
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := CreateChannel[float64](name+"-pong", []int{1}, Slots(2))
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Println("ready")
	ctx := context.Background()
	for {
		m, err := s.Next(ctx)
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		v := m.Tensor.Data()[0]
		if err := s.Release(); err != nil {
			return err
		}
		out, err := p.Loan(ctx)
		if err != nil {
			return err
		}
		out.Data()[0] = v
		if err := p.Send(); err != nil {
			return err
		}
	}
}

// TestTortureChannelPingPong: 10,000,000 (short: 20,000) messages ping-
// ponged between this process and a child on two channels of 2 slots, so
// that every message is a wake-up on both sides: none may be lost. A
// watchdog fails the test loudly when no message came back for 10 s.
func TestTortureChannelPingPong(t *testing.T) {
	n := scale(10_000_000, 20_000)
	name := uniqueName(t)
	t.Cleanup(func() { removeShm(name + "-pong") })
	p, err := CreateChannel[float64](name, []int{1}, Slots(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	out, stop := startChild(t, child("chan-echo", name))
	defer stop()
	if l, err := out.ReadString('\n'); err != nil || l != "ready\n" {
		t.Fatalf("echo child said %q, %v", l, err)
	}
	s, err := Subscribe[float64](name + "-pong")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var done atomic.Uint64
	stuck := make(chan uint64, 1)
	go func() {
		last := uint64(0)
		for range time.Tick(10 * time.Second) {
			d := done.Load()
			if d == last && d < uint64(n) {
				stuck <- d
				cancel()
				return
			}
			if d >= uint64(n) {
				return
			}
			last = d
		}
	}()
	start := time.Now()
	for seq := range uint64(n) {
		m, err := p.Loan(ctx)
		if err == nil {
			m.Data()[0] = float64(seq)
			err = p.Send()
		}
		var back Message[float64]
		if err == nil {
			back, err = s.Next(ctx)
		}
		if err != nil {
			select {
			case d := <-stuck:
				t.Fatalf("no message came back for 10 s after %d round trips: a lost wake-up (%v)", d, err)
			default:
				t.Fatalf("round trip %d: %v", seq, err)
			}
		}
		if got := back.Tensor.Data()[0]; got != float64(seq) || back.Seq != seq {
			t.Fatalf("round trip %d came back as %v (seq %d)", seq, got, back.Seq)
		}
		if err := s.Release(); err != nil {
			t.Fatal(err)
		}
		done.Store(seq + 1)
	}
	el := time.Since(start)
	p.Close()
	result(t, "round_trips", n, "lost_wakeups", 0, "seconds", fmt.Sprintf("%.1f", el.Seconds()),
		"us_per_round_trip", fmt.Sprintf("%.2f", float64(el.Microseconds())/float64(n)))
}
