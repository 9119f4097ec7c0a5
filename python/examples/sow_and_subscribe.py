#!/usr/bin/env python3
"""sow_and_subscribe.py: the current records, then live updates, with
out-of-focus (OOF) notices when a record stops matching the filter.

    sow_and_subscribe.py [URI [TOPIC [FILTER [COUNT]]]]

Prints "sow", "p" or "oof" and the data of each message; stops after
COUNT (default 3) messages after the SOW part, at most 30 s.
"""
import sys

import AMPS

uri = sys.argv[1] if len(sys.argv) > 1 else "ampsd://"
topic = sys.argv[2] if len(sys.argv) > 2 else "orders"
filt = sys.argv[3] if len(sys.argv) > 3 else "/qty > 100"
count = int(sys.argv[4]) if len(sys.argv) > 4 else 3

client = AMPS.Client("exampleSOWAndSubscribe")
try:
    client.connect(uri)
    client.logon()
    stream = client.sow_and_subscribe(topic, filt, oof_enabled=True)
    stream.timeout(30000)
    live = 0
    for m in stream:
        cmd = m.get_command()
        if cmd in (AMPS.Message.Command.GroupBegin,
                   AMPS.Message.Command.GroupEnd):
            continue
        if cmd == AMPS.Message.Command.OOF:
            print("oof", m.get_data(), m.get_reason(), flush=True)
        else:
            print(cmd, m.get_data(), flush=True)
        if cmd != AMPS.Message.Command.SOW:
            live += 1
            if live >= count:
                break
    stream.close()
    if live < count:
        sys.exit("sow_and_subscribe: %d of %d updates" % (live, count))
except AMPS.AMPSException as e:
    sys.exit("sow_and_subscribe: %s" % e)
finally:
    client.close()
