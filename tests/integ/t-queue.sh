#!/bin/bash
# Queue leases: a program killed while holding leased messages; the
# daemon returns them to the queue at once, so another program gets them
# well before the 30 s lease would expire (10 s at most, for a loaded
# machine).
. "$(dirname "$0")/lib.sh"

SUBTEST=$B/tests/integ/subtest
# lines FILE N: FILE has N lines (re-evaluated by wait_for on every try)
lines() {
	[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]
}
start_ampsim sim --ack-conflation 10 --conf-line "txlog .*" \
    --conf-line "queue work topic=work-in semantics=at-least-once lease=30s backlog=10"
write_conf "$SIMPORT"
start_ampsd
wait_for 30 ready_at_least 1 || fail "daemon never ready"

"$SUBTEST" -S "$T/ampsd.sock" queue work "$T/held" 2>>"$T/holder.log" &
HOLDER=$!
PIDS="$PIDS $HOLDER"
# No fixed pause for the subscriptions: the queue keeps what is
# published before a consumer subscribes, and the holder has its 2
# leases before the second consumer exists.
run_pubtest -S "$T/ampsd.sock" -t work-in -n 2 -F || fail "publish"
wait_for 30 lines "$T/held" 2 ||
    fail "holder did not get 2 leased messages"
"$SUBTEST" -S "$T/ampsd.sock" drain work 5 "$T/drained" \
    2>>"$T/drain.log" &
DRAIN=$!
PIDS="$PIDS $DRAIN"
run_pubtest -S "$T/ampsd.sock" -t work-in -f 2 -n 3 -F || fail "publish"
wait_for 30 lines "$T/drained" 3 ||
    fail "second consumer did not get the 3 free messages"
t0=$(now_ms)
kill -9 "$HOLDER"
wait_for 30 lines "$T/drained" 5 ||
    fail "leased messages of the killed program never arrived"
dt=$(($(now_ms) - t0))
echo "leased messages reached the other program in $dt ms"
# Released when the program's connection went, not when the 30 s lease
# expired (10 s leaves room for a loaded machine).
[ "$dt" -le 10000 ] || fail "took $dt ms: lease expiry, not the disconnect?"
[ "$(sort -u "$T/drained" | wc -l)" = 5 ] || fail "duplicates: $(cat "$T/drained")"
wait_exit 30 "$DRAIN" "drain consumer (5 messages)" || fail "drain consumer failed"
pass
