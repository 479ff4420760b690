package main

import (
	"fmt"

	"github.com/shmtensor/shmtensor"
)

var showCmd = &command{
	name:     "show",
	synopsis: "[--max N] NAME",
	summary:  "print a segment's contents like numpy",
	help: `
Prints the contents of the segment NAME as numpy's print(a) does. When it
has more than N elements (default 1000, numpy's threshold) the output is
summarised: three items at each end of each axis with "..." between.
--max 0 prints every element. The segment is opened read-only.`,
}

func init() { showCmd.run = runShow }

func runShow(args []string) int {
	c := showCmd
	fs := c.flagSet()
	maxElems := fs.Int("max", defaultPrintOptions.threshold, "summarise arrays with more than `N` elements; 0 prints all")
	if ok, code := c.parse(fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() == 0:
		return c.usageErr(fs, "missing NAME")
	case fs.NArg() > 1:
		return c.usageErr(fs, "one NAME at a time (got %d)", fs.NArg())
	case *maxElems < 0:
		return c.usageErr(fs, "--max %d is negative (0 prints everything)", *maxElems)
	}
	seg, err := shmtensor.Open(fs.Arg(0), shmtensor.ReadOnly())
	if err != nil {
		return c.fail(err)
	}
	defer seg.Close()
	if _, err := fmt.Fprintln(stdout, showString(seg, *maxElems)); err != nil {
		return c.fail(err)
	}
	return 0
}

// showString formats the contents of seg like numpy, summarised above
// threshold elements (0: never). Numeric segments at numpy's threshold
// print with the package's Tensor.String; bool and float16 (no Go type)
// and other thresholds use this command's byte-level printer, which
// follows the same rules (both are tested against numpy).
func showString(seg *shmtensor.Segment, threshold int) string {
	if threshold == defaultPrintOptions.threshold {
		if s, ok := tensorString(seg); ok {
			return s
		}
	}
	o := defaultPrintOptions
	o.threshold = threshold
	return formatArray(segmentArray(seg), o)
}

// tensorString returns the String of a typed view of seg, if its element
// type has a Go type.
func tensorString(seg *shmtensor.Segment) (string, bool) {
	switch seg.DType() {
	case shmtensor.Int8:
		return viewString[int8](seg)
	case shmtensor.Int16:
		return viewString[int16](seg)
	case shmtensor.Int32:
		return viewString[int32](seg)
	case shmtensor.Int64:
		return viewString[int64](seg)
	case shmtensor.Uint8:
		return viewString[uint8](seg)
	case shmtensor.Uint16:
		return viewString[uint16](seg)
	case shmtensor.Uint32:
		return viewString[uint32](seg)
	case shmtensor.Uint64:
		return viewString[uint64](seg)
	case shmtensor.Float32:
		return viewString[float32](seg)
	case shmtensor.Float64:
		return viewString[float64](seg)
	case shmtensor.Complex64:
		return viewString[complex64](seg)
	case shmtensor.Complex128:
		return viewString[complex128](seg)
	}
	return "", false
}

func viewString[T shmtensor.Number](seg *shmtensor.Segment) (string, bool) {
	t, err := shmtensor.View[T](seg)
	if err != nil {
		return "", false
	}
	return t.String(), true
}

// segmentArray describes the data of an open segment as a rawArray.
func segmentArray(seg *shmtensor.Segment) rawArray {
	dt := seg.DType()
	shape := seg.Shape()
	strides := seg.Strides()
	for i := range strides {
		strides[i] *= dt.Size()
	}
	return rawArray{dtype: dt, shape: shape, strides: strides, data: seg.Bytes()}
}
