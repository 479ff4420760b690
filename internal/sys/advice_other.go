//go:build !linux && !darwin && !freebsd

package sys

func ReservesThroughMapping(fd int) bool { return false }
func PopulateWrite(mem []byte) error     { return ErrNoPopulate }
func PopulateRange(mem []byte)           {}
