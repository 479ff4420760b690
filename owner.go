package shmtensor

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// checkOwner refuses a file owned by neither the caller nor root.
func checkOwner(f *file) error {
	if f.uid == 0 {
		return nil
	}
	if c := lastEUID.Load(); c != 0 && uint32(c-1) == f.uid {
		return nil
	}
	me, ok := sys.Geteuid()
	if !ok {
		return nil
	}
	lastEUID.Store(int64(me) + 1)
	if f.uid == me {
		return nil
	}
	return fmt.Errorf("%w: owned by %s, not by the caller (%s) or root; use AnyOwner() to map it anyway",
		ErrPermission, describeUID(f.uid), describeUID(me))
}

// lastEUID is the caller's effective uid plus one as last read, 0 before
// the first read. geteuid is a system call, a twentieth of an Attach, and
// the uid seldom changes: it is read again whenever a file's owner is not
// the cached uid, so nothing is refused on a stale uid. What a stale uid
// can let through is a file of the uid the process had before a seteuid,
// which is a uid the process ran as, not a stranger's.
var lastEUID atomic.Int64

// describeUID returns "uid 65534 (nobody)", or "uid 65534" when the user
// database does not name it.
func describeUID(uid uint32) string {
	if name := userName(uid); name != "" {
		return fmt.Sprintf("uid %d (%s)", uid, name)
	}
	return fmt.Sprintf("uid %d", uid)
}

// userName looks uid up in /etc/passwd, only on the error path. os/user is
// not used: with cgo it links the C library's user lookup into every
// program that imports this package.
func userName(uid uint32) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return ""
	}
	defer f.Close()
	want := strconv.FormatUint(uint64(uid), 10)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// name:password:uid:gid:gecos:home:shell
		fields := strings.SplitN(sc.Text(), ":", 4)
		if len(fields) >= 3 && fields[2] == want {
			return fields[0]
		}
	}
	return ""
}
