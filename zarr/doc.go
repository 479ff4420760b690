// Package zarr reads and writes Zarr v2 arrays, the chunked N-d array
// format of zarr-python, Dask and xarray, for shmtensor segments and
// tensors, so that a tensor in shared memory can be handed to a Dask
// cluster on shared storage and a store made there read back into shared
// memory.
//
// Write and WriteTensor store a segment or any tensor view as a directory
// holding .zarray and one file per chunk, encoded in parallel; Import
// creates a segment from such a directory. The .zarray is written last, so
// a store that has one is complete.
//
// What is written: zarr_format 2, C order, little-endian numpy typestrs
// ("<f8", "|b1", "<f2", "<c16", ...) for every shmtensor DType, fill value
// zero, no filters, and no compressor, zlib or gzip (numcodecs' Zlib and
// GZip, from the standard library). Edge chunks are stored full-size,
// padded with zeros, as zarr-python does; a 0-d array has the one chunk
// "0" and an empty array no chunks.
//
// What is read: the above, plus chunks in Fortran order, big-endian
// typestrs, "/" dimension separators, any fill value (missing chunks read
// as it) and gzip or zlib at any level. Compressors such as blosc or zstd,
// filters, and structured or string dtypes are refused with an error
// wrapping ErrCodec or shmtensor.ErrDType that names them.
//
// Reading treats a store as untrusted input. Only regular files are read,
// opened without blocking, so a FIFO or a device in the store is refused at
// once rather than waited on or read without end. Symbolic links are
// followed only while they stay inside the store (os.Root): a chunk, a
// .zarray or a key directory linked outside it is refused with an error
// wrapping ErrFormat. Every read is bounded by the metadata: .zarray by
// MaxMetadataBytes, a chunk by its declared size (compressed: a bound on
// the file, and exactly the declared size once decompressed, with nothing
// after the stream). The directory is listed once, so missing chunks cost
// nothing, and memory follows the data: a chunk declared larger than the
// array costs what the array holds. Malformed metadata (data after the
// JSON document, a dimension_separator other than "." or "/") is refused
// as zarr-python refuses it; bytes after a complete zlib stream, which
// zarr-python ignores, are refused as corruption.
//
// The package uses only the standard library and shmtensor.
package zarr
