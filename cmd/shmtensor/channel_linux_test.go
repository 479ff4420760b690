package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shmtensor/shmtensor"
)

// The channel commands, run as processes, against producers and
// subscribers of the test process and of the command itself. Every tail
// started here has a --timeout of a minute, so that a test that goes
// wrong ends instead of hanging; no test depends on it.

// running is a command started in the background: its standard output
// and standard error are read line by line.
type running struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    *bufio.Reader
	stdin  io.WriteCloser // nil unless asked for
	lines  chan string    // of standard error, as they come
	errEnd chan struct{}  // closed at the end of standard error
	mu     sync.Mutex
	stderr strings.Builder
	done   bool
}

// start starts the command with args; with stdin, its standard input is
// a pipe (r.stdin). It is killed when the test ends.
func start(t *testing.T, stdin bool, args ...string) *running {
	t.Helper()
	r := &running{t: t, cmd: exec.Command(exe, args...), lines: make(chan string, 1000), errEnd: make(chan struct{})}
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.out = bufio.NewReader(out)
	errp, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if stdin {
		if r.stdin, err = r.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.errEnd)
		sc := bufio.NewScanner(errp)
		for sc.Scan() {
			r.mu.Lock()
			r.stderr.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			select {
			case r.lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		if !r.done {
			r.cmd.Process.Kill()
			r.exit()
		}
	})
	return r
}

// line returns the next line of standard output, without its newline.
func (r *running) line() string {
	r.t.Helper()
	l, err := r.out.ReadString('\n')
	if err != nil {
		<-r.errEnd
		r.t.Fatalf("%s: reading its output: %q, %v\nstderr:\n%s", r.cmd.Args[1:], l, err, r.errText())
	}
	return strings.TrimSuffix(l, "\n")
}

// waitErr returns once the command wrote a line holding sub to standard
// error.
func (r *running) waitErr(sub string) {
	r.t.Helper()
	for {
		select {
		case l := <-r.lines:
			if strings.Contains(l, sub) {
				return
			}
		case <-r.errEnd:
			r.t.Fatalf("%s ended its standard error without %q:\n%s", r.cmd.Args[1:], sub, r.errText())
		}
	}
}

// errText returns what the command wrote to standard error so far.
func (r *running) errText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

// exit reads the rest of the output, waits for the command to end and
// returns that output, standard error and the exit status.
func (r *running) exit() result {
	r.t.Helper()
	rest, _ := io.ReadAll(r.out)
	<-r.errEnd
	err := r.cmd.Wait()
	r.done = true
	res := result{stdout: string(rest), stderr: r.errText()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		r.t.Fatalf("%s: %v", r.cmd.Args[1:], err)
	}
	return res
}

// wantExit checks the exit status of the command and returns its output.
func (r *running) wantExit(code int) result {
	r.t.Helper()
	res := r.exit()
	if res.code != code {
		r.t.Fatalf("shmtensor %s: exit status %d, want %d\nstdout (the rest):\n%s\nstderr:\n%s",
			strings.Join(r.cmd.Args[1:], " "), res.code, code, res.stdout, res.stderr)
	}
	return res
}

// message is message k of the tests' (2, 3) int32 channels.
func message(k int) []int32 {
	m := make([]int32, 6)
	for j := range m {
		m[j] = int32(10*k + j)
	}
	return m
}

// printed is how tail prints message k of message(k).
func printed(k int) string {
	m := message(k)
	return fmt.Sprintf("seq %d lost 0\n[[%d %d %d]\n [%d %d %d]]\n", k, m[0], m[1], m[2], m[3], m[4], m[5])
}

// raw returns messages from to to-1 as send's raw records.
func raw(from, to int) []byte {
	var b bytes.Buffer
	for k := from; k < to; k++ {
		binary.Write(&b, binary.LittleEndian, message(k))
	}
	return b.Bytes()
}

// readMessage reads one message of tail's output.
func (r *running) readMessage() string {
	r.t.Helper()
	return r.line() + "\n" + r.line() + "\n" + r.line() + "\n"
}

// TestChannelCommands: create-channel leaves a channel without a producer
// (tail says so, status 3); with a producer of the test process, tail
// --count 3 prints its 3 messages, a running tail is in info's subscriber
// table while list says "channel", and the producer's Close ends the tail
// with status 0.
func TestChannelCommands(t *testing.T) {
	name := uniqueName(t)
	r := want(t, 0, "create-channel", "--slots", "4", "--subscribers", "2", name, "int32", "2", "3")
	contains(t, "create-channel", r.stdout, "created channel shm://"+name+": int32 (2, 3) messages of 24 B, 4 slots, block policy, up to 2 subscribers",
		`it has no producer until one takes it over, such as "shmtensor send `+name+`"`)
	r = want(t, statusProducerGone, "tail", "--timeout", "1m", name)
	contains(t, "tail without a producer", r.stderr, "shmtensor: tail: shm://"+name+": the channel has no producer", "after 0 messages")
	if r.stdout != "" {
		t.Errorf("tail without a producer printed %q", r.stdout)
	}
	r = want(t, 0, "info", name)
	contains(t, "info without a producer", r.stdout, "kind:         channel", "message:      (2, 3), 6 elements, 24 B",
		"slots:        4", "policy:       block", "sent:         0 messages", "stream:       open", "producer:     none (epoch 1)",
		"subscribers:  0 alive of at most 2", "shape:        (4, 2, 3), 24 elements: the ring of 4 slots")

	p, err := shmtensor.AttachProducer[int32](name)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for k := range 3 {
		if err := p.SendCopy(context.Background(), message(k)); err != nil {
			t.Fatal(err)
		}
	}
	r = want(t, 0, "tail", "--count", "3", "--timeout", "1m", name)
	if w := printed(0) + printed(1) + printed(2); r.stdout != w {
		t.Errorf("tail --count 3:\n%s\nwant:\n%s", r.stdout, w)
	}
	r = want(t, 0, "tail", "--count", "1", "--from", "newest", "--timeout", "1m", name)
	if r.stdout != printed(2) {
		t.Errorf("tail --count 1 --from newest:\n%s\nwant:\n%s", r.stdout, printed(2))
	}

	// A tail that runs is a subscriber: info shows it, with its pid, and
	// it has released the messages it printed.
	tail := start(t, false, "tail", "--timeout", "1m", name)
	for k := range 3 {
		if got := tail.readMessage(); got != printed(k) {
			t.Fatalf("tail printed\n%s\nwant\n%s", got, printed(k))
		}
	}
	r = want(t, 0, "info", name)
	contains(t, "info with a producer and a subscriber", r.stdout, "producer:     alive (epoch 2)", "sent:         3 messages",
		"subscribers:  1 alive of at most 2")
	_, table, _ := strings.Cut(r.stdout, "\n\n")
	rows := strings.Split(strings.TrimSpace(table), "\n")
	if len(rows) != 2 || strings.Join(strings.Fields(rows[0]), " ") != "SUBSCRIBER PID ALIVE CURSOR LAG RECEIVED LOST FROM" ||
		strings.Join(strings.Fields(rows[1]), " ") != fmt.Sprintf("0 %d yes 3 0 3 0 oldest", tail.cmd.Process.Pid) {
		t.Errorf("info's subscriber table:\n%s", table)
	}
	var in struct {
		jsonInfo
		Channel *jsonChannel `json:"channel"`
	}
	r = want(t, 0, "info", "--json", name)
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("info --json: %v\n%s", err, r.stdout)
	}
	c := in.Channel
	if in.Kind != "channel" || c == nil || !slices.Equal(c.MessageShape, []int{2, 3}) || c.MessageBytes != 24 || c.Slots != 4 ||
		c.MaxSubscribers != 2 || c.Policy != "block" || c.Sent != 3 || c.Closed || !c.ProducerAlive || c.Epoch != 2 ||
		len(c.Subscribers) != 1 || c.Subscribers[0] != (jsonSubscriber{Entry: 0, PID: tail.cmd.Process.Pid, Alive: true, Cursor: 3, Lag: 0, Received: 3}) {
		t.Errorf("info --json: %+v, channel %+v", in, c)
	}
	// list says which is a channel.
	plain := uniqueName(t)
	want(t, 0, "create", plain, "int32", "2", "3")
	kinds := map[string]string{}
	for line := range strings.Lines(want(t, 0, "list").stdout) {
		if f := strings.Fields(line); len(f) > 2 {
			kinds[f[0]] = f[1] + " " + f[2]
		}
	}
	if kinds["NAME"] != "KIND DTYPE" || kinds[name] != "channel int32" || kinds[plain] != "tensor int32" {
		t.Errorf("list: %v", kinds)
	}
	var all []jsonInfo
	if err := json.Unmarshal([]byte(want(t, 0, "list", "--json").stdout), &all); err != nil {
		t.Fatal(err)
	}
	for _, x := range all {
		if w := map[string]string{"shm://" + name: "channel", "shm://" + plain: "tensor"}[x.Name]; w != "" && x.Kind != w {
			t.Errorf("list --json: %s is %q, want %q", x.Name, x.Kind, w)
		}
	}

	// One more message, then the end of the stream.
	if err := p.SendCopy(context.Background(), message(3)); err != nil {
		t.Fatal(err)
	}
	if got := tail.readMessage(); got != printed(3) {
		t.Fatalf("tail printed\n%s\nwant\n%s", got, printed(3))
	}
	p.Close()
	if r := tail.wantExit(0); r.stdout != "" || r.stderr != "" {
		t.Errorf("tail at the end of the stream printed %q, %q", r.stdout, r.stderr)
	}
	r = want(t, 0, "info", name)
	contains(t, "info after the end", r.stdout, "stream:       closed: the producer ended it", "producer:     none (epoch 2)", "subscribers:  0 alive")

	// --rate: the totals when the stream ends. The stream is closed and
	// no producer writes, so a new subscriber gets all 4 messages of the
	// ring of 4 slots.
	r = want(t, 0, "tail", "--rate", "--timeout", "1m", name)
	contains(t, "tail --rate", r.stdout, "total: 4 messages in ", " lost")
}

// TestSendAndProducerGone: send feeds a channel from standard input and
// closes the stream at its end; a send killed, or whose input ends in the
// middle of a message, leaves the channel without a producer, and tail
// exits with status 3 once it printed every message.
func TestSendAndProducerGone(t *testing.T) {
	name := uniqueName(t)
	want(t, 0, "create-channel", name, "int32", "2", "3")
	send := start(t, true, "send", name)
	send.waitErr("producer of shm://" + name + ", sending from seq 0")
	send.stdin.Write(raw(0, 2))
	tail := start(t, false, "tail", "--timeout", "1m", name)
	for k := range 2 {
		if got := tail.readMessage(); got != printed(k) {
			t.Fatalf("tail printed\n%s\nwant\n%s", got, printed(k))
		}
	}
	r := want(t, 1, "send", name)
	contains(t, "a second send", r.stderr, "the channel has a live producer")
	send.cmd.Process.Kill()
	send.exit()
	r = tail.wantExit(statusProducerGone)
	contains(t, "tail after the producer was killed", r.stderr, "shmtensor: tail: shm://"+name+": the channel has no producer", "after 2 messages")

	// A send takes over where the killed one stopped; its input ends in
	// the middle of a message: status 1, the stream left open.
	send = start(t, true, "send", name)
	send.stdin.Write(raw(2, 3))
	send.stdin.Write(raw(3, 4)[:5])
	send.stdin.Close()
	r = send.wantExit(1)
	contains(t, "send of a partial message", r.stderr, "shmtensor: send: producer of shm://"+name+", sending from seq 2",
		"standard input ended in the middle of message 3: 5 of its 24 bytes; sent 1 message (seq 2) before it; the stream is left open, without a producer")
	r = want(t, statusProducerGone, "tail", "--timeout", "1m", name)
	if w := printed(0) + printed(1) + printed(2); r.stdout != w {
		t.Errorf("tail:\n%s\nwant:\n%s", r.stdout, w)
	}

	// The end of the input ends the stream.
	send = start(t, true, "send", name)
	send.stdin.Write(raw(3, 5))
	send.stdin.Close()
	r = send.wantExit(0)
	contains(t, "send", r.stdout, "sent 2 messages (seq 3 to 4) to shm://"+name+", then closed the stream")
	r = want(t, 0, "tail", "--timeout", "1m", name)
	if w := printed(0) + printed(1) + printed(2) + printed(3) + printed(4); r.stdout != w {
		t.Errorf("tail:\n%s\nwant:\n%s", r.stdout, w)
	}
}

// TestSendNPY: send --format npy takes .npy files one after the other, and
// refuses one of another shape.
func TestSendNPY(t *testing.T) {
	name := uniqueName(t)
	want(t, 0, "create-channel", name, "int32", "2", "3")
	var in bytes.Buffer
	for k := range 2 {
		in.Write(npyFile("<i4", false, []int{2, 3}, raw(k, k+1)))
	}
	in.Write(npyFile("<i4", false, []int{3, 2}, raw(2, 3)))
	cmd := exec.Command(exe, "send", "--format", "npy", name)
	cmd.Stdin = &in
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err == nil {
		t.Fatal("send of a .npy file of another shape succeeded")
	}
	contains(t, "send --format npy", errb.String(), "message 2 is a .npy array of int32 (3, 2); the channel carries int32 (2, 3)",
		"sent 2 messages (seq 0 to 1) before it")
	r := want(t, statusProducerGone, "tail", "--timeout", "1m", name)
	if w := printed(0) + printed(1); r.stdout != w {
		t.Errorf("tail:\n%s\nwant:\n%s", r.stdout, w)
	}
}

// TestTailInterrupted: Ctrl-C ends tail with status 130.
func TestTailInterrupted(t *testing.T) {
	name := uniqueName(t)
	want(t, 0, "create-channel", name, "int32", "2", "3")
	p, err := shmtensor.AttachProducer[int32](name)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SendCopy(context.Background(), message(0)); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"tail"}, {"tail", "--rate"}} {
		tail := start(t, false, append(args, "--count", "2", name)...)
		if args[len(args)-1] == "tail" {
			tail.readMessage() // it has its handlers in place
		} else {
			tail.line() // the first second's rate
		}
		tail.cmd.Process.Signal(os.Interrupt)
		r := tail.wantExit(130)
		if len(args) == 2 {
			contains(t, "interrupted tail --rate", r.stdout, "total: 1 message in ")
		}
	}
}

// TestChannelRmAndGC: rm removes a channel and says so; gc leaves a
// channel alone while its producer lives and deletes it once no process
// holds it.
func TestChannelRmAndGC(t *testing.T) {
	name := uniqueName(t)
	want(t, 0, "create-channel", name, "float32", "4")
	r := want(t, 0, "rm", name)
	if r.stdout != "removed channel shm://"+name+"\n" {
		t.Errorf("rm: %q", r.stdout)
	}
	if _, err := shmtensor.Stat(name); !errors.Is(err, shmtensor.ErrNotExist) {
		t.Fatalf("after rm: %v", err)
	}

	want(t, 0, "create-channel", name, "float32", "4")
	p, err := shmtensor.AttachProducer[float32](name)
	if err != nil {
		t.Fatal(err)
	}
	r = want(t, 0, "gc", "--older-than", "0s", "--match", name, "--yes")
	if strings.Contains(r.stdout, "deleted") {
		t.Fatalf("gc deleted a channel whose producer lives:\n%s", r.stdout)
	}
	if _, err := shmtensor.Stat(name); err != nil {
		t.Fatalf("after gc: %v", err)
	}
	p.Close()
	r = want(t, 0, "gc", "--older-than", "0s", "--match", name)
	contains(t, "gc", r.stdout, "would delete channel shm://"+name+" (float32 (1024, 4), ")
	r = want(t, 0, "gc", "--older-than", "0s", "--match", name, "--yes")
	contains(t, "gc --yes", r.stdout, "deleted channel shm://"+name)
	if _, err := shmtensor.Stat(name); !errors.Is(err, shmtensor.ErrNotExist) {
		t.Fatalf("after gc --yes: %v", err)
	}

	// rm of a channel in use says who goes on using it.
	want(t, 0, "create-channel", name, "float32", "4")
	p, err = shmtensor.AttachProducer[float32](name)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r = want(t, 0, "rm", name)
	contains(t, "rm of a channel in use", r.stdout, "removed channel shm://"+name+" (still used, without a name, by its producer until they close it)")
}

// TestChannelErrors: bad usage and names that are no channel.
func TestChannelErrors(t *testing.T) {
	plain, name := uniqueName(t), uniqueName(t)
	want(t, 0, "create", plain, "float64", "3")
	for _, c := range []struct {
		code int
		args []string
		msg  string
	}{
		{1, []string{"tail", plain}, "shmtensor: tail: shm://" + plain + " is a tensor segment (float64 (3,)), not a channel"},
		{1, []string{"send", plain}, "shmtensor: send: shm://" + plain + " is a tensor segment (float64 (3,)), not a channel"},
		{1, []string{"tail", name}, "does not exist"},
		{1, []string{"create-channel", plain, "float64", "3"}, "exists"},
		{2, []string{"create-channel", "--slots", "3", name, "int8"}, "--slots 3: want a power of two from 1 to 16777216"},
		{2, []string{"create-channel", "--slots", "3", name, "int8"}, "--slots 3: want a power of two"},
		{2, []string{"create-channel", "--subscribers", "0", name, "int8"}, "--subscribers 0: want 1 to 1024"},
		{2, []string{"create-channel", "--policy", "newest", name, "int8"}, `unknown --policy "newest" (want block or latest)`},
		{2, []string{"create-channel", name, "bool", "2"}, "a channel cannot carry bool, which has no Go element type"},
		{2, []string{"create-channel", name, "float16"}, "a channel cannot carry float16"},
		{2, []string{"create-channel", name, "int8", "-1"}, "dimension -1 is negative"},
		{2, []string{"create-channel", name}, "missing DTYPE"},
		{2, []string{"tail", "--from", "middle", plain}, `unknown --from "middle" (want oldest or newest)`},
		{2, []string{"tail", "--count", "-1", plain}, "--count -1 is negative"},
		{2, []string{"tail", "--timeout", "-1s", plain}, "--timeout -1s is negative"},
		{2, []string{"send", "--format", "csv", plain}, `unknown --format "csv" (want raw or npy)`},
	} {
		r := want(t, c.code, c.args...)
		contains(t, strings.Join(c.args, " "), r.stderr, c.msg)
	}
	if _, err := shmtensor.Stat(name); !errors.Is(err, shmtensor.ErrNotExist) {
		t.Errorf("a failed create-channel left %s: %v", name, err)
	}
	// Another user's channel: info does not map it, tail refuses it
	// unless --any-owner.
	if os.Geteuid() == 0 {
		other := uniqueName(t)
		want(t, 0, "create-channel", other, "int16", "2")
		if err := os.Chown("/dev/shm/"+other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		r := want(t, 0, "info", other)
		contains(t, "info of another user's channel", r.stdout, "kind:         channel", "channel:      its state is not read: ")
		contains(t, "info --json of another user's channel", want(t, 0, "info", "--json", other).stdout, `"kind": "channel",
  "channel": null`)
		r = want(t, 1, "tail", other)
		contains(t, "tail of another user's channel", r.stderr, "permission denied", "tail take --any-owner")
		want(t, statusProducerGone, "tail", "--any-owner", other)
	}
	// An empty message cannot be sent as raw records.
	want(t, 0, "create-channel", name, "int8", "0")
	r := want(t, 2, "send", name)
	contains(t, "send of empty messages", r.stderr, "hold no bytes: raw records cannot delimit them; use --format npy")
}
