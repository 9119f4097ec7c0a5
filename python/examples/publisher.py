#!/usr/bin/env python3
"""publisher.py: publish a few messages through ampsd and wait until AMPS
has persisted them.

    publisher.py [URI [TOPIC [COUNT]]]

URI is an ampsd URI (default: ampsd://, the socket in $AMPSD_SOCKET or
the default one).  As in the AMPS client guide, only the connect URI
differs from a program written for the AMPS Python client.
"""
import sys

import AMPS

uri = sys.argv[1] if len(sys.argv) > 1 else "ampsd://"
topic = sys.argv[2] if len(sys.argv) > 2 else "messages"
count = int(sys.argv[3]) if len(sys.argv) > 3 else 10

client = AMPS.Client("examplePublisher")
try:
    client.connect(uri)
    client.logon()
    for i in range(count):
        client.publish(topic, '{"id":%d,"text":"hello, world"}' % i)
    client.publish_flush(10000)       # every publish persisted by AMPS
    print("published %d messages to %s" % (count, topic))
except AMPS.AMPSException as e:
    sys.exit("publisher: %s" % e)
finally:
    client.close()
