#!/bin/bash
# A dropped link is retried on the same server first (PROTOCOL.md §15.2); when
# the primary dies, ampsd moves to the next server of the list and a
# program's publishes are persisted there, in order.
. "$(dirname "$0")/lib.sh"

start_ampsim a
PA=$SIMPORT
start_ampsim b
PB=$SIMPORT
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "failover-$$";
	server "tcp://127.0.0.1:$PA/amps/json" "tcp://127.0.0.1:$PB/amps/json";
	heartbeat 1s;
	reconnect exponential initial 50ms max 500ms factor 2 give-up never;
}
EOC
start_ampsd
wait_for 30 ready_at_least 1 || fail "never ready"
ADMINPORT=$(sed -n 's/^admin=//p' "$T/a.port")
sim_admin "disconnect-all" >/dev/null || fail "admin disconnect"
wait_for 30 ready_at_least 2 || fail "not back after a drop"
[ "$(grep -c -- "-> ready (server tcp://127.0.0.1:$PA/" "$T/ampsd.log")" \
    -eq 2 ] || fail "did not retry the same server first"
kill -9 "$(cat "$T/a.pid")"
run_pubtest -S "$T/ampsd.sock" -t orders -n 500 -F -W 20000 ||
    fail "publish after failover failed"
log_has 30 "$T/ampsd.log" "-> ready \\(server tcp://127.0.0.1:$PB/" ||
    fail "never ready on the second server"
SIMPORT=$PB
seq 0 499 >"$T/want"
got_all() {
	replay_ids orders >"$T/got"
	cmp -s "$T/want" "$T/got"
}
wait_for 30 got_all || fail "server b does not hold 0..499 in order"
pass
