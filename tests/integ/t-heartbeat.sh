#!/bin/bash
# When the server stops heartbeating, ampsd notices within the idle
# timeout (2 x interval) and is logged on again promptly (PROTOCOL.md §14).
. "$(dirname "$0")/lib.sh"

start_ampsim sim
write_conf "$SIMPORT" "heartbeat 1s timeout 2s;"
start_ampsd
wait_for 10 ready_at_least 1 || fail "never ready"
sleep 1.5
sim_admin "fault no_heartbeats=1" >/dev/null || fail "fault not set"
t0=$(now_ms)
wait_for 6 grep -q 'no data or heartbeat' "$T/ampsd.log" ||
    fail "silence not detected"
t1=$(now_ms)
sim_admin "fault no_heartbeats=0" >/dev/null
wait_for 6 ready_at_least 2 || fail "not logged on again"
t2=$(now_ms)
echo "detected after $((t1 - t0)) ms, ready again after $((t2 - t0)) ms"
# Detection at the 2 s timeout; allow polling slack.
[ $((t1 - t0)) -le 2600 ] || fail "detection took $((t1 - t0)) ms"
[ $((t2 - t0)) -le 3500 ] || fail "reconnect took $((t2 - t0)) ms"
pass
