# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The ampsd authors
"""Durable subscriptions: a Python process consumes a bookmark
subscription by name, discarding each message, and is killed with
SIGKILL; a second Python process resumes it by the same name with
Client.Bookmarks.MOST_RECENT and gets exactly the rest.  Also the
bookmark constants and remove_durable.
"""

import json
import signal
import subprocess

import AMPS
import harness

CONSUMER = """
import AMPS, sys, time
name, stop = sys.argv[1], int(sys.argv[2])
c = AMPS.HAClient(name)
c.connect()
end = time.monotonic() + 20
while True:
    try:
        s = c.subscribe("dur", sub_id=name,
                        bookmark=AMPS.Client.Bookmarks.MOST_RECENT)
        break
    except AMPS.SubscriptionAlreadyExistsException:
        # ampsd still detaching the killed program's subscription
        if time.monotonic() > end:
            raise
        time.sleep(0.1)
for m in s.timeout(20000):
    if m.get_command() != "p":
        continue
    n = __import__("json").loads(m.get_data())["n"]
    print("R", n, flush=True)
    m.discard()
    c.ping()                    # ampsd has the discard
    print("D", n, flush=True)
    if n == stop:
        break
if len(sys.argv) > 3:
    time.sleep(3600)            # "hold": keep it open, wait to be killed
"""


class DurableTest(harness.EnvTestCase):

    def test_resume_after_sigkill(self):
        c = self.client()
        for n in range(10):
            c.publish("dur", '{"n":%d}' % n)
        c.publish_flush(10000)
        env = dict(harness.py_env(), AMPSD_SOCKET=self.env.sock)
        first = subprocess.Popen([harness.PY, "-c", CONSUMER, "dash", "4",
                                  "hold"],
                                 stdout=subprocess.PIPE, text=True, env=env)
        seen = []
        try:
            while True:
                line = harness.read_line(first.stdout, 30,
                                         "the first consumer's next line")
                self.assertTrue(line, "first consumer ended early")
                seen.append(line.split())
                if line.split() == ["D", "4"]:
                    break
            # it holds the subscription with 5.. unread: kill it
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
        discarded = [int(n) for k, n in seen if k == "D"]
        self.assertEqual(discarded, [0, 1, 2, 3, 4])
        for n in range(10, 13):
            c.publish("dur", '{"n":%d}' % n)
        c.publish_flush(10000)
        r = subprocess.run([harness.PY, "-c", CONSUMER, "dash", "12"],
                           capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = [int(l.split()[1]) for l in r.stdout.splitlines()
               if l.startswith("R ")]
        self.assertEqual(got, list(range(5, 13)))

    def test_bookmark_constants(self):
        B = AMPS.Client.Bookmarks
        self.assertEqual((B.EPOCH, B.NOW, B.MOST_RECENT),
                         ("0", "0|1|", "recent"))
        c = self.client()
        c.publish("bm1", '{"n":1}')
        c.publish_flush(10000)
        now = c.subscribe("bm1", bookmark=B.NOW).timeout(500)
        self.assertEqual(list(now), [])
        c.publish("bm1", '{"n":2}')
        now.timeout(10000)
        self.assertEqual(next(iter(now)).get_data(), '{"n":2}')
        now.close()
        epoch = c.subscribe("bm1", bookmark=B.EPOCH).timeout(10000)
        got = []
        for m in epoch:
            got.append(m.get_data())
            self.assertTrue(m.get_bookmark())
            if len(got) == 2:
                break
        self.assertEqual(got, ['{"n":1}', '{"n":2}'])

    def test_remove_durable(self):
        c = self.client()
        c.publish("bm2", '{"n":1}')
        c.publish_flush(10000)
        s = c.subscribe("bm2", sub_id="gone", bookmark="recent")
        m = next(iter(s.timeout(10000)))
        c.discard(m)
        c.get_bookmark_store().discard_message(m)
        s.close()
        c.ping()
        harness.wait_until(lambda: self._removed(c, "gone"), 10,
                           "the durable name to be removable")

    @staticmethod
    def _removed(c, name):
        try:
            c.remove_durable(name)
            return True
        except AMPS.SubscriptionAlreadyExistsException:
            return False


if __name__ == "__main__":
    harness.main()
