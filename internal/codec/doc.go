// Package codec holds the on-segment codecs of shmtensor: the .npy header
// (and the Python literal syntax its dict is written in), the trailer of
// Python's SharedArray, the rule that decides between them when a file
// carries both magics, and the element type table the formats share.
//
// It works on bytes and on io.ReaderAt and io.Reader, never on descriptors
// or mappings, and imports nothing of the root package: the root converts
// its DType and Layout to the ones here (numbered the same) and wraps the
// errors, which wrap internal/errs sentinels, once at its public boundary.
package codec
