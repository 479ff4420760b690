package sys

// PSHMNAMLEN is 31 including the leading '/'.
const maxShmNamePlatform = 30

// macOS rounds the size of shm objects up to whole pages, and fstat of one
// reports the permission bits without a file type.
const (
	ShmSizeRounded = true
	ShmNoFileType  = true
)
