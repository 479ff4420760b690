package shmtensor

import (
	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/strided"
)

// MaxDims is the largest number of dimensions a tensor may have. It is
// numpy 2's limit; numpy 1 and SharedArray stop at 32.
const MaxDims = 64

// The shape arithmetic in internal/strided and the codecs have their own
// MaxDims; this fails to compile unless the three are equal.
var (
	_ [0]struct{} = [MaxDims - strided.MaxDims]struct{}{}
	_ [0]struct{} = [MaxDims - codec.MaxDims]struct{}{}
)

// FormatShape formats shape as numpy prints one, a Python tuple: "()",
// "(5,)", "(3, 4)".
func FormatShape(shape []int) string { return codec.Tuple(shape) }
