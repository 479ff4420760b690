package strided

import (
	"math"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// ParallelMin is the least number of bytes a goroutine of a bulk operation
// (shmtensor's Fill, CopyFrom, Clone, FromMatrix, WriteTo, Import) is given: work on
// fewer than twice as many bytes runs on the calling goroutine. Starting
// and waiting for a goroutine costs about a microsecond, under 1% of the
// 200 µs or more that 1 MiB takes at memory bandwidth, while below 1 MiB
// the data sits in the caches of the core that has it and splitting
// measured no gain (shmtensor's BenchmarkThreshold, and the threshold rows
// of docs/PERFORMANCE.md). Tests lower it to send small tensors down the
// parallel paths.
var ParallelMin = 1 << 20

// Workers returns how many goroutines should share a bulk operation on n
// bytes: GOMAXPROCS, fewer when the parts would be smaller than ParallelMin.
func Workers(n int) int {
	w := runtime.GOMAXPROCS(0)
	if m := n / ParallelMin; m < w {
		w = m
	}
	return max(w, 1)
}

// ParallelFor splits [0, n) into w contiguous parts whose boundaries are
// multiples of align and calls f on each, the last on the calling
// goroutine, and returns when all are done. The parts are as even as align
// allows; none is empty.
func ParallelFor(n, w, align int, f func(lo, hi int)) {
	units := (n + align - 1) / align
	w = min(w, units)
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	lo := 0
	for i := range w {
		hi := min((units*(i+1)/w)*align, n)
		if i == w-1 {
			f(lo, hi)
			break
		}
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, hi)
		lo = hi
	}
	wg.Wait()
}

// noZeroMin is the least size in bytes MakeNoZero serves without zeroing:
// smaller slices are cheap to clear and may come from the small-object
// allocator, whose alignment is the size class's.
const noZeroMin = 1 << 20

// MakeNoZero returns a slice of n elements for a caller that overwrites
// every one of them before anything reads it. Large slices come from
// memory the runtime has not zeroed: make would clear it first, on one
// goroutine, which costs a Clone of 256 MiB more than half the time of its
// split copy and so undoes the split (BenchmarkBulk/Clone). The standard
// library's one way to that memory is strings.Builder.Grow; should it ever
// zero, this is make again, slower but no less correct. The bytes are
// never read as a string.
func MakeNoZero[T Elem](n int) []T {
	var z T
	size, align := int(unsafe.Sizeof(z)), uintptr(unsafe.Alignof(z))
	if n < noZeroMin/size || n > math.MaxInt/size {
		return make([]T, n)
	}
	var b strings.Builder
	b.Grow(n * size)
	b.WriteByte(0)
	p := unsafe.StringData(b.String())
	if uintptr(unsafe.Pointer(p))%align != 0 || b.Cap() < n*size {
		return make([]T, n) // large objects start on a page: not seen
	}
	return unsafe.Slice((*T)(unsafe.Pointer(p)), n)
}

// ParallelCopy is copy(dst, src) for slices that do not overlap, split
// across goroutines when large.
func ParallelCopy[T Elem](dst, src []T) {
	n := min(len(dst), len(src))
	var z T
	w := Workers(n * int(unsafe.Sizeof(z)))
	// Parts start on 4 KiB boundaries of the element index, so that no two
	// goroutines write the same cache line or (mostly) page.
	ParallelFor(n, w, max(4096/int(unsafe.Sizeof(z)), 1), func(lo, hi int) {
		copy(dst[lo:hi], src[lo:hi])
	})
}

// ParallelFill sets every element of d to v, split across goroutines when
// large.
func ParallelFill[T Elem](d []T, v T) {
	var z T
	w := Workers(len(d) * int(unsafe.Sizeof(z)))
	ParallelFor(len(d), w, max(4096/int(unsafe.Sizeof(z)), 1), func(lo, hi int) {
		fill(d[lo:hi], v)
	})
}

func fill[T Elem](d []T, v T) {
	for i := range d {
		d[i] = v
	}
}

// splitAxis picks the axis of a coalesced layout along which a bulk
// operation is split: the one with the largest destination stride, so each
// goroutine writes a region of its own, with at least two elements. It
// returns -1 if none has.
func splitAxis(shape, dstr []int) int {
	best := -1
	for k, d := range shape {
		if d >= 2 && (best < 0 || abs(dstr[k]) > abs(dstr[best])) {
			best = k
		}
	}
	return best
}

// CopyLayoutPar is CopyLayout split across goroutines when the tensor is
// large: the layouts are cut along one axis (splitAxis) into parts that
// each goroutine copies with CopyLayout. Where that axis is one of the two
// a transposing copy tiles, the cuts fall on whole copyBlock blocks, so
// every goroutine walks the blocks the serial copy would. dst must not
// overlap src and its elements must be distinct (every view's are), so the
// parts write disjoint elements.
func CopyLayoutPar[T Elem](dst []T, doff int, dstr []int, src []T, soff int, sstr []int, shape []int) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	var z T
	w := Workers(n * int(unsafe.Sizeof(z)))
	if w < 2 {
		CopyLayout(dst, doff, dstr, src, soff, sstr, shape)
		return
	}
	nd, cs, st := Coalesce(shape, dstr, sstr)
	sh, ds, ss := cs[:nd], st[0][:nd], st[1][:nd]
	k := splitAxis(sh, ds)
	if k < 0 {
		CopyLayout(dst, doff, dstr, src, soff, sstr, shape)
		return
	}
	align := 1
	if nd > 1 && (k == fastestAxis(sh, ds) || k == fastestAxis(sh, ss)) {
		align = copyBlock
	}
	ParallelFor(sh[k], w, align, func(lo, hi int) {
		var part [MaxDims]int
		copy(part[:], sh)
		part[k] = hi - lo
		CopyLayout(dst, doff+lo*ds[k], ds, src, soff+lo*ss[k], ss, part[:nd])
	})
}

// FillLayoutPar sets every element of the layout (shape, strides) of d at
// off to v, split across goroutines along splitAxis when large.
func FillLayoutPar[T Elem](d []T, off int, shape, strides []int, v T) {
	nd, cs, st := Coalesce(shape, strides)
	sh, s := cs[:nd], st[0][:nd]
	n := 1
	for _, x := range sh {
		n *= x
	}
	var z T
	w := Workers(n * int(unsafe.Sizeof(z)))
	k := splitAxis(sh, s)
	if w < 2 || k < 0 {
		fillLayout(d, off, sh, s, v)
		return
	}
	ParallelFor(sh[k], w, 1, func(lo, hi int) {
		var part [MaxDims]int
		copy(part[:], sh)
		part[k] = hi - lo
		fillLayout(d, off+lo*s[k], part[:nd], s, v)
	})
}

// fillLayout sets every element of a coalesced layout to v, walking runs
// along its fastest axis.
func fillLayout[T Elem](d []T, off int, sh, s []int, v T) {
	if len(sh) == 0 {
		d[off] = v
		return
	}
	inner := fastestAxis(sh, s)
	n, step := sh[inner], s[inner]
	forEachRun(sh, s, s, inner, off, off, func(p, _ int) {
		if step == 1 {
			fill(d[p:p+n], v)
			return
		}
		for range n {
			d[p] = v
			p += step
		}
	})
}
