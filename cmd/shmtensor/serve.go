package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/shmtensor/shmtensor/cmd/shmtensor/internal/serve"
)

var cmdServe = &Command{
	UsageLine: "serve [--addr 127.0.0.1:8765] [--token-file FILE] [--token T] [--insecure-no-token] [--max-requests 16] [--chunks N,N...] [NAME...]",
	Short:     "serve live segments read-only over HTTP, as .npy and Zarr",
	Long: `
Serve answers HTTP GET and HEAD requests for the segments NAME, or without
NAMEs for every tensor segment in shared memory that this user can open
(looked up on each request):

	/                    a JSON list of the tensors served
	/NAME.npy            the tensor as a .npy file; Range requests work
	/NAME.zarr/.zarray   Zarr v2 metadata: uncompressed chunks, C order
	/NAME.zarr/I.J...    one chunk, copied from shared memory on each request
	/NAME.safetensors    a bundle as the safetensors file it is; Range requests work
	/NAME/KEY.npy        the tensor KEY of a bundle as a .npy file; Range requests work

so that Dask, xarray or zarr-python read tensors that other processes are
still writing. Each chunk is one copy out of the segment under a shared
lock on its rows (see "shmtensor lock"), so writers that lock see their
writes served whole; /NAME.npy is read from the live memory as it is sent,
without a lock. Nothing is ever written: other methods
get 405. A name deleted and created again is served from the new segment.

A bundle (see "shmtensor help bundles") is served whole as
/NAME.safetensors and each of its tensors as /NAME/KEY.npy (a KEY may
hold slashes, as "model/layer.0/weight"), both read from the live memory
as they are sent, without a lock; its /NAME.npy and /NAME.zarr/ are 404,
saying so. A bfloat16 or 8-bit float tensor, which numpy has no dtype
for, has no .npy (404 naming /NAME.safetensors). In the list at /, a
bundle has "kind": "bundle", its "safetensors" URL and its "tensors",
each with name, dtype, shape and npy URL; a tensor has "kind" "tensor"
or "channel".

Every request must carry "Authorization: Bearer TOKEN" (401 without it, 403
with a wrong one). The token is the first line of --token-file FILE, or
--token, else $SHMTENSOR_TOKEN, else a random one printed at start. Prefer
the file or the environment: every local user can read a --token from the
process list (/proc/PID/cmdline), and serve warns when it is given.
With fsspec (Dask, zarr, xarray):

	storage_options={"client_kwargs": {"headers": {"Authorization": "Bearer TOKEN"}}}

The address is loopback by default; any local user can reach loopback,
which is why the token is required there too. --insecure-no-token answers
without one, and only on a loopback address. There is no TLS: across
machines use an SSH tunnel or a TLS proxy. --chunks sets the chunk shape of
tensors with that many dimensions (default about 4 MiB per chunk).

Memory is bounded by --max-requests: the chunk requests handled at once,
each holding one chunk buffer until its answer is written (others wait), so
about 16 × 4 MiB with the defaults; .npy answers are sent from the segment's
memory and hold no buffer. A client that takes nothing for 30 s is cut off,
and one that holds a chunk slot others wait for, after 1 s; a slow client
that keeps reading is served to the end. At most 1024 connections are open
at once. A segment truncated by its owner while it is served fails the
requests reading it (their answers are cut off, or 503), not the server.
SIGINT or SIGTERM stops the server after running requests finish (at most
10 s).
`,
	MinArgs: 0,
	MaxArgs: manyArgs,
}

var serveFlags serveOptions

func init() {
	cmdServe.Run = runServe
	f := &cmdServe.Flag
	f.StringVar(&serveFlags.addr, "addr", "127.0.0.1:8765", "listen on `host:port`")
	f.StringVar(&serveFlags.token, "token", "", "the bearer `token` clients must send; visible to every local user (prefer --token-file or $SHMTENSOR_TOKEN)")
	f.StringVar(&serveFlags.tokenFile, "token-file", "", "read the bearer token from the first line of `FILE`")
	f.BoolVar(&serveFlags.noToken, noTokenFlag, false, "answer requests without a token (loopback addresses only)")
	f.IntVar(&serveFlags.maxRequests, "max-requests", serve.DefaultMaxInFlight, "chunk requests handled at once, each holding a chunk buffer")
	f.StringVar(&serveFlags.chunks, "chunks", "", "Zarr chunk shape, `N,N...`, for tensors with that many dimensions")
}

func runServe(c *Command, args []string) error {
	o := serveFlags
	o.names = args
	if o.maxRequests < 1 {
		return usagef("--max-requests must be at least 1")
	}
	ctx, stop := interruptContext()
	defer stop()
	return runServer(ctx, o, os.Stdout, os.Stderr)
}

// noTokenFlag is the option that lets serve answer without a token. Its
// name says what it does, so that nobody types it by accident.
const noTokenFlag = "insecure-no-token"

// shutdownGrace is how long serve lets running requests finish after
// SIGINT or SIGTERM.
const shutdownGrace = 10 * time.Second

// serveOptions are serve's options and arguments.
type serveOptions struct {
	addr        string
	token       string
	tokenFile   string
	noToken     bool
	maxRequests int
	chunks      string
	names       []string
}

// isLoopback reports whether the host part of addr is a loopback address
// or "localhost"; an empty host (every interface) is not.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readTokenFile returns the first line of the file path, which must not be
// empty, and warns if other users may read the file.
func readTokenFile(path string, errw io.Writer) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	tok := strings.TrimSpace(line)
	if tok == "" {
		return "", fmt.Errorf("--token-file: %s holds no token on its first line", path)
	}
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(errw, "shmtensor: serve: warning: token file %s is accessible to other users (mode %04o); chmod 600 it\n", path, st.Mode().Perm())
	}
	return tok, nil
}

// maxConns bounds the connections serve keeps open: a client that does
// not read holds one until the stall timeout cuts it off.
const maxConns = 1024

// limitListener accepts at most cap(slots) connections at once; Accept
// waits for one to close.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: sync.OnceFunc(func() { <-l.slots })}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// newToken returns 32 random bytes in URL-safe base64.
func newToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// runServer serves until ctx is done, then shuts down gracefully. It
// prints the address (and a generated token) on out once listening.
func runServer(ctx context.Context, o serveOptions, out, errw io.Writer) error {
	if o.noToken && (o.token != "" || o.tokenFile != "") {
		return usagef("--%s and a token contradict each other", noTokenFlag)
	}
	if o.token != "" && o.tokenFile != "" {
		return usagef("--token and --token-file contradict each other")
	}
	if o.noToken && !isLoopback(o.addr) {
		return usagef("--%s is allowed only on a loopback address (127.0.0.1, ::1, localhost), not %q", noTokenFlag, o.addr)
	}
	generated, onCommandLine := false, o.token != ""
	if o.tokenFile != "" {
		tok, err := readTokenFile(o.tokenFile, errw)
		if err != nil {
			return err
		}
		o.token = tok
	}
	if !o.noToken && o.token == "" {
		o.token = os.Getenv("SHMTENSOR_TOKEN")
	}
	if !o.noToken && o.token == "" {
		o.token, generated = newToken(), true
	}
	chunks, err := parseChunks(o.chunks)
	if err != nil {
		return usagef("%v", err)
	}
	s, err := serve.New(serve.Config{
		Names: o.names, Token: o.token, NoAuth: o.noToken, Chunks: chunks, MaxInFlight: o.maxRequests,
		Logf: func(format string, args ...any) { fmt.Fprintf(errw, "shmtensor: serve: "+format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	ln = &limitListener{Listener: ln, slots: make(chan struct{}, maxConns), closed: make(chan struct{})}
	// No WriteTimeout: a large .npy to a slow client that keeps reading
	// may take long. The handler gives each write a deadline instead
	// (serve.Config.StallTimeout), which cuts off clients that stop.
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0), // bad clients are not the server's errors
	}
	what := "every tensor segment this user can open"
	if len(o.names) > 0 {
		what = tensorsText(len(o.names))
	}
	// Warnings first: the address line tells scripts the server is up.
	if o.noToken {
		fmt.Fprintf(errw, "shmtensor: serve: WARNING: --%s: any local user can read these tensors\n", noTokenFlag)
	}
	if onCommandLine {
		fmt.Fprintf(errw, "shmtensor: serve: warning: --token is visible to every local user in the process list (/proc/%d/cmdline); use --token-file FILE or $SHMTENSOR_TOKEN\n", os.Getpid())
	}
	if !isLoopback(o.addr) {
		fmt.Fprintf(errw, "shmtensor: serve: warning: %s is not a loopback address and there is no TLS: the token and the data cross the network in the clear\n", o.addr)
	}
	fmt.Fprintf(out, "serving %s on http://%s/ (read-only; GET /NAME.npy, /NAME.zarr/..., /NAME.safetensors, /NAME/KEY.npy)\n", what, ln.Addr())
	if generated {
		fmt.Fprintf(out, "token: %s\n(send \"Authorization: Bearer TOKEN\"; fsspec: storage_options={\"client_kwargs\": {\"headers\": {\"Authorization\": \"Bearer TOKEN\"}}})\n", o.token)
	}
	if f, ok := out.(*os.File); ok {
		f.Sync()
	}

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
		err = fmt.Errorf("requests still running after %v were cut off", shutdownGrace)
	}
	<-done
	fmt.Fprintln(out, "stopped")
	return err
}
