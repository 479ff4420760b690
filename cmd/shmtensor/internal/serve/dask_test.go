package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/numpytest"
	"github.com/shmtensor/shmtensor/zarr"
)

// daskPy computes one reduction over a Zarr store on disk and one over the
// live endpoint, each on a LocalCluster of two worker processes. Workers
// re-import the main module, hence the __main__ guard.
const daskPy = `
import json, os, sys

def main():
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    store, url, token = sys.argv[1:4]
    opts = {"client_kwargs": {"headers": {"Authorization": "Bearer " + token}}}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        pids = set(client.run(os.getpid).values())
        a = da.from_zarr(store)
        b = da.from_zarr(url, storage_options=opts)
        out = {
            "workers": len(pids - {os.getpid()}),
            "store_sum": float(a.sum().compute()),
            "store_colmax": a.max(axis=0).compute().tolist(),
            "live_sum": float(b.sum().compute()),
            "live_colmax": b.max(axis=0).compute().tolist(),
            "live_chunks": [list(c) for c in b.chunks],
        }
        # Without the token the endpoint refuses (fsspec raises on 401).
        try:
            da.from_zarr(url).sum().compute()
            out["no_token"] = "read"
        except Exception as e:
            out["no_token"] = type(e).__name__
    print(json.dumps(out))

if __name__ == "__main__":
    main()
`

// TestDask: a dask.distributed cluster of two worker processes reduces a
// store Write produced and the live endpoint (through fsspec's HTTP file
// system with the token in client_kwargs), and gets Go's numbers.
func TestDask(t *testing.T) {
	py := numpytest.Need(t)
	if out, err := exec.Command(py, "-c", "import zarr, dask.array, distributed, fsspec, aiohttp").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("dask is not available to %s (install python3-zarr python3-dask python3-distributed python3-fsspec python3-aiohttp): %s", py, bytes.TrimSpace(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	const rows, cols = 1000, 300
	name, x := liveTensor(t, rows, cols)
	d := x.Data()
	for i := range d {
		d[i] = float64((i*7919)%1000 - 500) // integers: every summation order gives the same sum
	}
	var sum float64
	colmax := make([]float64, cols)
	for i, v := range d {
		sum += v
		if j := i % cols; i < cols || v > colmax[j] {
			colmax[j] = v
		}
	}
	store := filepath.Join(t.TempDir(), "x.zarr")
	if err := zarr.Write(store, x.Segment(), &zarr.Options{Chunks: []int{128, 100}, Compressor: zarr.Zlib(1)}); err != nil {
		t.Fatal(err)
	}
	_, ts := newServer(t, Config{Token: token, Names: []string{name}, Chunks: []int{250, 128}})

	script := filepath.Join(t.TempDir(), "dask_check.py")
	os.WriteFile(script, []byte(daskPy), 0o600)
	cmd := exec.Command(py, script, store, ts.URL+"/"+name+".zarr", token)
	cmd.Dir = t.TempDir() // dask-worker-space goes here
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var got struct {
		Workers     int         `json:"workers"`
		StoreSum    float64     `json:"store_sum"`
		StoreColmax []float64   `json:"store_colmax"`
		LiveSum     float64     `json:"live_sum"`
		LiveColmax  []float64   `json:"live_colmax"`
		LiveChunks  [][]float64 `json:"live_chunks"`
		NoToken     string      `json:"no_token"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("dask: %d workers, sum %v, without token: %s", got.Workers, got.LiveSum, got.NoToken)
	if got.Workers != 2 {
		t.Errorf("%d worker processes, want 2", got.Workers)
	}
	if got.StoreSum != sum || got.LiveSum != sum {
		t.Errorf("sums: store %v, live %v, Go %v", got.StoreSum, got.LiveSum, sum)
	}
	for j := range cols {
		if got.StoreColmax[j] != colmax[j] || got.LiveColmax[j] != colmax[j] {
			t.Fatalf("column %d max: store %v, live %v, Go %v", j, got.StoreColmax[j], got.LiveColmax[j], colmax[j])
		}
	}
	if len(got.LiveChunks) != 2 || len(got.LiveChunks[0]) != 4 || len(got.LiveChunks[1]) != 3 {
		t.Errorf("dask chunks over the endpoint: %v", got.LiveChunks)
	}
	if got.NoToken == "read" {
		t.Errorf("the endpoint answered without a token")
	}
}
