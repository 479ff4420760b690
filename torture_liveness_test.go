//go:build torture && linux

package shmtensor

import (
	"testing"
	"time"

	"github.com/shmtensor/shmtensor/internal/testenv"
)

// TestTortureLivenessNamespaces: rounds of a holder of 1,000 segments in
// one PID namespace and gc (DeleteUnused) in a sibling one that cannot see
// it in /proc: gc deletes none while the holder lives, all once it died.
func TestTortureLivenessNamespaces(t *testing.T) {
	unshare := testenv.NeedUnshare(t)
	const n = 1000
	rounds := scale(10, 1)
	var unseen, keptAlive, deletedAfter, seen int
	for range rounds {
		during, after := livenessRound(t, unshare, n)
		seen += during["seen"]
		unseen += during["unseen"]
		keptAlive += during["inuse"]
		deletedAfter += after["deleted"]
		if during["deleted"] != 0 || after["inuse"] != 0 {
			t.Fatalf("while held: %v; after: %v", during, after)
		}
	}
	result(t, "rounds", rounds, "segments", rounds*n, "seen_in_proc", seen, "reported_unseen", unseen,
		"left_alone_while_held", keptAlive, "deleted_while_held", rounds*n-keptAlive, "deleted_after_death", deletedAfter)
	if keptAlive != rounds*n || deletedAfter != rounds*n {
		t.Fatalf("%d of %d left alone while held, %d deleted after", keptAlive, rounds*n, deletedAfter)
	}
}

// TestTortureGCChurn: gc (DeleteUnused, every 50 ms, --older-than 0s)
// against 4 processes churning on 5 names: it deletes no segment a live
// process maps. The same churn against gc's check before the fix (Stat,
// Mappers, Delete) is run as the oracle's control, and its faults counted.
func TestTortureGCChurn(t *testing.T) {
	d := gcChurnDuration(t, scale(20*time.Second, 500*time.Millisecond))
	faults, deleted, refused, vanished, ops := gcChurn(t, d, func(name string, id FileID) error { return DeleteUnused(name, id) })
	cd := scale(5*time.Second, 300*time.Millisecond)
	oldFaults, oldDeleted, _, _, _ := gcChurn(t, cd, oldGCCheck)
	result(t, "seconds", d.Seconds(), "churn_ops", ops, "deleted", deleted, "left_alone", refused,
		"unlinked_by_replace_under_a_child", vanished-faults, "deleted_while_mapped", faults,
		"control_seconds", cd.Seconds(), "control_deleted", oldDeleted, "control_deleted_while_mapped", oldFaults)
	if faults != 0 {
		t.Fatalf("gc deleted %d segments that a live process mapped", faults)
	}
}
