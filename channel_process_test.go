//go:build linux

package shmtensor

// Channels across real processes (issue #21, crash semantics): subscribers
// and producers in child processes, SIGKILLed at chosen or random points.
// A child is this test binary in the role "chan-proc", SHMTENSOR_CHAN_MODE
// saying what it does; messages are fillChanMsg's (64 float64 derived from
// the sequence number, and their sum), so that every side checks each
// message against its Seq. Tests synchronise with children on the lines
// they print and on the words of the control area, never on sleeps; the
// latencies they measure are logged and bounded only generously, since the
// machines that run them are loaded.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func init() { childRoles["chan-proc"] = childChanProc }

// cpSlots is the ring of the channels of these tests: small, so that a
// subscriber that stops holds the producer back soon.
const cpSlots = 16

// cpTimeout bounds every wait of these tests: far beyond what they take,
// so that a hang fails instead of stalling the run.
const cpTimeout = 20 * time.Second

// childChanProc runs a channel participant; SHMTENSOR_CHAN_ARG is the
// mode's number.
func childChanProc(name string) error {
	arg, _ := strconv.ParseUint(os.Getenv("SHMTENSOR_CHAN_ARG"), 10, 64)
	switch mode := os.Getenv("SHMTENSOR_CHAN_MODE"); mode {
	case "produce":
		return childChanProduce(name, arg)
	case "takeover":
		return childChanTakeover(name, arg)
	case "latest-slow":
		return childChanLatestSlow(name)
	case "drain":
		return childChanDrain(name)
	case "recv", "hold", "jitter", "late", "until-gone", "pause-gone":
		return childChanReceive(name, mode, arg)
	default:
		return fmt.Errorf("unknown channel mode %q", mode)
	}
}

// childChanReceive subscribes, says "joined ENTRY" and checks that every
// message comes in order, none lost, intact. Modes: recv receives until
// io.EOF and says "done NEXT gone G" (NEXT: the sequence number it would
// receive next); hold stops at message arg, says "holding SEQ" and sleeps
// holding it; jitter is recv with random pauses; until-gone says
// "gone NEXT UNIXNANO" at ErrProducerGone and ends; pause-gone says the
// same line, waits for a line on standard input and receives on; late is
// jitter for a subscriber that joins mid-stream, counting from the first
// message it gets.
func childChanReceive(name, mode string, arg uint64) error {
	s, err := Subscribe[float64](name)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("joined %d\n", s.j)
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	in := bufio.NewReader(os.Stdin)
	ctx := context.Background()
	var want uint64
	gone := 0
	for {
		m, err := s.Next(ctx)
		switch {
		case errors.Is(err, io.EOF):
			fmt.Printf("done %d gone %d\n", want, gone)
			return nil
		case errors.Is(err, ErrProducerGone):
			gone++
			fmt.Printf("gone %d %d\n", want, time.Now().UnixNano())
			if mode != "pause-gone" {
				return nil
			}
			in.ReadString('\n')
			continue
		case err != nil:
			return err
		}
		if mode == "late" && want == 0 {
			want = m.Seq
		}
		if m.Seq != want || m.Lost != 0 || !validChanMsg(m.Tensor.Data(), m.Seq) {
			return fmt.Errorf("subscriber %d: message %d (lost %d, intact %v), want %d", os.Getpid(), m.Seq, m.Lost, validChanMsg(m.Tensor.Data(), m.Seq), want)
		}
		if mode == "hold" && m.Seq == arg {
			fmt.Printf("holding %d\n", m.Seq)
			time.Sleep(time.Hour)
		}
		if (mode == "jitter" || mode == "late") && rng.IntN(16) == 0 {
			time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
		}
		want++
	}
}

// childChanDrain subscribes, says "joined ENTRY" and receives whatever
// comes, unchecked, until the stream ends.
func childChanDrain(name string) error {
	s, err := Subscribe[float64](name)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("joined %d\n", s.j)
	for {
		if _, err := s.Next(context.Background()); err != nil {
			return err
		}
	}
}

// childChanProduce creates the channel (Block, cpSlots), says "created",
// waits for a line on standard input and sends messages, saying "sent SEQ"
// after each Send returned: arg of them and then it says "hold" and
// sleeps, or without end if arg is 0.
func childChanProduce(name string, arg uint64) error {
	p, err := CreateChannel[float64](name, []int{chanMsgLen}, Slots(cpSlots))
	if err != nil {
		return err
	}
	fmt.Println("created")
	bufio.NewReader(os.Stdin).ReadString('\n')
	ctx := context.Background()
	for seq := uint64(0); arg == 0 || seq < arg; seq++ {
		m, err := p.Loan(ctx)
		if err != nil {
			return err
		}
		fillChanMsg(m.Data(), seq)
		if err := p.Send(); err != nil {
			return err
		}
		fmt.Printf("sent %d\n", seq)
	}
	fmt.Println("hold")
	time.Sleep(time.Hour)
	return nil
}

// childChanTakeover tries AttachProducer, which must fail with ErrInUse
// (the first producer lives), says "refused", waits for a line on standard
// input, takes the channel over, says "took EPOCH SENT", sends arg
// messages and closes the stream.
func childChanTakeover(name string, arg uint64) error {
	if _, err := AttachProducer[float64](name); !errors.Is(err, ErrInUse) {
		return fmt.Errorf("AttachProducer while the first producer lives: %v, want ErrInUse", err)
	}
	fmt.Println("refused")
	bufio.NewReader(os.Stdin).ReadString('\n')
	p, err := AttachProducer[float64](name)
	if err != nil {
		return err
	}
	fmt.Printf("took %d %d\n", atomic.LoadUint32(&p.ch.ctrl.epoch), p.Sent())
	ctx := context.Background()
	for range arg {
		m, err := p.Loan(ctx)
		if err != nil {
			return err
		}
		fillChanMsg(m.Data(), p.Sent())
		if err := p.Send(); err != nil {
			return err
		}
	}
	return p.Close()
}

// childChanLatestSlow is a slow subscriber of a Latest channel: it reads
// each message element by element, pausing in the middle now and then (a
// busy wait of up to 20 µs), releases it and checks it unless Release reported ErrOverrun. It checks
// the accounting as it goes (each Seq is the previous one + 1 + Lost, less
// one if the previous one was overrun) and at io.EOF says
// "done OK OVERRUNS TORN LOSTSUM LASTOVERRUN RECEIVED LOST": messages
// released intact, overruns, overrun messages whose copy was indeed torn,
// the sum of Message.Lost, whether the last one was overrun, and the
// subscriber's counters.
func childChanLatestSlow(name string) error {
	s, err := Subscribe[float64](name)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("joined %d\n", s.j)
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	ctx := context.Background()
	buf := make([]float64, chanMsgLen)
	var ok, overruns, torn, lostSum uint64
	prev, prevOverrun := int64(-1), false
	for {
		m, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			last := 0
			if prevOverrun {
				last = 1
			}
			fmt.Printf("done %d %d %d %d %d %d %d\n", ok, overruns, torn, lostSum, last, s.Received(), s.Lost())
			return nil
		}
		if err != nil {
			return err
		}
		want := prev + 1 + int64(m.Lost)
		if prevOverrun {
			want--
		}
		if int64(m.Seq) != want {
			return fmt.Errorf("message %d with %d lost after %d (overrun %v): want seq %d", m.Seq, m.Lost, prev, prevOverrun, want)
		}
		lostSum += m.Lost
		d := m.Tensor.Data()
		var pause time.Duration
		if rng.IntN(8) == 0 {
			pause = time.Duration(rng.IntN(20)) * time.Microsecond
		}
		for i := range d {
			buf[i] = d[i]
			if i == chanMsgLen/2 {
				for start := time.Now(); time.Since(start) < pause; {
				}
			}
		}
		rerr := s.Release()
		prev, prevOverrun = int64(m.Seq), errors.Is(rerr, ErrOverrun)
		switch {
		case prevOverrun:
			overruns++
			if !validChanMsg(buf, m.Seq) {
				torn++
			}
		case rerr != nil:
			return rerr
		case !validChanMsg(buf, m.Seq):
			return fmt.Errorf("message %d released without ErrOverrun but torn: %v", m.Seq, buf)
		default:
			ok++
		}
	}
}

// cpChild is a running child: its lines of output are queued as they
// come, so that it never blocks on a full pipe.
type cpChild struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	mu     sync.Mutex
	queue  []string
	eof    bool
	notify chan struct{}
	once   sync.Once
	err    error
}

// startCP starts a child in mode with arg. It is killed and waited for
// when the test ends: register the name (uniqueName) before.
func startCP(t *testing.T, name, mode string, arg uint64) *cpChild {
	t.Helper()
	c := &cpChild{
		cmd:    child("chan-proc", name, "SHMTENSOR_CHAN_MODE="+mode, fmt.Sprintf("SHMTENSOR_CHAN_ARG=%d", arg)),
		notify: make(chan struct{}, 1),
	}
	var err error
	if c.in, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.mu.Lock()
			c.queue = append(c.queue, sc.Text())
			c.mu.Unlock()
			c.signal()
		}
		c.mu.Lock()
		c.eof = true
		c.mu.Unlock()
		c.signal()
	}()
	t.Cleanup(func() { c.kill(); c.wait() })
	return c
}

func (c *cpChild) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// line returns the child's next line of output, false at its end.
func (c *cpChild) line(t *testing.T) (string, bool) {
	t.Helper()
	deadline := time.After(cpTimeout)
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			l := c.queue[0]
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return l, true
		}
		eof := c.eof
		c.mu.Unlock()
		if eof {
			return "", false
		}
		select {
		case <-c.notify:
		case <-deadline:
			t.Fatalf("child %d said nothing for %v", c.cmd.Process.Pid, cpTimeout)
		}
	}
}

// expect returns the next line, which must begin with prefix.
func (c *cpChild) expect(t *testing.T, prefix string) string {
	t.Helper()
	l, ok := c.line(t)
	if !ok || !strings.HasPrefix(l, prefix) {
		t.Fatalf("child %d said %q (end %v), want %q...", c.cmd.Process.Pid, l, !ok, prefix)
	}
	return l
}

// tell writes a line to the child's standard input.
func (c *cpChild) tell(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(c.in, "go\n"); err != nil {
		t.Fatal(err)
	}
}

func (c *cpChild) kill() { c.cmd.Process.Signal(syscall.SIGKILL) }

// wait waits for the child's output to end and for the child, and returns
// how it ended.
func (c *cpChild) wait() error {
	c.once.Do(func() {
		for {
			c.mu.Lock()
			eof := c.eof
			c.mu.Unlock()
			if eof {
				break
			}
			select {
			case <-c.notify:
			case <-time.After(cpTimeout):
				c.kill()
			}
		}
		c.err = c.cmd.Wait()
	})
	return c.err
}

// waitExit waits for the child to end by itself, successfully.
func (c *cpChild) waitExit(t *testing.T) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("child %d: %v", c.cmd.Process.Pid, err)
		}
	case <-time.After(cpTimeout):
		c.kill()
		t.Fatalf("child %d did not end within %v", c.cmd.Process.Pid, cpTimeout)
	}
}

// waitKilled waits for a child that was sent SIGKILL.
func (c *cpChild) waitKilled(t *testing.T) {
	t.Helper()
	err := c.wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child %d: %v, want killed by SIGKILL", c.cmd.Process.Pid, err)
	}
}

// joined reads the child's "joined ENTRY" and returns the entry.
func (c *cpChild) joined(t *testing.T) int {
	t.Helper()
	j, err := strconv.Atoi(strings.TrimPrefix(c.expect(t, "joined "), "joined "))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// observe maps the channel name for the test to read its control area,
// also after its producer closed, until the test ends.
func observe(t *testing.T, name string) *channel {
	t.Helper()
	ch, err := openChannel("observe", name, Float64, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.seg.Close() })
	return ch
}

// waitUntil polls cond, which reads words of the control area, until it
// holds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(cpTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", cpTimeout, what)
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// fields parses the numbers after a child's line's first word.
func fields(t *testing.T, line string, n int) []uint64 {
	t.Helper()
	f := strings.Fields(line)
	if len(f) != n+1 {
		t.Fatalf("line %q: want %d numbers", line, n)
	}
	v := make([]uint64, n)
	for i := range v {
		x, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		v[i] = x
	}
	return v
}

// cpProducer runs a Block producer of n messages in the parent in a
// goroutine, recording when each Send returned. gate, if not nil, is
// waited for before message pauseAt. The goroutine is stopped and waited
// for when the test ends.
type cpProducer struct {
	sent []time.Time
	done chan error
}

func startCPProducer(t *testing.T, p *Producer[float64], n int, pauseAt uint64, gate <-chan struct{}) *cpProducer {
	ctx, cancel := context.WithTimeout(context.Background(), cpTimeout)
	cp := &cpProducer{sent: make([]time.Time, n), done: make(chan error, 1)}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for seq := uint64(0); seq < uint64(n); seq++ {
			if gate != nil && seq == pauseAt {
				select {
				case <-gate:
				case <-ctx.Done():
					cp.done <- ctx.Err()
					return
				}
			}
			m, err := p.Loan(ctx)
			if err != nil {
				cp.done <- fmt.Errorf("message %d: %w", seq, err)
				return
			}
			fillChanMsg(m.Data(), seq)
			if err := p.Send(); err != nil {
				cp.done <- err
				return
			}
			cp.sent[seq] = time.Now()
		}
		cp.done <- p.Close()
	}()
	t.Cleanup(func() { cancel(); <-finished })
	return cp
}

func (cp *cpProducer) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-cp.done:
		if err != nil {
			t.Fatalf("producer: %v", err)
		}
	case <-time.After(cpTimeout):
		t.Fatalf("producer not done within %v", cpTimeout)
	}
}

// TestChannelProcessSubscriberKilled: a Block producer in this process,
// three subscriber processes checking every message; one is SIGKILLed
// while it holds a message that the producer waits for (holding), while
// it is asleep in Next (asleep), or at a random moment while it receives
// with random pauses (random). The other two receive every message, in
// order, intact; the producer goes on past the dead one. The stall is the
// time from the kill to the Send of the first message that needed the
// dead subscriber's slot.
func TestChannelProcessSubscriberKilled(t *testing.T) {
	for _, mode := range []string{"holding", "asleep", "random"} {
		t.Run(mode, func(t *testing.T) { cpSubscriberKilled(t, mode) })
	}
}

func cpSubscriberKilled(t *testing.T, mode string) {
	const n = 3000
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 21))
	name := uniqueName(t)
	p, err := CreateChannel[float64](name, []int{chanMsgLen}, Slots(cpSlots))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ch := observe(t, name)
	k := uint64(rng.IntN(n / 2))
	victim := startCP(t, name, map[string]string{"holding": "hold", "asleep": "recv", "random": "jitter"}[mode], k)
	survivors := []*cpChild{startCP(t, name, "recv", 0), startCP(t, name, "recv", 0)}
	j := victim.joined(t)
	for _, s := range survivors {
		s.joined(t)
	}
	var gate chan struct{}
	if mode == "asleep" {
		gate = make(chan struct{})
	}
	prod := startCPProducer(t, p, n, k, gate)
	e := &ch.entries[j]
	switch mode {
	case "holding":
		victim.expect(t, fmt.Sprintf("holding %d", k))
		waitUntil(t, "the producer to wait for the victim", func() bool {
			return atomic.LoadUint64(&ch.ctrl.head) == k+cpSlots && atomic.LoadUint32(&ch.ctrl.prodWait) == 1
		})
	case "asleep":
		waitUntil(t, "the victim to sleep in Next", func() bool {
			return atomic.LoadUint64(&e.cursor) == k && atomic.LoadUint32(&e.waiting) == 1
		})
	case "random":
		waitUntil(t, "the producer to send a random number of messages", func() bool {
			return atomic.LoadUint64(&ch.ctrl.head) >= k
		})
	}
	killAt := time.Now()
	victim.kill()
	if gate != nil {
		close(gate)
	}
	victim.waitKilled(t)
	prod.wait(t)
	for _, s := range survivors {
		if got, want := s.expect(t, "done "), fmt.Sprintf("done %d gone 0", n); got != want {
			t.Fatalf("survivor said %q, want %q", got, want)
		}
		s.waitExit(t)
	}
	c := atomic.LoadUint64(&e.cursor)
	if c+cpSlots >= n {
		t.Logf("%s: victim killed at message %d, too near the end to hold the producer back", mode, c)
		return
	}
	stall := prod.sent[c+cpSlots].Sub(killAt)
	t.Logf("%s: victim killed with cursor %d (k %d); stall %.2f ms (kill to the Send of message %d)", mode, c, k, float64(stall)/1e6, c+cpSlots)
	if stall < 0 || stall > 2*time.Second {
		t.Fatalf("stall %v after the subscriber's death", stall)
	}
}

// TestChannelProcessProducerKilled: a producer process, which says "sent
// SEQ" after each Send, is SIGKILLed mid-stream once it said it sent a
// random K. Its subscribers (two processes and one in this process) get
// every message sent before its death, in order, intact: up to the
// channel's Sent, which is the last message it said it sent or the one
// after (killed between Send and the line), then ErrProducerGone. The
// latency is from the kill to each subscriber's ErrProducerGone.
func TestChannelProcessProducerKilled(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 22))
	for round := range 3 {
		cpProducerKilled(t, rng, round)
	}
}

// cpProducerKilled runs one round and returns the channel's name, how
// many messages were sent, and the worst latency from the kill to a
// subscriber's ErrProducerGone.
func cpProducerKilled(t *testing.T, rng *rand.Rand, round int) (string, uint64, time.Duration) {
	name := uniqueName(t)
	prod := startCP(t, name, "produce", 0)
	prod.expect(t, "created")
	s, err := Subscribe[float64](name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	subs := []*cpChild{startCP(t, name, "until-gone", 0), startCP(t, name, "until-gone", 0)}
	for _, c := range subs {
		c.joined(t)
	}
	type result struct {
		next uint64
		at   time.Time
		err  error
	}
	ctx, cancel := context.WithTimeout(context.Background(), cpTimeout)
	resc := make(chan result, 1)
	go func() {
		var want uint64
		for {
			m, err := s.Next(ctx)
			if err == nil && (m.Seq != want || m.Lost != 0 || !validChanMsg(m.Tensor.Data(), m.Seq)) {
				err = fmt.Errorf("message %d (lost %d, intact %v), want %d", m.Seq, m.Lost, validChanMsg(m.Tensor.Data(), m.Seq), want)
			}
			if err != nil {
				resc <- result{want, time.Now(), err}
				return
			}
			want++
		}
	}()
	var r *result
	t.Cleanup(func() {
		cancel()
		if r == nil {
			<-resc
		}
	})
	prod.tell(t)
	k := uint64(50 + rng.IntN(1000))
	last := uint64(0)
	for last < k {
		last = fields(t, prod.expect(t, "sent "), 1)[0]
	}
	killAt := time.Now()
	prod.kill()
	for {
		l, ok := prod.line(t)
		if !ok {
			break
		}
		if !strings.HasPrefix(l, "sent ") {
			t.Fatalf("producer said %q", l)
		}
		last = fields(t, l, 1)[0]
	}
	prod.waitKilled(t)
	info, err := StatChannel(name)
	if err != nil {
		t.Fatal(err)
	}
	if info.ProducerAlive || info.Sent < last+1 || info.Sent > last+2 {
		t.Fatalf("after the kill: %d sent, producer alive %v; it said it sent up to %d", info.Sent, info.ProducerAlive, last)
	}
	var lat []string
	select {
	case res := <-resc:
		r = &res
	case <-time.After(cpTimeout):
		t.Fatalf("the subscriber in this process had no ErrProducerGone within %v", cpTimeout)
	}
	if !errors.Is(r.err, ErrProducerGone) || r.next != info.Sent {
		t.Fatalf("subscriber in this process: %v after %d messages, want ErrProducerGone after %d", r.err, r.next, info.Sent)
	}
	worst := r.at.Sub(killAt)
	lat = append(lat, fmt.Sprintf("%.1f", float64(worst)/1e6))
	for _, c := range subs {
		v := fields(t, c.expect(t, "gone "), 2)
		if v[0] != info.Sent {
			t.Fatalf("subscriber process: ErrProducerGone after %d messages, want %d", v[0], info.Sent)
		}
		c.waitExit(t)
		d := time.Unix(0, int64(v[1])).Sub(killAt)
		worst = max(worst, d)
		lat = append(lat, fmt.Sprintf("%.1f", float64(d)/1e6))
	}
	t.Logf("round %d: producer killed after saying it sent %d (%d sent); kill to ErrProducerGone %s ms (this process, then the two children)", round, last, info.Sent, strings.Join(lat, ", "))
	if worst < 0 || worst > 2*time.Second {
		t.Fatalf("ErrProducerGone %v after the producer's death", worst)
	}
	return name, info.Sent, worst
}

// TestChannelProcessTakeover: a second producer process is refused with
// ErrInUse while the first lives, and takes the channel over once the
// first was SIGKILLed; the subscribers (one process, one here) receive the
// first producer's messages, ErrProducerGone, then the new producer's
// messages numbered on, then io.EOF.
func TestChannelProcessTakeover(t *testing.T) {
	const k, m = 40, 60
	name := uniqueName(t)
	first := startCP(t, name, "produce", k)
	first.expect(t, "created")
	s, err := Subscribe[float64](name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sub := startCP(t, name, "pause-gone", 0)
	sub.joined(t)
	second := startCP(t, name, "takeover", m)
	second.expect(t, "refused")
	first.tell(t)
	ctx, cancel := context.WithTimeout(context.Background(), cpTimeout)
	defer cancel()
	receive := func(from, to uint64) {
		t.Helper()
		for seq := from; seq < to; seq++ {
			msg, err := s.Next(ctx)
			if err != nil || msg.Seq != seq || msg.Lost != 0 || !validChanMsg(msg.Tensor.Data(), seq) {
				t.Fatalf("message %d: %v (seq %d, lost %d)", seq, err, msg.Seq, msg.Lost)
			}
		}
	}
	receive(0, k)
	for l := first.expect(t, "sent "); l != "hold"; l, _ = first.line(t) {
	}
	first.kill()
	first.waitKilled(t)
	if _, err := s.Next(ctx); !errors.Is(err, ErrProducerGone) {
		t.Fatalf("after the first producer's death: %v, want ErrProducerGone", err)
	}
	if v := fields(t, sub.expect(t, "gone "), 2); v[0] != k {
		t.Fatalf("subscriber process: ErrProducerGone after %d messages, want %d", v[0], k)
	}
	second.tell(t)
	if got, want := second.expect(t, "took "), fmt.Sprintf("took 2 %d", k); got != want {
		t.Fatalf("second producer said %q, want %q", got, want)
	}
	sub.tell(t)
	receive(k, k+m)
	if _, err := s.Next(ctx); err != io.EOF {
		t.Fatalf("after the second producer closed: %v, want io.EOF", err)
	}
	second.waitExit(t)
	if got, want := sub.expect(t, "done "), fmt.Sprintf("done %d gone 1", k+m); got != want {
		t.Fatalf("subscriber process said %q, want %q", got, want)
	}
	sub.waitExit(t)
}

// TestChannelProcessLatestSlowSubscriber: a Latest producer here sends as
// fast as it can (paced to about 2 µs a message) on a ring of 4 to a slow
// subscriber process, which reads each message element by element with
// pauses in the middle. Every message it released without ErrOverrun is
// intact (never torn or mixed), every Seq follows from the previous one
// and Lost, and received + lost is the number sent.
func TestChannelProcessLatestSlowSubscriber(t *testing.T) {
	const n = 50000
	name := uniqueName(t)
	p, err := CreateChannel[float64](name, []int{chanMsgLen}, Slots(4), WithPolicy(Latest))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	sub := startCP(t, name, "latest-slow", 0)
	sub.joined(t)
	ctx := context.Background()
	next := time.Now()
	for seq := uint64(0); seq < n; seq++ {
		m, err := p.Loan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fillChanMsg(m.Data(), seq)
		if err := p.Send(); err != nil {
			t.Fatal(err)
		}
		for next = next.Add(2 * time.Microsecond); time.Now().Before(next); {
		}
	}
	p.Close()
	v := fields(t, sub.expect(t, "done "), 7)
	sub.waitExit(t)
	ok, overruns, torn, lostSum, last, received, lost := v[0], v[1], v[2], v[3], v[4], v[5], v[6]
	t.Logf("%d sent: %d received intact, %d lost (%d overrun while held, %d of them torn in the copy)", n, received, lost, overruns, torn)
	if received != ok || received+lost != n || lostSum+last != lost {
		t.Fatalf("accounting: %d released intact, received %d, lost %d (sum of Lost %d, last overrun %d), %d sent", ok, received, lost, lostSum, last, n)
	}
}

// TestChannelProcessDeadSleeperSend: a subscriber process that dies asleep
// in Next leaves its waiting flag set; the producer's next Send clears it
// and wakes once, and later Sends cost what they cost before (no futex
// wake per Send). The test asserts the flag, not the times, which it logs:
// ns per Loan + Send, the best of 3 times 100,000 sends, before the subscriber joined (after
// as many to warm the ring up) and after its death, and as a control what
// they cost with the flag set again before each Send, as the core before
// the waker cleared it left it (a futex wake per Send).
func TestChannelProcessDeadSleeperSend(t *testing.T) {
	for _, pol := range []Policy{Block, Latest} {
		t.Run(pol.String(), func(t *testing.T) {
			const n = 100000
			name := uniqueName(t)
			p, err := CreateChannel[float64](name, []int{512}, WithPolicy(pol))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			ctx := context.Background()
			sends := func(flag *uint32) float64 {
				start := time.Now()
				for i := range n {
					if flag != nil {
						atomic.StoreUint32(flag, 1)
					}
					m, err := p.Loan(ctx)
					if err != nil {
						t.Fatal(err)
					}
					m.data[0] = float64(i)
					if err := p.Send(); err != nil {
						t.Fatal(err)
					}
				}
				return float64(time.Since(start)) / n
			}
			best := func(flag *uint32) float64 { return min(sends(flag), sends(flag), sends(flag)) }
			sends(nil)
			before := best(nil)
			sub := startCP(t, name, "drain", 0)
			e := &p.ch.entries[sub.joined(t)]
			waitUntil(t, "the subscriber to sleep in Next", func() bool {
				return atomic.LoadUint64(&e.cursor) == p.Sent() && atomic.LoadUint32(&e.waiting) == 1
			})
			sub.kill()
			sub.waitKilled(t)
			if atomic.LoadUint32(&e.waiting) != 1 {
				t.Fatal("the dead subscriber's waiting flag is not set")
			}
			after := best(nil)
			if w := atomic.LoadUint32(&e.waiting); w != 0 {
				t.Fatalf("the dead subscriber's waiting flag is %d after %d sends: every Send wakes", w, n)
			}
			control := sends(&e.waiting)
			t.Logf("%s: %.0f ns/Send before, %.0f ns/Send after a subscriber died asleep in Next (control, a wake per Send: %.0f)", pol, before, after, control)
		})
	}
}
