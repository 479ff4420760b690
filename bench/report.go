package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shmtensor/shmtensor/internal/units"
	"golang.org/x/sys/unix"
)

// row is one line of the results: a case at a size.
type row struct {
	Group  string // attach, create, handoff, resident, mul, access, coordination
	Case   string
	Method string // hand-off method, for the plot
	Size   size
	S      stats
	Base   string  // the case Ratio divides by; "" for none
	Ratio  float64 // S.Med / the base's median
	Extra  string
	Skip   string // why the case was not measured
}

// newRow summarises ns. With a baseline, Ratio is the median over rounds of
// ns[i] / base[i]: each round's cases ran back to back, so a burst of load
// from elsewhere that slows one round cancels out.
func newRow(group, c string, sz size, ns []float64, baseCase string, base []float64) row {
	r := row{Group: group, Case: c, Size: sz, S: summarise(ns), Base: baseCase, Ratio: math.NaN()}
	if baseCase != "" && len(base) == len(ns) && len(ns) > 0 {
		q := make([]float64, len(ns))
		for i := range ns {
			q[i] = ns[i] / base[i]
		}
		r.Ratio = summarise(q).Med
	}
	return r
}

// short names of the baselines in the ratio column.
var baseName = map[string]string{
	caseFloorAttach:            "floor",
	caseFloorFalloc:            "fallocate floor",
	caseFloorTrunc:             "ftruncate floor",
	handoffLabel(methodBinary): "pipe+binary",
	caseSumHeap:                "heap loop",
	caseFSumHeap:               "heap floats.Sum",
	caseMulHeap:                "heap Mul",
	caseIndexInt:               "plain indexing",
	caseIndexFloat:             "plain indexing",
	caseCopyPlain:              "copy()",
	caseTouchW:                 "plain attach",
	caseTouchR:                 "plain attach",
	caseHugeRSmall:             "4 KiB pages",
	caseHugeSumSmall:           "4 KiB pages",
	caseHugeMulSmall:           "4 KiB pages",
	caseBulkCopy:               "copy()",
	caseFcntlPair:              "fcntl pair",
	caseLock:                   "Segment.Lock",
	caseAddHeap:                "heap AtomicAdd",
	casePipeTrip:               "pipe",
}

func (r row) ratioText() string {
	if r.Skip != "" || r.Base == "" || math.IsNaN(r.Ratio) {
		return ""
	}
	name, ok := baseName[r.Base]
	if !ok {
		name = r.Base
	}
	return fmt.Sprintf("%.2f× %s", r.Ratio, name)
}

type env struct {
	Date, GoVersion, CPU, Kernel, Python, Numpy, LoadAvg, ShmFree string
	NumCPU                                                        int
}

func environment() env {
	e := env{
		Date:      time.Now().UTC().Format("2006-01-02 15:04 MST"),
		GoVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		CPU:       "unknown",
		NumCPU:    runtime.NumCPU(),
		Python:    "–",
		Numpy:     "not available",
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				e.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		e.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		e.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	var st unix.Statfs_t
	if unix.Statfs(shmDir, &st) == nil {
		e.ShmFree = units.Bytes(int64(st.Bavail)*int64(st.Bsize)) + " free of " + units.Bytes(int64(st.Blocks)*int64(st.Bsize))
	}
	return e
}

type report struct {
	Env                                            env
	Quick                                          bool
	Attach, Create, Handoff, Resident, Mul, Access []row
	Memory                                         []row
	Coord                                          []row
	Chan                                           []row
	Bundle                                         []row
	BundleX                                        bundleShmem
	ChanX                                          chanExtra
	Elapsed                                        time.Duration
}

func (r *report) all() [][]row {
	return [][]row{r.Attach, r.Create, r.Handoff, r.Resident, r.Mul, r.Access, r.Coord, r.Chan, r.Bundle, r.Memory}
}

// findRow returns the row of a case at a size label; its Ratio is NaN if
// absent.
func (r *report) findRow(group, c, label string) row {
	for _, g := range r.all() {
		for _, x := range g {
			if x.Group == group && x.Case == c && x.Size.Label == label && x.Skip == "" {
				return x
			}
		}
	}
	return row{Ratio: math.NaN(), S: stats{Min: math.NaN(), Med: math.NaN(), Max: math.NaN()}}
}

// find returns the stats of a case at a size label, NaN if absent.
func (r *report) find(group, c, label string) stats {
	for _, g := range r.all() {
		for _, x := range g {
			if x.Group == group && x.Case == c && x.Size.Label == label && x.Skip == "" {
				return x.S
			}
		}
	}
	return stats{Min: math.NaN(), Med: math.NaN(), Max: math.NaN()}
}

func (r *report) printTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "group\tcase\tsize\tmin\tmedian\tmax\tratio\t")
	for _, g := range r.all() {
		for _, x := range g {
			if x.Skip != "" {
				fmt.Fprintf(tw, "%s\t%s\t%s\t\t\t\t\t%s\n", x.Group, x.Case, x.Size.Label, x.Skip)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Group, x.Case, x.Size.Label,
				fmtNs(x.S.Min), fmtNs(x.S.Med), fmtNs(x.S.Max), x.ratioText(), x.Extra)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, t := range r.targets() {
		if t.Unknown && *onlyFlag != "" {
			continue // a section -only did not run
		}
		fmt.Fprintf(w, "%-6s %s: %s\n", t.verdict(), t.Name, t.Measured)
	}
}

func (r *report) mdTable(b *bytes.Buffer, rows []row) {
	b.WriteString("| case | size | min | median | max | ratio | |\n|---|---|--:|--:|--:|--:|---|\n")
	for _, x := range rows {
		if x.Skip != "" {
			fmt.Fprintf(b, "| %s | %s | | %s | | | |\n", x.Case, x.Size.Label, x.Skip)
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", x.Case, x.Size.Label,
			fmtNs(x.S.Min), fmtNs(x.S.Med), fmtNs(x.S.Max), x.ratioText(), x.Extra)
	}
	b.WriteString("\n")
}

func (r *report) write(out string) error {
	dir := filepath.Dir(out)
	if err := plotAttach(r, filepath.Join(dir, "attach.svg")); err != nil {
		return err
	}
	if err := plotHandoff(r, filepath.Join(dir, "handoff.svg")); err != nil {
		return err
	}
	var b bytes.Buffer
	e := r.Env
	fmt.Fprintf(&b, "# Performance\n\n")
	fmt.Fprintf(&b, "Generated by `cd bench && go run . -docs` (the `bench/` module) on %s; every number below comes from that one run, which took %v.", e.Date, r.Elapsed.Round(time.Second))
	if r.Quick {
		b.WriteString(" **This was a -quick smoke run: few rounds, no 1 GiB cases; do not quote it.**")
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "| | |\n|---|---|\n| Go | %s |\n| CPU | %s, %d logical CPUs |\n| kernel | %s |\n| Python / numpy | %s / %s |\n| /dev/shm | %s |\n| load average at start | %s (the machine is shared; see min and max) |\n\n",
		e.GoVersion, e.CPU, e.NumCPU, e.Kernel, e.Python, e.Numpy, e.ShmFree, e.LoadAvg)
	b.WriteString(methodText)

	b.WriteString("## Targets\n\n| target | measured | |\n|---|---|---|\n")
	for _, t := range r.targets() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.Name, t.Measured, t.verdict())
	}
	b.WriteString("\n")
	for _, t := range r.targets() {
		if !t.Met && !t.Unknown && t.Why != "" {
			fmt.Fprintf(&b, "**%s — missed.** %s\n\n", t.Name, t.Why)
		}
	}

	b.WriteString("## Attaching an existing segment\n\n" + attachText)
	r.mdTable(&b, r.Attach)
	b.WriteString("![attach time against size](attach.svg)\n\n")

	b.WriteString("## Creating a segment\n\n" + createText)
	r.mdTable(&b, r.Create)

	b.WriteString("## Handing a float64 vector to another process\n\n" + handoffText)
	r.mdTable(&b, r.Handoff)
	b.WriteString("![hand-off time against size](handoff.svg)\n\n")

	b.WriteString("## Reading resident data\n\n" + residentText)
	r.mdTable(&b, r.Resident)

	b.WriteString("## gonum on shared memory\n\n" + mulText)
	r.mdTable(&b, r.Mul)

	b.WriteString("## Element access and copies between views\n\n" + accessText)
	r.mdTable(&b, r.Access)

	b.WriteString("## Locks, atomics and wake-ups\n\n" + coordText)
	r.mdTable(&b, r.Coord)

	if len(r.Chan) > 0 {
		r.writeChannel(&b)
	}

	if len(r.Bundle) > 0 {
		r.writeBundle(&b)
	}

	if len(r.Memory) > 0 {
		b.WriteString(memoryText)
		for _, part := range []struct{ title, text, group string }{
			{"### Populate, huge pages, bulk work", memoryTablesText, "memory"},
			{"### Where splitting starts to pay", thresholdText, "threshold"},
			{"### Export and import against cp", streamText, "stream"},
		} {
			var rows []row
			for _, x := range r.Memory {
				if x.Group == part.group {
					rows = append(rows, x)
				}
			}
			b.WriteString(part.title + "\n\n" + part.text)
			if part.group == "memory" && hugeNote != "" {
				b.WriteString(hugeNote + "\n\n")
			}
			r.mdTable(&b, rows)
		}
		b.WriteString(hugeMountText)
	}

	// Sections that other programs generate (cmd/shmtensor/internal/zarrbench) follow
	// this program's output; keep them as they were.
	if old, err := os.ReadFile(out); err == nil {
		if i := bytes.Index(old, []byte("\n"+zarrSection)); i >= 0 {
			b.WriteString("\n")
			b.Write(old[i+1:])
		}
	}
	return os.WriteFile(out, b.Bytes(), 0o644)
}

// zarrSection heads the section cmd/shmtensor/internal/zarrbench writes.
const zarrSection = "## Zarr export and serve"

// target is one of the performance goals of issues #3 and #5 with its
// measured value.
type target struct {
	Name, Measured, Why string
	Met                 bool
	Unknown             bool
}

func (t target) verdict() string {
	switch {
	case t.Unknown:
		return "n/a"
	case t.Met:
		return "met"
	}
	return "MISSED"
}

func (r *report) targets() []target {
	var ts []target
	ratios := func(rows []row, c string) (parts []string, worst float64) {
		for _, x := range rows {
			if x.Case == c && x.Skip == "" {
				parts = append(parts, fmt.Sprintf("%s %.2f×", x.Size.Label, x.Ratio))
				worst = math.Max(worst, math.Round(x.Ratio*100)/100) // judged as shown
			}
		}
		return parts, worst
	}
	p, w := ratios(r.Attach, caseAttach)
	var vsPread, vsLocked []string
	for _, sz := range attachSizes() {
		a, h := r.findRow("attach", caseAttach, sz.Label).Ratio, r.findRow("attach", caseFloorAttachH, sz.Label).Ratio
		l := r.findRow("attach", caseFloorAttachL, sz.Label).Ratio
		vsPread = append(vsPread, fmt.Sprintf("%s %.2f×", sz.Label, a/h))
		vsLocked = append(vsLocked, fmt.Sprintf("%s %.2f×", sz.Label, a/l))
	}
	ts = append(ts, target{Name: "attach ≤ 1.3× the syscall floor", Measured: strings.Join(p, ", "), Met: w <= 1.3, Unknown: len(p) == 0,
		Why: "The floor maps a file and reads nothing. Any attach that checks what it maps must at least read the header: against the \"floor + pread\" row Attach takes " +
			strings.Join(vsPread, ", ") + ". Every attach also takes the shared liveness lock that lets gc and Delete tell a segment in use from a leaked one (one fcntl, dropped by the close): against the \"floor + liveness lock + pread\" row, exactly the system calls Attach makes, it takes " +
			strings.Join(vsLocked, ", ") + "; the rest is Go work: parsing the name, the dict (fast path) and building the Segment and Tensor; see the attach section."})
	p, w = ratios(r.Create, caseCreateLazy)
	named := r.findRow("create", caseFloorNamed, kib.Label).Ratio
	lazy := r.findRow("create", caseCreateLazy, kib.Label).Ratio
	ts = append(ts, target{Name: "lazy create + delete ≤ 1.5× the ftruncate floor", Measured: strings.Join(p, ", "), Met: w <= 1.5, Unknown: len(p) == 0,
		Why: fmt.Sprintf("The floor makes an unnamed file that vanishes at close: 5 system calls. Giving it a name and removing it again, the least a create that other processes can attach followed by a delete must do, already costs %.2f× the floor at 1 KiB (the linkat + unlink row); against that named floor shmtensor takes %.2f×. "+
			"The rest is what the API's guarantees cost, 16 system calls in all: Create's fchmod (exact mode whatever the umask), fstatfs (free-space check), writing the header page (a page fault and a zeroed page), linkat, and fstat for the segment's identity (Segment.ID, which locks check); munmap and close at Close; Delete's open + fstat + pread + parse to refuse anything that is not a tensor, then a rename to a private name, lstat to check that the file there is the one validated, and unlink, so that a file swapped in meanwhile is never removed (docs/RELIABILITY.md); close. "+
			"A lazy create makes no early check of the name (linkat reports a taken name anyway); the free-space check is required of Lazy, and the rest is the safety the API promises.", named, lazy/named)})
	p, w = ratios(r.Create, caseCreate)
	ts = append(ts, target{Name: "reserved create ≤ 1.2× fallocate alone", Measured: strings.Join(p, ", "), Met: w <= 1.2, Unknown: len(p) == 0,
		Why: "At 1 KiB the same naming and validation system calls as the lazy create dominate, since fallocate of two pages is cheap; once fallocate has megabytes of pages to zero, it dominates and the ratio is about 1."})

	var parts []string
	met := true
	unknown := false
	for _, sz := range attachSizes() {
		// Each ratio is against the floor in the same rounds.
		a := r.findRow("attach", caseAttach, sz.Label).Ratio
		nl := r.findRow("attach", caseNumpyLoad, sz.Label).Ratio
		sm := r.findRow("attach", caseSharedMem, sz.Label).Ratio
		if math.IsNaN(nl) || math.IsNaN(sm) {
			unknown = true
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.1f× / %.2f×", sz.Label, nl/a, sm/a))
		met = met && a < nl && a < sm
	}
	m := "times faster than numpy.load / SharedMemory (their ratio to the floor ÷ Attach's): " + strings.Join(parts, ", ")
	if unknown {
		m = "numpy not available: not measured"
	}
	ts = append(ts, target{Name: "attach faster than numpy.load(mmap_mode) and SharedMemory", Measured: m, Met: met, Unknown: unknown,
		Why: "numpy.load parses the header with Python's ast.literal_eval and builds a np.memmap, which is what makes it slow. SharedMemory(name) makes exactly the floor's system calls (shm_open, fstat, mmap, close; munmap when closed) and reads no header at all, so its interpreter overhead is of the same size as what Attach spends on its two system calls more, the pread of the header and the liveness lock (an fcntl), and on parsing the header: it validates the element type and shape it maps and tells gc the segment is in use, which SharedMemory does not. The attach section says where the time goes."})

	shm := r.findRow("handoff", handoffLabel(methodShm), mib256.Label).Ratio
	shmCopy := r.findRow("handoff", handoffLabel(methodShmCopy), mib256.Label).Ratio
	ts = append(ts, target{Name: "256 MiB hand-off ≥ 20× faster than a pipe with encoding/binary",
		Measured: fmt.Sprintf("%.1f× (%.1f× when the producer first copies from the heap into a new segment)", 1/shm, 1/shmCopy),
		Met:      1/shm >= 20, Unknown: math.IsNaN(shm),
		Why: "The receiving side of a shmtensor hand-off still touches every page once (page faults mapping 65536 tmpfs pages) and reads 256 MiB at memory bandwidth while summing; the pipe moves the bytes three times (encode, kernel copy in, kernel copy out) plus a decode, so the ratio is bounded by roughly (pipe copies + decode) / (fault-in + one read)."})

	data := r.findRow("resident", caseSumData, residentLabel()).Ratio
	fdata := r.findRow("resident", caseFSumData, residentLabel()).Ratio
	ts = append(ts, target{Name: "sum over Data() ≥ 0.9× the speed of a plain slice sum",
		Measured: fmt.Sprintf("%.2f with a plain loop, %.2f with floats.Sum", 1/data, 1/fdata), Met: 1/data >= 0.9 && 1/fdata >= 0.9, Unknown: math.IsNaN(data),
		Why: "Data() is the same []float64 over the mapping; a gap means the shared pages are not in the same state as heap pages (e.g. transparent huge pages on the heap but 4 KiB pages on tmpfs, so more TLB misses)."})
	ms := r.findRow("mul", caseMulShared, "512×512").Ratio
	ts = append(ts, target{Name: "gonum Mul on shared operands ≥ 0.95× the speed on the heap", Measured: fmt.Sprintf("%.2f", 1/ms), Met: 1/ms >= 0.95, Unknown: math.IsNaN(ms),
		Why: "gonum sees the same kind of []float64; a gap means page-level effects (4 KiB tmpfs pages against transparent huge pages on the heap) or noise from the shared machine (see min and max)."})

	label := fmt.Sprintf("%d×%d", accessSide, accessSide)
	ai := r.findRow("access", caseAtInt, label).Ratio
	af := r.findRow("access", caseAtFloat, label).Ratio
	ts = append(ts, target{Name: "At(i, j) ≥ 1/3 the speed of plain indexing",
		Measured: fmt.Sprintf("int64 %.3f, float64 %.3f", 1/ai, 1/af), Met: 1/ai >= 1.0/3 && 1/af >= 1.0/3, Unknown: math.IsNaN(ai) || math.IsNaN(af),
		Why: "At is inlined, but Go does not unroll its loop over the indices: the two indices go through the stack (the variadic array, read at the loop counter, cannot stay in registers), and per element At checks the count and the closed flag and runs two rounds of load index, compare with the shape, multiply by the stride and add, about 40 instructions against the plain loop's 10. The int64 sum is limited by how fast these issue, so that ratio shows, and it swings with how fast the plain loop lands in each build; the float64 sum waits for each addition and hides most of it."})
	cp := r.findRow("access", caseCopyT, copyLabel()).Ratio
	ts = append(ts, target{Name: "CopyFrom of a transposed view ≥ 1/4 of copy() bandwidth", Measured: fmt.Sprintf("%.2f", 1/cp), Met: 1/cp >= 0.25, Unknown: math.IsNaN(cp),
		Why: "The transposing copy reads with a large stride; CopyFrom copies in cache-sized tiles so that each cache line is used fully, and a gap is the tile loop's overhead against copy()'s streaming."})
	ts = append(ts, r.memoryTargets()...)
	ts = append(ts, r.channelTargets()...)
	return append(ts, r.bundleTargets()...)
}

func residentLabel() string {
	if *quick {
		return mib16.Label
	}
	return mib256.Label
}

const methodText = `## Method

Each comparison runs its cases interleaved: round after round, every case runs a batch of operations
in turn (the case that goes first rotates), and the time per operation of each batch is one sample.
The tables show the min, median and max of those samples. A ratio is the median over rounds of a
case's time divided by its baseline's time in the same round, so load from other processes on this
shared 2-core machine, which comes in bursts, moves both sides of a ratio alike. Python runs as one
long-lived process that the Go rounds ask to run its batches in turn with the Go cases; it times
them itself with ` + "`time.perf_counter_ns`" + `, so the pipe round trip is not counted.

`

const attachText = `Attach of an existing segment followed by Close, against the system-call floor measured in the
same rounds: open + fstat + mmap of the whole file + munmap + close, with no header read and no
validation. The pages are not touched, so the size changes little beyond the page-table work of a
larger mapping. numpy.load maps the same segment file (` + "`/dev/shm/NAME`" + `);
SharedMemory attaches a segment of the same size that Python created itself, with the resource tracker
kept out of the attaches (as ` + "`track=False`" + ` does on Python 3.13+; without that, Python 3.12 and older
unlink every segment a process attached when it exits: see the README's numpy section). Python's
batches run in the same rounds as the Go cases, so their ratios to the floor are paired like the others.

Where Attach's time goes beyond the floor (profiled with ` + "`go test -run '^$' -bench Attach -cpuprofile`" + ` in
the root module, and by timing the steps interleaved like this program does): the floor's five system
calls; one ` + "`pread`" + ` of the 4 KiB header page into a pooled buffer (the "floor + pread" row); parsing the
dict, which for a header in numpy's exact format takes a byte-by-byte fast path (about 0.4 µs, two
allocations) instead of the general Python-literal parser (about 0.9 µs, 17 allocations); and building
the Segment and the Tensor (name, shape and strides copies). Reading the header through the mapping
instead of with pread was tried: the page fault it takes costs what the pread saves. What is left to
gain is a few hundred nanoseconds of allocation, by building the Segment, Tensor, shape and strides as
one object.
`

const createText = `Create followed by Delete and Close (Create is exclusive, so a loop must delete), against the least a
create can do: an unnamed O_TMPFILE on /dev/shm sized by fallocate (reserved pages) or ftruncate
(lazy), mapped and unmapped; closing it frees it. The linkat + unlink row adds what giving the object a
name and removing it again costs, the floor for a create that another process can attach followed by a
delete.

`

const handoffText = `One process holds a float64 vector; another process (this program re-executed) must sum it. The
child is started and has reported ready before the clock starts, so process start-up counts for no
method. **Median** is the total as the parent sees it: from the moment it starts handing off until
it reads the child's sum (which it checks). The receive side, timed by the child, runs from the
name or the first byte arriving to the sum being done. "Producer wrote in place" is the intended use:
the producer computed into a shared tensor, so handing off is sending its name; "Create + copy" counts
making the segment (reserved) and copying a heap slice into it. The pipe uses ` + "`binary.Write`" + ` /
` + "`binary.Read`" + ` of the whole ` + "`[]float64`" + ` through 1 MiB buffers; the file is written with os.WriteFile
to the temporary directory (page cache, no fsync) and read back whole. Every child sums with gonum's
vectorised ` + "`floats.Sum`" + ` and the parent checks the result. Two reps at 1 GiB (the median is their mean).

`

const residentText = `Summing data that is already resident (the segment was created reserved and filled before
timing): the same plain loop over a heap slice and over ` + "`Tensor.Data()`" + `, element access through
` + "`At`" + `, gonum's vectorised ` + "`floats.Sum`" + ` over both, and ` + "`copy()`" + ` of the same number of bytes
between two heap slices as the memory-bandwidth yardstick (it reads and writes each byte). The plain
loop is one chain of dependent additions, so it runs below memory bandwidth; floats.Sum shows how close
to bandwidth a read of the segment gets. Every sum is checked against the expected value.

`

const mulText = `C = A·B for 512×512 matrices with gonum's ` + "`mat.Dense.Mul`" + `: A, B and C as ` + "`shmtensor.Dense`" + ` views of
shared segments (zero-copy, C written in place), against copies of the same values on the Go heap. The extra column is
the arithmetic rate.

`

func fmtGflops(flops float64, ns float64) string {
	return fmt.Sprintf("%.2f GFLOP/s", flops/ns)
}
