# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The ampsd authors
"""Composite, NVFIX and FIX builders and shredders (no daemon)."""

import unittest

import AMPS
import harness


class FormatTest(unittest.TestCase):

    def test_composite(self):
        b = AMPS.CompositeMessageBuilder()
        self.assertIs(b.append('{"a":1}'), b)
        b.append(b"\x00\x01binary").append("")
        data = b.get_data()
        self.assertEqual(data[:4], b"\x00\x00\x00\x07")
        self.assertEqual(b.size(), 3)
        p = AMPS.CompositeMessageParser()
        self.assertEqual(p.parse(data), 3)
        self.assertEqual(p.get_part(0), '{"a":1}')
        self.assertEqual(p.get_part_raw(1), b"\x00\x01binary")
        self.assertEqual(p.get_part(2), "")
        with self.assertRaises(IndexError):
            p.get_part(3)
        with self.assertRaises(ValueError):
            p.parse(b"\x00\x00\x00\x09abc")
        b.clear()
        self.assertEqual(b.get_data(), b"")

    def test_nvfix(self):
        b = AMPS.NVFIXBuilder()
        b.append("Sym", "IBM").append("Qty", 100)
        self.assertEqual(b.get_string(), "Sym=IBM\x01Qty=100\x01")
        s = AMPS.NVFIXShredder()
        self.assertEqual(s.to_map(b.get_string()),
                         {"Sym": "IBM", "Qty": "100"})
        b2 = AMPS.NVFIXBuilder("|")
        b2.append("a", "x=y")
        self.assertEqual(b2.get_string(), "a=x=y|")
        self.assertEqual(AMPS.NVFIXShredder("|").to_map("a=x=y|b=|"),
                         {"a": "x=y", "b": ""})
        with self.assertRaises(ValueError):
            b.append("bad=name", "v")
        with self.assertRaises(ValueError):
            s.to_map("novalue\x01")
        with self.assertRaises(ValueError):
            AMPS.NVFIXBuilder("=")

    def test_fix(self):
        b = AMPS.FIXBuilder()
        b.append(55, "IBM").append(38, 100)
        self.assertEqual(b.get_string(), "55=IBM\x0138=100\x01")
        self.assertEqual(AMPS.FIXShredder().to_map(b.get_bytes()),
                         {55: "IBM", 38: "100"})
        with self.assertRaises(ValueError):
            b.append(-1, "x")
        with self.assertRaises(ValueError):
            AMPS.FIXShredder().to_map("x=1\x01")
        b.reset()
        self.assertEqual(b.get_string(), "")

    def test_constants(self):
        self.assertEqual(AMPS.Message.Command.SOW, "sow")
        self.assertEqual(AMPS.Message.AckType.Processed, "processed")
        cmd = AMPS.Command("sow").set_ack_type("processed, stats")
        self.assertEqual(cmd.get_ack_type(), 0x04 | 0x20)
        cmd.add_ack_type(AMPS.Message.AckType.Completed)
        self.assertEqual(cmd.get_ack_type(), 0x04 | 0x20 | 0x10)
        with self.assertRaises(ValueError):
            cmd.set_ack_type("nonsense")
        self.assertIs(AMPS.AMPSException, AMPS.AMPSError)
        self.assertTrue(issubclass(AMPS.BadFilterError, AMPS.CommandError))
        self.assertEqual(AMPS.Command("subscribe").reset("sow")
                         .get_command(), "sow")
        m = AMPS.Message()
        self.assertEqual(m.get_data(), "")
        with self.assertRaises(AMPS.UsageError):
            m.ack()


if __name__ == "__main__":
    harness.main()
