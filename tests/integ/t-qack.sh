#!/bin/bash
# Queue acks by the connection's policy (`queue-ack batch N timeout DUR`):
#  1. batch 10 timeout 200ms, 25 leased messages acked together: AMPS
#     gets three ack commands, 10 and 10 at once and 5 once the timeout
#     passed; nothing comes again (the lease is 1 s, the consumer keeps
#     reading 1.5 s).
#  2. a program that leaves and still has acks waiting: they go
#     upstream before its subscription ends (sizes end with 5).
#  3. batch 10 timeout 30s with a granted backlog of 3, acking each
#     message: acks go out as soon as the backlog would block, so 20
#     messages arrive in far less than one timeout.
. "$(dirname "$0")/lib.sh"

SUBTEST=$B/tests/integ/subtest
# lines FILE N: FILE has N "Q" lines
qlines() {
	[ "$(grep -c '^Q ' "$1" 2>/dev/null || echo 0)" -ge "$2" ]
}
# qack KEY: one value of ampsim's "qacks" reply
qack() {
	sim_admin qacks | tr ' ' '\n' | sed -n "s/^$1=//p"
}
qack_frames_at_least() {
	[ "$(qack frames)" -ge "$1" ]
}

# The consumers need no fixed pause before the publishes: a queue keeps
# what is published before its consumer subscribes.
start_ampsim sim --ack-conflation 10 --conf-line "txlog .*" \
    --conf-line "queue jobs topic=jobs-in semantics=at-least-once lease=1s backlog=100" \
    --conf-line "queue small topic=small-in semantics=at-least-once lease=30s backlog=3"
write_conf "$SIMPORT" "queue-ack batch 10 timeout 200ms;"
start_ampsd
wait_for 30 ready_at_least 1 || fail "daemon never ready"

# 1: 25 held, then acked together.
"$SUBTEST" -S "$T/ampsd.sock" ackq jobs 100 25 "$T/jobs" all \
    2>>"$T/ackq1.log" &
C1=$!
PIDS="$PIDS $C1"
run_pubtest -S "$T/ampsd.sock" -t jobs-in -n 25 -F || fail "publish"
wait_for 30 qlines "$T/jobs" 25 || fail "25 leased messages never came"
wait_for 30 grep -q '^A ' "$T/jobs" || fail "consumer never acked"
wait_for 30 qack_frames_at_least 3 || fail "acks: $(sim_admin qacks)"
t3=$(now_ms)
ta=$(sed -n 's/^A //p' "$T/jobs")
[ "$(qack sizes)" = "10,10,5" ] ||
    fail "ack commands were not 10,10,5: $(sim_admin qacks)"
echo "last ack command seen $((t3 - ta)) ms after the program acked"
[ $((t3 - ta)) -ge 50 ] || fail "the last 5 did not wait for the timeout"
wait_exit 60 "$C1" "consumer 1" || fail "consumer 1 failed"
[ "$(grep -c '^Q ' "$T/jobs")" = 25 ] ||
    fail "messages came again: $(grep -c '^Q ' "$T/jobs") deliveries"
[ "$(qack bookmarks)" = 25 ] || fail "acked $(qack bookmarks) of 25"

# 2: pending acks of a program that leaves go before its unsubscribe.
"$SUBTEST" -S "$T/ampsd.sock" ackq jobs 100 5 "$T/jobs2" all \
    2>>"$T/ackq2.log" &
C2=$!
PIDS="$PIDS $C2"
run_pubtest -S "$T/ampsd.sock" -t jobs-in -f 100 -n 5 -F || fail "publish"
wait_exit 60 "$C2" "consumer 2" || fail "consumer 2 failed"
wait_for 30 qack_frames_at_least 4 || fail "acks of a closed program lost"
case $(qack sizes) in *,5) ;; *) fail "sizes $(qack sizes)" ;; esac
[ "$(qack bookmarks)" = 30 ] || fail "acked $(qack bookmarks) of 30"

# 3: backlog 3 < batch 10, timeout 30 s: no stall.
stop_ampsd
write_conf "$SIMPORT" "queue-ack batch 10 timeout 30s;"
start_ampsd
wait_for 30 ready_at_least 2 || fail "daemon never ready again"
before=$(qack frames)
"$SUBTEST" -S "$T/ampsd.sock" ackq small 3 20 "$T/small" each \
    2>>"$T/ackq3.log" &
C3=$!
PIDS="$PIDS $C3"
t0=$(now_ms)
run_pubtest -S "$T/ampsd.sock" -t small-in -f 200 -n 20 -F || fail "publish"
wait_for 30 qlines "$T/small" 20 ||
    fail "delivery stalled: $(grep -c '^Q ' "$T/small") of 20"
dt=$(($(now_ms) - t0))
echo "20 messages with backlog 3 and batch 10 in $dt ms"
[ "$dt" -lt 20000 ] || fail "took $dt ms: acks waited for the 30 s timeout"
wait_exit 60 "$C3" "consumer 3" || fail "consumer 3 failed"
# ampsim keeps the last 32 sizes: skip those of parts 1 and 2
for n in $(qack sizes | tr ',' '\n' | tail -n +$((before + 1))); do
	[ "$n" -le 3 ] || fail "an ack command of $n (granted backlog 3)"
done
[ $(($(qack frames) - before)) -ge 7 ] ||
    fail "only $(($(qack frames) - before)) ack commands for 20 acks"
pass
