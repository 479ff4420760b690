package main

var cmdWait = &Command{
	UsageLine: "wait [--timeout D] [--replaced] NAME",
	Short:     "wait until a tensor segment is there, or is replaced",
	Long: `
Wait returns as soon as NAME holds a tensor segment: at once if it does
already. Anything else under the name (a foreign file, a file still being
written) does not end the wait. With --replaced it waits instead until NAME
holds a segment other than the one there now (any segment, if there is
none), such as a new version put there by a producer's Replace, or by rm
and create.

The exit status is 0 when the segment is there, 1 when --timeout (a
duration such as 30s or 5m; none by default) runs out first, and 130 when
interrupted (Ctrl-C). Nothing is printed on success, so that

	shmtensor wait --timeout 1m features && python3 train.py

runs the next step once a producer has published. On Linux it sleeps on
inotify events for the name's directory, not polling.
`,
	MinArgs: 1,
	MaxArgs: 1,
}

var (
	waitTimeout  = cmdWait.Flag.Duration("timeout", 0, "give up after `D` (exit status 1); 0 waits as long as it takes")
	waitReplaced = cmdWait.Flag.Bool("replaced", false, "wait for a segment other than the one under NAME now")
)

func init() { cmdWait.Run = runWait }

func runWait(c *Command, args []string) error {
	if *waitTimeout < 0 {
		return usagef("--timeout %v is negative", *waitTimeout)
	}
	return waitSegment(args[0], *waitTimeout, *waitReplaced)
}
