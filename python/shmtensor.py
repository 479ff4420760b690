"""shmtensor channels for Python: a stream of numpy arrays in shared memory.

A channel is one file (in /dev/shm for ``shm://`` names) holding a ring of
slots and a small control area; one producer writes messages into the slots
and any number of subscribers (up to the channel's ``max_subscribers``) read
them where they lie, without copying. Channels made here and channels made
by the Go package github.com/shmtensor/shmtensor are the same thing: either
side can produce for the other. docs/formats.md ("Channels") is the
contract this module implements.

    import numpy as np, shmtensor

    # producer process
    with shmtensor.create_channel("shm://frames", (480, 640), np.uint8) as p:
        for frame in camera():
            a = p.loan()          # a writable view of the next free slot
            a[...] = frame        # fill it in place (or: p.send_array(frame))
            p.send()
    # leaving the with block ends the stream

    # any number of subscriber processes
    with shmtensor.subscribe("shm://frames") as sub:
        for msg in sub:           # ends at the end of the stream
            use(msg.array)        # read-only, zero-copy view of the slot

Crashes are survivable because liveness is a kernel fact: every participant
holds open-file-description locks (``F_OFD_SETLK``) on bytes beyond the end
of the file, which the kernel drops when the holder dies. A subscriber
killed in the middle of a message no longer holds back a ``"block"``
producer; a subscriber whose producer died gets every message sent, then
:class:`ProducerGone`; a new producer can take over with
:func:`attach_producer`.

Only numpy and the standard library are used. Linux only (open file
description locks and futexes), 64-bit x86 or ARM, little-endian.

Caveats: a :class:`Producer` or :class:`Subscriber` is to be used by one
thread at a time. Locks belong to the open file description, which a
``fork()`` shares: a process forked (``multiprocessing`` with the ``fork``
start method) after opening a channel shares the parent's producer or
subscriber role; open channels after forking, or use the ``spawn`` method.
"""

import collections
import ctypes
import errno
import fcntl
import io
import mmap
import os
import platform
import secrets
import struct
import sys
import threading
import time

import numpy as np

__all__ = [
    "create_channel",
    "attach_producer",
    "subscribe",
    "stat_channel",
    "Producer",
    "Subscriber",
    "Message",
    "EndOfStream",
    "ProducerGone",
    "ProducerAlive",
    "Overrun",
    "TooManySubscribers",
    "NotAChannel",
]

# ---------------------------------------------------------------------------
# Errors


class EndOfStream(EOFError):
    """The producer closed the stream and every message was delivered."""


class ProducerGone(ConnectionError):
    """No producer holds the channel and every message sent was delivered.

    The producer died (or dropped the channel without closing it). The
    subscription stays usable: if a new producer takes over with
    :func:`attach_producer`, ``next()`` returns its messages.
    """


class ProducerAlive(RuntimeError):
    """attach_producer: a live producer holds the channel."""


class Overrun(RuntimeError):
    """release(), "latest" policy: the producer overwrote the message while
    it was held, so what was read from it may be a mix of two messages."""


class TooManySubscribers(RuntimeError):
    """subscribe: every entry of the channel's subscriber table is taken."""


class NotAChannel(ValueError):
    """The file is not a channel, or its header or control area is corrupt."""


Message = collections.namedtuple("Message", "seq lost array")
Message.__doc__ = """A message delivered by Subscriber.next().

seq: its sequence number (the producer's first message is 0).
lost: messages lost just before it (skipped or overwritten, "latest" policy).
array: a read-only numpy view of the slot, valid until release() or next().
"""

# ---------------------------------------------------------------------------
# Layout (docs/formats.md, "Channels")

PAGE = 4096
DATA_OFFSET = 4096  # the .npy data, i.e. slot 0
NPY_HEADER_LEN = DATA_OFFSET - 10  # the v1.0 header's HEADER_LEN field
MAGIC = b"SHMTCHAN"
VERSION = 1
MAX_SLOTS = 1 << 24
MAX_SUBSCRIBERS = 1024
POLICIES = ("block", "latest")

LIVE_BYTE = 1 << 62  # shared: every process that has the file open
PRODUCER_BYTE = LIVE_BYTE + 64  # exclusive: the producer
JOIN_BYTE = LIVE_BYTE + 65  # exclusive: a subscriber incrementing joins
SUB_BYTE = LIVE_BYTE + 128  # + j, exclusive: the subscriber of entry j

CTRL_FIXED = struct.Struct("<8sIIIIQQQQ")  # magic .. ctrllen, written once
ENTRY_SIZE = 64
STAMPS_OFFSET = 256

_u32 = ctypes.c_uint32
_u64 = ctypes.c_uint64


class _Ctrl(ctypes.Structure):
    """The control area's header, offsets as in the format's table."""

    _fields_ = [
        ("magic", ctypes.c_char * 8),
        ("version", _u32),
        ("policy", _u32),
        ("slots", _u32),
        ("maxsubs", _u32),
        ("msgbytes", _u64),
        ("dataoff", _u64),
        ("ctrloff", _u64),
        ("ctrllen", _u64),
        ("_pad0", _u64),
        ("head", _u64),  # 64
        ("wake", _u32),  # 72
        ("closed", _u32),  # 76
        ("epoch", _u32),  # 80
        ("joins", _u32),  # 84
        ("_pad1", ctypes.c_uint8 * 40),
        ("release", _u32),  # 128
        ("prodwait", _u32),  # 132
    ]


class _Entry(ctypes.Structure):
    """One subscriber entry."""

    _fields_ = [
        ("state", _u32),
        ("pid", _u32),
        ("cursor", _u64),
        ("waiting", _u32),
        ("flags", _u32),
        ("received", _u64),
        ("lost", _u64),
        ("_reserved", ctypes.c_uint8 * 24),
    ]


assert (_Ctrl.head.offset, _Ctrl.wake.offset, _Ctrl.joins.offset) == (64, 72, 84)
assert (_Ctrl.release.offset, _Ctrl.prodwait.offset) == (128, 132)
assert (_Entry.cursor.offset, _Entry.waiting.offset, _Entry.lost.offset) == (8, 16, 32)
assert ctypes.sizeof(_Entry) == ENTRY_SIZE


def _roundup(n, m):
    return (n + m - 1) // m * m


class _Layout:
    """Where everything is in a channel of S slots of M bytes and N entries."""

    __slots__ = ("slots", "maxsubs", "dtype", "shape", "msgbytes", "ctrloff",
                 "ctrllen", "size", "entries_off", "policy")

    def __init__(self, slots, maxsubs, dtype, shape, policy):
        self.slots = slots
        self.maxsubs = maxsubs
        self.dtype = dtype
        self.shape = shape
        self.policy = policy
        n = 1
        for d in shape:
            n *= d
        self.msgbytes = dtype.itemsize * n
        self.ctrloff = _roundup(DATA_OFFSET + slots * self.msgbytes, PAGE)
        self.entries_off = STAMPS_OFFSET + _roundup(8 * slots, 64)
        self.ctrllen = _roundup(self.entries_off + ENTRY_SIZE * maxsubs, PAGE)
        self.size = self.ctrloff + self.ctrllen


# ---------------------------------------------------------------------------
# System interfaces: OFD locks, futexes, memory fences


def _check_platform():
    if not sys.platform.startswith("linux"):
        raise NotImplementedError("shmtensor channels need Linux (open file description locks, futexes)")
    if struct.calcsize("P") != 8 or sys.byteorder != "little" or _SYS_FUTEX is None:
        raise NotImplementedError(
            "shmtensor channels need a 64-bit little-endian x86_64 or aarch64 Python, not %s with %d-bit pointers"
            % (platform.machine(), 8 * struct.calcsize("P")))


def _flock(typ, start):
    # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks)
    return struct.pack("hhqqi", typ, os.SEEK_SET, start, 1, 0)


def _try_lock(fd, start, exclusive=True):
    """Take a lock on byte start without waiting; False if another holds it."""
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _flock(fcntl.F_WRLCK if exclusive else fcntl.F_RDLCK, start))
        return True
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise


def _held_by_other(fd, start):
    """Whether another open file description holds a lock on byte start.

    Returns (held, (l_type, l_start, l_len)) of the conflicting lock.
    """
    r = fcntl.fcntl(fd, fcntl.F_OFD_GETLK, _flock(fcntl.F_WRLCK, start))
    typ, _, lstart, llen, _ = struct.unpack("hhqqi", r)
    return typ != fcntl.F_UNLCK, (typ, lstart, llen)


def _is_held(fd, start):
    return _held_by_other(fd, start)[0]


def _mark_live(fd):
    """Take the shared liveness lock (byte 2**62), as every Go open does.

    Returns False if a deleter (`shmtensor gc`) holds that byte exclusively:
    the caller closes the file and opens the name again. Any other refusal
    (a program's lock to the end of the file) leaves the file unmarked.
    """
    if _try_lock(fd, LIVE_BYTE, exclusive=False):
        return True
    held, (typ, start, length) = _held_by_other(fd, LIVE_BYTE)
    return not (held and typ == fcntl.F_WRLCK and start == LIVE_BYTE and length == 1)


_SYS_FUTEX = {"x86_64": 202, "amd64": 202, "aarch64": 98, "arm64": 98}.get(platform.machine().lower())
_FUTEX_WAIT = 0  # not FUTEX_PRIVATE_FLAG: the word is shared between processes
_FUTEX_WAKE = 1
_INT_MAX = 0x7FFFFFFF

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_syscall.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_int, ctypes.c_uint,
                     ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint]


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _futex_wait(addr, val, timeout, ts):
    """Sleep while the u32 at addr holds val, at most timeout seconds.

    Returns 0 (woken, maybe spuriously), EAGAIN (the value differed),
    ETIMEDOUT or EINTR. ts is a preallocated _Timespec.
    """
    sec = int(timeout)
    ts.tv_sec = sec
    ts.tv_nsec = int((timeout - sec) * 1e9)
    if _syscall(_SYS_FUTEX, addr, _FUTEX_WAIT, val, ctypes.addressof(ts), None, 0) == 0:
        return 0
    e = ctypes.get_errno()
    if e in (errno.EAGAIN, errno.ETIMEDOUT, errno.EINTR):
        return e
    raise OSError(e, "futex wait: " + os.strerror(e))


def _futex_wake(addr):
    """Wake every process sleeping on the u32 at addr."""
    if _syscall(_SYS_FUTEX, addr, _FUTEX_WAKE, _INT_MAX, None, None, 0) < 0:
        e = ctypes.get_errno()
        raise OSError(e, "futex wake: " + os.strerror(e))


def _make_fence():
    """Return a function that is a full memory fence (mfence, dmb ish).

    Python has no atomics, and the protocol has a few places where a store
    must be visible before a later load (Dekker's pattern: a waiter sets
    its flag, then re-checks; a waker stores, then reads the flag), which
    even x86's ordering does not give. The two instructions are written to
    a memfd and mapped executable (a written file page is made coherent
    with the instruction cache when mapped, which ARM needs). If the system
    refuses executable memfds, the fallback is a lock acquire and release:
    a locked read-modify-write on x86 (a full fence there), an
    acquire-release pair elsewhere, where the waits' timeouts bound what a
    missed wake-up costs.
    """
    code = {
        "x86_64": b"\x0f\xae\xf0\xc3",  # mfence; ret
        "amd64": b"\x0f\xae\xf0\xc3",
        "aarch64": b"\xbf\x3b\x03\xd5\xc0\x03\x5f\xd6",  # dmb ish; ret
        "arm64": b"\xbf\x3b\x03\xd5\xc0\x03\x5f\xd6",
    }.get(platform.machine().lower())
    if code is not None and struct.calcsize("P") == 8 and hasattr(os, "memfd_create"):
        try:
            fd = os.memfd_create("shmtensor-fence", os.MFD_CLOEXEC)
            try:
                os.ftruncate(fd, PAGE)
                os.pwrite(fd, code, 0)
                m = mmap.mmap(fd, PAGE, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_EXEC)
            finally:
                os.close(fd)
            addr = np.frombuffer(m, np.uint8).ctypes.data
            f = ctypes.CFUNCTYPE(None)(addr)
            f._shmtensor_map = m  # keeps the code mapped
            f()
            return f
        except (OSError, ValueError):
            pass
    lock = threading.Lock()

    def fence():
        lock.acquire()
        lock.release()

    return fence


_fence = _make_fence()
# A store-store or load-load barrier: x86 keeps those in order (TSO), so
# nothing is needed there; ARM needs the full fence.
_barrier = _fence if platform.machine().lower() in ("aarch64", "arm64") else (lambda: None)

# ---------------------------------------------------------------------------
# Names, element types and the .npy header

_RESERVED = ".shmtensor-"


def _parse_name(name):
    """Map a channel name to a path, as the Go package does.

    "shm://X" or a bare "X" is /dev/shm/X; "file://PATH" is PATH.
    """
    if not isinstance(name, str):
        raise TypeError("channel name must be a str, not %s" % type(name).__name__)
    if "\0" in name:
        raise ValueError("invalid channel name %r: contains a NUL byte" % name)
    if name.startswith("file://"):
        path = name[len("file://"):]
        if not path:
            raise ValueError("invalid channel name %r: empty file path" % name)
        base = os.path.basename(path)
    else:
        if name.startswith("shm://"):
            base = name[len("shm://"):]
        elif "://" in name:
            raise ValueError("invalid channel name %r: unknown scheme (want shm:// or file://)" % name)
        else:
            base = name
        if base in ("", ".", ".."):
            raise ValueError("invalid channel name %r: not a segment name" % name)
        if "/" in base:
            raise ValueError("invalid channel name %r: shm name contains '/' (use file:// for paths)" % name)
        if len(base.encode()) > 255:
            raise ValueError("invalid channel name %r: shm name longer than 255 bytes" % name)
        path = "/dev/shm/" + base
    if base.startswith(_RESERVED):
        raise ValueError("invalid channel name %r: %r is reserved for the package's temporary names" % (name, _RESERVED))
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in base):
        raise ValueError("invalid channel name %r: contains a control character" % name)
    return path


_ITEMSIZES = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8), "c": (8, 16)}


def _element_type(dtype, where, exc=ValueError):
    """Check that dtype is one shmtensor holds; return it little-endian."""
    dt = np.dtype(dtype)
    if dt.fields is not None or dt.subdtype is not None or dt.itemsize not in _ITEMSIZES.get(dt.kind, ()):
        raise exc("%s: element type %s is not one shmtensor holds "
                          "(bool, int8-64, uint8-64, float16/32/64, complex64/128)" % (where, dt))
    if dt.byteorder == ">":
        raise exc("%s: big-endian element type %s (channels are little-endian)" % (where, dt.str))
    return dt.newbyteorder("<") if dt.itemsize > 1 else dt


def _npy_header(dtype, shape):
    """The 4096 bytes of a v1.0 .npy header, as numpy and Go write it."""
    d = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (dtype.str, tuple(int(x) for x in shape))
    if len(d) + 1 > NPY_HEADER_LEN:
        raise ValueError("shape %r has too many dimensions for a channel header" % (shape,))
    h = b"\x93NUMPY\x01\x00" + struct.pack("<H", NPY_HEADER_LEN) + d.encode("latin1")
    return h + b" " * (DATA_OFFSET - 1 - len(h)) + b"\n"


def _read_layout(fd, path):
    """Validate the channel file open at fd against its .npy header and size.

    Every field written by the creator is checked before any is used; a
    file that is not a channel, or whose header and control area disagree,
    raises NotAChannel.
    """
    st = os.fstat(fd)

    def bad(why):
        return NotAChannel("%s is not a shmtensor channel: %s" % (path, why))

    if not (st.st_mode & 0o170000 == 0o100000):
        raise bad("not a regular file")
    size = st.st_size
    if size < DATA_OFFSET:
        raise bad("%d bytes, too short for the .npy header" % size)
    hdr = os.pread(fd, DATA_OFFSET, 0)
    if len(hdr) != DATA_OFFSET or hdr[:6] != b"\x93NUMPY":
        raise bad("no .npy magic")
    f = io.BytesIO(hdr)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dt = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dt = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError("unsupported .npy version %s" % (version,))
    except (ValueError, SyntaxError, TypeError, EOFError) as e:
        raise bad("bad .npy header: %s" % e) from None
    if f.tell() != DATA_OFFSET:
        raise bad("the data starts at byte %d, not %d" % (f.tell(), DATA_OFFSET))
    if fortran:
        raise bad("Fortran order")
    if len(shape) < 1:
        raise bad("a 0-dimensional array has no slots")
    dt = _element_type(dt, path + " is not a shmtensor channel", NotAChannel)
    n = dt.itemsize
    for d in shape[1:]:
        n *= d
    slots = shape[0]
    if not 1 <= slots <= MAX_SLOTS or slots & (slots - 1):
        raise bad("the .npy header's first dimension %d is not a slot count" % slots)
    # The control area lies after the slots; read its fixed fields.
    ctrloff = _roundup(DATA_OFFSET + slots * n, PAGE)
    if size < ctrloff + CTRL_FIXED.size:
        raise bad("no control area after the slots (file of %d bytes)" % size)
    fixed = os.pread(fd, CTRL_FIXED.size, ctrloff)
    magic, ver, policy, s, nsubs, msgbytes, dataoff, coff, clen = CTRL_FIXED.unpack(fixed)
    if magic != MAGIC:
        raise bad("no channel magic at byte %d" % ctrloff)
    if ver != VERSION:
        raise bad("channel version %d, want %d" % (ver, VERSION))
    if policy >= len(POLICIES):
        raise bad("unknown policy %d" % policy)
    if s != slots:
        raise bad("control area says %d slots, the .npy header %d" % (s, slots))
    if not 1 <= nsubs <= MAX_SUBSCRIBERS:
        raise bad("%d subscriber entries (1 to %d allowed)" % (nsubs, MAX_SUBSCRIBERS))
    lay = _Layout(slots, nsubs, dt, tuple(shape[1:]), POLICIES[policy])
    if msgbytes != lay.msgbytes:
        raise bad("message size %d, the .npy header gives %d" % (msgbytes, lay.msgbytes))
    if dataoff != DATA_OFFSET:
        raise bad("data offset %d, want %d" % (dataoff, DATA_OFFSET))
    if coff != lay.ctrloff:
        raise bad("control offset %d, want %d" % (coff, lay.ctrloff))
    if clen != lay.ctrllen:
        raise bad("control length %d, want %d" % (clen, lay.ctrllen))
    if size != lay.size:
        raise bad("file of %d bytes, the layout needs exactly %d" % (size, lay.size))
    return lay


def _open(path, flags):
    """Open path and take the liveness lock; waits out a gc deleting it."""
    deadline = time.monotonic() + 1.0
    while True:
        fd = os.open(path, flags | os.O_CLOEXEC)
        try:
            if _mark_live(fd) or time.monotonic() > deadline:
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        time.sleep(0.001)


def _map(fd, length, offset=0, writable=True):
    if length == 0:
        return None
    prot = mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0)
    return mmap.mmap(fd, length, flags=mmap.MAP_SHARED, prot=prot, offset=offset)


def _ring(buf, lay):
    """The (S, *shape) array over the slots of buf, a mapping from byte 0."""
    count = lay.slots * lay.msgbytes // lay.dtype.itemsize
    if count == 0:
        a = np.zeros((lay.slots,) + lay.shape, lay.dtype)
    else:
        a = np.frombuffer(buf, lay.dtype, count, DATA_OFFSET).reshape((lay.slots,) + lay.shape)
    return a


class _Views:
    """Slot views made on demand, for rings too long to list."""

    __slots__ = ("ring",)

    def __init__(self, ring):
        self.ring = ring

    def __getitem__(self, i):
        return self.ring[i, ...]


def _close_map(m):
    if m is not None:
        try:
            m.close()
        except BufferError:
            pass  # arrays handed out still view it: unmapped when they go


# ---------------------------------------------------------------------------
# The channel object both roles share


class _Channel:
    # Defaults that closed objects fall back on, once their views are dropped.
    _fd = -1
    _mm = None
    _mm_ctrl = None
    _loan = None
    _held = -1
    _subs = ()

    def _setup(self, name, path, fd, lay, data_writable):
        # self._fd is set last: an object whose setup failed does not own
        # (nor close) the descriptor, which the caller closes.
        self.name = name
        self.path = path
        self._lay = lay
        self._S = lay.slots
        self._mask = lay.slots - 1
        self._block = lay.policy == "block"
        self._mm = _map(fd, lay.ctrloff, 0, data_writable)
        self._mm_ctrl = _map(fd, lay.ctrllen, lay.ctrloff, True)
        c = self._mm_ctrl
        self._ctrl = _Ctrl.from_buffer(c, 0)
        self._stamps = (_u64 * lay.slots).from_buffer(c, STAMPS_OFFSET)
        self._entries = list((_Entry * lay.maxsubs).from_buffer(c, lay.entries_off))
        base = ctypes.addressof(self._ctrl)
        self._wake_addr = base + _Ctrl.wake.offset
        self._release_addr = base + _Ctrl.release.offset
        self._ts = _Timespec()
        self._ring = _ring(self._mm, lay)
        if not data_writable:
            self._ring.flags.writeable = False
        # One view per slot, made once (a message costs no allocation);
        # a huge ring makes them on demand.
        self._views = [self._ring[i, ...] for i in range(lay.slots)] if lay.slots <= 1 << 16 else _Views(self._ring)
        self._fd = fd

    @property
    def shape(self):
        """The shape of one message."""
        return self._lay.shape

    @property
    def dtype(self):
        """The element type."""
        return self._lay.dtype

    @property
    def slots(self):
        """The ring's number of slots, S."""
        return self._S

    @property
    def max_subscribers(self):
        """The subscriber table's number of entries, N."""
        return self._lay.maxsubs

    @property
    def policy(self):
        """"block" (the producer waits for the slowest subscriber) or "latest"."""
        return self._lay.policy

    @property
    def ring(self):
        """The (slots, *shape) array over the whole ring, in the mapping."""
        self._check_open()
        return self._ring

    @property
    def closed(self):
        """Whether close() was called on this object."""
        return self._fd < 0

    def _check_open(self):
        if self._fd < 0:
            raise ValueError("operation on a closed %s of %r" % (type(self).__name__, self.name))

    def _release_resources(self):
        fd, self._fd = self._fd, -1
        for k in ("_ctrl", "_stamps", "_entries", "_ring", "_views", "_subs", "_loan", "_entry"):
            self.__dict__.pop(k, None)
        _close_map(self._mm_ctrl)
        _close_map(self._mm)
        self._mm = self._mm_ctrl = None
        if fd >= 0:
            os.close(fd)  # drops every lock this object held

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            if self._fd >= 0:
                self._abandon()
        except Exception:
            pass

    def __repr__(self):
        return "<%s %r %s%s %s S=%d%s>" % (
            type(self).__name__, self.name, self.dtype, list(self.shape), self.policy, self._S,
            " closed" if self._fd < 0 else "")


# ---------------------------------------------------------------------------
# Producer


class Producer(_Channel):
    """The one process that sends messages on a channel.

    Made by :func:`create_channel` or :func:`attach_producer`. Send by
    loaning the next slot, filling it in place and publishing it::

        a = p.loan()        # writable view of the next slot
        a[...] = data
        p.send()

    or ``p.send_array(data)``, which does the three. ``close()`` ends the
    stream: subscribers get :class:`EndOfStream` once they have read
    everything. A producer dropped without ``close()`` (or killed) leaves
    the stream open and its subscribers get :class:`ProducerGone`.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("make a Producer with create_channel() or attach_producer()")

    @classmethod
    def _new(cls, name, path, fd, lay):
        self = object.__new__(cls)
        self._setup(name, path, fd, lay, True)
        self._head = self._ctrl.head
        self._wake = self._ctrl.wake
        self._loan = None
        self._subs = []  # [entry index, entry, state] of the live subscribers
        self._joins_seen = None  # joins at the last scan of the table
        self._room_until = 0  # messages below this have room (block policy)
        return self

    @property
    def sent(self):
        """Messages sent so far (the next message's sequence number)."""
        return self._head

    @property
    def epoch(self):
        """How many producers have taken the channel, this one included."""
        self._check_open()
        return self._ctrl.epoch

    def loan(self, timeout=None):
        """Return a writable numpy view of the slot of the next message.

        In the "block" policy this waits until every live subscriber has
        released the message that slot held (subscribers that died are
        skipped); timeout (seconds, None for ever) bounds the wait, raising
        TimeoutError. Calling loan() again before send() returns the same
        view. The view stays valid after send(), but writing to it then
        changes a published message.
        """
        a = self._loan
        if a is not None:
            return a
        if self._fd < 0:
            self._check_open()
        q = self._head
        if self._block and q >= self._S:
            if self._ctrl.joins != self._joins_seen:
                self._rescan()
            if q >= self._room_until:
                self._wait_room(q, timeout)
        i = q & self._mask
        self._stamps[i] = 2 * q + 1  # slot i is being written
        _barrier()  # the data's stores stay after the stamp's
        a = self._loan = self._views[i]
        return a

    def send(self):
        """Publish the loaned slot as the next message and wake subscribers."""
        if self._loan is None:
            self._check_open()
            raise RuntimeError("send() without loan()")
        q = self._head
        ctrl = self._ctrl
        _barrier()  # the data before the stamp
        self._stamps[q & self._mask] = 2 * q + 2
        _barrier()  # the stamp before head
        q += 1
        ctrl.head = q
        self._head = q
        self._loan = None
        self._wake = w = (self._wake + 1) & 0xFFFFFFFF
        ctrl.wake = w
        _fence()  # head and wake before reading the waiting flags
        if ctrl.joins != self._joins_seen:
            self._rescan()
        for s in self._subs:
            if s[1].waiting:
                _futex_wake(self._wake_addr)
                break

    def send_array(self, arr, timeout=None):
        """Copy arr into the next slot and send it (loan, copy, send).

        arr is anything numpy can copy into a message's shape and dtype
        (same_kind casting, broadcasting allowed).
        """
        a = self.loan(timeout)
        try:
            np.copyto(a, arr, casting="same_kind")
        except BaseException:
            # Nothing was published; the slot is loaned again next time.
            raise
        self.send()

    def _abandon(self):
        # Dropped without close(): the stream stays open, as after a crash;
        # subscribers see ProducerGone and another producer may take over.
        self._release_resources()

    def close(self):
        """End the stream, wake every subscriber and release the channel.

        Subscribers read what was sent, then get EndOfStream. A message
        loaned and not sent is dropped. Idempotent.
        """
        if self._fd < 0:
            return
        ctrl = self._ctrl
        self._loan = None
        _barrier()
        ctrl.closed = 1
        _barrier()
        self._wake = (self._wake + 1) & 0xFFFFFFFF
        ctrl.wake = self._wake
        _fence()
        _futex_wake(self._wake_addr)
        self._release_resources()

    # The block policy's wait for room.

    def _rescan(self):
        """Find the live subscribers: active entries whose byte is locked."""
        self._joins_seen = self._ctrl.joins
        _barrier()
        subs = []
        fd = self._fd
        for j, e in enumerate(self._entries):
            st = e.state
            if st & 1 and _is_held(fd, SUB_BYTE + j):
                subs.append([j, e, st])
        self._subs = subs
        self._room_until = 0

    def _laggards(self, q):
        """The live subscribers still holding message q - S or older.

        With none, records up to which message there is room.
        """
        lim = q - self._S
        lag = None
        low = None
        gone = None
        for s in self._subs:
            e = s[1]
            if e.state != s[2]:  # left (or retaken: joins changed, rescanned next)
                gone = gone or []
                gone.append(s)
                continue
            c = e.cursor
            if c <= lim:
                lag = lag or []
                lag.append(s)
            elif low is None or c < low:
                low = c
        if gone:
            for s in gone:
                self._subs.remove(s)
        if lag is None:
            self._room_until = (low + self._S) if low is not None else 1 << 64
        return lag

    def _drop_dead(self, lag):
        fd = self._fd
        for s in lag:
            if not _is_held(fd, SUB_BYTE + s[0]):
                self._subs.remove(s)

    def _wait_room(self, q, timeout):
        lag = self._laggards(q)
        if lag is None:
            return
        ctrl = self._ctrl
        now = time.monotonic()
        deadline = None if timeout is None else now + timeout
        test_at = now + 0.005  # when to test the laggards' locks next
        ctrl.prodwait = 1
        try:
            while True:
                _fence()  # prodwait before the cursors
                r = ctrl.release
                if ctrl.joins != self._joins_seen:
                    self._rescan()
                lag = self._laggards(q)
                if lag is None:
                    return
                wait = 0.005
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self._drop_dead(lag)
                        if self._laggards(q) is None:
                            return
                        raise TimeoutError("channel %r: no free slot in %gs (a subscriber holds message %d)"
                                           % (self.name, timeout, q - self._S))
                    wait = min(wait, left)
                _futex_wait(self._release_addr, r, wait, self._ts)
                now = time.monotonic()
                if now >= test_at:  # every 5 ms, however often others released
                    self._drop_dead(lag)
                    test_at = now + 0.005
        finally:
            ctrl.prodwait = 0


def default_slots(message_bytes):
    """The ring length a channel gets without slots=, as Go's DefaultSlots:
    about 1 MiB of messages, 16 slots for 64 KiB and more, up to 1024."""
    s = 16
    while s < 1024 and 2 * s * message_bytes <= 1 << 20:
        s *= 2
    return s


def create_channel(name, shape, dtype, slots=None, max_subscribers=8, policy="block", mode=0o600):
    """Create a channel and return its Producer.

    name: "shm://NAME" (or a bare NAME) for /dev/shm/NAME, "file://PATH"
    for a file anywhere. shape and dtype: those of one message. slots: the
    ring's length S, a power of two (1 to 2**24); by default about 1 MiB of
    messages (default_slots). max_subscribers: entries
    of the subscriber table (1 to 1024). policy: "block" (the producer
    waits for the slowest live subscriber; nothing is lost) or "latest"
    (the producer never waits; slow subscribers lose messages). mode: the
    file's permission bits, exactly (the umask does not apply).

    The channel is created complete and atomically: an unnamed file is
    filled, locked and only then linked under the name. If the name exists,
    FileExistsError is raised and the existing file is left untouched.
    """
    _check_platform()
    path = _parse_name(name)
    dt = _element_type(dtype, "create_channel(%r)" % name)
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError("create_channel(%r): negative dimension in shape %r" % (name, shape))
    if slots is None:
        slots = default_slots(dt.itemsize * int(np.prod(shape, dtype=np.int64)))
    if not isinstance(slots, (int, np.integer)) or not 1 <= slots <= MAX_SLOTS or slots & (slots - 1):
        raise ValueError("create_channel(%r): slots=%r, want a power of two from 1 to 2**24" % (name, slots))
    if not isinstance(max_subscribers, (int, np.integer)) or not 1 <= max_subscribers <= MAX_SUBSCRIBERS:
        raise ValueError("create_channel(%r): max_subscribers=%r, want 1 to %d" % (name, max_subscribers, MAX_SUBSCRIBERS))
    if policy not in POLICIES:
        raise ValueError("create_channel(%r): policy=%r, want 'block' or 'latest'" % (name, policy))
    lay = _Layout(int(slots), int(max_subscribers), dt, shape, policy)
    header = _npy_header(dt, (lay.slots,) + shape)

    fd, tmp = _open_unnamed(os.path.dirname(path) or ".", mode)
    try:
        os.ftruncate(fd, lay.size)
        _reserve(fd, lay.size, path)
        os.pwrite(fd, header, 0)
        ctrl = CTRL_FIXED.pack(MAGIC, VERSION, POLICIES.index(policy), lay.slots, lay.maxsubs,
                               lay.msgbytes, DATA_OFFSET, lay.ctrloff, lay.ctrllen)
        os.pwrite(fd, ctrl, lay.ctrloff)
        os.pwrite(fd, struct.pack("<I", 1), lay.ctrloff + _Ctrl.epoch.offset)
        # Nobody else can see the file yet: these cannot be refused.
        _try_lock(fd, LIVE_BYTE, exclusive=False)
        _try_lock(fd, PRODUCER_BYTE)
        try:
            if tmp is None:
                _link_fd(fd, path)
            else:
                os.link(tmp, path)
        except FileExistsError:
            raise FileExistsError(errno.EEXIST, "create_channel(%r): the name exists" % name, path) from None
        p = Producer._new(name, path, fd, lay)
    except BaseException:
        os.close(fd)
        raise
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return p


def _link_fd(fd, path):
    """Give the unnamed file open at fd the name path (linkat(2) of
    /proc/self/fd/N with AT_SYMLINK_FOLLOW); FileExistsError if taken.

    os.link() with its defaults calls link(2), which does not follow the
    /proc symlink; a directory descriptor makes it call linkat(2).
    """
    d = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.link(str(fd), path, src_dir_fd=d, follow_symlinks=True)
    finally:
        os.close(d)


def _open_unnamed(directory, mode):
    """Open an unnamed file (O_TMPFILE) in directory with exactly mode.

    Returns (fd, None); where the filesystem has no O_TMPFILE, (fd, tmp)
    with tmp a hidden temporary name, which the caller links and removes.
    """
    try:
        fd = os.open(directory, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
        try:
            os.fchmod(fd, mode)  # exactly: the open's mode went through the umask
            return fd, None
        except FileNotFoundError:  # some FUSE filesystems
            os.close(fd)
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT) or not os.path.isdir(directory):
            raise
    tmp = os.path.join(directory, ".shmtensor-creating-" + secrets.token_hex(8))
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    return fd, tmp


def _reserve(fd, size, path):
    """Reserve the file's pages, so that a full tmpfs fails here, not as SIGBUS later."""
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, "no space for a channel of %d bytes" % size, path) from None
        if e.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            raise


def attach_producer(name):
    """Take over a channel whose producer died (or closed) and return a Producer.

    Raises ProducerAlive while a producer holds the channel. The new
    producer re-opens the stream (closed is cleared), increments the epoch
    and goes on from the next sequence number; a message the dead producer
    was writing and had not sent is written again.
    """
    _check_platform()
    path = _parse_name(name)
    fd = _open(path, os.O_RDWR)
    try:
        lay = _read_layout(fd, path)
        if not _try_lock(fd, PRODUCER_BYTE):
            raise ProducerAlive("attach_producer(%r): a live producer holds the channel" % name)
        p = Producer._new(name, path, fd, lay)
    except BaseException:
        os.close(fd)
        raise
    ctrl = p._ctrl
    ctrl.prodwait = 0
    ctrl.closed = 0
    ctrl.epoch = (ctrl.epoch + 1) & 0xFFFFFFFF
    _fence()
    return p


# ---------------------------------------------------------------------------
# Subscriber


class Subscriber(_Channel):
    """One reader of a channel, made by :func:`subscribe`.

    ``next()`` returns the next :class:`Message`, whose array is a
    read-only view of the slot (no copy). The message is held until
    ``release()`` or the next ``next()``; in the "block" policy the
    producer does not overwrite it until then, so release promptly.
    Iterating yields messages until the end of the stream.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("make a Subscriber with subscribe()")

    @classmethod
    def _new(cls, name, path, fd, lay):
        self = object.__new__(cls)
        self._setup(name, path, fd, lay, False)
        self._held = -1
        self._lost_gap = 0
        return self

    @property
    def entry(self):
        """The index of this subscriber's entry in the table."""
        return self._j

    @property
    def received(self):
        """Messages received intact: those next() returned, less those
        found overwritten at their release ("latest" policy)."""
        return self._received

    @property
    def lost(self):
        """Messages this subscriber lost ("latest" policy)."""
        return self._lost

    @property
    def cursor(self):
        """The held message's sequence number, else the next one wanted."""
        return self._cursor

    def _join(self, newest):
        fd = self._fd
        for j in range(self._lay.maxsubs):
            if _try_lock(fd, SUB_BYTE + j):
                break
        else:
            raise TooManySubscribers("subscribe(%r): all %d subscriber entries are taken"
                                     % (self.name, self._lay.maxsubs))
        self._j = j
        e = self._entry = self._entries[j]
        ctrl = self._ctrl
        gen = ((e.state >> 1) + 1) & 0x7FFFFFFF
        e.pid = os.getpid() & 0xFFFFFFFF
        e.flags = 1 if newest else 0
        e.received = 0
        e.lost = 0
        e.waiting = 0
        h = ctrl.head
        c = max(0, h - 1) if newest else max(0, h + 1 - self._S)
        e.cursor = c
        _barrier()
        e.state = gen << 1 | 1
        _barrier()
        fcntl.fcntl(fd, fcntl.F_OFD_SETLKW, _flock(fcntl.F_WRLCK, JOIN_BYTE))
        try:
            ctrl.joins = (ctrl.joins + 1) & 0xFFFFFFFF
        finally:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _flock(fcntl.F_UNLCK, JOIN_BYTE))
        _fence()  # joins before reading head again
        h = ctrl.head
        if h + 1 - self._S > c:  # a producer that had not seen us may have overwritten those
            c = h + 1 - self._S
            e.cursor = c
        self._cursor = c
        self._received = 0
        self._lost = 0

    def next(self, timeout=None):
        """Return the next Message, releasing the one held.

        Waits for the producer up to timeout seconds (None: for ever; 0:
        do not wait). Raises EndOfStream once the producer closed the
        stream and every message was delivered, ProducerGone when no
        producer lives and every message sent was delivered, TimeoutError
        when timeout passes with no message.
        """
        if self._held >= 0:
            if self._advance():
                self._overrun()
        elif self._fd < 0:
            self._check_open()
        ctrl = self._ctrl
        stamps = self._stamps
        S = self._S
        c = self._cursor
        e = self._entry
        deadline = None
        while True:
            h = ctrl.head
            if h > c:
                _barrier()  # head before the slot's stamp and data
                if self._block:
                    break
                # latest: skip to h - S, the oldest message that may still
                # be whole, as Go does; its stamp says whether the producer
                # is writing message h over it.
                low = h - S
                if c < low:
                    self._lose(low - c)
                    c = low
                if stamps[c & self._mask] == 2 * c + 2:
                    break
                self._lose(1)  # overwritten, or being overwritten
                c += 1
                continue
            if ctrl.closed:
                _barrier()
                if ctrl.head > c:
                    continue
                self._set_cursor(c)
                raise EndOfStream("channel %r: end of stream after %d messages" % (self.name, c))
            # Sleep on wake for a slice at most, after testing the
            # producer's lock (before each sleep, as Go does).
            if deadline is None:
                deadline = float("inf") if timeout is None else time.monotonic() + timeout
            e.waiting = 1
            try:
                _fence()  # waiting before head and closed
                w = ctrl.wake
                if ctrl.head > c or ctrl.closed:
                    continue
                if not _is_held(self._fd, PRODUCER_BYTE):
                    _barrier()
                    if ctrl.head > c or ctrl.closed:
                        continue  # sent (or closed) before it died
                    self._set_cursor(c)
                    raise ProducerGone("channel %r: no producer, and all %d messages sent were delivered"
                                       % (self.name, c))
                left = deadline - time.monotonic()
                if left <= 0:
                    self._set_cursor(c)
                    raise TimeoutError("channel %r: no message in %gs" % (self.name, timeout))
                _futex_wait(self._wake_addr, w, min(0.02, left), self._ts)
            finally:
                e.waiting = 0
        # Deliver message c.
        if c != self._cursor:
            self._set_cursor(c)
        self._held = c
        self._received += 1
        e.received = self._received
        lost, self._lost_gap = self._lost_gap, 0
        return Message(c, lost, self._views[c & self._mask])

    def _overrun(self):
        # The held message was overwritten: not received after all, and
        # counted lost (in the next message's lost too), as Go counts it.
        self._received -= 1
        self._entry.received = self._received
        self._lose(1)

    def _lose(self, n):
        self._lost += n
        self._lost_gap += n
        self._entry.lost = self._lost

    def _set_cursor(self, c):
        self._cursor = c
        self._entry.cursor = c

    def _advance(self):
        """Move past the held message; return whether it was overwritten."""
        c = self._held
        self._held = -1
        overrun = False
        if not self._block:
            _barrier()  # the reads of the data before the stamp's
            overrun = self._stamps[c & self._mask] != 2 * c + 2
        _barrier()  # the reads of the data before the cursor's store
        self._cursor = c + 1
        self._entry.cursor = c + 1
        _fence()  # the cursor before reading prodwait
        ctrl = self._ctrl
        if ctrl.prodwait:
            ctrl.release = (ctrl.release + 1) & 0xFFFFFFFF
            _futex_wake(self._release_addr)
        return overrun

    def release(self):
        """Let go of the held message (no-op when none is held).

        In the "latest" policy raises Overrun if the producer overwrote
        the message while it was held: what was read may be a mix. The
        message then counts as lost, not received (also in the next
        message's lost). next() releases the held message the same way,
        counting an overrun without raising: call release() first to know.
        """
        if self._held < 0:
            return
        c = self._held
        if self._advance():
            self._overrun()
            raise Overrun("channel %r: message %d was overwritten while held" % (self.name, c))

    def close(self):
        """Leave the channel: free the entry, wake the producer, unmap. Idempotent."""
        if self._fd < 0:
            return
        e = self.__dict__.get("_entry")  # None if the join failed
        self._held = -1
        try:
            if e is not None:
                _barrier()
                e.state = e.state & ~1
                _fence()
                ctrl = self._ctrl
                if ctrl.prodwait:
                    ctrl.release = (ctrl.release + 1) & 0xFFFFFFFF
                    _futex_wake(self._release_addr)
        finally:
            self._release_resources()

    _abandon = close

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return self.next()
        except EndOfStream:
            raise StopIteration from None


def subscribe(name, start="oldest"):
    """Join a channel and return a Subscriber.

    start: "oldest" (the oldest message still in the ring) or "newest"
    (the most recent message sent). Raises TooManySubscribers when the
    table is full, NotAChannel (a ValueError) for a file that is not a
    channel, FileNotFoundError when the name does not exist.
    """
    _check_platform()
    if start not in ("oldest", "newest"):
        raise ValueError("subscribe(%r): start=%r, want 'oldest' or 'newest'" % (name, start))
    path = _parse_name(name)
    fd = _open(path, os.O_RDWR)
    try:
        lay = _read_layout(fd, path)
        s = Subscriber._new(name, path, fd, lay)
    except BaseException:
        os.close(fd)
        raise
    try:
        s._join(start == "newest")
    except BaseException:
        s._release_resources()
        raise
    return s


def stat_channel(name):
    """Describe a channel: a dict of its layout, its stream and its subscribers.

    Keys: name, path, dtype, shape (of a message), slots, max_subscribers,
    policy, message_bytes, size, sent, closed, producer_alive, epoch,
    subscribers: a list of dicts (entry, pid, cursor, lag, received, lost,
    alive, from_newest) for the active entries.
    """
    _check_platform()
    path = _parse_name(name)
    fd = _open(path, os.O_RDONLY)
    try:
        lay = _read_layout(fd, path)
        ctrl = os.pread(fd, lay.ctrllen, lay.ctrloff)
        head, _wake, closed, epoch = struct.unpack_from("<QIII", ctrl, _Ctrl.head.offset)
        subs = []
        for j in range(lay.maxsubs):
            state, pid, cursor, _waiting, flags, received, lost = struct.unpack_from(
                "<IIQIIQQ", ctrl, lay.entries_off + ENTRY_SIZE * j)
            if state & 1:
                subs.append({
                    "entry": j, "pid": pid, "cursor": cursor, "lag": max(0, head - cursor),
                    "received": received, "lost": lost, "alive": _is_held(fd, SUB_BYTE + j),
                    "from_newest": bool(flags & 1),
                })
        return {
            "name": name, "path": path, "dtype": lay.dtype, "shape": lay.shape, "slots": lay.slots,
            "max_subscribers": lay.maxsubs, "policy": lay.policy, "message_bytes": lay.msgbytes,
            "size": lay.size, "sent": head, "closed": bool(closed), "epoch": epoch,
            "producer_alive": _is_held(fd, PRODUCER_BYTE), "subscribers": subs,
        }
    finally:
        os.close(fd)
