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
	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/units"
)

var cmdList = &Command{
	UsageLine: "list [--all] [--json] [--mappers]",
	Short:     "list the tensor segments in shared memory",
	Long: `
List prints every tensor segment in shared memory: name, kind, dtype,
shape, size of the whole segment (header included), layout, mode, owner
and modification time, in aligned columns. The kind is "tensor", or
"channel" for a channel (see create-channel), whose shape is that of its
ring of messages as numpy sees it, (slots, *message shape); "shmtensor
info NAME" describes its producer and subscribers. For a bundle (see
"shmtensor help bundles") the kind is "bundle", the dtype column lists
the element types of its tensors, each once ("float32,int64"), and the
shape column the number of tensors ("3 tensors"); "shmtensor info NAME"
lists them. Files in shared memory that are not tensor segments are
skipped.

Names are printed as "ls -b" prints them, so that every row is one segment:
a backslash, a space and a character that is not printable are escaped, as
\\, "\ ", \n, \t and the like, or \ooo in octal for each byte.

With --json it prints a JSON array of the objects that "shmtensor info
--json" prints, without their "channel" and "bundle" fields (see
"shmtensor help json"); a bundle's dtype and shape there are those of its
data as bytes, "uint8" and [its length].

With --all it also lists the broken entries: files in shared memory that
carry a tensor magic (numpy's at the start, or SharedArray's where its
trailer would be) but whose header is invalid, such as a segment truncated
or corrupted after it was created. Info, show and rm refuse them; the last
column says why, and "shmtensor rm --force NAME" removes one. In a table of
their own come valid .npy files of a big-endian element type, which numpy
reads but this program does not map, and which "shmtensor rm NAME" removes
as the tensor segments they are. With --json,
a broken entry is an object with only the fields name, size, mode, uid,
gid, owner, group and modified, and an "error" field with the reason.

With --all it also lists the leftovers: the package's hidden files
(.shmtensor-creating-..., .shmtensor-deleting-..., .shmtensor-lock-...) of
processes killed in the middle of creating, replacing or deleting a segment
or of "create once", which no process maps, holds open or locks any more,
whatever their age ("shmtensor gc --yes" removes them). A hidden file that
a live process uses, such as the temporary name of a segment still being
filled, is not a leftover. A foreign file that a killed delete had moved
aside is marked so: rename it back to its name. With --json, a leftover is
an object with the fields path, kind ("creating", "deleting" or "lock"),
size, mode, uid, gid, owner, group and modified, and "foreign": true for
such a foreign file.

With --mappers it adds the ids of the processes that map each segment, as
"shmtensor who" finds them (a MAPPERS column of comma-separated ids, "-"
for none, "unseen" for a segment that a process /proc does not show has
attached, in another PID namespace or of another user; with --json a
"mappers" array in each segment's object, 0 for such a process). Linux
only.

Where the system cannot enumerate shared memory (macOS, FreeBSD), list fails
with a message saying so; "shmtensor info NAME" still works there.
`,
}

var (
	listJSON    = cmdList.Flag.Bool("json", false, "print a JSON array instead of columns")
	listAll     = cmdList.Flag.Bool("all", false, "also list broken entries that carry a tensor magic, with the reason, and leftovers")
	listMappers = cmdList.Flag.Bool("mappers", false, "add the processes that map each segment")
)

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
	var broken []shmtensor.Broken
	if *listAll {
		if broken, err = shmtensor.ListBroken(); err != nil {
			return err
		}
	}
	var left []shmtensor.Leftover
	if *listAll {
		if left, err = shmtensor.Leftovers(""); err != nil && !errors.Is(err, shmtensor.ErrNotSupported) {
			return err
		}
	}
	var mapped map[shmtensor.FileID][]int
	if *listMappers {
		if mapped, err = shmtensor.MappedBy(); err != nil {
			return err
		}
		for _, in := range infos {
			// Held with no mapper /proc shows: one it does not show.
			if len(mapped[in.ID]) == 0 && segmentHeld(strings.TrimPrefix(in.Name, "shm://")) {
				mapped[in.ID] = []int{shmtensor.UnseenMapper}
			}
		}
	}
	if *listJSON {
		recs := make([]any, 0, len(infos)+len(broken))
		for _, in := range infos {
			if *listMappers {
				type withMappers struct {
					jsonInfo
					Mappers []int `json:"mappers"`
				}
				recs = append(recs, withMappers{makeJSONInfo(in), append([]int{}, mapped[in.ID]...)})
				continue
			}
			recs = append(recs, makeJSONInfo(in))
		}
		for _, b := range broken {
			recs = append(recs, jsonBroken{
				Name: b.Name, Size: b.Size, Error: b.Err.Error(),
				jsonOwnership: makeJSONOwnership(b.Mode, b.UID, b.GID, b.ModTime),
			})
		}
		for _, l := range left {
			recs = append(recs, jsonLeftover{
				Path: l.Path, Kind: l.Kind, Size: l.Size, Foreign: l.Foreign,
				jsonOwnership: makeJSONOwnership(l.Mode, l.UID, l.GID, l.ModTime),
			})
		}
		return writeJSON(recs)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	head := "NAME\tKIND\tDTYPE\tSHAPE\tSIZE\tLAYOUT\tMODE\tOWNER\tMODIFIED"
	if *listMappers {
		head += "\tMAPPERS"
	}
	fmt.Fprintln(tw, head)
	for _, in := range infos {
		dtype, shape := in.DType.String(), shmtensor.FormatShape(in.Shape)
		if in.Kind == shmtensor.KindBundle {
			dtype, shape = "?", "?"
			if bi, err := shmtensor.StatBundle(in.Name); err == nil && bi.ID == in.ID {
				dtype, shape = bundleDTypes(bi.Tensors), tensorsText(len(bi.Tensors))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s",
			escapeName(strings.TrimPrefix(in.Name, "shm://")), in.Kind, dtype, shape,
			units.Bytes(in.Size), layoutString(in), formatMode(in.Mode),
			userName(in.UID), in.ModTime.Local().Format(time.DateTime))
		if *listMappers {
			fmt.Fprintf(tw, "\t%s", pidList(mapped[in.ID]))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := writeBroken(tw, broken); err != nil {
		return err
	}
	return writeLeftovers(tw, left)
}

// writeBroken prints list --all's table of broken entries, if any.
func writeBroken(tw *tabwriter.Writer, broken []shmtensor.Broken) error {
	if len(broken) == 0 {
		return nil
	}
	// A valid .npy file of a big-endian type is not broken: numpy reads
	// it, and rm (no --force) removes it.
	var bad, bigEndian []shmtensor.Broken
	for _, b := range broken {
		var bo *codec.ByteOrderError
		if errors.As(b.Err, &bo) {
			bigEndian = append(bigEndian, b)
		} else {
			bad = append(bad, b)
		}
	}
	for _, part := range []struct {
		head string
		list []shmtensor.Broken
	}{
		{"BROKEN\tSIZE\tMODE\tOWNER\tMODIFIED\tREASON (shmtensor rm --force NAME removes it)", bad},
		{"BIG-ENDIAN .NPY\tSIZE\tMODE\tOWNER\tMODIFIED\t(valid .npy files that shmtensor does not map; shmtensor rm NAME removes them)", bigEndian},
	} {
		if len(part.list) == 0 {
			continue
		}
		fmt.Println()
		fmt.Fprintln(tw, part.head)
		for _, b := range part.list {
			reason := strings.TrimPrefix(b.Err.Error(), "not a tensor segment: ")
			fmt.Fprintf(tw, "%s\t%s\t%04o\t%s\t%s\t%s\n",
				escapeName(strings.TrimPrefix(b.Name, "shm://")), units.Bytes(b.Size), uint32(b.Mode.Perm()),
				userName(b.UID), b.ModTime.Local().Format(time.DateTime), oneLine(reason))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeLeftovers prints list --all's table of leftovers, if any.
func writeLeftovers(tw *tabwriter.Writer, left []shmtensor.Leftover) error {
	if len(left) == 0 {
		return nil
	}
	fmt.Println()
	fmt.Fprintln(tw, "LEFTOVER\tKIND\tSIZE\tMODE\tOWNER\tMODIFIED\t(no process uses them; shmtensor gc --yes removes them)")
	for _, l := range left {
		kind := l.Kind
		if l.Foreign {
			kind += " (foreign: rename it back; gc keeps it)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%04o\t%s\t%s\t\n", escapeName(l.Path), kind, units.Bytes(l.Size),
			uint32(l.Mode.Perm()), userName(l.UID), l.ModTime.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

// jsonLeftover is a leftover in list --all --json.
type jsonLeftover struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	Size int64  `json:"size"`
	jsonOwnership
	Foreign bool `json:"foreign,omitempty"`
}

// oneLine replaces the characters of s that are not printable, so that a
// reason quoting a file's bytes stays on its row.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}

// jsonBroken is a broken entry in list --all --json.
type jsonBroken struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	jsonOwnership
	Error string `json:"error"`
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
