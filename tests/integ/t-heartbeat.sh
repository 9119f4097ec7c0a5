#!/bin/bash
# When the server stops heartbeating, ampsd notices within the idle
# timeout (2 x interval) and is logged on again promptly (PROTOCOL.md §14).
# Times come from the daemon's own log timestamps (log file), so a slow
# shell on a loaded machine does not count; only the daemon's timers do.
. "$(dirname "$0")/lib.sh"

start_ampsim sim
write_conf "$SIMPORT" "heartbeat 1s timeout 2s;"
sed -i "s|^log stderr;|log file \"$T/ampsd.log\";|" "$T/ampsd.conf"
start_ampsd
wait_for 30 ready_at_least 1 || fail "never ready"
# log_ms PATTERN [N]: the time (ms) of the Nth log line matching PATTERN.
log_ms() {
	_l=$(grep -- "$1" "$T/ampsd.log" | sed -n "${2:-1}p")
	[ -n "$_l" ] || return 1
	echo $(($(date -d "${_l%% *}" +%s%3N)))
}
t0=$(now_ms)
sim_admin "fault no_heartbeats=1" >/dev/null || fail "fault not set"
log_has 30 "$T/ampsd.log" 'no data or heartbeat' ||
    fail "silence not detected within 30 s"
sim_admin "fault no_heartbeats=0" >/dev/null
wait_for 30 ready_at_least 2 || fail "not logged on again"
t1=$(log_ms 'no data or heartbeat') || fail "no timestamp on the detection"
t2=$(log_ms '-> ready' 2) || fail "no timestamp on the second ready"
echo "detected after $((t1 - t0)) ms, ready again $((t2 - t1)) ms later"
# The last data came at most one interval (1 s) before the fault, so the
# 2 s timeout fires between 1 s and 2 s after it (plus timer slack).
[ $((t1 - t0)) -ge 900 ] || fail "detected too early: $((t1 - t0)) ms"
[ $((t1 - t0)) -le 2600 ] || fail "detection took $((t1 - t0)) ms"
# Reconnect back-off starts at 50 ms: logged on again well within 1.5 s.
[ $((t2 - t1)) -le 1500 ] || fail "reconnect took $((t2 - t1)) ms"
pass
