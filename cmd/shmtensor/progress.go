package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/shmtensor/shmtensor/internal/units"
)

// A progress draws a progress bar on standard error for a copy of more
// than progressMin bytes when standard error is a terminal; otherwise it
// only counts.
type progress struct {
	label      string
	total, cur int64
	on         bool
	last       time.Time
}

// progressMin is the smallest copy that gets a progress bar.
const progressMin = 16 << 20

func newProgress(label string, total int64) *progress {
	return &progress{label: label, total: total, on: total > progressMin && isTerminal(os.Stderr)}
}

func (p *progress) add(n int64) {
	p.cur += n
	if !p.on || time.Since(p.last) < 100*time.Millisecond && p.cur < p.total {
		return
	}
	p.last = time.Now()
	fmt.Fprint(os.Stderr, "\r"+progressLine(p.label, p.cur, p.total))
}

// done ends the bar's line.
func (p *progress) done() {
	if p.on {
		fmt.Fprint(os.Stderr, "\r"+progressLine(p.label, p.cur, p.total)+"\n")
	}
}

// progressLine renders "import [=====>    ]  45% 115.2 MiB / 256.0 MiB".
func progressLine(label string, cur, total int64) string {
	const width = 30
	cur = min(cur, total) // an export's count includes the header
	frac := 1.0
	if total > 0 {
		frac = min(float64(cur)/float64(total), 1)
	}
	fill := int(frac * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	return fmt.Sprintf("%s [%s] %3d%% %s / %s ", label, bar, int(frac*100),
		units.Bytes(cur), units.Bytes(total))
}

// errInterrupted ends a copy on Ctrl-C or SIGTERM.
var errInterrupted = errors.New("interrupted")

// progressReader reads from r, advancing p, until ctx is done. It reads
// at most copyChunk bytes at a time so that the bar moves and an interrupt
// is seen.
type progressReader struct {
	ctx context.Context
	r   io.Reader
	p   *progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	if pr.ctx.Err() != nil {
		return 0, errInterrupted
	}
	n, err := pr.r.Read(b[:min(len(b), copyChunk)])
	pr.p.add(int64(n))
	if err != nil && pr.ctx.Err() != nil {
		err = errInterrupted // the read failed because the file was closed on the interrupt
	}
	return n, err
}

// progressWriter writes to w, advancing p, until ctx is done. It writes
// large buffers in chunks so that the bar moves and an interrupt is seen.
type progressWriter struct {
	ctx context.Context
	w   io.Writer
	p   *progress
}

// copyChunk is how much is read or written between checks for an
// interrupt and progress updates.
const copyChunk = 4 << 20

func (pw *progressWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		if pw.ctx.Err() != nil {
			return written, errInterrupted
		}
		n, err := pw.w.Write(b[:min(len(b), copyChunk)])
		written += n
		pw.p.add(int64(n))
		if err != nil && pw.ctx.Err() != nil {
			return written, errInterrupted
		}
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}
