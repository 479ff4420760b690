package shmtensor

// FreeBSD shm names are paths of up to MAXPATHLEN bytes.
const maxShmNamePlatform = 1023
