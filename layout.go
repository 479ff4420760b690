package shmtensor

import (
	"strconv"
	"strings"

	"github.com/shmtensor/shmtensor/internal/strided"
)

// MaxDims is the largest number of dimensions a tensor may have. It is
// numpy 2's limit; numpy 1 and SharedArray stop at 32.
const MaxDims = 64

// The shape arithmetic in internal/strided has its own MaxDims; this fails
// to compile unless the two are equal.
var _ [0]struct{} = [MaxDims - strided.MaxDims]struct{}{}

// FormatShape formats shape as numpy prints one, a Python tuple: "()",
// "(5,)", "(3, 4)".
func FormatShape(shape []int) string { return pyTuple(shape) }

// pyBool is Python's repr of a bool.
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// pyTuple is Python's repr of a tuple of ints: "()", "(5,)", "(3, 4)".
// numpy writes shapes this way, and error messages use it too.
func pyTuple(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}
