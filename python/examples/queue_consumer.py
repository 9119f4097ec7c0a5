#!/usr/bin/env python3
"""queue_consumer.py: take messages from an AMPS queue and acknowledge
each one after processing it.

    queue_consumer.py [URI [QUEUE [COUNT]]]

max_backlog=N lets AMPS lease up to N messages to this program at once;
message.ack() removes one from the queue (ampsd batches the acks
upstream).  A message that is not acked goes back to the queue when the
program ends or its lease expires.
"""
import sys

import AMPS

uri = sys.argv[1] if len(sys.argv) > 1 else "ampsd://"
queue = sys.argv[2] if len(sys.argv) > 2 else "work"
count = int(sys.argv[3]) if len(sys.argv) > 3 else 2

client = AMPS.Client("exampleQueueConsumer")
try:
    client.connect(uri)
    client.logon()
    done = 0
    stream = client.subscribe(queue, options="max_backlog=10")
    for m in stream.timeout(30000):
        if m.get_command() != AMPS.Message.Command.Publish:
            continue
        print("processing", m.get_data(), flush=True)
        m.ack()
        done += 1
        if done >= count:
            break
    stream.close()
    if done < count:
        sys.exit("queue_consumer: %d of %d messages" % (done, count))
except AMPS.AMPSException as e:
    sys.exit("queue_consumer: %s" % e)
finally:
    client.close()
