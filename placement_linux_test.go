package shmtensor

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// rss returns the resident bytes of t's mapping.
func rss[T Number](t *testing.T, x *Tensor[T]) int64 {
	t.Helper()
	n, err := sys.SmapsBytes(x.Segment().mem, "Rss")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPopulateFaultsEverythingIn(t *testing.T) {
	name := uniqueName(t)
	const n = 4 << 20 // bytes of data
	c, err := Create[uint8](name, []int{n})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	for _, ro := range []bool{false, true} {
		opts := []Option{}
		if ro {
			opts = append(opts, ReadOnly())
		}
		plain, err := Attach[uint8](name, opts...)
		if err != nil {
			t.Fatal(err)
		}
		pop, err := Attach[uint8](name, append(opts, Populate())...)
		if err != nil {
			t.Fatal(err)
		}
		if got := rss(t, plain); got > n/2 {
			t.Errorf("read-only %v: a plain attach has %d bytes resident before any touch; the test cannot tell populate apart", ro, got)
		}
		if got, want := rss(t, pop), int64(pop.Segment().Size()); got != want {
			t.Errorf("read-only %v: attach with Populate has %d bytes resident, want all %d", ro, got, want)
		}
		plain.Close()
		pop.Close()
	}
	cp, err := Create[uint8](uniqueName(t), []int{n}, Populate())
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if got, want := rss(t, cp), int64(cp.Segment().Size()); got != want {
		t.Errorf("Create with Populate has %d bytes resident, want all %d", got, want)
	}
}

func TestHugePagesSmallPagesOnDevShm(t *testing.T) {
	if hugeTmpfs(sys.ShmDir) {
		t.Skip("/dev/shm is mounted with huge pages here")
	}
	a, err := Create[float64](uniqueName(t), []int{1 << 20}, HugePages(), Populate())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	n, err := a.Segment().HugePageBytes()
	if err != nil || n != 0 {
		t.Errorf("HugePageBytes on a huge=never /dev/shm = %d, %v; want 0, nil", n, err)
	}
	a.Close()
	if _, err := a.Segment().HugePageBytes(); !errors.Is(err, ErrClosed) {
		t.Errorf("HugePageBytes after Close: %v, want ErrClosed", err)
	}
}

// hugeTmpfs reports whether dir is a tmpfs mount point whose options give
// huge pages to advised mappings.
func hugeTmpfs(dir string) bool {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 4 && fs[1] == dir && fs[2] == "tmpfs" {
			for _, o := range strings.Split(fs[3], ",") {
				if o == "huge=advise" || o == "huge=always" || o == "huge=within_size" {
					return true
				}
			}
		}
	}
	return false
}

// hugeDir returns a directory on a tmpfs mounted huge=advise: one the test
// mounts (and unmounts) when it runs as root, else it skips.
func hugeDir(t testing.TB, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a huge=advise tmpfs")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "huge=advise,size="+size); err != nil {
		t.Skipf("cannot mount a huge=advise tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

func TestHugePagesOnAdviseTmpfs(t *testing.T) {
	dir := hugeDir(t, "64m")
	const data = 8 << 20
	huge := func(x *Tensor[float64]) int64 {
		t.Helper()
		n, err := x.Segment().HugePageBytes()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Reserved: the pages are reserved through the advised mapping, so
	// they are huge; the header shares the first huge page with the data
	// (file offsets 0 to 2 MiB), and only the trailing 4 KiB is small.
	name := "file://" + filepath.Join(dir, "huge.npy")
	a, err := Create[float64](name, []int{data / 8}, HugePages())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got := huge(a); got != data {
		t.Errorf("reserved Create with HugePages: %d bytes in huge pages, want %d", got, data)
	}
	if got := shmemHuge(t); got < data {
		t.Errorf("ShmemHugePages = %d, want at least %d", got, data)
	}
	// Without HugePages on the same mount: small pages.
	s, err := Create[float64]("file://"+filepath.Join(dir, "small.npy"), []int{data / 8})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Fill(1)
	if got := huge(s); got != 0 {
		t.Errorf("Create without HugePages on huge=advise: %d bytes in huge pages, want 0", got)
	}
	// Lazy: huge pages at first touch.
	l, err := Create[float64]("file://"+filepath.Join(dir, "lazy.npy"), []int{data / 8}, HugePages(), Lazy())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Fill(2)
	if got := huge(l); got != data {
		t.Errorf("lazy Create with HugePages after Fill: %d bytes in huge pages, want %d", got, data)
	}
	// Another process attaching maps the huge pages as huge pages, with
	// or without HugePages: the page size was fixed when they were
	// allocated.
	for _, huge := range []bool{true, false} {
		out, err := hugeChild(name, huge)
		if err != nil {
			t.Fatal(err)
		}
		if out != data {
			t.Errorf("child attach with HugePages %v: %d bytes in huge pages, want %d", huge, out, data)
		}
	}
	// Too big for the mount: ENOSPC at Create, not SIGBUS later.
	_, err = Create[float64]("file://"+filepath.Join(dir, "big.npy"), []int{64 << 20 / 8}, HugePages())
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Create larger than the mount with HugePages: %v, want ENOSPC", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "big.npy")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed Create left %v", err)
	}
}

// shmemHuge returns the system's ShmemHugePages in bytes.
func shmemHuge(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "ShmemHugePages:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n << 10
		}
	}
	t.Fatal("no ShmemHugePages in /proc/meminfo")
	return 0
}

func init() { childRoles["huge-attach"] = childHugeAttach }

// hugeChild runs a child process that attaches name with Populate (and
// HugePages if huge) and prints HugePageBytes.
func hugeChild(name string, huge bool) (int64, error) {
	cmd := child("huge-attach", name, "SHMTENSOR_HUGE="+strconv.FormatBool(huge))
	cmd.Stderr = nil // Output collects it for the error
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			out = append(out, ee.Stderr...)
		}
		return 0, fmt.Errorf("child: %v: %s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "huge="); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("child printed no figure: %s", out)
}

// childHugeAttach is hugeChild's process.
func childHugeAttach(name string) error {
	opts := []Option{Populate(), ReadOnly()}
	if os.Getenv("SHMTENSOR_HUGE") == "true" {
		opts = append(opts, HugePages())
	}
	a, err := Attach[float64](name, opts...)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.Segment().HugePageBytes()
	if err != nil {
		return err
	}
	fmt.Printf("huge=%d\n", n)
	return nil
}
