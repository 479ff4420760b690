package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/nprint"
)

// What list, info, show, import, export, rm, gc and serve share about
// bundles: segments of many named tensors (see "shmtensor help bundles").

// keysShown is how many tensor names an error about a missing key lists.
const keysShown = 5

// keyList names a few of the tensors ts, in the order of their data:
// `"a", "b" and "c"`, or `"a", "b", "c", "d", "e" and 12 more`.
func keyList(ts []shmtensor.BundleTensor) string {
	if len(ts) == 0 {
		return "no tensors"
	}
	var q []string
	for i, t := range ts {
		if i == keysShown {
			break
		}
		q = append(q, fmt.Sprintf("%q", t.Name))
	}
	if more := len(ts) - len(q); more > 0 {
		return strings.Join(q, ", ") + fmt.Sprintf(" and %d more", more)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// bundleTensors returns the tensors of b in the order of their data.
func bundleTensors(b *shmtensor.Bundle) []shmtensor.BundleTensor {
	return slices.Collect(b.Tensors())
}

// lookupKey returns the tensor key of the bundle b, or an error naming the
// key and some of those it holds.
func lookupKey(b *shmtensor.Bundle, key string) (shmtensor.BundleTensor, error) {
	t, ok := b.Lookup(key)
	if !ok {
		return t, noKeyError(b.Name(), key, bundleTensors(b))
	}
	return t, nil
}

func noKeyError(name, key string, ts []shmtensor.BundleTensor) error {
	return fmt.Errorf("bundle %s has no tensor %q; it holds %s (\"shmtensor info %s\" lists them)",
		name, key, keyList(ts), strings.TrimPrefix(name, "shm://"))
}

// needKeyError is the error of a command given a bundle where it wants one
// tensor: it says how to name one.
func needKeyError(name string, ts []shmtensor.BundleTensor, usage string) error {
	return fmt.Errorf("%s is a bundle of %s, not one tensor: %s (it holds %s)",
		name, tensorsText(len(ts)), usage, keyList(ts))
}

// tensorsText is "1 tensor", "12 tensors".
func tensorsText(n int) string {
	if n == 1 {
		return "1 tensor"
	}
	return fmt.Sprintf("%d tensors", n)
}

// bundleDTypes lists the element types of ts, each once, in the order of
// their data (by decreasing element size in a bundle this package made):
// "float32,int64".
func bundleDTypes(ts []shmtensor.BundleTensor) string {
	var seen []string
	for _, t := range ts {
		if s := t.DType.String(); !slices.Contains(seen, s) {
			seen = append(seen, s)
		}
	}
	if len(seen) == 0 {
		return "-"
	}
	return strings.Join(seen, ",")
}

// tensorArray describes, for the printer, the tensor t of a bundle whose
// bytes are data: C order, little-endian, of any element type of a bundle
// (bfloat16 and the 8-bit floats decoded to their values).
func tensorArray(t shmtensor.BundleTensor, data []byte) nprint.Array {
	if a, ok := nprint.NarrowBytes(t.DType.String(), t.Shape, data); ok {
		return a
	}
	size := t.DType.Size()
	strides := make([]int, len(t.Shape))
	s := size
	for k := len(t.Shape) - 1; k >= 0; k-- {
		strides[k] = s
		s *= t.Shape[k]
	}
	return nprint.Bytes(t.DType.Descr()[1], size, t.Shape, strides, data)
}

// npyHeaderOf returns the .npy header (version 1.0, the data at a multiple
// of 64 bytes, as numpy.save writes it) of a C-order array of dt and
// shape, or an error for the element types numpy has none for.
func npyHeaderOf(dt shmtensor.DType, shape []int) ([]byte, error) {
	if dt.Descr() == "" {
		return nil, fmt.Errorf("numpy has no %v, so a .npy file cannot hold it", dt)
	}
	h, err := codec.NewHeader(codec.NPY, codec.DType(dt), shape, false)
	if err != nil {
		return nil, err
	}
	return codec.EncodeNPYHeader(h, codec.NPYStreamAlign), nil
}
