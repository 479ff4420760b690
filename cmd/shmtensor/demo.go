package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	mathrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
)

var cmdDemo = &Command{
	UsageLine: "demo [-n N]",
	Short:     "two processes share a matrix (try this first)",
	Long: `
Demo shows two processes sharing a tensor. This process (the parent)
creates two N×N float64 segments: A, filled with known values, and C,
zeros. It starts a child process (this same binary, through the hidden
command demo-child, which refuses to run unless demo started it) that
attaches both by name, checks that it sees the parent's values, and
computes C = A·Aᵀ with gonum directly in the shared memory. The parent then
checks C against its own computation.

It also measures, in this run, how long the child took to attach A against
writing and reading the same matrix through a pipe with encoding/binary,
and prints the ratio. Both segments are deleted at the end, also when the
demo is interrupted with Ctrl-C (the child is killed first; the exit status
is 130).
`,
}

var demoN = cmdDemo.Flag.Int("n", 1000, "the matrices are `N`×N")

// cmdDemoChild is the child's side of the demo. The parent starts it as
// "shmtensor demo-child A C" with a status pipe as file descriptor 3 and
// its own process id in the environment variable demoParentEnv; it refuses
// to run otherwise.
var cmdDemoChild = &Command{
	UsageLine: "demo-child A C",
	Short:     "the child process of demo (internal)",
	Long:      `Demo-child is the child process of "shmtensor demo"; it runs only when started by demo.`,
	MinArgs:   2,
	MaxArgs:   2,
	Hidden:    true,
}

// demoParentEnv holds the process id of the demo that started demo-child.
const demoParentEnv = "SHMTENSOR_DEMO_PARENT"

func init() {
	cmdDemo.Run = runDemo
	cmdDemoChild.Run = runDemoChild
}

// demoValue is A[i, j]: values both processes can compute.
func demoValue(i, j int) float64 {
	return float64((i*31+j*17)%101)/101 - 0.5
}

// childStatus is what the child reports to the parent on fd 3.
type childStatus struct {
	PID      int           `json:"pid"`
	Attach   time.Duration `json:"attach_ns"`
	Touch    time.Duration `json:"touch_ns"`
	Compute  time.Duration `json:"compute_ns"`
	ValuesOK bool          `json:"values_ok"`
	AttachC  time.Duration `json:"attach_c_ns"`
}

func runDemo(c *Command, _ []string) error {
	if *demoN < 1 || *demoN > 20000 {
		return usagef("-n %d out of range (1 to 20000)", *demoN)
	}
	ctx, stop := interruptContext()
	defer stop()
	code, err := demoParent(ctx, *demoN)
	if err != nil {
		if ctx.Err() != nil {
			c.warn(fmt.Errorf("interrupted (%v); segments deleted", err))
			return exitStatus(130)
		}
		return err
	}
	if code != 0 {
		return exitStatus(code)
	}
	return nil
}

func demoParent(ctx context.Context, n int) (code int, err error) {
	pid := os.Getpid()
	say := func(format string, args ...any) {
		fmt.Printf("parent %d: %s\n", pid, fmt.Sprintf(format, args...))
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	base := fmt.Sprintf("shmtensor-demo-%d-%s", pid, hex.EncodeToString(rnd[:]))
	nameA, nameC := base+"-a", base+"-c"

	// Everything created is deleted on the way out, whatever happens.
	var created []string
	defer func() {
		for _, name := range created {
			if derr := shmtensor.Delete(name); derr != nil {
				err = errors.Join(err, derr)
			}
		}
		if len(created) > 0 {
			say("deleted shm://%s and shm://%s", nameA, nameC)
		}
	}()

	a, err := shmtensor.Create[float64](nameA, []int{n, n})
	if err != nil {
		return 1, err
	}
	created = append(created, nameA)
	defer a.Close()
	cres, err := shmtensor.Create[float64](nameC, []int{n, n})
	if err != nil {
		return 1, err
	}
	created = append(created, nameC)
	defer cres.Close()
	ad := a.Data()
	for i := range n {
		for j := range n {
			ad[i*n+j] = demoValue(i, j)
		}
	}
	bytes := int64(len(ad)) * 8
	say("created shm://%s (%d×%d float64, %s, A[i,j] = ((31i+17j) mod 101)/101 - 0.5) and shm://%s (zeros, for C = A·Aᵀ)",
		nameA, n, n, units.Bytes(bytes), nameC)

	// The alternative to sharing: send the matrix through a pipe.
	pipeTime, err := pipeRoundTrip(ad)
	if err != nil {
		return 1, fmt.Errorf("pipe measurement: %w", err)
	}
	say("wrote and read A through a pipe with encoding/binary in %v", round(pipeTime))
	if err := ctx.Err(); err != nil {
		return 1, err
	}

	exe, err := os.Executable()
	if err != nil {
		return 1, fmt.Errorf("finding this program to start the child: %w", err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return 1, err
	}
	defer statusR.Close()
	cmd := exec.CommandContext(ctx, exe, cmdDemoChild.Name(), nameA, nameC)
	cmd.Env = append(os.Environ(), demoParentEnv+"="+strconv.Itoa(pid))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{statusW}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		statusW.Close()
		return 1, fmt.Errorf("starting the child: %w", err)
	}
	statusW.Close()
	say("started child %d, this program again: %s %s %s %s", cmd.Process.Pid, filepath.Base(exe), cmdDemoChild.Name(), nameA, nameC)
	var st childStatus
	decErr := json.NewDecoder(statusR).Decode(&st)
	if err := cmd.Wait(); err != nil {
		return 1, fmt.Errorf("child %d: %w", cmd.Process.Pid, err)
	}
	if decErr != nil {
		return 1, fmt.Errorf("child %d sent no status: %w", cmd.Process.Pid, decErr)
	}
	if err := ctx.Err(); err != nil {
		return 1, err
	}

	// Check the child's C against the parent's own computation, in O(N²)
	// rather than a second O(N³) product: C·x must equal A·(Aᵀ·x) for a
	// random x (Freivalds' check), and sampled entries must equal the dot
	// products of rows of A.
	t0 := time.Now()
	ma, err := shmtensor.Dense(a)
	if err != nil {
		return 1, err
	}
	mc, err := shmtensor.Dense(cres)
	if err != nil {
		return 1, err
	}
	x := mat.NewVecDense(n, nil)
	for i := range n {
		x.SetVec(i, mathrand.Float64()-0.5)
	}
	var atx, want, got mat.VecDense
	atx.MulVec(ma.T(), x)
	want.MulVec(ma, &atx)
	got.MulVec(mc, x)
	maxDiff := 0.0
	for i := range n {
		maxDiff = max(maxDiff, math.Abs(got.AtVec(i)-want.AtVec(i)))
	}
	const samples = 1000
	for range samples {
		i, j := mathrand.IntN(n), mathrand.IntN(n)
		maxDiff = max(maxDiff, math.Abs(mc.At(i, j)-mat.Dot(ma.RowView(i), ma.RowView(j))))
	}
	tol := 1e-12 * float64(n) * float64(n)
	ok := maxDiff <= tol && st.ValuesOK
	verdict := "ok"
	if !ok {
		verdict = "FAILED"
		code = 1
	}
	say("check %s: C from child %d agrees with the parent's own computation: C·x = A·(Aᵀ·x) for a random x, and %d random entries C[i,j] = A[i,:]·A[j,:] (max |difference| %.3g, tolerance %.3g, %v)",
		verdict, st.PID, samples, maxDiff, tol, round(time.Since(t0)))

	ratio := float64(pipeTime) / float64(max(st.Attach, 1))
	say("attaching %s took the child %v; the pipe took %v: attaching was %.0f× faster",
		units.Bytes(bytes), round(st.Attach), round(pipeTime), ratio)
	say("(the child's first read of every page of A took another %v; a pipe copies every byte twice)", round(st.Touch))
	return code, nil
}

// pipeRoundTrip writes data into an os.Pipe with encoding/binary while
// reading it back on the other end, and returns how long that took.
func pipeRoundTrip(data []float64) (time.Duration, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	t0 := time.Now()
	werr := make(chan error, 1)
	go func() {
		err := binary.Write(w, binary.LittleEndian, data)
		w.Close()
		werr <- err
	}()
	got := make([]float64, len(data))
	rerr := binary.Read(r, binary.LittleEndian, got)
	elapsed := time.Since(t0)
	if err := errors.Join(<-werr, rerr); err != nil {
		return 0, err
	}
	for i := range got {
		if got[i] != data[i] {
			return 0, fmt.Errorf("element %d came out of the pipe as %v, want %v", i, got[i], data[i])
		}
	}
	return elapsed, nil
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d > time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d
}

func runDemoChild(_ *Command, args []string) error {
	if os.Getenv(demoParentEnv) != strconv.Itoa(os.Getppid()) {
		return usagef(`this command is the child process of "shmtensor demo" and runs only when started by it`)
	}
	status := os.NewFile(3, "status")
	if status == nil {
		return errors.New(`no status pipe on file descriptor 3 (this command is run by "shmtensor demo")`)
	}
	defer status.Close()
	st, err := demoChild(args[0], args[1])
	if err != nil {
		return err
	}
	if err := json.NewEncoder(status).Encode(st); err != nil {
		return fmt.Errorf("reporting to the parent: %w", err)
	}
	if !st.ValuesOK {
		return exitStatus(1)
	}
	return nil
}

func demoChild(nameA, nameC string) (childStatus, error) {
	st := childStatus{PID: os.Getpid()}
	say := func(format string, args ...any) {
		fmt.Printf("child  %d: %s\n", st.PID, fmt.Sprintf(format, args...))
	}
	t0 := time.Now()
	// Read-write, though the child only reads A: shmtensor.Dense refuses
	// read-only tensors, since a *mat.Dense can be written to.
	a, err := shmtensor.Attach[float64](nameA)
	st.Attach = time.Since(t0)
	if err != nil {
		return st, err
	}
	defer a.Close()
	shape := a.Shape()
	if len(shape) != 2 || shape[0] != shape[1] {
		return st, fmt.Errorf("%s: want a square matrix, got shape %v", nameA, shape)
	}
	n := shape[0]
	ad := a.Data()

	// Read one value per page, so that every page is mapped, and check the
	// values the parent wrote on the way.
	t0 = time.Now()
	st.ValuesOK = true
	const perPage = 4096 / 8
	for k := 0; k < len(ad); k += perPage {
		if ad[k] != demoValue(k/n, k%n) {
			st.ValuesOK = false
		}
	}
	st.Touch = time.Since(t0)
	say("attached shm://%s in %v: %d×%d float64; values as the parent wrote them: %v",
		nameA, round(st.Attach), n, n, st.ValuesOK)

	t0 = time.Now()
	cres, err := shmtensor.Attach[float64](nameC)
	st.AttachC = time.Since(t0)
	if err != nil {
		return st, err
	}
	defer cres.Close()
	if s := cres.Shape(); len(s) != 2 || s[0] != n || s[1] != n {
		return st, fmt.Errorf("%s: want shape [%d %d], got %v", nameC, n, n, s)
	}
	t0 = time.Now()
	ma, err := shmtensor.Dense(a) // zero-copy: gonum works on the shared memory
	if err != nil {
		return st, err
	}
	mc, err := shmtensor.Dense(cres)
	if err != nil {
		return st, err
	}
	if n >= 1500 { // seconds of work: say so before, not only after
		say("attached shm://%s; computing C = A·Aᵀ into it with gonum (%d×%d, about %.0f GFLOP)...", nameC, n, n, 2*float64(n)*float64(n)*float64(n)/1e9)
	}
	mc.Mul(ma, ma.T())
	st.Compute = time.Since(t0)
	if n >= 1500 {
		say("computed C = A·Aᵀ in %v", round(st.Compute))
	} else {
		say("attached shm://%s and computed C = A·Aᵀ into it with gonum in %v", nameC, round(st.Compute))
	}
	return st, nil
}
