package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// bundleTargets are the targets of issue #22.
func (r *report) bundleTargets() []target {
	if len(r.Bundle) == 0 {
		return nil
	}
	var ts []target
	sz := bundleSize().Label
	a := r.findRow("bundle", caseBundleAttach, sz).Ratio
	m := r.findRow("bundle", caseBundleMany, sz).Ratio
	single, bundle, many := r.find("bundle", caseBundleSingle, sz).Med, r.find("bundle", caseBundleAttach, sz).Med, r.find("bundle", caseBundleMany, sz).Med
	perTensor := fmtNs((bundle - single) / bundleTensors)
	ts = append(ts, target{Name: "Attach of a 1,000-tensor " + sz + " bundle + a view of every tensor ≤ 2× a single-tensor Attach of the same size + 1,000 map lookups",
		Measured: fmt.Sprintf("%.1f×", a), Met: math.Round(a*100)/100 <= 2, Unknown: math.IsNaN(a),
		Why: "A single-tensor Attach reads a header of a few dozen bytes; a bundle's attach must read and check a 1,000-entry JSON header (about 80 KB: every name, type, shape and offset, overlaps and holes) and make 1,000 typed views, each a Tensor with its own shape and strides. The system calls are the same either way (the header is one pread more); what the bundle adds is " + perTensor + " per tensor in this run, scanning and checking its entry, indexing its name and making its view, against a few nanoseconds for a map lookup. A 2× budget would leave about " + fmtNs(single/bundleTensors) + " per tensor."})
	ts = append(ts, target{Name: "1,000 separate Attach calls against the bundle's one attach: expected ≥ 50×",
		Measured: fmt.Sprintf("%.1f× slower than the bundle", m), Met: math.Round(m*10)/10 >= 50, Unknown: math.IsNaN(m),
		Why: "Each separate Attach is its own open, fstat, liveness lock, pread, mmap, munmap and close, " + fmtNs(many/bundleTensors) + " a segment in this run; the bundle's attach costs " + perTensor + " a tensor (above), so the ratio is about the one of the two, not the 50× that per-tensor work of a few tens of nanoseconds would give."})
	var parts []string
	worst := math.Inf(1)
	for _, x := range r.Bundle {
		if x.Group != "bundle-import" || x.Base != "cp" || x.Skip != "" {
			continue
		}
		_, where, _ := strings.Cut(x.Case, ", ")
		parts = append(parts, fmt.Sprintf("%s %.2f×", where, 1/x.Ratio))
		worst = math.Min(worst, math.Round(100/x.Ratio)/100)
	}
	ts = append(ts, target{Name: "ImportBundle of a " + sz + " safetensors file with an odd header length ≥ 0.8× the speed of cp",
		Measured: strings.Join(parts, ", "), Met: worst >= 0.8, Unknown: len(parts) == 0,
		Why: "Import copies every tensor to its aligned place with copy_file_range inside the kernel; what it adds to cp is parsing the header and laying the bundle out, and a copy per tensor instead of one for the file."})
	x := r.BundleX
	ts = append(ts, target{Name: "8 worker processes attaching a " + sz + " bundle add 0 bytes of Shmem beyond the first copy (/proc/meminfo)",
		Measured: fmt.Sprintf("first copy +%s; the 8 workers, each holding its mapping with every page read: %+d bytes", fmtBytes(x.First), x.Extra),
		Met:      x.Skip == "" && x.Extra < 1<<20, Unknown: x.Skip != "",
		Why: "Shmem counts the whole machine's shared memory; another program creating or freeing tmpfs pages during the measure moves it, which a repeat run tells apart from the workers (MAP_SHARED mappings of one file share its pages and add none)."})
	return ts
}

// writeBundle writes the bundle section.
func (r *report) writeBundle(b *bytes.Buffer) {
	var attach, imp []row
	for _, x := range r.Bundle {
		switch x.Group {
		case "bundle":
			attach = append(attach, x)
		case "bundle-import":
			imp = append(imp, x)
		}
	}
	b.WriteString("## Bundles\n\n" + bundleText)
	b.WriteString("### Attaching 1,000 tensors\n\n" + bundleAttachText)
	r.mdTable(b, attach)
	b.WriteString("### Importing a safetensors file\n\n" + bundleImportText)
	r.mdTable(b, imp)
	b.WriteString("### Memory of 8 workers\n\n")
	if x := r.BundleX; x.Skip != "" {
		fmt.Fprintf(b, "Not measured: %s.\n\n", x.Skip)
	} else {
		fmt.Fprintf(b, "Making and writing the bundle grew Shmem (/proc/meminfo) by %s, the first copy. Then 8 worker processes attached it read-only, read every page of every tensor and held their mappings: Shmem moved by %+d bytes. The pages of a MAP_SHARED file are the file's, whoever maps them.\n\n", fmtBytes(x.First), x.Extra)
	}
}

const bundleText = `A bundle is 1,000 float64 tensors of about 1 MiB each in one segment (1 GiB in all; 64 MiB with
-quick). Rows of a table ran interleaved, round by round.

`

const bundleAttachText = `The bundle's row attaches it read-only and makes a typed view of every tensor by name; its
baseline attaches one tensor of the same size and looks 1,000 names up in a map, what a program
that packs the tensors into one segment by hand would do; the last row attaches 1,000 segments
of about 1 MiB, one per tensor, and its ratio is to the bundle's attach.

`

const bundleImportText = `The file has the 1,000 tensors and an odd header length, as Hugging Face's writer often leaves
it, so every tensor is misaligned in it and the import lays each out again, aligned; cp copies the
same file to /dev/shm.

`
