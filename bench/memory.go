package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
	"golang.org/x/sys/unix"
	"gonum.org/v1/gonum/mat"
)

// The memory section measures issue #14: Populate, huge pages, bulk work
// split across goroutines, and export/import against cp.

const (
	caseTouchW        = "Attach + write every page"
	caseTouchWPop     = "Attach(Populate()) + write every page"
	caseTouchR        = "Attach + read every page"
	caseTouchRPop     = "Attach(Populate()) + read every page"
	caseHugeRSmall    = "Attach + read every page, 4 KiB pages"
	caseHugeR         = "Attach + read every page, huge pages"
	caseHugeSumSmall  = "Values() sum, 4 KiB pages"
	caseHugeSum       = "Values() sum, huge pages"
	caseHugeMulSmall  = "gonum Mul, 4 KiB pages"
	caseHugeMul       = "gonum Mul, huge pages"
	caseBulkCopy      = "copy(), heap to heap, one goroutine"
	caseBulkCopySplit = "copy(), heap to heap, split by hand across GOMAXPROCS goroutines"
	caseExportCp      = "cp segment file → file"
	caseExport        = "Segment.WriteTo(*os.File) (shmtensor export)"
	caseImportCp      = "cp .npy file → /dev/shm"
	caseImport        = "Import(*os.File) (shmtensor import)"
)

// bulkCase names a bulk operation on one goroutine or on GOMAXPROCS.
func bulkCase(op string, parallel bool) string {
	if parallel {
		return fmt.Sprintf("%s, GOMAXPROCS=%d", op, runtime.GOMAXPROCS(0))
	}
	return op + ", one goroutine (GOMAXPROCS=1)"
}

// hugeMount is where the benchmark mounts its huge=advise tmpfs.
var hugeMount = filepath.Join(os.TempDir(), fmt.Sprintf("shmtensor-bench-huge-%d", os.Getpid()))

// benchMemory runs the parts of the memory section that -only selects:
// "memory" for all, or any of populate, huge, bulk, threshold, stream.
func benchMemory() []row {
	var rows []row
	for _, p := range []struct {
		name string
		f    func() []row
	}{{"populate", benchPopulate}, {"huge", benchHuge}, {"bulk", benchBulk}, {"threshold", benchThreshold}, {"stream", benchStream}} {
		if section("memory") || section(p.name) {
			rows = append(rows, p.f()...)
		}
	}
	return rows
}

// touchPages writes or reads one byte of every 4 KiB page of d.
func touchPages(d []byte, write bool) byte {
	var s byte
	for i := 0; i < len(d); i += 4096 {
		if write {
			d[i] = byte(i >> 12)
		} else {
			s += d[i]
		}
	}
	return s
}

// touchOp attaches name with opts, touches every page and closes.
func touchOp(name string, write bool, opts ...shmtensor.Option) func() error {
	return func() error {
		if !write {
			opts = append(opts, shmtensor.ReadOnly())
		}
		t, err := shmtensor.Attach[uint8](name, opts...)
		if err != nil {
			return err
		}
		runtime.KeepAlive(touchPages(t.Data(), write))
		return t.Close()
	}
}

func memSize() size {
	if *quick {
		return mib64
	}
	return gib
}

// residentSegment creates a segment of sz bytes of uint8 under name with
// opts and writes every page, so its pages are resident.
func residentSegment(name string, sz size, opts ...shmtensor.Option) {
	t, err := shmtensor.Create[uint8](name, []int{int(sz.Bytes)}, opts...)
	if err != nil {
		fatal(err)
	}
	touchPages(t.Data(), true)
	t.Close()
}

func benchPopulate() []row {
	sz := memSize()
	rounds := 7
	name := shmName("populate")
	residentSegment(name, sz)
	defer os.Remove(shmDir + "/" + name)
	res, err := interleave(rounds, 1, []bcase{
		{name: caseTouchW, op: touchOp(name, true)},
		{name: caseTouchWPop, op: touchOp(name, true, shmtensor.Populate())},
		{name: caseTouchR, op: touchOp(name, false)},
		{name: caseTouchRPop, op: touchOp(name, false, shmtensor.Populate())},
	})
	if err != nil {
		fatal(err)
	}
	rows := []row{
		newRow("memory", caseTouchW, sz, res[caseTouchW], "", nil),
		newRow("memory", caseTouchWPop, sz, res[caseTouchWPop], caseTouchW, res[caseTouchW]),
		newRow("memory", caseTouchR, sz, res[caseTouchR], "", nil),
		newRow("memory", caseTouchRPop, sz, res[caseTouchRPop], caseTouchR, res[caseTouchR]),
	}
	progress("populate %s: write every page %.2f× faster with Populate, read %.2f×", sz.Label, 1/rows[1].Ratio, 1/rows[3].Ratio)
	return rows
}

// mountHuge mounts a huge=advise tmpfs at hugeMount when running as root.
func mountHuge(bytes int64) (unmount func(), why string) {
	if os.Geteuid() != 0 {
		return nil, "skipped: mounting a huge=advise tmpfs needs root"
	}
	if err := os.MkdirAll(hugeMount, 0o700); err != nil {
		return nil, "skipped: " + err.Error()
	}
	if err := unix.Mount("tmpfs", hugeMount, "tmpfs", 0, fmt.Sprintf("huge=advise,size=%d", bytes)); err != nil {
		os.Remove(hugeMount)
		return nil, "skipped: cannot mount a huge=advise tmpfs: " + err.Error()
	}
	return func() { unix.Unmount(hugeMount, unix.MNT_DETACH); os.Remove(hugeMount) }, ""
}

// hugeNote is what the report says of the huge-page segments.
var hugeNote string

func benchHuge() []row {
	sz := memSize()
	mulN := 2048
	if *quick {
		mulN = 512
	}
	mulSize := size{fmt.Sprintf("%d×%d", mulN, mulN), int64(8 * mulN * mulN)}
	sumSize := mib256
	if *quick {
		sumSize = mib16
	}
	skipRows := func(why string) []row {
		var rows []row
		for _, c := range []struct {
			c  string
			sz size
		}{{caseHugeRSmall, sz}, {caseHugeR, sz}, {caseHugeSumSmall, sumSize}, {caseHugeSum, sumSize}, {caseHugeMulSmall, mulSize}, {caseHugeMul, mulSize}} {
			rows = append(rows, row{Group: "memory", Case: c.c, Size: c.sz, Skip: why})
		}
		return rows
	}
	unmount, why := mountHuge(2*sz.Bytes + 2*sumSize.Bytes + 6*mulSize.Bytes + 64<<20)
	if unmount == nil {
		progress("huge pages: %s", why)
		return skipRows(why)
	}
	defer unmount()
	file := func(n string) string { return "file://" + filepath.Join(hugeMount, n) }

	small, huge := file("small.npy"), file("huge.npy")
	residentSegment(small, sz)
	residentSegment(huge, sz, shmtensor.HugePages())
	// What backs the two segments, and where the data lands.
	h, err := shmtensor.Attach[uint8](huge, shmtensor.Populate(), shmtensor.ReadOnly())
	if err != nil {
		fatal(err)
	}
	hb, err := h.Segment().HugePageBytes()
	if err != nil {
		fatal(err)
	}
	addr := h.Segment().Addr()
	mapped := h.Segment().Size()
	h.Close()
	s, err := shmtensor.Attach[uint8](small, shmtensor.Populate(), shmtensor.ReadOnly())
	if err != nil {
		fatal(err)
	}
	sb, _ := s.Segment().HugePageBytes()
	s.Close()
	hugeNote = fmt.Sprintf("The %s segment created with HugePages() maps %d bytes (header page included); %s of them in huge pages (HugePageBytes), the segment without it %s. Its data starts at address %#x, %d bytes past a 2 MiB boundary: the mapping starts 2 MiB-aligned, so the header shares the first huge page with the first 2 MiB − 4 KiB of data and costs no huge page; only the last 4 KiB of data, past the last 2 MiB boundary of the file, sit in a small page.",
		sz.Label, mapped, units.Bytes(hb), units.Bytes(sb), addr, addr%(2<<20))
	progress("huge pages: %s", hugeNote)

	rounds := 7
	res, err := interleave(rounds, 1, []bcase{
		{name: caseHugeRSmall, op: touchOp(small, false)},
		{name: caseHugeR, op: touchOp(huge, false)},
	})
	if err != nil {
		fatal(err)
	}
	shmtensor.Delete(small)
	shmtensor.Delete(huge)
	rows := []row{
		newRow("memory", caseHugeRSmall, sz, res[caseHugeRSmall], "", nil),
		newRow("memory", caseHugeR, sz, res[caseHugeR], caseHugeRSmall, res[caseHugeRSmall]),
	}
	rows[0].Extra = "HugePageBytes " + units.Bytes(sb)
	rows[1].Extra = "HugePageBytes " + units.Bytes(hb)

	// Values() sum over resident tensors.
	mkF := func(n string, shape []int, opts ...shmtensor.Option) *shmtensor.Tensor[float64] {
		t, err := shmtensor.Create[float64](file(n), shape, opts...)
		if err != nil {
			fatal(err)
		}
		fillData(t.Data())
		return t
	}
	nsum := int(sumSize.Bytes / 8)
	ss, sh := mkF("sum-small.npy", []int{nsum}), mkF("sum-huge.npy", []int{nsum}, shmtensor.HugePages())
	want := sum(ss.Data())
	valuesSum := func(t *shmtensor.Tensor[float64]) func() error {
		return func() error {
			var a float64
			for v := range t.Values() {
				a += v
			}
			if a != want {
				return fmt.Errorf("sum %v, want %v", a, want)
			}
			return nil
		}
	}
	res, err = interleave(rounds, 1, []bcase{
		{name: caseHugeSumSmall, op: valuesSum(ss)},
		{name: caseHugeSum, op: valuesSum(sh)},
	})
	if err != nil {
		fatal(err)
	}
	rows = append(rows,
		newRow("memory", caseHugeSumSmall, sumSize, res[caseHugeSumSmall], "", nil),
		newRow("memory", caseHugeSum, sumSize, res[caseHugeSum], caseHugeSumSmall, res[caseHugeSumSmall]))
	rows[len(rows)-1].Extra = fmtRate(sumSize.Bytes, rows[len(rows)-1].S.Med) + " read"
	rows[len(rows)-2].Extra = fmtRate(sumSize.Bytes, rows[len(rows)-2].S.Med) + " read"
	ss.Close()
	sh.Close()

	// gonum Mul with all three operands in segments.
	mulOp := func(opts ...shmtensor.Option) (func() error, func()) {
		tag := "small"
		if len(opts) > 0 {
			tag = "huge"
		}
		var ts []*shmtensor.Tensor[float64]
		var ds []*mat.Dense
		for _, k := range []string{"a", "b", "c"} {
			t := mkF("mul-"+tag+"-"+k+".npy", []int{mulN, mulN}, opts...)
			d, err := shmtensor.Dense(t)
			if err != nil {
				fatal(err)
			}
			ts, ds = append(ts, t), append(ds, d)
		}
		return func() error { ds[2].Mul(ds[0], ds[1]); return nil }, func() {
			for _, t := range ts {
				t.Close()
			}
		}
	}
	ms, closeS := mulOp()
	mh, closeH := mulOp(shmtensor.HugePages())
	res, err = interleave(3, 1, []bcase{{name: caseHugeMulSmall, op: ms}, {name: caseHugeMul, op: mh}})
	closeS()
	closeH()
	if err != nil {
		fatal(err)
	}
	flops := 2 * math.Pow(float64(mulN), 3)
	rows = append(rows,
		newRow("memory", caseHugeMulSmall, mulSize, res[caseHugeMulSmall], "", nil),
		newRow("memory", caseHugeMul, mulSize, res[caseHugeMul], caseHugeMulSmall, res[caseHugeMulSmall]))
	rows[len(rows)-2].Extra = fmtGflops(flops, rows[len(rows)-2].S.Med)
	rows[len(rows)-1].Extra = fmtGflops(flops, rows[len(rows)-1].S.Med)
	progress("huge pages: read every page %.1f× faster than on 4 KiB pages; Values() sum %.2f×, Mul %.2f×",
		1/rows[1].Ratio, 1/rows[3].Ratio, 1/rows[5].Ratio)
	return rows
}

// oneProc runs op with GOMAXPROCS=1, which makes the bulk operations run
// on the calling goroutine, and times it.
func oneProc(op func()) func(batch int) (float64, error) {
	return func(batch int) (float64, error) {
		old := runtime.GOMAXPROCS(1)
		defer runtime.GOMAXPROCS(old)
		return bcase{op: func() error { op(); return nil }}.run(batch)
	}
}

// splitCopy is copy() split by hand into one part per GOMAXPROCS.
func splitCopy(dst, src []float64) {
	w := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for i := range w {
		lo, hi := len(src)*i/w, len(src)*(i+1)/w
		wg.Go(func() { copy(dst[lo:hi], src[lo:hi]) })
	}
	wg.Wait()
}

func benchBulk() []row {
	sz := mib256
	rounds := 11
	if *quick {
		sz, rounds = mib16, 5
	}
	n := int(sz.Bytes / 8)
	mk := func(tag string, shape ...int) (*shmtensor.Tensor[float64], func()) {
		name := shmName(tag)
		t, err := shmtensor.Create[float64](name, shape)
		if err != nil {
			fatal(err)
		}
		fillData(t.Data())
		return t, func() { t.Close(); os.Remove(shmDir + "/" + name) }
	}
	dst, d1 := mk("bulk-dst", n)
	defer d1()
	src, d2 := mk("bulk-src", n)
	defer d2()
	// The transposing copy: dst as rows×cols ← src as cols×rows, transposed.
	trows, tcols := 4096, n/4096
	srcT, err := src.Reshape(tcols, trows)
	if err != nil {
		fatal(err)
	}
	srcT, _ = srcT.Transpose()
	dstSq, err := dst.Reshape(trows, tcols)
	if err != nil {
		fatal(err)
	}
	a, b := make([]float64, n), make([]float64, n)
	fillData(b)
	copy(a, b)
	var keep *shmtensor.Tensor[float64]
	ops := []struct {
		name string
		f    func()
	}{
		{"Fill", func() { dst.Fill(2.5) }},
		{"CopyFrom (contiguous)", func() { dst.CopyFrom(src) }},
		{"CopyFrom (transposed view)", func() { dstSq.CopyFrom(srcT) }},
		{"Clone", func() { keep = src.Clone() }},
	}
	cases := []bcase{
		{name: caseBulkCopy, op: func() error { copy(a, b); return nil }},
		{name: caseBulkCopySplit, op: func() error { splitCopy(a, b); return nil }},
	}
	for _, o := range ops {
		cases = append(cases,
			bcase{name: bulkCase(o.name, false), timed: oneProc(o.f)},
			bcase{name: bulkCase(o.name, true), op: func() error { o.f(); return nil }})
	}
	res, err := interleave(rounds, 1, cases)
	if err != nil {
		fatal(err)
	}
	_ = keep
	dstSq.CopyFrom(srcT)
	if dstSq.At(1, 2) != src.At(2*trows+1) {
		fatal(fmt.Errorf("bulk: the transposing CopyFrom went wrong"))
	}
	var rows []row
	r := newRow("memory", caseBulkCopy, sz, res[caseBulkCopy], "", nil)
	r.Extra = fmtRate(sz.Bytes, r.S.Med) + " copied"
	rows = append(rows, r)
	r = newRow("memory", caseBulkCopySplit, sz, res[caseBulkCopySplit], caseBulkCopy, res[caseBulkCopy])
	r.Extra = fmtRate(sz.Bytes, r.S.Med) + " copied"
	rows = append(rows, r)
	for _, o := range ops {
		one, par := bulkCase(o.name, false), bulkCase(o.name, true)
		r1 := newRow("memory", one, sz, res[one], caseBulkCopy, res[caseBulkCopy])
		r1.Extra = fmtRate(sz.Bytes, r1.S.Med)
		r2 := newRow("memory", par, sz, res[par], one, res[one])
		r2.Extra = fmt.Sprintf("%s; %.2f× copy()", fmtRate(sz.Bytes, r2.S.Med), ratioOf(res[par], res[caseBulkCopy]))
		rows = append(rows, r1, r2)
	}
	progress("bulk %s: copy() split %.2f×; Fill %.2f×, CopyFrom %.2f×, transposed %.2f×, Clone %.2f× their one-goroutine speed",
		sz.Label, 1/rows[1].Ratio, 1/rows[3].Ratio, 1/rows[5].Ratio, 1/rows[7].Ratio, 1/rows[9].Ratio)
	return rows
}

// ratioOf is the median over rounds of a[i]/b[i].
func ratioOf(a, b []float64) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.NaN()
	}
	q := make([]float64, len(a))
	for i := range a {
		q[i] = a[i] / b[i]
	}
	return summarise(q).Med
}

// benchThreshold times Fill of small contiguous tensors on one goroutine
// and on GOMAXPROCS, to place the size where splitting starts to pay.
func benchThreshold() []row {
	var rows []row
	for _, kib := range []int{256, 512, 1024, 2048, 8192} {
		n := kib << 10 / 8
		t := shmtensor.New[float64](n)
		fillData(t.Data())
		batch := max(20, (64<<20)/(kib<<10))
		rounds := 15
		if *quick {
			rounds = 5
		}
		one, par := bulkCase("Fill", false), bulkCase("Fill", true)
		res, err := interleave(rounds, batch, []bcase{
			{name: one, timed: oneProc(func() { t.Fill(1.5) })},
			{name: par, op: func() error { t.Fill(1.5); return nil }},
		})
		if err != nil {
			fatal(err)
		}
		sz := size{fmt.Sprintf("%d KiB (heap)", kib), int64(kib << 10)}
		r := newRow("threshold", par, sz, res[par], one, res[one])
		r.Extra = fmtRate(sz.Bytes, r.S.Med)
		rows = append(rows, r)
	}
	return rows
}

// benchStream compares export (WriteTo an *os.File) and import (Import
// from one) of a 1 GiB segment with cp between the same filesystems.
func benchStream() []row {
	sz := memSize()
	rounds := 5
	name := shmName("export")
	t, err := shmtensor.Create[uint8](name, []int{int(sz.Bytes)})
	if err != nil {
		fatal(err)
	}
	touchPages(t.Data(), true)
	seg := t.Segment()
	defer func() { t.Close(); os.Remove(shmDir + "/" + name) }()
	diskDir, err := os.MkdirTemp(*diskFlag, "shmtensor-bench-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(diskDir)
	var rows []row
	for _, dest := range []struct{ label, dir string }{{"/dev/shm", shmDir}, {"disk (" + *diskFlag + ")", diskDir}} {
		out := filepath.Join(dest.dir, shmName("out")+".npy")
		// The exported file, for the import rounds.
		f, err := os.Create(out)
		if err != nil {
			fatal(err)
		}
		if _, err := seg.WriteTo(f); err != nil {
			fatal(err)
		}
		f.Close()
		in := out + ".in.npy"
		os.Rename(out, in)
		target := shmName("import")
		cpOut := shmDir + "/" + shmName("cp")
		// Each case removes its output before the clock starts.
		rmOut := func() { os.Remove(out) }
		res, err := interleave(rounds, 1, []bcase{
			{name: caseExportCp, timed: timedFresh(rmOut, func() error { return exec.Command("cp", shmDir+"/"+name, out).Run() })},
			{name: caseExport, timed: timedFresh(rmOut, func() error {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				if _, err := seg.WriteTo(f); err != nil {
					f.Close()
					return err
				}
				return f.Close()
			})},
			{name: caseImportCp, timed: timedFresh(func() { os.Remove(cpOut) }, func() error { return exec.Command("cp", in, cpOut).Run() })},
			{name: caseImport, timed: timedFresh(func() { os.Remove(shmDir + "/" + target) }, func() error {
				f, err := os.Open(in)
				if err != nil {
					return err
				}
				defer f.Close()
				s, err := shmtensor.Import(target, f)
				if err != nil {
					return err
				}
				return s.Close()
			})},
		})
		os.Remove(in)
		if err != nil {
			fatal(err)
		}
		lab := func(c string) string {
			if c == caseExportCp || c == caseExport {
				return c + ", /dev/shm → " + dest.label
			}
			return c + ", " + dest.label + " → /dev/shm"
		}
		for _, c := range [][2]string{{caseExportCp, caseExport}, {caseImportCp, caseImport}} {
			rc := newRow("stream", lab(c[0]), sz, res[c[0]], "", nil)
			rc.Extra = fmtRate(sz.Bytes, rc.S.Med)
			r := newRow("stream", lab(c[1]), sz, res[c[1]], lab(c[0]), res[c[0]])
			r.Base = "cp"
			r.Extra = fmtRate(sz.Bytes, r.S.Med)
			rows = append(rows, rc, r)
		}
		n := len(rows)
		progress("stream %s: export %.2f×, import %.2f× the speed of cp", dest.label, 1/rows[n-3].Ratio, 1/rows[n-1].Ratio)
	}
	return rows
}
