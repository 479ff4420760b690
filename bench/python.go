package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

const (
	caseNumpyLoad = "numpy.load(path, mmap_mode=\"r+\")"
	caseSharedMem = "multiprocessing.shared_memory.SharedMemory(name) + np.ndarray"
)

// pyScript times numpy's two ways of attaching to shared memory inside one
// Python process, round by round like interleave, with perf_counter_ns.
const pyScript = `
import json, sys, time
cfg = json.loads(sys.argv[1])
import numpy as np
from multiprocessing import shared_memory, resource_tracker

R, B = cfg["rounds"], cfg["batch"]

def rounds(fn):
    fn()  # warm-up, not recorded
    ns = []
    for _ in range(R):
        t0 = time.perf_counter_ns()
        for _ in range(B):
            fn()
        ns.append((time.perf_counter_ns() - t0) / B)
    return ns

# Attaching registers the segment with the resource tracker before Python
# 3.13, which then unlinks it at exit with a "leaked shared_memory" warning;
# 3.13 has track=False for that. Attaches here register nothing either way.
if sys.version_info >= (3, 13):
    attach_kw = {"track": False}
else:
    attach_kw = {}
    _register = resource_tracker.register
    def _no_shm_register(name, rtype):
        if rtype != "shared_memory":
            _register(name, rtype)

out = {"numpy": np.__version__, "python": sys.version.split()[0], "results": []}
for c in cfg["cases"]:
    path, n = c["path"], c["n"]

    def load():
        a = np.load(path, mmap_mode="r+")
        if a.shape != (n,):
            raise SystemExit("numpy.load: shape %r, want (%d,)" % (a.shape, n))
        del a  # unmapped as its last reference goes

    out["results"].append({"label": c["label"], "case": "load", "ns": rounds(load)})

    creator = shared_memory.SharedMemory(name=c["pyname"], create=True, size=c["bytes"])
    try:
        if not attach_kw:
            resource_tracker.register = _no_shm_register

        def attach():
            s = shared_memory.SharedMemory(name=c["pyname"], **attach_kw)
            a = np.ndarray((n,), dtype=np.float64, buffer=s.buf)
            del a
            s.close()

        out["results"].append({"label": c["label"], "case": "shm", "ns": rounds(attach)})
    finally:
        if not attach_kw:
            resource_tracker.register = _register
        creator.close()
        creator.unlink()
print(json.dumps(out))
`

// findPython returns an interpreter that imports numpy, or why there is
// none.
func findPython() (string, error) {
	var cands []string
	if *pyFlag != "" {
		cands = []string{*pyFlag}
	} else {
		if p := os.Getenv("SHMTENSOR_PYTHON"); p != "" {
			cands = append(cands, p)
		}
		cands = append(cands, "/usr/bin/python3", "python3")
	}
	var tried []string
	for _, c := range cands {
		out, err := exec.Command(c, "-c", "import numpy").CombinedOutput()
		if err == nil {
			return c, nil
		}
		msg := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		tried = append(tried, fmt.Sprintf("%s: %v %s", c, err, msg))
	}
	return "", fmt.Errorf("%s", strings.Join(tried, "; "))
}

// benchNumpy times numpy.load(mmap_mode) on the segments benchAttach made
// and SharedMemory attaches of a segment of the same size that Python
// creates itself.
func benchNumpy(r *report) []row {
	defer removeAttachSegments()
	rounds, batch := 31, 200
	if *quick {
		rounds, batch = 7, 50
	}
	skipped := func(why string) []row {
		progress("numpy: skipped: %s", why)
		var rows []row
		for _, sz := range attachSizes() {
			for _, c := range []string{caseNumpyLoad, caseSharedMem} {
				rows = append(rows, row{Group: "attach", Case: c, Size: sz, Skip: "skipped: numpy not available (" + why + ")"})
			}
		}
		return rows
	}
	py, err := findPython()
	if err != nil {
		return skipped(err.Error())
	}
	type pyCase struct {
		Label  string `json:"label"`
		Path   string `json:"path"`
		PyName string `json:"pyname"`
		N      int64  `json:"n"`
		Bytes  int64  `json:"bytes"`
	}
	cfg := struct {
		Rounds int      `json:"rounds"`
		Batch  int      `json:"batch"`
		Cases  []pyCase `json:"cases"`
	}{Rounds: rounds, Batch: batch}
	for _, sz := range attachSizes() {
		cfg.Cases = append(cfg.Cases, pyCase{
			Label: sz.Label, Path: shmDir + "/" + attachSegments[sz.Label],
			PyName: shmName("py"), N: sz.Bytes / 8, Bytes: sz.Bytes + 4096,
		})
	}
	arg, _ := json.Marshal(cfg)
	progress("numpy: timing numpy.load(mmap_mode) and SharedMemory attach in one %s process", py)
	cmd := exec.Command(py, "-c", pyScript, string(arg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	for _, c := range cfg.Cases { // in case Python died before unlinking
		os.Remove(shmDir + "/" + c.PyName)
	}
	if err != nil {
		fatal(fmt.Errorf("python: %v\n%s", err, stderr.String()))
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		progress("python said on stderr: %s", s)
	}
	var res struct {
		Numpy   string `json:"numpy"`
		Python  string `json:"python"`
		Results []struct {
			Label string    `json:"label"`
			Case  string    `json:"case"`
			NS    []float64 `json:"ns"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		fatal(fmt.Errorf("python output: %v: %q", err, out))
	}
	r.Env.Python, r.Env.Numpy = res.Python, res.Numpy
	bySize := map[string]size{}
	for _, sz := range attachSizes() {
		bySize[sz.Label] = sz
	}
	var rows []row
	for _, x := range res.Results {
		c := caseNumpyLoad
		if x.Case == "shm" {
			c = caseSharedMem
		}
		base := r.find("attach", caseFloorAttach, x.Label)
		rows = append(rows, newRowUnpaired("attach", c, bySize[x.Label], x.NS, caseFloorAttach, base))
		progress("numpy  %-7s %s: %s (%.2f× floor)", x.Label, x.Case, fmtNs(rows[len(rows)-1].S.Med), rows[len(rows)-1].Ratio)
	}
	return rows
}
