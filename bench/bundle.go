package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shmtensor/shmtensor"
)

// The bundle section measures issue #22: attaching a 1,000-tensor bundle
// against one tensor and against 1,000 segments, importing an odd-header
// safetensors file against cp, and the shared memory that 8 worker
// processes attaching one bundle add.

const (
	caseBundleSingle = "Attach (one tensor of the same size) + 1,000 map lookups"
	caseBundleAttach = "AttachBundle + BundleView of each of its 1,000 tensors"
	caseBundleMany   = "1,000 separate Attach calls (1,000 segments of the same total size)"
	caseBundleCp     = "cp model.safetensors → /dev/shm"
	caseBundleImport = "ImportBundle(*os.File) (shmtensor import)"

	bundleTensors = 1000
	// bundleChildFlag re-executes this program as a worker of the Shmem
	// measure.
	bundleChildFlag = "bundle-child"
)

// bundleSize is the total size of the bundles measured.
func bundleSize() size {
	if *quick {
		return mib64
	}
	return gib
}

// bundleSpecs returns the 1,000 float64 tensors of a bundle of sz bytes.
func bundleSpecs(sz size) []shmtensor.TensorSpec {
	per := int(sz.Bytes / bundleTensors / 8)
	specs := make([]shmtensor.TensorSpec, bundleTensors)
	for i := range specs {
		specs[i] = shmtensor.TensorSpec{Name: fmt.Sprintf("layers.%d.weight", i), DType: shmtensor.Float64, Shape: []int{per}}
	}
	return specs
}

// bundleShmem is what benchBundleShmem measured, in bytes of Shmem.
type bundleShmem struct {
	First, Extra int64
	Skip         string
}

func benchBundle() ([]row, bundleShmem) {
	sz := bundleSize()
	rows := benchBundleAttach(sz)
	rows = append(rows, benchBundleImport(sz)...)
	return rows, benchBundleShmem(sz)
}

// benchBundleAttach: a bundle's attach, its one mapping and a view of
// every tensor, against the least that reaches 1,000 tensors otherwise.
func benchBundleAttach(sz size) []row {
	specs := bundleSpecs(sz)
	bname := shmName("bundle")
	b, err := shmtensor.CreateBundle(bname, specs)
	if err != nil {
		fatal(err)
	}
	b.Close()
	defer os.Remove(shmDir + "/" + bname)
	sname := shmName("single")
	t, err := shmtensor.Create[float64](sname, []int{int(sz.Bytes / 8)})
	if err != nil {
		fatal(err)
	}
	t.Close()
	defer os.Remove(shmDir + "/" + sname)
	many := make([]string, bundleTensors)
	for i := range many {
		many[i] = shmName("many")
		t, err := shmtensor.Create[float64](many[i], specs[i].Shape)
		if err != nil {
			fatal(err)
		}
		t.Close()
		defer os.Remove(shmDir + "/" + many[i])
	}
	// The single tensor's lookups: what a program holding 1,000 tensors
	// in one segment by hand does, a map from name to offset.
	index := make(map[string]int, bundleTensors)
	for i, s := range specs {
		index[s.Name] = i * s.Shape[0]
	}
	var sink int
	rounds, batch := 15, 5
	if *quick {
		rounds, batch = 5, 2
	}
	res, err := interleave(rounds, batch, []bcase{
		{name: caseBundleSingle, op: func() error {
			t, err := shmtensor.Attach[float64](sname, shmtensor.ReadOnly())
			if err != nil {
				return err
			}
			for _, s := range specs {
				sink += index[s.Name]
			}
			return t.Close()
		}},
		{name: caseBundleAttach, op: func() error {
			b, err := shmtensor.AttachBundle(bname, shmtensor.ReadOnly())
			if err != nil {
				return err
			}
			for _, s := range specs {
				v, err := shmtensor.BundleView[float64](b, s.Name)
				if err != nil {
					return err
				}
				sink += v.Len()
			}
			return b.Close()
		}},
		{name: caseBundleMany, op: func() error {
			for _, n := range many {
				t, err := shmtensor.Attach[float64](n, shmtensor.ReadOnly())
				if err != nil {
					return err
				}
				sink += t.Len()
				t.Close()
			}
			return nil
		}},
	})
	if err != nil {
		fatal(err)
	}
	_ = sink
	rows := []row{
		newRow("bundle", caseBundleSingle, sz, res[caseBundleSingle], "", nil),
		newRow("bundle", caseBundleAttach, sz, res[caseBundleAttach], caseBundleSingle, res[caseBundleSingle]),
		newRow("bundle", caseBundleMany, sz, res[caseBundleMany], caseBundleAttach, res[caseBundleAttach]),
	}
	progress("bundle attach: %.2f× one Attach + lookups; 1,000 Attach calls take %.1f× the bundle's", rows[1].Ratio, rows[2].Ratio)
	return rows
}

// oddHeaderFile writes, at path, a safetensors file of the tensors specs
// with random-looking contents whose header length is odd, as Hugging
// Face's writer often leaves it: every tensor is misaligned in the file.
func oddHeaderFile(path string, specs []shmtensor.TensorSpec) error {
	var h strings.Builder
	h.WriteString("{")
	var off int64
	for i, s := range specs {
		n := int64(s.Shape[0]) * 8
		if i > 0 {
			h.WriteString(",")
		}
		fmt.Fprintf(&h, `"%s":{"dtype":"F64","shape":[%d],"data_offsets":[%d,%d]}`, s.Name, s.Shape[0], off, off+n)
		off += n
	}
	h.WriteString("}")
	if h.Len()%2 == 0 {
		h.WriteString(" ")
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	binary.Write(w, binary.LittleEndian, uint64(h.Len()))
	w.WriteString(h.String())
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i*7 + 1)
	}
	for left := off; left > 0; {
		k := min(left, int64(len(chunk)))
		w.Write(chunk[:k])
		left -= k
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// benchBundleImport: importing an odd-header file, which lays every tensor
// out again aligned, against cp of the same file, from /dev/shm and from
// disk.
func benchBundleImport(sz size) []row {
	specs := bundleSpecs(sz)
	diskDir, err := os.MkdirTemp(*diskFlag, "shmtensor-bench-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(diskDir)
	var rows []row
	for _, src := range []struct{ label, dir string }{{"/dev/shm", shmDir}, {"disk (" + *diskFlag + ")", diskDir}} {
		in := filepath.Join(src.dir, shmName("model")+".safetensors")
		if err := oddHeaderFile(in, specs); err != nil {
			fatal(err)
		}
		target := shmName("import")
		cpOut := shmDir + "/" + shmName("cp")
		res, err := interleave(5, 1, []bcase{
			{name: caseBundleCp, timed: timedFresh(func() { os.Remove(cpOut) }, func() error { return exec.Command("cp", in, cpOut).Run() })},
			{name: caseBundleImport, timed: timedFresh(func() { os.Remove(shmDir + "/" + target) }, func() error {
				f, err := os.Open(in)
				if err != nil {
					return err
				}
				defer f.Close()
				b, err := shmtensor.ImportBundle(target, f)
				if err != nil {
					return err
				}
				return b.Close()
			})},
		})
		os.Remove(in)
		if err != nil {
			fatal(err)
		}
		lab := func(c string) string { return c + ", " + src.label + " → /dev/shm" }
		rc := newRow("bundle-import", lab(caseBundleCp), sz, res[caseBundleCp], "", nil)
		rc.Extra = fmtRate(sz.Bytes, rc.S.Med)
		r := newRow("bundle-import", lab(caseBundleImport), sz, res[caseBundleImport], lab(caseBundleCp), res[caseBundleCp])
		r.Base = "cp"
		r.Extra = fmtRate(sz.Bytes, r.S.Med)
		rows = append(rows, rc, r)
		progress("bundle import %s: %.2f× the speed of cp", src.label, 1/r.Ratio)
	}
	return rows
}

// shmem returns the Shmem line of /proc/meminfo in bytes.
func shmem() (int64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "Shmem:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/meminfo has no Shmem line")
}

// benchBundleShmem: the first copy of a bundle is what Shmem grows by
// when it is made and written; 8 worker processes attaching it and
// reading every page must add nothing to it. Other programs on the
// machine move Shmem too, so the row states what it measured.
func benchBundleShmem(sz size) bundleShmem {
	before, err := shmem()
	if err != nil {
		return bundleShmem{Skip: err.Error()}
	}
	name := shmName("shared")
	b, err := shmtensor.CreateBundle(name, bundleSpecs(sz))
	if err != nil {
		fatal(err)
	}
	defer os.Remove(shmDir + "/" + name)
	for ts := range b.Tensors() {
		p, _ := b.Bytes(ts.Name)
		touchPages(p, true)
	}
	b.Close()
	filled, err := shmem()
	if err != nil {
		fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		fatal(err)
	}
	var workers []*exec.Cmd
	var stdins []io.Closer // held open: a worker keeps its mapping until its input closes
	defer func() {
		for i, w := range workers {
			stdins[i].Close()
			w.Wait()
		}
	}()
	for range 8 {
		cmd := exec.Command(exe, "-"+bundleChildFlag, name)
		cmd.Stderr = os.Stderr
		stdin, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			fatal(err)
		}
		workers, stdins = append(workers, cmd), append(stdins, stdin)
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "ready") {
			fatal(fmt.Errorf("bundle worker: %q, %v", line, err))
		}
	}
	attached, err := shmem()
	if err != nil {
		fatal(err)
	}
	m := bundleShmem{First: filled - before, Extra: attached - filled}
	progress("bundle Shmem: first copy +%d bytes, 8 workers add %+d bytes", m.First, m.Extra)
	return m
}

// runBundleChild is a worker of benchBundleShmem: it attaches the bundle,
// reads every page of every tensor, says so, and holds the mapping until
// its standard input closes.
func runBundleChild(name string) error {
	b, err := shmtensor.AttachBundle(name, shmtensor.ReadOnly())
	if err != nil {
		return err
	}
	defer b.Close()
	var sum byte
	for ts := range b.Tensors() {
		p, err := b.Bytes(ts.Name)
		if err != nil {
			return err
		}
		sum += touchPages(p, false)
	}
	fmt.Println("ready", sum)
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}
