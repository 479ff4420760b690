package main

import (
	"fmt"
	"os"
	"sync/atomic"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/floor"
)

const shmDir = "/dev/shm"

var nameSeq atomic.Int64

// shmName returns a fresh shm name for this process.
func shmName(what string) string {
	return fmt.Sprintf("shmtensor-bench-%d-%s-%d", os.Getpid(), what, nameSeq.Add(1))
}

// float64s is the shape of a 1-D float64 tensor of n bytes.
func float64s(n int64) []int { return []int{int(n / 8)} }

// Attach and its floors.

const (
	caseFloorAttach  = "syscall floor: open+fstat+mmap+munmap+close"
	caseFloorAttachH = "floor + pread of the 4 KiB header page"
	caseFloorAttachL = "floor + liveness lock (fcntl) + pread: the system calls Attach makes"
	caseAttach       = "shmtensor.Attach + Close"
)

func benchAttach(e *env) []row {
	rounds, batch := 61, 150
	if *quick {
		rounds, batch = 7, 50
	}
	py, pyErr := startPython(e)
	if pyErr != nil {
		progress("numpy: skipped: %v", pyErr)
	} else {
		defer py.close()
	}
	var rows []row
	for _, sz := range attachSizes() {
		name := shmName("attach")
		t, err := shmtensor.Create[float64](name, float64s(sz.Bytes), shmtensor.Lazy())
		if err != nil {
			fatal(err)
		}
		t.Close()
		path := shmDir + "/" + name
		hdr := make([]byte, 4096)
		cases := []bcase{
			{name: caseFloorAttach, op: func() error { return floor.Attach(path, nil) }},
			{name: caseFloorAttachH, op: func() error { return floor.Attach(path, hdr) }},
			{name: caseFloorAttachL, op: func() error { return floor.AttachLocked(path, hdr) }},
			{name: caseAttach, op: func() error {
				t, err := shmtensor.Attach[float64](name)
				if err != nil {
					return err
				}
				return t.Close()
			}},
		}
		n := sz.Bytes / 8
		if py != nil {
			pyName := shmName("py")
			if err := py.create(pyName, sz.Bytes+4096); err != nil {
				fatal(err)
			}
			cases = append(cases,
				bcase{name: caseNumpyLoad, timed: func(b int) (float64, error) { return py.batch("load", path, "", n, b) }},
				bcase{name: caseSharedMem, timed: func(b int) (float64, error) { return py.batch("attach", "", pyName, n, b) }},
			)
		}
		res, err := interleave(rounds, batch, cases)
		os.Remove(path)
		if err != nil {
			fatal(err)
		}
		for _, c := range []string{caseFloorAttach, caseFloorAttachH, caseFloorAttachL, caseAttach, caseNumpyLoad, caseSharedMem} {
			if py == nil && (c == caseNumpyLoad || c == caseSharedMem) {
				rows = append(rows, row{Group: "attach", Case: c, Size: sz, Skip: "skipped: numpy not available (" + pyErr.Error() + ")"})
				continue
			}
			rows = append(rows, newRow("attach", c, sz, res[c], caseFloorAttach, res[caseFloorAttach]))
		}
		msg := fmt.Sprintf("attach %-7s floor %s, shmtensor %s (%.2f× floor)", sz.Label,
			fmtNs(summarise(res[caseFloorAttach]).Med), fmtNs(summarise(res[caseAttach]).Med), rows[len(rows)-3].Ratio)
		if py != nil {
			msg += fmt.Sprintf(", numpy.load %s, SharedMemory %s", fmtNs(rows[len(rows)-2].S.Med), fmtNs(rows[len(rows)-1].S.Med))
		}
		progress("%s", msg)
	}
	return rows
}

// Create and its floors.

const (
	caseFloorFalloc = "syscall floor: open(O_TMPFILE)+fallocate+mmap+munmap+close"
	caseFloorTrunc  = "syscall floor: open(O_TMPFILE)+ftruncate+mmap+munmap+close"
	caseFloorNamed  = "ftruncate floor + linkat + unlink (a named create and delete)"
	caseCreate      = "shmtensor.Create (reserved) + Delete + Close"
	caseCreateLazy  = "shmtensor.Create(Lazy()) + Delete + Close"
)

func createOp(name string, sz size, opts ...shmtensor.Option) func() error {
	return func() error {
		t, err := shmtensor.Create[float64](name, float64s(sz.Bytes), opts...)
		if err != nil {
			return err
		}
		if err := shmtensor.Delete(name); err != nil {
			t.Close()
			return err
		}
		return t.Close()
	}
}

func benchCreate() []row {
	var rows []row
	for _, sz := range attachSizes() {
		rounds, batch := 21, 40
		switch {
		case *quick:
			rounds, batch = 5, 5
		case sz.Bytes >= 1<<30:
			rounds, batch = 5, 1
		case sz.Bytes >= 64<<20:
			rounds, batch = 11, 2
		}
		n := sz.Bytes + 4096 // the NPY header page shmtensor adds
		name := shmName("create")
		named := shmDir + "/" + shmName("floor")
		res, err := interleave(rounds, batch, []bcase{
			{name: caseFloorFalloc, op: func() error { return floor.Create(shmDir, n, true, "") }},
			{name: caseFloorTrunc, op: func() error { return floor.Create(shmDir, n, false, "") }},
			{name: caseFloorNamed, op: func() error { return floor.Create(shmDir, n, false, named) }},
			{name: caseCreate, op: createOp(name, sz)},
			{name: caseCreateLazy, op: createOp(name, sz, shmtensor.Lazy())},
		})
		os.Remove(shmDir + "/" + name)
		os.Remove(named)
		if err != nil {
			fatal(err)
		}
		rows = append(rows,
			newRow("create", caseFloorFalloc, sz, res[caseFloorFalloc], "", nil),
			newRow("create", caseFloorTrunc, sz, res[caseFloorTrunc], "", nil),
			newRow("create", caseFloorNamed, sz, res[caseFloorNamed], caseFloorTrunc, res[caseFloorTrunc]),
			newRow("create", caseCreate, sz, res[caseCreate], caseFloorFalloc, res[caseFloorFalloc]),
			newRow("create", caseCreateLazy, sz, res[caseCreateLazy], caseFloorTrunc, res[caseFloorTrunc]),
		)
		progress("create %-7s reserved %s (%.2f× fallocate floor), lazy %s (%.2f× ftruncate floor)", sz.Label,
			fmtNs(rows[len(rows)-2].S.Med), rows[len(rows)-2].Ratio, fmtNs(rows[len(rows)-1].S.Med), rows[len(rows)-1].Ratio)
	}
	return rows
}
