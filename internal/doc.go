// Package internal holds the layers below the shmtensor package, the way
// os sits on internal/poll and internal/syscall/unix. The rule, checked by
// TestLayers in the root package:
//
//   - Nothing under internal/ imports the root package: the layers know
//     nothing of Tensor, Segment or segment names, and return raw errors
//     (or internal/errs sentinels) that the root wraps once, in its *Error.
//   - internal/errs imports only the standard library; it declares the
//     sentinels the root re-exports.
//   - internal/sys is every system call: it imports the standard library,
//     golang.org/x/sys/unix and internal/errs, nothing else of the module.
//   - internal/strided (shape and stride arithmetic, the strided copy and
//     fill kernels, the parallel split) imports the standard library and
//     internal/errs.
//   - internal/codec (the .npy and SharedArray headers, the dtype table)
//     imports the standard library, internal/errs and internal/strided.
//   - internal/nprint and internal/units format numbers and sizes and import
//     only the standard library; internal/numpytest runs numpy for tests;
//     internal/floor holds the system-call floors the benchmarks compare
//     against (standard library and x/sys only); internal/testenv what
//     tests of several packages need of the machine.
//   - The root package imports these; it calls no unix function and makes
//     no raw system call itself.
//   - zarr uses only the root's public API; cmd/shmtensor (with its own
//     internal packages, serve among them) and the bench module sit on top.
package internal
