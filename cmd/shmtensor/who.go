package main

import "os"

var cmdWho = &Command{
	UsageLine: "who NAME",
	Short:     "list the processes that map a segment",
	Long: `
Who prints the processes that have the segment NAME mapped, one a line: the
process id, a tab, and its command line. numpy (np.load with mmap_mode),
SharedArray and any other program count, because who matches the mapped
file's device and inode in /proc/PID/maps, not its path: a process still
mapping a segment that was replaced or deleted since is not listed for the
segment under the name now.

/proc shows a process's mappings only to its own user and to root, and
only within who's PID namespace: run as another user, who does not see
other users' processes, and says so on standard error. A process that /proc
does not show but that has the segment attached with this package (in
another container sharing the tmpfs, or of another user) is still seen
through the lock every Attach holds on the segment's file, though not who
it is: who then prints one line "-" and a tab, with a note in place of the
command line. It prints that line only when /proc shows no process mapping
the segment; numpy or SharedArray processes /proc does not show are not
found. Systems without /proc (macOS, FreeBSD) cannot tell.
`,
	MinArgs: 1,
	MaxArgs: 1,
}

func init() {
	cmdWho.Run = func(c *Command, args []string) error { return writeWho(os.Stdout, os.Stderr, args[0]) }
}
