package main

import (
	"fmt"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/nprint"
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
	maxElems := fs.Int("max", nprint.DefaultThreshold, "summarise arrays with more than `N` elements; 0 prints all")
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
// threshold elements (0: never).
func showString(seg *shmtensor.Segment, threshold int) string {
	return formatArray(segmentArray(seg), threshold)
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
