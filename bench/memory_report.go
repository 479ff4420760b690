package main

import (
	"fmt"
	"math"
	"strings"
)

// memoryTargets are the targets of issue #14.
func (r *report) memoryTargets() []target {
	var ts []target
	sz := memSize().Label
	pop := r.findRow("memory", caseTouchWPop, sz).Ratio
	ts = append(ts, target{Name: "Attach + write every page of a resident " + sz + " segment: Populate() ≥ 3× faster",
		Measured: fmt.Sprintf("%.2f× (read every page: %.2f×)", 1/pop, 1/r.findRow("memory", caseTouchRPop, sz).Ratio),
		Met:      1/pop >= 3, Unknown: math.IsNaN(pop),
		Why: "MAP_POPULATE maps every page in one pass through the page cache; what is left is writing one byte per page, a TLB miss and a cache miss each, and the populate itself, which costs about what one pass of read faults with fault-around costs."})
	huge := r.findRow("memory", caseHugeR, sz)
	hs := r.findRow("memory", caseHugeSum, mib256.Label).Ratio
	hm := r.findRow("memory", caseHugeMul, "2048×2048").Ratio
	if *quick {
		hs = r.findRow("memory", caseHugeSum, mib16.Label).Ratio
		hm = r.findRow("memory", caseHugeMul, "512×512").Ratio
	}
	ts = append(ts, target{Name: "huge=advise tmpfs: a HugePages() segment attached + read page by page ≥ 5× faster than on 4 KiB pages",
		Measured: fmt.Sprintf("%.1f× (Values() sum %.2f×, gonum Mul %.2f× the 4 KiB-page speed)", 1/huge.Ratio, 1/hs, 1/hm),
		Met:      1/huge.Ratio >= 5, Unknown: math.IsNaN(huge.Ratio),
		Why: "Reading one byte per 4 KiB page of a huge-page mapping costs one fault per 2 MiB, so what is left is the TLB and cache misses of the reads themselves."})

	var parts []string
	worst := math.Inf(1)
	for _, op := range []string{"Fill", "CopyFrom (contiguous)", "Clone"} {
		x := r.findRow("memory", bulkCase(op, true), mib256.Label).Ratio
		if *quick {
			x = r.findRow("memory", bulkCase(op, true), mib16.Label).Ratio
		}
		parts = append(parts, fmt.Sprintf("%s %.2f×", op, 1/x))
		worst = math.Min(worst, math.Round(100/x)/100)
	}
	label := mib256.Label
	if *quick {
		label = mib16.Label
	}
	split := r.findRow("memory", caseBulkCopySplit, label).Ratio
	tr := r.findRow("memory", bulkCase("CopyFrom (transposed view)", true), label).Ratio
	ts = append(ts, target{Name: "Fill/CopyFrom/Clone of 256 MiB ≥ 1.4× their one-goroutine speed (GOMAXPROCS=2)",
		Measured: strings.Join(parts, ", ") + fmt.Sprintf("; transposing CopyFrom %.2f×; copy() split by hand %.2f×", 1/tr, 1/split),
		Met:      worst >= 1.4, Unknown: math.IsInf(worst, 1) || math.IsNaN(worst),
		Why: fmt.Sprintf("Two goroutines share one memory bus and, here, two vCPUs with other jobs: plain copy() split by hand gains %.2f× in the same rounds, the ceiling for any split copy; when it is below 1.4× too, the machine's memory bandwidth, not the code, is the limit. Clone also allocates its result, and the first Clone of a run takes fresh heap memory whose pages the kernel faults in and zeroes during the copy.", 1/split)})

	parts = parts[:0]
	worst = math.Inf(1)
	for _, op := range []string{"Fill", "CopyFrom (contiguous)", "Clone"} {
		c := bulkCase(op, true)
		x := r.findRow("memory", c, label)
		base := r.find("memory", caseBulkCopy, label)
		q := base.Med / x.S.Med // speed relative to copy()
		parts = append(parts, fmt.Sprintf("%s %.2f×", op, q))
		worst = math.Min(worst, math.Round(q*100)/100)
	}
	ts = append(ts, target{Name: "contiguous Fill/CopyFrom/Clone within 0.7× of copy() on the same bytes",
		Measured: strings.Join(parts, ", ") + " the speed of one copy()",
		Met:      worst >= 0.7, Unknown: math.IsInf(worst, 1) || math.IsNaN(worst),
		Why: "Clone allocates its 256 MiB on the Go heap each time, which copy() into an existing slice does not: the allocation is not zeroed (the copy writes every element), but fresh heap memory costs the kernel's page faults, which zero each page once."})

	var exp, imp []string
	worst = math.Inf(1)
	for _, x := range r.Memory {
		if x.Group != "stream" || x.Base != "cp" || x.Skip != "" {
			continue
		}
		_, where, _ := strings.Cut(x.Case, ", ")
		p := fmt.Sprintf("%s %.2f×", where, 1/x.Ratio)
		if strings.HasPrefix(x.Case, caseExport) {
			exp = append(exp, p)
		} else {
			imp = append(imp, p)
		}
		worst = math.Min(worst, math.Round(100/x.Ratio)/100)
	}
	ts = append(ts, target{Name: "export/import of " + sz + " ≥ 0.8× the speed of cp",
		Measured: "export " + strings.Join(exp, ", ") + "; import " + strings.Join(imp, ", "),
		Met:      worst >= 0.8, Unknown: math.IsInf(worst, 1) || math.IsNaN(worst),
		Why: "Both sides are one kernel copy of the data; a gap is the page-cache work of the destination (allocating and, for a reserved segment, zeroing its pages before they are overwritten)."})
	return ts
}

const memoryText = `## Big tensors: populate, huge pages, parallel bulk work, export and import

`

const memoryTablesText = `Every page of a resident 1 GiB segment touched once (one byte per 4 KiB page) right after Attach, with
and without ` + "`Populate()`" + ` (MAP_POPULATE; with ` + "`HugePages()`" + `, MADV_POPULATE_READ after the advice). How to populate
was chosen with a throwaway program on the same machine, a fresh mapping of a resident 1 GiB tmpfs file per
trial: writing every page took about 45 ms after MADV_POPULATE_READ, 50–60 ms after MAP_POPULATE and
110–125 ms after MADV_POPULATE_WRITE (which dirties every page on the way), against 280–450 ms without;
reading every page took 40–50 ms whichever way, as read faults already map 16 pages at a time
(fault-around), so ` + "`Populate()`" + ` gains little for reads. Then the same read on a tmpfs that this program mounts with
` + "`huge=advise`" + ` (it runs as root; otherwise those rows say skipped): one segment created with ` + "`HugePages()`" + `,
one without, both resident; a ` + "`Values()`" + ` sum over 256 MiB and gonum ` + "`Mul`" + ` of 2048×2048 matrices (all three
operands in segments) on huge against 4 KiB pages. Then the bulk operations on 256 MiB of float64 in shared
segments, each on one goroutine (GOMAXPROCS=1 for that batch) and on GOMAXPROCS goroutines, beside ` + "`copy()`" + `
between two heap slices, whole and split by hand into GOMAXPROCS parts (the ceiling of any split copy).
Clone allocates its result on the Go heap without zeroing it, as the copy writes every element: with
` + "`make`" + `, the runtime cleared the 256 MiB on one goroutine first, and Clone gained only 1.08× from the split,
at 0.68× the speed of one ` + "`copy()`" + `, in an earlier run of this program.
The ratio of a GOMAXPROCS row is to its one-goroutine row; its extra column also gives its speed against
one ` + "`copy()`" + `.

gonum ` + "`Mul`" + ` on huge pages measured from 0.62× to 1.08× its speed on 4 KiB pages over the seven runs made
while writing this (its goroutines compete with other jobs for the two cores); no cause for the slower
runs was established. (A candidate: the 16 KiB row stride of 2048×2048 float64 matrices falls into the
same cache sets when pages are physically contiguous, which scattered 4 KiB pages avoid; a quick check
with 2000×2000 under load was inconclusive.)

`

const thresholdText = `Fill of contiguous heap tensors of growing size on one goroutine against GOMAXPROCS goroutines
(batches of many Fills), to place the size from which bulk work splits. Starting and waiting for a
goroutine costs about a microsecond; below 1 MiB a tensor sits in the caches of the core that wrote it,
so splitting cannot gain. These tensors are hot: filled again and again, they stay in the caches (up to
8 MiB here), where a second core gains nothing and ratios a little above 1 are the price of moving
cache lines to it. Big or cold tensors are memory-bound and gain (the 256 MiB rows above). Bulk work
splits once every goroutine gets at least 1 MiB (` + "`strided.ParallelMin`" + `), where starting the goroutines costs
under 1% of the time.

`

const streamText = `A resident 1 GiB segment exported to a file (` + "`Segment.WriteTo`" + ` into an ` + "`*os.File`" + `, what ` + "`shmtensor export`" + `
runs) against ` + "`cp`" + ` of the segment's file to the same place, and the exported file imported back
(` + "`Import`" + ` from the ` + "`*os.File`" + `, what ` + "`shmtensor import`" + ` runs) against ` + "`cp`" + ` of it to /dev/shm; once within
tmpfs and once between tmpfs and the disk. The destination is removed before each timed copy; writes to the
disk go to the page cache (no fsync, for cp as for shmtensor). ` + "`cp`" + ` (coreutils) copies with
copy_file_range where it can, else with read and write; shmtensor with copy_file_range, else splice(2) through a pipe
(one copy, page cache to page cache), in 2 MiB-aligned parts on GOMAXPROCS goroutines.

The command passes its file to WriteTo and Import itself when it draws no progress bar (standard error not
a terminal, or less than 16 MiB); with the bar it writes from or reads into the mapping in 4 MiB pieces.
Timed once by hand with /usr/bin/time (load average 9): ` + "`shmtensor export`" + ` of a 1 GiB segment to /var/tmp took
0.47–0.51 s against 0.49–0.57 s for ` + "`cp`" + ` of the segment's file, and ` + "`shmtensor import`" + ` of the file back
0.49–0.53 s against 0.55–0.70 s for ` + "`cp`" + ` into /dev/shm (three runs each).

`

const hugeMountText = `### Using huge pages

On Linux, huge pages for shared memory come from a tmpfs mounted with ` + "`huge=`" + `. Mount one for
shmtensor segments and use ` + "`file://`" + ` names on it:

` + "```" + `
mount -t tmpfs -o huge=advise,size=8G,mode=1777 tmpfs /mnt/hugeshm
` + "```" + `

` + "```go" + `
t, err := shmtensor.Create[float64]("file:///mnt/hugeshm/x.npy", []int{4096, 4096}, shmtensor.HugePages())
` + "```" + `

With ` + "`huge=advise`" + ` only mappings that ask with ` + "`HugePages()`" + ` get huge pages; ` + "`huge=always`" + ` gives them to every
segment and ` + "`huge=within_size`" + ` too, where a whole huge page fits within the file. To have them for plain ` + "`shm://`" + ` names, remount
/dev/shm (as root; it lasts until reboot, or put the option in /etc/fstab):
` + "`mount -o remount,huge=advise /dev/shm`" + `. ` + "`/sys/kernel/mm/transparent_hugepage/shmem_enabled`" + ` set to ` + "`deny`" + `
or ` + "`force`" + ` overrides every mount. Whether a segment got them: ` + "`Segment.HugePageBytes()`" + ` or ` + "`shmtensor info`" + `.
Huge pages are allocated when a page is first reserved or touched, so a segment created without
` + "`HugePages()`" + ` on a ` + "`huge=advise`" + ` mount keeps its small pages (khugepaged may collapse them later), while pages
that are huge are mapped huge by every process that attaches, with or without the option.

`
