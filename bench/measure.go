package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// stats summarises one case: nanoseconds per operation, one sample per
// round.
type stats struct {
	Min, Med, Max float64
	N             int // rounds
}

func summarise(ns []float64) stats {
	if len(ns) == 0 {
		return stats{Min: math.NaN(), Med: math.NaN(), Max: math.NaN()}
	}
	s := slices.Clone(ns)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stats{Min: s[0], Med: med, Max: s[len(s)-1], N: len(s)}
}

// bcase is one thing to time: op runs the operation once, or timed runs
// it batch times and returns its own measure of the time per operation (for
// operations in another process).
type bcase struct {
	name  string
	op    func() error
	timed func(batch int) (float64, error)
}

// run runs c batch times and returns the nanoseconds per operation.
func (c bcase) run(batch int) (float64, error) {
	if c.timed != nil {
		return c.timed(batch)
	}
	t0 := time.Now()
	for range batch {
		if err := c.op(); err != nil {
			return 0, err
		}
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(batch), nil
}

// interleave runs every case batch times per round for rounds rounds,
// rotating which case goes first, and returns each case's nanoseconds per
// operation in each round. One warm-up batch per case is not recorded.
func interleave(rounds, batch int, cases []bcase) (map[string][]float64, error) {
	out := make(map[string][]float64, len(cases))
	for _, c := range cases {
		if _, err := c.run(1); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
	}
	for r := range rounds {
		for k := range cases {
			c := cases[(r+k)%len(cases)]
			ns, err := c.run(batch)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			out[c.name] = append(out[c.name], ns)
		}
	}
	return out, nil
}

// size is one data size in the report.
type size struct {
	Label string
	Bytes int64
}

var (
	kib    = size{"1 KiB", 1 << 10}
	mib    = size{"1 MiB", 1 << 20}
	mib16  = size{"16 MiB", 16 << 20}
	mib64  = size{"64 MiB", 64 << 20}
	mib256 = size{"256 MiB", 256 << 20}
	gib    = size{"1 GiB", 1 << 30}
)

// attachSizes are the sizes of the attach and create comparisons.
func attachSizes() []size {
	if *quick {
		return []size{kib, mib, mib64}
	}
	return []size{kib, mib, mib64, gib}
}

func handoffSizes() []size {
	if *quick {
		return []size{mib, mib16}
	}
	return []size{mib, mib16, mib256, gib}
}

// fmtNs formats nanoseconds with a unit that keeps three digits.
func fmtNs(ns float64) string {
	switch {
	case math.IsNaN(ns):
		return "–"
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	case ns < 1e9:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	}
	return fmt.Sprintf("%.3g s", ns/1e9)
}

// fmtRate formats bytes per nanosecond as GB/s.
func fmtRate(bytes int64, ns float64) string {
	if ns <= 0 || math.IsNaN(ns) {
		return ""
	}
	return fmt.Sprintf("%.2f GB/s", float64(bytes)/ns)
}

// timedFresh times op once per operation of a batch, running cleanup
// before each (outside the clock) and after the batch: for operations
// that make something that must not exist yet.
func timedFresh(cleanup func(), op func() error) func(int) (float64, error) {
	return func(batch int) (float64, error) {
		var total float64
		for range batch {
			cleanup()
			ns, err := bcase{op: op}.run(1)
			if err != nil {
				return 0, err
			}
			total += ns
		}
		cleanup()
		return total / float64(batch), nil
	}
}
