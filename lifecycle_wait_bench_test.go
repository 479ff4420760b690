//go:build linux

package shmtensor

// How soon a waiter wakes after Publish or Replace.

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkWaitLatency measures how long after Publish or Replace returns
// a goroutine blocked in Wait or WaitReplaced wakes with the new segment
// ("wake-ns"), against the same WaitReplaced polling with backoff
// ("replace-poll"). ns/op includes making the segment and a 200 µs pause
// that lets the waiter block.
func BenchmarkWaitLatency(b *testing.B) {
	for _, mode := range []string{"publish", "replace", "replace-poll"} {
		b.Run(mode, func(b *testing.B) {
			base := uniqueName(b)
			name := func(i int) string {
				if mode == "publish" {
					return fmt.Sprintf("%s-%d", base, i)
				}
				return base
			}
			b.Cleanup(func() { removeByPrefix(base) })
			seg, err := Create[int64](base, []int{512})
			if err != nil {
				b.Fatal(err)
			}
			info, _ := Stat(base)
			seg.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			woke := make(chan time.Time)
			armed := make(chan struct{}, 1)
			go func() {
				n, _ := parseName(base)
				for i, last := 1, info; ; i++ {
					armed <- struct{}{}
					var err error
					switch mode {
					case "publish":
						_, err = Wait(ctx, name(i))
					case "replace":
						last, err = WaitReplaced(ctx, base, last)
					default:
						last, err = pollWait(ctx, func() (Info, bool, error) {
							in, err := statName(n)
							return in, err == nil && in.ID != last.ID, nil
						})
					}
					if err != nil {
						return
					}
					woke <- time.Now()
				}
			}()
			var total time.Duration
			i := 0
			for b.Loop() {
				i++
				<-armed
				time.Sleep(200 * time.Microsecond) // let it block
				a, err := Create[int64](name(i), []int{512}, Unpublished())
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				if mode == "publish" {
					err = a.Segment().Publish()
				} else {
					err = a.Segment().Replace()
				}
				if err != nil {
					b.Fatal(err)
				}
				total += (<-woke).Sub(t0)
				a.Close()
				if mode == "publish" {
					Delete(name(i))
				}
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "wake-ns")
		})
	}
}
