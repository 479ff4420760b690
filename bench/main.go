// Command bench measures shmtensor against the system-call floor, memory
// bandwidth and the tools users would pick instead (numpy memmaps,
// multiprocessing.shared_memory, pipes, gob, files), all in one run, and
// prints the table and the targets; with -docs it also writes
// docs/PERFORMANCE.md with the table and two SVG plots.
//
//	cd bench && go run .            # about 6 minutes on 2 cores
//	go run . -docs                  # the same, and rewrites docs/PERFORMANCE.md
//	go run . -quick -out /tmp/p.md  # a fast smoke run with fewer rounds, written to /tmp
//
// Every number in the report comes from the run that wrote it. Cases that
// are compared are interleaved round by round, so a burst of load from
// other processes hits all of them alike; each row shows the min, median and
// max over rounds of the mean time per operation within a round.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// childFlag re-executes this program as the receiving side of a hand-off.
const childFlag = "handoff-child"

var (
	outFlag    = flag.String("out", "", "markdown report to write; the SVG plots go beside it (none by default: the table is printed)")
	docsFlag   = flag.Bool("docs", false, "write the report to docs/PERFORMANCE.md in the repository (a full run only)")
	quick      = flag.Bool("quick", false, "fewer rounds and no 1 GiB cases: a smoke run, not for the report")
	pyFlag     = flag.String("python", "", "Python interpreter with numpy (default: $SHMTENSOR_PYTHON, /usr/bin/python3, python3)")
	onlyFlag   = flag.String("only", "", "comma-separated sections to run (attach,create,handoff,resident,mul,access,coordination,channel,bundle,memory — or its parts populate,huge,bulk,threshold,stream; numpy runs with attach); the report is written only with -out")
	diskFlag   = flag.String("disk", "/var/tmp", "a directory on a disk filesystem, for the export/import comparison with cp")
	childMode  = flag.String(childFlag, "", "internal: run as the receiving process of a hand-off by the given method")
	coordMode  = flag.String(coordChildFlag, "", "internal: run as the other process of a coordination round trip")
	chanMode   = flag.String(chanChildFlag, "", "internal: run as a process of the channel comparison")
	bundleMode = flag.String(bundleChildFlag, "", "internal: run as a worker process attaching the named bundle")
)

func main() {
	flag.Parse()
	if *childMode != "" {
		if err := runChild(*childMode); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	if *coordMode != "" {
		if err := runCoordChild(*coordMode); err != nil {
			fmt.Fprintln(os.Stderr, "bench coordination child:", err)
			os.Exit(1)
		}
		return
	}
	if *chanMode != "" {
		if err := runChanChild(*chanMode); err != nil {
			fmt.Fprintln(os.Stderr, "bench channel child:", err)
			os.Exit(1)
		}
		return
	}
	if *bundleMode != "" {
		if err := runBundleChild(*bundleMode); err != nil {
			fmt.Fprintln(os.Stderr, "bench bundle child:", err)
			os.Exit(1)
		}
		return
	}
	out := *outFlag
	if *docsFlag && (out != "" || *onlyFlag != "" || *quick) {
		fatal(fmt.Errorf("-docs writes the report of a full run: it takes no -out, -only or -quick"))
	}
	if *docsFlag {
		root, err := repoRoot()
		if err != nil {
			fatal(err)
		}
		out = filepath.Join(root, "docs", "PERFORMANCE.md")
	}
	if out != "" {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			fatal(err)
		}
	}
	start := time.Now()
	r := &report{Env: environment(), Quick: *quick}
	progress("shmtensor bench: %s, %s, %d CPUs, %s", r.Env.GoVersion, r.Env.CPU, runtime.NumCPU(), r.Env.Kernel)

	if section("attach") {
		r.Attach = benchAttach(&r.Env)
	}
	if section("create") {
		r.Create = benchCreate()
	}
	if section("handoff") {
		r.Handoff = benchHandoff()
	}
	if section("resident") {
		r.Resident = benchResident()
	}
	if section("mul") {
		r.Mul = benchMul()
	}
	if section("access") {
		r.Access = benchAccess()
	}
	if section("coordination") {
		r.Coord = benchCoordination()
	}
	if section("channel") {
		r.Chan, r.ChanX = benchChannel()
	}
	if section("bundle") {
		r.Bundle, r.BundleX = benchBundle()
	}
	if section("memory") || section("populate") || section("huge") || section("bulk") || section("threshold") || section("stream") {
		r.Memory = benchMemory()
	}
	r.Elapsed = time.Since(start)

	r.printTable(os.Stdout)
	if out == "" {
		return
	}
	if err := r.write(out); err != nil {
		fatal(err)
	}
	progress("wrote %s and its plots in %v", out, time.Since(start).Round(time.Second))
}

// section reports whether -only selects the named section.
func section(name string) bool {
	return *onlyFlag == "" || slices.Contains(strings.Split(*onlyFlag, ","), name)
}

// repoRoot finds the root module's directory from the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && isRootModule(b) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no shmtensor repository above %s: run from bench/ or give -out", dir)
		}
	}
}

func isRootModule(gomod []byte) bool {
	const want = "module github.com/shmtensor/shmtensor\n"
	return len(gomod) >= len(want) && string(gomod[:len(want)]) == want
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
