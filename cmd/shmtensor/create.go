package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

var createCmd = &command{
	name:     "create",
	synopsis: "[--mode 0600] [--lazy] [--sharedarray] NAME DTYPE [DIM...]",
	summary:  "create a zero-filled segment",
	help: `
Creates the segment NAME holding a zero-filled array of DTYPE with the
given dimensions (none: a 0-d scalar). DTYPE is a numpy name (int8 ...
complex128) or a .npy descriptor ("<f8", "|u1"). The segment is a .npy
file unless --sharedarray is given. It fails if NAME exists.

Example: shmtensor create --mode 0640 weights float32 1024 768`,
}

var rmCmd = &command{
	name:     "rm",
	synopsis: "NAME...",
	summary:  "delete segments (only tensor segments)",
	help: `
Deletes each named segment. Anything that is not a tensor segment (another
program's shared memory, a corrupt file) is refused and left alone. Every
name is tried; the exit status is 1 if any of them failed. Processes that
have a segment mapped keep using it until they close it.`,
}

func init() {
	createCmd.run = runCreate
	rmCmd.run = runRm
}

// modeFlag is an octal permission flag such as 0640.
type modeFlag fs.FileMode

func (m *modeFlag) String() string { return fmt.Sprintf("%04o", uint32(*m)) }

func (m *modeFlag) Set(s string) error {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o777 {
		return fmt.Errorf("want octal permission bits such as 0640, got %q", s)
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

func (f *creationFlags) register(fs *flag.FlagSet, lazy bool) {
	f.mode = 0o600
	fs.Var(&f.mode, "mode", "permission bits of the new segment, in `octal`")
	if lazy {
		fs.BoolVar(&f.lazy, "lazy", false, "do not reserve the pages now (faster, but a full /dev/shm faults later)")
	}
	fs.BoolVar(&f.sharedArray, "sharedarray", false, "write Python SharedArray's layout instead of .npy")
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

func runCreate(args []string) int {
	c := createCmd
	fs := c.flagSet()
	var cf creationFlags
	cf.register(fs, true)
	if ok, code := c.parse(fs, args); !ok {
		return code
	}
	switch fs.NArg() {
	case 0:
		return c.usageErr(fs, "missing NAME and DTYPE")
	case 1:
		return c.usageErr(fs, "missing DTYPE after %q", fs.Arg(0))
	}
	name := fs.Arg(0)
	dt, err := parseDType(fs.Arg(1))
	if err != nil {
		return c.usageErr(fs, "%v", err)
	}
	shape, err := parseDims(fs.Args()[2:])
	if err != nil {
		return c.usageErr(fs, "%v", err)
	}
	seg, err := createSegment(name, dt, shape, cf.options()...)
	if err != nil {
		return c.fail(err)
	}
	defer seg.Close()
	fmt.Fprintf(stdout, "created %s %s %s (%s)\n", seg.Name(), dt, shmtensor.FormatShape(shape), units.Bytes(int64(seg.Size())))
	return 0
}

// dtypeNames lists the element types in the order of the API.
var dtypeNames = func() []string {
	var names []string
	for d := shmtensor.Bool; d <= shmtensor.Complex128; d++ {
		names = append(names, d.String())
	}
	return names
}()

func parseDType(s string) (shmtensor.DType, error) {
	dt, err := shmtensor.ParseDType(s)
	if err != nil {
		return 0, fmt.Errorf("unknown dtype %q (want one of: %s; or a descriptor such as <f8)", s, strings.Join(dtypeNames, " "))
	}
	return dt, nil
}

func parseDims(args []string) ([]int, error) {
	shape := make([]int, 0, len(args))
	for _, a := range args {
		d, err := strconv.Atoi(a)
		switch {
		case err != nil:
			return nil, fmt.Errorf("dimension %q is not an integer", a)
		case d < 0:
			return nil, fmt.Errorf("dimension %d is negative", d)
		}
		shape = append(shape, d)
	}
	if len(shape) > shmtensor.MaxDims {
		return nil, fmt.Errorf("%d dimensions, at most %d allowed", len(shape), shmtensor.MaxDims)
	}
	return shape, nil
}

// createSegment creates a zeroed segment of element type dt, bool and
// float16 included, and returns it as an untyped Segment.
func createSegment(name string, dt shmtensor.DType, shape []int, opts ...shmtensor.Option) (*shmtensor.Segment, error) {
	return shmtensor.CreateSegment(name, dt, shape, opts...)
}

func runRm(args []string) int {
	c := rmCmd
	fs := c.flagSet()
	if ok, code := c.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return c.usageErr(fs, "missing NAME")
	}
	status := 0
	for _, name := range fs.Args() {
		if err := shmtensor.Delete(name); err != nil {
			if errors.Is(err, shmtensor.ErrNotTensor) {
				err = fmt.Errorf("%w; refusing to remove it", err)
			}
			c.warn(err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "removed %s\n", canonical(name))
	}
	return status
}

// canonical adds the shm:// scheme to a bare name.
func canonical(name string) string {
	if strings.Contains(name, "://") {
		return name
	}
	return "shm://" + name
}
