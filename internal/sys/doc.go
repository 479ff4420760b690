// Package sys is shmtensor's operating-system layer: every system call the
// library makes is in this package, one concern to a file. It knows nothing
// of tensors, headers or segment names; it opens, maps, locks, renames,
// watches and copies files, and returns the system's errors as they are
// (syscall.Errno, or an error that wraps one), for the root package to
// translate into its sentinels once, at the public boundary. The exceptions
// are conditions the system has no errno for, reported with the sentinels of
// internal/errs: a platform without the mechanism (errs.ErrNotSupported), a
// directory watched for a name that does not exist (errs.ErrNotExist).
//
// Each concern has a file per platform family and one _other.go file, its
// fallback on every platform the others do not build for: the fallback
// always keeps the concern's contract, by failing with errs.ErrNotSupported
// or by a portable way of doing the same (polling instead of sleeping in the
// kernel). The families: _linux, _bsd (FreeBSD and macOS, told apart in
// _darwin and _freebsd where they differ), _unix (all three).
//
// The contract of each primitive:
//
//   - file: Open never follows a symbolic link, never blocks on a FIFO and
//     never makes a controlling terminal; Fstat and Lstat report the file's
//     type, size, identity (device and inode), owner and time; CreateExclusive
//     makes a new file or fails with EEXIST; UnlinkID removes a name only
//     while it still holds the file with the given identity.
//   - shm: where POSIX shared memory is (a tmpfs directory on Linux, the
//     shm_open namespace on the BSDs), how to open, create and unlink an
//     object there, and how to read one that read(2) cannot.
//   - mmap: Map makes every shared mapping, with the placement Advice, and
//     counts it against vm.max_map_count (maplimit, which MapCounts reports),
//     refusing one that would leave the Go runtime fewer than MapHeadroom
//     mappings; Unmap uncounts it.
//   - space: Allocate reserves a file's pages (ErrNoAllocate where the
//     filesystem cannot); FreeBytes reports the free space for unprivileged
//     users, TotalBytes the size, OnTmpfs whether pages are memory; DirFS
//     all of it and the mount, for a directory; PseudoFS tells a kernel
//     filesystem (procfs, sysfs) that holds no files.
//   - mount: the mounts of /proc/self/mountinfo, and the one holding a file
//     (fstatfs on the BSDs).
//   - cgroup: the memory cgroup of this process, each level's limit, usage
//     and reclaimable file cache as cgroupfs (v1 or v2) reports them, and
//     the free swap; no policy.
//   - rlimit: RLIMIT_NOFILE, RLIMIT_MEMLOCK and the open descriptors.
//   - tmpfile: an unnamed file in a directory (O_TMPFILE) and the link that
//     names it, atomic and exclusive.
//   - rename: RenameNoReplace and Exchange, each atomic, or failing with
//     ErrNoRenameFlags or ErrNoExchange where the system cannot.
//   - lock: whole-file and byte-range locks that belong to the open file
//     description (OFD locks on Linux, flock on the BSDs), so the kernel
//     drops them when their holder dies; Reopen gives a description of its
//     own for each lock. MarkLive holds the shared liveness lock on LiveByte,
//     beyond any data, that TestLock (F_OFD_GETLK) sees from any PID
//     namespace; the BSDs have no such lock (ErrNotSupported).
//   - futex: WaitWord sleeps while a word of shared memory holds a value,
//     until WakeWord (futex(2), _umtx_op(2); elsewhere, polling); SleepWord
//     does the same for a bounded time, without a context.
//   - watch: WatchDir calls a check each time a name in a directory may
//     have changed (inotify, kqueue), or reports ErrNoWatch so the caller
//     polls.
//   - proc: the /proc scans: which processes map which files, how many
//     mappings this process has, the huge pages of a mapping.
//   - copy: copy_file_range(2) and splice(2) between two files, without the
//     bytes passing through user memory.
package sys
