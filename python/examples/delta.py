#!/usr/bin/env python3
"""delta.py: delta_publish merges fields into a SOW record; a
delta_subscribe sees only what changed.

    delta.py [URI [TOPIC]]
"""
import sys

import AMPS

uri = sys.argv[1] if len(sys.argv) > 1 else "ampsd://"
topic = sys.argv[2] if len(sys.argv) > 2 else "orders"

client = AMPS.Client("exampleDelta")
try:
    client.connect(uri)
    client.logon()
    client.publish(topic, '{"id":42,"sym":"IBM","qty":100}')
    client.publish_flush(10000)
    stream = client.delta_subscribe(topic, "/id = 42").timeout(10000)
    client.delta_publish(topic, '{"id":42,"qty":250}')
    for m in stream:
        print("delta:", m.get_data())
        break
    stream.close()
    client.publish_flush(10000)
    for m in client.sow(topic, "/id = 42"):
        if m.get_command() == AMPS.Message.Command.SOW:
            print("merged:", m.get_data())
except AMPS.AMPSException as e:
    sys.exit("delta: %s" % e)
finally:
    client.close()
