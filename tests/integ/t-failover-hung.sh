#!/bin/bash
# RELIABILITY.md finding 29: a hung primary (SIGSTOP: its kernel still
# accepts TCP connections, nothing answers) is left for the next server
# within heartbeat timeout + the first back-off delay + one logon round
# trip.  Before the fix ampsd retried the same server and waited a whole
# logon timeout (3 s + 10 s).  Prints the measured failover time.
. "$(dirname "$0")/lib.sh"

start_ampsim a
PA=$SIMPORT
start_ampsim b
PB=$SIMPORT
HB_TIMEOUT=3000
BACKOFF=50
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "hung-$$";
	server "tcp://127.0.0.1:$PA/amps/json" "tcp://127.0.0.1:$PB/amps/json";
	heartbeat 1s timeout ${HB_TIMEOUT}ms;
	reconnect exponential initial ${BACKOFF}ms max 500ms factor 2;
}
EOC
start_ampsd
wait_for 30 grep -q -- "-> ready (server tcp://127.0.0.1:$PA/" \
    "$T/ampsd.log" || fail "never ready on the primary"
APID=$(cat "$T/a.pid")
cont_a() { kill -CONT "$APID" 2>/dev/null; }
trap 'cont_a; cleanup' EXIT
kill -STOP "$APID"
t0=$(now_ms)
wait_for 30 grep -q -- "-> ready (server tcp://127.0.0.1:$PB/" \
    "$T/ampsd.log" || { cont_a; fail "never failed over to the secondary"; }
t1=$(now_ms)
cont_a
took=$((t1 - t0))
# One logon round trip on loopback, plus polling (0.1 s) and a loaded
# machine: 1.5 s of slack.
bound=$((HB_TIMEOUT + BACKOFF + 1500))
echo "failover from a hung primary took $took ms (bound $bound ms:" \
    "heartbeat timeout $HB_TIMEOUT + back-off $BACKOFF + logon round trip)"
grep -q "no data or heartbeat" "$T/ampsd.log" ||
    fail "the silence was not what ended the link"
if grep -- "-> connecting (server tcp://127.0.0.1:$PA/" "$T/ampsd.log" |
    sed -n '2p' | grep -q .; then
	fail "retried the hung primary before the secondary"
fi
[ "$took" -le "$bound" ] || fail "failover took $took ms (> $bound)"
pass
