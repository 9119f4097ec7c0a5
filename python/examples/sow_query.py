#!/usr/bin/env python3
"""sow_query.py: query a SOW topic and print each record.

    sow_query.py [URI [TOPIC [FILTER]]]

Without a handler, sow() returns a MessageStream: group_begin, the
records, group_end.
"""
import sys

import AMPS

uri = sys.argv[1] if len(sys.argv) > 1 else "ampsd://"
topic = sys.argv[2] if len(sys.argv) > 2 else "orders"
filt = sys.argv[3] if len(sys.argv) > 3 else None

client = AMPS.Client("exampleSOW")
try:
    client.connect(uri)
    client.logon()
    n = 0
    for message in client.sow(topic, filt, batch_size=10, timeout=10000):
        if message.get_command() == AMPS.Message.Command.SOW:
            print(message.get_data())
            n += 1
    print("%d records" % n, file=sys.stderr)
except AMPS.AMPSException as e:
    sys.exit("sow_query: %s" % e)
finally:
    client.close()
