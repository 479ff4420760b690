// Package testenv holds what tests of several packages need from the
// machine they run on, skipping (or, under CI=true, failing) when it is
// missing. It imports only the standard library.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// NeedUnshare returns the path of unshare(1) if PID namespaces can be made
// with it here (root, util-linux); it skips otherwise, and fails under
// CI=true, which runs as root.
func NeedUnshare(t testing.TB) string {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
		skip = t.Fatalf
	}
	path, err := exec.LookPath("unshare")
	if err != nil {
		skip("unshare(1) (util-linux) is not installed: %v", err)
	}
	if os.Geteuid() != 0 {
		skip("making PID namespaces with unshare needs root")
	}
	if out, err := exec.Command(path, "--pid", "--fork", "--mount-proc", "--kill-child", "true").CombinedOutput(); err != nil {
		skip("unshare --pid --fork --mount-proc fails here: %v: %s", err, out)
	}
	return path
}
