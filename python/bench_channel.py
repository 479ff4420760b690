"""Benchmark: a shmtensor channel against multiprocessing.Queue.

    python3 python/bench_channel.py [--messages N] [--mib M] [--slots S]

A producer process sends N messages of M MiB of float64 (default 1 MiB)
to a subscriber in this process, once through a channel ("block" policy,
S slots) and once through a multiprocessing.Queue carrying the same numpy
arrays. Both producers make each message with one copy of a source array
(into the loaned slot; into a fresh array for the queue, which pickles it
later in its feeder thread), and both receivers look at the first and
last elements of each message. The time runs from the start signal to the
last message received. Prints the messages per second of each and their
ratio, measured in this one run.
"""

import argparse
import multiprocessing as mp
import os
import secrets
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shmtensor  # noqa: E402


def channel_producer(name, n, elems, slots, created, go):
    src = np.random.default_rng(1).random(elems)
    with shmtensor.create_channel(name, (elems,), np.float64, slots=slots) as p:
        created.set()
        go.wait()
        for seq in range(n):
            a = p.loan()
            a[:] = src
            a[0] = seq
            p.send()


def queue_producer(q, n, elems, created, go):
    src = np.random.default_rng(1).random(elems)
    created.set()
    go.wait()
    for seq in range(n):
        b = src.copy()
        b[0] = seq
        q.put(b)


def run_channel(ctx, n, elems, slots):
    name = "shmtensor-bench-%d-%s" % (os.getpid(), secrets.token_hex(4))
    created, go = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=channel_producer, args=(name, n, elems, slots, created, go))
    proc.start()
    try:
        if not created.wait(60):
            raise RuntimeError("the channel producer did not start")
        last, want = elems - 1, np.random.default_rng(1).random(elems)[-1]
        with shmtensor.subscribe(name) as sub:
            t0 = time.perf_counter()
            go.set()
            for m in sub:
                a = m.array
                if a[0] != m.seq or a[last] != want:
                    raise AssertionError("message %d holds %r" % (m.seq, a[0]))
            dt = time.perf_counter() - t0
            if sub.received != n:
                raise AssertionError("received %d of %d" % (sub.received, n))
    finally:
        proc.join(60)
        try:
            os.unlink("/dev/shm/" + name)
        except FileNotFoundError:
            pass
    return dt


def run_queue(ctx, n, elems):
    q = ctx.Queue(maxsize=16)
    created, go = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=queue_producer, args=(q, n, elems, created, go))
    proc.start()
    try:
        if not created.wait(60):
            raise RuntimeError("the queue producer did not start")
        last, want = elems - 1, np.random.default_rng(1).random(elems)[-1]
        t0 = time.perf_counter()
        go.set()
        for seq in range(n):
            a = q.get()
            if a[0] != seq or a[last] != want:
                raise AssertionError("message %d holds %r" % (seq, a[0]))
        dt = time.perf_counter() - t0
    finally:
        proc.join(60)
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--mib", type=float, default=1.0, help="message size in MiB")
    ap.add_argument("--slots", type=int, default=16)
    args = ap.parse_args()
    elems = int(args.mib * (1 << 20)) // 8
    n = args.messages
    ctx = mp.get_context("spawn")
    ch = run_channel(ctx, n, elems, args.slots)
    qu = run_queue(ctx, n, elems)
    mib = elems * 8 / (1 << 20)
    print("%d messages of %g MiB float64, producer and subscriber in separate processes" % (n, mib))
    for label, dt in (("shmtensor channel", ch), ("multiprocessing.Queue", qu)):
        print("  %-22s %8.1f messages/s  %7.2f GiB/s  %8.1f us/message"
              % (label, n / dt, n * mib / 1024 / dt, dt / n * 1e6))
    print("ratio (channel / Queue): %.1fx" % (qu / ch))


if __name__ == "__main__":
    main()
