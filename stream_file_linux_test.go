package shmtensor

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// streamDirs are directories on tmpfs and on the disk, so that the kernel
// copies of WriteTo and Import run within one filesystem (copy_file_range)
// and across two (sendfile).
func streamDirs(t *testing.T) map[string]string {
	t.Helper()
	shm, err := os.MkdirTemp(sys.ShmDir, "shmtensor-test-dir-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	return map[string]string{"tmpfs": shm, "disk": t.TempDir()}
}

func TestWriteToFile(t *testing.T) {
	want, a := npyStream(t, []int{5 << 20 / 8 / 5, 5}) // 5 MiB
	for kind, dir := range streamDirs(t) {
		for _, appendMode := range []bool{false, true} {
			flags := os.O_RDWR | os.O_CREATE | os.O_TRUNC
			if appendMode {
				flags |= os.O_APPEND
			}
			f, err := os.OpenFile(dir+"/out.npy", flags, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(f, "prefix")
			n, err := a.Segment().WriteTo(f)
			if err != nil || n != int64(len(want)) {
				t.Fatalf("%s (append %v): WriteTo = %d, %v; want %d", kind, appendMode, n, err, len(want))
			}
			if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len("prefix")+len(want)) {
				t.Errorf("%s (append %v): file position %d after WriteTo, want %d", kind, appendMode, pos, len("prefix")+len(want))
			}
			f.Close()
			got, _ := os.ReadFile(dir + "/out.npy")
			if !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Errorf("%s (append %v): the file differs from WriteTo into a buffer", kind, appendMode)
			}
		}
	}
	// A pipe: written from the mapping.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(pr); done <- b }()
	if _, err := a.Segment().WriteTo(pw); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if got := <-done; !bytes.Equal(got, want) {
		t.Error("WriteTo a pipe differs from WriteTo into a buffer")
	}
}

func TestImportFile(t *testing.T) {
	b1, a1 := npyStream(t, []int{1 << 20 / 8, 3}) // 3 MiB
	b2, a2 := npyStream(t, []int{5})
	for kind, dir := range streamDirs(t) {
		path := dir + "/in.npy"
		if err := os.WriteFile(path, slices.Concat(b1, b2, []byte("tail")), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{uniqueName(t), tempFileName(t, "x.npy")} {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []*Tensor[float64]{a1, a2} {
				s, err := Import(name, f)
				if err != nil {
					t.Fatalf("%s → %s: %v", kind, name, err)
				}
				got, _ := View[float64](s)
				if !slices.Equal(got.Data(), want.Data()) || !slices.Equal(got.Shape(), want.Shape()) {
					t.Errorf("%s → %s: imported %v differs from the array written", kind, name, got.Shape())
				}
				s.Close()
				Delete(name)
			}
			if rest, _ := io.ReadAll(f); string(rest) != "tail" {
				t.Errorf("%s → %s: left in the file: %q, want \"tail\"", kind, name, rest)
			}
			f.Close()
		}
		// A file that ends inside the data.
		os.WriteFile(path, b1[:len(b1)-100], 0o600)
		f, _ := os.Open(path)
		name := uniqueName(t)
		if _, err := Import(name, f); !errors.Is(err, ErrNotTensor) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: truncated file: %v, want ErrNotTensor and io.ErrUnexpectedEOF", kind, err)
		}
		f.Close()
		assertNothingUnder(t, name)
	}
}

// TestKernelCopyTaken checks that regular files take the positional paths
// and pipes do not, so the tests above cover both.
func TestKernelCopyTaken(t *testing.T) {
	_, a := npyStream(t, []int{100})
	seg := a.Segment()
	for kind, dir := range streamDirs(t) {
		f, err := os.Create(dir + "/k")
		if err != nil {
			t.Fatal(err)
		}
		n, handled, err := sys.SendData(f, seg.fd, seg.hdr.DataOff, seg.Bytes(), splitParts)
		if !handled || err != nil || n != seg.hdr.DataLen {
			t.Errorf("%s: sendData = %d, %v, %v; want %d, true, nil", kind, n, handled, err, seg.hdr.DataLen)
		}
		f.Close()
	}
	_, pw, _ := os.Pipe()
	defer pw.Close()
	if _, handled, _ := sys.SendData(pw, seg.fd, seg.hdr.DataOff, seg.Bytes(), splitParts); handled {
		t.Error("sendData took a pipe")
	}
}

// TestStreamFileParallel runs the file tests with every copy split into
// parts of 2 MiB across 4 goroutines.
func TestStreamFileParallel(t *testing.T) {
	forceParallel(t)
	TestWriteToFile(t)
	TestImportFile(t)
	// Large enough for several parts, with a short last one.
	b, a := npyStream(t, []int{9<<20/8 + 3})
	for kind, dir := range streamDirs(t) {
		f, err := os.Create(dir + "/big.npy")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Segment().WriteTo(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got, _ := os.ReadFile(dir + "/big.npy"); !bytes.Equal(got, b) {
			t.Errorf("%s: 9 MiB WriteTo in parts differs", kind)
		}
		f, _ = os.Open(dir + "/big.npy")
		s, err := Import(uniqueName(t), f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.Bytes(), a.Segment().Bytes()) {
			t.Errorf("%s: 9 MiB Import in parts differs", kind)
		}
		s.Close()
	}
}

// TestStreamFileEveryWay runs the file tests with splitCopy starting at
// splice and at the mapping, so that each way is covered between every
// pair of filesystems, also split across goroutines.
func TestStreamFileEveryWay(t *testing.T) {
	for _, way := range []int32{sys.ViaSplice, sys.ViaMapping} {
		old := sys.StreamFirstWay
		sys.StreamFirstWay = way
		TestWriteToFile(t)
		TestImportFile(t)
		TestStreamFileParallel(t)
		sys.StreamFirstWay = old
	}
}
