package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

var importCmd = &command{
	name:     "import",
	synopsis: "[--mode 0600] [--sharedarray] FILE.npy NAME",
	summary:  "copy a .npy file into a new segment",
	help: `
Creates the segment NAME with the dtype and shape of the .npy file FILE and
copies the data into it. A Fortran-order file becomes a C-order segment
whose values are transposed in memory, so that a[i, j, ...] is the same in
both. NAME must not exist. Interrupted (Ctrl-C), the partial segment is
deleted. A progress bar is drawn on standard error for large copies when it
is a terminal.`,
}

var exportCmd = &command{
	name:     "export",
	synopsis: "[--force] NAME FILE.npy",
	summary:  "write a segment to a .npy file",
	help: `
Writes the segment NAME to the new file FILE as a .npy file (format version
1.0; numpy.load reads it). An existing FILE is refused unless --force is
given, which replaces it atomically. A Fortran-order segment is written as a
Fortran-order .npy file. A progress bar is drawn on standard error for large
copies when it is a terminal.`,
}

func init() {
	importCmd.run = runImport
	exportCmd.run = runExport
}

// fileName turns a path argument into a file:// segment name.
func fileName(path string) string {
	if strings.HasPrefix(path, "file://") {
		return path
	}
	return "file://" + path
}

func runImport(args []string) int {
	c := importCmd
	fs := c.flagSet()
	var cf creationFlags
	cf.register(fs, false)
	if ok, code := c.parse(fs, args); !ok {
		return code
	}
	switch fs.NArg() {
	case 0:
		return c.usageErr(fs, "missing FILE.npy and NAME")
	case 1:
		return c.usageErr(fs, "missing NAME after %q", fs.Arg(0))
	case 2:
	default:
		return c.usageErr(fs, "too many arguments: want FILE.npy NAME")
	}
	path, name := fs.Arg(0), fs.Arg(1)
	src, err := shmtensor.Open(fileName(path), shmtensor.ReadOnly())
	if err != nil {
		return c.fail(err)
	}
	defer src.Close()
	dst, err := createSegment(name, src.DType(), src.Shape(), cf.options()...)
	if err != nil {
		return c.fail(err)
	}
	defer dst.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := newProgress("import", int64(len(src.Bytes())))
	if src.Fortran() && len(src.Shape()) > 1 {
		err = transposeCopy(ctx, dst.Bytes(), src.Bytes(), src.Shape(), src.Strides(), src.DType().Size(), p)
	} else {
		err = chunkedCopy(ctx, dst.Bytes(), src.Bytes(), p)
	}
	p.done()
	if err != nil {
		dst.Close()
		if derr := shmtensor.Delete(dst.Name()); derr != nil {
			c.warn(derr)
		}
		return c.fail(fmt.Errorf("%w; %s deleted", err, dst.Name()))
	}
	how := ""
	if src.Fortran() && len(src.Shape()) > 1 {
		how = ", Fortran order converted to C order"
	}
	fmt.Fprintf(stdout, "imported %s into %s: %s %s (%s%s)\n", path, dst.Name(), src.DType(),
		shmtensor.FormatShape(src.Shape()), units.Bytes(int64(len(src.Bytes()))), how)
	return 0
}

// copyChunk is how much is copied between checks for Ctrl-C and progress
// updates.
const copyChunk = 4 << 20

func chunkedCopy(ctx context.Context, dst, src []byte, p *progress) error {
	for off := 0; off < len(src); off += copyChunk {
		if err := ctx.Err(); err != nil {
			return errors.New("interrupted")
		}
		end := min(off+copyChunk, len(src))
		copy(dst[off:end], src[off:end])
		p.add(int64(end - off))
	}
	return nil
}

// transposeCopy copies the Fortran-order array src of the given shape,
// element strides and element size into dst in C order, element by
// element: dst is written in order while the position in src follows the
// Fortran strides.
func transposeCopy(ctx context.Context, dst, src []byte, shape, fs []int, size int, p *progress) error {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n == 0 {
		return nil
	}
	idx := make([]int, len(shape))
	s := 0 // element offset in src of idx
	last := len(shape) - 1
	for d := 0; d < n; {
		if err := ctx.Err(); err != nil {
			return errors.New("interrupted")
		}
		end := min(d+copyChunk/size, n)
		for ; d < end; d++ {
			copy(dst[d*size:(d+1)*size], src[s*size:(s+1)*size])
			// Advance idx in C order, keeping s in step.
			for k := last; k >= 0; k-- {
				idx[k]++
				s += fs[k]
				if idx[k] < shape[k] {
					break
				}
				s -= idx[k] * fs[k]
				idx[k] = 0
			}
		}
		p.set(int64(end) * int64(size))
	}
	return nil
}

func runExport(args []string) int {
	c := exportCmd
	fs := c.flagSet()
	force := fs.Bool("force", false, "replace FILE if it exists")
	if ok, code := c.parse(fs, args); !ok {
		return code
	}
	switch fs.NArg() {
	case 0:
		return c.usageErr(fs, "missing NAME and FILE.npy")
	case 1:
		return c.usageErr(fs, "missing FILE.npy after %q", fs.Arg(0))
	case 2:
	default:
		return c.usageErr(fs, "too many arguments: want NAME FILE.npy")
	}
	name, path := fs.Arg(0), strings.TrimPrefix(fs.Arg(1), "file://")
	seg, err := shmtensor.Open(name, shmtensor.ReadOnly())
	if err != nil {
		return c.fail(err)
	}
	defer seg.Close()
	hdr, err := npyHeader(seg.DType(), seg.Shape(), seg.Fortran())
	if err != nil {
		return c.fail(err)
	}

	// Without --force the file is created exclusively; with it, a
	// temporary file in the same directory is renamed over FILE at the end.
	target := path
	if *force {
		target = filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".shmtensor-"+strconv.Itoa(os.Getpid()))
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) && !*force {
			return c.fail(fmt.Errorf("%s exists; use --force to replace it", path))
		}
		return c.fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	data := seg.Bytes()
	p := newProgress("export", int64(len(data)))
	err = writeNPY(ctx, f, hdr, data, p)
	p.done()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && *force {
		err = os.Rename(target, path)
	}
	if err != nil {
		os.Remove(target)
		return c.fail(fmt.Errorf("writing %s: %w (nothing written)", path, err))
	}
	fmt.Fprintf(stdout, "exported %s to %s: %s %s (%s)\n", seg.Name(), path, seg.DType(),
		shmtensor.FormatShape(seg.Shape()), units.Bytes(int64(len(hdr)+len(data))))
	return 0
}

func writeNPY(ctx context.Context, w io.Writer, hdr, data []byte, p *progress) error {
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	for off := 0; off < len(data); off += copyChunk {
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		end := min(off+copyChunk, len(data))
		if _, err := w.Write(data[off:end]); err != nil {
			return err
		}
		p.add(int64(end - off))
	}
	return nil
}

// npyHeader returns the .npy version 1.0 preamble of an array: the magic,
// the version, the header length and the header dict, padded with spaces
// and ended by a newline so that the data starts at a multiple of 64 bytes,
// as numpy writes it.
func npyHeader(dt shmtensor.DType, shape []int, fortran bool) ([]byte, error) {
	if dt.Descr() == "" {
		return nil, fmt.Errorf("dtype %v has no .npy descriptor", dt)
	}
	order := "False"
	if fortran {
		order = "True"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", dt.Descr(), order, shmtensor.FormatShape(shape))
	const pre = 10 // magic (6), version (2), header length (2)
	total := (pre + len(dict) + 1 + 63) / 64 * 64
	hlen := total - pre
	if hlen > 0xffff {
		return nil, fmt.Errorf("header of %d bytes does not fit .npy version 1.0", hlen)
	}
	b := make([]byte, 0, total)
	b = append(b, "\x93NUMPY\x01\x00"...)
	b = append(b, byte(hlen), byte(hlen>>8))
	b = append(b, dict...)
	for len(b) < total-1 {
		b = append(b, ' ')
	}
	return append(b, '\n'), nil
}

// progress draws a progress bar on standard error for large copies when it
// is a terminal; otherwise it does nothing.
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

func (p *progress) add(n int64) { p.set(p.cur + n) }

func (p *progress) set(n int64) {
	p.cur = n
	if !p.on || time.Since(p.last) < 100*time.Millisecond && p.cur < p.total {
		return
	}
	p.last = time.Now()
	fmt.Fprint(stderr, "\r"+progressLine(p.label, p.cur, p.total))
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(stderr, "\r"+progressLine(p.label, p.cur, p.total)+"\n")
	}
}

// progressLine renders "import [=====>    ]  45% 115.2 MiB / 256.0 MiB".
func progressLine(label string, cur, total int64) string {
	const width = 30
	frac := 1.0
	if total > 0 {
		frac = float64(cur) / float64(total)
	}
	fill := int(frac * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	return fmt.Sprintf("%s [%s] %3d%% %s / %s ", label, bar, int(frac*100),
		units.Bytes(cur), units.Bytes(total))
}
