//go:build amd64 || arm64 || loong64 || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x || wasm

package shmtensor

// Tests whose tables hold addresses only a 64-bit int holds: smaps of a
// 64-bit address space (internal/strided has the overflow checks at 1<<62
// elements and more). The rest of the package's tests build everywhere.

import (
	"strings"
	"testing"
)

func TestSmapsSum(t *testing.T) {
	const smaps = `00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/prog
Rss:                 300 kB
ShmemPmdMapped:     2048 kB
7f0000000000-7f0000401000 rw-s 00000000 00:27 2          /mnt/huge/x.npy
Size:               4100 kB
Rss:                4100 kB
ShmemPmdMapped:     4096 kB
FilePmdMapped:         0 kB
VmFlags: rd wr sh mr mw me ms sd hg
7f0000401000-7f0000600000 rw-s 00401000 00:27 2          /mnt/huge/x.npy
ShmemPmdMapped:        0 kB
FilePmdMapped:      2048 kB
7f0000800000-7f0000a00000 rw-p 00000000 00:00 0
ShmemPmdMapped:     2048 kB
`
	for _, c := range []struct {
		lo, hi uintptr
		keys   []string
		want   int64
	}{
		{0x7f0000000000, 0x7f0000401000, hugeKeys, 4096 << 10},
		{0x7f0000000000, 0x7f0000600000, hugeKeys, 6144 << 10}, // two mappings of one range
		{0x7f0000400000, 0x7f0000402000, hugeKeys, 6144 << 10}, // overlaps both
		{0x7f0000600000, 0x7f0000800000, hugeKeys, 0},          // the gap: none
		{0x7f0000000000, 0x7f0000401000, []string{"Rss"}, 4100 << 10},
		{0x500000, 0x600000, hugeKeys, 0},
	} {
		got, err := smapsSum(strings.NewReader(smaps), c.lo, c.hi, c.keys...)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("smapsSum(%#x-%#x, %v) = %d, want %d", c.lo, c.hi, c.keys, got, c.want)
		}
	}
}
