#!/bin/bash
# Durable bookmark subscription (DESIGN.md §4 promise 2): while a
# publisher streams N messages the consumer is killed at random points
# (fixed seed); once the publisher has handed everything over, ampsd is
# killed -9 several times under the consumer.  Every message must be
# processed at least once, none that was discarded (confirmed "D") may be
# delivered again, and nothing may be missing.
. "$(dirname "$0")/lib.sh"

SUBTEST=$B/tests/integ/subtest
N=3000
RANDOM=4242
start_ampsim sim --ack-conflation 10
write_conf "$SIMPORT"
start_ampsd
wait_for 30 ready_at_least 1 || fail "daemon never ready"

CPID=
consume() {
	"$SUBTEST" -S "$T/ampsd.sock" durable d1 dur "$T/out" \
	    2>>"$T/consumer.log" &
	CPID=$!
	PIDS="$PIDS $CPID"
}
processed() {
	[ -f "$T/out" ] || { echo 0; return; }
	sed -n 's/^R //p' "$T/out" | sort -u | wc -l
}
all_processed() {
	[ "$(processed)" -ge $N ]
}

run_pubtest -S "$T/ampsd.sock" -t dur -n $N -d 40000 -F &
PUB=$!
PIDS="$PIDS $PUB"

# progressed K: the consumer has processed K more messages than at
# PROGRESS_FROM (or all N), for killing it mid-stream at a pseudo-random
# point rather than after a fixed time.
progressed() {
	_p=$(processed)
	[ "$_p" -ge $((PROGRESS_FROM + $1)) ] || [ "$_p" -ge $N ]
}
# kill_point: wait until the consumer processed 5..64 more messages.
kill_point() {
	PROGRESS_FROM=$(processed)
	_k=$((5 + RANDOM % 60))
	wait_for 60 progressed "$_k" ||
	    fail "the consumer did not process $_k more (at $(processed))"
}
# Phase 1: kill the consumer at 6 pseudo-random points.
for i in 1 2 3 4 5 6; do
	consume
	kill_point
	kill -9 "$CPID" 2>/dev/null
	wait_exit 30 "$CPID" "the consumer after kill -9"
done
# The publisher must have handed everything over before the daemon is
# killed: a publisher that lost its daemon cannot know which of its
# unanswered messages were committed, and publishing them again would be
# new messages with old ids, not redeliveries.  (t-kill9 covers the
# publisher under kill -9.)  The consumer is still mid-stream: it has
# processed only a few hundred of the N messages here.
wait_exit 120 "$PUB" "the publisher" || fail "publisher failed"
# Phase 2: kill -9 the daemon 3 times under the consumer.
for i in 1 2 3; do
	consume
	kill_point
	stop_ampsd KILL
	wait_exit 30 "$CPID" "the consumer after the daemon's kill -9"
	start_ampsd
	wait_for 30 ready_at_least $((i + 1)) || fail "daemon not ready again"
done
consume
wait_progress 30 300 all_processed processed || {
	kill -9 "$CPID"
	fail "only $(processed) of $N processed"
}
sleep 0.5
kill -9 "$CPID"
awk -v n=$N '
	$1 == "D" { d[$2] = 1 }
	$1 == "R" { if ($2 in d) { printf "id %s delivered again after its discard\n", $2; bad = 1 }; r[$2] = 1 }
	END {
		for (i = 0; i < n; i++) if (!(i in r)) { printf "id %d missing\n", i; bad = 1 }
		exit bad
	}' "$T/out" || fail "durable subscription broke its promise"
echo "processed $N messages; $(grep -c '^R' "$T/out") deliveries in all"
pass
