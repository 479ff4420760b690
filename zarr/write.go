package zarr

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/shmtensor/shmtensor"
)

// Options controls how Write lays out a store. The zero value (or nil)
// writes uncompressed chunks of about DefaultChunkBytes with "." keys,
// using DefaultWorkers workers.
type Options struct {
	// Chunks is the chunk shape, one size per axis; -1 means the whole
	// axis. Nil chooses chunks of at most DefaultChunkBytes.
	Chunks []int
	// Compressor compresses each chunk; the zero value stores them raw.
	Compressor Compressor
	// DimensionSeparator is "." (the default: keys "0.1") or "/" (nested
	// directories "0/1", which keeps directories small for huge grids).
	DimensionSeparator string
	// Workers bounds how many chunks are encoded and written at once;
	// 0 means DefaultWorkers().
	Workers int
	// Sync makes Write fsync every chunk and the directory before it
	// writes .zarray, so that after a crash a store with a .zarray is
	// complete on disk too, not only as seen by other processes.
	Sync bool
	// Attributes, if not nil, are written as the array's .zattrs (JSON),
	// before .zarray; zarr-python shows them as z.attrs, and xarray takes
	// the axis names from "_ARRAY_DIMENSIONS".
	Attributes map[string]any
	// NoFillValue writes fill_value null (Zarr's "no fill value") in
	// place of zero. Write stores every chunk, so no element is a fill
	// value either way; xarray, which reads fill_value as _FillValue and
	// masks the elements equal to it, then leaves every value as it is.
	NoFillValue bool
	// Progress, if not nil, is called after each chunk with the number
	// of chunks written so far and the total. Calls do not overlap.
	Progress func(done, total int)
	// Context, if not nil, stops Write between chunks once it is done;
	// Write then removes what it wrote and returns the context's error.
	Context context.Context
}

// Write stores the segment seg (C or Fortran order, any element type
// including bool and float16) as a Zarr v2 array in the directory dir,
// which must not exist or be empty.
//
// Chunks are encoded and written in parallel; edge chunks are stored
// full-size, padded with zeros, as zarr-python does. .zarray is written
// last, so a reader never sees a store that claims to be complete before
// its chunks are there; on failure Write removes what it wrote. Write does
// not lock seg: a segment other processes are writing gives chunks of
// different moments.
func Write(dir string, seg *shmtensor.Segment, opts *Options) error {
	if err := checkOpen(seg); err != nil {
		return &Error{Op: "write", Path: dir, Err: err}
	}
	a, err := NewArray(seg.DType(), seg.Shape(), opts)
	if err != nil {
		return &Error{Op: "write", Path: dir, Err: err}
	}
	v, err := segmentView(seg)
	if err != nil {
		return &Error{Op: "write", Path: dir, Err: err}
	}
	return write(dir, a, v, opts)
}

// WriteTensor is Write for a tensor view of any strides (slices,
// transposes, heap tensors). The store holds the view's elements in C
// order of its shape.
func WriteTensor[T shmtensor.Number](dir string, t *shmtensor.Tensor[T], opts *Options) error {
	if seg := t.Segment(); seg != nil {
		if err := checkOpen(seg); err != nil {
			return &Error{Op: "write", Path: dir, Err: err}
		}
	}
	a, err := NewArray(t.DType(), t.Shape(), opts)
	if err != nil {
		return &Error{Op: "write", Path: dir, Err: err}
	}
	return write(dir, a, tensorView[T]{t}, opts)
}

// checkOpen returns an error wrapping shmtensor.ErrClosed if seg is closed,
// as the root package's functions that take a segment do.
func checkOpen(seg *shmtensor.Segment) error {
	if seg.Addr() == 0 { // only once closed
		return fmt.Errorf("%s: %w", seg.Name(), shmtensor.ErrClosed)
	}
	return nil
}

// write creates dir (or takes an empty one), writes every chunk of a from
// v, then .zarray.
func write(dir string, a *Array, v view, opts *Options) (err error) {
	if opts == nil {
		opts = &Options{}
	}
	created, err := makeStoreDir(dir)
	if err != nil {
		return &Error{Op: "write", Path: dir, Err: err}
	}
	defer func() {
		if err != nil {
			cleanStore(dir, created)
		}
	}()
	var syncDirs sync.Map // directories to fsync when opts.Sync (nested keys)
	syncDirs.Store(dir, true)
	err = forEachChunk(opts.Context, a, opts.Workers, a.chunkBytes, opts.Progress, func(w *worker, idx []int) error {
		key := a.ChunkKey(idx)
		path := a.chunkPath(dir, key)
		start, n := a.region(idx)
		full := equalInts(n, a.chunks)
		raw, ok := []byte(nil), false
		if full {
			// A chunk that is one run of memory goes out as it is.
			raw, ok = v.contiguous(start, n)
		}
		if !ok {
			if !full {
				fillBuf(w.buf, a.fill) // the padding of an edge chunk
			}
			if err := v.toChunk(w.buf, a.chunks, start, n); err != nil {
				return fmt.Errorf("chunk %s: %w", key, err)
			}
			raw = w.buf
		}
		data, err := w.encode(a.comp, raw)
		if err != nil {
			return fmt.Errorf("chunk %s: %w", key, err)
		}
		if a.sep == "/" {
			parent := filepath.Dir(path)
			if err := os.MkdirAll(parent, 0o777); err != nil {
				return err
			}
			syncDirs.Store(parent, true)
		}
		return writeFile(path, data, opts.Sync)
	})
	if err != nil {
		return &Error{Op: "write", Path: dir, Err: err}
	}
	if opts.Sync {
		var serr error
		syncDirs.Range(func(k, _ any) bool {
			serr = syncDir(k.(string))
			return serr == nil
		})
		if serr != nil {
			return &Error{Op: "write", Path: dir, Err: serr}
		}
	}
	if opts.Attributes != nil {
		attrs, err := json.MarshalIndent(opts.Attributes, "", "    ")
		if err != nil {
			return &Error{Op: "write", Path: dir, Err: fmt.Errorf("attributes: %w", err)}
		}
		if err := writeFile(filepath.Join(dir, ".zattrs"), append(attrs, '\n'), opts.Sync); err != nil {
			return &Error{Op: "write", Path: dir, Err: err}
		}
	}
	meta, _ := a.MarshalJSON()
	if err := writeFile(filepath.Join(dir, ".zarray"), meta, opts.Sync); err != nil {
		return &Error{Op: "write", Path: dir, Err: err}
	}
	if opts.Sync {
		if err := syncDir(dir); err != nil {
			return &Error{Op: "write", Path: dir, Err: err}
		}
	}
	return nil
}

// makeStoreDir creates dir, or accepts an existing empty directory, so
// that Write never mixes its chunks with anything that was there.
func makeStoreDir(dir string) (created bool, err error) {
	if err := os.Mkdir(dir, 0o777); err == nil {
		return true, nil
	} else if !errors.Is(err, os.ErrExist) {
		return false, err
	}
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err != nil && err != io.EOF {
		return false, fmt.Errorf("%w: %v", shmtensor.ErrExist, err)
	}
	if len(names) > 0 {
		return false, fmt.Errorf("%w: the directory is not empty", shmtensor.ErrExist)
	}
	return false, nil
}

// cleanStore removes what a failed Write left: the directory it created,
// or the contents of the empty directory it was given.
func cleanStore(dir string, created bool) {
	if created {
		os.RemoveAll(dir)
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// writeFile creates path, which must not exist, with data.
func writeFile(path string, data []byte, sync bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func equalInts(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// worker holds one goroutine's reusable buffers.
type worker struct {
	buf []byte // one uncompressed chunk
	out bytes.Buffer
	zw  *zlib.Writer
	gw  *gzip.Writer
}

// encode returns raw compressed with c (or raw itself).
func (w *worker) encode(c Compressor, raw []byte) ([]byte, error) {
	var zw io.WriteCloser
	w.out.Reset()
	switch c.ID {
	case "":
		return raw, nil
	case "zlib":
		if w.zw == nil {
			var err error
			if w.zw, err = zlib.NewWriterLevel(&w.out, c.Level); err != nil {
				return nil, err
			}
		} else {
			w.zw.Reset(&w.out)
		}
		zw = w.zw
	case "gzip":
		if w.gw == nil {
			var err error
			if w.gw, err = gzip.NewWriterLevel(&w.out, c.Level); err != nil {
				return nil, err
			}
		} else {
			w.gw.Reset(&w.out)
		}
		zw = w.gw
	default:
		return nil, c.check()
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return w.out.Bytes(), nil
}

// DefaultWorkers returns the number of chunks Write and Import handle at
// once by default: GOMAXPROCS, but at least 4, since a worker waiting for
// the file system leaves its CPU to the others.
func DefaultWorkers() int { return max(runtime.GOMAXPROCS(0), 4) }

// forEachChunk calls f for every chunk of a, on up to workers goroutines
// (DefaultWorkers when 0), each with its own worker and a buffer of
// bufBytes (none when 0: f allocates what it needs). It stops handing out
// chunks at the first error, or once ctx (if not nil) is done, and returns
// that error.
func forEachChunk(ctx context.Context, a *Array, workers, bufBytes int, progress func(done, total int), f func(w *worker, idx []int) error) error {
	total := a.numChunks
	if total == 0 {
		return nil
	}
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	workers = min(workers, total)
	var (
		next     atomic.Int64
		failed   atomic.Bool
		mu       sync.Mutex // guards firstErr, done and progress calls
		firstErr error
		done     int
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			w := &worker{}
			if bufBytes > 0 {
				w.buf = newChunkBuf(bufBytes)
			}
			idx := make([]int, len(a.grid))
			for !failed.Load() {
				k := int(next.Add(1) - 1)
				if k >= total {
					return
				}
				unravel(k, a.grid, idx)
				err := error(nil)
				if ctx != nil {
					err = ctx.Err()
				}
				if err == nil {
					err = f(w, idx)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
				if progress != nil {
					mu.Lock()
					done++
					if !failed.Load() {
						progress(done, total)
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// unravel sets idx to the C-order grid index of the k-th chunk.
func unravel(k int, grid, idx []int) {
	for i := len(grid) - 1; i >= 0; i-- {
		idx[i] = k % grid[i]
		k /= grid[i]
	}
}
