//go:build linux

package shmtensor_test

// Helpers of the tests across processes (coordination_*_process_test.go),
// whose roles run in child processes: the test binary again, through
// TestMain's dispatch, with their parameters in environment variables.

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shmtensor/shmtensor"
)

func envInt(key string) int {
	n, err := strconv.Atoi(os.Getenv(key))
	if err != nil {
		panic(fmt.Sprintf("child: %s=%q: %v", key, os.Getenv(key), err))
	}
	return n
}

// runChildren starts the commands, waits for all and returns their
// standard outputs; a failed child fails the test.
func runChildren(t *testing.T, cmds ...*exec.Cmd) []string {
	t.Helper()
	outs := make([]string, len(cmds))
	errs := make([]error, len(cmds))
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Go(func() {
			out, err := c.Output()
			outs[i], errs[i] = strings.TrimSpace(string(out)), err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("child %d (%s): %v", i, cmds[i].Env[len(cmds[i].Env)-1], err)
		}
	}
	return outs
}

func createTensor[T shmtensor.Number](t *testing.T, name string, shape ...int) *shmtensor.Tensor[T] {
	t.Helper()
	x, err := shmtensor.Create[T](name, shape)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close(); shmtensor.Delete(name) })
	return x
}
