# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The ampsd authors
"""Threads, lifetimes and signals: handlers run on the receive thread
with the GIL; close() from inside a handler; garbage collection of a
client with live subscriptions; fork; Ctrl-C in a blocking call; a
subscribe/unsubscribe/publish loop whose objects and RSS stay bounded.
"""

import gc
import os
import signal
import subprocess
import threading
import time

import AMPS
import harness


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def threads():
    return len(os.listdir("/proc/self/task"))


class ThreadTest(harness.EnvTestCase):

    def test_handler_on_receive_thread(self):
        c = self.client()
        where = []
        c.subscribe(lambda m: where.append(threading.get_ident()), "th1")
        c.publish("th1", "{}")
        harness.wait_until(lambda: where, 10, "the handler")
        self.assertNotEqual(where[0], threading.get_ident())

    def test_close_inside_handler(self):
        c = AMPS.Client("closer")
        c.connect(self.env.uri())
        seen = []

        def h(m):
            seen.append(m.get_data())
            c.close()
            self.assertFalse(c.is_connected())
            with self.assertRaises(AMPS.DisconnectedError):
                c.publish("th2", "more")
        c.subscribe(h, "th2")
        c.publish("th2", "1")
        c.publish("th2", "2")
        harness.wait_until(lambda: seen, 10, "the handler")
        time.sleep(0)       # let the receive thread finish its close
        harness.wait_until(lambda: not c.is_connected(), 10, "the close")
        c.close()           # and again from outside: harmless
        self.assertEqual(seen, ["1"])

    def test_gc_with_live_subscriptions(self):
        base = threads()
        seen = []

        def make():
            c = AMPS.Client("gc")
            c.connect(self.env.uri())
            c.subscribe(lambda m: seen.append(1), "th3")
            c.subscribe(lambda m: seen.append(2), "th3")
            s = c.subscribe("th3")      # a stream too
            return threading.active_count(), s
        n, s = make()               # the client is garbage now
        gc.collect()
        harness.wait_until(lambda: threads() == base, 10,
                           "the receive thread to end")
        p = self.client()
        p.publish("th3", "x")
        p.publish_flush(10000)
        p.ping()
        self.assertEqual(seen, [])
        self.assertEqual(list(s.timeout(100)), [])
        del s

    def test_fork(self):
        c = self.client()
        c.publish("th4", "parent")
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                try:
                    c.publish("th4", "child")
                except AMPS.DisconnectedError:
                    d = AMPS.Client("child")
                    d.connect(self.env.uri())
                    d.publish("th4", "child2")
                    d.publish_flush(10000)
                    d.close()
                    code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        c.publish_flush(10000)
        got = [m.get_data() for m in
               c.subscribe("th4", bookmark="0").timeout(3000)]
        self.assertEqual(sorted(got), ["child2", "parent"])

    def test_fork_while_receiving(self):
        """Forks while the receive thread is busy (it may hold the
        client's lock): each child fails fast instead of hanging."""
        c = self.client()
        c.subscribe(lambda m: None, "th7")
        stop = threading.Event()

        def pump():
            while not stop.is_set():
                c.publish("th7", "x" * 64)
        t = threading.Thread(target=pump)
        t.start()
        try:
            for i in range(20):
                pid = os.fork()
                if pid == 0:
                    code = 1
                    try:
                        c.publish("th7", "child")
                    except AMPS.DisconnectedError:
                        code = 0
                    finally:
                        os._exit(code)
                end = time.monotonic() + 10
                while True:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        break
                    if time.monotonic() > end:
                        os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        self.fail("fork child %d hung" % i)
                    time.sleep(0.01)
                self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        finally:
            stop.set()
            t.join(10)
        c.publish_flush(10000)

    def test_ctrl_c_in_blocking_calls(self):
        # The child restores Python's SIGINT handler: a program started
        # in the background by a non-interactive shell (as run-test
        # starts the tests) inherits SIGINT ignored, and Python then
        # leaves it ignored.
        code = """
import AMPS, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
c = AMPS.Client("sigint")
c.connect()
s = c.subscribe("th5")
print("ready", flush=True)
try:
    for m in s:
        pass
except KeyboardInterrupt:
    print("interrupted stream", flush=True)
c.publish("th5", "x")
print("ready2", flush=True)
try:
    c.publish_flush(0)
except KeyboardInterrupt:
    print("interrupted flush", flush=True)
"""
        env = dict(harness.py_env(), AMPSD_SOCKET=self.env.sock)
        p = subprocess.Popen([harness.PY, "-c", code],
                             stdout=subprocess.PIPE, text=True, env=env)
        self.addCleanup(p.stdout.close)
        try:
            line = lambda what: harness.read_line(p.stdout, 30, what).strip()
            self.assertEqual(line("ready"), "ready")
            self.env.admin("pause-acks")     # the flush cannot finish
            time.sleep(0.3)
            p.send_signal(signal.SIGINT)
            self.assertEqual(line("interrupted stream"),
                             "interrupted stream")
            self.assertEqual(line("ready2"), "ready2")
            time.sleep(0.3)
            p.send_signal(signal.SIGINT)
            self.assertEqual(line("interrupted flush"),
                             "interrupted flush")
            self.assertEqual(p.wait(20), 0)
        finally:
            self.env.admin("resume-acks")
            if p.poll() is None:
                p.kill()
                p.wait()

    def test_subscribe_loop_bounded(self):
        c = self.client()
        sink = []
        h = sink.append

        def round_(i):
            sid = c.subscribe(h, "th6", "/n >= 0")
            c.publish("th6", '{"n":%d}' % i)
            c.execute_async(AMPS.Command("sow").set_topic("orders")
                            .set_filter("/id = -1"), h)
            for m in c.sow("orders", "/id = -1"):
                pass
            c.unsubscribe(sid)
        for i in range(50):
            round_(i)
        c.publish_flush(10000)
        c.ping()
        sink.clear()
        gc.collect()
        refs = __import__("sys").getrefcount(h)
        objs, rss = len(gc.get_objects()), rss_kb()
        for i in range(300):
            round_(i)
        c.publish_flush(10000)
        c.ping()
        sink.clear()
        gc.collect()
        self.assertLess(len(gc.get_objects()) - objs, 50)
        if not harness.ASAN:    # ASan's quarantine keeps freed memory
            self.assertLess(rss_kb() - rss, 4 * 1024, "RSS grew by > 4 MiB")
        # every route released its handler
        self.assertEqual(__import__("sys").getrefcount(h), refs)


if __name__ == "__main__":
    harness.main()
