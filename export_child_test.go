//go:build linux

package shmtensor

import "os/exec"

// ChildRoles lets tests of the external package shmtensor_test run their
// own code in child processes: they register a role in an init function,
// and TestMain's child dispatch (process_test.go) runs it.
var ChildRoles = map[string]func(name string) error{}

// ChildCommand returns a command that runs this test binary in role, with
// SHMTENSOR_NAME set to name and env added.
func ChildCommand(role, name string, env ...string) *exec.Cmd { return child(role, name, env...) }

// UniqueName is uniqueName for the external test package.
var UniqueName = uniqueName
