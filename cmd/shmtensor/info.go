package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/user"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

var listCmd = &command{
	name:     "list",
	synopsis: "[--json]",
	summary:  "list the tensor segments in shared memory",
	help: `
Lists every tensor segment in shared memory: name, dtype, shape, size,
layout, mode, owner and modification time. Files in shared memory that are
not tensor segments are skipped. With --json it prints a JSON array of the
objects that "shmtensor info --json" prints (see "go doc" on the command).

Where the system cannot enumerate shared memory (macOS, FreeBSD), list fails
with a message saying so; "shmtensor info NAME" still works there.`,
}

var infoCmd = &command{
	name:     "info",
	synopsis: "[--json] NAME",
	summary:  "describe one segment, with strides and data offset",
	help: `
Describes one segment: name, dtype, shape, size, layout, memory order, data
offset, strides (in elements and in bytes, as numpy's ndarray.strides),
mode, owner and modification time, and on Linux how much of its resident
memory huge pages back. NAME is "x", "shm://x" or "file://PATH".

With --json it prints one object with the fields name, dtype, descr,
itemsize, shape, size, layout, fortran, data_offset, strides, byte_strides,
mode, uid, gid, owner, group, modified (see "go doc" on the command).`,
}

func init() {
	listCmd.run = runList
	infoCmd.run = runInfo
}

func runList(args []string) int {
	c := listCmd
	fs := c.flagSet()
	asJSON := fs.Bool("json", false, "print a JSON array instead of columns")
	if ok, code := c.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.usageErr(fs, "unexpected argument %q (list takes no names; use info NAME)", fs.Arg(0))
	}
	infos, err := shmtensor.List()
	if err != nil {
		if errors.Is(err, shmtensor.ErrNotSupported) {
			fmt.Fprintf(stderr, "shmtensor: list: %s cannot enumerate POSIX shared memory; "+
				"use \"shmtensor info NAME\" for a segment whose name you know\n", runtime.GOOS)
			return 1
		}
		return c.fail(err)
	}
	if *asJSON {
		recs := make([]jsonInfo, 0, len(infos))
		for _, in := range infos {
			recs = append(recs, makeJSONInfo(in))
		}
		return writeJSON(c, recs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDTYPE\tSHAPE\tSIZE\tLAYOUT\tMODE\tOWNER\tMODIFIED")
	for _, in := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			strings.TrimPrefix(in.Name, "shm://"), in.DType, shmtensor.FormatShape(in.Shape),
			units.Bytes(in.Size), layoutString(in), formatMode(in),
			userName(in.UID), in.ModTime.Local().Format(time.DateTime))
	}
	if err := tw.Flush(); err != nil {
		return c.fail(err)
	}
	return 0
}

func runInfo(args []string) int {
	c := infoCmd
	fs := c.flagSet()
	asJSON := fs.Bool("json", false, "print a JSON object instead of text")
	if ok, code := c.parse(fs, args); !ok {
		return code
	}
	switch fs.NArg() {
	case 0:
		return c.usageErr(fs, "missing NAME")
	case 1:
	default:
		return c.usageErr(fs, "one NAME at a time (got %d)", fs.NArg())
	}
	in, err := shmtensor.Stat(fs.Arg(0))
	if err != nil {
		return c.fail(err)
	}
	rec := makeJSONInfo(in)
	if *asJSON {
		return writeJSON(c, rec)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s:\t%s\n", k, fmt.Sprintf(format, args...)) }
	row("name", "%s", in.Name)
	row("dtype", "%s (%s, itemsize %d)", in.DType, in.DType.Descr(), in.DType.Size())
	n := 1
	for _, d := range in.Shape {
		n *= d
	}
	row("shape", "%s, %d elements", shmtensor.FormatShape(in.Shape), n)
	row("size", "%s (%d bytes)", units.Bytes(in.Size), in.Size)
	row("layout", "%s", layoutString(in))
	row("order", "%s", order(in.Fortran))
	row("data offset", "%d", in.DataOffset)
	row("strides", "%s elements, %s bytes", shmtensor.FormatShape(rec.Strides), shmtensor.FormatShape(rec.ByteStrides))
	row("mode", "%s (%s)", formatMode(in), in.Mode)
	row("owner", "%s (uid %d), group %s (gid %d)", rec.Owner, in.UID, rec.Group, in.GID)
	row("modified", "%s", in.ModTime.Local().Format(time.RFC3339))
	if h, ok := hugePages(fs.Arg(0)); ok {
		row("huge pages", "%s", h)
	}
	if err := tw.Flush(); err != nil {
		return c.fail(err)
	}
	return 0
}

// jsonInfo is the stable JSON form of a segment's description. Its fields
// are documented in the package comment; change them only compatibly.
type jsonInfo struct {
	Name        string `json:"name"`
	DType       string `json:"dtype"`
	Descr       string `json:"descr"`
	ItemSize    int    `json:"itemsize"`
	Shape       []int  `json:"shape"`
	Size        int64  `json:"size"`
	Layout      string `json:"layout"`
	Fortran     bool   `json:"fortran"`
	DataOffset  int64  `json:"data_offset"`
	Strides     []int  `json:"strides"`
	ByteStrides []int  `json:"byte_strides"`
	Mode        string `json:"mode"`
	UID         uint32 `json:"uid"`
	GID         uint32 `json:"gid"`
	Owner       string `json:"owner"`
	Group       string `json:"group"`
	Modified    string `json:"modified"`
}

func makeJSONInfo(in shmtensor.Info) jsonInfo {
	strides := in.Strides()
	byteStrides := make([]int, len(strides))
	for i, s := range strides {
		byteStrides[i] = s * in.DType.Size()
	}
	shape := append([]int{}, in.Shape...)
	return jsonInfo{
		Name:        in.Name,
		DType:       in.DType.String(),
		Descr:       in.DType.Descr(),
		ItemSize:    in.DType.Size(),
		Shape:       shape,
		Size:        in.Size,
		Layout:      in.Layout.String(),
		Fortran:     in.Fortran,
		DataOffset:  in.DataOffset,
		Strides:     strides,
		ByteStrides: byteStrides,
		Mode:        formatMode(in),
		UID:         in.UID,
		GID:         in.GID,
		Owner:       userName(in.UID),
		Group:       groupName(in.GID),
		Modified:    in.ModTime.UTC().Format(time.RFC3339Nano),
	}
}

func writeJSON(c *command, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return c.fail(err)
	}
	return 0
}

func formatMode(in shmtensor.Info) string { return fmt.Sprintf("%04o", uint32(in.Mode.Perm())) }

func layoutString(in shmtensor.Info) string {
	s := in.Layout.String()
	if in.Fortran {
		s += " (F)"
	}
	return s
}

func order(fortran bool) string {
	if fortran {
		return "Fortran (column-major)"
	}
	return "C (row-major)"
}

var (
	userNames  = map[uint32]string{}
	groupNames = map[uint32]string{}
)

// userName returns the login name of uid, or the number if it has none.
func userName(uid uint32) string {
	if n, ok := userNames[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(n); err == nil {
		n = u.Username
	}
	userNames[uid] = n
	return n
}

func groupName(gid uint32) string {
	if n, ok := groupNames[gid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(n); err == nil {
		n = g.Name
	}
	groupNames[gid] = n
	return n
}
