#!/bin/bash
# Failover to a replica (DESIGN.md §4 promise 1, PROTOCOL.md §17.4 scenario 30):
# two ampsim instances replicate each other, the primary acknowledges
# persisted only once its peer has the message (--repl-sync).  The
# primary is killed with -9 in the middle of a publish stream; ampsd
# fails over to the replica, which must hold every message acknowledged
# as stored exactly once and in order.  The failover time is printed.
. "$(dirname "$0")/lib.sh"

N=20000
RANDOM=4711

# b first: a needs b's replication port, then b is pointed back at a.
start_ampsim b --repl-port 0
PB=$SIMPORT
ADMIN_B=$ADMINPORT
REPL_B=$(sed -n 's/^repl=//p' "$T/b.port")
start_ampsim a --repl-port 0 --peer "127.0.0.1:$REPL_B" --repl-sync
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
	client-name "replica-$$";
	server "tcp://127.0.0.1:$PA/amps/json" "tcp://127.0.0.1:$PB/amps/json";
	heartbeat 1s;
	reconnect exponential initial 50ms max 500ms factor 2 give-up never;
}
EOC
start_ampsd
wait_for 30 ready_at_least 1 || fail "never ready on the primary"

: >"$T/stored"
# Part 1 persisted on the primary; then the primary holds every ack
# (admin pause-acks), so the rest of the stream, paced, cannot end
# before the primary is killed: the kill is provably mid-stream, with
# unpersisted messages that must reach the replica.
part=$((N / 5 + RANDOM % (N / 5)))
run_pubtest -S "$T/ampsd.sock" -t orders -n "$part" -s 64 \
    -o "$T/stored" -F -W 60000 >>"$T/pubtest.log" 2>&1 ||
    fail "part 1 not persisted on the primary"
ADMINPORT=$ADMIN_A
sim_admin pause-acks >/dev/null || fail "pause-acks on the primary"
run_pubtest -S "$T/ampsd.sock" -t orders -f "$part" -n $((N - part)) -s 64 \
    -d 1000 -o "$T/stored" -F -W 120000 >>"$T/pubtest.log" 2>&1 &
pub=$!
PIDS="$PIDS $pub"
more_stored() {
	[ "$(wc -l <"$T/stored")" -ge $((part + 1000)) ]
}
wait_for 60 more_stored || fail "the rest of the stream never got going"
kill -0 "$pub" || fail "the publisher ended before the kill"
kill -9 "$(cat "$T/a.pid")"
t0=$(now_ms)
log_has 30 "$T/ampsd.log" "-> ready \\(server tcp://127.0.0.1:$PB/" ||
    fail "never ready on the replica"
echo "failover: primary killed after $part persisted and" \
    "$(($(wc -l <"$T/stored") - part)) more stored; ready on the replica" \
    "after $(($(now_ms) - t0)) ms"

wait_exit 180 "$pub" "the publisher (persisted on the replica)" ||
    fail "publisher failed (exit $?)"
LC_ALL=C sort -u "$T/stored" >"$T/want"	# comm needs byte order
[ "$(wc -l <"$T/want")" -eq $N ] || fail "only $(wc -l <"$T/want") of $N stored"

SIMPORT=$PB
check() {
	replay_ids orders >"$T/got"
	# In order and no duplicate; every stored-acknowledged id present.
	sort -n -c -u "$T/got" 2>/dev/null || return 1
	[ -z "$(LC_ALL=C sort "$T/got" | LC_ALL=C comm -23 "$T/want" -)" ]
}
wait_for 40 check || {
	replay_ids orders >"$T/got"
	echo "stored $(wc -l <"$T/want"), replica holds $(wc -l <"$T/got")"
	sort -n -c -u "$T/got" || echo "order/duplicate problem"
	echo "missing: $(LC_ALL=C sort "$T/got" | LC_ALL=C comm -23 "$T/want" - | head -5)"
	fail "stored messages lost, duplicated or reordered on the replica"
}
echo "stored-acked: $(wc -l <"$T/want"), on the replica: $(wc -l <"$T/got")"
pass
