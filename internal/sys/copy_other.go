//go:build !linux && !darwin && !freebsd

package sys

import "io"

func SendData(w io.Writer, fd int, off int64, data []byte, split Split) (int64, bool, error) {
	return 0, false, nil
}
func ReceiveData(r io.Reader, fd int, off int64, data []byte, split Split) (int64, bool, error) {
	return 0, false, nil
}
