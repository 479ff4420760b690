package main

import (
	"os"
	"path"
)

var cmdGC = &Command{
	UsageLine: "gc [--older-than D] [--match GLOB] [--yes]",
	Short:     "find and delete segments that no process maps",
	Long: `
Gc finds the tensor segments in shared memory that no process uses and that
were last modified at least --older-than ago (default 1h): the segments left
behind by programs that crashed or forgot to delete them. With --match only
the names matching the shell pattern GLOB are considered (as in "gc --match
'features-*'"). Without --yes gc only lists what it would delete; with
--yes it deletes it, checking each one again just before, on the very file
it deletes: a segment attached, mapped or replaced since the scan is left
alone, and gc says so ("left alone ...") without failing.

A segment is in use when a process has it attached with this package
(every Attach, Open and Create holds a lock on the segment's file, which
the kernel shows across PID namespaces: a process in another container
sharing the tmpfs counts, though /proc does not show it), or when a process
that /proc shows maps it: numpy (np.load with mmap_mode) and SharedArray
count that way, as in "shmtensor who", but only when /proc shows them.
While gc deletes a segment it holds that lock exclusively, so an Attach
meanwhile waits for it and finds the name gone rather than mapping a file
gc is removing.

A channel (see create-channel) is a segment here: its producer and each
of its subscribers hold that lock while they live, so gc leaves alone a
channel that has any. A channel that no process holds, such as one that
create-channel made and no producer took over yet, is deleted like any
unused segment ("deleted channel ..."). So is a bundle (see "shmtensor
help bundles"), whole, with all its tensors ("deleted bundle ...": every
attached reader holds that lock on it).

Gc also deletes the package's own hidden files in /dev/shm that no process
uses any more, whatever their age (--older-than is for segments): the
leftovers that "shmtensor list --all" shows, left by processes killed in
the middle of creating or replacing a segment (.shmtensor-creating-...), of
deleting one (.shmtensor-deleting-...) or of "create once"
(.shmtensor-lock-...). A hidden file is in use while a process maps it,
holds it open (the temporary name of a segment still being filled) or holds
a lock on it; each is checked again just before it is deleted. A foreign
file that a killed delete had moved aside is left alone: rename it back.

/proc shows a process's mappings only to its own user and to root, and
only within gc's PID namespace. Run as an ordinary user, gc therefore
considers only the caller's own segments that no other user may open (mode
0600 or stricter), and says which it skipped; root sees every process of
its namespace. A numpy process in another PID namespace is invisible: run
gc where such processes are visible, or use shmtensor there. A numpy
process that opened a segment before gc removed its name, and maps it just
after gc's last check, keeps a valid mapping, but the name is gone.
Deleting never invalidates mappings.

The exit status is 1 if any deletion failed (a segment left alone is no
failure). Linux only.
`,
	MaxArgs: 0,
}

var (
	gcOlderThan = cmdGC.Flag.Duration("older-than", 3600e9, "consider only segments last modified at least `D` ago")
	gcMatch     = cmdGC.Flag.String("match", "", "consider only names matching the shell pattern `GLOB`")
	gcYes       = cmdGC.Flag.Bool("yes", false, "delete; without it gc only lists what it would delete")
)

func init() { cmdGC.Run = runGCCmd }

func runGCCmd(c *Command, args []string) error {
	if *gcOlderThan < 0 {
		return usagef("--older-than %v is negative", *gcOlderThan)
	}
	if _, err := path.Match(*gcMatch, ""); err != nil {
		return usagef("bad --match pattern %q: %v", *gcMatch, err)
	}
	failed, err := runGC(os.Stdout, os.Stderr, *gcOlderThan, *gcMatch, *gcYes)
	if err != nil {
		return err
	}
	if failed > 0 {
		return exitStatus(1)
	}
	return nil
}
