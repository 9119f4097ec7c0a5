#!/bin/bash
# test-timeout: 400
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
ADMIN_A=$ADMINPORT
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
wait_for 30 ready_at_least 1 || fail "never ready on the primary"

"$SUBTEST" -S "$T/ampsd.sock" async dur "$T/dur" d1 2>>"$T/sub.log" &
PIDS="$PIDS $!"
"$SUBTEST" -S "$T/ampsd.sock" async orders "$T/sow" 2>>"$T/sub.log" &
PIDS="$PIDS $!"
"$SUBTEST" -S "$T/ampsd.sock" stream orders >"$T/stream" 2>>"$T/sub.log" &
PIDS="$PIDS $!"
wait_for 30 grep -qx S "$T/dur" || fail "durable subscriber not subscribed"
wait_for 30 grep -qx S "$T/sow" || fail "sow_and_subscribe not subscribed"
wait_for 30 grep -qx SUBSCRIBED "$T/stream" || fail "stream not subscribed"

# The stream is provably in flight when the primary dies: part 1 is
# persisted; then the primary holds every ack (admin pause-acks), so
# part 2 is stored by ampsd but unpersisted, and the paced part 3
# publisher cannot end (it waits for persisted acks) before the kill.
# Failover to the replica must then deliver and persist all of it.
part=$((N / 4 + RANDOM % (N / 4)))
: >"$T/stored"
run_pubtest -S "$T/ampsd.sock" -t dur -n "$part" -o "$T/stored" -F \
    -W 60000 || fail "part 1 not persisted on the primary"
ADMINPORT=$ADMIN_A
sim_admin pause-acks >/dev/null || fail "pause-acks on the primary"
run_pubtest -S "$T/ampsd.sock" -t dur -f "$part" -n 200 -o "$T/stored" \
    -W 60000 || fail "part 2 not stored"
run_pubtest -S "$T/ampsd.sock" -t dur -f $((part + 200)) \
    -n $((N - part - 200)) -d 20000 -o "$T/stored" -F -W 120000 &
pub=$!
PIDS="$PIDS $pub"
unpersisted() {
	"$B/ampsctl/ampsctl" status -raw -socket "$T/ampsd.sock" |
	    sed -n 's/^conn name=main .* unpersisted=\([0-9]*\) .*/\1/p'
}
third_going() {
	[ "$(wc -l <"$T/stored")" -gt $((part + 200)) ]
}
wait_for 30 third_going || fail "part 3 never got going"
before=$(unpersisted)
[ "${before:-0}" -ge 200 ] ||
    fail "only '${before}' unpersisted before the kill (acks not held?)"
kill -0 "$pub" || fail "part 3 ended before the kill: nothing in flight"
echo "kill -9 primary: $(wc -l <"$T/stored") of $N stored, $before unpersisted"
kill -9 "$(cat "$T/a.pid")"
wait_exit 120 "$pub" "part 3 publisher (persisted on the replica)" ||
    fail "publisher failed across failover"
log_has 30 "$T/ampsd.log" "-> ready \\(server tcp://127.0.0.1:$PB/" ||
    fail "never ready on the replica"
none_unpersisted() {
	[ "$(unpersisted)" = 0 ]
}
wait_for 30 none_unpersisted ||
    fail "$(unpersisted) still unpersisted after failover"
echo "after failover: $(sort -u "$T/stored" | wc -l) stored, 0 unpersisted"
run_pubtest -S "$T/ampsd.sock" -t orders -n 10 -F || fail "publish orders"
have_all() {
	[ "$(sed -n 's/^R //p' "$T/dur" | sort -un | wc -l)" -ge "$(sort -u "$T/stored" | wc -l)" ] &&
	[ "$(grep -c '^R' "$T/sow")" -ge 10 ]
}
wait_for 60 have_all || true	# the counts below say what is missing
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
wait_for 30 grep -q "^END 11 " "$T/stream" || fail "stream end: $(cat "$T/stream")"
pass
