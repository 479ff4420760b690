package codec

import (
	"fmt"
	"math"

	"github.com/shmtensor/shmtensor/internal/strided"
)

// MaxDims is the most dimensions a header may record: strided.MaxDims,
// numpy 2's limit.
const MaxDims = strided.MaxDims

// tooBig says why strided.ByteSize refused a header's shape, in numpy's
// terms: numpy refuses the same shapes ("array is too big"), empty ones
// included, since their strides in bytes would overflow.
func tooBig(shape []int, dt DType) string {
	if _, ok := strided.NumElements(shape); !ok {
		return fmt.Sprintf("shape %s overflows", Tuple(shape))
	}
	return fmt.Sprintf("shape %s of %v is too big: its %d-byte items times its non-zero dimensions exceed %d bytes (numpy: array is too big)",
		Tuple(shape), dt, dt.Size(), math.MaxInt)
}
