//go:build !unix

package zarr

// nonBlock is 0 where opening a file never waits for another process.
const nonBlock = 0
