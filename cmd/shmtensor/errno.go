//go:build !plan9

package main

import "syscall"

// errNoSpace is the error of a full filesystem, for hints.
var errNoSpace error = syscall.ENOSPC
