//go:build linux

package shmtensor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/shmtensor/shmtensor/internal/strided"
	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/sys"
)

func TestParseName(t *testing.T) {
	long := strings.Repeat("a", sys.MaxShmName+1)
	tests := []struct {
		in   string
		want string // canonical name; "" means invalid
		shm  bool
	}{
		{"prices", "shm://prices", true},
		{"shm://prices", "shm://prices", true},
		{"file://data/x.npy", "file://data/x.npy", false},
		{"file:///tmp/x", "file:///tmp/x", false},
		{"shm://a.b-c_d", "shm://a.b-c_d", true},
		{"", "", false},
		{"shm://", "", false},
		{"file://", "", false},
		{"shm://a/b", "", false},
		{"a/b", "", false},
		{".", "", false},
		{"..", "", false},
		{"shm://..", "", false},
		{"x\x00y", "", false},
		{"file://x\x00y", "", false},
		{"a\nb", "", false},
		{"shm://tab\there", "", false},
		{"del\x7f", "", false},
		{"file://dir/new\nline.npy", "", false},
		{"file://dir\n/x.npy", "file://dir\n/x.npy", false}, // only the last component is checked
		{tempPrefix + "x", "", false},
		{asidePrefix + "x", "", false},
		{".shmtensor-anything", "", false},
		{"file:///tmp/" + tempPrefix + "x.npy", "", false},
		{".shmtensorx", "shm://.shmtensorx", true},
		{".hidden", "shm://.hidden", true},
		{"http://x", "", false},
		{"s3://bucket/x", "", false},
		{long, "", false},
		{strings.Repeat("a", sys.MaxShmName), "shm://" + strings.Repeat("a", sys.MaxShmName), true},
	}
	for _, tt := range tests {
		n, err := parseName(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("parseName(%q) = %+v, %v; want ErrInvalidName", tt.in, n, err)
			}
			continue
		}
		if err != nil || n.name != tt.want || n.shm != tt.shm {
			t.Errorf("parseName(%q) = %+v, %v; want %q shm=%v", tt.in, n, err, tt.want, tt.shm)
		}
	}
}

func TestBadNamesNeverReachTheSystem(t *testing.T) {
	for _, name := range []string{"", "a/b", "../etc/passwd", "shm://..", "ftp://x", "x\x00"} {
		if _, err := Create[float64](name, []int{1}); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Create(%q): %v, want ErrInvalidName", name, err)
		}
		if _, err := Attach[float64](name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Attach(%q): %v, want ErrInvalidName", name, err)
		}
		if _, err := Stat(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Stat(%q): %v, want ErrInvalidName", name, err)
		}
		if err := Delete(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Delete(%q): %v, want ErrInvalidName", name, err)
		}
	}
}

func TestCreateAttachRoundTrip(t *testing.T) {
	for _, layout := range []struct {
		name string
		opts []Option
		want Layout
	}{{"npy", nil, NPY}, {"sharedarray", []Option{SharedArrayLayout()}, SharedArray}} {
		t.Run(layout.name, func(t *testing.T) {
			name := uniqueName(t)
			a, err := Create[float64](name, []int{3, 4}, layout.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			for i := range 3 {
				for j := range 4 {
					a.Set(float64(i*10+j), i, j)
				}
			}
			b, err := Attach[float64]("shm://" + name)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if !slices.Equal(b.Shape(), []int{3, 4}) || b.Segment().Layout() != layout.want {
				t.Fatalf("attached shape %v layout %v", b.Shape(), b.Segment().Layout())
			}
			if got := b.At(2, 3); got != 23 {
				t.Fatalf("At(2,3) = %v, want 23", got)
			}
			b.Set(-1, 0, 0) // writes through one mapping show in the other
			if got := a.At(0, 0); got != -1 {
				t.Fatalf("after Set through b, a.At(0,0) = %v", got)
			}
			info, err := Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if info.Name != "shm://"+name || info.DType != Float64 || !slices.Equal(info.Shape, []int{3, 4}) || info.Layout != layout.want || info.Mode != 0o600 {
				t.Fatalf("Stat = %+v", info)
			}
			if info.Size != int64(a.Segment().Size()) {
				t.Fatalf("Stat size %d, mapped %d", info.Size, a.Segment().Size())
			}
		})
	}
}

func TestCreateShapes(t *testing.T) {
	dims32 := make([]int, 32)
	for i := range dims32 {
		dims32[i] = 1
	}
	dims32[5], dims32[31] = 2, 3
	for _, shape := range [][]int{{}, {0}, {3, 0, 2}, {7}, {2, 3, 4}, dims32} {
		for _, opts := range [][]Option{nil, {SharedArrayLayout()}} {
			name := uniqueName(t)
			a, err := Create[int32](name, shape, opts...)
			if err != nil {
				t.Fatalf("Create %v: %v", shape, err)
			}
			n, _ := strided.NumElements(shape)
			if a.Len() != n || len(a.Data()) != n {
				t.Fatalf("shape %v: Len %d, len(Data) %d, want %d", shape, a.Len(), len(a.Data()), n)
			}
			if n > 0 {
				d := a.Data()
				d[n-1] = 42
			}
			a.Close()
			b, err := Attach[int32](name, opts...)
			if err != nil {
				t.Fatalf("Attach %v: %v", shape, err)
			}
			if !slices.Equal(b.Shape(), shape) && !(len(shape) == 0 && b.NDim() == 0) {
				t.Fatalf("attached shape %v, want %v", b.Shape(), shape)
			}
			if n > 0 && b.Data()[n-1] != 42 {
				t.Fatalf("shape %v: last element %v", shape, b.Data()[n-1])
			}
			b.Close()
			if err := Delete(name); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestCreateRejectsBadShapes(t *testing.T) {
	for _, shape := range [][]int{{-1}, {2, -3}, {maxInt, maxInt}, {maxInt / 2, 3}, make([]int, MaxDims+1)} {
		name := uniqueName(t)
		if _, err := Create[float64](name, shape); !errors.Is(err, ErrShape) {
			t.Errorf("Create %v: %v, want ErrShape", shape, err)
		}
		if _, err := os.Lstat(filepath.Join("/dev/shm", name)); err == nil {
			t.Errorf("Create %v left a file behind", shape)
		}
	}
	// SharedArray's trailer has room for 32 dimensions only.
	shape := make([]int, 33)
	for i := range shape {
		shape[i] = 1
	}
	if _, err := Create[float64](uniqueName(t), shape, SharedArrayLayout()); !errors.Is(err, ErrShape) {
		t.Errorf("Create 33 dims SharedArray: %v, want ErrShape", err)
	}
}

func TestCreateIsExclusive(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[uint8](name, []int{10})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Set(7, 3)
	_, err = Create[uint8](name, []int{20})
	if !errors.Is(err, ErrExist) || !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Create: %v, want ErrExist and fs.ErrExist", err)
	}
	if a.At(3) != 7 {
		t.Fatal("second Create changed the first segment")
	}
	// A foreign file under the name is not overwritten either.
	foreign := uniqueName(t)
	path := filepath.Join("/dev/shm", foreign)
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Create[uint8](foreign, []int{1}); !errors.Is(err, ErrExist) {
		t.Fatalf("Create over a foreign file: %v", err)
	}
	// Lazy creates skip the early check; the link still refuses.
	if _, err := Create[uint8](foreign, []int{1}, Lazy()); !errors.Is(err, ErrExist) {
		t.Fatalf("lazy Create over a foreign file: %v", err)
	}
	if _, err := Create[uint8](name, []int{20}, Lazy(), SharedArrayLayout()); !errors.Is(err, ErrExist) {
		t.Fatalf("lazy Create over a segment: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Fatalf("foreign file changed to %q", b)
	}
}

func TestErrorMessages(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float32](name, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = Attach[float64]("shm://" + name)
	want := "shmtensor: attach shm://" + name + ": element type mismatch: segment holds float32, want float64"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.Op != "attach" || e.Name != "shm://"+name || !errors.Is(err, ErrDType) {
		t.Fatalf("error %#v", err)
	}
	_, err = Attach[float64](uniqueName(t))
	if !errors.Is(err, ErrNotExist) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("attach missing: %v", err)
	}
}

func TestModeExactWhateverUmask(t *testing.T) {
	for _, umask := range []int{0o022, 0o077, 0} {
		old := syscall.Umask(umask)
		for _, tc := range []struct {
			opts []Option
			want fs.FileMode
		}{{nil, 0o600}, {[]Option{Mode(0o640)}, 0o640}, {[]Option{Mode(0o666)}, 0o666}, {[]Option{Mode(0o400)}, 0o400}} {
			for _, fileBacked := range []bool{false, true} {
				name := uniqueName(t)
				if fileBacked {
					name = tempFileName(t, "m.npy")
				}
				a, err := Create[int8](name, []int{4}, tc.opts...)
				if err != nil {
					syscall.Umask(old)
					t.Fatal(err)
				}
				a.Close()
				info, err := Stat(name)
				if err != nil {
					t.Fatal(err)
				}
				if info.Mode != tc.want {
					t.Errorf("umask %03o, want mode %v: got %v (%s)", umask, tc.want, info.Mode, name)
				}
			}
		}
		syscall.Umask(old)
	}
	if _, err := Create[int8](uniqueName(t), []int{1}, Mode(fs.ModeSetuid|0o600)); err == nil {
		t.Error("Mode with setuid accepted")
	}
}

func TestDeleteRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]byte{
		"text":      []byte("hello, world\n"),
		"empty":     {},
		"badnpy":    []byte("\x93NUMPY\x01\x00\x10\x00{'descr': 'zz'}"),
		"truncated": nil, // filled below with a cut-down real segment
	}
	name := uniqueName(t)
	a, err := Create[float64](name, []int{100})
	if err != nil {
		t.Fatal(err)
	}
	real, _ := os.ReadFile(filepath.Join("/dev/shm", name))
	a.Close()
	cases["truncated"] = real[:4096+8*50]
	for base, content := range cases {
		path := filepath.Join(dir, base)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Delete("file://" + path); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Delete(%s): %v, want ErrNotTensor", base, err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != string(content) {
			t.Errorf("Delete(%s) touched the file", base)
		}
		if _, err := Attach[float64]("file://" + path); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Attach(%s): %v, want ErrNotTensor", base, err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("Attach(%s) removed the file", base)
		}
	}
	// A directory, a FIFO and a symlink to a valid segment: refused without
	// blocking, and left in place.
	os.Mkdir(filepath.Join(dir, "dir"), 0o700)
	unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	os.Symlink(filepath.Join("/dev/shm", name), filepath.Join(dir, "link"))
	for _, base := range []string{"dir", "fifo", "link"} {
		n := "file://" + filepath.Join(dir, base)
		if _, err := Attach[float64](n); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Attach(%s): %v, want ErrNotTensor", base, err)
		}
		if _, err := Attach[float64](n, ReadOnly()); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Attach(%s, ReadOnly): %v, want ErrNotTensor", base, err)
		}
		if _, err := Stat(n); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Stat(%s): %v, want ErrNotTensor", base, err)
		}
		if err := Delete(n); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Delete(%s): %v, want ErrNotTensor", base, err)
		}
		if _, err := Create[float64](n, []int{1}); !errors.Is(err, ErrExist) {
			t.Errorf("Create over %s: %v, want ErrExist", base, err)
		}
		if _, err := os.Lstat(filepath.Join(dir, base)); err != nil {
			t.Errorf("%s was removed", base)
		}
	}
	// The symlink's target is untouched and still a valid segment.
	if _, err := Stat(name); err != nil {
		t.Errorf("segment behind the symlink: %v", err)
	}
	// A symlink in /dev/shm itself is not followed either.
	ln := uniqueName(t)
	os.Symlink(filepath.Join("/dev/shm", name), filepath.Join("/dev/shm", ln))
	if _, err := Attach[float64](ln); !errors.Is(err, ErrNotTensor) {
		t.Errorf("Attach of a /dev/shm symlink: %v", err)
	}
}

func TestDeleteKeepsMappingsValid(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[int64](name, []int{1000})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Attach[int64](name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := Delete(name); err != nil {
		t.Fatal(err)
	}
	if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Stat after Delete: %v", err)
	}
	a.Set(99, 999)
	if b.At(999) != 99 {
		t.Fatal("mappings stopped sharing memory after Delete")
	}
	if err := Delete(name); !errors.Is(err, ErrNotExist) {
		t.Fatalf("second Delete: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Set(5, 1, 1)
	r, err := Attach[float64](name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Segment().ReadOnly() || r.At(1, 1) != 5 {
		t.Fatal("read-only attach does not read")
	}
	mustPanic(t, ErrReadOnly, func() { r.Set(1, 0, 0) })
	if a.At(0, 0) != 0 {
		t.Fatal("read-only Set wrote")
	}
	// A segment without write permission attaches read-only only.
	name2 := uniqueName(t)
	c, err := Create[float64](name2, []int{1}, Mode(0o400))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if os.Geteuid() != 0 { // root ignores permission bits
		if _, err := Attach[float64](name2); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "ReadOnly") {
			t.Errorf("read-write attach of a 0400 segment: %v", err)
		}
	}
	if r2, err := Attach[float64](name2, ReadOnly()); err != nil {
		t.Errorf("read-only attach of a 0400 segment: %v", err)
	} else {
		r2.Close()
	}
}

func TestClose(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	seg := a.Segment()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	mustPanic(t, ErrClosed, func() { a.At(0) })
	mustPanic(t, ErrClosed, func() { a.At(0, 0) }) // closed wins over a wrong count
	mustPanic(t, ErrClosed, func() { a.Set(1, 0) })
	mustPanic(t, ErrClosed, func() { a.Data() })
	if err := seg.Msync(MSSync); !errors.Is(err, ErrClosed) {
		t.Fatalf("Msync after Close: %v", err)
	}
	if _, err := View[float64](seg); !errors.Is(err, ErrClosed) {
		t.Fatalf("View after Close: %v", err)
	}
	if seg.Addr() != 0 {
		t.Fatal("Addr of a closed segment is not 0")
	}
	if _, err := Stat(name); err != nil {
		t.Fatalf("Close unlinked the segment: %v", err)
	}
}

func TestOpenViewAndSegmentMethods(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[complex64](name, []int{3})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Set(1+2i, 2)
	s, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Name() != "shm://"+name || s.DType() != Complex64 || !slices.Equal(s.Shape(), []int{3}) || s.Layout() != NPY || s.ReadOnly() {
		t.Fatalf("segment %s %v %v %v %v", s.Name(), s.DType(), s.Shape(), s.Layout(), s.ReadOnly())
	}
	if s.Size() != 4096+3*8 || s.Addr()%4096 != 0 || s.Addr() == 0 {
		t.Fatalf("Size %d Addr %#x", s.Size(), s.Addr())
	}
	if _, err := View[complex128](s); !errors.Is(err, ErrDType) {
		t.Fatalf("View[complex128] of complex64: %v", err)
	}
	v, err := View[complex64](s)
	if err != nil {
		t.Fatal(err)
	}
	if v.At(2) != 1+2i {
		t.Fatal("View does not see the data")
	}
	for _, f := range []SyncFlags{MSAsync, MSSync, MSInvalidate} {
		if err := s.Msync(f); err != nil {
			t.Errorf("Msync(%d): %v", f, err)
		}
	}
	if err := s.Mlock(); err != nil && !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.ENOMEM) {
		t.Errorf("Mlock: %v", err)
	} else if err == nil {
		if err := s.Munlock(); err != nil {
			t.Errorf("Munlock: %v", err)
		}
	}
	// Views share the segment: closing it closes them all.
	s.Close()
	mustPanic(t, ErrClosed, func() { v.At(0) })
}

func TestList(t *testing.T) {
	names := []string{uniqueName(t), uniqueName(t)}
	for i, n := range names {
		opts := []Option(nil)
		if i == 1 {
			opts = append(opts, SharedArrayLayout())
		}
		a, err := Create[uint16](n, []int{i + 1, 2}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
	}
	foreign := uniqueName(t)
	os.WriteFile(filepath.Join("/dev/shm", foreign), []byte("not a tensor at all"), 0o600)
	infos, err := List()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]Info{}
	for _, in := range infos {
		found[in.Name] = in
	}
	for i, n := range names {
		in, ok := found["shm://"+n]
		if !ok {
			t.Fatalf("List misses %s", n)
		}
		if in.DType != Uint16 || !slices.Equal(in.Shape, []int{i + 1, 2}) {
			t.Errorf("List entry %+v", in)
		}
	}
	if _, ok := found["shm://"+foreign]; ok {
		t.Error("List includes a foreign file")
	}
	if !slices.IsSortedFunc(infos, func(a, b Info) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("List is not sorted")
	}
}

// TestFullFilesystem mounts a 1 MiB tmpfs (root only; CI runs as root) and
// checks that Create fails at once with ENOSPC and leaves nothing behind.
func TestFullFilesystem(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a 1 MiB tmpfs (CI runs as root): %v", err)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	for _, lazy := range []bool{false, true} {
		var opts []Option
		if lazy {
			opts = append(opts, Lazy())
		}
		name := "file://" + filepath.Join(dir, fmt.Sprintf("big-%v.npy", lazy))
		_, err := Create[float64](name, []int{512, 512}, opts...) // 2 MiB
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("lazy=%v: Create 2 MiB in 1 MiB: %v, want ENOSPC", lazy, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "2101248 bytes") || !strings.Contains(msg, "free") {
			t.Errorf("lazy=%v: error does not say asked and free bytes: %s", lazy, msg)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 0 {
			t.Fatalf("lazy=%v: failed Create left %v", lazy, entries)
		}
	}
	// What fits is created.
	a, err := Create[float64](("file://" + filepath.Join(dir, "small.npy")), []int{64, 64})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	// A reserved segment that takes most of the space makes the next fail.
	b, err := Create[uint8](("file://" + filepath.Join(dir, "most.npy")), []int{900 << 10})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, err := Create[uint8](("file://" + filepath.Join(dir, "more.npy")), []int{200 << 10}); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Create beyond the rest: %v", err)
	}
}

// mustPanic runs f and checks that it panics with a value that names
// sentinel (an error matching it, or a message containing its text).
func mustPanic(t *testing.T, sentinel error, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one naming %v", sentinel)
		}
		if err, ok := r.(error); ok && errors.Is(err, sentinel) && strings.Contains(err.Error(), sentinel.Error()) {
			return
		}
		if !strings.Contains(fmt.Sprint(r), sentinel.Error()) {
			t.Fatalf("panic %v does not name %v", r, sentinel)
		}
	}()
	f()
}

// TestLongNPYHeader: a version 2.0 header longer than the page readHeader
// reads first is read in full.
func TestLongNPYHeader(t *testing.T) {
	dict := "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"
	hlen := 20000 - 12
	text := dict + strings.Repeat(" ", hlen-len(dict)-1) + "\n"
	b := append([]byte("\x93NUMPY\x02\x00"), byte(hlen), byte(hlen>>8), 0, 0)
	b = append(b, text...)
	b = append(b, 7, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0)
	path := filepath.Join(t.TempDir(), "long.npy")
	os.WriteFile(path, b, 0o600)
	a, err := Attach[int32]("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Segment().hdr.DataOff != 20000 || a.At(2) != 9 {
		t.Fatalf("data offset %d, a[2] = %d", a.Segment().hdr.DataOff, a.At(2))
	}
	// The same header cut short is refused.
	os.WriteFile(path, b[:15000], 0o600)
	if _, err := Attach[int32]("file://" + path); !errors.Is(err, ErrNotTensor) {
		t.Fatalf("truncated long header: %v", err)
	}
}

func TestCreateInMissingDirectory(t *testing.T) {
	name := "file://" + filepath.Join(t.TempDir(), "no", "such", "dir", "x.npy")
	_, err := Create[float64](name, []int{2})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("Create in a missing directory: %v", err)
	}
}

func TestCreateSegmentUntyped(t *testing.T) {
	for _, dt := range []DType{Bool, Float16, Float64} {
		name := uniqueName(t)
		s, err := CreateSegment(name, dt, []int{2, 5})
		if err != nil {
			t.Fatal(err)
		}
		if s.DType() != dt || len(s.Bytes()) != 10*dt.Size() {
			t.Fatalf("%v: dtype %v, %d bytes", dt, s.DType(), len(s.Bytes()))
		}
		s.Bytes()[1] = 1
		_, err = View[uint8](s)
		if !errors.Is(err, ErrDType) {
			t.Fatalf("View[uint8] of %v: %v", dt, err)
		}
		s.Close()
		info, err := Stat(name)
		if err != nil || info.DType != dt {
			t.Fatalf("Stat: %+v %v", info, err)
		}
	}
	if _, err := CreateSegment(uniqueName(t), Invalid, []int{1}); !errors.Is(err, ErrDType) {
		t.Fatalf("Invalid dtype: %v", err)
	}
	if _, err := CreateSegment(uniqueName(t), DType(99), []int{1}); !errors.Is(err, ErrDType) {
		t.Fatalf("DType(99): %v", err)
	}
}

// writeNPYWithHeader writes a version 1.0 .npy file of float64 data whose
// data starts at dataOff, the header dict padded with spaces to reach it.
func writeNPYWithHeader(t *testing.T, path string, dataOff int, data []float64) {
	t.Helper()
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': (" + strconv.Itoa(len(data)) + ",), }"
	hlen := dataOff - 10
	buf := make([]byte, dataOff+8*len(data))
	copy(buf, codec.NPYMagic)
	buf[6], buf[7] = 1, 0
	binary.LittleEndian.PutUint16(buf[8:], uint16(hlen))
	copy(buf[10:], dict+strings.Repeat(" ", hlen-len(dict)-1)+"\n")
	for i, v := range data {
		binary.LittleEndian.PutUint64(buf[dataOff+8*i:], math.Float64bits(v))
	}
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Headers longer than the first page that readHeader reads are read in a
// second pass; a header past codec.NPYMaxPrefix is still refused.
func TestAttachHeaderLongerThanAPage(t *testing.T) {
	for _, off := range []int{128, codec.NPYDataOffset, codec.NPYDataOffset + 64, 3 * codec.NPYDataOffset, 65536} {
		name := tempFileName(t, "long.npy")
		writeNPYWithHeader(t, name[len(schemeFile):], off, []float64{1.5, 2.5, 3.5})
		x, err := Attach[float64](name)
		if err != nil {
			t.Fatalf("data at %d: %v", off, err)
		}
		if got := x.Data(); len(got) != 3 || got[0] != 1.5 || got[2] != 3.5 {
			t.Errorf("data at %d: got %v", off, got)
		}
		x.Close()
	}
	name := tempFileName(t, "huge.npy")
	path := name[len(schemeFile):]
	writeNPYWithHeader(t, path, 65536, []float64{1})
	b, _ := os.ReadFile(path)
	binary.LittleEndian.PutUint16(b[8:], 65535) // data would start past codec.NPYMaxPrefix
	b = append(b[:10+65535], make([]byte, 8)...)
	os.WriteFile(path, b, 0o600)
	if _, err := Attach[float64](name); !errors.Is(err, ErrNotTensor) {
		t.Errorf("header past %d bytes: %v, want ErrNotTensor", codec.NPYMaxPrefix, err)
	}
}
