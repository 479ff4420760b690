package zarr

import (
	"bufio"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
	// Context, if not nil, stops Import once it is done, between chunks
	// and between the reads of one chunk, and while the store is listed;
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
// The store is read as untrusted input. Its directory is listed once, so
// that missing chunks cost nothing. Only regular files are read, opened
// without blocking (a FIFO or a device is refused), and symbolic links are
// followed only while they stay inside dir: a link to a file or directory
// outside the store is refused with an error wrapping ErrFormat. .zarray
// may hold at most MaxMetadataBytes; an uncompressed chunk must hold
// exactly ChunkBytes bytes, a compressed one must decompress to exactly
// that with nothing after the stream. Memory follows the data, not the
// declared chunk size: each worker holds at most the part of a chunk that
// lies inside the array. The context is checked between chunks and
// between reads within one.
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
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	s, err := openStore(dir)
	if err != nil {
		return nil, &Error{Op: "import", Path: dir, Err: err}
	}
	defer s.Close()
	a, err := readArray(s)
	if err != nil {
		return nil, err
	}
	// A taken name is refused before any chunk is decoded; Publish
	// checks again, atomically.
	if _, err := shmtensor.Stat(name); err == nil {
		return nil, &Error{Op: "import", Path: dir, Err: &shmtensor.Error{Op: "create", Name: name, Err: shmtensor.ErrExist}}
	}
	have, err := s.present(ctx, a)
	if err != nil {
		return nil, &Error{Op: "import", Path: dir, Err: err}
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
	if err := readInto(ctx, s, a, have, seg, opts); err != nil {
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

// readInto decodes the chunks of the store a at s that it holds (have,
// sorted linear indices) into seg, a new segment, and fills the others
// with the fill value unless it is zero, which a new segment holds.
func readInto(ctx context.Context, s *store, a *Array, have []int, seg *shmtensor.Segment, opts *ImportOptions) error {
	v, err := segmentView(seg)
	if err != nil {
		return err
	}
	zeroFill := !slices.ContainsFunc(a.fill, func(b byte) bool { return b != 0 })
	// A worker's buffer holds the part of a chunk inside the array: a
	// chunk declared larger than the array costs what the array holds.
	regionBytes := a.dtype.Size()
	for i, c := range a.chunks {
		regionBytes *= min(c, a.shape[i])
	}
	return forEachChunk(ctx, a, opts.Workers, 0, opts.Progress, func(w *worker, idx []int) error {
		_, found := slices.BinarySearch(have, ravel(idx, a.grid))
		if !found && zeroFill {
			return nil
		}
		if w.buf == nil {
			w.buf = newChunkBuf(regionBytes)
		}
		key := a.ChunkKey(idx)
		start, n := a.region(idx)
		buf := w.buf[:a.dtype.Size()*prod(n)]
		missing := !found
		if found {
			var err error
			if missing, err = a.readChunkFile(ctx, s, key, n, buf); err != nil {
				return err
			}
		}
		if missing {
			fillBuf(buf, a.fill)
		}
		// buf holds the region alone: a chunk of shape n.
		if err := v.fromChunk(buf, n, start, n, a.fortran); err != nil {
			return fmt.Errorf("chunk %s: %w", key, err)
		}
		return nil
	})
}

func prod(n []int) int {
	p := 1
	for _, x := range n {
		p *= x
	}
	return p
}

// readChunkFile decodes the part of the chunk file key that lies inside
// the array (extent n) into buf, or reports it missing if it vanished
// since the store was listed.
func (a *Array) readChunkFile(ctx context.Context, s *store, key string, n []int, buf []byte) (missing bool, err error) {
	f, size, err := s.open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, &Error{Op: "chunk", Path: filepath.Join(s.dir, filepath.FromSlash(key)), Err: err}
	}
	defer f.Close()
	if err := a.decode(ctx, f, size, n, buf); err != nil {
		return false, &Error{Op: "chunk", Path: f.Name(), Err: err}
	}
	if a.bigEndian {
		swapBytes(buf, a.dtype.Size(), a.dtype == shmtensor.Complex64 || a.dtype == shmtensor.Complex128)
	}
	return false, nil
}

// maxCompressed bounds the size of a compressed chunk of n bytes: deflate
// adds 5 bytes per stored block of 64 KiB at worst; the rest is room for
// headers (gzip's may name a file).
func maxCompressed(n int) int64 { return int64(n) + int64(n)/1024 + 64<<10 }

// decode reads the chunk in f (size bytes on disk) and copies the part of
// it inside the array, the extent n from its start, into buf, in the
// chunk's order. The chunk must hold exactly ChunkBytes bytes once
// decompressed, with nothing after them, or it is refused (ErrFormat).
func (a *Array) decode(ctx context.Context, f *os.File, size int64, n []int, buf []byte) error {
	var src runReader
	switch a.comp.ID {
	case "":
		if size < int64(a.chunkBytes) {
			return fmt.Errorf("%w: chunk holds %d bytes, want %d", ErrFormat, size, a.chunkBytes)
		}
		if size > int64(a.chunkBytes) {
			return fmt.Errorf("%w: chunk holds %d bytes, more than %d", ErrFormat, size, a.chunkBytes)
		}
		under := &ctxReader{ctx, f}
		src = &fileRuns{f: f, under: under, br: bufio.NewReaderSize(under, 64<<10)}
	case "zlib", "gzip":
		if size > maxCompressed(a.chunkBytes) {
			return fmt.Errorf("%w: %s chunk of %d bytes is larger than any encoding of %d bytes", ErrFormat, a.comp.ID, size, a.chunkBytes)
		}
		br := bufio.NewReaderSize(&ctxReader{ctx, io.LimitReader(f, maxCompressed(a.chunkBytes))}, 64<<10)
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
			return fmt.Errorf("%w: %s: %v", ErrFormat, a.comp.ID, ctxErr(ctx, err))
		}
		defer zr.Close()
		src = &streamRuns{r: zr, under: br, zlib: a.comp.ID == "zlib"}
	default:
		return a.comp.check()
	}
	if err := a.copyRuns(src, n, buf); err != nil {
		return ctxErr(ctx, err)
	}
	return nil
}

// ctxErr prefers the context's error to what a read it stopped returned.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// copyRuns reads a whole chunk from src and keeps the extent n of it in
// buf. The kept elements are runs at increasing offsets; what lies between
// and after them is skipped, and the end of the chunk checked.
func (a *Array) copyRuns(src runReader, n []int, buf []byte) error {
	elem := a.dtype.Size()
	d := len(n)
	// cd and rd are the chunk's and the extent's sizes from the slowest
	// axis to the fastest in the chunk's order.
	cd, rd := slices.Clone(a.chunks), slices.Clone(n)
	if a.fortran {
		slices.Reverse(cd)
		slices.Reverse(rd)
	}
	pos := 0 // bytes of the chunk consumed
	if d == 0 || slices.Equal(cd, rd) {
		if err := src.read(buf); err != nil {
			return err
		}
		pos = len(buf)
	} else {
		// The fastest axes the extent covers whole make one run with
		// the first partial one.
		k, run := d-1, rd[d-1]
		for k > 0 && rd[k] == cd[k] {
			k--
			run *= rd[k]
		}
		stride := make([]int, d) // in elements, of the chunk
		s := 1
		for i := d - 1; i >= 0; i-- {
			stride[i] = s
			s *= cd[i]
		}
		idx := make([]int, k)
		out := 0
		for {
			off := 0
			for i, x := range idx {
				off += x * stride[i]
			}
			off *= elem
			if err := src.skip(off - pos); err != nil {
				return err
			}
			if err := src.read(buf[out : out+run*elem]); err != nil {
				return err
			}
			out += run * elem
			pos = off + run*elem
			i := k - 1
			for ; i >= 0; i-- {
				if idx[i]++; idx[i] < rd[i] {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				break
			}
		}
	}
	if err := src.skip(a.chunkBytes - pos); err != nil {
		return err
	}
	return src.end(a.chunkBytes)
}

// runReader reads a chunk's bytes in order.
type runReader interface {
	read(p []byte) error // exactly len(p) bytes
	skip(n int) error    // n bytes, not kept
	end(size int) error  // nil if nothing follows
}

// short reports a chunk that ended early.
func short(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: chunk holds fewer bytes than it should", ErrFormat)
	}
	return fmt.Errorf("%w: %v", ErrFormat, err)
}

// fileRuns reads an uncompressed chunk, seeking over long gaps.
type fileRuns struct {
	f     *os.File
	under io.Reader // f, checking the context
	br    *bufio.Reader
	pos   int64 // of the next byte br returns
}

func (r *fileRuns) read(p []byte) error {
	n, err := io.ReadFull(r.br, p)
	r.pos += int64(n)
	if err != nil {
		return short(err)
	}
	return nil
}

func (r *fileRuns) skip(n int) error {
	if n <= r.br.Buffered() || n < 256<<10 {
		m, err := r.br.Discard(n)
		r.pos += int64(m)
		if err != nil {
			return short(err)
		}
		return nil
	}
	r.pos += int64(n)
	if _, err := r.f.Seek(r.pos, io.SeekStart); err != nil {
		return err
	}
	r.br.Reset(r.under) // drop what was buffered
	return nil
}

func (r *fileRuns) end(size int) error {
	if _, err := r.br.Peek(1); err != io.EOF {
		if err != nil {
			return fmt.Errorf("%w: %v", ErrFormat, err)
		}
		return fmt.Errorf("%w: chunk holds more than %d bytes", ErrFormat, size)
	}
	return nil
}

// streamRuns reads a decompressed chunk.
type streamRuns struct {
	r     io.Reader
	under *bufio.Reader // the compressed bytes
	zlib  bool
}

func (r *streamRuns) read(p []byte) error {
	if _, err := io.ReadFull(r.r, p); err != nil {
		return short(err)
	}
	return nil
}

func (r *streamRuns) skip(n int) error {
	if _, err := io.CopyN(io.Discard, r.r, int64(n)); err != nil {
		return short(err)
	}
	return nil
}

func (r *streamRuns) end(size int) error {
	// Reading past the end makes the decompressor check its trailing
	// checksum, and shows data beyond the chunk's size.
	var one [1]byte
	m, err := io.ReadFull(r.r, one[:])
	if m != 0 {
		return fmt.Errorf("%w: chunk holds more than %d bytes", ErrFormat, size)
	}
	if err != io.EOF {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	// gzip reads any further members itself; after a zlib stream there
	// must be nothing.
	if r.zlib {
		if _, err := r.under.Peek(1); err != io.EOF {
			if err != nil {
				return fmt.Errorf("%w: %v", ErrFormat, err)
			}
			return fmt.Errorf("%w: bytes after the end of the zlib stream", ErrFormat)
		}
	}
	return nil
}

// ctxReader stops reading once ctx is done, so that a long chunk does
// not hold up a cancelled import.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
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
