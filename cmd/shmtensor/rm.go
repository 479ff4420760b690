package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shmtensor/shmtensor"
)

var cmdRm = &Command{
	UsageLine: "rm NAME...",
	Short:     "delete segments (only tensor segments)",
	Long: `
Rm deletes each named segment. Anything that is not a tensor segment
(another program's shared memory, a corrupt file) is refused and left alone.
Every name is tried; the exit status is 1 if any of them failed. Processes
that have a segment mapped keep using it until they close it.
`,
	MinArgs: 1,
	MaxArgs: manyArgs,
}

func init() { cmdRm.Run = runRm }

func runRm(c *Command, args []string) error {
	status := 0
	for _, name := range args {
		if err := shmtensor.Delete(name); err != nil {
			if errors.Is(err, shmtensor.ErrNotTensor) {
				err = fmt.Errorf("%w; refusing to remove it", err)
			}
			c.warn(err)
			status = 1
			continue
		}
		fmt.Printf("removed %s\n", canonical(name))
	}
	if status != 0 {
		return exitStatus(status)
	}
	return nil
}

// canonical adds the shm:// scheme to a bare name.
func canonical(name string) string {
	if strings.Contains(name, "://") {
		return name
	}
	return "shm://" + name
}
