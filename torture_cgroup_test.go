//go:build torture && linux

package shmtensor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func init() { childRoles["torture-cgroup"] = tortureCgroup }

// tortureCgroup joins the memory cgroup SHMTENSOR_CGROUP and makes reserved
// segments of random sizes up to SHMTENSOR_MAX bytes, keeping up to four,
// filling each; it prints its counts. A Create past the cgroup's room must
// be ENOSPC: an OOM kill shows as the child's death.
func tortureCgroup(prefix string) error {
	dir := os.Getenv("SHMTENSOR_CGROUP")
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		return err
	}
	rounds, _ := strconv.Atoi(os.Getenv("SHMTENSOR_ROUNDS"))
	most, _ := strconv.Atoi(os.Getenv("SHMTENSOR_MAX"))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	var created, enospc int
	var open []*Tensor[uint8]
	for i := range rounds {
		t, err := Create[uint8](fmt.Sprintf("%s-%d", prefix, i), []int{rng.IntN(most)})
		switch {
		case errors.Is(err, syscall.ENOSPC):
			enospc++
		case err != nil:
			return err
		default:
			created++
			t.Fill(0xa5)
			open = append(open, t)
		}
		if len(open) > 4 || rng.IntN(4) == 0 {
			k := rng.IntN(len(open) + 1)
			for _, o := range open[:k] {
				name := o.Segment().Name()
				o.Close()
				if err := Delete(name); err != nil {
					return err
				}
			}
			open = open[k:]
		}
	}
	for _, o := range open {
		name := o.Segment().Name()
		o.Close()
		Delete(name)
	}
	fmt.Println(created, enospc)
	return nil
}

// TestTortureCgroupENOSPC: in a memory cgroup limited to 64 MiB, reserved
// Creates of 0–40 MiB, several alive at once, either fail with ENOSPC or
// are filled entirely; the OOM killer never runs.
func TestTortureCgroupENOSPC(t *testing.T) {
	dir, oomKills := limitedCgroup(t, 64<<20)
	prefix := uniqueName(t)
	t.Cleanup(func() { removeByPrefix(prefix) })
	rounds := scale(2000, 100)
	cmd := child("torture-cgroup", prefix, "SHMTENSOR_CGROUP="+dir,
		fmt.Sprintf("SHMTENSOR_ROUNDS=%d", rounds), fmt.Sprintf("SHMTENSOR_MAX=%d", 40<<20))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child died (OOM kills in the cgroup: %d): %v", oomKills(), err)
	}
	var created, enospc int
	fmt.Sscan(string(out), &created, &enospc)
	result(t, "creates", rounds, "created_and_filled", created, "create_ENOSPC", enospc, "oom_kills", oomKills())
	if enospc == 0 || created == 0 || oomKills() != 0 {
		t.Fatalf("the case did not reach both outcomes, or was OOM-killed: %s", out)
	}
}
