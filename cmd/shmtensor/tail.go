package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/nprint"
	"github.com/shmtensor/shmtensor/internal/units"
)

var cmdTail = &Command{
	UsageLine: "tail [--from oldest|newest] [--count N] [--rate] [--timeout D] [--max N] [--any-owner] NAME",
	Short:     "subscribe to a channel and print its messages",
	Long: `
Tail subscribes to the channel NAME and prints each message it receives:
a line "seq S lost L", S the message's sequence number (0 for the first
message sent on the channel) and L how many messages it lost just before
this one (latest policy only; always 0 in the block policy), then the
message's values as numpy's print(a) prints them, summarised when a
message has more than --max elements (default 1000, numpy's threshold;
--max 0 prints all). In the latest policy a message that the producer
overwrote while tail printed it is not printed: its line says
"overwritten while read" and it counts as lost.

It starts from the oldest message the ring still holds, or with
--from newest from the most recent one sent (or the next one, if none
was). --count N exits after N messages (0, the default: no limit).

With --rate it prints no message but, once a second, how many messages it
received in that second, their bytes per second and how many it lost,
and when it ends a line with the totals.

Tail takes one of the channel's subscriber entries while it runs. In the
block policy the producer waits for it once it is a whole ring behind, so
a tail that is stopped (Ctrl-Z), or whose output is not read, holds the
producer back; with --rate it reads no values and keeps up best.

The exit status is 0 at the end of the stream (the producer closed it, and
every message was printed) and after --count messages; 3 when the channel
has no producer (it died, or none took the channel over since
create-channel made it), once every message sent was printed, with a
message on standard error saying so; 1 when no message comes for
--timeout D (a duration such as 30s; 0, the default, waits as long as it
takes), and on errors; 130 on Ctrl-C or SIGTERM.

NAME must be a channel: a plain tensor segment is refused as such ("show"
prints it). A channel owned by another user than you and root is refused,
as by show, since its owner could truncate it while it is read;
--any-owner subscribes anyway. For example:

	shmtensor tail --count 1 --timeout 10s frames
	shmtensor tail --rate frames
`,
	MinArgs: 1,
	MaxArgs: 1,
}

var (
	tailFrom     = cmdTail.Flag.String("from", "oldest", "start from the `oldest` message the ring holds, or newest")
	tailCount    = cmdTail.Flag.Int("count", 0, "exit after `N` messages; 0: no limit")
	tailRate     = cmdTail.Flag.Bool("rate", false, "print the rate of messages once a second instead of the messages")
	tailTimeout  = cmdTail.Flag.Duration("timeout", 0, "give up when no message comes for `D` (exit status 1); 0 waits as long as it takes")
	tailMax      = cmdTail.Flag.Int("max", nprint.DefaultThreshold, "summarise messages with more than `N` elements; 0 prints all")
	tailAnyOwner = cmdTail.Flag.Bool("any-owner", false, "subscribe to a channel owned by another user")
)

// statusProducerGone is tail's exit status when the channel has no
// producer.
const statusProducerGone = 3

func init() { cmdTail.Run = runTail }

func runTail(c *Command, args []string) error {
	var opts []shmtensor.Option
	switch *tailFrom {
	case "oldest":
	case "newest":
		opts = append(opts, shmtensor.FromNewest())
	default:
		return usagef("unknown --from %q (want oldest or newest)", *tailFrom)
	}
	switch {
	case *tailCount < 0:
		return usagef("--count %d is negative (0: no limit)", *tailCount)
	case *tailTimeout < 0:
		return usagef("--timeout %v is negative", *tailTimeout)
	case *tailMax < 0:
		return usagef("--max %d is negative (0 prints everything)", *tailMax)
	}
	if *tailAnyOwner {
		opts = append(opts, shmtensor.AnyOwner())
	}
	ci, ct, err := statChannel(args[0])
	if err != nil {
		return err
	}
	sub, err := ct.subscribe(args[0], opts)
	if err != nil {
		return err
	}
	defer sub.Close()
	sigCtx, stop := interruptContext()
	defer stop()
	t := &tailer{c: c, sub: sub, info: ci, ctx: sigCtx, out: bufio.NewWriter(os.Stdout), start: time.Now()}
	if *tailRate {
		err = t.rate()
	} else {
		err = t.print()
	}
	return t.end(err)
}

// tailer is a running tail.
type tailer struct {
	c     *Command
	sub   chanSubscriber
	info  chanMeta
	ctx   context.Context // cancelled by Ctrl-C or SIGTERM
	out   *bufio.Writer
	start time.Time
	n     int // messages received
}

// errTailDone ends tail after --count messages.
var errTailDone = errors.New("done")

// print prints the messages.
func (t *tailer) print() error {
	for *tailCount == 0 || t.n < *tailCount {
		ctx, cancel := t.ctx, context.CancelFunc(func() {})
		if *tailTimeout > 0 {
			ctx, cancel = context.WithTimeout(t.ctx, *tailTimeout)
		}
		seq, lost, data, err := t.sub.Next(ctx)
		cancel()
		if err != nil {
			return err
		}
		text := formatMessage(t.info.DType, t.info.Shape, data, *tailMax)
		if err := t.sub.Release(); errors.Is(err, shmtensor.ErrOverrun) {
			fmt.Fprintf(t.out, "seq %d lost %d: overwritten while read\n", seq, lost)
		} else {
			t.n++
			fmt.Fprintf(t.out, "seq %d lost %d\n%s\n", seq, lost, text)
		}
		if err := t.out.Flush(); err != nil {
			return err
		}
	}
	return errTailDone
}

// rate prints the rate of messages once a second.
func (t *tailer) rate() error {
	last := time.Now() // of the last message, for --timeout
	tick := last.Add(time.Second)
	prevT, prevN, prevLost := t.start, uint64(0), uint64(0)
	for *tailCount == 0 || t.n < *tailCount {
		deadline := tick
		if idle := last.Add(*tailTimeout); *tailTimeout > 0 && idle.Before(deadline) {
			deadline = idle
		}
		ctx, cancel := context.WithDeadline(t.ctx, deadline)
		var err error
		for err == nil && (*tailCount == 0 || t.n < *tailCount) {
			if _, _, _, err = t.sub.Next(ctx); err == nil {
				t.n++
				last = time.Now()
			}
		}
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || t.ctx.Err() != nil {
			if err != nil {
				return err
			}
			break // --count messages
		}
		now := time.Now()
		if *tailTimeout > 0 && now.Sub(last) >= *tailTimeout {
			return err
		}
		if now.Before(tick) {
			continue
		}
		got, lost := t.sub.Received(), t.sub.Lost()
		secs := now.Sub(prevT).Seconds()
		fmt.Fprintf(t.out, "%s  %s\n", now.Format(time.TimeOnly), t.rates(got-prevN, lost-prevLost, secs))
		if err := t.out.Flush(); err != nil {
			return err
		}
		prevT, prevN, prevLost = now, got, lost
		tick = tick.Add(time.Second)
		if tick.Before(now) {
			tick = now.Add(time.Second)
		}
	}
	return errTailDone
}

// rates says how many messages, of how many bytes, were received and lost
// in secs seconds.
func (t *tailer) rates(got, lost uint64, secs float64) string {
	if secs <= 0 {
		secs = 1e-9
	}
	per := float64(got) / secs
	return fmt.Sprintf("%.0f messages/s, %s/s, %d lost", per, units.Bytes(int64(per*float64(t.info.MessageBytes))), lost)
}

// end reports how tail ended: err is what ended its loop.
func (t *tailer) end(err error) error {
	if *tailRate {
		d := time.Since(t.start)
		fmt.Fprintf(t.out, "total: %s in %v: %s\n", messages(t.sub.Received()), shortDuration(d), t.rates(t.sub.Received(), t.sub.Lost(), d.Seconds()))
	}
	if ferr := t.out.Flush(); ferr != nil && err == errTailDone {
		err = ferr
	}
	switch {
	case err == errTailDone, err == io.EOF:
		return nil
	case t.ctx.Err() != nil:
		return exitStatus(130)
	case errors.Is(err, shmtensor.ErrProducerGone):
		t.c.warn(fmt.Errorf("%s: the channel has no producer (it died, or none took the channel over since it was made), after %s; "+
			"a producer that takes it over (shmtensor send, AttachProducer) sends on",
			escapeName(t.info.Name), messages(t.sub.Received())))
		return exitStatus(statusProducerGone)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: no message for %v on %s, after %s", errTimeout, *tailTimeout, escapeName(t.info.Name), messages(t.sub.Received()))
	}
	return err
}

// messages returns "1 message", "3 messages".
func messages(n uint64) string {
	if n == 1 {
		return "1 message"
	}
	return fmt.Sprintf("%d messages", n)
}

// shortDuration rounds d to three or four significant digits: 6.72s,
// 1.94ms, 19.4µs.
func shortDuration(d time.Duration) time.Duration {
	for _, u := range []time.Duration{time.Second, time.Millisecond, time.Microsecond} {
		if d >= u {
			return d.Round(u / 100)
		}
	}
	return d
}
