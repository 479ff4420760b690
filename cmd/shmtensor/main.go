// Command shmtensor lists, inspects, creates, prints, imports, exports and
// deletes tensors in POSIX shared memory, the way ipcs and ls /dev/shm are
// used, but aware of element types and shapes. Its segments are the ones the
// shmtensor Go package makes: NumPy .npy files in /dev/shm (numpy.load opens
// them directly) or Python SharedArray's layout.
//
// Usage:
//
//	shmtensor COMMAND [OPTIONS] [ARGUMENTS]
//
// Options come before the arguments; both -opt and --opt are accepted, and
// -h on any command prints its usage. A NAME is a shared memory name ("x" or
// "shm://x", the file /dev/shm/x on Linux) or "file://PATH" for a regular
// file holding a tensor.
//
// The commands:
//
//	list [--json]
//	    Every tensor segment in shared memory: name, dtype, shape, size,
//	    layout, mode, owner and modification time, in aligned columns.
//	    Files that are not tensor segments are skipped. Where the system
//	    cannot enumerate shared memory (macOS, FreeBSD) it says so and
//	    exits 1; use info with a known name there.
//
//	info [--json] NAME
//	    The same for one segment, plus element type size, strides (in
//	    elements, and numpy's byte strides), data offset and memory order.
//
//	create [--mode 0600] [--lazy] [--sharedarray] NAME DTYPE [DIM...]
//	    A new zero-filled segment. DTYPE is a numpy name (float64, int32,
//	    ...) or descriptor (<f8, |u1, ...); no DIM gives a 0-d scalar.
//	    --mode sets the permission bits exactly (octal), --lazy does not
//	    reserve the pages up front, --sharedarray writes Python
//	    SharedArray's layout instead of .npy. bool and float16 segments
//	    can be created too, for numpy to fill.
//
//	rm NAME...
//	    Deletes segments. Anything that is not a tensor segment is
//	    refused and left alone; the other names are still processed, and
//	    the exit status is 1 if any failed.
//
//	show [--max N] NAME
//	    Prints the contents like numpy's print(a). Arrays with more than
//	    N elements (default 1000, numpy's threshold) are summarised with
//	    "..." showing three items at each end of each axis; --max 0 prints
//	    everything.
//
//	import [--mode 0600] [--sharedarray] FILE.npy NAME
//	    Copies a .npy file into a new segment of the same dtype and shape.
//	    A Fortran-order file becomes a C-order segment with the values
//	    transposed so that every index holds the same value as in numpy.
//
//	export [--force] NAME FILE.npy
//	    Writes a segment to a new .npy file (version 1.0 header; numpy.load
//	    reads it). An existing file is refused unless --force is given,
//	    which replaces it atomically.
//
//	lock [--shared] [--rows A:B] [--timeout D] NAME -- CMD [ARG...]
//	    Runs CMD while holding the segment's lock, like flock(1), and
//	    exits with CMD's status. The lock is Segment.Lock's (an fcntl
//	    open file description lock on Linux, which Python can take too);
//	    --shared takes a shared one, --rows A:B locks rows A to B-1 of
//	    axis 0, --timeout D gives up after D (0: at once) with status 1.
//
//	demo [-n N]
//	    Two processes share an N×N float64 matrix (default 1000): this
//	    process creates it and an N×N result, a child process (this
//	    binary again, through the hidden subcommand demo-child) attaches
//	    both and computes A·Aᵀ with gonum into the result, and the parent
//	    checks it against its own computation. It prints how long
//	    attaching took against sending the matrix through a pipe, and
//	    deletes both segments, also on Ctrl-C (exit status 130).
//
// Import and export draw a progress bar on standard error for copies larger
// than 16 MiB when standard error is a terminal.
//
// # JSON
//
// list --json prints a JSON array (empty: []) of objects, and info --json one
// object, with these fields, always all present:
//
//	name          string   the segment name with its scheme: "shm://x", "file://a.npy"
//	dtype         string   numpy's name: "float64", "int32", "bool", ...
//	descr         string   the .npy descriptor: "<f8", "|b1", ...
//	itemsize      int      bytes per element
//	shape         [int]    the dimensions; [] for a 0-d scalar
//	size          int      bytes of the whole segment, header included
//	layout        string   "npy" or "sharedarray"
//	fortran       bool     true if the data is in column-major order
//	data_offset   int      byte offset of the first element
//	strides       [int]    strides in elements
//	byte_strides  [int]    strides in bytes, as numpy's ndarray.strides
//	mode          string   permission bits in octal: "0600"
//	uid, gid      int      owner and group ids
//	owner, group  string   their names, or the number when unknown
//	modified      string   modification time, RFC 3339 in UTC with nanoseconds
//
// # Exit status
//
// 0 on success (and for -h), 1 when an operation failed, 2 for bad usage
// (unknown command or option, missing or malformed arguments), with the
// usage on standard error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shmtensor/shmtensor"
)

// The command's output streams; tests of the package replace them.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

// command is one subcommand.
type command struct {
	name     string
	synopsis string // the arguments after the name
	summary  string // one line for the top-level usage
	help     string // the rest of the usage text
	hidden   bool
	run      func(args []string) int
}

var commands []*command

func init() {
	commands = []*command{
		listCmd, infoCmd, createCmd, rmCmd, showCmd, importCmd, exportCmd, lockCmd, demoCmd, demoChildCmd,
	}
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line args (without the program name) and returns
// the exit status.
func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "shmtensor: no command given")
		topUsage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && name == "help" {
			if c := lookup(args[1]); c != nil {
				return c.run([]string{"-help"})
			}
			fmt.Fprintf(stderr, "shmtensor: help: unknown command %q\n", args[1])
			topUsage(stderr)
			return 2
		}
		topUsage(stderr)
		return 0
	}
	c := lookup(name)
	if c == nil {
		msg := fmt.Sprintf("shmtensor: unknown command %q", name)
		if s := suggest(name); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		fmt.Fprintln(stderr, msg)
		topUsage(stderr)
		return 2
	}
	return c.run(args[1:])
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func topUsage(w io.Writer) {
	fmt.Fprint(w, "usage: shmtensor COMMAND [OPTIONS] [ARGUMENTS]\n\n"+
		"Lists, inspects, creates, prints, imports, exports and deletes tensors in\n"+
		"POSIX shared memory. A NAME is \"x\" or \"shm://x\" (/dev/shm/x on Linux) or\n"+
		"\"file://PATH\".\n\ncommands:\n")
	for _, c := range commands {
		if !c.hidden {
			fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprint(w, "\nRun \"shmtensor COMMAND -h\" for a command's options; \"go doc\" on the\n"+
		"command describes the JSON output.\n")
}

// suggest returns the visible command closest to name, if it is close.
func suggest(name string) string {
	best, bestD := "", 3
	for _, c := range commands {
		if c.hidden {
			continue
		}
		if d := editDistance(name, c.name); d < bestD {
			best, bestD = c.name, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// flagSet returns the option parser of c. Bad options print a short usage;
// -h prints the whole help.
func (c *command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("shmtensor "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors itself, with the prefix
	fs.Usage = func() {}
	return fs
}

// longUsage prints c's synopsis, help and options.
func (c *command) longUsage(fs *flag.FlagSet) {
	w := stderr
	fs.SetOutput(w)
	fmt.Fprintf(w, "usage: shmtensor %s %s\n\n%s\n", c.name, c.synopsis, strings.TrimSpace(c.help))
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\noptions:\n")
		fs.PrintDefaults()
	}
}

// shortUsage prints c's synopsis and where to find more.
func (c *command) shortUsage(fs *flag.FlagSet) {
	fmt.Fprintf(stderr, "usage: shmtensor %s %s\nRun \"shmtensor %s -h\" for help.\n", c.name, c.synopsis, c.name)
}

// parse parses args with c's options fs. When it returns ok == false the
// command must return code: 0 after -h (the help is printed), 2 after a bad
// option (flag printed the error; parse adds the short usage).
func (c *command) parse(fs *flag.FlagSet, args []string) (ok bool, code int) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return true, 0
	case errors.Is(err, flag.ErrHelp):
		c.longUsage(fs)
		return false, 0
	}
	fmt.Fprintf(stderr, "shmtensor: %s: %v\n", c.name, err)
	c.shortUsage(fs)
	return false, 2
}

// usageErr reports bad usage of c: the message, then the short usage. It
// returns the exit status 2.
func (c *command) usageErr(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(stderr, "shmtensor: %s: %s\n", c.name, fmt.Sprintf(format, args...))
	c.shortUsage(fs)
	return 2
}

// fail reports a failure of c and returns the exit status 1. Errors of the
// shmtensor package already start with "shmtensor: "; it is not repeated.
func (c *command) fail(err error) int {
	c.warn(err)
	return 1
}

// warn reports err without deciding the exit status.
func (c *command) warn(err error) {
	msg := strings.TrimPrefix(err.Error(), "shmtensor: ")
	if h := hint(err); h != "" {
		msg += " (" + h + ")"
	}
	fmt.Fprintf(stderr, "shmtensor: %s: %s\n", c.name, msg)
}

// hint says what to do about common errors.
func hint(err error) string {
	switch {
	case errors.Is(err, shmtensor.ErrNotExist):
		return `"shmtensor list" shows the segments there are`
	case errors.Is(err, shmtensor.ErrExist):
		return `choose another name, or remove the old one with "shmtensor rm"`
	case errors.Is(err, shmtensor.ErrInvalidName):
		return `a NAME is "x", "shm://x" or "file://PATH"`
	}
	return ""
}
