package codec

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// The magic bytes that Create writes last: numpy's "\x93NUMPY" and
// SharedArray's NUL-padded "[SharedArray]" field.
const (
	NPYMagicLen = 6
	SAMagicLen  = 16
)

// pagePool holds the buffers ReadHeader reads a header page into; nothing
// parsed from one outlives ReadHeader (the codecs copy what they keep).
var pagePool = sync.Pool{New: func() any { return new([NPYDataOffset]byte) }}

// ReadHeader reads and validates the header of a file of size bytes. It
// reads only the bytes the headers need: the first page (more only for a
// longer NPY header) and, unless an NPY header accounts for the whole
// file, the last 548 bytes, where a SharedArray trailer would be.
// Which layout a file is in is decided by chooseLayout.
func ReadHeader(r io.ReaderAt, size int64) (Header, error) {
	if size == 0 {
		return Header{}, fmt.Errorf("%w: empty file", errs.ErrNotTensor)
	}
	page := pagePool.Get().(*[NPYDataOffset]byte)
	defer pagePool.Put(page)
	prefix := page[:min(size, NPYDataOffset)]
	if err := readFull(r, prefix, 0); err != nil {
		return Header{}, err
	}
	var (
		npyH, saH     Header
		npyErr, saErr error
	)
	hasNPY := isNPY(prefix)
	if hasNPY {
		whole := prefix
		if need := npyHeaderEnd(prefix); need > int64(len(prefix)) && need <= NPYMaxPrefix && need <= size {
			whole = append(prefix[:len(prefix):len(prefix)], make([]byte, need-int64(len(prefix)))...)
			if err := readFull(r, whole[NPYDataOffset:], NPYDataOffset); err != nil {
				return Header{}, err
			}
		}
		npyH, npyErr = ParseNPYHeader(whole, size)
		if npyErr == nil && unexplained(npyH, size) == 0 {
			// No trailer can win against an NPY header that explains
			// every byte (rule 3 of chooseLayout): skip reading it.
			return npyH, nil
		}
	}
	var tail []byte
	if size > int64(len(prefix)) {
		tail = make([]byte, min(size, saTrailerSizeNumpy2))
		if err := readFull(r, tail, size-int64(len(tail))); err != nil {
			return Header{}, err
		}
	} else {
		tail = prefix[len(prefix)-min(len(prefix), saTrailerSizeNumpy2):]
	}
	hasSA := isSATrailer(tail, size)
	if hasSA {
		saH, saErr = parseSATrailer(tail, size)
	}
	if IsSafetensors(prefix, size) {
		// A valid safetensors header explains every byte of the file (its
		// tensors tile the data), so it wins over a SharedArray trailer
		// that its last tensor's bytes happen to end with; an NPY header
		// that explained every byte has returned above.
		st, err := ReadSafetensors(r, size)
		if err == nil {
			return st.Header(), nil
		}
		if !hasNPY && !hasSA {
			return Header{}, err
		}
	}
	return chooseLayout(hasNPY, hasSA, npyH, saH, npyErr, saErr, size)
}

// HasMagic reports whether a file of size bytes starts with numpy's magic
// or holds SharedArray's where a 292- or 548-byte trailer would start,
// whether or not the header after it is valid.
func HasMagic(r io.ReaderAt, size int64) bool {
	var head [NPYMagicLen]byte
	if size >= NPYMagicLen && readFull(r, head[:], 0) == nil && isNPY(head[:]) {
		return true
	}
	for _, n := range []int64{SATrailerSize, saTrailerSizeNumpy2} {
		var m [SAMagicLen]byte
		if size >= n && readFull(r, m[:], size-n) == nil && hasSAMagic(m[:]) {
			return true
		}
	}
	return false
}

// npyHeaderEnd returns where the data of an .npy file starts according to
// the header length field in prefix, or 0 if prefix is too short to say.
// ParseNPYHeader validates the value; this only sizes the read.
func npyHeaderEnd(prefix []byte) int64 {
	if len(prefix) < 12 {
		return 0
	}
	if prefix[6] == 1 {
		return 10 + int64(binary.LittleEndian.Uint16(prefix[8:]))
	}
	return 12 + int64(binary.LittleEndian.Uint32(prefix[8:]))
}

// readFull fills p from offset off, failing on a short read: the file was
// truncated under us.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	switch {
	case n == len(p):
		return nil // io.ReaderAt may report io.EOF along with the last byte
	case err == nil, err == io.EOF:
		return fmt.Errorf("%w: truncated while reading", errs.ErrNotTensor)
	}
	return fmt.Errorf("read header: %w", err)
}
