package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/zarr"
)

// A Command is one of shmtensor's commands, in the manner of the go
// command's base.Command: its usage, help text, options and argument count
// are declared here, and parsing, checking and error reporting are done
// once for all commands by run (main.go).
type Command struct {
	// UsageLine is the one-line usage: the command name, its options, and
	// its arguments in capitals. "[X...]" is any number of X, "X..." one or
	// more.
	UsageLine string

	// Short is the one-line description in the command list, lower case,
	// without a period.
	Short string

	// Long is the help text of "shmtensor help CMD" and of the generated
	// documentation: paragraphs of plain text, examples indented by a tab.
	Long string

	// Flag holds the command's options; they may come before, between or
	// after the arguments, as -opt or --opt.
	Flag flag.FlagSet

	// MinArgs and MaxArgs bound the number of arguments; MaxArgs is
	// manyArgs when there is no upper bound.
	MinArgs, MaxArgs int

	// Run runs the command with the arguments left after the options. Its
	// error is reported by run; see usageError and exitStatus.
	Run func(c *Command, args []string) error

	// Hidden commands are left out of the command list and the
	// documentation.
	Hidden bool
}

// manyArgs as MaxArgs: no upper bound.
const manyArgs = -1

// Name returns the command's name, the first word of its usage line.
func (c *Command) Name() string {
	name, _, _ := strings.Cut(c.UsageLine, " ")
	return name
}

// argWords returns the argument placeholders of the usage line, such as
// ["NAME", "DTYPE", "[DIM...]"] or ["[COMMAND | TOPIC]"]: the words and
// bracketed groups after the name that are not options.
func (c *Command) argWords() []string {
	var words []string
	var group []string // an open bracketed group
	for _, w := range strings.Fields(c.UsageLine)[1:] {
		if w == "--" {
			continue // the end of the options, not an argument
		}
		if len(group) == 0 && !strings.HasPrefix(w, "[") {
			words = append(words, w)
			continue
		}
		group = append(group, w)
		if strings.HasSuffix(w, "]") {
			if !strings.HasPrefix(group[0], "[-") {
				words = append(words, strings.Join(group, " "))
			}
			group = nil
		}
	}
	return words
}

// A usageError is bad usage of a command: run prints it with the short
// usage and exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// An exitStatus error makes run exit with that status and print nothing:
// the command has reported its failures itself.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// errHelp is returned by parseArgs when the options ask for help.
var errHelp = errors.New("help requested")

// parseArgs parses the options of c, which may appear anywhere among the
// arguments: "show x --max 5" is "show --max 5 x". After "--" everything is
// an argument. A word that looks like a negative number ("-3") is an
// argument unless it is the value of an option. It returns the arguments
// in order, errHelp for -h, -help or --help, or a usageError.
func (c *Command) parseArgs(args []string) ([]string, error) {
	c.Flag.Init(c.Name(), flag.ContinueOnError)
	c.Flag.SetOutput(io.Discard) // errors are reported by run, with the usage
	c.Flag.Usage = func() {}
	var pos []string
	second := -1 // the index in args of the second argument
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !isOption(a) {
			if pos = append(pos, a); len(pos) == 2 {
				second = i
			}
			continue
		}
		// Hand the flag package one option at a time, with its value
		// if it takes one, so that its syntax and messages apply.
		n := 1
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if f := c.Flag.Lookup(name); f != nil && !hasValue && !isBoolFlag(f) && i+1 < len(args) {
			n = 2
		}
		if err := c.Flag.Parse(args[i : i+n]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			msg := err.Error()
			if strings.Contains(c.UsageLine, " -- CMD") && second >= 0 && strings.HasPrefix(msg, "flag provided but not defined") {
				// "lock NAME ls -d": the option is the command's.
				msg += fmt.Sprintf(`; to pass %s to %s, put "--" before the command: shmtensor %s %s -- %s`,
					a, pos[1], c.Name(), pos[0], strings.Join(args[second:], " "))
			}
			return nil, &usageError{msg}
		}
		i += n - 1
	}
	return pos, c.checkArgCount(pos)
}

// isOption reports whether a is an option rather than an argument.
func isOption(a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	return !isNegativeNumber(a)
}

func isNegativeNumber(a string) bool {
	return len(a) > 1 && a[0] == '-' && (unicode.IsDigit(rune(a[1])) || a[1] == '.')
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// checkArgCount checks args against c.MinArgs and c.MaxArgs, naming what is
// missing or too much from the usage line.
func (c *Command) checkArgCount(args []string) error {
	words := c.argWords()
	switch {
	case len(args) < c.MinArgs:
		// The required words, past those the arguments given fill: an
		// optional word between them ("NAME [KEY] FILE") is not missing.
		var required, missing []string
		for _, w := range words {
			if !strings.HasPrefix(w, "[") {
				required = append(required, w)
			}
		}
		for _, w := range required[len(args):c.MinArgs] {
			missing = append(missing, strings.TrimSuffix(w, "..."))
		}
		msg := "missing " + strings.Join(missing, " and ")
		if len(args) > 0 {
			msg += fmt.Sprintf(" after %q", args[len(args)-1])
		}
		return &usageError{msg}
	case c.MaxArgs == 0 && len(args) > 0:
		return usagef("unexpected argument %q (%s takes no arguments)", args[0], c.Name())
	case c.MaxArgs == 1 && len(args) > 1 && c.MinArgs == 1:
		return usagef("one %s at a time (got %d)", words[0], len(args))
	case c.MaxArgs != manyArgs && len(args) > c.MaxArgs:
		return usagef("unexpected argument %q: want %s", args[c.MaxArgs], strings.Join(words, " "))
	}
	return nil
}

// printUsage prints c's usage line and where to find more, after bad usage.
func (c *Command) printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: shmtensor %s\nRun \"shmtensor help %s\" for details.\n", c.UsageLine, c.Name())
}

// printHelp prints c's usage line, help text and options.
func (c *Command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "usage: shmtensor %s\n\n%s\n", c.UsageLine, strings.TrimSpace(c.Long))
	if opts := c.optionsText(); opts != "" {
		fmt.Fprintf(w, "\nOptions:\n\n%s", opts)
	}
}

// optionsText describes c's options, one block per option: "\t--name
// value\n\t\tusage (default x)\n". Options are written as the usage
// lines write them: with two dashes, one for a single letter.
func (c *Command) optionsText() string {
	var b strings.Builder
	c.Flag.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-"
		}
		fmt.Fprintf(&b, "\t%s%s", dashes, f.Name)
		if arg != "" {
			fmt.Fprintf(&b, " %s", arg)
		}
		fmt.Fprintf(&b, "\n\t\t%s", usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	return b.String()
}

// report prints err, returned by c's Run, and returns the exit status.
func (c *Command) report(err error) int {
	var ue *usageError
	var es exitStatus
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "shmtensor: %s: %s\n", c.Name(), ue.msg)
		c.printUsage(os.Stderr)
		return 2
	case errors.As(err, &es):
		return int(es)
	}
	c.warn(err)
	return 1
}

// warn prints err as c's error, with a hint on what to do if there is one,
// without deciding the exit status.
func (c *Command) warn(err error) {
	fmt.Fprintln(os.Stderr, c.errorText(err))
}

// errorText is "shmtensor: CMD: message (hint)". An error of the shmtensor
// package from an operation named like the command reads "shmtensor: create
// shm://x: ..." rather than repeating the command.
func (c *Command) errorText(err error) string {
	var e *shmtensor.Error
	// A Zarr import that failed making its segment: the segment's error
	// says it all ("create shm://x: segment already exists"), without the
	// nested "zarr: import DIR: shmtensor: create ..." prefixes.
	if ze := (*zarr.Error)(nil); errors.As(err, &ze) && ze.Op == "import" && errors.As(ze.Err, &e) {
		err = e
	}
	msg := "shmtensor: " + c.Name() + ": " + strings.TrimPrefix(err.Error(), "shmtensor: ")
	if errors.As(err, &e) && e == err && e.Op == c.Name() {
		msg = err.Error()
	}
	if h := hint(err); h != "" {
		msg += " (" + h + ")"
	}
	return msg
}

// cause returns the cause of err if it is an error of the shmtensor package,
// for messages that name the operation and segment themselves.
func cause(err error) error {
	if e, ok := err.(*shmtensor.Error); ok {
		return e.Err
	}
	return err
}

// hint says what to do about common errors of the shmtensor package.
func hint(err error) string {
	var e *shmtensor.Error
	errors.As(err, &e)
	switch {
	case errors.Is(err, shmtensor.ErrInvalidName):
		if e != nil && strings.HasPrefix(e.Name, "/dev/shm/") && !strings.Contains(e.Name[len("/dev/shm/"):], "/") {
			return fmt.Sprintf("for %s give the bare name %q", e.Name, e.Name[len("/dev/shm/"):])
		}
		return `a NAME is "x", "shm://x" or "file://PATH"; see "shmtensor help names"`
	case errors.Is(err, shmtensor.ErrNotExist):
		if e != nil && strings.HasPrefix(e.Name, "file://") {
			return "" // a file, not a segment: list would not show it
		}
		if e != nil {
			// "show grid.npy" for a file here: a bare name is a segment.
			bare := strings.TrimPrefix(e.Name, "shm://")
			if fi, err := os.Stat(bare); err == nil && fi.Mode().IsRegular() {
				return fmt.Sprintf("a bare name is a segment in /dev/shm; for the file %s here, give file://%s", bare, bare)
			}
		}
		return `"shmtensor list" shows the segments there are`
	case errors.Is(err, shmtensor.ErrExist):
		if ze := (*zarr.Error)(nil); errors.As(err, &ze) && ze.Op == "write" {
			// A store's directory, which rm (segments only) cannot remove.
			return fmt.Sprintf("choose another directory, or remove the old store first: rm -r %s", ze.Path)
		}
		return `choose another name, or remove the old one with "shmtensor rm"`
	case errors.Is(err, errNoSpace):
		return "the size asked for is that of the whole segment, data and header"
	case errors.Is(err, shmtensor.ErrPermission) && strings.Contains(err.Error(), "AnyOwner()"):
		return "show, export, lock and tail take --any-owner to use it anyway"
	}
	return ""
}
