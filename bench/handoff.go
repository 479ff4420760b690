package main

import (
	"bufio"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/shmtensor/shmtensor"
	"gonum.org/v1/gonum/floats"
)

// A hand-off moves a float64 vector from this process to a child process
// (this program re-executed with -handoff-child) that sums it. The child is
// started and has said "ready" before the clock starts, so process start-up
// is not counted for any method. The total is timed by the parent alone: from
// the moment it starts handing off until it reads the child's sum. The child
// also times its receiving side: from the name (or the first byte of data)
// arriving to the sum being done.
const (
	methodShm     = "shm"
	methodShmCopy = "shm-copy"
	methodBinary  = "binary"
	methodGob     = "gob"
	methodFile    = "file"
)

var handoffMethods = []struct{ method, label string }{
	{methodShm, "shmtensor: producer wrote in place; child Attach + sum"},
	{methodShmCopy, "shmtensor: Create + copy from the heap; child Attach + sum"},
	{methodBinary, "pipe + encoding/binary (Write / Read of []float64)"},
	{methodGob, "pipe + encoding/gob"},
	{methodFile, "temporary file (raw bytes, page cache, no fsync)"},
}

func handoffLabel(method string) string {
	for _, m := range handoffMethods {
		if m.method == method {
			return m.label
		}
	}
	return method
}

// sum is a plain summing loop. Its chain of dependent additions runs below
// memory bandwidth; the hand-off's receivers use gonum's vectorised
// floats.Sum instead, as a program summing gigabytes would. The data are
// small integers, so every order of summation gives the same exact sum.
func sum(s []float64) float64 {
	var a float64
	for _, v := range s {
		a += v
	}
	return a
}

func fillData(s []float64) {
	for i := range s {
		s[i] = float64(i & 1023)
	}
}

func asBytes(s []float64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*8)
}

func benchHandoff() []row {
	var rows []row
	for _, sz := range handoffSizes() {
		reps := 9
		switch {
		case *quick:
			reps = 3
		case sz.Bytes >= 1<<30:
			reps = 2
		case sz.Bytes >= 256<<20:
			reps = 5
		case sz.Bytes >= 16<<20:
			reps = 5
		}
		n := int(sz.Bytes / 8)
		src := make([]float64, n)
		fillData(src)
		want := floats.Sum(src)
		total := map[string][]float64{}
		recv := map[string][]float64{}
		for rep := range reps {
			for k := range handoffMethods {
				m := handoffMethods[(rep+k)%len(handoffMethods)].method
				tot, rc, err := handoff(m, src, want)
				if err != nil {
					fatal(fmt.Errorf("hand-off %s of %s: %w", m, sz.Label, err))
				}
				total[m] = append(total[m], float64(tot.Nanoseconds()))
				recv[m] = append(recv[m], float64(rc.Nanoseconds()))
				debug.FreeOSMemory()
			}
		}
		base := summarise(total[methodBinary])
		for _, m := range handoffMethods {
			r := newRow("handoff", m.label, sz, total[m.method], handoffLabel(methodBinary), total[methodBinary])
			r.Extra = "receive side " + fmtNs(summarise(recv[m.method]).Med)
			r.Method = m.method
			rows = append(rows, r)
		}
		shm := summarise(total[methodShm])
		progress("hand-off %-7s shmtensor %s, pipe+binary %s (%.0f× faster), gob %s, file %s", sz.Label,
			fmtNs(shm.Med), fmtNs(base.Med), 1/rows[len(rows)-len(handoffMethods)].Ratio,
			fmtNs(summarise(total[methodGob]).Med), fmtNs(summarise(total[methodFile]).Med))
		src = nil
		debug.FreeOSMemory()
	}
	return rows
}

// handoff runs one hand-off of src by method and returns the total time
// and the child's receiving time.
func handoff(method string, src []float64, want float64) (total, recv time.Duration, err error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	// Set up what the producer has before the clock starts.
	var name string
	var t *shmtensor.Tensor[float64]
	defer func() {
		if t != nil {
			shmtensor.Delete(name)
			t.Close()
		}
	}()
	switch method {
	case methodShm:
		name = shmName("handoff")
		if t, err = shmtensor.Create[float64](name, []int{len(src)}); err != nil {
			return 0, 0, err
		}
		copy(t.Data(), src)
	case methodShmCopy:
		name = shmName("handoff")
	}
	var tmp string
	if method == methodFile {
		tmp = filepath.Join(os.TempDir(), shmName("handoff")+".f64")
		defer os.Remove(tmp)
	}

	cmd := exec.Command(exe, "-"+childFlag, method+":"+strconv.Itoa(len(src)))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 0, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer cmd.Wait()
	defer stdin.Close()
	res := bufio.NewReader(stdout)
	if line, err := res.ReadString('\n'); err != nil || line != "ready\n" {
		return 0, 0, fmt.Errorf("child did not start: %q %v", line, err)
	}

	t0 := time.Now()
	switch method {
	case methodShm:
		_, err = fmt.Fprintln(stdin, name)
	case methodShmCopy:
		t, err = shmtensor.Create[float64](name, []int{len(src)})
		if err == nil {
			copy(t.Data(), src)
			_, err = fmt.Fprintln(stdin, name)
		}
	case methodBinary:
		w := bufio.NewWriterSize(stdin, 1<<20)
		if err = binary.Write(w, binary.LittleEndian, src); err == nil {
			err = w.Flush()
		}
	case methodGob:
		w := bufio.NewWriterSize(stdin, 1<<20)
		if err = gob.NewEncoder(w).Encode(src); err == nil {
			err = w.Flush()
		}
	case methodFile:
		if err = os.WriteFile(tmp, asBytes(src), 0o600); err == nil {
			_, err = fmt.Fprintln(stdin, tmp)
		}
	}
	if err != nil {
		return 0, 0, err
	}
	line, err := res.ReadString('\n')
	total = time.Since(t0)
	if err != nil {
		return 0, 0, fmt.Errorf("no answer from the child: %w", err)
	}
	var got float64
	var recvNs int64
	if _, err := fmt.Sscan(line, &got, &recvNs); err != nil {
		return 0, 0, fmt.Errorf("child answered %q: %w", line, err)
	}
	if got != want {
		return 0, 0, fmt.Errorf("child summed %v, want %v", got, want)
	}
	return total, time.Duration(recvNs), nil
}

// runChild is the receiving process: spec is "method:elements".
func runChild(spec string) error {
	method, ns, ok := strings.Cut(spec, ":")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil {
		return fmt.Errorf("bad spec %q", spec)
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	fmt.Println("ready")
	if _, err := in.Peek(1); err != nil { // wait for the hand-off to start
		return err
	}
	t1 := time.Now()
	var s float64
	switch method {
	case methodShm, methodShmCopy:
		name, err := in.ReadString('\n')
		if err != nil {
			return err
		}
		t1 = time.Now()
		t, err := shmtensor.Attach[float64](strings.TrimSpace(name), shmtensor.ReadOnly())
		if err != nil {
			return err
		}
		s = floats.Sum(t.Data())
		t.Close()
	case methodBinary:
		data := make([]float64, n)
		if err := binary.Read(in, binary.LittleEndian, data); err != nil {
			return err
		}
		s = floats.Sum(data)
	case methodGob:
		var data []float64
		if err := gob.NewDecoder(in).Decode(&data); err != nil {
			return err
		}
		if len(data) != n {
			return fmt.Errorf("gob: %d elements, want %d", len(data), n)
		}
		s = floats.Sum(data)
	case methodFile:
		path, err := in.ReadString('\n')
		if err != nil {
			return err
		}
		t1 = time.Now()
		f, err := os.Open(strings.TrimSpace(path))
		if err != nil {
			return err
		}
		data := make([]float64, n)
		_, err = io.ReadFull(f, asBytes(data))
		f.Close()
		if err != nil {
			return err
		}
		s = floats.Sum(data)
	default:
		return fmt.Errorf("unknown method %q", method)
	}
	fmt.Println(s, time.Since(t1).Nanoseconds())
	return nil
}
