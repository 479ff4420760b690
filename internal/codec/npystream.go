package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// ReadNPYStream reads the header of a .npy stream, exactly up to the first
// data byte, and validates it as ParseNPYHeader does. A stream has no size
// to check the data against: the caller reads the data and reports a short
// stream.
func ReadNPYStream(r io.Reader) (Header, error) {
	// Magic and version first; they say how long the length field is.
	buf := make([]byte, len(NPYMagic)+2, 128)
	if err := readHeaderBytes(r, buf, 0); err != nil {
		return Header{}, err
	}
	lenSize := 4
	if buf[6] == 1 {
		lenSize = 2
	}
	if !isNPY(buf) || buf[7] != 0 || buf[6] < 1 || buf[6] > 3 {
		// ParseNPYHeader says which of magic and version is wrong.
		_, err := ParseNPYHeader(buf, int64(len(buf)))
		return Header{}, err
	}
	buf = buf[:len(buf)+lenSize]
	if err := readHeaderBytes(r, buf, len(NPYMagic)+2); err != nil {
		return Header{}, err
	}
	end := int64(len(buf)) + int64(binary.LittleEndian.Uint16(buf[8:]))
	if lenSize == 4 {
		end = int64(len(buf)) + int64(binary.LittleEndian.Uint32(buf[8:]))
	}
	if end > NPYMaxPrefix {
		_, err := ParseNPYHeader(buf, math.MaxInt64)
		return Header{}, err
	}
	buf = append(buf, make([]byte, end-int64(len(buf)))...)
	if err := readHeaderBytes(r, buf, len(NPYMagic)+2+lenSize); err != nil {
		return Header{}, err
	}
	return ParseNPYHeader(buf, math.MaxInt64)
}

// readHeaderBytes fills buf[from:] from r; a stream ending first is a
// truncated header.
func readHeaderBytes(r io.Reader, buf []byte, from int) error {
	got, err := io.ReadFull(r, buf[from:])
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if from+got == 0 {
			return fmt.Errorf("%w: empty stream: %w", errs.ErrNotTensor, io.ErrUnexpectedEOF)
		}
		if m := min(from+got, len(NPYMagic)); string(buf[:m]) != NPYMagic[:m] {
			_, err := ParseNPYHeader(buf[:m], int64(m)) // bad magic, said once
			return err
		}
		return fmt.Errorf("%w: npy header: truncated: stream ended after %d bytes, the header needs %d: %w",
			errs.ErrNotTensor, from+got, len(buf), io.ErrUnexpectedEOF)
	case err != nil:
		return fmt.Errorf("read header: %w", err)
	}
	return nil
}
