# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The ampsd authors
"""bench_python: the Python binding's publish and delivery rates, with
the C publisher of tests/bench/bench-publish in the same run against the
same ampsim + ampsd (make bench-python; docs/BENCHMARKS.md).  Prints
figures; it is not a test.

    bench_python.py [-n N] [-r RUNS] [-d DELIVER_N]

Per run:
  C         bench-publish -S (one program, N messages of 128 B through
            libampsipc): its stored/s and persisted/s ("single/s").
  Python    a Python loop, client.publish(topic, 128-byte str) N times,
            timed from the first publish until wait_stored() returns
            (stored/s) and until publish_flush() returns (persisted/s).
  ratio     Python stored/s over C stored/s.
  py cpu    CPU time of the Python process (all its threads) per
            message, from the first publish to wait_stored().
Then once: DELIVER_N messages published and persisted, then replayed
from bookmark EPOCH to a Python handler (it counts and reads the data),
timed from subscribe() until the handler saw the last one: first a plain
subscription (which ampsd ends, TOO_FAR_BEHIND, if the program falls
16 MiB behind), then a durable one whose handler discards each message
(ampsd's flow control pauses it instead).
Medians over the runs are printed last.  ampsim runs with
--ack-conflation 20, on a disk directory (TMPDIR, default /var/tmp).
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

os.environ.setdefault("TMPDIR", "/var/tmp")

import AMPS      # noqa: E402
import harness   # noqa: E402


def c_publish(env, n):
    exe = os.path.join(harness.B, "tests", "bench", "bench-publish")
    r = subprocess.run([exe, "-S", env.sock, "-n", str(n), "-r", "1",
                        "-P", "1", "-t", "0.2", "-T", "0.2", "-d", env.T],
                       capture_output=True, text=True, timeout=600,
                       env=harness.child_env())
    for line in r.stdout.splitlines():
        f = line.split()
        if f and f[0] == "1":
            return float(f[1]), float(f[2])
    raise RuntimeError("bench-publish: %s%s" % (r.stdout, r.stderr))


def cpu_s():
    """CPU seconds of this process (every thread)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def py_publish(client, n, topic):
    data = ("x" * 127) + str(n % 10)        # 128 bytes
    pub = client.publish
    c0 = cpu_s()
    t0 = time.perf_counter()
    for _ in range(n):
        pub(topic, data)
    client.wait_stored(600000)
    t1 = time.perf_counter()
    c1 = cpu_s()
    client.publish_flush(600000)
    t2 = time.perf_counter()
    return n / (t1 - t0), n / (t2 - t0), (c1 - c0) / n * 1e6


def publish_n(client, topic, n):
    data = "y" * 128
    for _ in range(n):
        client.publish(topic, data)
    client.publish_flush(600000)


def deliver(client, topic, n, durable):
    """Replay n messages of topic from EPOCH to a Python handler; the
    rate, or the error that ended the subscription."""
    count = [0, 0]
    done = threading.Event()
    errors = []

    def handler(m):
        count[0] += 1
        count[1] += len(m.get_data_raw())
        if durable:
            m.discard()
        if count[0] == n:
            done.set()

    def on_error(e):
        errors.append(e)
        done.set()
    client.set_exception_listener(on_error)
    kw = {"sub_id": "bench-durable"} if durable else {}
    c0 = cpu_s()
    t0 = time.perf_counter()
    client.subscribe(handler, topic, bookmark=AMPS.Client.Bookmarks.EPOCH,
                     **kw)
    if not done.wait(600):
        errors.append("%d of %d in 600 s" % (count[0], n))
    t1 = time.perf_counter()
    c1 = cpu_s()
    client.unsubscribe()
    client.set_exception_listener(None)
    if errors:
        return "ended after %d messages: %s" % (count[0], errors[0])
    return "%.0f msg/s (%d bytes), %.2f us of CPU per message" % (
        n / (t1 - t0), count[1], (c1 - c0) / n * 1e6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200000)
    ap.add_argument("-r", type=int, default=3)
    ap.add_argument("-d", type=int, default=1000000)
    a = ap.parse_args()
    env = harness.Env()
    try:
        client = AMPS.Client("bench-python")
        client.connect(env.uri())
        print("bench-python: N=%d size=128 runs=%d, deliver %d; %s; "
              "python %s" % (a.n, a.r, a.d, env.T,
                             sys.version.split()[0]))
        print("%-4s %12s %12s %12s %12s %7s %8s" % (
            "run", "C stored/s", "C single/s", "py stored/s",
            "py single/s", "py/C", "py cpu us"))
        rows = []
        for r in range(a.r):
            cs, cp = c_publish(env, a.n)
            ps, pp, us = py_publish(client, a.n, "pybench")
            rows.append((cs, cp, ps, pp, ps / cs, us))
            print("%-4d %12.0f %12.0f %12.0f %12.0f %7.2f %8.2f" % (
                (r + 1,) + rows[-1]), flush=True)
        med = [statistics.median(x[i] for x in rows) for i in range(6)]
        print("%-4s %12.0f %12.0f %12.0f %12.0f %7.2f %8.2f" % (
            ("med",) + tuple(med)))
        if a.d > 0:
            publish_n(client, "deliver", a.d)
            print("delivery of %d replayed messages to a Python handler:"
                  % a.d)
            print("  plain subscription:", deliver(client, "deliver", a.d,
                                                   False), flush=True)
            print("  durable, discarding each:",
                  deliver(client, "deliver", a.d, True), flush=True)
        client.close()
    finally:
        env.stop()


if __name__ == "__main__":
    main()
