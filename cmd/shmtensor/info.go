package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/user"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

var cmdInfo = &Command{
	UsageLine: "info [--json] NAME",
	Short:     "describe one segment, with strides and data offset",
	Long: `
Info describes one segment: name, kind (tensor, channel or bundle), dtype, shape
and number of elements, size of the whole segment (header and data),
layout, memory order, data offset, strides (in elements and in bytes, as
numpy's ndarray.strides), mode, owner and modification time, and on Linux
how much of its resident memory huge pages back. NAME is "x", "shm://x" or
"file://PATH" (see "shmtensor help names"); the name is escaped as list
escapes it.

For a channel (see create-channel), whose shape is that of its ring as
numpy sees it, info adds the shape, number of elements and size of one
message; the slots; the policy; how many messages were sent; whether the
stream is open or the producer closed it; whether a producer lives, with
the channel's epoch (1 for the producer that created it, one more for each
producer that took it over); and how many subscribers live, of how many
the channel takes. Then a table has a row for each subscriber entry in
use: the entry, the subscriber's process id (in its own PID namespace),
whether it lives (a dead one's entry is taken by the next subscriber),
its cursor (the oldest message it may still read), its lag (messages sent
that it has not released), the messages it received and lost, and whether
it started from the oldest or the newest message.

With --json it prints one object with the fields name, dtype, descr,
itemsize, shape, size, layout, fortran, data_offset, strides, byte_strides,
mode, uid, gid, owner, group, modified, kind, channel (null but for a
channel) and bundle (null but for a bundle; see "shmtensor help json").

A channel owned by another user than you and root is not mapped, since
its owner could truncate it while it is read: info describes it from its
header only, and says so.

For a bundle (see "shmtensor help bundles") info gives the number of
tensors and their element types, the size of the data and of the header,
the layout (safetensors) and the data offset, and the mode, owner and
time as for any segment; then a table with a row for each tensor, in the
order of their data: its key (escaped as names are), dtype, shape, size
and the byte offset of its first element in the file; then its metadata,
one key and value a row (characters that are not printable shown as ?).
It reads the header only, without mapping the bundle. With --json the
object's "bundle" field holds the tensors and the metadata.
`,
	MinArgs: 1,
	MaxArgs: 1,
}

var infoJSON = cmdInfo.Flag.Bool("json", false, "print a JSON object instead of text")

func init() { cmdInfo.Run = runInfo }

func runInfo(c *Command, args []string) error {
	in, err := shmtensor.Stat(args[0])
	if err != nil {
		return err
	}
	if in.Kind == shmtensor.KindBundle {
		return infoBundle(in)
	}
	rec := makeJSONInfo(in)
	var ci *shmtensor.ChannelInfo
	var unread error // why a channel's state is not read
	if in.Kind == shmtensor.KindChannel {
		info, err := shmtensor.StatChannel(args[0])
		switch {
		case errors.Is(err, shmtensor.ErrPermission):
			// Another user's channel: its state is not read (its
			// owner could truncate it under the mapping).
			unread = err
		case err != nil:
			return err
		default:
			ci = &info
		}
	}
	if *infoJSON {
		return writeJSON(jsonInfoWithChannel{rec, makeJSONChannel(ci), nil})
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s:\t%s\n", k, fmt.Sprintf(format, args...)) }
	row("name", "%s", escapeName(in.Name))
	row("kind", "%s", in.Kind)
	row("dtype", "%s (%s, itemsize %d)", in.DType, in.DType.Descr(), in.DType.Size())
	if ci != nil {
		row("shape", "%s, %s: the ring of %d slots, as numpy sees it", shmtensor.FormatShape(in.Shape), elements(in.Shape), ci.Slots)
		channelRows(row, ci)
	} else if unread != nil {
		row("shape", "%s, %s: the ring of %d slots, as numpy sees it", shmtensor.FormatShape(in.Shape), elements(in.Shape), in.Shape[0])
		row("channel", "its state is not read: %s owns it and could truncate it while it is read", userName(in.UID))
	} else {
		row("shape", "%s, %s", shmtensor.FormatShape(in.Shape), elements(in.Shape))
	}
	data := int64(in.DType.Size())
	for _, d := range in.Shape {
		data *= int64(d)
	}
	rest := "header and padding"
	if in.Kind == shmtensor.KindChannel {
		rest = "header, padding and control area"
	}
	row("size", "%s (%d bytes: %d of data, %d of %s)", units.Bytes(in.Size), in.Size, data, in.Size-data, rest)
	row("layout", "%s", layoutString(in))
	row("order", "%s", order(in.Fortran))
	row("data offset", "%d", in.DataOffset)
	row("strides", "%s elements, %s bytes", shmtensor.FormatShape(rec.Strides), shmtensor.FormatShape(rec.ByteStrides))
	row("mode", "%s (%s)", formatMode(in.Mode), in.Mode)
	row("owner", "%s (uid %d), group %s (gid %d)", rec.Owner, in.UID, rec.Group, in.GID)
	row("modified", "%s", in.ModTime.Local().Format(time.RFC3339))
	if h, ok := hugePages(in.Name); ok {
		row("huge pages", "%s", h)
	}
	if err := tw.Flush(); err != nil || ci == nil || len(ci.Subscribers) == 0 {
		return err
	}
	fmt.Println()
	fmt.Fprintln(tw, "SUBSCRIBER\tPID\tALIVE\tCURSOR\tLAG\tRECEIVED\tLOST\tFROM")
	for _, s := range ci.Subscribers {
		alive, from := "yes", "oldest"
		if !s.Alive {
			alive = "no"
		}
		if s.FromNewest {
			from = "newest"
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%d\t%d\t%d\t%s\n", s.Entry, s.PID, alive, s.Cursor, s.Lag, s.Received, s.Lost, from)
	}
	return tw.Flush()
}

// channelRows adds info's rows about a channel.
func channelRows(row func(k, format string, args ...any), ci *shmtensor.ChannelInfo) {
	row("message", "%s, %s, %s", shmtensor.FormatShape(ci.Shape), elements(ci.Shape), units.Bytes(ci.MessageBytes))
	row("slots", "%d", ci.Slots)
	row("policy", "%s", ci.Policy)
	row("sent", "%s", messages(ci.Sent))
	if ci.Closed {
		row("stream", "closed: the producer ended it")
	} else {
		row("stream", "open")
	}
	switch {
	case ci.ProducerAlive:
		row("producer", "alive (epoch %d)", ci.Epoch)
	case ci.Closed:
		row("producer", "none (epoch %d)", ci.Epoch)
	default:
		row("producer", "none (epoch %d): subscribers find the producer gone until one takes the channel over", ci.Epoch)
	}
	alive := 0
	for _, s := range ci.Subscribers {
		if s.Alive {
			alive++
		}
	}
	dead := ""
	if n := len(ci.Subscribers) - alive; n > 0 {
		dead = fmt.Sprintf(", and %d entries of dead ones", n)
	}
	row("subscribers", "%d alive of at most %d%s", alive, ci.MaxSubscribers, dead)
}

// elements returns "1 element", "12 elements": the number of elements of
// shape, which is 1 for a 0-d scalar.
func elements(shape []int) string {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n == 1 {
		return "1 element"
	}
	return fmt.Sprintf("%d elements", n)
}

// jsonInfo is the stable JSON form of a segment's description. Its fields
// are documented in "shmtensor help json"; change them only compatibly.
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
	jsonOwnership
	Kind string `json:"kind"`
}

// jsonInfoWithChannel is info --json's object: a channel's state in
// "channel", null for a tensor segment.
type jsonInfoWithChannel struct {
	jsonInfo
	Channel *jsonChannel `json:"channel"`
	Bundle  *jsonBundle  `json:"bundle"`
}

// jsonBundle is the content of a bundle in info --json.
type jsonBundle struct {
	Tensors  []jsonTensor      `json:"tensors"`
	Metadata map[string]string `json:"metadata"`
}

// jsonTensor is a tensor of a bundle in info --json.
type jsonTensor struct {
	Name   string `json:"name"`
	DType  string `json:"dtype"`
	Shape  []int  `json:"shape"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
}

func makeJSONBundle(bi shmtensor.BundleInfo) *jsonBundle {
	j := &jsonBundle{Tensors: []jsonTensor{}, Metadata: map[string]string{}}
	for _, t := range bi.Tensors {
		j.Tensors = append(j.Tensors, jsonTensor{t.Name, t.DType.String(), append([]int{}, t.Shape...), t.Offset, t.Size})
	}
	for k, v := range bi.Metadata {
		j.Metadata[k] = v
	}
	return j
}

// infoBundle is info for a bundle: its tensors and metadata, read from
// its header without mapping it.
func infoBundle(in shmtensor.Info) error {
	bi, err := shmtensor.StatBundle(in.Name)
	if err != nil {
		return err
	}
	if bi.ID != in.ID {
		// Replaced between the two reads: describe the new one whole.
		if in, err = shmtensor.Stat(in.Name); err != nil {
			return err
		}
		if in.Kind != shmtensor.KindBundle || in.ID != bi.ID {
			return fmt.Errorf("%s changed while it was read; try again", in.Name)
		}
	}
	rec := makeJSONInfo(in)
	if *infoJSON {
		return writeJSON(jsonInfoWithChannel{rec, nil, makeJSONBundle(bi)})
	}
	var data int64
	for _, t := range bi.Tensors {
		data += t.Size
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s:\t%s\n", k, fmt.Sprintf(format, args...)) }
	row("name", "%s", escapeName(in.Name))
	row("kind", "%s", in.Kind)
	row("tensors", "%d (%s)", len(bi.Tensors), bundleDTypes(bi.Tensors))
	row("size", "%s (%d bytes: %d of data, %d of header and padding)", units.Bytes(in.Size), in.Size, data, in.Size-data)
	row("layout", "%s", layoutString(in))
	row("data offset", "%d", in.DataOffset)
	row("mode", "%s (%s)", formatMode(in.Mode), in.Mode)
	row("owner", "%s (uid %d), group %s (gid %d)", rec.Owner, in.UID, rec.Group, in.GID)
	row("modified", "%s", in.ModTime.Local().Format(time.RFC3339))
	if h, ok := hugePages(in.Name); ok {
		row("huge pages", "%s", h)
	}
	row("metadata", "%s", metadataCount(len(bi.Metadata)))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(bi.Tensors) > 0 {
		fmt.Println()
		fmt.Fprintln(tw, "TENSOR\tDTYPE\tSHAPE\tSIZE\tOFFSET")
		for _, t := range bi.Tensors {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", escapeName(t.Name), t.DType, shmtensor.FormatShape(t.Shape), units.Bytes(t.Size), t.Offset)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(bi.Metadata) > 0 {
		fmt.Println()
		fmt.Fprintln(tw, "METADATA\tVALUE")
		for _, k := range slices.Sorted(maps.Keys(bi.Metadata)) {
			fmt.Fprintf(tw, "%s\t%s\n", escapeName(k), oneLine(bi.Metadata[k]))
		}
	}
	return tw.Flush()
}

// metadataCount is "none", "1 key", "3 keys".
func metadataCount(n int) string {
	switch n {
	case 0:
		return "none"
	case 1:
		return "1 key"
	}
	return fmt.Sprintf("%d keys", n)
}

// jsonChannel is the state of a channel in info --json.
type jsonChannel struct {
	MessageShape   []int            `json:"message_shape"`
	MessageBytes   int64            `json:"message_bytes"`
	Slots          int              `json:"slots"`
	MaxSubscribers int              `json:"max_subscribers"`
	Policy         string           `json:"policy"`
	Sent           uint64           `json:"sent"`
	Closed         bool             `json:"closed"`
	ProducerAlive  bool             `json:"producer_alive"`
	Epoch          uint32           `json:"epoch"`
	Subscribers    []jsonSubscriber `json:"subscribers"`
}

// jsonSubscriber is a subscriber entry in use in info --json.
type jsonSubscriber struct {
	Entry      int    `json:"entry"`
	PID        int    `json:"pid"`
	Alive      bool   `json:"alive"`
	Cursor     uint64 `json:"cursor"`
	Lag        uint64 `json:"lag"`
	Received   uint64 `json:"received"`
	Lost       uint64 `json:"lost"`
	FromNewest bool   `json:"from_newest"`
}

func makeJSONChannel(ci *shmtensor.ChannelInfo) *jsonChannel {
	if ci == nil {
		return nil
	}
	j := &jsonChannel{
		MessageShape: append([]int{}, ci.Shape...), MessageBytes: ci.MessageBytes,
		Slots: ci.Slots, MaxSubscribers: ci.MaxSubscribers, Policy: ci.Policy.String(),
		Sent: ci.Sent, Closed: ci.Closed, ProducerAlive: ci.ProducerAlive, Epoch: ci.Epoch,
		Subscribers: []jsonSubscriber{},
	}
	for _, s := range ci.Subscribers {
		j.Subscribers = append(j.Subscribers, jsonSubscriber{
			Entry: s.Entry, PID: s.PID, Alive: s.Alive, Cursor: s.Cursor, Lag: s.Lag,
			Received: s.Received, Lost: s.Lost, FromNewest: s.FromNewest,
		})
	}
	return j
}

// jsonOwnership is the part of info's and list's JSON that says who owns
// a file, what it permits and when it was last changed.
type jsonOwnership struct {
	Mode     string `json:"mode"`
	UID      uint32 `json:"uid"`
	GID      uint32 `json:"gid"`
	Owner    string `json:"owner"`
	Group    string `json:"group"`
	Modified string `json:"modified"`
}

func makeJSONOwnership(mode fs.FileMode, uid, gid uint32, modified time.Time) jsonOwnership {
	return jsonOwnership{
		Mode:     formatMode(mode),
		UID:      uid,
		GID:      gid,
		Owner:    userName(uid),
		Group:    groupName(gid),
		Modified: modified.UTC().Format(time.RFC3339Nano),
	}
}

func makeJSONInfo(in shmtensor.Info) jsonInfo {
	strides := in.Strides()
	byteStrides := make([]int, len(strides))
	for i, s := range strides {
		byteStrides[i] = s * in.DType.Size()
	}
	shape := append([]int{}, in.Shape...)
	return jsonInfo{
		Name:          in.Name,
		DType:         in.DType.String(),
		Descr:         in.DType.Descr(),
		ItemSize:      in.DType.Size(),
		Shape:         shape,
		Size:          in.Size,
		Layout:        in.Layout.String(),
		Fortran:       in.Fortran,
		DataOffset:    in.DataOffset,
		Strides:       strides,
		ByteStrides:   byteStrides,
		jsonOwnership: makeJSONOwnership(in.Mode, in.UID, in.GID, in.ModTime),
		Kind:          in.Kind.String(),
	}
}

func writeJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func formatMode(mode fs.FileMode) string { return fmt.Sprintf("%04o", uint32(mode.Perm())) }

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

// groupName returns the name of gid, or the number if it has none.
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
