// Command zarrbench measures the throughput of Zarr export against cp(1)
// and of serve's chunk endpoint over loopback, and prints the figures as
// the Markdown section of docs/PERFORMANCE.md. Cases run interleaved,
// round after round, so that load from other processes moves them alike;
// each figure is the median over rounds.
//
//	go run ./cmd/shmtensor/internal/zarrbench [-size 1024] [-rounds 3] [-dir /tmp]
package main

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/cmd/shmtensor/internal/serve"
	"github.com/shmtensor/shmtensor/internal/units"
	"github.com/shmtensor/shmtensor/zarr"
)

func main() {
	sizeMiB := flag.Int("size", 1024, "MiB exported")
	rounds := flag.Int("rounds", 3, "rounds of every case")
	dir := flag.String("dir", os.TempDir(), "directory the exports are written to")
	serveMiB := flag.Int("serve-size", 256, "MiB served")
	clients := flag.Int("clients", 4, "concurrent HTTP clients")
	flag.IntVar(&workers, "workers", 0, "zarr.Options.Workers (0: zarr.DefaultWorkers())")
	flag.Parse()
	if err := run(*sizeMiB, *rounds, *dir, *serveMiB, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "zarrbench:", err)
		os.Exit(1)
	}
}

var workers int

func uniqueName() string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("zarrbench-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
}

// smooth fills x with a smooth field: compressible like measured data,
// unlike random bits.
func smooth(x *shmtensor.Tensor[float64]) {
	d := x.Data()
	for i := range d {
		d[i] = math.Round(1000*math.Sin(float64(i)/4096)) / 8
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func gbps(bytes int64, d time.Duration) string {
	return fmt.Sprintf("%.2f GB/s", float64(bytes)/d.Seconds()/1e9)
}

func run(sizeMiB, rounds int, dir string, serveMiB, clients int) error {
	start := time.Now()
	load, _ := os.ReadFile("/proc/loadavg")
	name := uniqueName()
	cols := 1 << 13
	rows := sizeMiB << 20 / 8 / cols
	x, err := shmtensor.Create[float64](name, []int{rows, cols})
	if err != nil {
		return err
	}
	defer shmtensor.Delete(name)
	defer x.Close()
	smooth(x)
	size := int64(len(x.Segment().Bytes()))
	work, err := os.MkdirTemp(dir, "zarrbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	type exportCase struct {
		label string
		run   func(out string) error
		times []time.Duration
	}
	cases := []*exportCase{
		{label: "cp /dev/shm/NAME (baseline)", run: func(out string) error {
			return exec.Command("cp", filepath.Join("/dev/shm", name), out).Run()
		}},
		{label: "zarr.Write, no compressor", run: func(out string) error {
			return zarr.Write(out, x.Segment(), &zarr.Options{Workers: workers})
		}},
		{label: "zarr.Write, zlib level 1", run: func(out string) error {
			return zarr.Write(out, x.Segment(), &zarr.Options{Compressor: zarr.Zlib(1), Workers: workers})
		}},
	}
	var zlibBytes int64
	for r := range rounds {
		for k := range cases {
			c := cases[(k+r)%len(cases)]
			out := filepath.Join(work, "out")
			t0 := time.Now()
			if err := c.run(out); err != nil {
				return fmt.Errorf("%s: %w", c.label, err)
			}
			c.times = append(c.times, time.Since(t0))
			if c == cases[2] {
				zlibBytes = duBytes(out)
			}
			os.RemoveAll(out)
		}
	}

	// serve: a tensor of serveMiB with the default 4 MiB chunks, every
	// chunk fetched by concurrent clients over loopback, against the same
	// bytes as one .npy GET and against copying them in memory.
	sname := uniqueName()
	srows := serveMiB << 20 / 8 / 2048
	y, err := shmtensor.Create[float64](sname, []int{srows, 2048})
	if err != nil {
		return err
	}
	defer shmtensor.Delete(sname)
	defer y.Close()
	smooth(y)
	srv, err := serve.New(serve.Config{Token: "t", Names: []string{sname}})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	defer hs.Close()
	arr, _ := zarr.NewArray(shmtensor.Float64, y.Shape(), nil)
	base := "http://" + ln.Addr().String() + "/" + sname
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	fetch := func(path string) (int64, error) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer t")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("%s: %s", path, resp.Status)
		}
		return io.Copy(io.Discard, resp.Body)
	}
	var chunkT, npyT, copyT []time.Duration
	sbytes := int64(len(y.Segment().Bytes()))
	buf := make([]byte, sbytes)
	for range rounds {
		var next atomic.Int64
		var wg sync.WaitGroup
		var ferr atomic.Value
		t0 := time.Now()
		for range clients {
			wg.Go(func() {
				for {
					k := int(next.Add(1) - 1)
					if k >= arr.NumChunks() {
						return
					}
					idx := []int{k / arr.Grid()[1], k % arr.Grid()[1]}
					if _, err := fetch(".zarr/" + arr.ChunkKey(idx)); err != nil {
						ferr.Store(err)
						return
					}
				}
			})
		}
		wg.Wait()
		chunkT = append(chunkT, time.Since(t0))
		if err, _ := ferr.Load().(error); err != nil {
			return err
		}
		t0 = time.Now()
		if _, err := fetch(".npy"); err != nil {
			return err
		}
		npyT = append(npyT, time.Since(t0))
		t0 = time.Now()
		copy(buf, y.Segment().Bytes())
		copyT = append(copyT, time.Since(t0))
	}

	cpT := median(cases[0].times)
	fmt.Printf("## Zarr export and serve\n\n")
	fmt.Printf("Generated by `go run ./cmd/shmtensor/internal/zarrbench` on %s, in %s; %d rounds, cases interleaved, medians shown. "+
		"The machine was loaded by other work meanwhile (load average at start: %s), so the figures are "+
		"indicative; the ratios, taken within the same rounds, are the robust part. "+
		"%s, %d logical CPUs.\n\n",
		start.UTC().Format("2006-01-02 15:04 UTC"), time.Since(start).Round(time.Second), rounds,
		string(trimNL(load)), runtime.Version(), runtime.NumCPU())
	fmt.Printf("Export of a %s float64 shm segment (%d×%d, a smooth field) to %s (page cache, no fsync), "+
		"default chunks (%v, 4 MiB), %d workers:\n\n", units.Bytes(size), rows, cols, dir,
		mustChunks(x), cmp.Or(workers, zarr.DefaultWorkers()))
	fmt.Printf("| case | median | throughput | time vs cp |\n|---|---|---|---|\n")
	for _, c := range cases {
		m := median(c.times)
		fmt.Printf("| %s | %s | %s | %.2f× |\n", c.label, m.Round(time.Millisecond), gbps(size, m), float64(m)/float64(cpT))
	}
	if zlibBytes > 0 {
		fmt.Printf("\nzlib level 1 stored %s (%.1f%% of the data).\n", units.Bytes(zlibBytes), 100*float64(zlibBytes)/float64(size))
	}
	cm, nm, mm := median(chunkT), median(npyT), median(copyT)
	fmt.Printf("\nserve over loopback: a %s float64 tensor (%d chunks of %s, uncompressed), every chunk "+
		"GET once by %d concurrent clients in the same process (client and server share the 2 CPUs), "+
		"against one GET of /NAME.npy and an in-memory copy of the same bytes:\n\n",
		units.Bytes(sbytes), arr.NumChunks(), units.Bytes(int64(arr.ChunkBytes())), clients)
	fmt.Printf("| case | median | throughput | vs memory copy |\n|---|---|---|---|\n")
	fmt.Printf("| all chunks, /NAME.zarr/I.J | %s | %s | %.1f× slower |\n", cm.Round(time.Millisecond), gbps(sbytes, cm), float64(cm)/float64(mm))
	fmt.Printf("| /NAME.npy, one GET | %s | %s | %.1f× slower |\n", nm.Round(time.Millisecond), gbps(sbytes, nm), float64(nm)/float64(mm))
	fmt.Printf("| copy() of the segment's bytes | %s | %s | 1 |\n", mm.Round(time.Millisecond), gbps(sbytes, mm))
	return nil
}

func mustChunks(x *shmtensor.Tensor[float64]) []int {
	a, _ := zarr.NewArray(shmtensor.Float64, x.Shape(), nil)
	return a.Chunks()
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// duBytes sums the sizes of the files under dir.
func duBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
