//go:generate go test -run=^TestDocsUpToDate$ -fixdocs

package main

import (
	"fmt"
	"os"
)

// commands in the order of the command list; help topics are in help.go.
var commands []*Command

func init() {
	commands = []*Command{
		cmdList, cmdInfo, cmdCreate, cmdRm, cmdShow, cmdCreateChannel, cmdSend, cmdTail, cmdImport, cmdExport, cmdServe, cmdLock, cmdWait, cmdWho, cmdGC, cmdDoctor,
		cmdDemo,
		cmdVersion, cmdHelp, cmdDemoChild,
	}
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run runs the command line args (without the program name) and returns the
// exit status.
func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "shmtensor: no command given")
		printMainUsage(os.Stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		args = []string{"help"}
	}
	c := lookup(args[0])
	if c == nil {
		msg := fmt.Sprintf("shmtensor: unknown command %q", args[0])
		if s := suggest(args[0], commands); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		fmt.Fprintln(os.Stderr, msg)
		printMainUsage(os.Stderr)
		return 2
	}
	rest, err := c.parseArgs(args[1:])
	if err == errHelp {
		c.printHelp(os.Stdout)
		return 0
	}
	if err == nil {
		err = c.Run(c, rest)
	}
	if err != nil {
		return c.report(err)
	}
	return 0
}

func lookup(name string) *Command {
	for _, c := range commands {
		if c.Name() == name {
			return c
		}
	}
	return nil
}
