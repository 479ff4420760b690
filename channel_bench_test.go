//go:build linux

package shmtensor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
)

// The channel benchmarks: what a message costs the producer and a
// subscriber in one process (-benchmem: Loan, Send, Next and Release make
// no allocation), and a round trip to another process over two channels
// against one byte through a pipe and back (BenchmarkRoundTrip/pipe). The
// cross-process latency percentiles and rates against pipes are in the
// bench module (cd bench && go run . -only channel -out FILE):
//
//	go test -run '^$' -bench 'Channel|RoundTrip/pipe' -benchmem .

func init() { childRoles["chan-pong"] = childChanPong }

// benchChannel makes a channel of 4 KiB float64 messages for b.
func benchChannel(b *testing.B, opts ...Option) (string, *Producer[float64]) {
	b.Helper()
	name := uniqueName(b)
	p, err := CreateChannel[float64](name, []int{512}, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return name, p
}

// BenchmarkChannelSend: Loan + one element written + Send, with no
// subscriber (Block: the ring never fills) and in the Latest policy.
func BenchmarkChannelSend(b *testing.B) {
	for _, pol := range []Policy{Block, Latest} {
		b.Run(pol.String(), func(b *testing.B) {
			_, p := benchChannel(b, WithPolicy(pol))
			ctx := context.Background()
			b.SetBytes(4096)
			b.ReportAllocs()
			i := 0.0
			for b.Loop() {
				m, err := p.Loan(ctx)
				if err != nil {
					b.Fatal(err)
				}
				m.data[0] = i
				if err := p.Send(); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkChannelMessage: one message through a channel in one goroutine,
// Loan + Send by the producer and Next + Release by 1 or 4 subscribers,
// each reading one element.
func BenchmarkChannelMessage(b *testing.B) {
	for _, pol := range []Policy{Block, Latest} {
		for _, n := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/subs=%d", pol, n), func(b *testing.B) {
				name, p := benchChannel(b, WithPolicy(pol))
				subs := make([]*Subscriber[float64], n)
				for k := range subs {
					s, err := Subscribe[float64](name)
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { s.Close() })
					subs[k] = s
				}
				ctx := context.Background()
				b.SetBytes(4096)
				b.ReportAllocs()
				i := 0.0
				for b.Loop() {
					m, err := p.Loan(ctx)
					if err != nil {
						b.Fatal(err)
					}
					m.data[0] = i
					if err := p.Send(); err != nil {
						b.Fatal(err)
					}
					for _, s := range subs {
						got, err := s.Next(ctx)
						if err != nil {
							b.Fatal(err)
						}
						if got.Tensor.data[0] != i {
							b.Fatalf("message %d holds %v", got.Seq, got.Tensor.data[0])
						}
						if err := s.Release(); err != nil {
							b.Fatal(err)
						}
					}
					i++
				}
			})
		}
	}
}

// BenchmarkChannelRoundTrip: a message to another process and its answer
// on a second channel, both sides asleep in Next when the message comes
// (each waits longer than its 64 spins). Compare with
// BenchmarkRoundTrip/pipe, one byte through a pipe and back.
func BenchmarkChannelRoundTrip(b *testing.B) {
	name, p := benchChannel(b, Slots(4))
	back := name + "-back"
	b.Cleanup(func() { removeShm(back) })
	cmd := child("chan-pong", name)
	out, stop := startChild(b, cmd)
	defer stop()
	if line, err := out.ReadString('\n'); err != nil || line != "ready\n" {
		b.Fatalf("child: %q %v", line, err)
	}
	s, err := Subscribe[float64](back)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	i := 0.0
	for b.Loop() {
		m, err := p.Loan(ctx)
		if err != nil {
			b.Fatal(err)
		}
		m.data[0] = i
		if err := p.Send(); err != nil {
			b.Fatal(err)
		}
		got, err := s.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if got.Tensor.data[0] != i {
			b.Fatalf("answer %d holds %v, want %v", got.Seq, got.Tensor.data[0], i)
		}
		i++
	}
	b.StopTimer()
	p.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(fmt.Errorf("pong child: %w", err))
	}
}

// childChanPong subscribes to the channel name, makes name-back, says
// "ready", and answers every message with its first element on name-back
// until the stream ends.
func childChanPong(name string) error {
	s, err := Subscribe[float64](name)
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := CreateChannel[float64](name+"-back", []int{512}, Slots(4))
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Println("ready")
	ctx := context.Background()
	for {
		m, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		a, err := p.Loan(ctx)
		if err != nil {
			return err
		}
		a.data[0] = m.Tensor.data[0]
		if err := p.Send(); err != nil {
			return err
		}
	}
}
