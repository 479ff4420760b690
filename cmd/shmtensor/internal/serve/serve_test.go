package serve

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/zarr"
)

const token = "s3cret-token"

// shmName returns a unique shm name, removed when the test ends.
func shmName(t testing.TB) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := fmt.Sprintf("shmtensor-test-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	t.Cleanup(func() { os.Remove(filepath.Join("/dev/shm", name)) })
	return name
}

// liveTensor creates a shm float64 tensor of shape holding 0, 1, 2, ...
func liveTensor(t testing.TB, shape ...int) (string, *shmtensor.Tensor[float64]) {
	t.Helper()
	name := shmName(t)
	x, err := shmtensor.Create[float64](name, shape)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	for i := range x.Data() {
		x.Data()[i] = float64(i)
	}
	return name, x
}

func newServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts
}

func get(t testing.TB, ts *httptest.Server, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	return do(t, ts, "GET", path, hdr...)
}

func do(t testing.TB, ts *httptest.Server, method, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestNewRefusesNoToken(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a token succeeded")
	}
	if _, err := New(Config{Token: "x", Names: []string{shmName(t)}}); err == nil {
		t.Fatal("New with a missing segment succeeded")
	}
}

func TestAuth(t *testing.T) {
	name, _ := liveTensor(t, 4)
	_, ts := newServer(t, Config{Token: token, Names: []string{name}})
	for _, c := range []struct {
		auth string
		want int
	}{
		{"", 401}, {"Basic " + token, 401}, {"Bearer", 401}, {"Bearer wrong", 403},
		{"Bearer " + token + "x", 403}, {"Bearer " + token[:5], 403}, {"Bearer " + token, 200}, {"bearer " + token, 200},
	} {
		resp, body := get(t, ts, "/"+name+".npy", "Authorization", c.auth)
		if resp.StatusCode != c.want {
			t.Errorf("Authorization %q: %d %s, want %d", c.auth, resp.StatusCode, body, c.want)
		}
		if c.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("Authorization %q: no WWW-Authenticate", c.auth)
		}
		if c.want != 200 && bytes.Contains(body, []byte("NUMPY")) {
			t.Errorf("Authorization %q: data leaked", c.auth)
		}
	}
}

func TestNoAuth(t *testing.T) {
	name, _ := liveTensor(t, 4)
	_, ts := newServer(t, Config{NoAuth: true, Names: []string{name}})
	if resp, _ := get(t, ts, "/"+name+".zarr/.zarray", "Authorization", ""); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestReadOnlyMethods(t *testing.T) {
	name, x := liveTensor(t, 4)
	_, ts := newServer(t, Config{Token: token, Names: []string{name}})
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"} {
		resp, _ := do(t, ts, m, "/"+name+".zarr/0")
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if !slices.Equal(x.Data(), []float64{0, 1, 2, 3}) {
		t.Fatal("the tensor changed")
	}
	if resp, body := do(t, ts, "HEAD", "/"+name+".npy"); resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != 128+32 {
		t.Fatalf("HEAD: %d, %d bytes, length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
}

func TestNPY(t *testing.T) {
	name, x := liveTensor(t, 30, 7)
	_, ts := newServer(t, Config{Token: token, Names: []string{"shm://" + name}})
	resp, body := get(t, ts, "/"+name+".npy")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	// Byte for byte what the package's one .npy writer writes.
	var ref bytes.Buffer
	if _, err := x.Segment().WriteTo(&ref); err != nil || !bytes.Equal(body, ref.Bytes()) {
		t.Fatalf("the served .npy differs from WriteTo's (%v)", err)
	}
	path := filepath.Join(t.TempDir(), "x.npy")
	os.WriteFile(path, body, 0o600)
	got, err := shmtensor.Attach[float64]("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if !slices.Equal(got.Shape(), x.Shape()) || !slices.Equal(got.Data(), x.Data()) {
		t.Fatal("the served .npy differs")
	}
	// Range requests, satisfiable or not, and hostile ones.
	size := len(body)
	for _, c := range []struct {
		rng    string
		status int
		want   []byte
	}{
		{"bytes=0-9", 206, body[:10]},
		{"bytes=64-71", 206, body[64:72]},
		{"bytes=-5", 206, body[size-5:]},
		{fmt.Sprintf("bytes=%d-", size-3), 206, body[size-3:]},
		{"bytes=0-99999999999999999999", 416, nil},
		{"bytes=99999999-", 416, nil},
		{"bytes=abc", 416, nil},
		{"bytes=5-1", 416, nil},
		{"bytes=--1", 416, nil},
		{"lines=1-2", 416, nil},                                    // net/http refuses units it does not know
		{"bytes=" + strings.Repeat("0-,", 5000) + "0-", 200, body}, // more than the file: ignored
	} {
		resp, b := get(t, ts, "/"+name+".npy", "Range", c.rng)
		if resp.StatusCode != c.status || (c.want != nil && !bytes.Equal(b, c.want)) {
			t.Errorf("Range %.40q: %d with %d bytes, want %d", c.rng, resp.StatusCode, len(b), c.status)
		}
	}
	resp, b := get(t, ts, "/"+name+".npy", "Range", "bytes=0-3,100-103")
	if resp.StatusCode != 206 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") || !bytes.Contains(b, body[100:104]) {
		t.Errorf("multi-range: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestZarrChunksLive(t *testing.T) {
	name, x := liveTensor(t, 10, 7)
	_, ts := newServer(t, Config{Token: token, Names: []string{name}, Chunks: []int{4, 3}})
	resp, meta := get(t, ts, "/"+name+".zarr/.zarray")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	arr, err := zarr.ParseArray(meta)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(arr.Shape(), []int{10, 7}) || !slices.Equal(arr.Chunks(), []int{4, 3}) || arr.DType() != shmtensor.Float64 {
		t.Fatalf(".zarray %s", meta)
	}
	check := func() {
		t.Helper()
		for k := range arr.NumChunks() {
			idx := []int{k / 3, k % 3}
			key := arr.ChunkKey(idx)
			resp, b := get(t, ts, "/"+name+".zarr/"+key)
			want := make([]byte, arr.ChunkBytes())
			arr.ReadChunk(want, x.Segment(), idx)
			if resp.StatusCode != 200 || !bytes.Equal(b, want) {
				t.Fatalf("chunk %s: %d", key, resp.StatusCode)
			}
		}
	}
	check()
	x.Fill(-1) // computed on each request: the next reads see it
	check()
	if _, b := get(t, ts, "/"+name+".zarr/2.2"); !bytes.Equal(b[:8], []byte{0, 0, 0, 0, 0, 0, 0xf0, 0xbf}) {
		t.Fatalf("chunk 2.2 starts %v, want -1.0", b[:8])
	}
	if resp, b := get(t, ts, "/"+name+".zarr/.zattrs"); resp.StatusCode != 200 || string(b) != "{}\n" {
		t.Fatalf(".zattrs: %d %q", resp.StatusCode, b)
	}
}

// TestReplacedSegment: a name that now holds another file is served from
// the new one.
func TestReplacedSegment(t *testing.T) {
	name, x := liveTensor(t, 3)
	_, ts := newServer(t, Config{Token: token})
	if resp, _ := get(t, ts, "/"+name+".zarr/0"); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	x.Close()
	if err := shmtensor.Delete(name); err != nil {
		t.Fatal(err)
	}
	y, err := shmtensor.Create[int32](name, []int{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	_, meta := get(t, ts, "/"+name+".zarr/.zarray")
	if arr, err := zarr.ParseArray(meta); err != nil || arr.DType() != shmtensor.Int32 {
		t.Fatalf("after replacement: %s %v", meta, err)
	}
	shmtensor.Delete(name)
	if resp, _ := get(t, ts, "/"+name+".npy"); resp.StatusCode != 404 {
		t.Fatalf("deleted: %d", resp.StatusCode)
	}
}

func TestBadPaths(t *testing.T) {
	name, _ := liveTensor(t, 5, 5)
	other, _ := liveTensor(t, 2)
	// Two servers: a fixed list (other is not on it), and every segment.
	_, fixed := newServer(t, Config{Token: token, Names: []string{name}})
	_, all := newServer(t, Config{Token: token})
	paths := []string{
		"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/" + name + ".zarr/../../../etc/passwd",
		"/" + name + ".zarr/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "//etc/passwd", "/./" + name + ".npy",
		"/file:%2f%2f%2fetc%2fpasswd.npy", "/..%2f..%2fetc%2fpasswd.npy", "/etc/passwd.npy", "/" + name + ".npy/x",
		"/" + name + ".zarr/99.0", "/" + name + ".zarr/0.0.0", "/" + name + ".zarr/0", "/" + name + ".zarr/-0.0",
		"/" + name + ".zarr/00.0", "/" + name + ".zarr/.zgroup", "/" + name + ".zarr/", "/" + name + ".zarr/0.0/x",
		"/" + name + ".zarr", "/" + name, "/.npy", "/.zarr/.zarray", "/nosuch.npy",
		"/" + name + "%00.npy", "/" + name + ".zarr/0%000", "/" + strings.Repeat("a", 300) + ".npy",
		"/" + name + ".zarr/" + strings.Repeat("9", 40) + ".0", "/" + name + ".zarr/0\\0",
	}
	for _, ts := range []*httptest.Server{fixed, all} {
		for _, p := range paths {
			st := rawStatus(t, ts, p)
			if st != 400 && st != 404 {
				t.Errorf("%s: status %d, want 400 or 404", p, st)
			}
		}
	}
	// The fixed server does not serve other; the other one does.
	if st := rawStatus(t, fixed, "/"+other+".npy"); st != 404 {
		t.Errorf("fixed: %d", st)
	}
	if st := rawStatus(t, all, "/"+other+".npy"); st != 200 {
		t.Errorf("all: %d", st)
	}
}

// rawStatus sends path as written, bypassing the client's URL handling.
func rawStatus(t *testing.T, ts *httptest.Server, path string) int {
	t.Helper()
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n", path, token)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestIndex(t *testing.T) {
	name, _ := liveTensor(t, 2, 3)
	_, ts := newServer(t, Config{Token: token, Names: []string{name}})
	_, b := get(t, ts, "/")
	var items []struct {
		Name  string
		DType string
		Shape []int
	}
	if err := json.Unmarshal(b, &items); err != nil || len(items) != 1 || items[0].Name != name || items[0].DType != "float64" {
		t.Fatalf("index %s: %v", b, err)
	}
}

func openFDs(t *testing.T) int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(es)
}

// TestConcurrentRequests: 1,000 requests at once, good and bad, through a
// server that handles 8 at a time; all answered, and nothing is left
// behind: goroutines and descriptors return to what they were.
func TestConcurrentRequests(t *testing.T) {
	name, x := liveTensor(t, 200, 100)
	npySize := int64(len(npyHeader(x.Segment().DType(), false, x.Segment().Shape())) + 200*100*8)
	s, err := New(Config{Token: token, Names: []string{name}, MaxInFlight: 8, Chunks: []int{50, 50}})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	fds0, g0 := openFDs(t), runtime.NumGoroutine()
	ts := httptest.NewServer(s)
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 100}
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	paths := []string{"/" + name + ".zarr/1.1", "/" + name + ".npy", "/" + name + ".zarr/.zarray", "/nosuch.npy", "/" + name + ".zarr/9.9", "/../x"}
	want := []int{200, 200, 200, 404, 404, 400}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := range 1000 {
		wg.Go(func() {
			k := i % len(paths)
			u, _ := url.Parse(ts.URL)
			req := &http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Host: u.Host, Opaque: paths[k]}, Header: http.Header{}}
			if i%50 != 49 {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			w := want[k]
			if i%50 == 49 {
				w = 401
			}
			if resp.StatusCode != w || (k == 1 && w == 200 && n != npySize) {
				errs <- fmt.Errorf("%s: %d (%d bytes), want %d", paths[k], resp.StatusCode, n, w)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	tr.CloseIdleConnections()
	ts.Close()
	s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		fds, g := openFDs(t), runtime.NumGoroutine()
		if fds <= fds0 && g <= g0 {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("leak: %d descriptors (were %d), %d goroutines (were %d)\n%s", fds, fds0, g, g0, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The mapping is released once the server is closed.
	if resp := rawAfterClose(s); resp != 503 {
		t.Errorf("after Close: %d, want 503", resp)
	}
}

func rawAfterClose(s *Server) int {
	req := httptest.NewRequest("GET", "/x.npy", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	// Any name: a closed server refuses before mapping; a missing one is 404.
	s.fixed = nil
	s.ServeHTTP(w, req)
	return w.Code
}

// TestFortranSegment: a column-major file is served as C-ordered chunks
// with the same values at the same indices, and as a Fortran-order .npy.
func TestFortranSegment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.npy")
	hdr := "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }"
	hdr += strings.Repeat(" ", 64-(10+len(hdr)+1)%64) + "\n"
	file := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), byte(len(hdr)>>8))
	file = append(file, hdr...)
	for _, v := range []int16{0, 10, 1, 11, 2, 12} { // a[i, j] = 10i + j, column-major
		file = append(file, byte(v), byte(v>>8))
	}
	os.WriteFile(path, file, 0o600)
	_, ts := newServer(t, Config{Token: token, Names: []string{"file://" + path}, Chunks: []int{2, 2}})
	_, c := get(t, ts, "/f.zarr/0.0")
	if want := []byte{0, 0, 1, 0, 10, 0, 11, 0}; !bytes.Equal(c, want) {
		t.Fatalf("chunk 0.0 = %v, want %v", c, want)
	}
	_, c = get(t, ts, "/f.zarr/0.1")
	if want := []byte{2, 0, 0, 0, 12, 0, 0, 0}; !bytes.Equal(c, want) {
		t.Fatalf("chunk 0.1 = %v, want %v", c, want)
	}
	if _, b := get(t, ts, "/f.npy"); !bytes.Contains(b, []byte("'fortran_order': True")) || !bytes.HasSuffix(b, file[len(file)-12:]) {
		t.Fatalf(".npy: %q", b)
	}
}
