#!/bin/bash
# No server reachable: ampsd gives up after the give-up time (state
# gave-up), still stores publishes, times out flushes, and after SIGHUP
# reconnects and delivers them once the server is there.
. "$(dirname "$0")/lib.sh"

[ -x "$B/ampsctl/ampsctl" ] || { OK=1; echo "SKIP: no ampsctl"; exit 77; }
start_ampsim probe
PORT=$SIMPORT
kill -9 "$(cat "$T/probe.pid")"
write_conf "$PORT" "heartbeat 1s;
	reconnect exponential initial 50ms max 200ms factor 2 give-up 1s;"
start_ampsd
wait_for 30 grep -q 'giving up reconnecting' "$T/ampsd.log" ||
    fail "never gave up"
"$B/ampsctl/ampsctl" status -raw -socket "$T/ampsd.sock" >"$T/status" 2>&1
grep -q "state=stopped .*detail=gave-up" "$T/status" || fail "status: $(cat "$T/status")"
run_pubtest -S "$T/ampsd.sock" -t orders -n 100 || fail "not stored"
# A flush cannot complete while no server is reachable: it times out, and
# the messages stay stored.
run_pubtest -S "$T/ampsd.sock" -t orders -f 100 -n 1 -F -W 500 &&
    fail "flush succeeded without a server"
grep -q -e 'not yet persisted' -e 'timed out' "$T/pubtest.log" ||
    fail "no flush timeout"
"$AMPSIM" -p "$PORT" --port-file "$T/sim2.port" -d "$T/sim2.txlog" \
    >>"$T/sim2.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 30 test -s "$T/sim2.port" || fail "second ampsim did not start"
SIMPORT=$PORT
kill -HUP "$AMPSD_PID"
wait_for 30 ready_at_least 1 || fail "no logon after SIGHUP"
seq 0 100 >"$T/want"
got() {
	replay_ids orders >"$T/got"
	cmp -s "$T/want" "$T/got"
}
wait_for 30 got || fail "stored messages not delivered after SIGHUP"
pass
