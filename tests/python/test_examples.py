# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The ampsd authors
"""python/examples/*.py run as scripts against ampsim + ampsd, with the
socket given the way a program on the host gets it ($AMPSD_SOCKET, or
the URI as the first argument), and their output checked.
"""

import os
import subprocess
import time

import harness

EX = os.path.join(harness.S, "python", "examples")


class ExamplesTest(harness.EnvTestCase):

    def ex(self, name, *args, timeout=60):
        r = self.run_py(os.path.join(EX, name), *args, timeout=timeout)
        self.assertEqual(r.returncode, 0, "%s: %s%s" % (name, r.stdout,
                                                        r.stderr))
        return r.stdout

    def bg(self, name, *args):
        env = dict(harness.py_env(), AMPSD_SOCKET=self.env.sock)
        p = subprocess.Popen([harness.PY, os.path.join(EX, name)] +
                             list(args), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        return p

    def test_publisher_and_subscriber(self):
        sub = self.bg("subscriber.py", "ampsd://", "ex1", "/id > 6", "3")
        # the subscriber says "subscribed" once AMPS accepted it
        said = harness.read_line(sub.stderr, 30, "subscribed")
        self.assertIn("subscribed", said)
        out = self.ex("publisher.py", self.env.uri(), "ex1", "10")
        self.assertIn("published 10 messages", out)
        o, e = sub.communicate(timeout=30)
        self.assertEqual(sub.returncode, 0, e)
        self.assertEqual([l for l in o.splitlines() if l],
                         ['{"id":%d,"text":"hello, world"}' % i
                          for i in (7, 8, 9)])

    def test_sow_query(self):
        self.ex("publisher.py", "ampsd://", "orders", "3")
        out = self.ex("sow_query.py", "ampsd://", "orders", "/id < 2")
        self.assertEqual(len(out.splitlines()), 2)

    def test_sow_and_subscribe(self):
        c = self.client()
        c.publish("orders", '{"id":900,"qty":500}')
        c.publish_flush(10000)
        p = self.bg("sow_and_subscribe.py", "ampsd://", "orders",
                    "/qty > 100 AND /id >= 900", "2")
        said = harness.read_line(p.stdout, 30, "the sow line")
        self.assertTrue(said.startswith("sow "))
        c.publish("orders", '{"id":901,"qty":200}')
        c.publish("orders", '{"id":900,"qty":50}')
        o, e = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, e)
        lines = o.splitlines()
        self.assertTrue(lines[0].startswith("p "), o)
        self.assertTrue(lines[1].startswith("oof "), o)

    def test_delta(self):
        out = self.ex("delta.py")
        self.assertIn('delta: {"id":42,"qty":250}', out)
        self.assertIn('merged: {"id":42,"sym":"IBM","qty":250}', out)

    def test_queue_consumer(self):
        c = self.client()
        for i in range(3):
            c.publish("work-in", '{"job":%d}' % i)
        c.publish_flush(10000)
        out = self.ex("queue_consumer.py", "ampsd://", "work", "2")
        self.assertEqual(len(out.splitlines()), 2)
        out = self.ex("queue_consumer.py", "ampsd://", "work", "1")
        self.assertIn('{"job":2}', out)

    def test_durable_resumes_across_restarts(self):
        c = self.client()
        for i in range(1, 6):
            c.publish("ticks", '{"tick":%d}' % i)
        c.publish_flush(10000)
        out = self.ex("durable.py", "ampsd://", "ticks", "dash", "3")
        self.assertEqual(out.split(), ['{"tick":%d}' % i for i in (1, 2, 3)])
        # restart ampsd too: the resume point is in its store
        self.env.stop_ampsd()
        self.env.start_ampsd()
        c2 = self.client()
        for i in range(6, 9):
            c2.publish("ticks", '{"tick":%d}' % i)
        c2.publish_flush(10000)
        out = ""
        end = time.monotonic() + 20
        while True:     # ampsd may still be re-entering the name
            r = self.run_py(os.path.join(EX, "durable.py"), "ampsd://",
                            "ticks", "dash", "5")
            if r.returncode == 0 or time.monotonic() > end or \
                    "already exists" not in r.stderr:
                break
            time.sleep(0.2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(),
                         ['{"tick":%d}' % i for i in range(4, 9)])

    def test_publish_and_exit(self):
        out = self.ex("publish_and_exit.py", "ampsd://", "handoff2", "50")
        self.assertIn("50 messages stored", out)
        c = self.client()
        s = c.subscribe("handoff2", bookmark="0").timeout(10000)
        n = 0
        for m in s:
            n += 1
            if n == 50:
                break
        self.assertEqual(n, 50)


if __name__ == "__main__":
    harness.main()
