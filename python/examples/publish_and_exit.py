#!/usr/bin/env python3
"""publish_and_exit.py: hand messages to ampsd and exit at once.

    publish_and_exit.py [URI [TOPIC [COUNT]]]

wait_stored() returns when ampsd has committed every publish to its
store; ampsd then delivers them to AMPS (across its own restarts and
AMPS failover) after this program is gone.  No AMPS client can do this:
there, a program must stay until AMPS has persisted its messages.
"""
import sys

import AMPS

uri = sys.argv[1] if len(sys.argv) > 1 else "ampsd://"
topic = sys.argv[2] if len(sys.argv) > 2 else "handoff"
count = int(sys.argv[3]) if len(sys.argv) > 3 else 100

client = AMPS.Client("examplePublishAndExit")
try:
    client.connect(uri)
    client.logon()
    for i in range(count):
        client.publish(topic, '{"id":%d}' % i)
    client.wait_stored(10000)
    print("%d messages stored by ampsd; exiting" % count)
except AMPS.AMPSException as e:
    sys.exit("publish_and_exit: %s" % e)
finally:
    client.close()
