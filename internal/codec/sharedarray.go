package codec

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/shmtensor/shmtensor/internal/errs"
	"github.com/shmtensor/shmtensor/internal/strided"
)

// SATrailerSize and the constants after it describe the trailer of Python's
// SharedArray 3.x, packed, at the end of the segment: magic (16 bytes, NUL-padded), uint64 data size, int32 numpy type
// number, int32 item size, int32 ndims, then the dims as int64s. Builds
// against numpy 1 have 32 dim slots (292 bytes); builds against numpy 2 may
// have 64 (548 bytes).
const (
	SATrailerSize       = 292
	saTrailerSizeNumpy2 = 548
	saMagic             = "[SharedArray]"

	saMaxDims       = 32 // dim slots of the 292-byte trailer
	saMaxDimsNumpy2 = 64 // dim slots of the 548-byte trailer

	saOffSize     = 16
	saOffTypeNum  = 24
	saOffItemSize = 28
	saOffNDims    = 32
	saOffDims     = 36
)

// EncodeSATrailer returns the 292-byte trailer SharedArray 3.2.3 writes for
// the array h describes: the segment is the data followed by it. h comes
// from NewHeader, which has checked the shape against the layout's limits.
func EncodeSATrailer(h Header) []byte {
	t := make([]byte, SATrailerSize)
	copy(t, saMagic) // the rest of the 16 bytes stay NUL
	le := binary.LittleEndian
	le.PutUint64(t[saOffSize:], uint64(h.DataLen))
	le.PutUint32(t[saOffTypeNum:], uint32(h.DType.typeNum()))
	le.PutUint32(t[saOffItemSize:], uint32(h.DType.Size()))
	le.PutUint32(t[saOffNDims:], uint32(len(h.Shape)))
	for i, d := range h.Shape {
		le.PutUint64(t[saOffDims+8*i:], uint64(d))
	}
	return t
}

// saErr returns an errs.ErrNotTensor error about a SharedArray trailer.
func saErr(format string, args ...any) error {
	return fmt.Errorf("%w: sharedarray trailer: "+format, append([]any{errs.ErrNotTensor}, args...)...)
}

// hasSAMagic reports whether t starts with SharedArray's magic. SharedArray
// compares it with strncmp, so the bytes after the terminating NUL are not
// significant.
func hasSAMagic(t []byte) bool {
	return len(t) > len(saMagic) && string(t[:len(saMagic)]) == saMagic && t[len(saMagic)] == 0
}

// saTrailerAt returns the trailer of size bytes ending tail, if tail is long
// enough and it starts with the magic.
func saTrailerAt(tail []byte, size int) ([]byte, bool) {
	if len(tail) < size {
		return nil, false
	}
	t := tail[len(tail)-size:]
	return t, hasSAMagic(t)
}

// isSATrailer reports whether tail, the last min(fileSize, 548) bytes of a
// file, holds a SharedArray magic where a trailer would start, without
// validating the fields.
func isSATrailer(tail []byte, fileSize int64) bool {
	if fileSize < 0 || int64(len(tail)) > fileSize {
		return false
	}
	_, ok := saTrailerAt(tail, SATrailerSize)
	if !ok {
		_, ok = saTrailerAt(tail, saTrailerSizeNumpy2)
	}
	return ok
}

// parseSATrailer reads the SharedArray trailer of a file of fileSize bytes
// from tail, the file's last min(fileSize, 548) bytes. It looks for the
// magic at fileSize-292, then at fileSize-548 (numpy-2 builds), and checks
// every field, since SharedArray itself checks only the magic: the type
// number (unknown ones give errs.ErrDType), the item size, the number of
// dimensions, each dimension, and the data size against the shape and the
// file size. The data may end before the trailer (shm sizes can be rounded
// up to a page). Failures other than the element type wrap errs.ErrNotTensor.
func parseSATrailer(tail []byte, fileSize int64) (Header, error) {
	if fileSize < 0 {
		return Header{}, saErr("negative file size %d", fileSize)
	}
	if int64(len(tail)) > fileSize {
		return Header{}, saErr("%d bytes of tail given for a file of %d bytes", len(tail), fileSize)
	}
	if fileSize < SATrailerSize {
		return Header{}, saErr("file of %d bytes is shorter than the %d-byte trailer", fileSize, SATrailerSize)
	}
	if len(tail) < SATrailerSize {
		return Header{}, saErr("only the last %d bytes of the file were read, the trailer has %d", len(tail), SATrailerSize)
	}
	t, ok := saTrailerAt(tail, SATrailerSize)
	maxDims := saMaxDims
	if !ok {
		t, ok = saTrailerAt(tail, saTrailerSizeNumpy2)
		maxDims = saMaxDimsNumpy2
	}
	if !ok {
		return Header{}, saErr("no %q magic at file_size-%d or file_size-%d", saMagic, SATrailerSize, saTrailerSizeNumpy2)
	}

	le := binary.LittleEndian
	size := le.Uint64(t[saOffSize:])
	typeNum := int32(le.Uint32(t[saOffTypeNum:]))
	itemSize := int32(le.Uint32(t[saOffItemSize:]))
	ndims := int32(le.Uint32(t[saOffNDims:]))

	dt, ok := dtypeFromTypeNum(typeNum)
	if !ok {
		return Header{}, fmt.Errorf("%w: sharedarray trailer: unsupported numpy type number %d", errs.ErrDType, typeNum)
	}
	if int(itemSize) != dt.Size() {
		return Header{}, saErr("item size %d does not match type number %d (%v, %d bytes)", itemSize, typeNum, dt, dt.Size())
	}
	if ndims < 0 || int(ndims) > maxDims {
		return Header{}, saErr("%d dimensions, a %d-byte trailer holds 0 to %d", ndims, len(t), maxDims)
	}
	shape := make([]int, ndims)
	for i := range shape {
		d := int64(le.Uint64(t[saOffDims+8*i:]))
		if d < 0 {
			return Header{}, saErr("dimension %d is negative: %d", i, d)
		}
		if d > math.MaxInt {
			return Header{}, saErr("dimension %d is too large: %d", i, d)
		}
		shape[i] = int(d)
	}
	dataLen, err := strided.ByteSize(shape, dt.Size())
	if err != nil {
		return Header{}, saErr("%s", tooBig(shape, dt))
	}
	if size != uint64(dataLen) {
		return Header{}, saErr("data size field says %d bytes, shape %s of %v needs %d", size, Tuple(shape), dt, dataLen)
	}
	if room := fileSize - int64(len(t)); dataLen > room {
		return Header{}, saErr("shape %s of %v needs %d bytes of data before the trailer, file has %d",
			Tuple(shape), dt, dataLen, room)
	}
	return Header{
		Layout:  SharedArray,
		DType:   dt,
		Shape:   shape,
		DataOff: 0,
		DataLen: dataLen,
		Trailer: int64(len(t)),
	}, nil
}
