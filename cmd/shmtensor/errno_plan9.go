package main

import "errors"

// errNoSpace stands in for ENOSPC, which Plan 9 does not have; the library
// makes no segments there, so nothing returns it.
var errNoSpace = errors.New("no space left on device")
