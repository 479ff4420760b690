package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

var cmdList = &Command{
	UsageLine: "list [--json]",
	Short:     "list the tensor segments in shared memory",
	Long: `
List prints every tensor segment in shared memory: name, dtype, shape,
size of the whole segment (header included), layout, mode, owner and
modification time, in aligned columns. Files in shared memory that are not
tensor segments are skipped.

Names are printed as "ls -b" prints them, so that every row is one segment:
a backslash, a space and a character that is not printable are escaped, as
\\, "\ ", \n, \t and the like, or \ooo in octal for each byte.

With --json it prints a JSON array of the objects that "shmtensor info
--json" prints (see "shmtensor help json").

Where the system cannot enumerate shared memory (macOS, FreeBSD), list fails
with a message saying so; "shmtensor info NAME" still works there.
`,
}

var listJSON = cmdList.Flag.Bool("json", false, "print a JSON array instead of columns")

func init() { cmdList.Run = runList }

func runList(c *Command, _ []string) error {
	infos, err := shmtensor.List()
	if errors.Is(err, shmtensor.ErrNotSupported) {
		return fmt.Errorf("%s cannot enumerate POSIX shared memory; "+
			"use \"shmtensor info NAME\" for a segment whose name you know", runtime.GOOS)
	}
	if err != nil {
		return err
	}
	if *listJSON {
		recs := make([]jsonInfo, 0, len(infos))
		for _, in := range infos {
			recs = append(recs, makeJSONInfo(in))
		}
		return writeJSON(recs)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDTYPE\tSHAPE\tSIZE\tLAYOUT\tMODE\tOWNER\tMODIFIED")
	for _, in := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			escapeName(strings.TrimPrefix(in.Name, "shm://")), in.DType, shmtensor.FormatShape(in.Shape),
			units.Bytes(in.Size), layoutString(in), formatMode(in),
			userName(in.UID), in.ModTime.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

// escapeName returns name as "ls -b" prints it: a backslash, a space, and
// every character that is not printable (control characters, invalid UTF-8,
// bidirectional overrides) escaped, C-style where C has an escape and in
// octal, byte by byte, otherwise. No name can then forge a row or a column
// of list's output, or reorder it on a terminal.
func escapeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ' ':
			b.WriteString(`\ `)
		case r == '\a':
			b.WriteString(`\a`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\v':
			b.WriteString(`\v`)
		case r == utf8.RuneError && n == 1, !unicode.IsPrint(r):
			for _, c := range []byte(name[i : i+n]) {
				fmt.Fprintf(&b, `\%03o`, c)
			}
		default:
			b.WriteString(name[i : i+n])
		}
		i += n
	}
	return b.String()
}
