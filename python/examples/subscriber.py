#!/usr/bin/env python3
"""subscriber.py: subscribe with a content filter; print what arrives.

    subscriber.py [URI [TOPIC [FILTER [COUNT]]]]

The handler runs on the client's receive thread; the main thread waits
for COUNT messages (default 3), at most 30 s.
"""
import sys
import threading

import AMPS

uri = sys.argv[1] if len(sys.argv) > 1 else "ampsd://"
topic = sys.argv[2] if len(sys.argv) > 2 else "messages"
filt = sys.argv[3] if len(sys.argv) > 3 else "/id > 1"
count = int(sys.argv[4]) if len(sys.argv) > 4 else 3

got = []
done = threading.Event()


def on_message(message):
    if message.get_command() == AMPS.Message.Command.Publish:
        print(message.get_data(), flush=True)
        got.append(message.get_data())
        if len(got) >= count:
            done.set()


client = AMPS.Client("exampleSubscriber")
try:
    client.connect(uri)
    client.logon()
    sub_id = client.subscribe(on_message, topic, filt)
    print("subscribed (%s)" % sub_id, file=sys.stderr, flush=True)
    if not done.wait(30):
        sys.exit("subscriber: %d of %d messages in 30 s" % (len(got), count))
    client.unsubscribe(sub_id)
except AMPS.AMPSException as e:
    sys.exit("subscriber: %s" % e)
finally:
    client.close()
