package shmtensor

import "sync/atomic"

// liveMappings counts the segment mappings this process holds: one per
// open Segment.
var liveMappings atomic.Int64

// mapHeadroom is how many mappings under vm.max_map_count Create and
// Attach leave to the rest of the process. The Go runtime maps memory as
// the heap grows (64 MiB arenas on 64-bit systems, each one mapping or
// merged with its neighbour) and dies with "fatal error: runtime: out of
// memory" when mmap fails; 1024 mappings cover tens of GiB of heap growth
// and the thread stacks, libraries and files a program maps besides
// segments.
const mapHeadroom = 1024
