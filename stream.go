package shmtensor

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/strided"
	"github.com/shmtensor/shmtensor/internal/sys"
)

// WriteTo writes the segment to w as a standard .npy file, numpy's
// np.save format: a version 1.0 header padded, as numpy pads it, so that
// the data starts at a multiple of 64 bytes, then the data as stored. A
// Fortran-order segment stays Fortran order; a SharedArray segment is
// written as .npy like any other. WriteTo implements io.WriterTo and
// returns the number of bytes written.
//
// The data is written straight from the mapping, so writes by other
// processes during WriteTo may or may not be in the output. When w is a
// regular *os.File, the kernel copies the data between the two files
// (copy_file_range, or sendfile across filesystems), at the speed of cp. A closed
// segment fails with ErrClosed.
func (s *Segment) WriteTo(w io.Writer) (int64, error) {
	const op = "write"
	if s.closed.Load() {
		return 0, &Error{Op: op, Name: s.name, Err: ErrClosed}
	}
	n, err := w.Write(codec.EncodeNPYHeader(s.hdr, codec.NPYStreamAlign))
	total := int64(n)
	if err != nil {
		return total, &Error{Op: op, Name: s.name, Err: err}
	}
	data := s.Bytes()
	k, handled, err := sys.SendData(w, s.fd, s.hdr.DataOff, data, splitParts)
	if !handled {
		n, err = w.Write(data)
		k = int64(n)
	}
	total += k
	if err == nil && k < int64(len(data)) {
		// The file shrank under the mapping: another process truncated it.
		err = fmt.Errorf("%w: the segment's file ended after %d of %d bytes of data", io.ErrUnexpectedEOF, k, len(data))
	}
	if err != nil {
		return total, &Error{Op: op, Name: s.name, Err: err}
	}
	return total, nil
}

// Import makes a new segment under name from the .npy stream r, such as a
// file written by numpy's np.save, and returns it mapped as Create would.
// It reads any valid .npy: versions 1.0, 2.0 and 3.0, any header length up
// to 64 KiB, C or Fortran order (a Fortran-order stream gives a
// Fortran-order segment), with a little-endian or byte-order-free element
// type, including bool and float16. The options are Create's: ReadOnly,
// Mode, Lazy, SharedArrayLayout. The SharedArray layout records no order,
// so a Fortran-order stream whose layout differs from C order is refused
// there with ErrNotContiguous.
//
// Import reads the header, creates the segment exclusively (ErrExist if the
// name is taken, before any data is read), and reads the data straight into
// the mapping, or, when r is a regular *os.File, has the kernel copy it
// from file to file (copy_file_range or sendfile), at the speed of cp. It reads exactly the header and the data and nothing beyond:
// bytes after the data stay in r, so several arrays written one after the
// other to one stream (np.save called repeatedly on one file) are imported
// by calling Import once for each, as np.load reads them.
//
// Like Create, Import is atomic: the segment gets its name only once its
// data is complete. A stream that is not .npy, has a corrupt header or ends
// early fails with ErrNotTensor (a short stream also matches
// io.ErrUnexpectedEOF), an element type this package cannot hold with
// ErrDType, and an error from r is returned as it is; in every case nothing
// is left under the name. (On Linux and for file:// names the segment is
// built unnamed or under a temporary name and linked into place when
// complete; a FreeBSD or macOS shm object is named from the start, without
// the header's magic until complete, and is unlinked on failure.)
func Import(name string, r io.Reader, opts ...Option) (*Segment, error) {
	const op = "import"
	n, err := parseName(name)
	if err != nil {
		return nil, &Error{Op: op, Name: name, Err: err}
	}
	h, err := codec.ReadNPYStream(r)
	if err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	return newSegment(op, name, DType(h.DType), h.Shape, h.Fortran, opts, func(fd int, off int64, data []byte) error {
		k, handled, err := sys.ReceiveData(r, fd, off, data, splitParts)
		got := int(k)
		if handled && err == nil && got < len(data) {
			err = io.ErrUnexpectedEOF
		}
		if !handled {
			// Faulting the pages in first with one call beats taking a
			// write fault for every 4 KiB that read(2) fills.
			sys.PopulateRange(data)
			got, err = io.ReadFull(r, data)
		}
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%w: truncated: stream ended after %d of the %d bytes of data of %s %v: %w",
				ErrNotTensor, got, len(data), FormatShape(h.Shape), h.DType, io.ErrUnexpectedEOF)
		case err != nil:
			return fmt.Errorf("read data: %w", err)
		}
		return nil
	})
}

// splitParts splits the blocks of a kernel copy of size bytes over
// goroutines, as the other bulk operations split their work.
func splitParts(size int64, blocks int, f func(a, b int)) {
	strided.ParallelFor(blocks, strided.Workers(int(min(size, int64(math.MaxInt)))), 1, f)
}
