//go:build torture && linux

package shmtensor

// Part of the adversarial campaign (torture_test.go).
// The campaign's fights over names: squatters, other users, deleters.

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

func init() {
	childRoles["torture-squat"] = tortureSquat
}

// tortureSquat runs as another user: it pre-creates the name with mode
// 0666, as a squatter would, and prints its uid.
func tortureSquat(name string) error {
	a, err := Create[float64](name, []int{4}, Mode(0o666))
	if err != nil {
		return err
	}
	a.Close()
	fmt.Println(os.Getuid())
	return nil
}

// TestTorturePermissions: a segment squatted by another user is refused by
// the victim's Create (ErrExist) and Attach (ErrPermission), so the
// squatter's truncation cannot fault the victim; the other user cannot
// delete the victim's segments.
func TestTorturePermissions(t *testing.T) {
	needRoot(t, "a second user")
	rounds := scale(200, 5)
	var squatted, createRefused, attachRefused, deleteRefused int
	exe := nobodyExe(t)
	for range rounds {
		name := uniqueName(t)
		if out, err := runAsNobody(t, exe, "torture-squat", name); err != nil {
			t.Fatalf("squatter: %v %s", err, out)
		}
		squatted++
		if _, err := Create[float64](name, []int{4}); errors.Is(err, ErrExist) {
			createRefused++
		}
		if _, err := Attach[float64](name); errors.Is(err, ErrPermission) {
			attachRefused++
		}
		// The victim's own segment, 0644: the other user cannot remove it.
		mine := uniqueName(t)
		m, err := Create[float64](mine, []int{4}, Mode(0o644))
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
		if out, err := runAsNobody(t, exe, "attach-perm", mine); err == nil {
			deleteRefused++
		} else {
			t.Errorf("other user against a 0644 segment: %v %s", err, out)
		}
	}
	result(t, "rounds", rounds, "squatted", squatted, "victim_create_ErrExist", createRefused,
		"victim_attach_ErrPermission", attachRefused, "other_user_delete_refused", deleteRefused)
	if createRefused != rounds || attachRefused != rounds || deleteRefused != rounds {
		t.Fatal("a squatted or foreign segment was accepted")
	}
}

// TestTortureDeleteRace: Delete against a process swapping the name with
// a foreign file's (renameat2 RENAME_EXCHANGE in a loop).
func TestTortureDeleteRace(t *testing.T) {
	d := scale(30*time.Second, 700*time.Millisecond)
	r := deleteRace(t, d, 0)
	result(t, "seconds", d.Seconds(), "rounds", r.rounds, "deleted", r.deleted, "refused_replaced", r.replaced,
		"foreign_removed", r.foreignRemoved, "segment_left_after_success", r.segmentLeft, "other_errors", r.otherErrors)
	if r.foreignRemoved != 0 || r.segmentLeft != 0 || r.otherErrors != 0 {
		t.Fatalf("%+v", r)
	}
}

// TestTortureDeleteRaceChurn: the delete race while two more processes
// create, replace and delete segments under the same name, so that Delete
// finds segments taking the name while it holds the foreign file aside.
func TestTortureDeleteRaceChurn(t *testing.T) {
	d := scale(20*time.Second, 700*time.Millisecond)
	r := deleteRace(t, d, 2)
	result(t, "seconds", d.Seconds(), "rounds", r.rounds, "deleted", r.deleted, "refused_foreign", r.replaced,
		"gone_ErrNotExist", r.gone, "foreign_removed", r.foreignRemoved, "other_errors", r.otherErrors, "private_names_left", len(r.leftovers))
	if r.foreignRemoved != 0 || r.otherErrors != 0 || len(r.leftovers) > 0 {
		t.Fatalf("%+v", r)
	}
}

// TestTortureDeleteChurn: 6 processes Create, Attach, Delete and Replace
// on 3 names for 20 s (SHMTENSOR_CHURN overrides): every error is ErrExist
// or ErrNotExist, and nothing is left at a private name.
func TestTortureDeleteChurn(t *testing.T) {
	const procs = 6
	d := churnDuration(t, scale(20*time.Second, 700*time.Millisecond))
	r := churn(t, procs, d)
	kv := []any{"processes", procs, "seconds", d.Seconds(), "ops", r.total("")}
	for _, op := range []string{"create", "attach", "delete", "replace"} {
		for _, kind := range []string{"ok", "exist", "notexist", "other"} {
			if v := r.counts[op+"."+kind]; v > 0 {
				kv = append(kv, op+"_"+kind, v)
			}
		}
	}
	kv = append(kv, "errors_outside_contract", len(r.others), "private_names_left", len(r.leftovers))
	result(t, kv...)
	checkChurn(t, r)
}
