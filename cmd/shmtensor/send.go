package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/codec"
)

var cmdSend = &Command{
	UsageLine: "send [--format raw|npy] NAME",
	Short:     "feed a channel from standard input, as its producer",
	Long: `
Send takes the channel NAME over as its producer and sends the messages it
reads from standard input, until the end of the input; then it closes the
stream (subscribers receive every message, then the end of the stream:
"shmtensor tail" exits with status 0). It fails while another producer
lives.

With --format raw (the default) the input is a sequence of records of
exactly one message each: its elements in C order, little-endian, with
nothing between them, as numpy's a.tobytes() writes an array of the
channel's dtype and message shape. With --format npy each message is a
whole .npy file (header and data), as numpy.save writes one, one after the
other: its dtype and shape must be the channel's, in C order.

In the block policy a message waits for every live subscriber to have
released the message whose slot it takes (a subscriber that dies is not
waited for); in the latest policy nothing waits. Each message is read
whole before it is sent.

Input that ends in the middle of a message, or a message that is not the
channel's, ends send with exit status 1 without sending it and without
closing the stream: subscribers then find that the producer is gone, and
another send takes over where this one stopped. Ctrl-C or SIGTERM does
the same with exit status 130. Once it is the channel's producer it says so
on standard error, with the sequence number of the first message it sends;
at the end it prints how many messages it sent. For example, from Python:

	python3 -c 'import sys, numpy as np
	for i in range(10): sys.stdout.buffer.write(np.full((480, 640), i, "<f8").tobytes())' |
	shmtensor send frames
`,
	MinArgs: 1,
	MaxArgs: 1,
}

var sendFormat = cmdSend.Flag.String("format", "raw", "input format: `raw` records of one message each, or npy files")

func init() { cmdSend.Run = runSend }

func runSend(c *Command, args []string) error {
	if *sendFormat != "raw" && *sendFormat != "npy" {
		return usagef("unknown --format %q (want raw or npy)", *sendFormat)
	}
	ci, ct, err := statChannel(args[0])
	if err != nil {
		return err
	}
	if *sendFormat == "raw" && ci.MessageBytes == 0 {
		return usagef("the messages of %s, of shape %s, hold no bytes: raw records cannot delimit them; use --format npy",
			escapeName(ci.Name), shmtensor.FormatShape(ci.Shape))
	}
	p, err := ct.attach(args[0])
	if err != nil {
		return err
	}
	ctx, stop := interruptContext()
	defer stop()
	fmt.Fprintf(os.Stderr, "shmtensor: send: producer of %s, sending from seq %d\n", escapeName(p.Name()), p.Sent())
	s := &sender{p: p, info: ci, in: bufio.NewReaderSize(os.Stdin, 1<<16), first: p.Sent()}
	done := make(chan error, 1)
	go func() { done <- s.run(ctx) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// The reading goroutine may be blocked in a read of standard
		// input: exit without it, and without closing the stream.
		c.warn(fmt.Errorf("interrupted after sending %s; the stream is left open, without a producer", s.sentText()))
		return exitStatus(130)
	}
	if err != nil {
		if ctx.Err() != nil {
			return exitStatus(130)
		}
		c.warn(fmt.Errorf("%w; sent %s before it; the stream is left open, without a producer", err, s.sentText()))
		return exitStatus(1)
	}
	if err := p.Close(); err != nil {
		return err
	}
	fmt.Printf("sent %s to %s, then closed the stream\n", s.sentText(), escapeName(p.Name()))
	return nil
}

// sender reads messages and sends them.
type sender struct {
	p     chanProducer
	info  chanMeta
	in    *bufio.Reader
	buf   []byte
	first uint64        // the first message's sequence number
	sent  atomic.Uint64 // messages sent; read by the interrupted main goroutine
}

// run sends the messages of the input until its end (nil) or an error.
func (s *sender) run(ctx context.Context) error {
	s.buf = make([]byte, s.info.MessageBytes)
	for {
		if _, err := s.in.Peek(1); err == io.EOF {
			return nil
		}
		if err := s.read(); err != nil {
			return err
		}
		slot, err := s.p.Loan(ctx)
		if err != nil {
			return err
		}
		copy(slot, s.buf)
		if err := s.p.Send(); err != nil {
			return err
		}
		s.sent.Add(1)
	}
}

// read reads the next message into s.buf, after its .npy header with
// --format npy.
func (s *sender) read() error {
	seq := s.first + s.sent.Load()
	if *sendFormat == "npy" {
		h, err := codec.ReadNPYStream(s.in)
		if err != nil {
			return fmt.Errorf("message %d is not a valid .npy file: %s", seq, strings.TrimPrefix(err.Error(), shmtensor.ErrNotTensor.Error()+": "))
		}
		dt, shape := shmtensor.DType(h.DType), h.Shape
		if dt != s.info.DType || !slices.Equal(shape, s.info.Shape) {
			return fmt.Errorf("message %d is a .npy array of %s %s; the channel carries %s %s", seq, dt, shmtensor.FormatShape(shape),
				s.info.DType, shmtensor.FormatShape(s.info.Shape))
		}
		if h.Fortran && !isCOrder(shape) {
			return fmt.Errorf("message %d is a Fortran-order .npy array; send takes C order (numpy.ascontiguousarray)", seq)
		}
	}
	n, err := io.ReadFull(s.in, s.buf)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("standard input ended in the middle of message %d: %d of its %d bytes", seq, n, len(s.buf))
	case err != nil:
		return fmt.Errorf("read message %d: %w", seq, err)
	}
	return nil
}

// isCOrder reports whether an array of shape is laid out the same in
// Fortran and C order: at most one axis longer than 1.
func isCOrder(shape []int) bool {
	long := 0
	for _, d := range shape {
		if d > 1 {
			long++
		}
	}
	return long <= 1
}

// sentText says how many messages were sent, and which.
func (s *sender) sentText() string {
	n := s.sent.Load()
	switch n {
	case 0:
		return "no message"
	case 1:
		return fmt.Sprintf("1 message (seq %d)", s.first)
	}
	return fmt.Sprintf("%d messages (seq %d to %d)", n, s.first, s.first+n-1)
}
