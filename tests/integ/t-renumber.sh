#!/bin/bash
# RELIABILITY.md findings 23 and 28, with real processes.
#
# Finding 23: a re-provisioned host (state directory wiped, same client
# name) stores 100 messages while AMPS is unreachable: they get sequence
# 1..100, below the 200 AMPS already holds for the name.  At the first
# logon ampsd renumbers them above 200, in order, and AMPS receives all
# 100 (before the fix it took them as duplicates: 100 of 100 lost).
#
# Finding 28: AMPS restarted without its log (s = 0) while ampsd's store
# has persisted up to 300: ampsd goes ready with a warning that the
# server lost messages (before the fix it stayed "recovering"), and a new
# message still reaches AMPS.
. "$(dirname "$0")/lib.sh"

start_ampsim sim
PORT=$SIMPORT
SIMPID=$(cat "$T/sim.pid")
write_conf "$PORT" "heartbeat 1s;"
# restart_sim [ampsim options]: ampsim again on the same port.
restart_sim() {
	kill "$SIMPID" 2>/dev/null
	wait_exit 60 "$SIMPID" "ampsim (SIGTERM)"
	rm -f "$T/sim.port"
	"$AMPSIM" -p "$PORT" --port-file "$T/sim.port" --admin-port 0 "$@" \
	    >>"$T/sim.log" 2>&1 &
	SIMPID=$!
	PIDS="$PIDS $SIMPID"
	wait_for 30 test -s "$T/sim.port" || fail "ampsim did not restart"
	ADMINPORT=$(sed -n 's/^admin=//p' "$T/sim.port")
}

# 200 messages persisted under the client name.
start_ampsd
run_pubtest -S "$T/ampsd.sock" -t orders -f 0 -n 200 -F -W 30000 ||
    fail "first publish failed"
stop_ampsd
# The host is re-provisioned: empty state directory, AMPS unreachable.
rm -rf "$T/state"
kill "$SIMPID"
wait_exit 60 "$SIMPID" "ampsim (SIGTERM)"
start_ampsd
: >"$T/stored"
run_pubtest -S "$T/ampsd.sock" -t orders -f 1000 -n 100 -o "$T/stored" \
    -W 30000 || fail "offline publish not stored"
[ "$(wc -l <"$T/stored")" -eq 100 ] || fail "not all 100 stored"
restart_sim -d "$T/sim.txlog"
seq 0 199 >"$T/want"
seq 1000 1099 >>"$T/want"
got_all() {
	replay_ids orders >"$T/got"
	cmp -s "$T/want" "$T/got"
}
wait_for 30 got_all || {
	echo "AMPS holds $(wc -l <"$T/got") messages, want 300"
	fail "messages stored while AMPS was away did not all reach it"
}
grep -q "renumbered 201..300" "$T/ampsd.log" ||
    fail "no warning about the renumbering"
echo "all 100 offline messages reached AMPS as 201..300"

# AMPS loses its log: restarted in memory, it reports s = 0.
stop_ampsd
restart_sim
n0=$(ready_count)
start_ampsd
wait_for 30 ready_at_least $((n0 + 1)) ||
    fail "did not go ready after a logon below the persisted point"
grep -q "server lost messages 1..300" "$T/ampsd.log" ||
    fail "no warning about the server's lost sequence"
run_pubtest -S "$T/ampsd.sock" -t orders -f 5000 -n 1 -F -W 30000 ||
    fail "publish after the server lost its log failed"
one_new() { [ "$(replay_ids orders)" = 5000 ]; }
wait_for 30 one_new || fail "the new message did not reach AMPS"
pass
