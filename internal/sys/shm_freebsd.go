package sys

// FreeBSD shm names are paths of up to MAXPATHLEN bytes.
const maxShmNamePlatform = 1023

// FreeBSD keeps the size ftruncate set and reports shm objects as S_IFREG.
const (
	ShmSizeRounded = false
	ShmNoFileType  = false
)
