package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/codec"
)

var cmdRm = &Command{
	UsageLine: "rm [--force] NAME...",
	Short:     "delete segments (only tensor segments)",
	Long: `
Rm deletes each named segment. Anything that is not a tensor segment
(another program's shared memory, a corrupt file) is refused and left alone.
A valid .npy file of a big-endian element type (such as '>f8'), which info
and show cannot read, is a tensor segment all the same and is deleted.
Every name is tried; the exit status is 1 if any of them failed. Processes
that have a segment mapped keep using it until they close it.

A channel (see create-channel) is a tensor segment, and rm deletes it
("removed channel ..."): its live producer and subscribers, which rm
names, go on with it without a name until they close it, and no new
subscriber can join it.

A bundle (see "shmtensor help bundles") is one segment: rm deletes it
whole, all its tensors ("removed bundle ..."), and processes that have
it attached keep reading it until they close it. Rm has no KEY: a
bundle's tensors are not removed one by one.

With --force, rm also removes a broken segment (see "shmtensor list
--all"): a regular file that carries a tensor magic but has an invalid
header, such as a truncated segment. It must belong to the user running rm;
files without a tensor magic are still refused.
`,
	MinArgs: 1,
	MaxArgs: manyArgs,
}

var rmForce = cmdRm.Flag.Bool("force", false, "also remove broken segments of yours (see list --all)")

func init() { cmdRm.Run = runRm }

func runRm(c *Command, args []string) error {
	status := 0
	del := shmtensor.Delete
	if *rmForce {
		del = shmtensor.DeleteBroken
	}
	for _, name := range args {
		what, users := "", ""
		if in, err := shmtensor.Stat(name); err == nil {
			switch in.Kind {
			case shmtensor.KindChannel:
				what, users = "channel ", channelUsers(name)
			case shmtensor.KindBundle:
				what = "bundle "
			}
		}
		if err := del(name); err != nil {
			if errors.Is(err, shmtensor.ErrNotTensor) {
				path, magic := tensorMagic(name)
				switch {
				case !magic && path != "":
					// Not shmtensor's, and --force would refuse it too.
					err = fmt.Errorf("%w; refusing to remove it: shmtensor removes only tensor segments, broken or not (if no program needs it, rm %s removes it)", err, path)
				case *rmForce:
					err = fmt.Errorf("%w; refusing to remove it", err)
				default:
					err = fmt.Errorf("%w; refusing to remove it (it carries a tensor magic: rm --force removes such a broken segment, see list --all)", err)
				}
			}
			c.warn(err)
			status = 1
			continue
		}
		fmt.Printf("removed %s%s%s\n", what, canonical(name), users)
	}
	if status != 0 {
		return exitStatus(status)
	}
	return nil
}

// tensorMagic returns the file behind name ("" if it cannot be opened)
// and whether it carries a tensor magic, as DeleteBroken requires.
func tensorMagic(name string) (string, bool) {
	path, ok := strings.CutPrefix(name, "file://")
	if !ok {
		path = "/dev/shm/" + strings.TrimPrefix(name, "shm://")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	return path, codec.HasMagic(f, fi.Size())
}

// canonical adds the shm:// scheme to a bare name.
func canonical(name string) string {
	if strings.Contains(name, "://") {
		return name
	}
	return "shm://" + name
}

// channelUsers says, for rm, who goes on using the channel name once it is
// removed: its live producer and subscribers, which keep it, without a
// name, until they close it.
func channelUsers(name string) string {
	ci, err := shmtensor.StatChannel(name)
	if err != nil {
		return ""
	}
	subs := 0
	for _, s := range ci.Subscribers {
		if s.Alive {
			subs++
		}
	}
	var who []string
	if ci.ProducerAlive {
		who = append(who, "its producer")
	}
	switch {
	case subs == 1:
		who = append(who, "1 subscriber")
	case subs > 1:
		who = append(who, fmt.Sprintf("%d subscribers", subs))
	}
	if len(who) == 0 {
		return ""
	}
	return " (still used, without a name, by " + strings.Join(who, " and ") + " until they close it)"
}
