package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/floats"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/floor"
)

// The channel section (issue #21) measures channels between real
// processes, each against what a program would use instead, in the same
// interleaved rounds:
//
//   - wake-up latency: the time from a producer's Send to Next returning in
//     a subscriber process that was asleep, against 8 bytes written into a
//     pipe to a process asleep in read(2); and round trips (a message and
//     its answer on a second channel) against one byte through a pipe and
//     back (floor.Echo). Before each message the producer waits a random
//     200–600 µs and until every thread of the other process is asleep
//     (floor.Asleep), so every sample is a wake-up from sleep;
//   - message rate: 4 KiB messages to 1 and 4 subscriber processes, each
//     reading one element per message, against the same messages written
//     into a pipe or a Unix stream socket per subscriber;
//   - 1 MiB messages that a subscriber sums with floats.Sum, against the
//     same sums on a slice of the subscriber's own heap;
//   - the channel's size against S × message, and allocations per message.
const (
	caseChanWake  = "channel: Send → Next returns in a sleeping subscriber process"
	casePipeWake  = "pipe: write(2) of 8 bytes → read(2) returns in a sleeping process"
	caseChanTrip  = "channel round trip: Send, answered on a second channel (both sides asleep)"
	casePipeTrip1 = "pipe round trip: 1 byte and back (floor.Echo, both sides asleep)"

	caseRateBlock  = "channel (Block): Loan + 1 element written + Send"
	caseRateCopy   = "channel (Block): SendCopy of the 4 KiB message from the heap"
	caseRateLatest = "channel (Latest): Loan + 1 element written + Send"
	caseRateBig    = "channel (Block, Slots(16)): Loan + 1 element written + Send"
	caseRatePipe   = "pipe: write(2) of the 4 KiB message to each subscriber"
	caseRateUnix   = "Unix stream socket: write(2) of the 4 KiB message to each subscriber"

	caseSumCopy    = "channel: producer copies each 1 MiB message in, subscriber floats.Sum"
	caseSumInPlace = "channel: messages written once in place (Loan + Send), subscriber floats.Sum"
	caseSumLocal   = "floats.Sum of a 1 MiB slice of the subscriber's heap"
	caseSumRing    = "floats.Sum of 16 heap slices of 1 MiB in turn (the ring's working set)"
	caseSumPipe    = "one process: a goroutine copies each message into 16 heap slices in turn, passed by Go channel to a goroutine that sums"
)

// chanChildFlag re-executes this program as a process of the channel
// comparison; the spec names its role (see runChanChild).
const chanChildFlag = "chan-child"

func init() {
	for k, v := range map[string]string{
		casePipeWake:  "pipe",
		casePipeTrip1: "pipe round trip",
		caseRatePipe:  "pipe",
		caseSumLocal:  "local slice",
	} {
		baseName[k] = v
	}
}

// chanMem is one line of the size table: a channel's file against its ring.
type chanMem struct {
	Shape        []int
	Slots, Subs  int
	MessageBytes int64
	Size         int64 // StatChannel's
	Want         int64 // 4096 + roundup(S×M, 4096) + the control area
}

// chanAllocs are the heap allocations per message of Loan + Send + Next +
// Release in one goroutine of this process, over Messages messages.
type chanAllocs struct {
	PerMessage float64
	Messages   int
}

// chanExtra is what the channel section reports beside its rows.
type chanExtra struct {
	Mem    []chanMem
	Allocs chanAllocs
	// Lat holds each latency case's quantiles over all its samples.
	Lat map[string]latPool
}

type latPool struct {
	P50, P99, Max float64
	N             int
}

func benchChannel() ([]row, chanExtra) {
	progress("channel: wake-up latency, 4 KiB message rate, 1 MiB sums, size")
	var x chanExtra
	rows, lat := benchChanLatency()
	x.Lat = lat
	for _, k := range []int{1, 4} {
		rows = append(rows, benchChanRate(k)...)
	}
	rows = append(rows, benchChanSum()...)
	rows = append(rows, benchChanPython()...)
	x.Mem = chanSizes()
	x.Allocs = chanAllocCount()
	return rows, x
}

// chanChild is a child process of the comparison: its standard input and
// output carry commands and answers.
type chanChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startChanChild starts this program with -chan-child spec, the given
// files as descriptors 3, 4, …, and waits for its "ready".
func startChanChild(spec string, files ...*os.File) (*chanChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-"+chanChildFlag, spec)
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = files
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for _, f := range files {
		f.Close() // the child's ends
	}
	c := &chanChild{cmd: cmd, in: in, out: bufio.NewReader(out)}
	if line, err := c.out.ReadString('\n'); err != nil || line != "ready\n" {
		c.stop()
		return nil, fmt.Errorf("child %s did not start: %q %v", spec, line, err)
	}
	return c, nil
}

func (c *chanChild) pid() int { return c.cmd.Process.Pid }

// ask sends a command line and returns the answer line.
func (c *chanChild) ask(cmd string) (string, error) {
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		return "", err
	}
	return c.answer()
}

func (c *chanChild) answer() (string, error) {
	line, err := c.out.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("no answer from %v: %w", c.cmd.Args[2:], err)
	}
	line = strings.TrimSpace(line)
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return "", errors.New(msg)
	}
	return line, nil
}

// stop ends the child: its standard input closes, then it is waited for
// (killed if it has not exited within a second).
func (c *chanChild) stop() {
	c.in.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// awaitSleep waits a random 200–600 µs, then until every thread of pid is
// asleep (50 µs at a time, 2 ms at most). It reports whether it saw pid
// asleep.
func awaitSleep(pid int, rng *rand.Rand) (bool, error) {
	time.Sleep(time.Duration(200+rng.IntN(400)) * time.Microsecond)
	for range 40 {
		ok, err := floor.Asleep(pid)
		if err != nil || ok {
			return ok, err
		}
		time.Sleep(50 * time.Microsecond)
	}
	return false, nil
}

// latCase is one latency case: batch measures n wake-ups and returns their
// nanoseconds, and how many found the other side awake after all.
type latCase struct {
	name  string
	batch func(n int) (ns []float64, awake int, err error)
}

func benchChanLatency() ([]row, map[string]latPool) {
	rounds, n := 11, 300
	if *quick {
		rounds, n = 3, 60
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(21, 1))
	var cases []latCase
	var stops []func()
	defer func() {
		for _, s := range slices.Backward(stops) {
			s()
		}
	}()

	// One way through a channel: the child reports each latency.
	name := shmName("chan-wake")
	p, err := shmtensor.CreateChannel[int64](name, []int{8}, shmtensor.Slots(4))
	if err != nil {
		fatal(err)
	}
	stops = append(stops, func() { p.Close(); shmtensor.Delete(name) })
	wake, err := startChanChild("wake:" + name)
	if err != nil {
		fatal(err)
	}
	stops = append(stops, wake.stop)
	cases = append(cases, latCase{caseChanWake, func(n int) ([]float64, int, error) {
		end := p.Sent() + uint64(n)
		if _, err := fmt.Fprintln(wake.in, end); err != nil {
			return nil, 0, err
		}
		awake := 0
		for range n {
			ok, err := awaitSleep(wake.pid(), rng)
			if err != nil {
				return nil, 0, err
			}
			if !ok {
				awake++
			}
			m, err := p.Loan(ctx)
			if err != nil {
				return nil, 0, err
			}
			m.Data()[0] = time.Now().UnixNano()
			if err := p.Send(); err != nil {
				return nil, 0, err
			}
		}
		line, err := wake.answer()
		if err != nil {
			return nil, 0, err
		}
		ns, err := parseFloats(line, n)
		return ns, awake, err
	}})

	// One way through a pipe: the child reads 8-byte timestamps.
	r, w, err := floor.Pair("pipe")
	if err != nil {
		fatal(err)
	}
	pw, err := startChanChild("pipewake", os.NewFile(uintptr(r), "pipe"))
	if err != nil {
		fatal(err)
	}
	stops = append(stops, func() { closeFd(w); pw.stop() })
	var ts [8]byte
	cases = append(cases, latCase{casePipeWake, func(n int) ([]float64, int, error) {
		if _, err := fmt.Fprintln(pw.in, n); err != nil {
			return nil, 0, err
		}
		awake := 0
		for range n {
			ok, err := awaitSleep(pw.pid(), rng)
			if err != nil {
				return nil, 0, err
			}
			if !ok {
				awake++
			}
			binary.LittleEndian.PutUint64(ts[:], uint64(time.Now().UnixNano()))
			if err := floor.WriteFull(w, ts[:]); err != nil {
				return nil, 0, err
			}
		}
		line, err := pw.answer()
		if err != nil {
			return nil, 0, err
		}
		ns, err := parseFloats(line, n)
		return ns, awake, err
	}})

	// Round trip over two channels.
	tname := shmName("chan-trip")
	tp, err := shmtensor.CreateChannel[int64](tname, []int{8}, shmtensor.Slots(4))
	if err != nil {
		fatal(err)
	}
	pong, err := startChanChild("pong:" + tname)
	if err != nil {
		fatal(err)
	}
	// Closing the stream ends the pong child.
	stops = append(stops, func() { tp.Close(); pong.stop(); shmtensor.Delete(tname); shmtensor.Delete(tname + "-back") })
	back, err := shmtensor.Subscribe[int64](tname + "-back")
	if err != nil {
		fatal(err)
	}
	stops = append(stops, func() { back.Close() })
	cases = append(cases, latCase{caseChanTrip, func(n int) ([]float64, int, error) {
		ns := make([]float64, 0, n)
		awake := 0
		for range n {
			ok, err := awaitSleep(pong.pid(), rng)
			if err != nil {
				return nil, 0, err
			}
			if !ok {
				awake++
			}
			t0 := time.Now()
			m, err := tp.Loan(ctx)
			if err != nil {
				return nil, 0, err
			}
			v := int64(tp.Sent())
			m.Data()[0] = v
			if err := tp.Send(); err != nil {
				return nil, 0, err
			}
			a, err := back.Next(ctx)
			if err != nil {
				return nil, 0, err
			}
			if got := a.Tensor.Data()[0]; got != v {
				return nil, 0, fmt.Errorf("pong answered %d to %d", got, v)
			}
			ns = append(ns, float64(time.Since(t0).Nanoseconds()))
		}
		return ns, awake, nil
	}})

	// Round trip through a pair of pipes, echoed by floor.Echo.
	r1, w1, err := floor.Pair("pipe")
	if err != nil {
		fatal(err)
	}
	r2, w2, err := floor.Pair("pipe")
	if err != nil {
		fatal(err)
	}
	echo, err := startChanChild("echo", os.NewFile(uintptr(r1), "ping"), os.NewFile(uintptr(w2), "pong"))
	if err != nil {
		fatal(err)
	}
	stops = append(stops, func() { closeFd(w1); closeFd(r2); echo.stop() })
	one := []byte{'x'}
	cases = append(cases, latCase{casePipeTrip1, func(n int) ([]float64, int, error) {
		ns := make([]float64, 0, n)
		awake := 0
		for range n {
			ok, err := awaitSleep(echo.pid(), rng)
			if err != nil {
				return nil, 0, err
			}
			if !ok {
				awake++
			}
			t0 := time.Now()
			if err := floor.WriteFull(w1, one); err != nil {
				return nil, 0, err
			}
			if err := floor.ReadFull(r2, one); err != nil {
				return nil, 0, err
			}
			ns = append(ns, float64(time.Since(t0).Nanoseconds()))
		}
		return ns, awake, nil
	}})

	// Interleaved rounds, first case rotating; one warm-up batch each.
	all := map[string][]float64{}
	p50 := map[string][]float64{}
	p99 := map[string][]float64{}
	awake := map[string]int{}
	for _, c := range cases {
		if _, _, err := c.batch(5); err != nil {
			fatal(fmt.Errorf("%s: %w", c.name, err))
		}
	}
	for rd := range rounds {
		for k := range cases {
			c := cases[(rd+k)%len(cases)]
			ns, aw, err := c.batch(n)
			if err != nil {
				fatal(fmt.Errorf("%s: %w", c.name, err))
			}
			all[c.name] = append(all[c.name], ns...)
			p50[c.name] = append(p50[c.name], quantile(ns, 0.50))
			p99[c.name] = append(p99[c.name], quantile(ns, 0.99))
			awake[c.name] += aw
		}
	}
	var rows []row
	for _, q := range []struct {
		label string
		per   map[string][]float64
		at    float64
	}{{"p50", p50, 0.50}, {"p99", p99, 0.99}} {
		for _, pair := range [][2]string{{casePipeWake, ""}, {caseChanWake, casePipeWake}, {casePipeTrip1, ""}, {caseChanTrip, casePipeTrip1}} {
			c, base := pair[0], pair[1]
			var b []float64
			if base != "" {
				b = q.per[base]
			}
			x := newRow("channel-latency", c, size{q.label, 0}, q.per[c], base, b)
			x.Extra = fmt.Sprintf("all %d samples: %s %s, max %s", len(all[c]), q.label, fmtNs(quantile(all[c], q.at)), fmtNs(slices.Max(all[c])))
			if awake[c] > 0 {
				x.Extra += fmt.Sprintf("; %d not seen asleep", awake[c])
			}
			rows = append(rows, x)
		}
	}
	progress("channel wake-up: p50 %s (pipe %s), p99 %s (pipe %s); round trip p50 %s (pipe %s)",
		fmtNs(quantile(all[caseChanWake], .5)), fmtNs(quantile(all[casePipeWake], .5)),
		fmtNs(quantile(all[caseChanWake], .99)), fmtNs(quantile(all[casePipeWake], .99)),
		fmtNs(quantile(all[caseChanTrip], .5)), fmtNs(quantile(all[casePipeTrip1], .5)))
	pool := map[string]latPool{}
	for c, ns := range all {
		pool[c] = latPool{P50: quantile(ns, .5), P99: quantile(ns, .99), Max: slices.Max(ns), N: len(ns)}
	}
	return rows, pool
}

// quantile returns the q-quantile of ns (nearest rank).
func quantile(ns []float64, q float64) float64 {
	if len(ns) == 0 {
		return math.NaN()
	}
	s := slices.Clone(ns)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func parseFloats(line string, n int) ([]float64, error) {
	f := strings.Fields(line)
	if len(f) != n {
		return nil, fmt.Errorf("%d values, want %d: %.80q", len(f), n, line)
	}
	out := make([]float64, n)
	for i, s := range f {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func closeFd(fd int) { os.NewFile(uintptr(fd), "").Close() }

// The rate comparison: 4 KiB messages of float64, element 0 the sequence
// number.
const rateElems = 512

func benchChanRate(k int) []row {
	rounds, batch := 11, 20000
	if *quick {
		rounds, batch = 3, 2000
	}
	progress("channel rate: 4 KiB messages to %d subscriber process(es), %d rounds of %d", k, rounds, batch)
	ctx := context.Background()
	var stops []func()
	defer func() {
		for _, s := range slices.Backward(stops) {
			s()
		}
	}()
	// waitAll sends cmd to every child and sums their answers: received
	// and lost messages.
	waitAll := func(kids []*chanChild, cmd string) (recv, lost int64, err error) {
		for _, c := range kids {
			if cmd != "" {
				if _, err := fmt.Fprintln(c.in, cmd); err != nil {
					return 0, 0, err
				}
			}
		}
		for _, c := range kids {
			line, err := c.answer()
			if err != nil {
				return 0, 0, err
			}
			var r, l int64
			if _, err := fmt.Sscan(line, &r, &l); err != nil {
				return 0, 0, fmt.Errorf("answer %q: %w", line, err)
			}
			recv, lost = recv+r, lost+l
		}
		return recv, lost, nil
	}
	// chanCase makes a channel of the given policy with k subscriber
	// processes and returns the timed case of sending a batch.
	delivered := map[string][2]int64{} // received, lost over all batches
	chanCase := func(name string, pol shmtensor.Policy, copyIn bool, p *shmtensor.Producer[float64], kids []*chanChild) bcase {
		src := make([]float64, rateElems)
		return bcase{name: name, timed: func(n int) (float64, error) {
			end := p.Sent() + uint64(n)
			for _, c := range kids {
				if _, err := fmt.Fprintln(c.in, end); err != nil {
					return 0, err
				}
			}
			t0 := time.Now()
			for range n {
				seq := float64(p.Sent())
				if copyIn {
					src[0] = seq
					if err := p.SendCopy(ctx, src); err != nil {
						return 0, err
					}
					continue
				}
				m, err := p.Loan(ctx)
				if err != nil {
					return 0, err
				}
				m.Data()[0] = seq
				if err := p.Send(); err != nil {
					return 0, err
				}
			}
			r, l, err := waitAll(kids, "")
			el := time.Since(t0)
			if err != nil {
				return 0, err
			}
			d := delivered[name]
			delivered[name] = [2]int64{d[0] + r, d[1] + l}
			if pol == shmtensor.Block && (r != int64(n*k) || l != 0) {
				return 0, fmt.Errorf("block: %d subscribers received %d and lost %d of %d", k, r, l, n)
			}
			return float64(el.Nanoseconds()) / float64(n), nil
		}}
	}
	newChan := func(pol shmtensor.Policy, slots int) (*shmtensor.Producer[float64], []*chanChild) {
		name := shmName("chan-rate")
		p, err := shmtensor.CreateChannel[float64](name, []int{rateElems}, shmtensor.WithPolicy(pol), shmtensor.Slots(slots))
		if err != nil {
			fatal(err)
		}
		stops = append(stops, func() { p.Close(); shmtensor.Delete(name) })
		var kids []*chanChild
		for range k {
			c, err := startChanChild("sub:" + name)
			if err != nil {
				fatal(err)
			}
			stops = append(stops, c.stop)
			kids = append(kids, c)
		}
		return p, kids
	}
	def := shmtensor.DefaultSlots(4 << 10) // 256: a ring of 1 MiB
	pb, kb := newChan(shmtensor.Block, def)
	pl, kl := newChan(shmtensor.Latest, def)
	pg, kg := newChan(shmtensor.Block, 16)
	cases := []bcase{
		chanCase(caseRateBlock, shmtensor.Block, false, pb, kb),
		chanCase(caseRateCopy, shmtensor.Block, true, pb, kb),
		chanCase(caseRateLatest, shmtensor.Latest, false, pl, kl),
		chanCase(caseRateBig, shmtensor.Block, false, pg, kg),
	}
	for _, kind := range []string{"pipe", "unix"} {
		var ws []int
		var kids []*chanChild
		for range k {
			r, w, err := floor.Pair(kind)
			if err != nil {
				fatal(err)
			}
			c, err := startChanChild("stream", os.NewFile(uintptr(r), kind))
			if err != nil {
				fatal(err)
			}
			stops = append(stops, func() { closeFd(w); c.stop() })
			ws, kids = append(ws, w), append(kids, c)
		}
		name := map[string]string{"pipe": caseRatePipe, "unix": caseRateUnix}[kind]
		frame := make([]byte, rateElems*8)
		var seq uint64
		cases = append(cases, bcase{name: name, timed: func(n int) (float64, error) {
			t0 := time.Now()
			for i := 0; i <= n; i++ { // frame n marks the batch's end
				v := -1.0
				if i < n {
					v = float64(seq)
					seq++
				}
				binary.LittleEndian.PutUint64(frame, math.Float64bits(v))
				for _, w := range ws {
					if err := floor.WriteFull(w, frame); err != nil {
						return 0, err
					}
				}
			}
			r, _, err := waitAll(kids, "")
			el := time.Since(t0)
			if err != nil {
				return 0, err
			}
			if r != int64(n*k) {
				return 0, fmt.Errorf("%s: %d subscribers received %d of %d", kind, k, r, n)
			}
			return float64(el.Nanoseconds()) / float64(n), nil
		}})
	}
	res, err := interleave(rounds, batch, cases)
	if err != nil {
		fatal(err)
	}
	sz := size{fmt.Sprintf("4 KiB → %d", k), 4096}
	var rows []row
	pipeMed, unixMed := summarise(res[caseRatePipe]).Med, summarise(res[caseRateUnix]).Med
	for _, c := range []string{caseRatePipe, caseRateUnix, caseRateBlock, caseRateCopy, caseRateBig, caseRateLatest} {
		base, b := caseRatePipe, res[caseRatePipe]
		if c == caseRatePipe {
			base, b = "", nil
		}
		x := newRow("channel-rate", c, sz, res[c], base, b)
		med := summarise(res[c]).Med
		x.Extra = fmt.Sprintf("%s messages/s", fmtCount(1e9/med))
		if c != caseRatePipe && c != caseRateUnix {
			x.Extra += fmt.Sprintf("; %.1f× the pipe's rate, %.1f× the socket's", pipeMed/med, unixMed/med)
		}
		if c == caseRateLatest {
			d := delivered[c]
			x.Extra += fmt.Sprintf("; subscribers received %.1f%% of the messages sent (%d lost)", 100*float64(d[0])/float64(d[0]+d[1]), d[1])
		}
		rows = append(rows, x)
	}
	progress("channel rate → %d: Block %s/msg (%.1f× pipe, %.1f× socket), SendCopy %s, 256 slots %s, Latest %s, pipe %s, socket %s", k,
		fmtNs(summarise(res[caseRateBlock]).Med), pipeMed/summarise(res[caseRateBlock]).Med, unixMed/summarise(res[caseRateBlock]).Med,
		fmtNs(summarise(res[caseRateCopy]).Med), fmtNs(summarise(res[caseRateBig]).Med), fmtNs(summarise(res[caseRateLatest]).Med), fmtNs(pipeMed), fmtNs(unixMed))
	return rows
}

// fmtCount formats a rate with an SI prefix.
func fmtCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3g M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3g k", v/1e3)
	}
	return fmt.Sprintf("%.3g ", v)
}

// The sum comparison: 1 MiB messages of float64; message q holds
// sumPattern(q mod 4), so the subscriber checks every sum.
const sumElems = 1 << 17

func sumPattern(s []float64, k int) {
	for i := range s {
		s[i] = float64((i + 7*k) & 1023)
	}
}

func benchChanSum() []row {
	rounds, batch := 11, 200
	if *quick {
		rounds, batch = 3, 30
	}
	progress("channel sums: 1 MiB messages, %d rounds of %d", rounds, batch)
	ctx := context.Background()
	name := shmName("chan-sum")
	p, err := shmtensor.CreateChannel[float64](name, []int{sumElems})
	if err != nil {
		fatal(err)
	}
	defer shmtensor.Delete(name)
	defer p.Close()
	kid, err := startChanChild("sum:" + name)
	if err != nil {
		fatal(err)
	}
	defer kid.stop()
	var src [4][]float64
	for k := range src {
		src[k] = make([]float64, sumElems)
		sumPattern(src[k], k)
	}
	send := func(n int, copyIn bool) (float64, error) {
		end := p.Sent() + uint64(n)
		if _, err := fmt.Fprintln(kid.in, "chan", end); err != nil {
			return 0, err
		}
		t0 := time.Now()
		for range n {
			q := p.Sent()
			m, err := p.Loan(ctx)
			if err != nil {
				return 0, err
			}
			if copyIn {
				copy(m.Data(), src[q%4])
			}
			if err := p.Send(); err != nil {
				return 0, err
			}
		}
		if _, err := kid.answer(); err != nil {
			return 0, err
		}
		return float64(time.Since(t0).Nanoseconds()) / float64(n), nil
	}
	// Fill every slot once: from then on slot i holds pattern i mod 4,
	// which is message q's pattern for every q in slot i.
	if _, err := send(p.Slots(), true); err != nil {
		fatal(err)
	}
	local := func(what string) func(int) (float64, error) {
		return func(n int) (float64, error) {
			line, err := kid.ask(fmt.Sprint(what, " ", n))
			if err != nil {
				return 0, err
			}
			ns, err := strconv.ParseFloat(line, 64)
			return ns / float64(n), err
		}
	}
	cases := []bcase{
		{name: caseSumCopy, timed: func(n int) (float64, error) { return send(n, true) }},
		{name: caseSumInPlace, timed: func(n int) (float64, error) { return send(n, false) }},
		{name: caseSumLocal, timed: local("local")},
		{name: caseSumRing, timed: local("ring")},
		{name: caseSumPipe, timed: local("pipeline")},
	}
	res, err := interleave(rounds, batch, cases)
	if err != nil {
		fatal(err)
	}
	sz := size{"1 MiB", 1 << 20}
	var rows []row
	for _, c := range []string{caseSumLocal, caseSumRing, caseSumPipe, caseSumInPlace, caseSumCopy} {
		base, b := caseSumLocal, res[caseSumLocal]
		if c == caseSumLocal {
			base, b = "", nil
		}
		x := newRow("channel-sum", c, sz, res[c], base, b)
		x.Extra = fmtRate(1<<20, summarise(res[c]).Med)
		rows = append(rows, x)
	}
	progress("channel sums: copied in %s/msg, in place %s, local slice %s, 16 local slices %s, goroutine pipeline %s",
		fmtNs(summarise(res[caseSumCopy]).Med), fmtNs(summarise(res[caseSumInPlace]).Med),
		fmtNs(summarise(res[caseSumLocal]).Med), fmtNs(summarise(res[caseSumRing]).Med), fmtNs(summarise(res[caseSumPipe]).Med))
	return rows
}

// sumPipeline is the sum comparison's stream within one process: a
// goroutine copies message q (pattern q mod 4) into ring[q mod 16] and
// passes the index on a Go channel to this goroutine, which sums it and
// hands the slice back. It returns the nanoseconds of n messages.
func sumPipeline(n int, ring [][]float64, want [4]float64) (int64, error) {
	var src [4][]float64
	for k := range src {
		src[k] = make([]float64, sumElems)
		sumPattern(src[k], k)
	}
	full := make(chan int, len(ring))
	free := make(chan int, len(ring))
	for i := range ring {
		free <- i
	}
	t0 := time.Now()
	go func() {
		for q := range n {
			i := <-free
			copy(ring[i], src[q%4])
			full <- i
		}
	}()
	for q := range n {
		i := <-full
		if got := floats.Sum(ring[i]); got != want[q%4] {
			return 0, fmt.Errorf("pipeline message %d sums to %v", q, got)
		}
		free <- i
	}
	ns := time.Since(t0).Nanoseconds()
	for i := range ring { // ring[i] holds pattern i mod 4 again for "ring"
		sumPattern(ring[i], i%4)
	}
	return ns, nil
}

// chanSizes makes channels of a few shapes and compares StatChannel's
// size with S × message plus the header page and the control area.
func chanSizes() []chanMem {
	var out []chanMem
	for _, c := range []struct {
		shape       []int
		slots, subs int
	}{
		{[]int{512}, 16, 8},
		{[]int{sumElems}, 16, 8},
		{[]int{3, 5}, 1024, 1024},
		{[]int{1}, 1, 1},
	} {
		name := shmName("chan-size")
		p, err := shmtensor.CreateChannel[float64](name, c.shape, shmtensor.Slots(c.slots), shmtensor.MaxSubscribers(c.subs), shmtensor.Lazy())
		if err != nil {
			fatal(err)
		}
		info, err := shmtensor.StatChannel(name)
		p.Close()
		shmtensor.Delete(name)
		if err != nil {
			fatal(err)
		}
		m := int64(8)
		for _, d := range c.shape {
			m *= int64(d)
		}
		ring := int64(c.slots) * m
		ctrl := roundUp(256+roundUp(8*int64(c.slots), 64)+64*int64(c.subs), 4096)
		out = append(out, chanMem{Shape: c.shape, Slots: c.slots, Subs: c.subs, MessageBytes: m, Size: info.Size,
			Want: 4096 + roundUp(ring, 4096) + ctrl})
	}
	return out
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// chanAllocCount counts the heap allocations of Loan + Send + Next +
// Release in one goroutine, over many messages, after one lap of the ring
// (every slot's view is made once, at its first use).
func chanAllocCount() chanAllocs {
	const n = 100000
	name := shmName("chan-allocs")
	p, err := shmtensor.CreateChannel[float64](name, []int{rateElems})
	if err != nil {
		fatal(err)
	}
	defer shmtensor.Delete(name)
	defer p.Close()
	s, err := shmtensor.Subscribe[float64](name)
	if err != nil {
		fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	one := func() {
		m, err := p.Loan(ctx)
		if err != nil {
			fatal(err)
		}
		m.Data()[0] = 1
		if err := p.Send(); err != nil {
			fatal(err)
		}
		if _, err := s.Next(ctx); err != nil {
			fatal(err)
		}
		if err := s.Release(); err != nil {
			fatal(err)
		}
	}
	for range p.Slots() {
		one()
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		one()
	}
	runtime.ReadMemStats(&after)
	return chanAllocs{PerMessage: float64(after.Mallocs-before.Mallocs) / n, Messages: n}
}

// runChanChild is a child process of the channel comparison. Roles:
//
//	wake:NAME  subscribe; per line END, receive up to message END−1 and
//	           answer each one's latency from the timestamp in element 0
//	pipewake   per line N, read N 8-byte timestamps from descriptor 3 and
//	           answer their latencies
//	pong:NAME  subscribe, make NAME-back, answer each message's element 0
//	           on it until the stream ends
//	echo       floor.Echo from descriptor 3 to descriptor 4
//	sub:NAME   subscribe; per line END, receive up to message END−1 reading
//	           element 0, and answer "received lost"
//	stream     read 4 KiB frames from descriptor 3, reading element 0; at a
//	           frame whose element 0 is −1 answer "received 0"
//	sum:NAME   subscribe; "chan END": sum each message up to END−1 and check
//	           it, "local N" / "ring N": time N sums of heap slices
//
// It says "ready" once set up and ends when its standard input closes.
func runChanChild(spec string) error {
	role, name, _ := strings.Cut(spec, ":")
	in := bufio.NewScanner(os.Stdin)
	ctx := context.Background()
	fail := func(err error) error {
		fmt.Println("error", err)
		return err
	}
	switch role {
	case "echo":
		fmt.Println("ready")
		return floor.Echo(os.NewFile(3, "ping"), os.NewFile(4, "pong"))
	case "pipewake":
		fmt.Println("ready")
		var b [8]byte
		for in.Scan() {
			n, err := strconv.Atoi(in.Text())
			if err != nil {
				return fail(err)
			}
			lat := make([]string, n)
			for i := range n {
				if err := floor.ReadFull(3, b[:]); err != nil {
					return fail(err)
				}
				t1 := time.Now().UnixNano()
				lat[i] = strconv.FormatInt(t1-int64(binary.LittleEndian.Uint64(b[:])), 10)
			}
			fmt.Println(strings.Join(lat, " "))
		}
		return nil
	case "stream":
		fmt.Println("ready")
		recv := int64(0)
		err := floor.Frames(3, rateElems*8, 64<<10, func(f []byte) bool {
			if math.Float64frombits(binary.LittleEndian.Uint64(f)) < 0 {
				fmt.Println(recv, 0)
				recv = 0
				return true
			}
			recv++
			return true
		})
		if err != nil {
			return fail(err)
		}
		return nil
	case "pong":
		s, err := shmtensor.Subscribe[int64](name)
		if err != nil {
			return err
		}
		defer s.Close()
		p, err := shmtensor.CreateChannel[int64](name+"-back", []int{8}, shmtensor.Slots(4))
		if err != nil {
			return err
		}
		defer p.Close()
		fmt.Println("ready")
		for {
			m, err := s.Next(ctx)
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			a, err := p.Loan(ctx)
			if err != nil {
				return err
			}
			a.Data()[0] = m.Tensor.Data()[0]
			if err := p.Send(); err != nil {
				return err
			}
		}
	case "wake", "sub", "sum":
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	isWake := role == "wake"
	var s64 *shmtensor.Subscriber[int64]
	var sf *shmtensor.Subscriber[float64]
	var err error
	if isWake {
		s64, err = shmtensor.Subscribe[int64](name)
	} else {
		sf, err = shmtensor.Subscribe[float64](name)
	}
	if err != nil {
		return err
	}
	var want [4]float64
	var local [16][]float64
	if role == "sum" {
		for k := range want {
			s := make([]float64, sumElems)
			sumPattern(s, k)
			want[k] = floats.Sum(s)
		}
		for i := range local {
			local[i] = make([]float64, sumElems)
			sumPattern(local[i], i%4)
		}
	}
	fmt.Println("ready")
	lat := make([]string, 0, 1024)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if role == "sum" && f[0] == "pipeline" {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return fail(err)
			}
			ns, err := sumPipeline(n, local[:], want)
			if err != nil {
				return fail(err)
			}
			fmt.Println(ns)
			continue
		}
		if role == "sum" && f[0] != "chan" {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return fail(err)
			}
			t0 := time.Now()
			for i := range n {
				j := 0
				if f[0] == "ring" {
					j = i % 16
				}
				if got := floats.Sum(local[j]); got != want[j%4] {
					return fail(fmt.Errorf("local sum %v, want %v", got, want[j%4]))
				}
			}
			fmt.Println(time.Since(t0).Nanoseconds())
			continue
		}
		end, err := strconv.ParseUint(f[len(f)-1], 10, 64)
		if err != nil {
			return fail(err)
		}
		lat = lat[:0]
		var recv, lost uint64
		for {
			var seq, lostNow uint64
			if isWake {
				m, err := s64.Next(ctx)
				if err != nil {
					return fail(err)
				}
				t1 := time.Now().UnixNano()
				lat = append(lat, strconv.FormatInt(t1-m.Tensor.Data()[0], 10))
				seq, lostNow = m.Seq, m.Lost
			} else {
				m, err := sf.Next(ctx)
				if err != nil {
					return fail(err)
				}
				d := m.Tensor.Data()
				seq, lostNow = m.Seq, m.Lost
				switch {
				case role == "sum":
					if got := floats.Sum(d); got != want[seq%4] {
						return fail(fmt.Errorf("message %d sums to %v, want %v", seq, got, want[seq%4]))
					}
				case sf.Policy() == shmtensor.Block && d[0] != float64(seq):
					return fail(fmt.Errorf("message %d holds %v", seq, d[0]))
				}
			}
			recv++
			lost += lostNow
			if seq+1 >= end {
				break
			}
		}
		switch role {
		case "wake":
			fmt.Println(strings.Join(lat, " "))
		default:
			fmt.Println(recv, lost)
		}
	}
	return nil
}
