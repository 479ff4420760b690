//go:build linux

package shmtensor

// Create: shapes, exclusivity, modes, full and missing filesystems.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/strided"
)

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

func TestCreateInMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no", "such", "dir")
	_, err := Create[float64]("file://"+filepath.Join(dir, "x.npy"), []int{2})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "directory "+dir+" does not exist") {
		t.Fatalf("Create in a missing directory: %v", err)
	}
	// A dangling symbolic link is a missing directory too.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Create[float64]("file://"+filepath.Join(link, "x.npy"), []int{2}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Create through a dangling link: %v", err)
	}
}

// TestCreateInProc: procfs answers ENOENT to any new name, in a directory
// that exists; the error says so instead of calling the directory missing.
func TestCreateInProc(t *testing.T) {
	if st, err := os.Stat("/proc/self/fd"); err != nil || !st.IsDir() {
		t.Skip("no /proc here")
	}
	for _, dir := range []string{"/proc/self", "/proc", "/proc/self/fd"} {
		_, err := Create[float64]("file://"+dir+"/x.npy", []int{2})
		want := "cannot create files in " + dir + " (not a directory that holds files: procfs"
		if err == nil || errors.Is(err, fs.ErrNotExist) || !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), want) {
			t.Errorf("Create in %s: %v; want ErrNotSupported, not fs.ErrNotExist, saying %q", dir, err, want)
		}
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
