package shmtensor

// PSHMNAMLEN is 31 including the leading '/'.
const maxShmNamePlatform = 30
