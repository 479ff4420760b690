//go:build darwin || freebsd

package sys

import "io"

// SendData and ReceiveData decline here (handled is false): the callers
// write from the mapping and read into it.
func SendData(w io.Writer, fd int, off int64, data []byte, split Split) (int64, bool, error) {
	return 0, false, nil
}
func ReceiveData(r io.Reader, fd int, off int64, data []byte, split Split) (int64, bool, error) {
	return 0, false, nil
}
