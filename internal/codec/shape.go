package codec

import "github.com/shmtensor/shmtensor/internal/strided"

// MaxDims is the most dimensions a header may record: strided.MaxDims,
// numpy 2's limit.
const MaxDims = strided.MaxDims
