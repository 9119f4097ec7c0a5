#!/usr/bin/env python3
"""durable.py: a bookmark subscription that resumes where it left off,
across restarts of this program (and of ampsd).

    durable.py [URI [TOPIC [NAME [COUNT]]]]

ampsd keeps the subscription's bookmark store under NAME (the sub_id).
Each processed message is discarded (message.discard()); the next run
with the same NAME and Client.Bookmarks.MOST_RECENT starts right after
the last discarded one.  Stops after COUNT (default 3) messages or 10 s
without one.
"""
import sys

import AMPS

uri = sys.argv[1] if len(sys.argv) > 1 else "ampsd://"
topic = sys.argv[2] if len(sys.argv) > 2 else "ticks"
name = sys.argv[3] if len(sys.argv) > 3 else "dash"
count = int(sys.argv[4]) if len(sys.argv) > 4 else 3

client = AMPS.HAClient(name)
try:
    client.connect(uri)
    client.logon()
    n = 0
    stream = client.subscribe(topic, sub_id=name,
                              bookmark=AMPS.Client.Bookmarks.MOST_RECENT)
    for m in stream.timeout(10000):
        if m.get_command() != AMPS.Message.Command.Publish:
            continue
        print(m.get_data(), flush=True)
        m.discard()                 # processed: resume after this one
        n += 1
        if n >= count:
            break
    stream.close()
    client.ping()                   # ampsd has every discard
except AMPS.AMPSException as e:
    sys.exit("durable: %s" % e)
finally:
    client.close()
