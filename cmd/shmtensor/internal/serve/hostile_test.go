package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// stalledGET sends a GET for path on a new connection and never reads
// the answer; the connection closes when the test ends.
func stalledGET(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// A small receive buffer, so that the server's writes block soon.
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetReadBuffer(4 << 10)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", path, token)
	return c
}

// TestStalledClientsDoNotStopOthers: 80 clients that request a 16 MiB
// .npy and 40 that request chunks, none reading, do not keep a normal
// client from its answers (they used to take every slot, forever). The
// stall timeout is long, so the others are served while they stall.
func TestStalledClientsDoNotStopOthers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/shm")
	}
	name, _ := liveTensor(t, 2048, 1024) // 16 MiB
	_, ts := newServer(t, Config{Token: token, Names: []string{name}, MaxInFlight: 4, StallTimeout: 10 * time.Minute})
	addr := strings.TrimPrefix(ts.URL, "http://")
	for range 80 {
		stalledGET(t, addr, "/"+name+".npy")
	}
	for i := range 40 {
		stalledGET(t, addr, fmt.Sprintf("/%s.zarr/%d.0", name, i%4))
	}
	// A generous bound, far beyond the answers' time: without it a
	// regression would hang the test for its whole timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, p := range []string{"/" + name + ".zarr/.zarray", "/" + name + ".zarr/1.0", "/" + name + ".npy", "/"} {
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatalf("%s while 120 clients stall: %v", p, err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil {
			t.Fatalf("%s while 120 clients stall: %d, %v (%d bytes)", p, resp.StatusCode, err, n)
		}
	}
}

// TestStalledClientCutOff: a client that stops reading a chunk is cut off
// after the stall timeout, freeing the one chunk slot for the next client;
// one that reads slowly but steadily gets the whole .npy.
func TestStalledClientCutOff(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/shm")
	}
	name, _ := liveTensor(t, 4096, 1024) // 32 MiB, one chunk
	_, ts := newServer(t, Config{Token: token, Names: []string{name}, MaxInFlight: 1, Chunks: []int{4096, 1024}, StallTimeout: 500 * time.Millisecond})
	addr := strings.TrimPrefix(ts.URL, "http://")
	c := stalledGET(t, addr, "/"+name+".zarr/0.0")
	// Its headers come first: the chunk is copied and being written.
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.Contains(line, "200") {
		t.Fatalf("stalled client's status line %q, %v", line, err)
	}
	resp, b := get(t, ts, "/"+name+".zarr/0.0")
	if resp.StatusCode != 200 || len(b) != 32<<20 {
		t.Fatalf("second chunk request: %d, %d bytes", resp.StatusCode, len(b))
	}

	// A slow reader: 64 KiB, a pause, and so on, never stalling for long.
	req, _ := http.NewRequest("GET", ts.URL+"/"+name+".npy", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var n int64
	buf := make([]byte, 64<<10)
	for i := 0; ; i++ {
		k, err := io.ReadFull(resp.Body, buf)
		n += int64(k)
		if err != nil {
			break
		}
		if i%64 == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if want := resp.ContentLength; n != want {
		t.Fatalf("slow reader got %d of %d bytes", n, want)
	}
}

// TestTruncatedWhileServed: the owner truncating a segment while its .npy
// is sent aborts that response (a SIGBUS in the copy, recovered), and the
// server goes on: other tensors are served, the truncated one is no
// longer found. The server and its client are in this process, which
// would die of the SIGBUS without the recovery.
func TestTruncatedWhileServed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/shm")
	}
	name, _ := liveTensor(t, 4096, 1024) // 32 MiB
	other, _ := liveTensor(t, 10, 10)
	var logged strings.Builder
	var mu sync.Mutex
	_, ts := newServer(t, Config{Token: token, Names: []string{name, other}, Logf: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&logged, f+"\n", a...)
	}})
	req, _ := http.NewRequest("GET", ts.URL+"/"+name+".npy", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join("/dev/shm", name), 8192); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil {
		t.Fatalf("the download of the truncated segment ended cleanly after %d more bytes", n)
	}
	if r, b := get(t, ts, "/"+other+".npy"); r.StatusCode != 200 || len(b) != 128+800 {
		t.Fatalf("other tensor after the fault: %d, %d bytes", r.StatusCode, len(b))
	}
	if r, _ := get(t, ts, "/"+name+".zarr/0.0"); r.StatusCode < 400 {
		t.Fatalf("chunk of the truncated tensor: %d", r.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logged.String(), "memory fault") {
		t.Errorf("the fault was not logged: %q", logged.String())
	}
}
