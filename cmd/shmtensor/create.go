package main

import (
	"fmt"
	"io/fs"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

var cmdCreate = &Command{
	UsageLine: "create [--mode 0600] [--lazy] [--sharedarray] NAME DTYPE [DIM...]",
	Short:     "create a zero-filled segment",
	Long: `
Create makes the segment NAME holding a zero-filled array of DTYPE with the
given dimensions (none: a 0-d scalar). It fails if NAME exists.

DTYPE is a numpy name (bool, int8, int16, int32, int64, uint8, uint16,
uint32, uint64, float16, float32, float64, complex64, complex128), one of
numpy's common aliases as numpy on this machine reads them (int, int_, uint,
float, float_, double, complex), or a .npy descriptor such as <f8 or |u1.
Big-endian descriptors (>f8) are not supported.

The segment is a .npy file unless --sharedarray is given. It prints the
size of the data and of the whole segment. For example:

	shmtensor create --mode 0640 weights float32 1024 768
`,
	MinArgs: 2,
	MaxArgs: manyArgs,
}

var createFlags = creationFlags{mode: 0o600}

func init() {
	cmdCreate.Run = runCreate
	createFlags.register(cmdCreate, true)
}

// modeFlag is an octal permission flag such as 0640.
type modeFlag fs.FileMode

func (m *modeFlag) String() string { return fmt.Sprintf("%04o", uint32(*m)) }

func (m *modeFlag) Set(s string) error {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return fmt.Errorf("want octal permission bits such as 0640, got %q", s)
	}
	if v > 0o777 {
		return fmt.Errorf("%q sets bits other than the permission bits 0777 (setuid, setgid or sticky): a segment is a file of data, they do not apply to it", s)
	}
	*m = modeFlag(v)
	return nil
}

// creationFlags are the options of create and import.
type creationFlags struct {
	mode        modeFlag
	lazy        bool
	sharedArray bool
}

func (f *creationFlags) register(c *Command, lazy bool) {
	c.Flag.Var(&f.mode, "mode", "permission bits of the new segment, in `octal`")
	if lazy {
		c.Flag.BoolVar(&f.lazy, "lazy", false, "do not reserve the pages now (faster, but a full /dev/shm faults later)")
	}
	c.Flag.BoolVar(&f.sharedArray, "sharedarray", false, "write Python SharedArray's layout instead of .npy")
}

func (f *creationFlags) options() []shmtensor.Option {
	opts := []shmtensor.Option{shmtensor.Mode(fs.FileMode(f.mode))}
	if f.lazy {
		opts = append(opts, shmtensor.Lazy())
	}
	if f.sharedArray {
		opts = append(opts, shmtensor.SharedArrayLayout())
	}
	return opts
}

func runCreate(_ *Command, args []string) error {
	name := args[0]
	dt, err := parseDType(args[1])
	if err != nil {
		return err
	}
	shape, err := parseDims(args[2:])
	if err != nil {
		return err
	}
	if err := checkSize(dt, shape); err != nil {
		return err
	}
	seg, err := shmtensor.CreateSegment(name, dt, shape, createFlags.options()...)
	if err != nil {
		return err
	}
	defer seg.Close()
	fmt.Printf("created %s: %s %s, data %s, segment %s\n", seg.Name(), dt, shmtensor.FormatShape(shape),
		units.Bytes(int64(len(seg.Bytes()))), units.Bytes(int64(seg.Size())))
	return nil
}

// dtypeNames lists the element types in the order of the API.
var dtypeNames = func() []string {
	var names []string
	for d := shmtensor.Bool; d <= shmtensor.Complex128; d++ {
		names = append(names, d.String())
	}
	return names
}()

// parseDType parses a dtype argument; its errors are usage errors.
func parseDType(s string) (shmtensor.DType, error) {
	dt, err := shmtensor.ParseDType(s)
	if err == nil {
		return dt, nil
	}
	if le, ok := strings.CutPrefix(s, ">"); ok {
		if _, err := shmtensor.ParseDType("<" + le); err == nil {
			return 0, usagef("big-endian dtype %q is not supported; use %q, the little-endian one", s, "<"+le)
		}
	}
	return 0, usagef("unknown dtype %q (want one of: %s; or a descriptor such as <f8)", s, strings.Join(dtypeNames, " "))
}

// parseDims parses dimension arguments; its errors are usage errors.
func parseDims(args []string) ([]int, error) {
	shape := make([]int, 0, len(args))
	for _, a := range args {
		d, err := strconv.Atoi(a)
		switch {
		case err != nil && strings.Trim(a, "-0123456789") == "" && a != "" && a != "-":
			return nil, usagef("dimension %s is too large (at most %d)", a, math.MaxInt)
		case err != nil:
			return nil, usagef("dimension %q is not an integer", a)
		case d < 0:
			return nil, usagef("dimension %d is negative", d)
		}
		shape = append(shape, d)
	}
	if len(shape) > shmtensor.MaxDims {
		return nil, usagef("%d dimensions, at most %d allowed (numpy's limit)", len(shape), shmtensor.MaxDims)
	}
	return shape, nil
}

// headerRoom is what a segment needs besides its data: the .npy header,
// or SharedArray's trailer and padding, each at most a page of 4096 bytes
// but counted generously.
const headerRoom = 1 << 16

// checkSize checks that a tensor of dt and shape can exist at all, and
// says which limit it exceeds if not: the count of elements numpy and Go
// allow, or the size of a file. Its errors are usage errors.
func checkSize(dt shmtensor.DType, shape []int) error {
	// The product of the non-zero dimensions must fit an int, as numpy
	// requires even when a zero dimension makes the array empty.
	n := big.NewInt(1)
	empty := false
	for _, d := range shape {
		if d == 0 {
			empty = true
			continue
		}
		n.Mul(n, big.NewInt(int64(d)))
	}
	maxInt := big.NewInt(math.MaxInt)
	if n.Cmp(maxInt) > 0 {
		return usagef("shape %s has %s elements (not counting zero dimensions), more than %d, the most numpy and Go can count",
			shmtensor.FormatShape(shape), n, maxInt)
	}
	data := new(big.Int).Mul(n, big.NewInt(int64(dt.Size())))
	if empty {
		data.SetInt64(0)
	}
	if data.Cmp(big.NewInt(math.MaxInt-headerRoom)) > 0 {
		return usagef("data size of %s %s is %s bytes, more than a segment can hold with its header (%d bytes)",
			dt, shmtensor.FormatShape(shape), data, maxInt)
	}
	return nil
}
