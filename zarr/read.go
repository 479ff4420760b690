package zarr

import (
	"bufio"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"unsafe"

	"github.com/shmtensor/shmtensor"
)

// ImportOptions controls Import. The zero value (or nil) uses
// DefaultWorkers workers and creates the segment with shmtensor's defaults.
type ImportOptions struct {
	// Segment holds the options for shmtensor.CreateSegment (Mode, Lazy,
	// SharedArrayLayout, ...).
	Segment []shmtensor.Option
	// Workers bounds how many chunks are read and decoded at once; 0 means
	// DefaultWorkers().
	Workers int
	// Progress, if not nil, is called after each chunk with the number
	// of chunks read so far and the total. Calls do not overlap.
	Progress func(done, total int)
	// Context, if not nil, stops Import between chunks once it is done;
	// Import then deletes the segment and returns the context's error.
	Context context.Context
}

// Import creates the segment name (a shmtensor name: NAME, shm://NAME or
// file://PATH) with the element type and shape of the Zarr v2 array in the
// directory dir, and fills it from the array's chunks, in parallel.
//
// Chunks may be uncompressed, zlib or gzip; other compressors and filters
// are refused with an error wrapping ErrCodec that names them. Arrays in
// Fortran order ("order": "F") and big-endian arrays are converted to a
// C-ordered, little-endian segment with the same values. A missing chunk
// reads as the fill value (zero when the fill value is null), as in
// zarr-python. Keys may use "." or "/" as their dimension_separator says.
//
// The name must not exist. The segment is filled before it gets its name
// (shmtensor.Unpublished, then Publish), so no process ever attaches it
// half-filled, and a failed or cancelled import leaves nothing under the
// name. Where the system cannot create unnamed shm segments (shm names on
// FreeBSD and macOS) it is named from the start and deleted on failure.
func Import(dir, name string, opts *ImportOptions) (*shmtensor.Segment, error) {
	if opts == nil {
		opts = &ImportOptions{}
	}
	a, err := ReadArray(dir)
	if err != nil {
		return nil, err
	}
	// A taken name is refused before any chunk is decoded; Publish
	// checks again, atomically.
	if _, err := shmtensor.Stat(name); err == nil {
		return nil, &Error{Op: "import", Path: dir, Err: &shmtensor.Error{Op: "create", Name: name, Err: shmtensor.ErrExist}}
	}
	// The segment is built unnamed and published complete, where the
	// system allows (not for shm names on FreeBSD and macOS).
	published := false
	seg, err := shmtensor.CreateSegment(name, a.dtype, a.shape, append(slices.Clone(opts.Segment), shmtensor.Unpublished())...)
	if errors.Is(err, shmtensor.ErrNotSupported) {
		seg, err = shmtensor.CreateSegment(name, a.dtype, a.shape, opts.Segment...)
		published = true
	}
	if err != nil {
		return nil, &Error{Op: "import", Path: dir, Err: err}
	}
	if err := readInto(dir, a, seg, opts); err != nil {
		seg.Close() // an unpublished segment vanishes with it
		if published {
			shmtensor.Delete(name)
		}
		return nil, &Error{Op: "import", Path: dir, Err: err}
	}
	if !published {
		if err := seg.Publish(); err != nil {
			seg.Close()
			return nil, &Error{Op: "import", Path: dir, Err: err}
		}
	}
	return seg, nil
}

// readInto decodes every chunk of the store a at dir into seg.
func readInto(dir string, a *Array, seg *shmtensor.Segment, opts *ImportOptions) error {
	v, err := segmentView(seg)
	if err != nil {
		return err
	}
	return forEachChunk(opts.Context, a, opts.Workers, opts.Progress, func(w *worker, idx []int) error {
		key := a.ChunkKey(idx)
		path := a.chunkPath(dir, key)
		if err := a.readChunkFile(w, path); err != nil {
			return err
		}
		start, n := a.region(idx)
		if err := v.fromChunk(w.buf, a.chunks, start, n, a.fortran); err != nil {
			return fmt.Errorf("chunk %s: %w", key, err)
		}
		return nil
	})
}

// readChunkFile decodes the chunk file path into w.buf, or fills w.buf
// with the fill value if the file does not exist.
func (a *Array) readChunkFile(w *worker, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		fillBuf(w.buf, a.fill)
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := a.decode(w, f); err != nil {
		return &Error{Op: "chunk", Path: path, Err: err}
	}
	if a.bigEndian {
		swapBytes(w.buf, a.dtype.Size(), a.dtype == shmtensor.Complex64 || a.dtype == shmtensor.Complex128)
	}
	return nil
}

// decode reads one chunk from r into w.buf: exactly ChunkBytes bytes once
// decompressed, or the chunk is refused (ErrFormat).
func (a *Array) decode(w *worker, r io.Reader) error {
	var src io.Reader
	switch a.comp.ID {
	case "":
		src = r
	case "zlib", "gzip":
		br := bufio.NewReaderSize(r, 64<<10)
		var (
			zr  io.ReadCloser
			err error
		)
		if a.comp.ID == "zlib" {
			zr, err = zlib.NewReader(br)
		} else {
			zr, err = gzip.NewReader(br)
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrFormat, a.comp.ID, err)
		}
		defer zr.Close()
		src = zr
	default:
		return a.comp.check()
	}
	n, err := io.ReadFull(src, w.buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return fmt.Errorf("%w: chunk holds %d bytes, want %d", ErrFormat, n, len(w.buf))
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	// Reading past the end makes a decompressor check its trailing
	// checksum, and shows data beyond the chunk's size.
	var one [1]byte
	m, err := io.ReadFull(src, one[:])
	if m != 0 {
		return fmt.Errorf("%w: chunk holds more than %d bytes", ErrFormat, len(w.buf))
	}
	if err != io.EOF {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return nil
}

// ReadChunk copies the chunk at grid index idx of the array a from the
// segment seg's live memory into dst, which must hold ChunkBytes bytes: a
// C-ordered chunk, padded past the array's edge with the fill value, ready
// to serve as an uncompressed chunk. seg must have a's element type and
// shape. ReadChunk takes no lock; callers that need a consistent chunk
// while other processes write hold one around it.
func (a *Array) ReadChunk(dst []byte, seg *shmtensor.Segment, idx []int) error {
	if err := checkOpen(seg); err != nil {
		return err
	}
	if seg.DType() != a.dtype || !slices.Equal(seg.Shape(), a.shape) || a.fortran || a.bigEndian {
		return fmt.Errorf("%w: segment %s %v does not match the array (%s %v)", shmtensor.ErrShape, seg.DType(), seg.Shape(), a.dtype, a.shape)
	}
	if len(dst) != a.chunkBytes {
		return fmt.Errorf("%w: buffer of %d bytes for a chunk of %d", shmtensor.ErrShape, len(dst), a.chunkBytes)
	}
	if len(idx) != len(a.grid) {
		return fmt.Errorf("%w: %d indices for %d dimensions", ErrChunkKey, len(idx), len(a.grid))
	}
	for i, x := range idx {
		if x < 0 || x >= a.grid[i] {
			return fmt.Errorf("%w: %v is outside the chunk grid %v", ErrChunkKey, idx, a.grid)
		}
	}
	v, err := segmentView(seg)
	if err != nil {
		return err
	}
	buf := dst
	if uintptr(unsafe.Pointer(unsafe.SliceData(dst)))%16 != 0 {
		buf = newChunkBuf(len(dst)) // the copies view it as elements
	}
	start, n := a.region(idx)
	if !equalInts(n, a.chunks) {
		fillBuf(buf, a.fill)
	}
	if err := v.toChunk(buf, a.chunks, start, n); err != nil {
		return err
	}
	if &buf[0] != &dst[0] {
		copy(dst, buf)
	}
	return nil
}
