package serve

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor"
)

// TestMain lets the test binary be the writer process of
// TestChunksConsistentUnderLock.
func TestMain(m *testing.M) {
	if name := os.Getenv("SHMTENSOR_SERVE_WRITER"); name != "" {
		os.Exit(writer(name))
	}
	os.Exit(m.Run())
}

// writer sets every element of the tensor name to 1, 2, 3, ... in turn,
// each time under the segment's exclusive lock and pausing 1 ms between
// rounds, until it is killed (or a minute has passed).
func writer(name string) int {
	x, err := shmtensor.Attach[float64](name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer x.Close()
	d := x.Data()
	deadline := time.Now().Add(time.Minute)
	for k := 1.0; time.Now().Before(deadline); k++ {
		unlock, err := x.Segment().Lock(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for i := range d {
			d[i] = k
		}
		unlock()
		time.Sleep(time.Millisecond) // readers poll for the lock; a writer that never lets go starves them
	}
	return 0
}

// TestChunksConsistentUnderLock: while another process rewrites the whole
// tensor under its exclusive lock, every chunk served holds one value,
// since chunks are copied under the shared lock.
func TestChunksConsistentUnderLock(t *testing.T) {
	const rows, cols = 512, 1024 // 4 MiB: a rewrite takes long enough to be caught halfway without the lock
	name, x := liveTensor(t, rows, cols)
	x.Fill(0)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "SHMTENSOR_SERVE_WRITER="+name)
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			child.Process.Kill() // the kernel releases its lock
			child.Wait()
		}
	}
	defer stop()
	_, ts := newServer(t, Config{Token: token, Names: []string{name}, Chunks: []int{128, cols}})
	values := map[float64]bool{}
	for i := range 100 {
		key := fmt.Sprintf("%d.0", i%4)
		resp, b := get(t, ts, "/"+name+".zarr/"+key)
		if resp.StatusCode != 200 || len(b) != 128*cols*8 {
			t.Fatalf("%s: %d, %d bytes", key, resp.StatusCode, len(b))
		}
		n := len(b) / 8
		first := math.Float64frombits(binary.LittleEndian.Uint64(b))
		for j := 1; j < n; j++ {
			if v := math.Float64frombits(binary.LittleEndian.Uint64(b[8*j:])); v != first {
				t.Fatalf("chunk %s mixes writes: element 0 is %v, element %d is %v", key, first, j, v)
			}
		}
		values[first] = true
	}
	stop()
	if len(values) < 2 {
		t.Errorf("the chunks saw %d distinct values: the writer did not run meanwhile", len(values))
	}
	t.Logf("%d distinct values seen in 100 chunks", len(values))
}
