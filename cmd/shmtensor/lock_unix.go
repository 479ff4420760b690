//go:build unix

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// Signals that lock passes on to its command, and those a terminal sends
// to both, which it only survives.
var (
	forwardedSignals = []os.Signal{syscall.SIGTERM, syscall.SIGHUP}
	terminalSignals  = []os.Signal{os.Interrupt, syscall.SIGQUIT}
)

// exitCode is the shell's status of a command that failed: its exit
// status, or 128+N if signal N killed it.
func exitCode(ee *exec.ExitError) int {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}
