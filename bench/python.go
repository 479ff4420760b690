package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/shmtensor/shmtensor/internal/numpytest"
)

const (
	caseNumpyLoad = "numpy.load(path, mmap_mode=\"r+\")"
	caseSharedMem = "multiprocessing.shared_memory.SharedMemory(name) + np.ndarray"
)

// pyServer is one Python process that times numpy's two ways of attaching
// to shared memory on request, so that its batches run in the same rounds
// as the Go cases. It times itself with perf_counter_ns; the pipe round trip
// is outside what it measures.
const pyServer = `
import json, sys, time
import numpy as np
from multiprocessing import shared_memory, resource_tracker

# Attaching registers the segment with the resource tracker before Python
# 3.13, which then unlinks it at exit with a "leaked shared_memory" warning;
# 3.13 has track=False for that. Attaches here register nothing either way;
# the segments this process creates are registered and unlinked as usual.
if sys.version_info >= (3, 13):
    attach_kw = {"track": False}
    def untracked(f):
        return f()
else:
    attach_kw = {}
    _register = resource_tracker.register
    def _no_shm_register(name, rtype):
        if rtype != "shared_memory":
            _register(name, rtype)
    def untracked(f):
        resource_tracker.register = _no_shm_register
        try:
            return f()
        finally:
            resource_tracker.register = _register

created = {}
def load(path, n):
    a = np.load(path, mmap_mode="r+")
    if a.shape != (n,):
        raise SystemExit("numpy.load: shape %r, want (%d,)" % (a.shape, n))
    del a  # unmapped as its last reference goes

def attach(name, n):
    s = shared_memory.SharedMemory(name=name, **attach_kw)
    a = np.ndarray((n,), dtype=np.float64, buffer=s.buf)
    del a
    s.close()

print(json.dumps({"python": sys.version.split()[0], "numpy": np.__version__}), flush=True)
try:
    for line in sys.stdin:
        c = json.loads(line)
        if c["op"] == "create":
            created[c["name"]] = shared_memory.SharedMemory(name=c["name"], create=True, size=c["bytes"])
            print("ok", flush=True)
            continue
        if c["op"] == "load":
            f = lambda: load(c["path"], c["n"])
        else:
            f = lambda: attach(c["name"], c["n"])
        def run():
            t0 = time.perf_counter_ns()
            for _ in range(c["batch"]):
                f()
            return (time.perf_counter_ns() - t0) / c["batch"]
        print(untracked(run), flush=True)
finally:
    for s in created.values():
        s.close()
        s.unlink()
`

// python is a running pyServer.
type python struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Reader
	stderr  bytes.Buffer
	created []string
}

// findPython returns an interpreter that imports numpy, or why there is
// none: the -python flag if given, else what the tests use.
func findPython() (string, error) {
	if *pyFlag != "" {
		if out, err := exec.Command(*pyFlag, "-c", "import numpy").CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %v %s", *pyFlag, err, strings.TrimSpace(string(out)))
		}
		return *pyFlag, nil
	}
	return numpytest.Find()
}

// startPython starts the server and records the versions in e.
func startPython(e *env) (*python, error) {
	py, err := findPython()
	if err != nil {
		return nil, err
	}
	p := &python{cmd: exec.Command(py, "-c", pyServer)}
	p.cmd.Stderr = &p.stderr
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.out = bufio.NewReader(out)
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		p.close()
		return nil, fmt.Errorf("python did not start: %v: %s", err, p.stderr.String())
	}
	var v struct{ Python, Numpy string }
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		p.close()
		return nil, fmt.Errorf("python said %q", line)
	}
	e.Python, e.Numpy = v.Python, v.Numpy
	progress("numpy %s on Python %s (%s): timed in the same rounds as the Go attaches", v.Numpy, v.Python, py)
	return p, nil
}

func (p *python) call(req map[string]any) (string, error) {
	b, _ := json.Marshal(req)
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return "", fmt.Errorf("python: %v: %s", err, p.stderr.String())
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("python: %v: %s", err, p.stderr.String())
	}
	return strings.TrimSpace(line), nil
}

// create makes a SharedMemory segment of the given size in Python; the
// server unlinks it when it exits.
func (p *python) create(name string, size int64) error {
	p.created = append(p.created, name)
	_, err := p.call(map[string]any{"op": "create", "name": name, "bytes": size})
	return err
}

// batch runs op ("load" of path or "attach" of name) batch times and
// returns Python's own time per operation.
func (p *python) batch(op, path, name string, n int64, batch int) (float64, error) {
	s, err := p.call(map[string]any{"op": op, "path": path, "name": name, "n": n, "batch": batch})
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(s, 64)
}

func (p *python) close() {
	p.in.Close()
	p.cmd.Wait()
	for _, name := range p.created { // in case Python died before unlinking
		os.Remove(shmDir + "/" + name)
	}
	if s := strings.TrimSpace(p.stderr.String()); s != "" {
		progress("python said on stderr: %s", s)
	}
}
