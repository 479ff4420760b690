package zarr

import "errors"

// Sentinel errors, matched with errors.Is. Errors about element types and
// shapes wrap shmtensor.ErrDType and shmtensor.ErrShape instead, and an
// existing destination wraps shmtensor.ErrExist (which matches fs.ErrExist).
var (
	// ErrFormat: the store is not a valid Zarr v2 array: a missing or
	// malformed .zarray, or a chunk of the wrong size.
	ErrFormat = errors.New("not a valid Zarr v2 array")
	// ErrCodec: the array uses a compressor or filters this package does
	// not implement (blosc, zstd, delta, ...). The message names them.
	ErrCodec = errors.New("unsupported codec")
	// ErrChunkKey: a chunk key that is malformed or outside the chunk grid.
	ErrChunkKey = errors.New("bad chunk key")
)

// Error records a failed operation on a Zarr store, in the manner of
// *fs.PathError: "zarr: import data/x.zarr: unsupported codec: compressor
// "blosc" (this package reads zlib, gzip or none)".
type Error struct {
	Op   string // "write", "import", "read", "chunk"
	Path string // the store's directory, or the chunk file
	Err  error
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "zarr: " + e.Op + ": " + e.Err.Error()
	}
	return "zarr: " + e.Op + " " + e.Path + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }
