package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

var cmdExport = &Command{
	UsageLine: "export [--force] [--any-owner] [--format npy|zarr] [--chunks N,N...] [--compressor none|zlib|gzip] NAME FILE.npy|DIR.zarr",
	Short:     "write a segment to a .npy file or a Zarr store",
	Long: `
Export writes the segment NAME to the new file FILE as a .npy file (format
version 1.0, the data at a multiple of 64 bytes, as numpy.save writes it;
numpy.load reads it). A Fortran-order segment is written as a Fortran-order
file, a SharedArray segment as .npy like any other.

An existing FILE is refused unless --force is given, which replaces it
atomically: the new file is written next to it and renamed over it, with
the old file's permission bits. A failed or interrupted export (Ctrl-C; the
exit status is then 130) leaves nothing behind. It prints the size of the
data and of the file. A progress bar is drawn on standard error for
segments larger than 16 MiB when it is a terminal.

A segment owned by another user than you and root is refused, since its
owner could truncate it while it is read; --any-owner exports it anyway.

A DIR ending in .zarr (or any path with --format zarr) gets a Zarr v2 array
that zarr-python, Dask and xarray read: a directory with .zarray and one
file per chunk, written in parallel straight from shared memory. --chunks
sets the chunk shape (one size per axis, -1 for a whole axis; default about
4 MiB, splitting the leading axes first), --compressor the codec: none (the
default), zlib or gzip, with an optional level as zlib:6 (default 1). Edge
chunks are stored full-size, padded with zeros. DIR must not exist or be
empty (--force does not apply). .zarray is written last, so a store with
one is complete; a failed or interrupted export removes what it wrote. The
chunks are read from the live segment without a lock: stop the writers if
they must all show one moment.
`,
	MinArgs: 2,
	MaxArgs: 2,
}

var (
	exportForce      = cmdExport.Flag.Bool("force", false, "replace FILE if it exists")
	exportAnyOwner   = cmdExport.Flag.Bool("any-owner", false, "export a segment owned by another user")
	exportFormat     = cmdExport.Flag.String("format", "", "`npy` or zarr (default: zarr for a path ending in .zarr, else npy)")
	exportChunks     = cmdExport.Flag.String("chunks", "", "Zarr chunk shape, `N,N...` (-1: a whole axis)")
	exportCompressor = cmdExport.Flag.String("compressor", "none", "Zarr compressor: none, zlib, gzip or zlib:LEVEL, gzip:LEVEL")
)

func init() { cmdExport.Run = runExport }

// openExported opens the segment export reads: read-only, and of any
// owner with --any-owner.
func openExported(name string) (*shmtensor.Segment, error) {
	opts := []shmtensor.Option{shmtensor.ReadOnly()}
	if *exportAnyOwner {
		opts = append(opts, shmtensor.AnyOwner())
	}
	return shmtensor.Open(name, opts...)
}

func runExport(c *Command, args []string) error {
	name, path := args[0], strings.TrimPrefix(args[1], "file://")
	z, err := isZarr(path, *exportFormat)
	switch {
	case err != nil:
		return usagef("%v", err)
	case z && *exportForce:
		return usagef("--force does not apply to Zarr stores: remove %s first", path)
	case z:
		return runExportZarr(c, name, path)
	case *exportChunks != "" || *exportCompressor != "none":
		return usagef("--chunks and --compressor apply to Zarr stores (DIR.zarr or --format zarr)")
	}
	seg, err := openExported(name)
	if err != nil {
		return err
	}
	defer seg.Close()

	// From here on an interrupt removes what was written.
	ctx, stop := interruptContext()
	defer stop()

	// The file is created exclusively. With --force and a file in the
	// way, a temporary file next to it is renamed over it at the end.
	target := path
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		if !*exportForce {
			return fmt.Errorf("file %s exists; use --force to replace it", path)
		}
		f, err = os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".shmtensor-*")
		if err == nil {
			target = f.Name()
			if st, serr := os.Stat(path); serr == nil {
				err = f.Chmod(st.Mode().Perm())
			}
		}
	}
	if err != nil {
		if f != nil {
			f.Close()
			os.Remove(target)
		}
		return err
	}

	p := newProgress("export", int64(len(seg.Bytes())))
	var w io.Writer = &progressWriter{ctx, f, p}
	if !p.on {
		// No bar to draw: the file itself lets WriteTo have the kernel
		// copy the data, as cp does. An interrupt is then seen when the
		// copy ends.
		w = f
	}
	n, err := seg.WriteTo(w)
	if ctx.Err() != nil {
		err = errInterrupted
	}
	p.done()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && target != path {
		err = os.Rename(target, path)
	}
	if err != nil {
		os.Remove(target)
		if errors.Is(err, errInterrupted) {
			c.warn(fmt.Errorf("interrupted; %s not written", path))
			return exitStatus(130)
		}
		return fmt.Errorf("writing %s: %w (nothing written)", path, cause(err))
	}
	fmt.Printf("exported %s to %s: %s %s, data %s, file %s\n", seg.Name(), path, seg.DType(),
		shmtensor.FormatShape(seg.Shape()), units.Bytes(int64(len(seg.Bytes()))), units.Bytes(n))
	return nil
}
