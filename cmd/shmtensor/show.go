package main

import (
	"fmt"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/nprint"
)

var cmdShow = &Command{
	UsageLine: "show [--max N] [--any-owner] NAME [KEY]",
	Short:     "print a segment's contents like numpy",
	Long: `
Show prints the contents of the segment NAME as numpy's print(a) does. When
it has more than N elements (default 1000, numpy's threshold) the output is
summarised: three items at each end of each axis with "..." between.
--max 0 prints every element. The segment is opened read-only.

For a bundle (see "shmtensor help bundles"), show NAME KEY prints its
tensor KEY the same way; bfloat16 and the 8-bit floats, which numpy has
no dtype for, are decoded and printed as numpy prints float16: each value
with the fewest digits that tell it apart from the others of its type
(the float8_e4m3fn 448 prints as 450.0, as numpy prints float16's 65504
as 65500.0). A KEY the bundle lacks is an error naming some it holds.

A segment owned by another user than you and root is refused, since its
owner could truncate it while it is read; --any-owner shows it anyway.
`,
	MinArgs: 1,
	MaxArgs: 2,
}

var (
	showMax      = cmdShow.Flag.Int("max", nprint.DefaultThreshold, "summarise arrays with more than `N` elements; 0 prints all")
	showAnyOwner = cmdShow.Flag.Bool("any-owner", false, "show a segment owned by another user")
)

func init() { cmdShow.Run = runShow }

func runShow(_ *Command, args []string) error {
	if *showMax < 0 {
		return usagef("--max %d is negative (0 prints everything)", *showMax)
	}
	opts := []shmtensor.Option{shmtensor.ReadOnly()}
	if *showAnyOwner {
		opts = append(opts, shmtensor.AnyOwner())
	}
	seg, err := shmtensor.Open(args[0], opts...)
	if err != nil {
		return err
	}
	defer seg.Close()
	if seg.Layout() == shmtensor.Safetensors {
		seg.Close()
		return showBundle(args, opts)
	}
	if len(args) == 2 {
		return fmt.Errorf("%s is a tensor segment, not a bundle: \"shmtensor show %s\" prints it (a KEY names a tensor of a bundle)", seg.Name(), args[0])
	}
	_, err = fmt.Println(showString(seg, *showMax))
	return err
}

// showBundle prints the tensor args[1] of the bundle args[0].
func showBundle(args []string, opts []shmtensor.Option) error {
	b, err := shmtensor.AttachBundle(args[0], opts...)
	if err != nil {
		return err
	}
	defer b.Close()
	if len(args) < 2 {
		return needKeyError(b.Name(), bundleTensors(b), fmt.Sprintf("\"shmtensor show %s KEY\" prints its tensor KEY", args[0]))
	}
	t, err := lookupKey(b, args[1])
	if err != nil {
		return err
	}
	data, err := b.Bytes(t.Name)
	if err != nil {
		return err
	}
	o := nprint.Default()
	o.Threshold = *showMax
	_, err = fmt.Println(nprint.Format(tensorArray(t, data), o))
	return err
}

// showString formats the contents of seg as numpy prints it, summarised
// above threshold elements (0: never). The printer reads the raw bytes, so
// bool and float16 segments, which have no Go type, print too.
func showString(seg *shmtensor.Segment, threshold int) string {
	dt := seg.DType()
	strides := seg.Strides()
	for i := range strides {
		strides[i] *= dt.Size()
	}
	kind := dt.Descr()[1] // numpy's dtype.kind: '<f8' is 'f'
	o := nprint.Default()
	o.Threshold = threshold
	return nprint.Format(nprint.Bytes(kind, dt.Size(), seg.Shape(), strides, seg.Bytes()), o)
}
