package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

// The logic of wait, who, gc and list --mappers.

// errTimeout ends wait when its --timeout runs out: exit status 1.
var errTimeout = errors.New("timed out")

// waitSegment waits for a tensor segment under name, or with replaced for
// one other than the one there now (any, if there is none), for at most
// timeout (0: no limit).
func waitSegment(name string, timeout time.Duration, replaced bool) error {
	ctx, stop := interruptContext()
	defer stop()
	sigCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var err error
	if replaced {
		old, serr := shmtensor.Stat(name)
		if serr != nil && !errors.Is(serr, shmtensor.ErrNotExist) && !errors.Is(serr, shmtensor.ErrNotTensor) {
			return serr
		}
		_, err = shmtensor.WaitReplaced(ctx, name, old)
	} else {
		_, err = shmtensor.Wait(ctx, name)
	}
	switch {
	case err == nil:
		return nil
	case sigCtx.Err() != nil:
		return exitStatus(130)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w after %v waiting for %s", errTimeout, timeout, canonicalName(name))
	}
	return err
}

// canonicalName adds the shm:// scheme to a bare name.
func canonicalName(name string) string {
	if strings.Contains(name, "://") {
		return name
	}
	return "shm://" + name
}

// proc is a process that maps a segment.
type proc struct {
	pid     int
	cmdline string // arguments joined by spaces; "[comm]" for kernel threads
}

// mappers returns the processes that map the segment under name, with
// their command lines.
func mappers(name string) ([]proc, error) {
	pids, err := shmtensor.Mappers(name)
	if err != nil {
		return nil, err
	}
	out := make([]proc, 0, len(pids))
	for _, pid := range pids {
		if pid == shmtensor.UnseenMapper {
			out = append(out, proc{pid, ""})
			continue
		}
		out = append(out, proc{pid, cmdline(pid)})
	}
	return out, nil
}

// cmdline returns the command line of pid from /proc, or "?" when it is
// gone or unreadable.
func cmdline(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return "?"
	}
	if len(b) == 0 {
		comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		return "[" + strings.TrimSpace(string(comm)) + "]"
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\") {
			args[i] = strconv.Quote(a)
		}
	}
	return strings.Join(args, " ")
}

// writeWho prints pids and command lines of the processes mapping name.
func writeWho(w, ew io.Writer, name string) error {
	ps, err := mappers(name)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.pid == shmtensor.UnseenMapper {
			fmt.Fprintf(w, "-\t(a process that /proc does not show has it attached: in another PID namespace, such as another container, or of another user)\n")
			continue
		}
		fmt.Fprintf(w, "%d\t%s\n", p.pid, p.cmdline)
	}
	if len(ps) == 0 {
		fmt.Fprintf(ew, "no process maps %s\n", canonicalName(name))
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(ew, "(processes of other users are not visible unless run as root)")
	}
	return nil
}

// pidList formats pids for list --mappers: "123,456" or "-".
func pidList(pids []int) string {
	if len(pids) == 0 {
		return "-"
	}
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
		if p == shmtensor.UnseenMapper {
			s[i] = "unseen"
		}
	}
	return strings.Join(s, ",")
}

// Hidden files the package leaves next to segments, which gc looks at.
const (
	reservedPrefix = ".shmtensor-"
	lockPrefix     = reservedPrefix + "lock-"
)

// gcItem is something gc would delete.
type gcItem struct {
	what   string // "segment", "channel", "bundle", "temporary file", "lock file"
	name   string // segment name, or the path of a hidden file
	id     shmtensor.FileID
	detail string
}

// gcScan finds what gc deletes: tensor segments in shared memory that no
// process maps, modified at least olderThan ago and whose name (without
// scheme) matches the glob match ("" matches all); hidden temporary files
// of the package as old and unmapped; and lock files as old that no
// process holds. skipped says what was left alone and why.
func gcScan(olderThan time.Duration, match string) (items []gcItem, skipped []string, err error) {
	if match != "" {
		if _, err := path.Match(match, ""); err != nil {
			return nil, nil, fmt.Errorf("bad --match pattern %q: %w", match, err)
		}
	}
	matches := func(base string) bool {
		ok, _ := path.Match(match, base)
		return match == "" || ok
	}
	infos, err := shmtensor.List()
	if err != nil {
		return nil, nil, err
	}
	mapped, err := shmtensor.MappedBy()
	if err != nil {
		return nil, nil, err
	}
	root := os.Geteuid() == 0
	now := time.Now()
	for _, in := range infos {
		base := strings.TrimPrefix(in.Name, "shm://")
		if !matches(base) || now.Sub(in.ModTime) < olderThan || len(mapped[in.ID]) > 0 || segmentHeld(base) {
			continue
		}
		if !root && (in.UID != uint32(os.Geteuid()) || in.Mode.Perm()&0o077 != 0) {
			// Only root sees every process's mappings.
			skipped = append(skipped, fmt.Sprintf("%s: other users may map it, and their processes are visible to root only", in.Name))
			continue
		}
		what, content := "segment", in.DType.String()+" "+shmtensor.FormatShape(in.Shape)
		switch in.Kind {
		case shmtensor.KindChannel:
			what = "channel"
		case shmtensor.KindBundle:
			what, content = "bundle", "? tensors"
			if bi, err := shmtensor.StatBundle(in.Name); err == nil && bi.ID == in.ID {
				content = tensorsText(len(bi.Tensors))
			}
		}
		items = append(items, gcItem{what, in.Name, in.ID, fmt.Sprintf("%s, %s, modified %s ago",
			content, units.Bytes(in.Size), now.Sub(in.ModTime).Round(time.Second))})
	}
	items = append(items, hiddenItems(now, olderThan, matches, mapped, root)...)
	return items, skipped, nil
}

// hiddenBase returns the segment name a hidden file was made for:
// ".shmtensor-lock-x" → "x", ".shmtensor-creating-x-0123456789abcdef.tmp" → "x".
func hiddenBase(file string) string {
	rest := strings.TrimPrefix(file, reservedPrefix)
	if _, after, ok := strings.Cut(rest, "-"); ok {
		rest = after
	}
	if strings.HasSuffix(rest, ".tmp") && len(rest) > 21 && rest[len(rest)-21] == '-' {
		rest = rest[:len(rest)-21]
	}
	return rest
}

// gcDelete deletes an item found by gcScan after checking again that it is
// the same file, unused and (for a lock file) not held. A refusal (in use,
// replaced, gone since the scan) is an error wrapping errLeftAlone.
func gcDelete(it gcItem) error {
	if it.what == "segment" || it.what == "channel" || it.what == "bundle" {
		err := shmtensor.DeleteUnused(it.name, it.id)
		if errors.Is(err, shmtensor.ErrInUse) || errors.Is(err, shmtensor.ErrNotTensor) || errors.Is(err, shmtensor.ErrNotExist) {
			return leftAlone(strings.TrimPrefix(err.Error(), "shmtensor: delete-unused "+it.name+": "))
		}
		return err
	}
	return deleteHidden(it)
}

// leftAlone is gc's refusal: what changed since the scan (mapped,
// attached, replaced, gone) is left as it is, and gc does not fail for it.
type leftAlone string

func (r leftAlone) Error() string { return "left alone: " + string(r) }

// runGC lists (and with yes deletes) what gcScan finds. It returns the
// number of failures.
func runGC(w, ew io.Writer, olderThan time.Duration, match string, yes bool) (failed int, err error) {
	items, skipped, err := gcScan(olderThan, match)
	if err != nil {
		return 0, err
	}
	for _, s := range skipped {
		fmt.Fprintf(ew, "skipped %s\n", s)
	}
	for _, it := range items {
		if !yes {
			fmt.Fprintf(w, "would delete %s %s (%s)\n", it.what, it.name, it.detail)
			continue
		}
		if err := gcDelete(it); err != nil {
			if r, ok := errors.AsType[leftAlone](err); ok {
				fmt.Fprintf(w, "left alone %s %s: %s\n", it.what, it.name, string(r))
				continue
			}
			fmt.Fprintf(ew, "shmtensor: gc: %v\n", strings.TrimPrefix(err.Error(), "shmtensor: "))
			failed++
			continue
		}
		fmt.Fprintf(w, "deleted %s %s (%s)\n", it.what, it.name, it.detail)
	}
	switch {
	case len(items) == 0:
		fmt.Fprintf(ew, "nothing to delete (unmapped for at least %v%s)\n", olderThan, matchNote(match))
	case !yes:
		fmt.Fprintf(ew, "%d to delete; run again with --yes to delete them\n", len(items))
	}
	return failed, nil
}

func matchNote(match string) string {
	if match == "" {
		return ""
	}
	return fmt.Sprintf(", matching %q", match)
}
