package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// The Python part of the channel section: 1 MiB numpy arrays from one
// Python process to another through a channel (python/shmtensor.py)
// against multiprocessing.Queue, the standard library's way, in the same
// rounds.

const (
	caseQueueTouch = "multiprocessing.Queue, the subscriber reading one element"
	caseChanTouch  = "channel (python/shmtensor.py), the subscriber reading one element"
	caseQueueSum   = "multiprocessing.Queue, the subscriber summing each array"
	caseChanSum    = "channel (python/shmtensor.py), the subscriber summing each array"
)

// pyQueueScript runs ROUNDS rounds of each case, alternating which goes
// first, and prints {"touch": {"queue": [s...], "channel": [s...]}, "sum":
// ...}: seconds per message. The producer has the array ready; the
// channel's copies it into the loaned slot (what q.put pickles and
// writes), the subscriber reads it in place and releases it. Both sides
// are spawned processes, as multiprocessing's spawn start method makes
// them; the clock runs from the first message sent to the last one read
// (time.monotonic, one clock for all processes).
const pyQueueScript = `import json, multiprocessing as mp, os, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, shmtensor

def q_sub(q, ready, done, n, mode):
    ready.put(1)
    s = 0.0
    for _ in range(n):
        a = q.get()
        s += a.sum() if mode == "sum" else a[0]
    done.put(time.monotonic())

def c_sub(name, ready, done, n, mode):
    sub = shmtensor.subscribe(name)
    ready.put(1)
    s = 0.0
    for _ in range(n):
        a = sub.next().array
        s += a.sum() if mode == "sum" else a[0]
        sub.release()
    done.put(time.monotonic())
    sub.close()

def run_queue(ctx, arr, n, mode):
    q, ready, done = ctx.Queue(maxsize=16), ctx.Queue(), ctx.Queue()
    p = ctx.Process(target=q_sub, args=(q, ready, done, n, mode))
    p.start()
    ready.get()
    t0 = time.monotonic()
    for _ in range(n):
        q.put(arr)
    t1 = done.get()
    p.join()
    return (t1 - t0) / n

def run_channel(ctx, arr, n, mode, name):
    prod = shmtensor.create_channel(name, arr.shape, arr.dtype, slots=16)
    try:
        ready, done = ctx.Queue(), ctx.Queue()
        p = ctx.Process(target=c_sub, args=(name, ready, done, n, mode))
        p.start()
        ready.get()
        t0 = time.monotonic()
        for _ in range(n):
            np.copyto(prod.loan(), arr)
            prod.send()
        t1 = done.get()
        p.join()
        return (t1 - t0) / n
    finally:
        prod.close()
        os.unlink("/dev/shm/" + name)

if __name__ == "__main__":
    n, elems, rounds, name = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    ctx = mp.get_context("spawn")
    arr = np.random.default_rng(1).random(elems)
    out = {}
    for mode in ("touch", "sum"):
        res = {"queue": [], "channel": []}
        for r in range(rounds):
            cases = ["queue", "channel"] if r % 2 == 0 else ["channel", "queue"]
            for c in cases:
                if c == "queue":
                    res[c].append(run_queue(ctx, arr, n, mode))
                else:
                    res[c].append(run_channel(ctx, arr, n, mode, "%s-%s-%d" % (name, mode, r)))
        out[mode] = res
    print(json.dumps(out), flush=True)
`

// benchChanPython runs pyQueueScript and returns its rows.
func benchChanPython() []row {
	sz := size{"1 MiB", 1 << 20}
	fail := func(why string) []row {
		progress("channel, Python: not measured: %s", why)
		var rows []row
		for _, c := range []string{caseQueueTouch, caseChanTouch, caseQueueSum, caseChanSum} {
			rows = append(rows, row{Group: "channel-python", Case: c, Size: sz, Skip: why})
		}
		return rows
	}
	py, err := findPython()
	if err != nil {
		return fail(err.Error())
	}
	root, err := repoRoot()
	if err != nil {
		return fail(err.Error())
	}
	dir, err := os.MkdirTemp("", "shmtensor-bench-py-")
	if err != nil {
		return fail(err.Error())
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "channel_vs_queue.py") // a file: spawn re-imports it (not queue.py, which would hide the module multiprocessing imports)
	if err := os.WriteFile(script, []byte(pyQueueScript), 0o600); err != nil {
		return fail(err.Error())
	}
	n, rounds := 1000, 5
	if *quick {
		n, rounds = 100, 2
	}
	progress("channel, Python: 1 MiB arrays, channel against multiprocessing.Queue, %d rounds of %d", rounds, n)
	cmd := exec.Command(py, script, filepath.Join(root, "python"), strconv.Itoa(n), strconv.Itoa(int(sz.Bytes/8)),
		strconv.Itoa(rounds), shmName("pyq"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fail(fmt.Sprintf("%s: %v", py, err))
	}
	var res map[string]map[string][]float64
	if err := json.Unmarshal(out, &res); err != nil {
		return fail(fmt.Sprintf("python said %q", strings.TrimSpace(string(out))))
	}
	ns := func(s []float64) []float64 {
		v := make([]float64, len(s))
		for i, x := range s {
			v[i] = x * 1e9
		}
		return v
	}
	var rows []row
	for _, m := range []struct{ mode, q, c string }{{"touch", caseQueueTouch, caseChanTouch}, {"sum", caseQueueSum, caseChanSum}} {
		q, c := ns(res[m.mode]["queue"]), ns(res[m.mode]["channel"])
		rq := newRow("channel-python", m.q, sz, q, "", nil)
		rq.Extra = fmtRate(sz.Bytes, rq.S.Med)
		rc := newRow("channel-python", m.c, sz, c, m.q, q)
		rc.Base = "multiprocessing.Queue"
		rc.Extra = fmtRate(sz.Bytes, rc.S.Med)
		rows = append(rows, rq, rc)
		progress("channel, Python, %s: %.1f× faster than multiprocessing.Queue", m.mode, 1/rc.Ratio)
	}
	return rows
}
