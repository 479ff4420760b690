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
	UsageLine: "export [--force] [--any-owner] [--format npy|zarr|safetensors] [--chunks N,N...] [--compressor none|zlib|gzip] [--group [--dims NAME=D,D...]...] NAME [KEY|NAME...] FILE.npy|DIR.zarr|FILE.safetensors",
	Short:     "write a segment to a .npy file, a Zarr store or a safetensors file",
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
segments larger than 16 MiB when it is a terminal. A FILE of "-" is
standard output, for a pipe ("shmtensor export grid - | ssh host
shmtensor import - grid"); what was exported is then said on standard
error.

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

With --group, "export --group NAME... DIR.zarr" writes the segments as the
arrays of one Zarr group, each under its bare name, as xarray keeps the
variables of a data set: xarray.open_zarr(DIR) opens it, from the
consolidated metadata (.zmetadata) written last. Each array carries its
dimension names (_ARRAY_DIMENSIONS): "--dims NAME=D,D..." gives those of
NAME (repeat it for others), and the default is dim_0, dim_1, ... (NAME_dim_i
where sizes differ from another array's dim_i). The arrays have no fill
value, so xarray masks nothing: integers stay integers and zeros stay zeros.
--chunks applies to every array, --compressor too.

A bundle (see "shmtensor help bundles") is written whole to a standard
safetensors file (its own bytes, page-aligned; every safetensors reader
loads it) when FILE does not end in .npy, as in "shmtensor export NAME
model.safetensors"; "shmtensor export NAME KEY FILE.npy" writes its
tensor KEY alone as a .npy file that numpy.load reads. numpy has no
bfloat16 or 8-bit floats, so such a tensor is refused as .npy: export the
bundle. --force works as for .npy files; a tensor segment is not
exported as safetensors.
`,
	MinArgs: 2,
	MaxArgs: manyArgs, // NAME... DIR with --group; else at most 3, checked in runExport
}

var (
	exportForce      = cmdExport.Flag.Bool("force", false, "replace FILE if it exists")
	exportAnyOwner   = cmdExport.Flag.Bool("any-owner", false, "export a segment owned by another user")
	exportFormat     = cmdExport.Flag.String("format", "", "`npy`, zarr or safetensors (default: zarr for a path ending in .zarr, safetensors for a bundle, else npy)")
	exportChunks     = cmdExport.Flag.String("chunks", "", "Zarr chunk shape, `N,N...` (-1: a whole axis)")
	exportCompressor = cmdExport.Flag.String("compressor", "none", "Zarr compressor: none, zlib, gzip or zlib:LEVEL, gzip:LEVEL")
	exportGroup      = cmdExport.Flag.Bool("group", false, "export the segments NAME... as the arrays of one Zarr group in DIR.zarr, which xarray.open_zarr opens")
	exportDims       = map[string][]string{}
)

func init() {
	cmdExport.Flag.Func("dims", "with --group, the dimension names of the array `NAME=D,D...` (repeatable; default dim_0, dim_1, ...)", func(v string) error {
		name, dims, ok := strings.Cut(v, "=")
		if !ok || name == "" || dims == "" {
			return fmt.Errorf("want NAME=D,D..., got %q", v)
		}
		exportDims[name] = strings.Split(dims, ",")
		return nil
	})
}

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
	switch {
	case *exportGroup:
		return runExportGroup(c, args[:len(args)-1], strings.TrimPrefix(args[len(args)-1], "file://"))
	case len(exportDims) > 0:
		return usagef("--dims applies to --group")
	case len(args) > 3:
		return usagef("unexpected argument %q: want NAME [KEY] FILE.npy|DIR.zarr|FILE.safetensors (--group exports NAME... into one Zarr group)", args[3])
	}
	name, path := args[0], strings.TrimPrefix(args[len(args)-1], "file://")
	key, hasKey := "", len(args) == 3
	if hasKey {
		key = args[1]
	}
	format, err := fileFormat(path, *exportFormat)
	switch {
	case err != nil:
		return usagef("%v", err)
	case format == "zarr" && *exportForce:
		return usagef("--force does not apply to Zarr stores: remove %s first", path)
	case format == "zarr" && hasKey:
		return usagef("a tensor of a bundle exports as a .npy file (NAME KEY FILE.npy), not as a Zarr store")
	case format == "zarr":
		return runExportZarr(c, name, path)
	case *exportChunks != "" || *exportCompressor != "none":
		return usagef("--chunks and --compressor apply to Zarr stores (DIR.zarr or --format zarr)")
	case format == "safetensors" && hasKey:
		return usagef("a KEY exports one tensor as a .npy file (NAME KEY FILE.npy); without it, NAME FILE.safetensors exports the whole bundle")
	}
	seg, err := openExported(name)
	if err != nil {
		return err
	}
	defer seg.Close()
	if seg.Layout() == shmtensor.Safetensors {
		seg.Close()
		return exportBundle(c, name, key, hasKey, path, format)
	}
	switch {
	case hasKey:
		return fmt.Errorf("%s is a tensor segment, not a bundle: \"shmtensor export %s FILE.npy\" exports it (a KEY names a tensor of a bundle)", seg.Name(), name)
	case format == "safetensors":
		return fmt.Errorf("%s is a tensor segment: it exports as a .npy file or a Zarr store; a .safetensors file is a bundle's export", seg.Name())
	}
	n, err := writeExport(c, path, int64(len(seg.Bytes())), seg.WriteTo)
	if err != nil {
		return err
	}
	fmt.Fprintf(exportReport(path), "exported %s to %s: %s %s, data %s, file %s\n", seg.Name(), shownPath(path, "standard output"), seg.DType(),
		shmtensor.FormatShape(seg.Shape()), units.Bytes(int64(len(seg.Bytes()))), units.Bytes(n))
	return nil
}

// exportBundle exports the bundle name: its tensor key as a .npy file, or
// without a key the whole bundle as a safetensors file (its own bytes).
func exportBundle(c *Command, name, key string, hasKey bool, path, format string) error {
	opts := []shmtensor.Option{shmtensor.ReadOnly()}
	if *exportAnyOwner {
		opts = append(opts, shmtensor.AnyOwner())
	}
	b, err := shmtensor.AttachBundle(name, opts...)
	if err != nil {
		return err
	}
	defer b.Close()
	ts := bundleTensors(b)
	if !hasKey {
		// A path named otherwise than .npy, without --format, is the
		// bundle's: a safetensors file.
		if format == "npy" && (*exportFormat == "npy" || strings.HasSuffix(path, ".npy")) {
			return needKeyError(b.Name(), ts, fmt.Sprintf("\"shmtensor export %s KEY FILE.npy\" exports its tensor KEY, \"shmtensor export %s FILE.safetensors\" the whole bundle", name, name))
		}
		var data int64
		for _, t := range ts {
			data += t.Size
		}
		n, err := writeExport(c, path, int64(b.Segment().Size()), b.WriteTo)
		if err != nil {
			return err
		}
		fmt.Fprintf(exportReport(path), "exported %s to %s: bundle of %s (%s), data %s, file %s\n", b.Name(), shownPath(path, "standard output"),
			tensorsText(len(ts)), bundleDTypes(ts), units.Bytes(data), units.Bytes(n))
		return nil
	}
	t, err := lookupKey(b, key)
	if err != nil {
		return err
	}
	hdr, err := npyHeaderOf(t.DType, t.Shape)
	if err != nil {
		return fmt.Errorf("tensor %q of %s: %v; export the whole bundle as FILE.safetensors (ml_dtypes and safetensors read %v)", key, b.Name(), err, t.DType)
	}
	data, err := b.Bytes(key)
	if err != nil {
		return err
	}
	n, err := writeExport(c, path, int64(len(hdr)+len(data)), func(w io.Writer) (int64, error) {
		k, err := w.Write(hdr)
		if err != nil {
			return int64(k), err
		}
		m, err := w.Write(data)
		return int64(k + m), err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(exportReport(path), "exported tensor %q of %s to %s: %s %s, data %s, file %s\n", key, b.Name(), shownPath(path, "standard output"), t.DType,
		shmtensor.FormatShape(t.Shape), units.Bytes(t.Size), units.Bytes(n))
	return nil
}

// shownPath is path as messages name it: "-" is the standard stream,
// input or output.
func shownPath(path, stream string) string {
	if path == "-" {
		return stream
	}
	return path
}

// exportReport is where export says what it wrote: standard output, or
// standard error when the file itself goes to standard output ("-").
func exportReport(path string) io.Writer {
	if path == "-" {
		return os.Stderr
	}
	return os.Stdout
}

// writeExport creates the file path (or with --force replaces it
// atomically) and fills it with write, drawing a progress bar for size
// bytes on a terminal. A failed or interrupted export removes what it
// wrote. It returns the bytes written.
func writeExport(c *Command, path string, size int64, write func(io.Writer) (int64, error)) (int64, error) {
	if path == "-" {
		// Standard output, for a pipe: the kernel copies to it when it
		// can (splice), and what was written cannot be taken back.
		return write(os.Stdout)
	}
	// From here on an interrupt removes what was written.
	ctx, stop := interruptContext()
	defer stop()

	// The file is created exclusively. With --force and a file in the
	// way, a temporary file next to it is renamed over it at the end.
	target := path
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		if !*exportForce {
			return 0, fmt.Errorf("file %s exists; use --force to replace it", path)
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
		return 0, err
	}

	p := newProgress("export", size)
	var w io.Writer = &progressWriter{ctx, f, p}
	if !p.on {
		// No bar to draw: the file itself lets WriteTo have the kernel
		// copy the data, as cp does. An interrupt is then seen when the
		// copy ends.
		w = f
	}
	n, err := write(w)
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
			return n, exitStatus(130)
		}
		return n, fmt.Errorf("writing %s: %w (nothing written)", path, cause(err))
	}
	return n, nil
}
