package floor

import (
	"bufio"
	"io"
)

// Echo writes back to w every byte it reads from r, each as soon as it is
// read, until r ends: the other end of a pipe round trip.
func Echo(r io.Reader, w io.Writer) error {
	br := bufio.NewReader(r)
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := w.Write([]byte{c}); err != nil {
			return err
		}
	}
}
