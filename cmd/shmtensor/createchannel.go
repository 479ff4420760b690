package main

import (
	"fmt"
	"io/fs"
	"math/bits"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

var cmdCreateChannel = &Command{
	UsageLine: "create-channel [--slots 16] [--subscribers 8] [--policy block|latest] [--mode 0600] [--lazy] NAME DTYPE [DIM...]",
	Short:     "create a channel: a stream of tensors from one producer",
	Long: `
Create-channel makes the channel NAME, a stream of messages that are each
an array of DTYPE with the given dimensions (none: a 0-d scalar), sent by
one producer to up to --subscribers subscribers through a ring of --slots
messages. It fails if NAME exists. DTYPE is a numpy name or descriptor, as
for create, but not bool or float16, which have no Go element type.

--policy block (the default) makes the producer wait for the slowest live
subscriber, so that none loses a message; --policy latest never makes it
wait: a subscriber that falls behind by the whole ring skips ahead and is
told how many messages it lost. A subscriber that dies is not waited for.
--slots is a power of two from 1 to 16777216; the segment holds them all,
plus a page of header and a control area.

A channel's producer is a process: create-channel makes the channel as
its producer and exits, leaving the channel under its name with no
producer and no message. Until a producer takes it over ("shmtensor send
NAME", AttachProducer in Go, or the Python module), subscribers find that
the producer is gone ("shmtensor tail" exits with status 3). Nothing holds
the channel meanwhile, so "shmtensor gc" deletes it as an unused segment
once it is older than gc's --older-than (1h by default); "shmtensor rm
NAME" deletes it at any time.

It prints the channel's settings and the size of the whole segment. For
example, a channel fed by a program that writes raw frames, and in
another shell, once send runs, the rate at which they come:

	shmtensor create-channel --slots 8 frames uint8 480 640 3
	camera-frames | shmtensor send frames

	shmtensor tail --rate frames
`,
	MinArgs: 2,
	MaxArgs: manyArgs,
}

var (
	chanSlots       = cmdCreateChannel.Flag.Int("slots", 0, "hold `N` messages in the ring, a power of two (default: a ring of about 1 MiB, 16 to 1024 slots)")
	chanSubscribers = cmdCreateChannel.Flag.Int("subscribers", shmtensor.DefaultMaxSubscribers, "take at most `N` subscribers at once, 1 to 1024")
	chanPolicy      = cmdCreateChannel.Flag.String("policy", "block", "`block`: the producer waits for the slowest subscriber; latest: it never waits, laggards lose messages")
	chanFlags       = creationFlags{mode: 0o600}
)

func init() {
	cmdCreateChannel.Run = runCreateChannel
	cmdCreateChannel.Flag.Var(&chanFlags.mode, "mode", "permission bits of the new channel, in `octal`")
	cmdCreateChannel.Flag.BoolVar(&chanFlags.lazy, "lazy", false, "do not reserve the pages now (faster, but a full /dev/shm faults later)")
}

func runCreateChannel(_ *Command, args []string) error {
	if n := *chanSlots; n != 0 && (n < 1 || n > 1<<24 || bits.OnesCount(uint(n)) != 1) {
		return usagef("--slots %d: want a power of two from 1 to %d", n, 1<<24)
	}
	if n := *chanSubscribers; n < 1 || n > 1024 {
		return usagef("--subscribers %d: want 1 to 1024", n)
	}
	policy, err := parsePolicy(*chanPolicy)
	if err != nil {
		return err
	}
	name := args[0]
	dt, err := parseDType(args[1])
	if err != nil {
		return err
	}
	ct, ok := chanTypeOf(dt)
	if !ok {
		return usagef("a channel cannot carry %s, which has no Go element type (want one of: %s)", dt, channelDTypes())
	}
	shape, err := parseDims(args[2:])
	if err != nil {
		return err
	}
	if len(shape) == shmtensor.MaxDims {
		return usagef("%d dimensions: a message has at most %d, the ring adds one (numpy's limit is %d)", len(shape), shmtensor.MaxDims-1, shmtensor.MaxDims)
	}
	msg := int64(dt.Size())
	for _, d := range shape {
		msg *= int64(d)
	}
	slots := *chanSlots
	if slots == 0 {
		slots = shmtensor.DefaultSlots(msg)
	}
	if err := checkSize(dt, append([]int{slots}, shape...)); err != nil {
		return err
	}
	opts := []shmtensor.Option{
		shmtensor.Slots(slots), shmtensor.MaxSubscribers(*chanSubscribers), shmtensor.WithPolicy(policy),
		shmtensor.Mode(fs.FileMode(chanFlags.mode)),
	}
	if chanFlags.lazy {
		opts = append(opts, shmtensor.Lazy())
	}
	p, err := ct.create(name, shape, opts)
	if err != nil {
		return err
	}
	// The producer is not closed: Close would end the stream, and
	// subscribers would take the channel for finished. Exiting lets go of
	// the producer lock, and the channel waits for a producer.
	size := "?"
	if in, err := shmtensor.Stat(p.Name()); err == nil {
		size = units.Bytes(in.Size)
	}
	fmt.Printf("created channel %s: %s %s messages of %s, %d slots, %s policy, up to %d subscribers, segment %s\n",
		escapeName(p.Name()), dt, shmtensor.FormatShape(shape), units.Bytes(msg), slots, policy, *chanSubscribers, size)
	fmt.Printf("it has no producer until one takes it over, such as \"shmtensor send %s\"\n", escapeName(name))
	return nil
}
