//go:build linux

package shmtensor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Channels between Go and Python processes: python/shmtensor.py speaks
// the protocol of docs/formats.md ("Channels") with numpy and the standard
// library only. A message is 64 float64: its sequence number, 62 values
// derived from it and their sum, so that each side checks what the other
// sent.

const chanMsgLen = 64

// fillChanMsg writes message seq as pyChanScript's fill does.
func fillChanMsg(a []float64, seq uint64) {
	a[0] = float64(seq)
	k := float64(seq%97 + 1)
	sum := a[0]
	for i := 1; i < chanMsgLen-1; i++ {
		a[i] = float64(i) * k
		sum += a[i]
	}
	a[chanMsgLen-1] = sum
}

// validChanMsg reports whether a is message seq, intact.
func validChanMsg(a []float64, seq uint64) bool {
	if len(a) != chanMsgLen || a[0] != float64(seq) {
		return false
	}
	k := float64(seq%97 + 1)
	sum := a[0]
	for i := 1; i < chanMsgLen-1; i++ {
		if a[i] != float64(i)*k {
			return false
		}
		sum += a[i]
	}
	return a[chanMsgLen-1] == sum
}

// pyChanScript is the Python side. Its first argument is the directory of
// shmtensor.py, the second its role.
const pyChanScript = `import json, os, random, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, shmtensor

N = 64

def fill(a, seq):
    a[0] = seq
    a[1:-1] = np.arange(1, N - 1) * (seq % 97 + 1)
    a[-1] = a[:-1].sum()

def valid(a, seq):
    want = np.empty(N)
    fill(want, seq)
    return bool((a == want).all())

def say(*words):
    print(*words, flush=True)

role, name, args = sys.argv[2], sys.argv[3], sys.argv[4:]

if role in ("receive", "receive-jitter"):
    # Subscribe, read to the end, check every message; say a JSON summary.
    # receive-jitter pauses up to 300 µs before one message in 16.
    jitter = role == "receive-jitter"
    sub = shmtensor.subscribe(name, start=args[0] if args else "oldest")
    say("joined", sub.entry)
    seqs, bad, zero_copy, read_only = [], 0, True, True
    end = "eos"
    while True:
        try:
            m = sub.next()
        except shmtensor.EndOfStream:
            break
        except shmtensor.ProducerGone:
            end = "gone"
            break
        zero_copy = zero_copy and bool(np.shares_memory(m.array, sub.ring))
        read_only = read_only and not m.array.flags.writeable
        bad += not valid(m.array, m.seq)
        seqs.append(m.seq)
        if jitter and random.random() < 1 / 16:
            time.sleep(random.random() * 300e-6)
        sub.release()
    say(json.dumps({"seqs": seqs, "bad": bad, "lost": sub.lost, "end": end,
                    "zero_copy": zero_copy, "read_only": read_only}))
elif role == "hold":
    # Subscribe, take the first message and never let it go.
    sub = shmtensor.subscribe(name)
    say("joined", sub.entry)
    m = sub.next()
    say("holding", m.seq)
    time.sleep(3600)
elif role == "latest-hold":
    # Subscribe, take message 0, hold it until a line comes, release it,
    # then take what the ring holds without waiting; say a JSON summary.
    sub = shmtensor.subscribe(name)
    say("joined", sub.entry)
    m = sub.next()
    say("holding", m.seq)
    sys.stdin.readline()
    try:
        sub.release()
        overrun = False
    except shmtensor.Overrun:
        overrun = True
    seqs, lost, bad = [], [], 0
    while True:
        try:
            m = sub.next(timeout=0)
        except TimeoutError:
            break
        bad += not valid(m.array, m.seq)
        seqs.append(m.seq)
        lost.append(m.lost)
        sub.release()
    say(json.dumps({"overrun": overrun, "seqs": seqs, "msg_lost": lost, "bad": bad,
                    "lost": sub.lost, "received": sub.received}))
elif role == "takeover":
    # Take the channel over, send one message, end the stream.
    p = shmtensor.attach_producer(name)
    epoch, seq = p.epoch, p.sent
    fill(p.loan(), seq)
    p.send()
    p.close()
    say("took", epoch, seq)
elif role == "produce":
    # produce SLOTS COUNT END [POLICY PAUSE]: create a channel, wait for a
    # line, send COUNT messages (after PAUSE of them, say "paused" and wait
    # for a line), then close ("close") or sleep until killed ("hold").
    slots, count, end = int(args[0]), int(args[1]), args[2]
    policy = args[3] if len(args) > 3 else "block"
    pause = int(args[4]) if len(args) > 4 else -1
    p = shmtensor.create_channel(name, (N,), np.float64, slots=slots, policy=policy)
    say("created")
    sys.stdin.readline()
    for seq in range(count):
        if seq == pause:
            say("paused")
            sys.stdin.readline()
        fill(p.loan(), seq)
        p.send()
    if end == "close":
        p.close()
    say("sent", count)
    if end == "hold":
        time.sleep(3600)
elif role == "create":
    # create SLOTS MAXSUBS POLICY: create a channel of int16 (3, 5) and
    # keep it open until standard input closes.
    p = shmtensor.create_channel(name, (3, 5), np.int16, slots=int(args[0]),
                                 max_subscribers=int(args[1]), policy=args[2], mode=0o640)
    say("created")
    sys.stdin.read()
    p.close()
elif role == "stat":
    info = shmtensor.stat_channel(name)
    info["dtype"] = info["dtype"].str
    say(json.dumps(info))
else:
    sys.exit("unknown role " + role)
`

// pyChan is a Python process running pyChanScript.
type pyChan struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startPyChan runs pyChanScript in role with args on channel name.
func startPyChan(t *testing.T, role, name string, args ...string) *pyChan {
	t.Helper()
	py := needNumpy(t)
	dir, err := filepath.Abs("python")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "shmtensor.py")); err != nil {
		t.Fatalf("python/shmtensor.py: %v", err)
	}
	script := filepath.Join(t.TempDir(), "chan.py")
	if err := os.WriteFile(script, []byte(pyChanScript), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, append([]string{script, dir, role, name}, args...)...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := startChild(t, cmd)
	return &pyChan{cmd, in, out}
}

// expect reads a line of p and fails unless it starts with word.
func (p *pyChan) expect(t *testing.T, word string) string {
	t.Helper()
	line := readLine(t, p.out)
	if !strings.HasPrefix(line, word) {
		t.Fatalf("python said %q, want %q", line, word)
	}
	return line
}

func (p *pyChan) tell(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(p.in, "go\n"); err != nil {
		t.Fatal(err)
	}
}

// kill SIGKILLs p and waits for it to exit.
func (p *pyChan) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

type pyChanResult struct {
	Seqs     []uint64 `json:"seqs"`
	Bad      int      `json:"bad"`
	Lost     uint64   `json:"lost"`
	End      string   `json:"end"`
	ZeroCopy bool     `json:"zero_copy"`
	ReadOnly bool     `json:"read_only"`
}

func (p *pyChan) result(t *testing.T) pyChanResult {
	t.Helper()
	var r pyChanResult
	if err := json.Unmarshal([]byte(readLine(t, p.out)), &r); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("python: %v", err)
	}
	return r
}

func seqRange(n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(i)
	}
	return s
}

// TestChannelGoProducerPythonSubscribers: a Go producer, block policy, a
// ring of 4 slots, two Python subscribers: each gets every message in
// order and intact, as read-only views of the mapping (np.shares_memory),
// then the end of the stream.
func TestChannelGoProducerPythonSubscribers(t *testing.T) {
	name := uniqueName(t)
	p, err := CreateChannel[float64](name, []int{chanMsgLen}, Slots(4))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	subs := []*pyChan{startPyChan(t, "receive", name), startPyChan(t, "receive", name)}
	for _, s := range subs {
		s.expect(t, "joined")
	}
	const count = 300
	ctx := context.Background()
	for seq := uint64(0); seq < count; seq++ {
		m, err := p.Loan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fillChanMsg(m.Data(), seq)
		if err := p.Send(); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for i, s := range subs {
		r := s.result(t)
		if !slices.Equal(r.Seqs, seqRange(count)) || r.Bad != 0 || r.Lost != 0 || r.End != "eos" {
			t.Errorf("python subscriber %d: %d messages (%d bad, %d lost), end %q", i, len(r.Seqs), r.Bad, r.Lost, r.End)
		}
		if !r.ZeroCopy || !r.ReadOnly {
			t.Errorf("python subscriber %d: zero copy %v, read-only %v", i, r.ZeroCopy, r.ReadOnly)
		}
	}
}

// TestChannelPythonProducerGoSubscriber: a Python producer, block policy,
// a ring of 4 slots; a Go subscriber gets every message in order and
// intact, then io.EOF.
func TestChannelPythonProducerGoSubscriber(t *testing.T) {
	name := uniqueName(t)
	const count = 300
	py := startPyChan(t, "produce", name, "4", "300", "close")
	py.expect(t, "created")
	s, err := Subscribe[float64](name)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	py.tell(t)
	ctx := context.Background()
	for seq := uint64(0); seq < count; seq++ {
		m, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		if m.Seq != seq || m.Lost != 0 || !validChanMsg(m.Tensor.Data(), seq) {
			t.Fatalf("message %d: seq %d, lost %d, intact %v", seq, m.Seq, m.Lost, validChanMsg(m.Tensor.Data(), m.Seq))
		}
		if err := s.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Next(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("after %d messages: %v, want io.EOF", count, err)
	}
	py.expect(t, "sent")
}

// TestChannelPythonSubscriberKilled: a Python subscriber killed while it
// holds a message no longer holds back the Go producer (block policy).
func TestChannelPythonSubscriberKilled(t *testing.T) {
	name := uniqueName(t)
	p, err := CreateChannel[float64](name, []int{chanMsgLen}, Slots(2))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	py := startPyChan(t, "hold", name)
	py.expect(t, "joined")
	send := func(ctx context.Context, seq uint64) error {
		m, err := p.Loan(ctx)
		if err != nil {
			return err
		}
		fillChanMsg(m.Data(), seq)
		return p.Send()
	}
	for seq := uint64(0); seq < 2; seq++ {
		if err := send(context.Background(), seq); err != nil {
			t.Fatal(err)
		}
	}
	py.expect(t, "holding 0")
	// Python holds message 0, whose slot message 2 needs.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = p.Loan(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Loan while a live Python subscriber holds the slot: %v", err)
	}
	py.kill(t)
	for seq := uint64(2); seq < 10; seq++ {
		if err := send(context.Background(), seq); err != nil {
			t.Fatalf("message %d after the subscriber's death: %v", seq, err)
		}
	}
	if p.Sent() != 10 {
		t.Fatalf("Sent() = %d, want 10", p.Sent())
	}
}

// TestChannelPythonProducerKilled: the Go subscriber of a Python producer
// killed with SIGKILL gets every message sent, then ErrProducerGone; a Go
// producer then takes over and the subscriber goes on.
func TestChannelPythonProducerKilled(t *testing.T) {
	name := uniqueName(t)
	py := startPyChan(t, "produce", name, "4", "3", "hold")
	py.expect(t, "created")
	s, err := Subscribe[float64](name)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	py.tell(t)
	py.expect(t, "sent")
	if _, err := AttachProducer[float64](name); !errors.Is(err, ErrInUse) {
		t.Fatalf("AttachProducer while the Python producer lives: %v, want ErrInUse", err)
	}
	py.kill(t)
	ctx := context.Background()
	for seq := uint64(0); seq < 3; seq++ {
		m, err := s.Next(ctx)
		if err != nil || m.Seq != seq || !validChanMsg(m.Tensor.Data(), seq) {
			t.Fatalf("message %d: %v (seq %d)", seq, err, m.Seq)
		}
	}
	if _, err := s.Next(ctx); !errors.Is(err, ErrProducerGone) {
		t.Fatalf("after the Python producer's death: %v, want ErrProducerGone", err)
	}
	p, err := AttachProducer[float64](name)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	m, err := p.Loan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fillChanMsg(m.Data(), 3)
	if err := p.Send(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Next(ctx)
	if err != nil || got.Seq != 3 || !validChanMsg(got.Tensor.Data(), 3) {
		t.Fatalf("the new producer's message: %v (seq %d)", err, got.Seq)
	}
}

// TestChannelLayoutGoPython: a channel Python creates is byte for byte the
// one Go creates with the same parameters, and each side's stat reads the
// other's.
func TestChannelLayoutGoPython(t *testing.T) {
	for _, c := range []struct {
		slots, subs int
		policy      Policy
	}{{1, 1, Block}, {16, 8, Latest}, {64, 100, Block}} {
		goName, pyName := uniqueName(t), uniqueName(t)
		p, err := CreateChannel[int16](goName, []int{3, 5}, Slots(c.slots), MaxSubscribers(c.subs), WithPolicy(c.policy), Mode(0o640))
		if err != nil {
			t.Fatal(err)
		}
		py := startPyChan(t, "create", pyName, strconv.Itoa(c.slots), strconv.Itoa(c.subs), c.policy.String())
		py.expect(t, "created")
		want, err := os.ReadFile("/dev/shm/" + goName)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile("/dev/shm/" + pyName)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			i := 0
			for i < min(len(got), len(want)) && got[i] == want[i] {
				i++
			}
			t.Errorf("%+v: Python's file (%d bytes) differs from Go's (%d bytes) from byte %d", c, len(got), len(want), i)
		}
		info, err := StatChannel(pyName)
		if err != nil {
			t.Fatal(err)
		}
		if info.Slots != c.slots || info.MaxSubscribers != c.subs || info.Policy != c.policy || !info.ProducerAlive ||
			info.DType != Int16 || !slices.Equal(info.Shape, []int{3, 5}) {
			t.Errorf("%+v: Go's StatChannel of Python's channel: %+v", c, info)
		}
		var pyInfo struct {
			Slots, MaxSubscribers int
			Policy, DType         string
			Shape                 []int
			ProducerAlive         bool `json:"producer_alive"`
		}
		st := startPyChan(t, "stat", goName)
		line := readLine(t, st.out)
		if err := json.Unmarshal([]byte(strings.NewReplacer(`"max_subscribers"`, `"MaxSubscribers"`).Replace(line)), &pyInfo); err != nil {
			t.Fatal(err)
		}
		if pyInfo.Slots != c.slots || pyInfo.MaxSubscribers != c.subs || pyInfo.Policy != c.policy.String() ||
			pyInfo.DType != "<i2" || !slices.Equal(pyInfo.Shape, []int{3, 5}) || !pyInfo.ProducerAlive {
			t.Errorf("%+v: Python's stat_channel of Go's channel: %s", c, line)
		}
		py.in.Close()
		py.cmd.Wait()
		p.Close()
	}
}

func init() { childRoles["channel-produce-hold"] = childChannelProduceHold }

// childChannelProduceHold creates the channel name (block, 4 slots), says
// so, sends 3 messages once a line comes on standard input, says "sent"
// and waits to be killed.
func childChannelProduceHold(name string) error {
	p, err := CreateChannel[float64](name, []int{chanMsgLen}, Slots(4))
	if err != nil {
		return err
	}
	fmt.Println("created")
	bufio.NewReader(os.Stdin).ReadString('\n')
	for seq := uint64(0); seq < 3; seq++ {
		m, err := p.Loan(context.Background())
		if err != nil {
			return err
		}
		fillChanMsg(m.Data(), seq)
		if err := p.Send(); err != nil {
			return err
		}
	}
	fmt.Println("sent")
	time.Sleep(time.Hour)
	return nil
}

// TestChannelGoProducerKilledPythonTakesOver: a Go producer in another
// process is killed; its Python subscriber gets every message sent, then
// ProducerGone; a Python producer takes the channel over and the Go
// subscriber, which got the same ErrProducerGone, receives its message,
// then io.EOF.
func TestChannelGoProducerKilledPythonTakesOver(t *testing.T) {
	needNumpy(t)
	name := uniqueName(t)
	cmd := child("channel-produce-hold", name)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, stop := startChild(t, cmd)
	if got := readLine(t, out); got != "created" {
		t.Fatalf("Go producer said %q", got)
	}
	py := startPyChan(t, "receive", name)
	py.expect(t, "joined")
	s, err := Subscribe[float64](name)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	io.WriteString(in, "go\n")
	if got := readLine(t, out); got != "sent" {
		t.Fatalf("Go producer said %q", got)
	}
	stop() // SIGKILL
	r := py.result(t)
	if !slices.Equal(r.Seqs, seqRange(3)) || r.Bad != 0 || r.End != "gone" {
		t.Fatalf("Python subscriber of the killed Go producer: %+v", r)
	}
	ctx := context.Background()
	for seq := uint64(0); seq < 3; seq++ {
		if m, err := s.Next(ctx); err != nil || m.Seq != seq {
			t.Fatalf("message %d: %v", seq, err)
		}
	}
	if _, err := s.Next(ctx); !errors.Is(err, ErrProducerGone) {
		t.Fatalf("after the Go producer's death: %v, want ErrProducerGone", err)
	}
	tk := startPyChan(t, "takeover", name)
	if got := tk.expect(t, "took"); got != "took 2 3" {
		t.Fatalf("Python takeover: %q, want epoch 2 and sequence number 3", got)
	}
	m, err := s.Next(ctx)
	if err != nil || m.Seq != 3 || !validChanMsg(m.Tensor.Data(), 3) {
		t.Fatalf("the Python producer's message: %v (seq %d)", err, m.Seq)
	}
	if _, err := s.Next(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("after the Python producer closed: %v, want io.EOF", err)
	}
}

// TestChannelLatestGoPython: in the Latest policy, a subscriber holding
// message 0 while the producer sends 100 on a ring of 4 finds it overrun
// at release and then gets what the ring holds, with the same accounting
// whichever language each side is in: messages 96 to 99, the first of them
// with 96 lost before it (0, overwritten, and 1 to 95, skipped), 4
// received, 96 lost.
func TestChannelLatestGoPython(t *testing.T) {
	const count, slots = 100, 4
	wantSeqs := []uint64{96, 97, 98, 99}
	t.Run("GoProducer", func(t *testing.T) {
		name := uniqueName(t)
		p, err := CreateChannel[float64](name, []int{chanMsgLen}, Slots(slots), WithPolicy(Latest))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		py := startPyChan(t, "latest-hold", name)
		py.expect(t, "joined")
		ctx := context.Background()
		for seq := uint64(0); seq < count; seq++ {
			m, err := p.Loan(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fillChanMsg(m.Data(), seq)
			if err := p.Send(); err != nil {
				t.Fatal(err)
			}
			if seq == 0 {
				py.expect(t, "holding 0")
			}
		}
		py.tell(t)
		var r struct {
			Overrun  bool
			Seqs     []uint64
			MsgLost  []uint64 `json:"msg_lost"`
			Bad      int
			Lost     uint64
			Received uint64
		}
		line := readLine(t, py.out)
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if !r.Overrun || !slices.Equal(r.Seqs, wantSeqs) || !slices.Equal(r.MsgLost, []uint64{96, 0, 0, 0}) ||
			r.Bad != 0 || r.Lost != 96 || r.Received != 4 {
			t.Fatalf("Python subscriber: %s", line)
		}
	})
	t.Run("PythonProducer", func(t *testing.T) {
		name := uniqueName(t)
		py := startPyChan(t, "produce", name, strconv.Itoa(slots), strconv.Itoa(count), "hold", "latest", "1")
		py.expect(t, "created")
		s, err := Subscribe[float64](name)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		py.tell(t)
		py.expect(t, "paused")
		ctx := context.Background()
		m, err := s.Next(ctx)
		if err != nil || m.Seq != 0 {
			t.Fatalf("message 0: %v (seq %d)", err, m.Seq)
		}
		py.tell(t)
		py.expect(t, "sent")
		if err := s.Release(); !errors.Is(err, ErrOverrun) {
			t.Fatalf("Release of message 0 after 100 sends on 4 slots: %v, want ErrOverrun", err)
		}
		var seqs, lost []uint64
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			m, err := s.Next(ctx)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if !validChanMsg(m.Tensor.Data(), m.Seq) {
				t.Fatalf("message %d torn", m.Seq)
			}
			seqs, lost = append(seqs, m.Seq), append(lost, m.Lost)
		}
		if !slices.Equal(seqs, wantSeqs) || !slices.Equal(lost, []uint64{96, 0, 0, 0}) || s.Lost() != 96 || s.Received() != 4 {
			t.Fatalf("Go subscriber: messages %v, lost before each %v, lost %d, received %d", seqs, lost, s.Lost(), s.Received())
		}
	})
}

// The Python module's own tests (python/test_shmtensor.py: producers and
// subscribers in separate Python processes) run with the Go tests, so CI
// runs them against Debian's numpy.
func TestChannelPythonSelfTest(t *testing.T) {
	py := needNumpy(t)
	if testing.Short() {
		t.Skip("short: python/test_shmtensor.py takes seconds")
	}
	cmd := exec.Command(py, filepath.Join("python", "test_shmtensor.py"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python/test_shmtensor.py: %v\n%s", err, out)
	}
}
