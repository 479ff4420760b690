package shmtensor

// The fuzz target of the package: Import, which reads what other programs
// wrote (internal/codec fuzzes the header parsers). Its seeds are the files
// in testdata/npy (written by numpy), encoder output and a hand-written
// corner case; .ci/run runs each fuzz target for a fixed count.

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shmtensor/shmtensor/internal/codec"
)

// FuzzImport: no stream makes Import panic; a failed Import leaves nothing
// behind, and a successful one gives a segment that WriteTo writes back as
// the same header fields and data.
func FuzzImport(f *testing.F) {
	for _, shape := range [][]int{{}, {3}, {2, 3}} {
		h, _ := newHeader(NPY, Int16, shape, len(shape) > 1)
		f.Add(append(codec.EncodeNPYHeader(h, codec.NPYStreamAlign), make([]byte, h.DataLen)...))
	}
	f.Add(npyFromDict("{'shape': (2,), 'descr': '|b1', 'fortran_order': False}", 2))
	files, err := filepath.Glob("testdata/npy/*.npy")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/npy: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		name := tempFileName(t, "f.npy")
		seg, err := Import(name, bytes.NewReader(stream))
		if err != nil {
			assertNothingUnder(t, name)
			return
		}
		defer seg.Close()
		var out bytes.Buffer
		if _, err := seg.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		h, err := codec.ParseNPYHeader(out.Bytes(), int64(out.Len()))
		if err != nil || DType(h.DType) != seg.DType() || !slices.Equal(h.Shape, seg.Shape()) || h.Fortran != seg.Fortran() ||
			!bytes.Equal(out.Bytes()[h.DataOff:], seg.Bytes()) {
			t.Fatalf("WriteTo of an imported segment reads back as %+v, %v", h, err)
		}
	})
}
