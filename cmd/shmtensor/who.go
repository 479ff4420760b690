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

/proc shows a process's mappings only to its own user and to root: run as
another user, who does not see other users' processes, and says so on
standard error. Systems without /proc (macOS, FreeBSD) cannot tell.
`,
	MinArgs: 1,
	MaxArgs: 1,
}

func init() {
	cmdWho.Run = func(c *Command, args []string) error { return writeWho(os.Stdout, os.Stderr, args[0]) }
}
