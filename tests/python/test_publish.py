# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The ampsd authors
"""Publishing through the binding against real ampsim + ampsd: publish,
delta_publish, Command publishes, publish_flush, wait_stored and the
counts, hand-off-and-exit by a second Python process, the failed-write
handler, connect errors, a publish loop whose memory stays bounded,
connection events with their reasons, and a client that outlives an
ampsd restart.
"""

import gc
import json
import os
import threading

import AMPS
import harness


def replay(client, topic, want, seconds=20):
    """Every message of topic in AMPS's log (bookmark EPOCH), until want
    arrived or seconds passed."""
    out = []
    stream = client.subscribe(topic, bookmark=AMPS.Client.Bookmarks.EPOCH)
    stream.timeout(seconds * 1000)
    for m in stream:
        if m.get_command() == AMPS.Message.Command.Publish:
            out.append(m.get_data())
            if len(out) >= want:
                break
    stream.close()
    return out


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class PublishTest(harness.EnvTestCase):

    def test_publish_and_flush(self):
        c = self.client()
        for i in range(100):
            c.publish("pub1", '{"id":%d}' % i)
        c.publish("pub1", b'{"id":100}')
        c.publish("pub1", bytearray(b'{"id":101}'), 60)
        c.publish_flush(10000)
        self.assertEqual(c.get_unpersisted_count(), 0)
        self.assertEqual(c.get_unstored_count(), 0)
        got = replay(c, "pub1", 102)
        self.assertEqual([json.loads(d)["id"] for d in got],
                         list(range(102)))

    def test_delta_publish_merges(self):
        c = self.client()
        c.publish("orders", '{"id":7,"sym":"IBM","qty":1}')
        c.delta_publish("orders", '{"id":7,"qty":2}')
        c.publish_flush(10000)
        recs = [m.get_data() for m in c.sow("orders", "/id = 7")
                if m.get_command() == "sow"]
        self.assertEqual(len(recs), 1)
        self.assertEqual(json.loads(recs[0]),
                         {"id": 7, "sym": "IBM", "qty": 2})

    def test_command_publish(self):
        c = self.client()
        cmd = AMPS.Command("publish").set_topic("pub2") \
            .set_data('{"id":1}').set_correlation_id("abc")
        self.assertIs(cmd.get_topic(), cmd.get_topic())
        c.execute_async(cmd, None)
        c.execute(AMPS.Command("delta_publish").set_topic("orders")
                  .set_data('{"id":8,"qty":3}'))
        c.execute(AMPS.Command("flush").set_timeout(10000))
        self.assertEqual(c.get_unpersisted_count(), 0)
        self.assertEqual(replay(c, "pub2", 1), ['{"id":1}'])
        self.assertIsNone(c.execute(AMPS.Command("heartbeat")))

    def test_publish_errors(self):
        c = self.client()
        with self.assertRaises(TypeError):
            c.publish(1, "x")
        with self.assertRaises(AMPS.UsageException):
            c.publish("", "x")
        with self.assertRaises(ValueError):
            c.publish("t", "x", 2 ** 40)
        with self.assertRaises(AMPS.UsageError):
            c.execute(AMPS.Command("publish").set_topic("t"))
        with self.assertRaises(ValueError):
            AMPS.Command("nonsense")

    def test_hand_off_and_exit(self):
        """A Python program publishes, waits for stored, exits: the
        messages reach AMPS exactly once."""
        code = """
import AMPS, os
c = AMPS.Client("handoff")
c.connect()          # $AMPSD_SOCKET
for i in range(500):
    c.publish("handoff", '{"id":%d}' % i)
c.wait_stored(10000)
print("stored", c.get_unstored_count())
os._exit(0)          # no close, no flush: ampsd has them
"""
        r = self.run_py(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("stored 0", r.stdout)
        c = self.client()
        got = replay(c, "handoff", 500)
        ids = [json.loads(d)["id"] for d in got]
        self.assertEqual(ids, list(range(500)))
        # nothing more than once: a later message is the next one
        c.publish("handoff", '{"id":500}')
        c.publish_flush(10000)
        got = replay(c, "handoff", 501)
        self.assertEqual(len(got), 501)
        self.assertEqual(json.loads(got[-1])["id"], 500)

    def test_failed_write_handler(self):
        c = self.client()
        failed = []
        ev = threading.Event()

        def on_failed(message, reason):
            failed.append((message.get_sequence(), reason))
            ev.set()
        c.set_failed_write_handler(on_failed)
        self.env.admin("fault fail_cmd=publish")
        c.publish("pubfail", '{"id":1}')
        self.assertTrue(ev.wait(20), "failed-write handler not called")
        self.assertIn("not entitled", failed[0][1])
        self.assertEqual(c.get_failed_count(), 1)

    def test_connect_errors(self):
        c = AMPS.Client("x")
        with self.assertRaises(AMPS.ConnectionRefusedError):
            c.connect("ampsd://" + self.env.T + "/nosuch.sock")
        with self.assertRaises(AMPS.InvalidURIError):
            c.connect("tcp://127.0.0.1:9007/amps/json")
        with self.assertRaises(AMPS.InvalidTransportOptionsError):
            c.connect("ampsd://?bogus=1")
        with self.assertRaises(AMPS.DisconnectedError):
            c.publish("t", "x")
        with self.assertRaises(AMPS.DisconnectedError):
            c.logon()
        c.connect(self.env.uri())
        with self.assertRaises(AMPS.AlreadyConnectedError):
            c.connect(self.env.uri())
        self.assertEqual(c.get_default_connection(), "main")
        self.assertTrue(c.get_server_version())
        c.close()
        with self.assertRaises(AMPS.DisconnectedError):
            c.publish("t", "x")
        with self.assertRaises(AMPS.UsageError):
            c.connect(self.env.uri())
        c.close()           # twice is fine

    def test_named_connection(self):
        c = AMPS.Client("named")
        c.connect(self.env.uri("main"))
        self.addCleanup(c.close)
        self.assertEqual(c.get_connection(), "main")
        c.publish("named", '{"id":1}')
        c.publish_flush(10000)
        bad = AMPS.Client("named2")
        bad.connect(self.env.uri("nosuch"))
        self.addCleanup(bad.close)
        failed = []
        bad.set_failed_write_handler(lambda m, reason: failed.append(
            (m.get_error_code(), reason)))
        bad.publish("named", '{"id":2}')
        bad.publish_flush(5000)     # failures do not make it fail
        self.assertEqual(bad.get_failed_count(), 1)
        harness.wait_until(lambda: failed, 5, "the failed-write handler")
        self.assertEqual(failed[0][0], AMPS._amps.ERR_NO_SUCH_CONNECTION,
                         failed)

    def test_ampsd_settings_are_configuration(self):
        c = self.client()
        with self.assertRaisesRegex(AMPS.UsageError, "ampsd.conf"):
            c.set_server_chooser(AMPS.DefaultServerChooser().add("tcp://x"))
        with self.assertRaisesRegex(AMPS.UsageError, "ampsd.conf"):
            c.set_publish_store(AMPS.PublishStore("/tmp/x"))
        with self.assertRaisesRegex(AMPS.UsageError, "ampsd.conf"):
            c.set_bookmark_store(AMPS.MMapBookmarkStore("/tmp/x"))
        with self.assertRaisesRegex(AMPS.UsageError, "ampsd.conf"):
            c.set_reconnect_delay_strategy(AMPS.FixedDelayStrategy(100))
        c.set_heartbeat(5)
        c.set_ack_batch_size(10)
        self.assertEqual(c.get_ack_batch_size(), 10)
        self.assertIs(AMPS.HAClient, AMPS.Client)

    def test_zx_connection_event_reason(self):
        """ampsim drops ampsd's AMPS connection: the state listeners
        hear it, and get_last_connection_event() says which connection,
        why it went down (an AMPSError and its text), and that it came
        back."""
        c = self.client()
        self.assertIsNone(c.get_last_connection_event())
        seen = []
        c.add_connection_state_listener(
            lambda s: seen.append((s, c.get_last_connection_event())))
        self.env.admin("disconnect-all")
        L = AMPS.ConnectionStateListener
        harness.wait_until(
            lambda: any(s == L.Disconnected for s, _ in seen), 20,
            "a Disconnected state after ampsim dropped ampsd (seen %r)"
            % (seen,))
        down = [e for s, e in seen if s == L.Disconnected][0]
        self.assertEqual(down["connection"], "main")
        self.assertIsInstance(down["error"], AMPS.AMPSError)
        self.assertNotEqual(down["reason"], "")
        self.assertIn(down["state"], ("disconnected", "connecting",
                                      "backoff"))
        harness.wait_until(lambda: seen[-1][0] == L.Resubscribed, 20,
                           "the connection to come back (seen %r)" % (seen,))
        up = c.get_last_connection_event()
        self.assertEqual((up["state"], up["error"], up["reason"]),
                         ("connected", None, ""))
        c.publish("ev", "{}")
        c.publish_flush(10000)

    def test_zy_restart_reconnect(self):
        """With set_reconnect(ms) a client outlives an ampsd restart,
        as libampsipc does: no disconnect, its handler subscription is
        entered again, and it publishes on."""
        c = AMPS.Client("restart")
        self.assertEqual(c.set_reconnect(30000), 0)
        c.connect(self.env.uri())
        self.addCleanup(c.close)
        lost, got, states = [], [], []
        c.set_disconnect_handler(lost.append)
        c.add_connection_state_listener(states.append)
        c.subscribe(lambda m: got.append(json.loads(m.get_data())["n"]),
                    "rs", "/n >= 0")
        c.publish("rs", '{"n":1}')
        c.publish_flush(10000)
        harness.wait_until(lambda: got == [1], 10, "the first message")
        self.env.stop_ampsd()
        self.env.start_ampsd()
        harness.wait_until(lambda: c.get_reconnect_count() == 1, 30,
                           "the client to connect to the new ampsd")
        self.assertTrue(c.is_connected())
        c.publish("rs", '{"n":2}')
        c.publish_flush(20000)
        harness.wait_until(lambda: got == [1, 2], 20,
                           "the message published after the restart, "
                           "through the re-entered subscription (got %r)"
                           % (got,))
        self.assertEqual(lost, [])
        L = AMPS.ConnectionStateListener
        harness.wait_until(lambda: L.LoggedOn in states, 10,
                           "the listeners to hear the reconnect (%r)"
                           % (states,))
        told = [L.Disconnected, L.Connected, L.LoggedOn]
        self.assertTrue(any(states[i:i + 3] == told
                            for i in range(len(states))), states)

    def test_zz_disconnect_handler(self):
        """ampsd goes away: the disconnect handler and the state
        listeners hear it, calls fail with DisconnectedError, and a new
        client works once ampsd is back."""
        c = self.client()
        lost, states = [], []
        c.set_disconnect_handler(lost.append)
        c.add_connection_state_listener(states.append)
        self.env.stop_ampsd()
        try:
            harness.wait_until(lambda: lost, 10, "the disconnect handler")
            self.assertIsInstance(lost[0], AMPS.DisconnectedError)
            self.assertEqual(states, [AMPS.ConnectionStateListener
                                      .Disconnected])
            self.assertFalse(c.is_connected())
            with self.assertRaises(AMPS.DisconnectedError):
                c.publish("t", "x")
        finally:
            self.env.start_ampsd()
        d = self.client()
        d.publish("back", "{}")
        d.publish_flush(10000)

    def test_publish_loop_memory_bounded(self):
        """Publishing does not leak: objects and RSS stay bounded."""
        c = self.client()
        data = "x" * 128
        for i in range(20000):
            c.publish("loop", data)
        c.publish_flush(20000)
        gc.collect()
        objs, rss = len(gc.get_objects()), rss_kb()
        for r in range(5):
            for i in range(20000):
                c.publish("loop", data)
                c.publish("loop", b"y" * 128)
            c.publish_flush(20000)
        gc.collect()
        self.assertLess(len(gc.get_objects()) - objs, 100)
        if not harness.ASAN:    # ASan's quarantine keeps freed memory
            self.assertLess(rss_kb() - rss, 8 * 1024, "RSS grew > 8 MiB")


if __name__ == "__main__":
    harness.main()
