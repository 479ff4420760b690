//go:build !unix

package main

import (
	"os"
	"os/exec"
)

var (
	forwardedSignals []os.Signal
	terminalSignals  = []os.Signal{os.Interrupt}
)

func exitCode(ee *exec.ExitError) int { return ee.ExitCode() }
