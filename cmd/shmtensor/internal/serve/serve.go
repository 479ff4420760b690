// Package serve is the read-only HTTP endpoint behind `shmtensor serve`:
// live segments as .npy files (with Range requests) and as Zarr v2 arrays
// whose chunks are computed from the shared memory on every request, so
// that Dask, xarray or zarr-python on other machines read tensors that Go
// processes are still updating; and bundles as safetensors files
// (/NAME.safetensors) and each of their tensors as a .npy file
// (/NAME/KEY.npy), with Range requests too.
//
// Every request needs "Authorization: Bearer TOKEN" unless the Config says
// otherwise; nothing is ever written. Memory is bounded by the chunk
// requests handled at once, each holding one chunk buffer; a client that
// stops reading is cut off after a stall timeout, and a segment truncated
// under the server fails the requests reading it, not the server.
package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/zarr"
)

// DefaultMaxInFlight bounds the chunk requests a Server handles at once
// when Config.MaxInFlight is 0; the others wait for a slot. Each holds one
// chunk buffer (about 4 MiB with the default chunks) until its response is
// written, so this bounds the server's memory.
const DefaultMaxInFlight = 16

// DefaultStallTimeout is how long a response write may make no progress
// when Config.StallTimeout is 0: a client that stops reading is then cut
// off, and frees what its request holds, while a slow one that keeps
// reading is served to the end.
const DefaultStallTimeout = 30 * time.Second

// DefaultBusyStallTimeout is Config.BusyStallTimeout's default.
const DefaultBusyStallTimeout = time.Second

// Config describes what a Server serves and to whom.
type Config struct {
	// Names are the segments served (NAME, shm://NAME or file://PATH);
	// each is reached under its base name: /NAME.npy, /NAME.zarr/...
	// Empty: every tensor segment in shared memory that the server's
	// user may open, looked up on each request.
	Names []string
	// Token is the bearer token every request must carry. It must be
	// set unless NoAuth is true.
	Token string
	// NoAuth answers requests without a token. The command allows it
	// only on a loopback address and behind a loudly named flag.
	NoAuth bool
	// Chunks is the Zarr chunk shape of tensors with as many dimensions;
	// others (and all when nil) get zarr.NewArray's default chunks.
	Chunks []int
	// MaxInFlight bounds the chunk requests handled at once (0:
	// DefaultMaxInFlight); each holds a chunk buffer until its response
	// is written. Other requests (.npy, metadata) hold no buffer and are
	// not counted.
	MaxInFlight int
	// StallTimeout ends a response whose writes make no progress for
	// that long (0: DefaultStallTimeout). Each write of at most 32 KiB
	// gets this long; there is no limit on the whole response.
	StallTimeout time.Duration
	// BusyStallTimeout is the stall timeout of chunk requests while
	// others wait for their slots (0: DefaultBusyStallTimeout): a client
	// that has not taken 32 KiB of its chunk for that long gives its slot
	// up, so that clients that do not read cannot keep the others from
	// theirs.
	BusyStallTimeout time.Duration
	// Logf, if not nil, receives one line per failed request.
	Logf func(format string, args ...any)
}

// Server is an http.Handler serving the segments of its Config read-only.
// Close releases the segments it mapped.
type Server struct {
	cfg       Config
	tokenHash [32]byte
	sem       chan struct{}
	holdersMu sync.Mutex
	holders   map[*stallWriter]bool // the chunk requests holding a slot
	free      [][]byte              // chunk buffers no request holds
	fixed     map[string]string     // URL name → segment name, when Config.Names is set

	mu     sync.Mutex
	open   map[string]*entry // segment name → its current mapping
	closed bool
}

// entry is a mapped segment shared by the requests using it. A segment
// replaced under its name is unmapped once its last request is done.
type entry struct {
	key    string // in Server.open
	seg    *shmtensor.Segment
	arr    *zarr.Array       // nil for a bundle
	bundle *shmtensor.Bundle // a bundle's, whose segment is seg
	refs   int
	stale  bool
}

// New checks cfg and returns a Server. With Config.Names, each name must
// be a tensor segment the caller can open now, and base names must differ.
func New(cfg Config) (*Server, error) {
	if cfg.Token == "" && !cfg.NoAuth {
		return nil, errors.New("serve: no token: set Config.Token (or NoAuth)")
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.BusyStallTimeout <= 0 {
		cfg.BusyStallTimeout = DefaultBusyStallTimeout
	}
	s := &Server{cfg: cfg, tokenHash: sha256.Sum256([]byte(cfg.Token)),
		sem: make(chan struct{}, cfg.MaxInFlight), holders: map[*stallWriter]bool{}, open: map[string]*entry{}}
	if len(cfg.Names) > 0 {
		s.fixed = map[string]string{}
		for _, n := range cfg.Names {
			if _, err := shmtensor.Stat(n); err != nil {
				return nil, err
			}
			u := urlName(n)
			if prev, ok := s.fixed[u]; ok {
				return nil, fmt.Errorf("serve: %s and %s would both be served as /%s", prev, n, u)
			}
			s.fixed[u] = n
		}
	}
	return s, nil
}

// urlName is the name a segment is served under: NAME for shm://NAME, the
// file's base name without .npy (or .safetensors) for file://PATH.
func urlName(name string) string {
	if p, ok := strings.CutPrefix(name, "file://"); ok {
		return strings.TrimSuffix(strings.TrimSuffix(filepath.Base(p), ".npy"), ".safetensors")
	}
	return strings.TrimPrefix(name, "shm://")
}

// Close unmaps the segments the server holds; requests still running keep
// theirs until they finish. Call it after http.Server.Shutdown.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for name, e := range s.open {
		e.stale = true
		if e.refs == 0 {
			e.seg.Close()
		}
		delete(s.open, name)
	}
	return nil
}

// httpError is a failed request: the status and a message for the client.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, format string, args ...any) error {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

// ServeHTTP authenticates and routes the request.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := &stallWriter{ResponseWriter: rw, rc: http.NewResponseController(rw), stall: s.cfg.StallTimeout}
	w.extend() // a deadline left by the connection's previous request must not cut this one
	// A fault reading a mapping (its file truncated by its owner: SIGBUS)
	// panics in this goroutine instead of killing the server.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logf("%s %s: panic: %v", r.Method, r.URL.Path, v)
			if w.wrote {
				panic(http.ErrAbortHandler) // the client sees the response cut short
			}
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	if err := s.authorize(r); err != nil {
		s.reply(w, r, err)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.reply(w, r, fail(http.StatusMethodNotAllowed, "read-only: %s is not allowed", r.Method))
		return
	}
	s.reply(w, r, s.route(w, r))
}

// stallWriter gives every write of a response StallTimeout to make
// progress, through per-write deadlines, and records whether the
// response has begun.
type stallWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	stall   time.Duration
	wrote   bool
	werr    error        // the first failed write
	writing atomic.Int64 // when the write under way began (UnixNano), 0 between writes
}

func (w *stallWriter) extend() {
	w.rc.SetWriteDeadline(time.Now().Add(w.stall)) // not supported: no deadline, as before
}

func (w *stallWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *stallWriter) Write(p []byte) (int, error) {
	w.wrote = true
	n := 0
	for len(p) > 0 { // in pieces, so that each has the whole timeout
		k := min(len(p), 32<<10)
		w.extend()
		w.writing.Store(time.Now().UnixNano())
		m, err := w.ResponseWriter.Write(p[:k])
		w.writing.Store(0)
		n += m
		if err != nil {
			if w.werr == nil {
				w.werr = err
			}
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// ReadFrom sends what io.Copy gives it (http.ServeContent's body) straight
// from the memory behind an npyReader, the segment's mapping or a chunk
// buffer, without a copy buffer per request.
func (w *stallWriter) ReadFrom(src io.Reader) (int64, error) {
	lr, ok := src.(*io.LimitedReader)
	if !ok {
		return io.Copy(struct{ io.Writer }{w}, src)
	}
	nr, ok := lr.R.(*npyReader)
	if !ok {
		return io.Copy(struct{ io.Writer }{w}, src)
	}
	var n int64
	for lr.N > 0 {
		p := nr.next(int(min(lr.N, 32<<10)))
		if len(p) == 0 {
			break
		}
		m, err := w.Write(p)
		n += int64(m)
		lr.N -= int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Unwrap lets http.ResponseController reach the connection.
func (w *stallWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// drop forgets the mapping e after a fault reading it, so that the next
// request maps the file again (and finds what is left of it).
func (s *Server) drop(e *entry, r *http.Request, fault any) {
	s.mu.Lock()
	if s.open[e.key] == e {
		delete(s.open, e.key)
	}
	e.stale = true
	s.mu.Unlock()
	s.logf("%s %s: memory fault reading %s (truncated by its owner?): %v", r.Method, r.URL.Path, e.seg.Name(), fault)
}

// faulted handles a memory fault while a request read the mapping of e:
// its file was truncated. The entry is dropped, so that the next request
// maps the file again (and finds what is left of it), and the fault
// becomes an error, or an aborted response if it had begun. Other panics
// go on.
func (s *Server) faulted(e *entry, w *stallWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if f, ok := v.(interface{ Addr() uintptr }); !ok || f == nil {
		panic(v)
	}
	s.drop(e, r, v)
	if w.wrote {
		panic(http.ErrAbortHandler)
	}
	s.reply(w, r, fail(http.StatusServiceUnavailable, "%s changed size while it was read", e.seg.Name()))
}

func (s *Server) reply(w *stallWriter, r *http.Request, err error) {
	if err == nil {
		return
	}
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{http.StatusInternalServerError, err.Error()}
		switch {
		case errors.Is(err, shmtensor.ErrNotExist), errors.Is(err, shmtensor.ErrNotTensor), errors.Is(err, shmtensor.ErrInvalidName):
			he.status = http.StatusNotFound
		case errors.Is(err, shmtensor.ErrPermission):
			he.status = http.StatusForbidden
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			he.status = http.StatusServiceUnavailable
		}
	}
	if he.status >= 500 {
		s.logf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	if he.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shmtensor"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, he.msg, he.status)
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// authorize checks the bearer token in constant time (of the token's
// hash, so that its length does not leak either).
func (s *Server) authorize(r *http.Request) error {
	if s.cfg.NoAuth {
		return nil
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return fail(http.StatusUnauthorized, "missing bearer token (Authorization: Bearer TOKEN)")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return fail(http.StatusUnauthorized, "the Authorization header must be \"Bearer TOKEN\"")
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	if subtle.ConstantTimeCompare(got[:], s.tokenHash[:]) != 1 {
		return fail(http.StatusForbidden, "wrong token")
	}
	return nil
}

// route serves "/", "/NAME.npy", "/NAME.zarr/.zarray", "/NAME.zarr/.zattrs"
// and "/NAME.zarr/KEY" for tensors, "/NAME.safetensors" and
// "/NAME/KEY.npy" for bundles (KEY may hold slashes).
func (s *Server) route(w *stallWriter, r *http.Request) error {
	p := r.URL.Path
	if p == "/" {
		return s.index(w, r)
	}
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") || strings.ContainsAny(p, "\\\x00") {
		return fail(http.StatusBadRequest, "bad path")
	}
	first, rest, nested := strings.Cut(p[1:], "/")
	for _, part := range strings.Split(p[1:], "/") {
		if part == "." || part == ".." {
			return fail(http.StatusBadRequest, "bad path")
		}
	}
	switch {
	case !nested && strings.HasSuffix(first, ".npy"):
		return s.npy(w, r, strings.TrimSuffix(first, ".npy"))
	case !nested && strings.HasSuffix(first, ".safetensors"):
		return s.safetensors(w, r, strings.TrimSuffix(first, ".safetensors"))
	case nested && strings.HasSuffix(first, ".zarr"):
		return s.zarrKey(w, r, strings.TrimSuffix(first, ".zarr"), rest)
	case nested && strings.HasSuffix(rest, ".npy"):
		return s.bundleNPY(w, r, first, strings.TrimSuffix(rest, ".npy"))
	}
	return fail(http.StatusNotFound, "not found: serving /NAME.npy and /NAME.zarr/ for tensors, /NAME.safetensors and /NAME/KEY.npy for bundles (see /)")
}

// acquire maps the segment served as urlName, or reuses the mapping
// other requests hold if the name still holds that file. release undoes it.
func (s *Server) acquire(urlName string) (*entry, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, fail(http.StatusServiceUnavailable, "shutting down")
	}
	name, ok := urlName, true
	if s.fixed != nil {
		name, ok = s.fixed[urlName]
	} else if urlName == "" || strings.ContainsAny(urlName, "/:") {
		ok = false
	}
	if !ok {
		return nil, fail(http.StatusNotFound, "no tensor %q", urlName)
	}
	info, err := shmtensor.Stat(name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fail(http.StatusServiceUnavailable, "shutting down")
	}
	if e := s.open[name]; e != nil {
		if e.seg.ID() == info.ID {
			e.refs++
			return e, nil
		}
		// Replaced under its name: new requests get the new file.
		e.stale = true
		delete(s.open, name)
		if e.refs == 0 {
			e.seg.Close()
		}
	}
	// Mapping under s.mu keeps two requests from mapping one file twice;
	// it is a few system calls.
	if info.Kind == shmtensor.KindBundle {
		b, err := shmtensor.AttachBundle(name, shmtensor.ReadOnly())
		if err != nil {
			return nil, err
		}
		e := &entry{key: name, seg: b.Segment(), bundle: b, refs: 1}
		s.open[name] = e
		return e, nil
	}
	seg, err := shmtensor.Open(name, shmtensor.ReadOnly())
	if err != nil {
		return nil, err
	}
	var opts *zarr.Options
	if shape := seg.Shape(); len(s.cfg.Chunks) == len(shape) && s.cfg.Chunks != nil {
		opts = &zarr.Options{Chunks: s.cfg.Chunks}
	}
	arr, err := zarr.NewArray(seg.DType(), seg.Shape(), opts)
	if err != nil {
		seg.Close()
		return nil, err
	}
	e := &entry{key: name, seg: seg, arr: arr, refs: 1}
	s.open[name] = e
	return e, nil
}

func (s *Server) release(e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.refs--
	if e.refs == 0 && e.stale {
		e.seg.Close()
	}
}

// index lists the served tensors as JSON.
func (s *Server) index(w *stallWriter, r *http.Request) error {
	type tensor struct {
		Name  string `json:"name"`
		DType string `json:"dtype"`
		Shape []int  `json:"shape"`
		NPY   string `json:"npy,omitempty"` // none for a bfloat16 or 8-bit float tensor
	}
	type item struct {
		Name  string `json:"name"`
		DType string `json:"dtype"`
		Shape []int  `json:"shape"`
		NPY   string `json:"npy"`
		Zarr  string `json:"zarr"`
		Kind  string `json:"kind"`
	}
	type bundleItem struct {
		Name        string   `json:"name"`
		Kind        string   `json:"kind"`
		Safetensors string   `json:"safetensors"`
		Tensors     []tensor `json:"tensors"`
	}
	var infos []shmtensor.Info
	if s.fixed != nil {
		for _, n := range s.fixed {
			if in, err := shmtensor.Stat(n); err == nil {
				infos = append(infos, in)
			}
		}
	} else {
		all, err := shmtensor.List()
		if err != nil {
			return err
		}
		infos = all
	}
	slices.SortFunc(infos, func(a, b shmtensor.Info) int { return strings.Compare(urlName(a.Name), urlName(b.Name)) })
	items := []any{}
	for _, in := range infos {
		u := urlName(in.Name)
		if in.Kind != shmtensor.KindBundle {
			items = append(items, item{u, in.DType.String(), in.Shape, "/" + u + ".npy", "/" + u + ".zarr", in.Kind.String()})
			continue
		}
		bi, err := shmtensor.StatBundle(in.Name)
		if err != nil {
			continue // gone, or replaced by something else, meanwhile
		}
		it := bundleItem{Name: u, Kind: in.Kind.String(), Safetensors: "/" + u + ".safetensors", Tensors: []tensor{}}
		for _, t := range bi.Tensors {
			npy := ""
			if t.DType.Descr() != "" {
				// A key from a file may hold "?", "#" or spaces.
				npy = (&url.URL{Path: "/" + u + "/" + t.Name + ".npy"}).EscapedPath()
			}
			it.Tensors = append(it.Tensors, tensor{t.Name, t.DType.String(), t.Shape, npy})
		}
		items = append(items, it)
	}
	b, _ := json.MarshalIndent(items, "", "  ")
	return serveBytes(w, r, "index.json", "application/json", append(b, '\n'))
}

// npy serves the segment as a .npy file. The data is read from the live
// memory as the response is written, without a lock: a tensor being
// written gives a file of mixed moments; chunks are the consistent way.
func (s *Server) npy(w *stallWriter, r *http.Request, name string) error {
	e, err := s.acquire(name)
	if err != nil {
		return err
	}
	defer s.release(e)
	if e.bundle != nil {
		return isBundle(e, name)
	}
	defer s.faulted(e, w, r)
	hdr := npyHeader(e.seg.DType(), e.seg.Fortran(), e.seg.Shape())
	return s.serveLive(w, r, e, name+".npy", hdr, e.seg.Bytes())
}

// serveLive serves hdr then data, a slice of e's mapping, read as the
// response is written, with Range requests.
func (s *Server) serveLive(w *stallWriter, r *http.Request, e *entry, file string, hdr, data []byte) error {
	rs := &npyReader{hdr: hdr, data: data, size: int64(len(hdr) + len(data))}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, file, time.Time{}, rs)
	// Written straight from the mapping, a truncated page fails the
	// write (EFAULT) in the kernel instead of faulting here.
	if isFault(w.werr) {
		s.drop(e, r, w.werr)
	}
	return nil
}

// isBundle is the answer to a tensor's URL for the bundle name.
func isBundle(e *entry, name string) error {
	return fail(http.StatusNotFound, "%s is a bundle of %d tensors, not one tensor: GET /%s/KEY.npy for its tensor KEY, /%s.safetensors for the whole (see /)",
		e.seg.Name(), e.bundle.Len(), name, name)
}

// safetensors serves the bundle name as the safetensors file it is: its
// own bytes, read from the live memory as the response is written.
func (s *Server) safetensors(w *stallWriter, r *http.Request, name string) error {
	e, err := s.acquire(name)
	if err != nil {
		return err
	}
	defer s.release(e)
	if e.bundle == nil {
		return fail(http.StatusNotFound, "%s is a tensor segment, not a bundle: GET /%s.npy", e.seg.Name(), name)
	}
	defer s.faulted(e, w, r)
	hdr, data := bundleFile(e.bundle)
	return s.serveLive(w, r, e, name+".safetensors", hdr, data)
}

// bundleFile returns the header of the bundle b (its first bytes, up to
// its data) and its data, both in its mapping.
func bundleFile(b *shmtensor.Bundle) (hdr, data []byte) {
	seg := b.Segment()
	data = seg.Bytes()
	n := seg.Size() - len(data)
	if len(data) == 0 {
		// No data to find the mapping by: the header alone, copied.
		var buf bytes.Buffer
		b.WriteTo(&buf)
		return buf.Bytes(), nil
	}
	// The data ends the mapping and the header starts it: the n bytes
	// before the data.
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(data)), -n)
	return unsafe.Slice((*byte)(p), n), data
}

// bundleNPY serves the tensor key of the bundle name as a .npy file, read
// from the live memory as the response is written.
func (s *Server) bundleNPY(w *stallWriter, r *http.Request, name, key string) error {
	e, err := s.acquire(name)
	if err != nil {
		return err
	}
	defer s.release(e)
	if e.bundle == nil {
		return fail(http.StatusNotFound, "%s is a tensor segment, not a bundle: GET /%s.npy", e.seg.Name(), name)
	}
	t, ok := e.bundle.Lookup(key)
	if !ok {
		return fail(http.StatusNotFound, "bundle %s has no tensor %q; it holds %s (see /)", e.seg.Name(), key, someKeys(e.bundle))
	}
	if t.DType.Descr() == "" {
		return fail(http.StatusNotFound, "tensor %q of %s is %v, which numpy has no dtype for: GET /%s.safetensors", key, e.seg.Name(), t.DType, name)
	}
	data, err := e.bundle.Bytes(key)
	if err != nil {
		return err
	}
	defer s.faulted(e, w, r)
	return s.serveLive(w, r, e, key+".npy", npyHeader(t.DType, false, t.Shape), data)
}

// someKeys names the first few tensors of b.
func someKeys(b *shmtensor.Bundle) string {
	var q []string
	for t := range b.Tensors() {
		if len(q) == 5 {
			return strings.Join(q, ", ") + fmt.Sprintf(" and %d more", b.Len()-len(q))
		}
		q = append(q, fmt.Sprintf("%q", t.Name))
	}
	if len(q) == 0 {
		return "no tensors"
	}
	return strings.Join(q, ", ")
}

// zarrKey serves .zarray, .zattrs and chunk keys of the segment name.
func (s *Server) zarrKey(w *stallWriter, r *http.Request, name, key string) error {
	e, err := s.acquire(name)
	if err != nil {
		return err
	}
	defer s.release(e)
	if e.bundle != nil {
		return isBundle(e, name)
	}
	defer s.faulted(e, w, r)
	switch key {
	case ".zarray":
		b, _ := e.arr.MarshalJSON()
		return serveBytes(w, r, ".zarray", "application/json", b)
	case ".zattrs":
		return serveBytes(w, r, ".zattrs", "application/json", []byte("{}\n"))
	}
	idx, err := e.arr.ParseChunkKey(key)
	if err != nil {
		return fail(http.StatusNotFound, "%v", err)
	}
	// A slot, then a buffer: at most MaxInFlight chunk buffers exist,
	// each until its response is written (or the client stalls).
	if err := s.takeSlot(r.Context(), w); err != nil {
		return err
	}
	defer s.releaseSlot(w)
	buf := s.getBuf(e.arr.ChunkBytes())
	defer s.putBuf(buf)
	if err := readChunk(r.Context(), e, buf, idx); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, key, time.Time{}, &npyReader{data: buf, size: int64(len(buf))})
	return nil
}

// takeSlot waits for one of the MaxInFlight chunk slots. While it waits,
// a holder whose client has not taken a write for BusyStallTimeout is cut
// off: its write deadline is moved to now, its request ends and frees the
// slot.
func (s *Server) takeSlot(ctx context.Context, w *stallWriter) error {
	hold := func() {
		s.holdersMu.Lock()
		s.holders[w] = true
		s.holdersMu.Unlock()
	}
	select {
	case s.sem <- struct{}{}:
		hold()
		return nil
	default:
	}
	tick := time.NewTicker(s.cfg.BusyStallTimeout / 4)
	defer tick.Stop()
	for {
		select {
		case s.sem <- struct{}{}:
			hold()
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			s.cutStalled()
		}
	}
}

func (s *Server) releaseSlot(w *stallWriter) {
	s.holdersMu.Lock()
	delete(s.holders, w) // before the handler returns: rc is valid only until then
	s.holdersMu.Unlock()
	<-s.sem
}

// cutStalled ends the writes of the slot holders that have been blocked
// for BusyStallTimeout.
func (s *Server) cutStalled() {
	s.holdersMu.Lock()
	defer s.holdersMu.Unlock()
	limit := time.Now().Add(-s.cfg.BusyStallTimeout).UnixNano()
	for h := range s.holders {
		if since := h.writing.Load(); since != 0 && since < limit {
			h.rc.SetWriteDeadline(time.Now())
		}
	}
}

// getBuf returns a chunk buffer of n bytes, reusing a free one: at most
// MaxInFlight buffers exist, free or in use, since only slot holders take
// them, so the server's memory stays at about MaxInFlight chunks instead
// of growing with the garbage of one chunk per request.
func (s *Server) getBuf(n int) []byte {
	s.holdersMu.Lock()
	defer s.holdersMu.Unlock()
	for i, b := range s.free {
		if len(b) == n {
			s.free = slices.Delete(s.free, i, i+1)
			return b
		}
	}
	if len(s.free) > 0 {
		s.free = s.free[1:] // one of another size gives way
	}
	// Whole 16-byte words, so that ReadChunk copies into it directly.
	words := make([]complex128, (n+15)/16)
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), len(words)*16)[:n]
}

func (s *Server) putBuf(b []byte) {
	s.holdersMu.Lock()
	defer s.holdersMu.Unlock()
	s.free = append(s.free, b)
}

// readChunk copies one chunk out of the live segment under a shared lock
// on its rows, so that it holds one moment of the tensor with respect to
// writers that lock those rows or the whole segment.
func readChunk(ctx context.Context, e *entry, buf []byte, idx []int) error {
	start, n := chunkRows(e.arr, idx)
	unlock, err := rlock(ctx, e.seg, start, n)
	if err != nil {
		return err
	}
	defer unlock()
	return e.arr.ReadChunk(buf, e.seg, idx)
}

// chunkRows returns where chunk idx starts and how far it extends along
// each axis, clipped to the array.
func chunkRows(a *zarr.Array, idx []int) (start, n []int) {
	shape, chunks := a.Shape(), a.Chunks()
	start, n = make([]int, len(idx)), make([]int, len(idx))
	for i, x := range idx {
		start[i] = x * chunks[i]
		n[i] = min(chunks[i], shape[i]-start[i])
	}
	return start, n
}

func serveBytes(w *stallWriter, r *http.Request, name, ctype string, b []byte) error {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	return nil
}

// npyReader is an io.ReadSeeker over a .npy header followed by live data
// (or over a chunk buffer alone).
type npyReader struct {
	hdr, data []byte
	off, size int64
}

func (n *npyReader) Read(p []byte) (int, error) {
	if n.off >= n.size {
		return 0, io.EOF
	}
	var k int
	if n.off < int64(len(n.hdr)) {
		k = copy(p, n.hdr[n.off:])
	} else {
		k = copy(p, n.data[n.off-int64(len(n.hdr)):])
	}
	n.off += int64(k)
	return k, nil
}

// next returns up to max bytes from the current position, in place, and
// moves past them.
func (n *npyReader) next(max int) []byte {
	var p []byte
	switch {
	case n.off >= n.size:
		return nil
	case n.off < int64(len(n.hdr)):
		p = n.hdr[n.off:]
	default:
		p = n.data[n.off-int64(len(n.hdr)):]
	}
	p = p[:min(len(p), max)]
	n.off += int64(len(p))
	return p
}

func (n *npyReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += n.off
	case io.SeekEnd:
		offset += n.size
	default:
		return 0, errors.New("npyReader.Seek: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("npyReader.Seek: negative position")
	}
	n.off = offset
	return offset, nil
}

// npyHeader returns a .npy version 1.0 header for dt, fortran and shape, padded to a multiple
// of 64 bytes as numpy writes it: the header Segment.WriteTo writes, which
// the tests check byte for byte. It is built here because a Range request
// needs the header apart from the data.
func npyHeader(dt shmtensor.DType, fortran bool, shape []int) []byte {
	d := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }",
		dt.Descr(), map[bool]string{false: "False", true: "True"}[fortran], shmtensor.FormatShape(shape))
	total := (10 + len(d) + 1 + 63) / 64 * 64
	pad := total - 10 - len(d) - 1
	h := make([]byte, 0, total)
	h = append(h, "\x93NUMPY\x01\x00"...)
	hl := total - 10
	h = append(h, byte(hl), byte(hl>>8))
	h = append(h, d...)
	h = append(h, bytes.Repeat([]byte{' '}, pad)...)
	return append(h, '\n')
}
