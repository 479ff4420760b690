//go:build torture && linux

// The adversarial campaign: go test -tags torture -run Torture -v .
//
// Every case runs real processes, is bounded in time, counts its outcomes
// and prints them as a "RESULT" line (appended to the file named by
// SHMTENSOR_TORTURE_REPORT, if set). SHMTENSOR_TORTURE=short runs each case
// for a few hundred milliseconds, for CI; the default is the full run that
// docs/RELIABILITY.md quotes. Cases needing root (mounting a small tmpfs,
// a second user, a memory cgroup) skip without it. SHMTENSOR_TORTURE_SYSCTL=1 lets the
// mapping-limit case lower vm.max_map_count for the whole machine for a few
// seconds (and restore it).

package shmtensor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

var short = os.Getenv("SHMTENSOR_TORTURE") == "short"

// scale returns full, or small in a short run.
func scale[T int | time.Duration](full, small T) T {
	if short {
		return small
	}
	return full
}

// result logs a case's counts as one line and appends it to the report.
func result(t *testing.T, kv ...any) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "RESULT %s:", strings.TrimPrefix(t.Name(), "Torture"))
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	t.Log(b.String())
	if p := os.Getenv("SHMTENSOR_TORTURE_REPORT"); p != "" {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, b.String())
			f.Close()
		}
	}
}

// checkContract fails the test unless err is nil or an *Error wrapping one
// of the sentinels or a system errno.
func checkContract(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %T is not an *Error: %v", what, err, err)
	}
	for _, s := range []error{ErrExist, ErrNotExist, ErrNotTensor, ErrDType, ErrShape, ErrInvalidName,
		ErrPermission, ErrNotSupported, ErrClosed, fs.ErrInvalid} {
		if errors.Is(err, s) {
			return
		}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return
	}
	t.Fatalf("%s: error matches no sentinel or errno: %v", what, err)
}
