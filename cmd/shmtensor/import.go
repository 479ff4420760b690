package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

var cmdImport = &Command{
	UsageLine: "import [--mode 0600] [--sharedarray] [--format npy|zarr] FILE.npy|DIR.zarr NAME",
	Short:     "copy a .npy file or a Zarr store into a new segment",
	Long: `
Import creates the segment NAME with the dtype, shape and memory order of
the .npy file FILE and copies the data into it. FILE may be a pipe, such
as /dev/stdin. Any .npy file numpy writes
is read (versions 1.0 to 3.0, C or Fortran order) if its dtype is one of
create's; a Fortran-order file gives a Fortran-order segment, as numpy.load
would give a Fortran-order array. SharedArray's layout (--sharedarray)
records no memory order, so it refuses a Fortran-order file of more than one
dimension.

NAME must not exist; it appears only once the data is complete, so no
process ever sees a partial segment, and nothing is left under NAME when the
import fails or is interrupted (Ctrl-C; the exit status is then 130). It
prints the size of the data and of the new segment. A progress bar is drawn
on standard error for files larger than 16 MiB when it is a terminal.

A directory whose name ends in .zarr (or any path with --format zarr) is
read as a Zarr v2 array, as zarr-python, Dask and xarray write them: chunks
uncompressed, zlib or gzip, C or F order, "." or "/" keys, any numpy
dtype that create accepts, big-endian ones converted. Chunks are decoded in
parallel into a C-order segment; missing chunks read as the fill value.
Other compressors (blosc, zstd, ...) and filters are refused by name. As
with .npy files, NAME appears only once the data is complete.

A store is read as untrusted input: only regular files, opened without
waiting (a FIFO or a device is refused), symbolic links followed only while
they stay inside the store (a chunk linked to /etc/passwd is refused), every
read bounded by what .zarray declares, and memory that follows the data,
not the declared chunk size. The directory is listed once, so missing
chunks cost nothing.
`,
	MinArgs: 2,
	MaxArgs: 2,
}

var importFlags = creationFlags{mode: 0o600}

var importFormat = cmdImport.Flag.String("format", "", "`npy` or zarr (default: zarr for a path ending in .zarr, else npy)")

func init() {
	cmdImport.Run = runImport
	importFlags.register(cmdImport, false)
}

func runImport(c *Command, args []string) error {
	path, name := strings.TrimPrefix(args[0], "file://"), args[1]
	if z, err := isZarr(path, *importFormat); err != nil {
		return usagef("%v", err)
	} else if z {
		return runImportZarr(c, path, name)
	}
	ctx, stop := interruptContext()
	defer stop()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("file %s does not exist", path)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	// An interrupt closes the file, so that a read waiting on a pipe or
	// a slow device returns.
	defer context.AfterFunc(ctx, func() { f.Close() })()
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}

	p := newProgress("import", size)
	var r io.Reader = &progressReader{ctx, f, p}
	if !p.on {
		// No bar to draw: the file itself lets Import have the kernel
		// copy the data, as cp does. An interrupt is then seen when the
		// copy ends, and undone.
		r = f
	}
	seg, err := shmtensor.Import(name, r, importFlags.options()...)
	if ctx.Err() != nil {
		if err == nil {
			seg.Close()
			shmtensor.Delete(name)
		}
		seg, err = nil, errInterrupted
	}
	p.done()
	switch {
	case errors.Is(err, errInterrupted):
		c.warn(fmt.Errorf("interrupted; nothing was created under %s", canonical(name)))
		return exitStatus(130)
	case errors.Is(err, shmtensor.ErrDType):
		return fmt.Errorf("%s: unsupported dtype: %s", path, detail(err, shmtensor.ErrDType))
	case errors.Is(err, shmtensor.ErrNotTensor):
		return fmt.Errorf("%s is not a valid .npy file: %s", path, detail(err, shmtensor.ErrNotTensor))
	case err != nil:
		return err
	}
	defer seg.Close()
	order := ""
	if seg.Fortran() {
		order = ", Fortran order"
	}
	fmt.Printf("imported %s into %s: %s %s%s, data %s, segment %s\n", path, seg.Name(), seg.DType(),
		shmtensor.FormatShape(seg.Shape()), order,
		units.Bytes(int64(len(seg.Bytes()))), units.Bytes(int64(seg.Size())))
	return nil
}

// detail returns what err says after the shmtensor package's operation,
// name and sentinel: for "shmtensor: import shm://x: not a tensor segment:
// npy header: bad magic" and ErrNotTensor, "npy header: bad magic". The
// command says in its own words what the sentinel means for a file.
func detail(err, sentinel error) string {
	msg := cause(err).Error()
	if rest, ok := strings.CutPrefix(msg, sentinel.Error()+": "); ok {
		return rest
	}
	return msg
}
