package main

import (
	"context"
	"encoding/binary"
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

var cmdImport = &Command{
	UsageLine: "import [--mode 0600] [--sharedarray] [--format npy|zarr|safetensors] FILE.npy|DIR.zarr|FILE.safetensors NAME",
	Short:     "copy a .npy file, a Zarr store or a safetensors file into a new segment",
	Long: `
Import creates the segment NAME with the dtype, shape and memory order of
the .npy file FILE and copies the data into it. FILE may be a pipe; "-"
is standard input (with --format safetensors for a safetensors stream).
Any .npy file numpy writes
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

A directory whose name ends in .zarr or that holds a .zarray (an array
inside a group, such as DIR.zarr/temperature), or any path with --format
zarr, is read as a Zarr v2 array, as zarr-python, Dask and xarray write
them; a group (.zgroup, as xarray's to_zarr writes) becomes one segment
NAME.ARRAY per array directly in it, all or none: chunks
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

A file whose name ends in .safetensors (or any file with --format
safetensors), as Hugging Face's safetensors library writes them, becomes a
bundle (see "shmtensor help bundles") with the file's tensors and
metadata. Such files often have a header of odd length, which leaves
every tensor misaligned; the bundle is laid out again, with its data at a
page and each tensor at a multiple of its element size, so every view is
aligned, and import says when it moved the data. As with .npy files, NAME
appears only once every tensor is copied, the file may be a pipe, and the
header is validated as strictly as a bundle's before anything is
created. --sharedarray does not apply.
`,
	MinArgs: 2,
	MaxArgs: 2,
}

var importFlags = creationFlags{mode: 0o600}

var importFormat = cmdImport.Flag.String("format", "", "`npy`, zarr or safetensors (default: zarr for a path ending in .zarr, safetensors for one ending in .safetensors, else npy)")

func init() {
	cmdImport.Run = runImport
	importFlags.register(cmdImport, false)
}

func runImport(c *Command, args []string) error {
	path, name := strings.TrimPrefix(args[0], "file://"), args[1]
	format, err := fileFormat(path, *importFormat)
	if err == nil && *importFormat == "" && format == "npy" {
		format, err = directoryFormat(path)
	}
	switch {
	case err != nil:
		return usagef("%v", err)
	case format == "zarr":
		return runImportZarr(c, path, name)
	case format == "safetensors" && importFlags.sharedArray:
		return usagef("--sharedarray does not apply to a safetensors file, which becomes a bundle")
	}
	ctx, stop := interruptContext()
	defer stop()
	f, err := os.Stdin, error(nil)
	if path != "-" { // "-" is standard input, such as a pipe
		f, err = os.Open(path)
	}
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
	if format == "safetensors" {
		return importBundle(c, ctx, path, name, r, p)
	}
	seg, err := shmtensor.Import(name, r, importFlags.options()...)
	if err := importDone(c, ctx, p, path, name, ".npy", err, func() { seg.Close() }); err != nil {
		return err
	}
	defer seg.Close()
	order := ""
	if seg.Fortran() {
		order = ", Fortran order"
	}
	fmt.Printf("imported %s into %s: %s %s%s, data %s, segment %s\n", shownPath(path, "standard input"), seg.Name(), seg.DType(),
		shmtensor.FormatShape(seg.Shape()), order,
		units.Bytes(int64(len(seg.Bytes()))), units.Bytes(int64(seg.Size())))
	return nil
}

// importDone ends an import of path (a format file) into name that
// returned err: an import the user interrupted is undone (closeFn closes
// what it made), and errors are said in the command's words.
func importDone(c *Command, ctx context.Context, p *progress, path, name, format string, err error, closeFn func()) error {
	if ctx.Err() != nil {
		if err == nil {
			closeFn()
			shmtensor.Delete(name)
		}
		err = errInterrupted
	}
	p.done()
	switch {
	case errors.Is(err, errInterrupted):
		c.warn(fmt.Errorf("interrupted; nothing was created under %s", canonical(name)))
		return exitStatus(130)
	case errors.Is(err, shmtensor.ErrDType):
		return fmt.Errorf("%s: unsupported dtype: %s", path, detail(err, shmtensor.ErrDType))
	case errors.Is(err, shmtensor.ErrNotTensor):
		return fmt.Errorf("%s is not a valid %s file: %s", shownPath(path, "standard input"), format, detail(err, shmtensor.ErrNotTensor))
	}
	return err
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

// importBundle imports the safetensors stream r, read from path, as the
// bundle name.
func importBundle(c *Command, ctx context.Context, path, name string, r io.Reader, p *progress) error {
	// The file's own layout, to say whether the import moved the data:
	// its header length, read first without consuming the stream when it
	// is a regular file.
	fileDataOff := int64(-1)
	if f, ok := r.(*os.File); ok {
		var n [8]byte
		if _, err := f.ReadAt(n[:], 0); err == nil {
			fileDataOff = 8 + int64(binary.LittleEndian.Uint64(n[:]))
		}
	}
	b, err := shmtensor.ImportBundle(name, r, importFlags.options()...)
	if err := importDone(c, ctx, p, path, name, "safetensors", err, func() { b.Close() }); err != nil {
		return err
	}
	defer b.Close()
	ts := bundleTensors(b)
	var data int64
	for _, t := range ts {
		data += t.Size
	}
	seg := b.Segment()
	moved := ""
	if off := int64(seg.Size()) - data; fileDataOff >= 0 && fileDataOff != off {
		moved = fmt.Sprintf("; data at byte %d of the file, at %d in the bundle", fileDataOff, off)
		if fileDataOff%8 != 0 {
			moved = fmt.Sprintf("; data realigned: at byte %d of the file, misaligned; at %d in the bundle", fileDataOff, off)
		}
	}
	fmt.Printf("imported %s into %s: bundle of %s (%s), data %s, segment %s%s\n", shownPath(path, "standard input"), b.Name(),
		tensorsText(len(ts)), bundleDTypes(ts), units.Bytes(data), units.Bytes(int64(seg.Size())), moved)
	return nil
}

// directoryFormat tells what a directory given to import without --format
// is: a Zarr array (it holds .zarray, as the arrays inside a group do,
// whatever their names) or a group (.zgroup). A path that is not a
// directory is npy, left to the .npy reader.
func directoryFormat(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return "npy", nil
	}
	if _, err := os.Stat(filepath.Join(path, ".zarray")); err == nil {
		return "zarr", nil
	}
	if _, err := os.Stat(filepath.Join(path, ".zgroup")); err == nil {
		return "zarr", nil // a group: its arrays, one segment each
	}
	return "", fmt.Errorf("%s is a directory, neither a .npy file nor a Zarr array or group (it has no .zarray or .zgroup)", path)
}
