package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// channelTargets are the targets of issue #21.
func (r *report) channelTargets() []target {
	var ts []target
	lat := r.ChanX.Lat
	w, pw := lat[caseChanWake], lat[casePipeWake]
	ct, pt := lat[caseChanTrip], lat[casePipeTrip1]
	ts = append(ts, target{Name: "channel publish-to-wake of a sleeping subscriber process: p50 ≤ 10 µs, p99 ≤ 100 µs",
		Measured: fmt.Sprintf("p50 %s, p99 %s over %d wake-ups (8 bytes through a pipe to a sleeping reader: p50 %s, p99 %s); round trip: channel %s, 1-byte pipe %s (p50)",
			fmtNs(w.P50), fmtNs(w.P99), w.N, fmtNs(pw.P50), fmtNs(pw.P99), fmtNs(ct.P50), fmtNs(pt.P50)),
		Met: w.P50 <= 10e3 && w.P99 <= 100e3, Unknown: w.N == 0,
		Why: "A subscriber asleep in FUTEX_WAIT is woken by the producer's FUTEX_WAKE: the kernel's wake-up and the scheduler putting the thread back on a CPU dominate, as for a pipe; see the channel section."})

	var parts []string
	worst := math.Inf(1)
	for _, k := range []int{1, 4} {
		label := fmt.Sprintf("4 KiB → %d", k)
		c := r.find("channel-rate", caseRateBlock, label).Med
		p := r.find("channel-rate", caseRatePipe, label).Med
		u := r.find("channel-rate", caseRateUnix, label).Med
		l := r.find("channel-rate", caseRateLatest, label).Med
		g := r.find("channel-rate", caseRateBig, label).Med
		if math.IsNaN(c) {
			continue
		}
		parts = append(parts, fmt.Sprintf("→ %d: Block %.1f× the pipe's rate, %.1f× the socket's (with Slots(256) %.1f× / %.1f×; Latest %.1f× / %.1f×)", k, p/c, u/c, p/g, u/g, p/l, u/l))
		worst = math.Min(worst, math.Round(10*math.Min(p, u)/c)/10)
	}
	ts = append(ts, target{Name: "4 KiB messages to 1 and 4 subscriber processes: message rate ≥ 10× a pipe's or a Unix socket's",
		Measured: strings.Join(parts, "; "), Met: worst >= 10, Unknown: len(parts) == 0,
		Why: "See the channel section for where the time of a message goes."})

	cp := r.findRow("channel-sum", caseSumCopy, "1 MiB").Ratio
	ip := r.findRow("channel-sum", caseSumInPlace, "1 MiB").Ratio
	ring := r.findRow("channel-sum", caseSumRing, "1 MiB").Ratio
	pipe := r.findRow("channel-sum", caseSumPipe, "1 MiB").Ratio
	ts = append(ts, target{Name: "1 MiB messages summed by a subscriber process within 1.3× the time of the same sums on a local slice",
		Measured: fmt.Sprintf("%.2f× with the producer copying every message in, %.2f× for messages written in place once; like for like: in place %.2f× the sums over 16 local slices in turn, copied in %.2f× the same stream between two goroutines of one process", cp, ip, ip/ring, cp/pipe),
		Met:      math.Round(cp*100)/100 <= 1.3, Unknown: math.IsNaN(cp),
		Why: "A local 1 MiB slice summed again and again stays in the CPU's cache; a stream of messages does not: the ring's 16 MiB, and data just written by the producer on the other CPU, come from the shared cache or memory. The like-for-like baselines in the channel section carry the same data movement."})

	exact := len(r.ChanX.Mem) > 0
	var sizes []string
	for _, m := range r.ChanX.Mem {
		exact = exact && m.Size == m.Want
		sizes = append(sizes, fmt.Sprintf("%d×%s: +%s", m.Slots, fmtBytes(m.MessageBytes), fmtBytes(m.Size-int64(m.Slots)*m.MessageBytes)))
	}
	ts = append(ts, target{Name: "channel size S × message + a fixed control area; 0 allocations per Loan/Send/Next/Release",
		Measured: fmt.Sprintf("file beyond S × message: %s; %.4g allocations per message (%d messages; the root benchmarks' -benchmem: 0 allocs/op)",
			strings.Join(sizes, ", "), r.ChanX.Allocs.PerMessage, r.ChanX.Allocs.Messages),
		Met: exact && r.ChanX.Allocs.PerMessage == 0, Unknown: len(r.ChanX.Mem) == 0,
		Why: "A size that is not the formula's, or an allocation on the message path, is a bug."})
	return ts
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// writeChannel writes the channel section.
func (r *report) writeChannel(b *bytes.Buffer) {
	var lat, rate, sum []row
	for _, x := range r.Chan {
		switch x.Group {
		case "channel-latency":
			lat = append(lat, x)
		case "channel-rate":
			rate = append(rate, x)
		case "channel-sum":
			sum = append(sum, x)
		}
	}
	b.WriteString("## Channels\n\n" + channelText)
	b.WriteString("### Wake-up latency\n\n" + chanLatencyText)
	r.mdTable(b, lat)
	b.WriteString("### Message rate, 4 KiB messages\n\n" + chanRateText)
	r.mdTable(b, rate)
	b.WriteString("### 1 MiB messages summed by the subscriber\n\n" + chanSumText)
	r.mdTable(b, sum)
	b.WriteString("### Size and allocations\n\n" + chanSizeText)
	b.WriteString("| message | slots | subscribers | S × message | file (StatChannel.Size) | 4096 + roundup(S×M, 4096) + control area | |\n|---|--:|--:|--:|--:|--:|---|\n")
	for _, m := range r.ChanX.Mem {
		ok := "equal"
		if m.Size != m.Want {
			ok = "**differs**"
		}
		fmt.Fprintf(b, "| float64 %v (%s) | %d | %d | %s | %s | %s | %s |\n", m.Shape, fmtBytes(m.MessageBytes), m.Slots, m.Subs,
			fmtBytes(int64(m.Slots)*m.MessageBytes), fmtBytes(m.Size), fmtBytes(m.Want), ok)
	}
	fmt.Fprintf(b, "\nAllocations per message (Loan + Send + Next + Release, one goroutine, %d messages after one lap of the ring): %.4g.\n\n",
		r.ChanX.Allocs.Messages, r.ChanX.Allocs.PerMessage)
	b.WriteString(chanProfileText)
}

const channelText = `Channels (` + "`CreateChannel`" + `, ` + "`Subscribe`" + `; docs/formats.md, "Channels") between real processes: the
producer is this program, each subscriber a child process (this program re-executed), started and
subscribed before any clock starts. Each comparison's cases run interleaved round by round, as
everywhere in this document.

`

const chanLatencyText = `From the producer's ` + "`Send`" + ` to ` + "`Next`" + ` returning in a subscriber process that was asleep: the producer
writes the wall-clock time (` + "`time.Now().UnixNano()`" + `, the same clock in both processes) into the message
just before ` + "`Send`" + `, and the subscriber subtracts it from the time at which ` + "`Next`" + ` returned. Before each
message the producer waits a random 200–600 µs and then until every thread of the subscriber process is
asleep (state S in /proc/PID/task/*/stat), so every sample is a wake-up from sleep, never a subscriber
caught spinning. The pipe case does the same with 8 bytes (the timestamp) written into a pipe to a process
asleep in ` + "`read(2)`" + ` on a blocking descriptor: the least a wake-up through the kernel costs. The round trips
time, in the producer, a message and its answer (a second channel back, or one byte through a pipe and
back echoed by ` + "`floor.Echo`" + `), with both sides asleep when the message arrives. The p50 and p99 rows show
min, median and max over rounds of each round's quantile; the last column gives the quantile over all
samples.

`

const chanRateText = `A producer sends 4 KiB messages (512 float64) to 1 or 4 subscriber processes, each of which reads one
element of every message (delivery is zero-copy: the subscriber reads the slot in place) and checks it is
the sequence number. Time per message, from the first send until every subscriber has answered that it
received the batch's last message. Block: nothing is lost, the producer waits for the slowest subscriber
(16 slots). Latest: the producer never waits, subscribers that fall behind lose messages (the column
says how many they received). The pipe and Unix-socket cases write the same 4 KiB message into one
stream per subscriber with ` + "`write(2)`" + ` (one call per message and subscriber), and each subscriber reads
frames in place from a 64 KiB buffer that each ` + "`read(2)`" + ` fills as far as the stream holds: the fastest way
a pipe delivers a stream of messages, each available as soon as it is written. SendCopy copies the
message from the producer's heap into the slot, as a producer that did not compute in place must.

`

const chanSumText = `1 MiB messages (131072 float64) through a 16-slot Block channel to one subscriber process, which sums
each with gonum's ` + "`floats.Sum`" + ` and checks the sum. Time per message from the first send until the subscriber
has summed the batch's last message. "Copies each message in": the producer copies 1 MiB from its heap
into each slot it loans (a new message every time, written on the other CPU); "written once in place":
the slots were filled once and the producer only loans and sends, so this is the channel's own cost on
top of the sums. The baselines run in the subscriber process, timed by it: the same sum over one 1 MiB
slice of its heap (which stays in the CPU's cache), and over 16 such slices in turn (the ring's 16 MiB
working set).

`

const chanSizeText = `A channel's file is the 4 KiB header page, the ring of S messages (padded to a page), and a control area
of roundup(256 + roundup(8S, 64) + 64N, 4096) bytes for S slots and N subscriber entries: one page for up to
about 60 subscribers of a 16-slot ring.

`

const chanProfileText = ``
