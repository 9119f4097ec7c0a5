#!/bin/bash
# test-timeout: 600
# Slow consumers while 40 MB are published (docs/IPC.md §9):
#  - a plain subscriber that stops reading: once more than 16 MiB of its
#    subscription's messages are queued, the daemon ends that
#    subscription (unsubscribed upstream, its unsent messages dropped)
#    with STREAM_END TOO_FAR_BEHIND ahead of its backlog; the program's
#    connection, its other subscription and its publishes go on;
#  - a program with 5 plain subscriptions that stops reading: its whole
#    output passes 64 MiB before any one subscription passes 16 MiB, so
#    it is dropped, and the fatal ERROR comes right after what the
#    socket already holds (its queued messages are dropped);
#  - a durable one is detached (unsubscribed upstream) once 16 MiB are
#    undiscarded, and resumed from its bookmark store when it has caught
#    up: it gets every message.
# The consumers are made slow by the test, not by their speed: each
# reads its first message and stops reading (subtest slow ... GO) until
# the daemon has logged the condition; only then may they read again.
# The daemon keeps serving other programs meanwhile.
. "$(dirname "$0")/lib.sh"

SUBTEST=$B/tests/integ/subtest
N=40000
GO=$T/go
# ampsim must not drop the daemon as a slow client of its own (a slow
# ASan build reads 40 MB x 7 subscriptions more slowly than it comes).
start_ampsim sim --ack-conflation 10 --out-limit 1073741824
write_conf "$SIMPORT"
start_ampsd
wait_for 30 ready_at_least 1 || fail "daemon never ready"

"$SUBTEST" -S "$T/ampsd.sock" slow big "$T/plain" - "$GO" \
    2>>"$T/plain.log" &
PLAIN=$!
"$SUBTEST" -S "$T/ampsd.sock" slow big "$T/multi" - "$GO" 5 \
    2>>"$T/multi.log" &
MULTI=$!
"$SUBTEST" -S "$T/ampsd.sock" slow big "$T/out" s1 "$GO" 2>>"$T/slow.log" &
SLOW=$!
PIDS="$PIDS $PLAIN $MULTI $SLOW"
for f in plain multi out; do
	wait_for 30 grep -qx S "$T/$f" ||
	    fail "$f: the consumer did not subscribe within 30 s"
done
run_pubtest -S "$T/ampsd.sock" -t big -n $N -s 1000 -F -W 300000 ||
    fail "publish failed"
"$B/ampsctl/ampsctl" ping -daemon -socket "$T/ampsd.sock" >/dev/null ||
    fail "daemon hurt"
for f in plain multi out; do
	wait_for 30 grep -qx PAUSED "$T/$f" ||
	    fail "$f: the consumer never got its first message"
done
# Nobody reads now: the daemon must report each condition by itself.
log_has 120 "$T/ampsd.log" 'ended \(too far behind\)' ||
    fail "plain: not ended TOO_FAR_BEHIND while it did not read"
log_has 120 "$T/ampsd.log" 'dropped: too far behind' ||
    fail "multi: not dropped while it did not read"
log_has 120 "$T/ampsd.log" 'behind; detached' ||
    fail "durable: never detached while it did not read"
kill -0 "$PLAIN" && kill -0 "$MULTI" && kill -0 "$SLOW" ||
    fail "a consumer ended before it was let read again"
touch "$GO"
durable_count() {
	sed -n 's/^R //p' "$T/out" | sort -un | wc -l
}
durable_all() {
	[ "$(durable_count)" -ge $N ]
}
# Wait while the durable consumer makes progress (30 s without any
# is a failure), up to 5 minutes in all.
wait_progress 30 300 durable_all durable_count ||
    fail "durable: only $(durable_count) of $N (no progress for 30 s)"
kill -0 "$SLOW" || fail "the durable consumer was dropped"

wait_exit 120 "$PLAIN" "plain: the consumer after its subscription ended"
rc=$?
[ $rc = 5 ] || fail "plain: subscription not ended with the connection alive ($rc)"
grep -q "^END 53 too far behind" "$T/plain" || fail "plain: no TOO_FAR_BEHIND end"
grep -q "^SIDE 1" "$T/plain" || fail "plain: the side subscription stopped"
got=$(grep -c '^R ' "$T/plain")
echo "plain: ended after $got messages read (16 MiB is ~16000)"
[ "$got" -lt 16000 ] || fail "plain: the end came behind the backlog ($got)"

wait_exit 120 "$MULTI" "multi: the consumer after it was dropped"
rc=$?
[ $rc = 4 ] || fail "multi: not dropped with TOO_FAR_BEHIND ($rc)"
got=$(grep -c '^R ' "$T/multi")
echo "multi: dropped after $got messages read (64 MiB is ~60000)"
[ "$got" -lt 30000 ] || fail "multi: the ERROR came behind the backlog ($got)"

log_has 30 "$T/ampsd.log" 'caught up; resuming' || fail "durable never resumed"
echo "durable slow consumer: $N messages, $(wc -l <"$T/out") deliveries"
pass
