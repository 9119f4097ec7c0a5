# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The ampsd authors
"""Receiving through the binding against real ampsim + ampsd: subscribe
(handler and stream), filters, sow, sow_and_subscribe with OOF, delta
subscriptions, sow_delete in its three forms, unsubscribe, Command with
execute/execute_async, queues with acks, error mapping (bad filter, not
entitled, timeout), handler exceptions to the exception listener, and
messages kept after their handler returned.
"""

import json
import os
import threading

import AMPS
import harness


class Collector:
    """A handler that keeps copies of what it gets."""

    def __init__(self, want=None):
        self.msgs = []
        self.want = want
        self.ev = threading.Event()

    def __call__(self, m):
        self.msgs.append((m.get_command(), m.get_data(), m))
        if self.want is not None and len(self.data()) >= self.want:
            self.ev.set()

    def data(self, cmd="p"):
        return [d for c, d, _ in self.msgs if c == cmd]

    def wait(self, n, seconds=10):
        harness.wait_until(lambda: len(self.data()) >= n, seconds,
                           "%d messages (have %d)" % (n, len(self.data())))


class ReceiveTest(harness.EnvTestCase):

    def test_subscribe_handler_filter(self):
        c = self.client()
        h = Collector()
        sid = c.subscribe(h, "rx1", "/n > 1")
        self.assertIsInstance(sid, str)
        for n in range(5):
            c.publish("rx1", '{"n":%d}' % n)
        h.wait(3)
        self.assertEqual([json.loads(d)["n"] for d in h.data()], [2, 3, 4])
        # messages kept after the handler returned stay valid
        kept = h.msgs[0][2]
        self.assertEqual(kept.get_topic(), "rx1")
        self.assertEqual(kept.get_sub_id(), sid)
        self.assertEqual(json.loads(kept.get_data())["n"], 2)
        self.assertEqual(kept.get_message_length(), len(b'{"n":2}'))
        c.unsubscribe(sid)
        c.publish("rx1", '{"n":9}')
        c.publish_flush(10000)
        c.ping()
        self.assertEqual(len(h.data()), 3)

    def test_subscribe_stream(self):
        c = self.client()
        stream = c.subscribe("rx2", sub_id="s2")
        self.assertIsInstance(stream, AMPS.MessageStream)
        c.publish("rx2", '{"n":1}')
        c.publish("rx2", '{"n":2}')
        got = []
        for m in stream.timeout(10000):
            got.append(m.get_data())
            if len(got) == 2:
                break
        self.assertEqual(got, ['{"n":1}', '{"n":2}'])
        # timeout ends an iteration without closing the stream
        stream.timeout(200)
        self.assertEqual(list(stream), [])
        c.publish("rx2", '{"n":3}')
        stream.timeout(10000)
        self.assertEqual(next(iter(stream)).get_data(), '{"n":3}')
        stream.close()
        self.assertEqual(list(stream), [])

    def test_sow_stream_and_handler(self):
        c = self.client()
        for i in range(1, 6):
            c.publish("orders", '{"id":%d,"qty":%d}' % (100 + i, i * 100))
        c.publish_flush(10000)
        cmds = [m.get_command() for m in
                c.sow("orders", "/id > 100 AND /id < 106", batch_size=2)]
        self.assertEqual(cmds[0], AMPS.Message.Command.GroupBegin)
        self.assertEqual(cmds[-1], AMPS.Message.Command.GroupEnd)
        self.assertEqual(cmds.count("sow"), 5)
        top = [json.loads(m.get_data())["id"] for m in
               c.sow("orders", "/id > 100 AND /id < 106", top_n=2,
                     order_by="/qty DESC") if m.get_command() == "sow"]
        self.assertEqual(top, [105, 104])
        h = Collector()
        c.sow(h, "orders", "/id > 100 AND /id < 106")
        harness.wait_until(lambda: h.msgs and h.msgs[-1][0] == "group_end",
                           10, "the sow to end")
        self.assertEqual(len(h.data("sow")), 5)

    def test_sow_and_subscribe_oof(self):
        c = self.client()
        c.publish("orders", '{"id":201,"qty":500}')
        c.publish_flush(10000)
        h = Collector()
        c.sow_and_subscribe(h, "orders", "/qty > 100 AND /id > 200",
                            oof_enabled=True)
        harness.wait_until(lambda: any(x[0] == "group_end"
                                       for x in h.msgs), 10, "group_end")
        self.assertEqual(h.data("sow"), ['{"id":201,"qty":500}'])
        c.publish("orders", '{"id":201,"qty":50}')     # leaves the filter
        harness.wait_until(lambda: h.data("oof"), 10, "the OOF")
        oof = [m for cmd, _, m in h.msgs if cmd == "oof"][0]
        self.assertEqual(oof.get_reason(), "match")
        self.assertEqual(oof.get_command(), AMPS.Message.Command.OOF)

    def test_delta_subscribe(self):
        c = self.client()
        c.publish("orders", '{"id":301,"sym":"A","qty":1}')
        c.publish_flush(10000)
        stream = c.delta_subscribe("orders", "/id = 301").timeout(10000)
        c.delta_publish("orders", '{"id":301,"qty":2}')
        m = next(iter(stream))
        d = json.loads(m.get_data())
        self.assertEqual(d.get("qty"), 2)
        self.assertNotIn("sym", d)
        stream.close()
        s2 = c.sow_and_delta_subscribe("orders", "/id = 301").timeout(10000)
        first = [m.get_command() for m in s2 if
                 (m.get_command() != "group_end") or False][:1]
        self.assertEqual(first, ["group_begin"])
        s2.close()

    def test_sow_delete_forms(self):
        c = self.client()
        for i in range(1, 4):
            c.publish("orders", '{"id":%d,"qty":1}' % (400 + i))
        c.publish_flush(10000)
        ack = c.sow_delete("orders", "/id = 401")
        self.assertEqual(ack.get_ack_type(), AMPS.Message.AckType.Stats)
        self.assertEqual(ack.get_matches(), 1)
        keys = [m.get_sow_key() for m in c.sow("orders", "/id = 402")
                if m.get_command() == "sow"]
        self.assertEqual(len(keys), 1)
        ack = c.sow_delete_by_keys("orders", keys[0])
        self.assertEqual(ack.get_matches(), 1)
        ack = c.sow_delete_by_data("orders", '{"id":403,"qty":1}')
        self.assertEqual(ack.get_matches(), 1)
        left = [m for m in c.sow("orders", "/id > 400 AND /id < 404")
                if m.get_command() == "sow"]
        self.assertEqual(left, [])

    def test_command_execute(self):
        c = self.client()
        cmd = AMPS.Command("subscribe").set_topic("rx3") \
            .set_filter("/n = 1").set_sub_id("cmd1")
        self.assertEqual(cmd.get_sub_id(), "cmd1")
        h = Collector()
        self.assertEqual(c.execute_async(cmd, h), "cmd1")
        c.publish("rx3", '{"n":0}')
        c.publish("rx3", '{"n":1}')
        h.wait(1)
        c.execute(AMPS.Command("unsubscribe").set_sub_id("cmd1"))
        s = c.execute(AMPS.Command("sow").set_topic("orders")
                      .set_filter("/id = -1").set_batch_size(5)
                      .set_ack_type("completed"))
        cmds = [m.get_command() for m in s]
        self.assertIn("ack", cmds)
        # a command id comes back in the command's acks, also in a copy
        # kept after the stream moved on
        s = c.execute(AMPS.Command("sow").set_topic("orders")
                      .set_filter("/id = -1").set_query_id("q-cid")
                      .set_command_id("cid-7").set_ack_type("completed"))
        acks = [m for m in s if m.get_command() == "ack"]
        self.assertTrue(acks)
        self.assertEqual([m.get_command_id() for m in acks],
                         ["cid-7"] * len(acks))
        self.assertEqual(acks[0].get_query_id(), "q-cid")

    def test_bad_filter(self):
        c = self.client()
        with self.assertRaises(AMPS.BadFilterError) as cm:
            c.subscribe(Collector(), "rx4", "/n >>> 1")
        self.assertIsInstance(cm.exception, AMPS.CommandError)
        self.assertEqual(cm.exception.code, AMPS._amps.ERR_BAD_FILTER)
        with self.assertRaises(AMPS.BadFilterError):
            c.sow("orders", "/id >>> 1")
        with self.assertRaises(AMPS.BadRegexTopicError):
            c.subscribe("^rx4(")

    def test_not_entitled(self):
        c = self.client()
        self.env.admin("fault fail_cmd=subscribe")
        with self.assertRaises(AMPS.NotEntitledError) as cm:
            c.subscribe(Collector(), "rx5")
        self.assertIsInstance(cm.exception, AMPS.AuthenticationError)

    def test_timeout(self):
        c = self.client()
        self.env.admin("pause-acks")
        try:
            with self.assertRaises(AMPS.TimedOutError):
                c.subscribe(Collector(), "rx6", timeout=300)
        finally:
            self.env.admin("resume-acks")
        c.publish("rx6", "{}")
        with self.assertRaises(AMPS.TimedOutError):
            self.env.admin("pause-acks")
            try:
                c.publish_flush(300)
            finally:
                self.env.admin("resume-acks")
        c.publish_flush(10000)

    def test_subscription_exists(self):
        c = self.client()
        c.subscribe(Collector(), "rx7", sub_id="dup")
        with self.assertRaises(AMPS.SubscriptionAlreadyExistsException):
            c.subscribe(Collector(), "rx7", sub_id="dup")

    def test_handler_exception_to_listener(self):
        c = self.client()
        seen = []
        c.set_exception_listener(seen.append)
        self.assertIsNotNone(c.get_exception_listener())

        def bad(m):
            raise ValueError("boom %s" % m.get_data())
        c.subscribe(bad, "rx8")
        c.publish("rx8", "1")
        harness.wait_until(lambda: seen, 10, "the exception listener")
        self.assertIsInstance(seen[0], ValueError)
        self.assertEqual(str(seen[0]), "boom 1")
        self.assertIsNotNone(seen[0].__traceback__)
        # a daemon-side end of a subscription is reported too
        c.set_exception_listener(None)

    def test_last_chance_and_state_listener(self):
        c = AMPS.Client("states")
        states = []
        c.add_connection_state_listener(states.append)
        c.set_last_chance_message_handler(lambda m: None)
        c.connect(self.env.uri())
        c.close()
        L = AMPS.ConnectionStateListener
        self.assertEqual(states, [L.Connected, L.LoggedOn, L.Shutdown])

    def test_queue_ack(self):
        c = self.client()
        for i in range(4):
            c.publish("work-in", '{"job":%d}' % i)
        c.publish_flush(10000)
        stream = c.subscribe("work", options="max_backlog=2")
        got = []
        for m in stream.timeout(10000):
            if m.get_command() != "p":
                continue
            self.assertTrue(m.get_lease_period())
            got.append(json.loads(m.get_data())["job"])
            if len(got) == 2:
                m.ack("cancel")         # back to the queue
            else:
                m.ack()
            if len(got) == 5:
                break
        stream.close()
        self.assertEqual(sorted(set(got)), [0, 1, 2, 3])
        self.assertEqual(len(got), 5)
        # nothing left: every message was acked
        left = c.subscribe("work", options="max_backlog=2").timeout(500)
        self.assertEqual([m for m in left if m.get_command() == "p"], [])
        left.close()

    def test_queue_auto_ack(self):
        c = self.client()
        c.set_auto_ack(True)
        self.assertTrue(c.get_auto_ack())
        c.set_ack_batch_size(10)
        h = Collector()
        c.subscribe(h, "work", options="max_backlog=3")
        for i in range(6):
            c.publish("work-in", '{"job":%d}' % (10 + i))
        h.wait(6)
        c.unsubscribe()
        c.ping()
        c2 = self.client()
        left = c2.subscribe("work").timeout(500)
        self.assertEqual([m for m in left if m.get_command() == "p"], [])

    def test_stream_conflation(self):
        c = self.client()
        s = c.subscribe("orders", "/id = 501").conflate()
        for q in range(1, 4):
            c.publish("orders", '{"id":501,"qty":%d}' % q)
        c.publish("orders", '{"id":502,"qty":1}')
        c.publish_flush(10000)
        c.ping()
        harness.wait_until(lambda: s.get_depth() >= 1, 10, "a message")
        s.timeout(300)
        got = [json.loads(m.get_data())["qty"] for m in s]
        self.assertEqual(got[-1], 3)
        self.assertLess(len(got), 3)
        self.assertEqual(s.max_depth(100).get_max_depth(), 100)

    def test_stream_max_depth(self):
        # A stream with max_depth(n) never holds more than n unread
        # messages: while it holds n the client reads nothing more from
        # ampsd (the rest wait in ampsd and the socket), and nothing is
        # lost or reordered.  A second client without a bound shows
        # when ampsd has sent everything.
        n, total = 5, 60
        c = self.client()
        s = c.subscribe("rx9", sub_id="deep").max_depth(n).timeout(10000)
        self.assertEqual(s.get_max_depth(), n)
        with self.assertRaises(ValueError):
            s.max_depth(-1)
        free = Collector()
        other = self.client("rx9-free")
        other.subscribe(free, "rx9")
        pub = self.client("rx9-pub")
        for i in range(total):
            pub.publish("rx9", '{"i":%d}' % i)
        pub.publish_flush(10000)
        free.wait(total, 30)
        harness.wait_until(lambda: s.get_depth() >= n, 10,
                           "the bounded stream to fill to %d" % n)
        self.assertEqual(s.get_depth(), n)
        depths, got = [], []
        it = iter(s)
        while len(got) < total:
            depths.append(s.get_depth())
            got.append(json.loads(next(it).get_data())["i"])
        self.assertEqual(got, list(range(total)))
        self.assertEqual(max(depths), n, depths)
        # the client works normally once drained
        c.ping()
        s.max_depth(0)
        pub.publish("rx9", '{"i":%d}' % total)
        self.assertEqual(json.loads(next(it).get_data())["i"], total)
        s.close()


ACL_PROGRAM = """
import AMPS
c = AMPS.Client("acl")
c.connect()
ok = c.subscribe("ok.orders")
print("subscribed ok.orders", flush=True)
try:
    c.subscribe("secret")
except AMPS.NotEntitledError as e:
    print("refused secret", e.code, flush=True)
c.publish("secret", "{}")
c.publish_flush(10000)
print("failed", c.get_failed_count(), flush=True)
"""


class AclTest(harness.EnvTestCase):
    """ampsd's allow rules refuse a user's topic: NotEntitledError (and a
    failed publish), for a program running as "nobody"."""

    SOCKET_MODE = "0666"
    CONF_EXTRA = 'allow all user "nobody" topic "^ok\\\\.";'

    def test_not_permitted(self):
        import pwd
        import shutil
        if os.getuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv")
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user nobody")
        r = self.run_py(ACL_PROGRAM, env=self.env.user_env(),
                        cwd=self.env.T, prefix=[
                            "setpriv", "--reuid=%d" % nobody.pw_uid,
                            "--regid=%d" % nobody.pw_gid, "--clear-groups"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("subscribed ok.orders", r.stdout)
        self.assertIn("refused secret %d" % AMPS._amps.ERR_NOT_PERMITTED,
                      r.stdout)
        self.assertIn("failed 1", r.stdout)


if __name__ == "__main__":
    harness.main()
