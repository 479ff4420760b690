//go:build !linux && !darwin && !freebsd

package sys

import "github.com/shmtensor/shmtensor/internal/errs"

func ScanMappers(want *ID) (map[ID][]int, error)         { return nil, errs.ErrNotSupported }
func HugeBytes(mem []byte) (int64, error)                { return 0, errs.ErrNotSupported }
func ScanOpeners(want map[ID]bool) (map[ID][]int, error) { return nil, errs.ErrNotSupported }
