package sys

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"strconv"
)

// hugeKeys are the smaps fields that count PMD-mapped (huge) pages.
var hugeKeys = []string{"ShmemPmdMapped", "FilePmdMapped"}

// SmapsSum sums the kilobyte fields named keys of the mappings in smaps
// text that overlap [lo, hi), and returns bytes.
func SmapsSum(r io.Reader, lo, hi uintptr, keys ...string) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var kb int64
	in := false
	for sc.Scan() {
		line := sc.Bytes()
		if start, end, ok := smapsRange(line); ok {
			in = start < hi && lo < end
			continue
		}
		if !in {
			continue
		}
		key, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok || !slices.Contains(keys, string(key)) {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			continue
		}
		kb += v
	}
	return kb << 10, sc.Err()
}

// smapsRange parses the address range that starts the header line of a
// mapping ("7f12a4000000-7f12a4201000 rw-s ..."); field lines
// ("Rss:   4 kB") do not parse.
func smapsRange(line []byte) (lo, hi uintptr, ok bool) {
	addr, _, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return 0, 0, false
	}
	a, b, ok := bytes.Cut(addr, []byte("-"))
	if !ok {
		return 0, 0, false
	}
	x, err1 := strconv.ParseUint(string(a), 16, 64)
	y, err2 := strconv.ParseUint(string(b), 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(x), uintptr(y), true
}
