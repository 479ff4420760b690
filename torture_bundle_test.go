//go:build torture && linux

package shmtensor

// Part of the adversarial campaign (torture_test.go): a bundle replaced
// under reader processes, at length (bundle_replace_process_test.go runs
// it briefly in the normal tests).

import "testing"

// TestTortureBundleReplaceUnderReaders: 8 reader processes attach, read
// every element of every tensor of a bundle of 10 element types and close,
// over and over, while it is replaced by 300 versions of about 5 MiB
// (short: 60 of 512 KiB); every 10 versions (short: 3) the parent waits
// until each reader has read the latest. Asserted: 0 mixed reads.
func TestTortureBundleReplaceUnderReaders(t *testing.T) {
	st := runBundleReplace(t, 8, scale(300, 60), scale(10, 3), scale(1<<17, 1<<14))
	result(t, "readers", st.readers, "versions", st.versions, "bundle_bytes", st.bytes,
		"reads", st.reads, "mixed_reads", st.mixed, "versions_seen_per_reader_min", st.minSeen, "max", st.maxSeen)
}
