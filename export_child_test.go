//go:build linux

package shmtensor

import "os/exec"

// ChildRoles is childRoles for the external package shmtensor_test: its
// tests register roles in an init function to run their own code in child
// processes (process_test.go dispatches them).
var ChildRoles = childRoles

// ChildCommand returns a command that runs this test binary in role, with
// SHMTENSOR_NAME set to name and env added.
func ChildCommand(role, name string, env ...string) *exec.Cmd { return child(role, name, env...) }

// StartChild is startChild for the external test package.
var StartChild = startChild

// UniqueName is uniqueName for the external test package.
var UniqueName = uniqueName

// WaitBlockedLockers is waitBlockedLockers for the external test package.
var WaitBlockedLockers = waitBlockedLockers
