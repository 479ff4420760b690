//go:build linux

package shmtensor

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/sys"
)

func init() {
	childRoles["exchange-loop"] = exchangeLoop
	childRoles["attach-noperm"] = attachNoPerm
}

// mountFS mounts a fresh filesystem of type fstype on a temporary
// directory, skipping the test without root (failing it under CI, which
// runs as root).
func mountFS(t *testing.T, fstype, data string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount(fstype, dir, fstype, 0, data); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount %s (CI runs as root): %v", fstype, err)
		}
		t.Skipf("cannot mount %s (needs root): %v", fstype, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// testNPYHeader returns the 4096-byte NPY header Create writes.
func testNPYHeader(dt DType, shape []int, fortran bool) ([]byte, error) {
	h, err := newHeader(NPY, dt, shape, fortran)
	if err != nil {
		return nil, err
	}
	return codec.EncodeNPYHeader(h, codec.NPYDataOffset), nil
}

// testSATrailer returns the SharedArray trailer Create writes.
func testSATrailer(dt DType, shape []int) ([]byte, error) {
	h, err := newHeader(SharedArray, dt, shape, false)
	if err != nil {
		return nil, err
	}
	return codec.EncodeSATrailer(h), nil
}

// saFile returns the bytes of a SharedArray-layout file holding data as a
// uint8 array.
func saFile(t *testing.T, data []byte) []byte {
	t.Helper()
	tr, err := testSATrailer(Uint8, []int{len(data)})
	if err != nil {
		t.Fatal(err)
	}
	return append(bytes.Clone(data), tr...)
}

// npyWrapping returns the bytes of an NPY-layout file (as Create writes it)
// holding data as a uint8 array.
func npyWrapping(t *testing.T, data []byte) []byte {
	t.Helper()
	h, err := testNPYHeader(Uint8, []int{len(data)}, false)
	if err != nil {
		t.Fatal(err)
	}
	return append(h, data...)
}

// TestLayoutRule: a file carrying both layouts' magic is read as the
// layout that explains more of its bytes, in both directions.
func TestLayoutRule(t *testing.T) {
	inner, err := testNPYHeader(Float64, []int{3, 4}, false)
	if err != nil {
		t.Fatal(err)
	}
	wholeNPY := append(inner, make([]byte, 96)...)
	saInner := saFile(t, []byte("0123456789abcdef"))
	// Crafted to be both: an NPY header whose data runs to the end of the
	// file, and a trailer whose data is everything before it.
	const size = 8192
	crafted := make([]byte, size)
	h, _ := testNPYHeader(Uint8, []int{size - codec.NPYDataOffset}, false)
	copy(crafted, h)
	tr, _ := testSATrailer(Uint8, []int{size - codec.SATrailerSize})
	copy(crafted[size-codec.SATrailerSize:], tr)

	cases := []struct {
		name   string
		file   []byte
		layout Layout
		data   []byte
	}{
		{"sharedarray holding a whole .npy file", saFile(t, wholeNPY), SharedArray, wholeNPY},
		{"sharedarray holding only the npy magic", saFile(t, []byte(codec.NPYMagic)), SharedArray, []byte(codec.NPYMagic)},
		{"sharedarray holding a broken npy header", saFile(t, []byte("\x93NUMPY\x09\x09garbage")), SharedArray, []byte("\x93NUMPY\x09\x09garbage")},
		{"npy holding a sharedarray file", npyWrapping(t, saInner), NPY, saInner},
		{"npy holding a broken sharedarray trailer", npyWrapping(t, append([]byte("[SharedArray]\x00\x00\x00"), make([]byte, 276)...)), NPY, append([]byte("[SharedArray]\x00\x00\x00"), make([]byte, 276)...)},
		{"crafted to be both", crafted, NPY, crafted[codec.NPYDataOffset:]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := uniqueName(t)
			if err := os.WriteFile(filepath.Join("/dev/shm", name), c.file, 0o600); err != nil {
				t.Fatal(err)
			}
			info, err := Stat(name)
			if err != nil || info.Layout != c.layout {
				t.Fatalf("Stat: %+v, %v; want layout %v", info, err, c.layout)
			}
			a, err := Attach[uint8](name)
			if err != nil {
				t.Fatalf("Attach: %v", err)
			}
			if got := a.Data(); !bytes.Equal(got, c.data) || a.Segment().Layout() != c.layout {
				t.Errorf("Attach read %d bytes as %v, want %d bytes as %v", len(got), a.Segment().Layout(), len(c.data), c.layout)
			}
			a.Close()
			list, err := List()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, in := range list {
				found = found || in.Name == "shm://"+name
			}
			if !found {
				t.Errorf("List leaves it out")
			}
			if err := Delete(name); err != nil {
				t.Fatalf("Delete: %v", err)
			}
		})
	}
}

// exchangeLoop swaps the names name and name+"-foreign" in /dev/shm with
// renameat2(RENAME_EXCHANGE) until killed.
func exchangeLoop(name string) error {
	a, b := filepath.Join("/dev/shm", name), filepath.Join("/dev/shm", name+"-foreign")
	fmt.Println("ready")
	for {
		unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	}
}

// deleteRace runs Delete against a process swapping the segment's name with
// a foreign file's for d and counts the outcomes. A foreign file removed is
// detected by its link count dropping to 0 on a descriptor kept open.
type deleteRaceResult struct {
	rounds, deleted, replaced, foreignRemoved, segmentLeft, otherErrors int
	firstOther                                                          error
}

func deleteRace(t testing.TB, d time.Duration) deleteRaceResult {
	name := uniqueName(t)
	foreignPath := filepath.Join("/dev/shm", name+"-foreign")
	t.Cleanup(func() {
		os.Remove(foreignPath)
		removeByPrefix(asidePrefix + name)
	})
	out, stop := startChild(t, child("exchange-loop", name))
	defer stop()
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	var r deleteRaceResult
	segPath := filepath.Join("/dev/shm", name)
	nlink := func(fd int) uint64 {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		return uint64(st.Nlink)
	}
	for end := time.Now().Add(d); time.Now().Before(end); {
		r.rounds++
		// With one of the two names missing the swapper fails, so the
		// round starts from a known state.
		os.Remove(segPath)
		os.Remove(foreignPath)
		os.Remove(segPath)
		ffd, err := unix.Open(foreignPath, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		unix.Write(ffd, []byte("a foreign file that is not a tensor\n"))
		seg, err := CreateSegment(name, Float64, []int{8})
		if err != nil {
			unix.Close(ffd)
			if errors.Is(err, ErrExist) {
				continue // the foreign file was swapped onto the name first
			}
			t.Fatal(err)
		}
		err = Delete(name)
		switch {
		case err == nil:
			r.deleted++
		case errors.Is(err, ErrNotTensor):
			r.replaced++ // refused: found the foreign file, or a changed name
		default:
			r.otherErrors++
			if r.firstOther == nil {
				r.firstOther = err
			}
		}
		if nlink(ffd) == 0 {
			r.foreignRemoved++
		}
		if err == nil && nlink(seg.fd) != 0 {
			r.segmentLeft++
		}
		unix.Close(ffd)
		seg.Close()
	}
	return r
}

// TestDeleteRaceRemovesNoForeignFile: a process swapping the name being
// deleted with a foreign file's (RENAME_EXCHANGE, in a loop) never gets
// Delete to remove the foreign file.
func TestDeleteRaceRemovesNoForeignFile(t *testing.T) {
	d := 2 * time.Second
	if testing.Short() {
		d = 500 * time.Millisecond
	}
	r := deleteRace(t, d)
	t.Logf("%+v", r)
	if r.foreignRemoved != 0 || r.segmentLeft != 0 || r.otherErrors != 0 {
		t.Fatalf("%d rounds: %d deleted, %d refused, %d foreign files removed, %d deletes that left the segment, %d other errors (first: %v)",
			r.rounds, r.deleted, r.replaced, r.foreignRemoved, r.segmentLeft, r.otherErrors, r.firstOther)
	}
	if r.deleted == 0 {
		t.Fatalf("no Delete succeeded in %d rounds", r.rounds)
	}
	if left, _ := filepath.Glob("/dev/shm/" + asidePrefix + "*"); len(left) > 0 {
		t.Fatalf("private names left: %v", left)
	}
}

// TestDeletePutsBackAReplacedFile: a file renamed over the name after
// Delete validated the segment is put back, not removed.
func TestDeletePutsBackAReplacedFile(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	n, _ := parseName(name)
	f, err := openFile(n, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	// Another file is renamed over the name after f was validated.
	stranger := filepath.Join("/dev/shm", name+"-stranger")
	os.WriteFile(stranger, []byte("not ours"), 0o600)
	t.Cleanup(func() { os.Remove(stranger) })
	if err := os.Rename(stranger, filepath.Join("/dev/shm", name)); err != nil {
		t.Fatal(err)
	}
	err = unlinkNamed(n, f)
	if !errors.Is(err, ErrNotTensor) || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("unlink of a replaced name: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join("/dev/shm", name)); err != nil || string(b) != "not ours" {
		t.Fatalf("the replacing file was not put back: %q, %v", b, err)
	}
	if left, _ := filepath.Glob("/dev/shm/" + asidePrefix + name + "*"); len(left) > 0 {
		t.Fatalf("private names left: %v", left)
	}
}

// TestDeleteLeavesAsideWhenNameRetaken: when the moved file is not the
// validated one and the name was taken again meanwhile, the file stays under
// the private name and the error says where.
func TestDeleteLeavesAsideWhenNameRetaken(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	t.Cleanup(func() { removeByPrefix(asidePrefix + name) })
	n, _ := parseName(name)
	f, err := openFile(n, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	path := filepath.Join("/dev/shm", name)
	stranger := path + "-stranger"
	os.WriteFile(stranger, []byte("not ours"), 0o600)
	t.Cleanup(func() { os.Remove(stranger) })
	if err := os.Rename(stranger, path); err != nil {
		t.Fatal(err)
	}
	testHookAside = func(p string) { os.WriteFile(p, []byte("new"), 0o600) }
	defer func() { testHookAside = nil }()
	err = unlinkNamed(n, f)
	left, _ := filepath.Glob("/dev/shm/" + asidePrefix + name + "*")
	if !errors.Is(err, ErrNotTensor) || len(left) != 1 || !strings.Contains(err.Error(), left[0]) {
		t.Fatalf("got %v; private names %v", err, left)
	}
	if b, _ := os.ReadFile(left[0]); string(b) != "not ours" {
		t.Fatalf("the private name holds %q", b)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("the name holds %q", b)
	}
}

// TestRamfsIsNotFull: a filesystem that reports no size (ramfs) has room.
func TestRamfsIsNotFull(t *testing.T) {
	dir := mountFS(t, "ramfs", "")
	for _, opts := range [][]Option{nil, {Lazy()}} {
		name := "file://" + filepath.Join(dir, fmt.Sprintf("x%d.npy", len(opts)))
		a, err := Create[float64](name, []int{1000}, opts...)
		if err != nil {
			t.Fatalf("Create on ramfs (opts %d): %v", len(opts), err)
		}
		a.Set(2.5, 999)
		a.Close()
		b, err := Attach[float64](name)
		if err != nil || b.At(999) != 2.5 {
			t.Fatalf("Attach on ramfs: %v", err)
		}
		b.Close()
	}
}

// TestTmpfileHalfWorks: where O_TMPFILE opens but fchmod then fails (as on
// some FUSE filesystems), Create falls back to a temporary name.
func TestTmpfileHalfWorks(t *testing.T) {
	saved := openTmpfile
	t.Cleanup(func() { openTmpfile = saved })
	openTmpfile = func(dir string, mode uint32) (int, error) {
		fd, err := saved(dir, mode)
		if err != nil {
			return fd, err
		}
		unix.Close(fd)
		return -1, syscall.ENOENT // what fchmod gave on the FUSE filesystem
	}
	dir := t.TempDir()
	name := "file://" + filepath.Join(dir, "x.npy")
	a, err := Create[int32](name, []int{5}, Mode(0o640))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	a.Close()
	info, err := Stat(name)
	if err != nil || info.Mode != 0o640 {
		t.Fatalf("Stat: %+v %v", info, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %v, want only x.npy", entries)
	}
}

// TestStaleTemporariesRemoved: temporaries of killed creators and deleters
// older than StaleAge are removed by RemoveStale and by a Create that uses
// a temporary name; fresh ones and other files are kept.
func TestStaleTemporariesRemoved(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * StaleAge)
	files := map[string]bool{ // name -> removed
		tempPrefix + "a.npy-0123456789abcdef.tmp": true,
		asidePrefix + "b.npy-0123456789abcdef":    true,
		tempPrefix + "fresh.npy-00.tmp":           false,
		"user.npy":                                false,
		".shmtensorx":                             false,
	}
	setup := func() {
		for f := range files {
			p := filepath.Join(dir, f)
			os.WriteFile(p, []byte("x"), 0o600)
			if !strings.Contains(f, "fresh") {
				os.Chtimes(p, old, old)
			}
		}
	}
	check := func(how string) {
		t.Helper()
		for f, gone := range files {
			_, err := os.Lstat(filepath.Join(dir, f))
			if gone != errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: %s: removed=%v, want %v", how, f, err != nil, gone)
			}
		}
	}
	setup()
	removed, err := RemoveStale(dir, StaleAge)
	if err != nil || len(removed) != 2 {
		t.Fatalf("RemoveStale: %v, %v", removed, err)
	}
	check("RemoveStale")

	setup()
	saved := openTmpfile
	t.Cleanup(func() { openTmpfile = saved })
	openTmpfile = func(string, uint32) (int, error) { return -1, syscall.EOPNOTSUPP }
	swept.Delete(dir)
	a, err := Create[int8]("file://"+filepath.Join(dir, "new.npy"), []int{1})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	check("Create")
	if _, err := RemoveStale(filepath.Join(dir, "missing"), StaleAge); !errors.Is(err, ErrNotExist) {
		t.Errorf("RemoveStale of a missing directory: %v", err)
	}
}

// TestForeignOwnerRefused: Attach and Open refuse a segment owned by
// another user unless AnyOwner is given; root's segments stay attachable.
func TestForeignOwnerRefused(t *testing.T) {
	needRoot(t, "chown to another user")
	name := uniqueName(t)
	a, err := Create[float64](name, []int{4}, Mode(0o666))
	if err != nil {
		t.Fatal(err)
	}
	a.Set(7, 3)
	a.Close()
	path := filepath.Join("/dev/shm", name)
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err = Attach[float64](name)
	if !errors.Is(err, ErrPermission) || !errors.Is(err, fs.ErrPermission) ||
		!strings.Contains(err.Error(), "uid 65534") || !strings.Contains(err.Error(), "AnyOwner()") {
		t.Fatalf("Attach of a foreign segment: %v", err)
	}
	if _, err := Open(name, ReadOnly()); !errors.Is(err, ErrPermission) {
		t.Fatalf("Open of a foreign segment: %v", err)
	}
	// A cached uid that is not the caller's any more is read again before
	// anything is refused or let through.
	lastEUID.Store(4242 + 1)
	if _, err := Attach[float64](name); !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "not by the caller (uid 0") {
		t.Fatalf("Attach of a foreign segment with a stale cached uid: %v", err)
	}
	if got := lastEUID.Load(); got != int64(os.Geteuid())+1 {
		t.Fatalf("cached uid %d after the refusal, want %d", got-1, os.Geteuid())
	}
	b, err := Attach[float64](name, AnyOwner())
	if err != nil || b.At(3) != 7 {
		t.Fatalf("Attach with AnyOwner: %v", err)
	}
	b.Close()
	if info, err := Stat(name); err != nil || info.UID != 65534 {
		t.Fatalf("Stat: %+v %v", info, err)
	}
	os.Chown(path, 0, 0)
	if _, err := Attach[float64](name); err != nil {
		t.Fatalf("root-owned segment refused: %v", err)
	}
}

// TestReserve: a Lazy segment reports unreserved pages, Attach with
// Reserve allocates them keeping the data, and on a full filesystem says
// ENOSPC.
func TestReserve(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{1 << 17}, Lazy()) // 1 MiB
	if err != nil {
		t.Fatal(err)
	}
	a.Set(1.5, 7)
	a.Close()
	if info, _ := Stat(name); info.Reserved {
		t.Fatalf("lazy segment reported reserved: %+v", info)
	}
	for _, opts := range [][]Option{{Reserve()}, {Reserve(), ReadOnly()}} {
		b, err := Attach[float64](name, opts...)
		if err != nil {
			t.Fatalf("Attach with Reserve: %v", err)
		}
		if b.At(7) != 1.5 {
			t.Fatalf("Reserve lost the data")
		}
		b.Close()
	}
	if info, _ := Stat(name); !info.Reserved {
		t.Fatalf("segment not reserved after Attach with Reserve: %+v", info)
	}
	full, err := Create[float64](uniqueName(t), []int{16})
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	if info, _ := Stat(full.Segment().Name()); !info.Reserved {
		t.Fatalf("Create without Lazy: not reserved: %+v", info)
	}

	dir := mountFS(t, "tmpfs", "size=1m")
	lazy := "file://" + filepath.Join(dir, "lazy.npy")
	c, err := Create[uint8](lazy, []int{800 << 10}, Lazy())
	if err != nil {
		t.Fatal(err)
	}
	c.Set(9, 0)
	c.Close()
	d, err := Create[uint8]("file://"+filepath.Join(dir, "fill.npy"), []int{600 << 10})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	_, err = Attach[uint8](lazy, Reserve())
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "free") {
		t.Fatalf("Attach with Reserve on a full filesystem: %v", err)
	}
	e, err := Attach[uint8](lazy)
	if err != nil || e.At(0) != 9 {
		t.Fatalf("data after a failed Reserve: %v", err)
	}
	e.Close()
}

// TestMapLimit: near vm.max_map_count (lowered for this process only),
// Create and Attach fail with ENOMEM while the headroom remains, and work
// again once segments are closed.
func TestMapLimit(t *testing.T) {
	savedMax := sys.MaxMapCount
	t.Cleanup(func() { sys.MaxMapCount = savedMax; sys.RecountMaps() })
	now := sys.CountMaps()
	if now < 0 {
		t.Skip("no /proc/self/maps")
	}
	limit := now + sys.MapHeadroom + 4
	sys.MaxMapCount = func() int64 { return limit }
	sys.RecountMaps()
	name := uniqueName(t)
	var open []*Tensor[float64]
	defer func() {
		for _, x := range open {
			x.Close()
		}
	}()
	first, err := Create[float64](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	open = append(open, first)
	var refused error
	for range 100 {
		x, err := Attach[float64](name)
		if err != nil {
			refused = err
			break
		}
		open = append(open, x)
	}
	if !errors.Is(refused, syscall.ENOMEM) || !strings.Contains(refused.Error(), "vm.max_map_count") ||
		!strings.Contains(refused.Error(), fmt.Sprintf("%d of them segments", sys.Mappings())) {
		t.Fatalf("after %d attaches: %v", len(open), refused)
	}
	if len(open) > 10 {
		t.Fatalf("%d mappings allowed under a limit %d above the count", len(open), limit-now)
	}
	open[len(open)-1].Close()
	open[len(open)-2].Close()
	open = open[:len(open)-2]
	x, err := Attach[float64](name)
	if err != nil {
		t.Fatalf("Attach after closing: %v", err)
	}
	open = append(open, x)
}

// TestEINTRRetried: Create and Attach with Reserve of large segments
// succeed while the thread doing them is flooded with signals. Older
// kernels interrupt a tmpfs fallocate at any signal (EINTR); recent ones
// only at a fatal one (measured on 6.18: no EINTR in 8 fallocates of
// 128 MiB under a million signals), but other filesystems (NFS, FUSE)
// still return EINTR, so TestIgnoringEINTR checks the retry itself.
func TestEINTRRetried(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				// SIGURG is the Go runtime's preemption signal: handled,
				// harmless, and it interrupts system calls.
				unix.Tgkill(os.Getpid(), tid, unix.SIGURG)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	n := 8
	if testing.Short() {
		n = 3
	}
	for range n {
		name := uniqueName(t)
		a, err := Create[uint8](name, []int{128 << 20})
		if err != nil {
			t.Fatalf("Create under signals: %v", err)
		}
		a.Close()
		b, err := Attach[uint8](name, Reserve())
		if err != nil {
			t.Fatalf("Attach under signals: %v", err)
		}
		b.Close()
		if err := Delete(name); err != nil {
			t.Fatal(err)
		}
	}
}

// TestErrorContract: the errors the campaign found misleading or
// unmatched.
func TestErrorContract(t *testing.T) {
	dir := t.TempDir()
	_, err := Create[float64]("file://"+filepath.Join(dir, "m.npy"), []int{1}, Mode(fs.ModeSetuid|0o644))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Mode with setuid: %v", err)
	}
	if _, err := ParseDType("zz"); !errors.As(err, &e) || !errors.Is(err, ErrDType) {
		t.Errorf("ParseDType: %#v", err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, opts := range [][]Option{nil, {ReadOnly()}} {
		_, err = Attach[float64]("file://"+sock, opts...)
		if !errors.Is(err, ErrNotTensor) || !strings.Contains(err.Error(), "socket") || strings.Contains(err.Error(), "FIFO") {
			t.Errorf("Attach of a socket: %v", err)
		}
	}
	unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	if _, err := Attach[float64]("file://" + filepath.Join(dir, "fifo")); !strings.Contains(fmt.Sprint(err), "FIFO") {
		t.Errorf("Attach of a FIFO: %v", err)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	_, err = Create[float64]("file://"+filepath.Join(dir, "sub"), []int{1})
	if !errors.Is(err, ErrExist) || !strings.Contains(err.Error(), "directory") || strings.Contains(err.Error(), "segment already exists") {
		t.Errorf("Create over a directory: %v", err)
	}
}

// TestLazyCreateOnTakenNameFullFS: a taken name is ErrExist even when the
// filesystem is full.
func TestLazyCreateOnTakenNameFullFS(t *testing.T) {
	dir := mountFS(t, "tmpfs", "size=1m")
	name := "file://" + filepath.Join(dir, "x.npy")
	a, err := Create[uint8](name, []int{900 << 10})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	for _, opts := range [][]Option{nil, {Lazy()}} {
		if _, err := Create[uint8](name, []int{2 << 20}, opts...); !errors.Is(err, ErrExist) || errors.Is(err, syscall.ENOSPC) {
			t.Errorf("Create (opts %d) on a taken name, full filesystem: %v", len(opts), err)
		}
	}
}

// attachNoPerm runs as another user against a 0600 segment of root's:
// neither read-write nor read-only works, and the error does not suggest
// ReadOnly().
func attachNoPerm(name string) error {
	_, err := Attach[float64](name)
	if !errors.Is(err, ErrPermission) || !errors.Is(err, syscall.EACCES) || strings.Contains(err.Error(), "ReadOnly") {
		return fmt.Errorf("read-write attach as uid %d: %v, want permission denied without a ReadOnly hint", os.Getuid(), err)
	}
	if _, err := Attach[float64](name, ReadOnly()); !errors.Is(err, ErrPermission) {
		return fmt.Errorf("read-only attach: %v", err)
	}
	return nil
}

func TestReadOnlyHintOnlyWhereItHelps(t *testing.T) {
	needRoot(t, "run a child as another user")
	name := uniqueName(t)
	a, err := Create[float64](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if out, err := runAsNobody(t, nobodyExe(t), "attach-noperm", name); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestBrokenEntries: a truncated segment is listed by ListBroken with the
// reason and removed by DeleteBroken; files without a tensor magic are
// neither listed nor removed.
func TestBrokenEntries(t *testing.T) {
	trunc := uniqueName(t)
	a, err := Create[float64](trunc, []int{100})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := os.Truncate(filepath.Join("/dev/shm", trunc), codec.NPYDataOffset+8); err != nil {
		t.Fatal(err)
	}
	plain := uniqueName(t)
	os.WriteFile(filepath.Join("/dev/shm", plain), []byte("some other program's shm"), 0o600)
	broken, err := ListBroken()
	if err != nil {
		t.Fatal(err)
	}
	var found *Broken
	for i, b := range broken {
		if b.Name == "shm://"+plain {
			t.Errorf("ListBroken lists a file without a tensor magic: %+v", b)
		}
		if b.Name == "shm://"+trunc {
			found = &broken[i]
		}
	}
	if found == nil || !errors.Is(found.Err, ErrNotTensor) || !strings.Contains(found.Err.Error(), "needs") || found.Size != codec.NPYDataOffset+8 {
		t.Fatalf("ListBroken: %+v", found)
	}
	if err := Delete(trunc); !errors.Is(err, ErrNotTensor) {
		t.Fatalf("Delete of a broken segment: %v", err)
	}
	if err := DeleteBroken(plain); !errors.Is(err, ErrNotTensor) {
		t.Fatalf("DeleteBroken of a plain file: %v", err)
	}
	if _, err := os.Stat(filepath.Join("/dev/shm", plain)); err != nil {
		t.Fatalf("DeleteBroken removed a plain file")
	}
	if os.Geteuid() == 0 {
		os.Chown(filepath.Join("/dev/shm", trunc), 65534, 65534)
		if err := DeleteBroken(trunc); !errors.Is(err, ErrPermission) {
			t.Fatalf("DeleteBroken of another user's file: %v", err)
		}
		os.Chown(filepath.Join("/dev/shm", trunc), 0, 0)
	}
	if err := DeleteBroken(trunc); err != nil {
		t.Fatalf("DeleteBroken: %v", err)
	}
	if _, err := os.Stat(filepath.Join("/dev/shm", trunc)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("still there after DeleteBroken: %v", err)
	}
}
