#!/bin/bash
# Queue leases: a program killed while holding leased messages; the
# daemon returns them to the queue at once, so another program gets them
# within 1 s (the lease is 30 s).
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
wait_for 10 ready_at_least 1 || fail "daemon never ready"

"$SUBTEST" -S "$T/ampsd.sock" queue work "$T/held" 2>>"$T/holder.log" &
HOLDER=$!
PIDS="$PIDS $HOLDER"
sleep 0.3
run_pubtest -S "$T/ampsd.sock" -t work-in -n 2 -F || fail "publish"
wait_for 5 lines "$T/held" 2 ||
    fail "holder did not get 2 leased messages"
"$SUBTEST" -S "$T/ampsd.sock" drain work 5 "$T/drained" \
    2>>"$T/drain.log" &
DRAIN=$!
PIDS="$PIDS $DRAIN"
sleep 0.3
run_pubtest -S "$T/ampsd.sock" -t work-in -f 2 -n 3 -F || fail "publish"
wait_for 5 lines "$T/drained" 3 ||
    fail "second consumer did not get the 3 free messages"
t0=$(now_ms)
kill -9 "$HOLDER"
wait_for 5 lines "$T/drained" 5 ||
    fail "leased messages of the killed program never arrived"
dt=$(($(now_ms) - t0))
echo "leased messages reached the other program in $dt ms"
[ "$dt" -le 1000 ] || fail "took $dt ms (> 1 s)"
[ "$(sort -u "$T/drained" | wc -l)" = 5 ] || fail "duplicates: $(cat "$T/drained")"
wait "$DRAIN" || fail "drain consumer failed"
pass
