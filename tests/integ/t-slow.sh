#!/bin/bash
# Slow consumers while 90 MB are published: a plain subscriber that stops
# reading is dropped once its output passes the per-program bound
# (64 MiB, "too far behind"); a durable one is detached (unsubscribed
# upstream) once 16 MiB are undiscarded, and resumed from its bookmark
# store when it has caught up: it gets every message.  The daemon keeps
# serving other programs.
. "$(dirname "$0")/lib.sh"

SUBTEST=$B/tests/integ/subtest
N=90000
start_ampsim sim --ack-conflation 10
write_conf "$SIMPORT"
start_ampsd
wait_for 10 ready_at_least 1 || fail "daemon never ready"

"$SUBTEST" -S "$T/ampsd.sock" slow big "$T/plain" - 8000 2>>"$T/plain.log" &
PLAIN=$!
"$SUBTEST" -S "$T/ampsd.sock" slow big "$T/out" s1 4000 2>>"$T/slow.log" &
SLOW=$!
PIDS="$PIDS $PLAIN $SLOW"
sleep 0.3
run_pubtest -S "$T/ampsd.sock" -t big -n $N -s 1000 -F -W 60000 ||
    fail "publish failed"
"$B/libampsipc/ampsctl" ping -socket "$T/ampsd.sock" >/dev/null ||
    fail "daemon hurt"
all_there() {
	[ "$(sed -n 's/^R //p' "$T/out" | sort -un | wc -l)" -ge $N ]
}
wait_for 60 all_there ||
    fail "only $(sed -n 's/^R //p' "$T/out" | sort -un | wc -l) of $N"
kill -0 "$SLOW" || fail "the durable consumer was dropped"
wait "$PLAIN"
rc=$?
# 4: the program read the reason; 3: the daemon closed before the
# program read up to it (the reason is behind 64 MiB of output).
[ $rc = 4 ] || [ $rc = 3 ] || fail "slow plain subscriber not dropped ($rc)"
grep -q "dropped: too far behind" "$T/ampsd.log" || fail "no clear reason"
grep -q "behind; detached" "$T/ampsd.log" || fail "durable never detached"
grep -q "caught up; resuming" "$T/ampsd.log" || fail "durable never resumed"
echo "durable slow consumer: $N messages, $(wc -l <"$T/out") deliveries"
pass
