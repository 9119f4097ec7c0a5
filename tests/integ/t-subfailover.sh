#!/bin/bash
# Subscriptions across failover to a replica (PROTOCOL.md §15.4, §17.4 scenario
# 30): a durable bookmark subscription resumes on the replica from its
# bookmark store with nothing missing; a sow_and_subscribe is re-run
# (the program sees a second group_begin) and keeps receiving; a
# synchronous stream ends with DISCONNECTED.
. "$(dirname "$0")/lib.sh"

SUBTEST=$B/tests/integ/subtest
N=2000
RANDOM=977

start_ampsim b --repl-port 0
PB=$SIMPORT
ADMIN_B=$ADMINPORT
REPL_B=$(sed -n 's/^repl=//p' "$T/b.port")
start_ampsim a --repl-port 0 --peer "127.0.0.1:$REPL_B" --repl-sync \
    --ack-conflation 10
PA=$SIMPORT
REPL_A=$(sed -n 's/^repl=//p' "$T/a.port")
ADMINPORT=$ADMIN_B
sim_admin "peer 127.0.0.1:$REPL_A" >/dev/null || fail "admin peer on b"
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "subfo-$$";
	server "tcp://127.0.0.1:$PA/amps/json" "tcp://127.0.0.1:$PB/amps/json";
	heartbeat 1s;
	reconnect exponential initial 50ms max 500ms factor 2 give-up never;
}
EOC
start_ampsd
wait_for 10 ready_at_least 1 || fail "never ready on the primary"

"$SUBTEST" -S "$T/ampsd.sock" async dur "$T/dur" d1 2>>"$T/sub.log" &
PIDS="$PIDS $!"
"$SUBTEST" -S "$T/ampsd.sock" async orders "$T/sow" 2>>"$T/sub.log" &
PIDS="$PIDS $!"
"$SUBTEST" -S "$T/ampsd.sock" stream orders >"$T/stream" 2>>"$T/sub.log" &
PIDS="$PIDS $!"
sleep 0.3
: >"$T/stored"
run_pubtest -S "$T/ampsd.sock" -t dur -n $N -d 20000 -o "$T/stored" -F \
    -W 60000 >>"$T/pubtest.log" 2>&1 &
pub=$!
PIDS="$PIDS $pub"
part=$((N / 4 + RANDOM % (N / 4)))
some_stored() {
	[ "$(wc -l <"$T/stored")" -ge "$part" ]
}
wait_for 30 some_stored || fail "the stream never got going"
kill -9 "$(cat "$T/a.pid")"
wait "$pub" || fail "publisher failed across failover"
grep -q -- "-> ready (server tcp://127.0.0.1:$PB/" "$T/ampsd.log" ||
    fail "never ready on the replica"
run_pubtest -S "$T/ampsd.sock" -t orders -n 10 -F || fail "publish orders"
have_all() {
	[ "$(sed -n 's/^R //p' "$T/dur" | sort -un | wc -l)" -ge "$(sort -u "$T/stored" | wc -l)" ] &&
	[ "$(grep -c '^R' "$T/sow")" -ge 10 ]
}
wait_for 30 have_all || true
LC_ALL=C sort -u "$T/stored" >"$T/want"	# comm needs byte order
sed -n 's/^R //p' "$T/dur" | LC_ALL=C sort -u >"$T/got"
missing=$(LC_ALL=C comm -23 "$T/want" "$T/got" | wc -l)
echo "durable: $(wc -l <"$T/want") stored, $(grep -c '^R' "$T/dur") deliveries, $missing missing"
[ "$missing" = 0 ] || fail "durable subscription lost messages at failover"
[ "$(grep -c '^G' "$T/sow")" -ge 2 ] ||
    fail "sow_and_subscribe was not re-run ($(grep -c '^G' "$T/sow") groups)"
[ "$(grep -c '^R' "$T/sow")" -ge 10 ] ||
    fail "sow_and_subscribe got nothing after failover"
# A synchronous stream is not resubscribed: it ends, DISCONNECTED (11).
grep -q "^END 11 " "$T/stream" || fail "stream end: $(cat "$T/stream")"
pass
