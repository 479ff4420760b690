package sys

import "errors"

// Advice is what a mapping asks of the kernel about its pages.
type Advice uint8

const (
	// Populate faults every page in with the mapping.
	Populate Advice = 1 << iota
	// Huge asks for transparent huge pages (madvise MADV_HUGEPAGE).
	Huge
)

// ErrNoPopulate reports a kernel that cannot populate a mapping for
// writing (MADV_POPULATE_WRITE, Linux 5.14; no other system).
var ErrNoPopulate = errors.New("populating a mapping for writing not supported")
