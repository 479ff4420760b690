"""Self-test of shmtensor.py's channels: python3 python/test_shmtensor.py

Producers and subscribers run in separate processes (script files run with
this interpreter) and synchronise on the lines they print, never on sleeps.
Every channel has a unique name (pid and random) and its file is removed
when the test ends, pass or fail.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import shmtensor  # noqa: E402

# The children's script. A message is N float64: its sequence number, a
# deterministic function of it, and the sum of the rest as a checksum.
CHILD = textwrap.dedent("""
    import json, os, sys, time
    sys.path.insert(0, sys.argv[1])
    import numpy as np, shmtensor

    N = 64

    def fill(a, seq):
        a[0] = seq
        a[1:-1] = np.arange(1, N - 1) * (seq % 97 + 1)
        a[-1] = a[:-1].sum()

    def valid(a):
        return a[-1] == a[:-1].sum() and a[1] == a[0] % 97 + 1

    def say(*words):
        print(*words, flush=True)

    role, name = sys.argv[2], sys.argv[3]
    args = sys.argv[4:]

    if role == "produce":
        # produce POLICY SLOTS COUNT END [PAUSE]: create, wait for "go",
        # send COUNT (after PAUSE of them, say "paused" and wait for a line),
        # then END: "close", "hold" (sleep until killed) or "hold-loan"
        # (also loan the next slot and scribble on it).
        policy, slots, count, end = args[0], int(args[1]), int(args[2]), args[3]
        pause = int(args[4]) if len(args) > 4 else -1
        p = shmtensor.create_channel(name, (N,), np.float64, slots=slots, policy=policy)
        say("created")
        sys.stdin.readline()
        for seq in range(count):
            if seq == pause:
                say("paused")
                sys.stdin.readline()
            fill(p.loan(), seq)
            p.send()
        if end == "close":
            p.close()
            say("sent", count)
            sys.exit(0)
        if end == "hold-loan":
            p.loan()[:] = -1
        say("sent", count)
        sys.stdin.readline()
        time.sleep(3600)

    elif role == "receive":
        # receive START DELAY: subscribe, say "joined", read until the end
        # of the stream or the producer's death, checking every message.
        start, delay = args[0], float(args[1])
        sub = shmtensor.subscribe(name, start=start)
        say("joined", sub.entry)
        seqs, bad, overruns = [], 0, 0
        end = "eos"
        while True:
            try:
                m = sub.next()
            except shmtensor.EndOfStream:
                break
            except shmtensor.ProducerGone:
                end = "gone"
                break
            ok = valid(m.array) and m.array[0] == m.seq
            if delay:
                time.sleep(delay)
            try:
                sub.release()
            except shmtensor.Overrun:
                overruns += 1
                ok = True  # a mix is expected then
            bad += not ok
            seqs.append(m.seq)
        say(json.dumps({"seqs": seqs, "bad": bad, "lost": sub.lost, "received": sub.received,
                        "overruns": overruns, "end": end}))

    elif role == "hold":
        # hold: subscribe, take the first message, say so, never release.
        sub = shmtensor.subscribe(name)
        say("joined", sub.entry)
        m = sub.next()
        say("holding", m.seq)
        time.sleep(3600)

    elif role == "watch":
        # watch: subscribe, take message 0, say its first element, and on
        # each line of input say it again, read from the held view (latest).
        sub = shmtensor.subscribe(name)
        say("joined", sub.entry)
        m = sub.next()
        base = m.array
        while isinstance(base, np.ndarray):
            base = base.base
        if isinstance(base, memoryview):
            base = base.obj  # np.frombuffer's view of the mapping
        say("shares", bool(np.shares_memory(m.array, sub.ring)), m.array.flags.writeable,
            type(base).__name__)
        say("value", float(m.array[0]))
        for line in sys.stdin:
            say("value", float(m.array[0]))
    else:
        sys.exit("unknown role " + role)
""")

SHAPE = (64,)


def fill(a, seq):
    a[0] = seq
    a[1:-1] = np.arange(1, SHAPE[0] - 1) * (seq % 97 + 1)
    a[-1] = a[:-1].sum()


def valid(a):
    return a[-1] == a[:-1].sum() and a[1] == a[0] % 97 + 1


class ChannelTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.script = os.path.join(cls.tmp.name, "child.py")
        with open(cls.script, "w") as f:
            f.write(CHILD)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def unique(self):
        name = "shmtensor-pytest-%d-%s" % (os.getpid(), secrets.token_hex(6))
        self.addCleanup(lambda: os.path.exists("/dev/shm/" + name) and os.unlink("/dev/shm/" + name))
        return name

    def child(self, role, name, *args):
        p = subprocess.Popen([sys.executable, self.script, HERE, role, name] + [str(a) for a in args],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

        def stop():
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdin.close()
            p.stdout.close()

        self.addCleanup(stop)
        return p

    def expect(self, p, word):
        line = p.stdout.readline()
        self.assertTrue(line.startswith(word), "child said %r, want %r" % (line, word))
        return line.split()[1:]

    def tell(self, p, line="go"):
        p.stdin.write(line + "\n")
        p.stdin.flush()

    def result(self, p):
        line = p.stdout.readline()
        self.assertTrue(line, "child died without a result")
        self.assertEqual(p.wait(), 0)
        return json.loads(line)

    def kill(self, p):
        p.send_signal(signal.SIGKILL)
        p.wait()

    # -- Across processes

    def test_block_two_subscribers(self):
        """Block policy: a fast and a slow subscriber each get every message,
        in order, intact, then the end of the stream."""
        name = self.unique()
        count = 300
        prod = self.child("produce", name, "block", 4, count, "close")
        self.expect(prod, "created")
        fast = self.child("receive", name, "oldest", 0)
        slow = self.child("receive", name, "oldest", 0.0005)
        self.expect(fast, "joined")
        self.expect(slow, "joined")
        self.tell(prod)
        for r in (self.result(fast), self.result(slow)):
            self.assertEqual(r["seqs"], list(range(count)))
            self.assertEqual((r["bad"], r["lost"], r["received"], r["end"]), (0, 0, count, "eos"))
        self.expect(prod, "sent")
        self.assertEqual(prod.wait(), 0)

    def test_latest_overrun(self):
        """Latest policy: the producer never waits for a subscriber holding a
        message; releasing it then is Overrun, and the subscriber skips to
        what the ring still holds, counting what it lost."""
        name = self.unique()
        count, slots = 100, 4
        prod = self.child("produce", name, "latest", slots, count, "hold", 1)
        self.expect(prod, "created")
        sub = shmtensor.subscribe(name)
        self.addCleanup(sub.close)
        self.tell(prod)
        self.expect(prod, "paused")  # message 0 sent
        m = sub.next()
        self.assertEqual(m.seq, 0)
        self.tell(prod)
        self.expect(prod, "sent")  # all sent while message 0 is held
        with self.assertRaises(shmtensor.Overrun):
            sub.release()
        seqs = []
        while True:
            try:
                m = sub.next(timeout=0)
            except TimeoutError:
                break
            self.assertTrue(valid(m.array) and m.array[0] == m.seq, m.seq)
            if not seqs:
                first_lost = m.lost
            seqs.append(m.seq)
            sub.release()
        # The ring holds count - slots .. count - 1, all whole: the
        # producer is not writing over the oldest (as Go does).
        self.assertEqual(seqs, list(range(count - slots, count)))
        self.assertEqual(first_lost, count - slots)
        # message 0 (overwritten) and 1 .. count-slots-1 (skipped) are lost
        self.assertEqual(sub.lost, count - slots)
        self.assertEqual(sub.received, slots)
        info = shmtensor.stat_channel(name)
        self.assertEqual(info["subscribers"][0]["lost"], count - slots)
        self.assertEqual(info["subscribers"][0]["received"], slots)
        self.assertEqual(info["subscribers"][0]["lag"], 0)

    def test_latest_slow_subscriber(self):
        """Latest policy, a slow subscriber in another process: increasing
        sequence numbers, intact messages, and every message delivered or
        counted lost."""
        name = self.unique()
        count = 400
        prod = self.child("produce", name, "latest", 4, count, "close")
        self.expect(prod, "created")
        slow = self.child("receive", name, "oldest", 0.001)
        self.expect(slow, "joined")
        self.tell(prod)
        r = self.result(slow)
        self.assertEqual(r["bad"], 0)
        self.assertEqual(r["end"], "eos")
        self.assertEqual(r["seqs"], sorted(set(r["seqs"])))
        self.assertEqual(r["received"] + r["lost"], count)
        self.assertEqual(r["received"], len(r["seqs"]) - r["overruns"])
        self.assertEqual(r["seqs"][-1], count - 1)

    def test_end_of_stream(self):
        """Iteration ends at the end of the stream, after every message."""
        name = self.unique()
        prod = self.child("produce", name, "block", 8, 5, "close")
        self.expect(prod, "created")
        sub = shmtensor.subscribe(name)
        self.addCleanup(sub.close)
        self.tell(prod)
        self.assertEqual([m.seq for m in sub], [0, 1, 2, 3, 4])
        with self.assertRaises(shmtensor.EndOfStream):
            sub.next()
        with self.assertRaises(EOFError):
            sub.next(timeout=0)
        self.assertTrue(shmtensor.stat_channel(name)["closed"])

    def test_producer_killed_then_taken_over(self):
        """SIGKILL of the producer: the subscriber gets every message sent,
        then ProducerGone; attach_producer is refused while the producer
        lives and takes over after, going on from the next message (the slot
        the dead producer was writing is written again)."""
        name = self.unique()
        prod = self.child("produce", name, "block", 4, 3, "hold-loan")
        self.expect(prod, "created")
        sub = shmtensor.subscribe(name)
        self.addCleanup(sub.close)
        self.tell(prod)
        self.expect(prod, "sent")
        with self.assertRaises(shmtensor.ProducerAlive):
            shmtensor.attach_producer(name)
        self.assertTrue(shmtensor.stat_channel(name)["producer_alive"])
        self.kill(prod)
        self.assertEqual([sub.next().seq for _ in range(3)], [0, 1, 2])
        with self.assertRaises(shmtensor.ProducerGone):
            sub.next()
        with self.assertRaises(ConnectionError):
            sub.next(timeout=0)
        info = shmtensor.stat_channel(name)
        self.assertFalse(info["producer_alive"])
        self.assertFalse(info["closed"])
        with shmtensor.attach_producer(name) as p:
            self.assertEqual((p.sent, p.epoch), (3, 2))
            fill(p.loan(), 3)
            p.send()
            m = sub.next()
            self.assertEqual(m.seq, 3)
            self.assertTrue(valid(m.array))
        with self.assertRaises(shmtensor.EndOfStream):
            sub.next()

    def test_dead_subscriber_releases_block_producer(self):
        """A subscriber killed holding a message no longer holds back the
        block producer."""
        name = self.unique()
        p = shmtensor.create_channel(name, SHAPE, np.float64, slots=2)
        self.addCleanup(p.close)
        holder = self.child("hold", name)
        self.expect(holder, "joined")
        for seq in range(2):
            fill(p.loan(), seq)
            p.send()
        self.expect(holder, "holding")
        # The live holder keeps message 0: no room for message 2.
        with self.assertRaises(TimeoutError):
            p.loan(timeout=0.05)
        [s] = shmtensor.stat_channel(name)["subscribers"]
        self.assertEqual((s["cursor"], s["alive"], s["pid"]), (0, True, holder.pid))
        self.kill(holder)
        self.assertFalse(shmtensor.stat_channel(name)["subscribers"][0]["alive"])
        for seq in range(2, 10):
            fill(p.loan(timeout=60), seq)
            p.send()
        self.assertEqual(p.sent, 10)

    def test_zero_copy_across_processes(self):
        """The subscriber's array is the producer's memory: a change made in
        the producer's mapping shows in the array the subscriber holds."""
        name = self.unique()
        p = shmtensor.create_channel(name, SHAPE, np.float64, slots=4, policy="latest")
        self.addCleanup(p.close)
        w = self.child("watch", name)
        self.expect(w, "joined")
        a = p.loan()
        self.assertTrue(np.shares_memory(a, p.ring))
        self.assertTrue(a.flags.writeable)
        a[:] = 7
        p.send()
        self.assertEqual(self.expect(w, "shares"), ["True", "False", "mmap"])
        self.assertEqual(self.expect(w, "value"), ["7.0"])
        p.ring[0, 0] = 42  # in place, no send
        self.tell(w)
        self.assertEqual(self.expect(w, "value"), ["42.0"])

    # -- Within one process

    def test_numpy_sees_the_ring(self):
        """numpy.load maps the channel as an (S, *shape) array of the slots."""
        name = self.unique()
        with shmtensor.create_channel(name, (3, 2), np.int32, slots=4) as p:
            for i in range(3):
                p.send_array(np.full((3, 2), i + 1))
            a = np.load("/dev/shm/" + name, mmap_mode="r")
            self.assertEqual((a.shape, a.dtype), ((4, 3, 2), np.int32))
            self.assertEqual(a[:, 0, 0].tolist(), [1, 2, 3, 0])

    def test_create_exclusive_and_mode(self):
        name = self.unique()
        old = os.umask(0o077)
        try:
            p = shmtensor.create_channel(name, (2,), "u1", mode=0o640)
        finally:
            os.umask(old)
        self.addCleanup(p.close)
        st = os.stat("/dev/shm/" + name)
        self.assertEqual(st.st_mode & 0o7777, 0o640)
        with self.assertRaises(FileExistsError):
            shmtensor.create_channel(name, (5,), "f8")
        self.assertEqual(os.stat("/dev/shm/" + name).st_ino, st.st_ino)
        self.assertEqual(shmtensor.stat_channel(name)["shape"], (2,))
        self.assertFalse([f for f in os.listdir("/dev/shm") if f.startswith(".shmtensor-creating-")
                          and str(os.getpid()) in f])

    def test_subscribe_wait_wake(self):
        """A subscriber sleeping in next() is woken by a send from another
        thread; a timeout with a live producer is TimeoutError."""
        import threading
        name = self.unique()
        p = shmtensor.create_channel(name, SHAPE, np.float64)
        self.addCleanup(p.close)
        sub = shmtensor.subscribe(name)
        self.addCleanup(sub.close)
        with self.assertRaises(TimeoutError):
            sub.next(timeout=0)
        with self.assertRaises(TimeoutError):
            sub.next(timeout=0.03)
        got = []
        t = threading.Thread(target=lambda: got.append(sub.next(timeout=60).seq))
        t.start()
        while not sub._entry.waiting:  # until it sleeps (or is about to)
            time.sleep(0.001)
        fill(p.loan(), 0)
        p.send()
        t.join()
        self.assertEqual(got, [0])

    def test_newest(self):
        name = self.unique()
        p = shmtensor.create_channel(name, (1,), np.int64, slots=8)
        self.addCleanup(p.close)
        for i in range(5):
            p.send_array([i])
        with shmtensor.subscribe(name, start="newest") as s:
            self.assertEqual(s.next().seq, 4)
            self.assertTrue(shmtensor.stat_channel(name)["subscribers"][0]["from_newest"])
        with shmtensor.subscribe(name) as s:
            self.assertEqual(s.next().seq, 0)
        for i in range(5, 20):
            p.send_array([i])
        with shmtensor.subscribe(name) as s:  # the oldest retained: head + 1 - S
            self.assertEqual(s.next().seq, 20 + 1 - 8)
            self.assertEqual(s.next().array[0], 14)

    def test_latest_one_slot(self):
        """Latest policy with one slot (a mailbox of the last message): a
        subscriber behind gets the message in the slot, counting the others
        lost, and never runs ahead of what was sent."""
        name = self.unique()
        p = shmtensor.create_channel(name, (1,), np.int64, slots=1, policy="latest")
        self.addCleanup(p.close)
        s = shmtensor.subscribe(name)
        self.addCleanup(s.close)
        for i in range(3):
            p.send_array([i])
        m = s.next(timeout=0)
        self.assertEqual((m.seq, m.lost, m.array[0]), (2, 2, 2))
        s.release()
        with self.assertRaises(TimeoutError):
            s.next(timeout=0)
        [e] = shmtensor.stat_channel(name)["subscribers"]
        self.assertEqual((e["cursor"], e["received"], e["lost"]), (3, 1, 2))

    def test_too_many_subscribers(self):
        name = self.unique()
        p = shmtensor.create_channel(name, (1,), "f4", max_subscribers=2)
        self.addCleanup(p.close)
        a = shmtensor.subscribe(name)
        b = shmtensor.subscribe(name)
        with self.assertRaises(shmtensor.TooManySubscribers):
            shmtensor.subscribe(name)
        self.assertEqual((a.entry, b.entry), (0, 1))
        a.close()
        self.assertEqual([s["entry"] for s in shmtensor.stat_channel(name)["subscribers"]], [1])
        c = shmtensor.subscribe(name)
        self.assertEqual(c.entry, 0)
        b.close()
        c.close()
        with self.assertRaises(ValueError):
            c.next()

    def test_stat(self):
        name = self.unique()
        p = shmtensor.create_channel(name, (3, 5), np.complex64, slots=32, max_subscribers=3, policy="latest")
        self.addCleanup(p.close)
        s = shmtensor.subscribe(name)
        self.addCleanup(s.close)
        for _ in range(4):
            p.send_array(np.ones((3, 5)))
        s.next()
        info = shmtensor.stat_channel(name)
        self.assertEqual(info["dtype"], np.complex64)
        self.assertEqual((info["shape"], info["slots"], info["max_subscribers"], info["policy"]),
                         ((3, 5), 32, 3, "latest"))
        self.assertEqual((info["message_bytes"], info["sent"], info["closed"], info["producer_alive"],
                          info["epoch"]), (120, 4, False, True, 1))
        self.assertEqual(info["size"], os.stat("/dev/shm/" + name).st_size)
        self.assertEqual(info["subscribers"], [{"entry": 0, "pid": os.getpid(), "cursor": 0, "lag": 4,
                                                "received": 1, "lost": 0, "alive": True,
                                                "from_newest": False}])

    def test_file_scheme_and_shapes(self):
        with tempfile.TemporaryDirectory() as d:
            for k, (shape, dt) in enumerate([((), "f8"), ((7,), "i2"), ((2, 3, 4), "c16"), ((0, 3), "u8"),
                                             ((5,), "?")]):
                name = "file://" + os.path.join(d, "ch%d.npy" % k)
                with shmtensor.create_channel(name, shape, dt, slots=2) as p, shmtensor.subscribe(name) as s:
                    p.send_array(np.ones(shape, dt))
                    m = s.next()
                    self.assertEqual((m.array.shape, m.array.dtype), (shape, np.dtype(dt)))
                    self.assertTrue((m.array == 1).all())
                a = np.load(name[len("file://"):], mmap_mode="r")
                self.assertEqual(a.shape, (2,) + shape)

    def test_refused(self):
        with tempfile.TemporaryDirectory() as d:
            plain = os.path.join(d, "plain.npy")
            np.save(plain, np.zeros((16, 4)))
            with self.assertRaisesRegex(shmtensor.NotAChannel, "not a shmtensor channel"):
                shmtensor.subscribe("file://" + plain)
            # A tensor segment as Go's Create writes it: data at 4096, no control area.
            tensor = os.path.join(d, "tensor.npy")
            with open(tensor, "wb") as f:
                f.write(shmtensor._npy_header(np.dtype("f8"), (16, 4)) + bytes(16 * 4 * 8))
            self.assertEqual(np.load(tensor).shape, (16, 4))
            with self.assertRaisesRegex(shmtensor.NotAChannel, "control area"):
                shmtensor.subscribe("file://" + tensor)
            junk = os.path.join(d, "junk")
            with open(junk, "wb") as f:
                f.write(b"x" * 10000)
            with self.assertRaisesRegex(ValueError, "magic"):
                shmtensor.stat_channel("file://" + junk)
            good = "file://" + os.path.join(d, "c.npy")
            shmtensor.create_channel(good, (4,), "f8", slots=4).close()
            path = good[len("file://"):]
            size = os.path.getsize(path)
            ctrl = 4096 + 4096  # 4 slots of 32 bytes, rounded up to a page
            for off, value, why in [(0, b"SHMTCHAX", "magic"), (8, b"\x02", "version"),
                                    (12, b"\x07", "policy"), (16, b"\x08", "slots"),
                                    (20, b"\x00", "subscriber entries"), (24, b"\x21", "message size"),
                                    (33, b"\x20", "data offset"), (48, b"\x01", "control length")]:
                with open(path, "r+b") as f:
                    f.seek(ctrl + off)
                    was = f.read(len(value))
                    f.seek(ctrl + off)
                    f.write(value)
                try:
                    with self.assertRaisesRegex(shmtensor.NotAChannel, why):
                        shmtensor.subscribe(good)
                finally:
                    with open(path, "r+b") as f:
                        f.seek(ctrl + off)
                        f.write(was)
            shmtensor.subscribe(good).close()
            os.truncate(path, size - 1)
            with self.assertRaisesRegex(ValueError, "exactly"):
                shmtensor.subscribe(good)
        for bad in ["", "a/b", "shm://", "http://x", ".shmtensor-lock-x", "x\ny"]:
            with self.assertRaises(ValueError, msg=bad):
                shmtensor.create_channel(bad, (1,), "f8")
        name = self.unique()
        for kw in [dict(slots=3), dict(slots=0), dict(max_subscribers=0), dict(max_subscribers=1025),
                   dict(policy="drop")]:
            with self.assertRaises(ValueError, msg=kw):
                shmtensor.create_channel(name, (1,), "f8", **kw)
        for dt in ["O", "U3", ">f8", "f16", [("a", "f8")]]:
            with self.assertRaises(ValueError, msg=dt):
                shmtensor.create_channel(name, (1,), dt)
        self.assertFalse(os.path.exists("/dev/shm/" + name))
        with self.assertRaises(FileNotFoundError):
            shmtensor.subscribe(name)
        with self.assertRaises(TypeError):
            shmtensor.Producer()

    def test_send_requires_loan(self):
        name = self.unique()
        with shmtensor.create_channel(name, (2,), "f8") as p:
            with self.assertRaises(RuntimeError):
                p.send()
            self.assertIs(p.loan(), p.loan())
            p.send()
            self.assertEqual(p.sent, 1)
        self.assertTrue(p.closed)
        with self.assertRaises(ValueError):
            p.loan()


if __name__ == "__main__":
    unittest.main()
