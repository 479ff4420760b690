//go:build torture && linux

package shmtensor

// Part of the adversarial campaign (torture_test.go).
// The campaign's creators: racing, killed midway, out of room.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func init() {
	childRoles["torture-create-loop"] = tortureCreateLoop
	childRoles["torture-enospc"] = tortureENOSPC
}

// TestTortureCreateRace: 16 processes create one name at the same instant;
// exactly one wins and the 15 others attach the complete segment.
func TestTortureCreateRace(t *testing.T) {
	rounds := scale(60, 3)
	var won, lost, bad int
	for round := range rounds {
		name := uniqueName(t)
		start := time.Now().Add(200 * time.Millisecond).UnixNano()
		var wg sync.WaitGroup
		var mu sync.Mutex
		w := 0
		for range 16 {
			wg.Go(func() {
				out, err := child("race-create", name, fmt.Sprintf("SHMTENSOR_START=%d", start)).Output()
				mu.Lock()
				defer mu.Unlock()
				switch s := strings.TrimSpace(string(out)); {
				case err != nil:
					bad++
					t.Errorf("round %d: %v %q", round, err, s)
				case s == "won":
					w++
					won++
				case s == "lost":
					lost++
				default:
					bad++
				}
			})
		}
		wg.Wait()
		if w != 1 {
			t.Errorf("round %d: %d winners", round, w)
		}
		Delete(name)
	}
	result(t, "rounds", rounds, "processes", 16*rounds, "won", won, "lost_and_attached", lost, "failures", bad)
	if bad != 0 || won != rounds {
		t.Fatal("a round without exactly one winner")
	}
}

// tortureCreateLoop creates segments under numbered names until killed, in
// the directory SHMTENSOR_DIR (shm when empty), through the temporary-name
// path when SHMTENSOR_TEMPNAME is set.
func tortureCreateLoop(prefix string) error {
	if os.Getenv("SHMTENSOR_TEMPNAME") != "" {
		openTmpfile = func(string, uint32) (int, error) { return -1, syscall.EOPNOTSUPP }
	}
	dir := os.Getenv("SHMTENSOR_DIR")
	for i := 0; ; i++ {
		n := fmt.Sprintf("%s-%d", prefix, i)
		if dir != "" {
			n = "file://" + filepath.Join(dir, n)
		}
		var opts []Option
		if i%2 == 1 {
			opts = append(opts, SharedArrayLayout())
		}
		if i%3 == 2 {
			opts = append(opts, Lazy())
		}
		t, err := Create[float32](n, []int{1024, 1024 + i%7}, opts...)
		if err != nil {
			return err
		}
		t.Close()
		fmt.Println(n)
	}
}

// TestTortureKillDuringCreate: creators killed with SIGKILL at random
// moments leave every name either absent or attachable, and no temporary
// file on the O_TMPFILE path; on the temporary-name path what they leave is
// found and removed by RemoveStale.
func TestTortureKillDuringCreate(t *testing.T) {
	kills := scale(400, 6)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for _, mode := range []string{"shm", "file-tmpfile", "file-tempname"} {
		t.Run(mode, func(t *testing.T) {
			dir := ""
			if mode != "shm" {
				dir = t.TempDir()
			}
			var names, attachable, broken, temps, removedTemps int
			for k := range kills / 3 {
				prefix := uniqueName(t)
				t.Cleanup(func() { removeByPrefix(prefix) })
				env := []string{"SHMTENSOR_DIR=" + dir}
				if mode == "file-tempname" {
					env = append(env, "SHMTENSOR_TEMPNAME=1")
				}
				killMidway(t, child("torture-create-loop", prefix, env...), rng, 15*time.Millisecond)
				where := dir
				if where == "" {
					where = "/dev/shm"
				}
				matches, _ := filepath.Glob(filepath.Join(where, prefix+"*"))
				for _, m := range matches {
					names++
					n := filepath.Base(m)
					if dir != "" {
						n = "file://" + m
					}
					a, err := Attach[float32](n)
					if err != nil {
						broken++
						t.Errorf("kill %d: %s: %v", k, n, err)
						continue
					}
					attachable++
					a.Close()
					Delete(n)
				}
				tmp, _ := filepath.Glob(filepath.Join(where, tempPrefix+prefix+"*"))
				temps += len(tmp)
				if len(tmp) > 0 {
					removed, err := RemoveStale(where, 0)
					if err != nil {
						t.Fatal(err)
					}
					removedTemps += len(removed)
				}
			}
			result(t, "kills", kills/3, "names_found", names, "attachable", attachable, "broken", broken,
				"temporaries_left", temps, "temporaries_removed_by_RemoveStale", removedTemps)
			if broken != 0 || (mode != "file-tempname" && temps != 0) || removedTemps != temps {
				t.Fatal("a killed creator left something broken or unremovable")
			}
		})
	}
}

// tortureENOSPC fills the small filesystem SHMTENSOR_DIR with segments of
// random sizes, reserved and lazy (attached with Reserve before writing),
// writes every page of what it got, and prints its counts.
func tortureENOSPC(dir string) error {
	rounds, _ := strconv.Atoi(os.Getenv("SHMTENSOR_ROUNDS"))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	var created, enospc, reserveENOSPC, written int
	var open []*Tensor[uint8]
	var pending []string
	for i := range rounds {
		n := "file://" + filepath.Join(dir, fmt.Sprintf("s%d.npy", i))
		lazy := rng.IntN(2) == 0
		var opts []Option
		if lazy {
			opts = append(opts, Lazy())
		}
		a, err := Create[uint8](n, []int{rng.IntN(3 << 19)}, opts...)
		if errors.Is(err, syscall.ENOSPC) {
			enospc++
		} else if err != nil {
			return err
		} else {
			created++
			a.Close()
			pending = append(pending, n)
		}
		// Lazy segments are attached a little later, when others may have
		// taken the space their pages need; a reader makes one safe with
		// Reserve before touching it.
		if len(pending) >= 3 || !lazy {
			for _, p := range pending {
				a, err := Attach[uint8](p, Reserve())
				if errors.Is(err, syscall.ENOSPC) {
					reserveENOSPC++
					Delete(p)
				} else if err != nil {
					return err
				} else {
					a.Fill(0xa5)
					written++
					open = append(open, a)
				}
			}
			pending = pending[:0]
		}
		if len(open) > 5 || rng.IntN(6) == 0 {
			for _, o := range open {
				name := o.Segment().Name()
				o.Close()
				Delete(name)
			}
			open = open[:0]
		}
	}
	fmt.Println(created, enospc, reserveENOSPC, written)
	return nil
}

// TestTortureENOSPC: on a 4 MiB tmpfs, segments of random sizes either
// fail with ENOSPC or are fully writable; nothing faults (the work runs in
// a child, so a SIGBUS would show as its death).
func TestTortureENOSPC(t *testing.T) {
	dir := mountFS(t, "tmpfs", "size=4m")
	rounds := scale(20000, 300)
	out, err := child("torture-enospc", dir, fmt.Sprintf("SHMTENSOR_ROUNDS=%d", rounds)).Output()
	if err != nil {
		t.Fatalf("child died (a fault?): %v", err)
	}
	var created, enospc, reserveENOSPC, written int
	fmt.Sscan(string(out), &created, &enospc, &reserveENOSPC, &written)
	result(t, "creates", rounds, "created", created, "create_ENOSPC", enospc, "attach_Reserve_ENOSPC", reserveENOSPC,
		"filled_completely", written, "faults", 0)
	if enospc == 0 || created == 0 {
		t.Fatalf("the case did not reach both outcomes: %s", out)
	}
}
