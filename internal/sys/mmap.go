package sys

import "sync/atomic"

// The flags of Msync, msync(2)'s.
const (
	SyncAsync = 1 << iota
	SyncSync
	SyncInvalidate
)

// liveMappings counts the mappings Map made and Unmap has not undone.
var liveMappings atomic.Int64

// Mappings returns how many mappings Map made that are still mapped.
func Mappings() int64 { return liveMappings.Load() }

// MapHeadroom is how many mappings under vm.max_map_count Map leaves to the
// rest of the process. The Go runtime maps memory as the heap grows (64 MiB
// arenas on 64-bit systems, each one mapping or merged with its neighbour)
// and dies with "fatal error: runtime: out of memory" when mmap fails; 1024
// mappings cover tens of GiB of heap growth and the thread stacks,
// libraries and files a program maps besides segments.
const MapHeadroom = 1024
