#!/bin/bash
# durability memory (docs/CONFIG.md): the publish and bookmark stores live
# in the daemon's memory.  Nothing is written to the state directory; the
# store is bounded (a clear DISK_FULL error names the limit, and discards
# make room again); unpersisted messages are replayed to the next server
# after a failover, in order, exactly once; a durable subscription resumes
# after a program restart; a daemon restart starts both stores empty,
# with sequence numbers AMPS does not take for duplicates.
. "$(dirname "$0")/lib.sh"

CTL=$B/ampsctl/ampsctl
[ -x "$CTL" ] || { OK=1; echo "SKIP: no ampsctl"; exit 77; }

start_ampsim a
PA=$SIMPORT
ADMIN_A=$ADMINPORT
start_ampsim b
PB=$SIMPORT
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "memory-$$";
	server "tcp://127.0.0.1:$PA/amps/json" "tcp://127.0.0.1:$PB/amps/json";
	heartbeat 1s;
	reconnect exponential initial 50ms max 500ms factor 2 give-up never;
	durability memory limit 16K;
}
EOC
"$AMPSD" -t -c "$T/ampsd.conf" >"$T/check.out" 2>&1 ||
    fail "ampsd -t refused durability memory: $(cat "$T/check.out")"
start_ampsd
wait_for 10 ready_at_least 1 || fail "never ready"
grep -q "connection main: memory publish store has 0 unpersisted" \
    "$T/ampsd.log" || fail "startup line does not name the memory store"

status() {
	"$CTL" status -raw -socket "$T/ampsd.sock" | sed -n 's/^conn //p'
}
field() {
	status | tr ' ' '\n' | sed -n "s/^$1=//p"
}
unpersisted_is() {
	[ "$(field unpersisted)" = "$1" ]
}
[ "$(field medium)" = memory ] || fail "status: medium is not memory"
[ "$(field store_limit)" = 16384 ] || fail "status: store_limit wrong"

# Server a stops acknowledging: 40 messages of ~100 bytes are stored in
# memory, sent to a and not persisted.
ADMINPORT=$ADMIN_A
sim_admin pause-acks >/dev/null || fail "pause-acks"
run_pubtest -S "$T/ampsd.sock" -t orders -n 40 -s 100 -W 20000 ||
    fail "publishing 40 messages failed"
wait_for 10 unpersisted_is 40 || fail "unpersisted is $(field unpersisted), not 40"
[ "$(field store_bytes)" -gt 4000 ] || fail "store_bytes too small"

# The bound: publishing more is refused with an error naming it.
if "$CTL" publish -socket "$T/ampsd.sock" -topic orders -n 200 \
    -data "$(printf '{"id":-1,"p":"%0200d"}' 0)" -wait stored \
    >"$T/full.out" 2>&1; then
	fail "200 more publishes fit in a 16K memory store"
fi
grep -q "memory publish store full.*limit 16384" "$T/full.out" ||
    fail "no clear full error: $(cat "$T/full.out")"
grep -q "publish store refused a message: memory publish store full" \
    "$T/ampsd.log" || fail "the daemon did not log the refusal"
n=$(field unpersisted)
[ "$n" -gt 40 ] && [ "$n" -lt 240 ] || fail "unpersisted $n after the refusals"
[ "$(field store_bytes)" -le 16384 ] || fail "store_bytes above the limit"
"$CTL" status -raw -socket "$T/ampsd.sock" | grep -q "store=ok" ||
    fail "a full memory store must stay usable"

# Failover: a dies with everything unacknowledged; b never saw any of it
# and gets all of it from memory, in order, once.
kill -9 "$(cat "$T/a.pid")"
wait_for 20 unpersisted_is 0 || fail "not persisted on b (unpersisted $(field unpersisted))"
grep -q -- "-> ready (server tcp://127.0.0.1:$PB/" "$T/ampsd.log" ||
    fail "never ready on b"
SIMPORT=$PB
replay_ids orders | grep -x '[0-9][0-9]*' >"$T/got"
seq 0 39 >"$T/want"
cmp -s "$T/want" "$T/got" || fail "b does not hold 0..39 once, in order"
# Room again after the persisted acks.
run_pubtest -S "$T/ampsd.sock" -t orders -f 40 -n 60 -s 100 -F -W 20000 ||
    fail "publishing after the failover failed"

# A durable subscription resumes after the program exits.
seq 1 6 | sed 's/.*/{"tick":&}/' | "$CTL" publish -socket "$T/ampsd.sock" \
    -topic ticks -wait persisted || fail "publish ticks"
sub3() {
	"$CTL" subscribe -socket "$T/ampsd.sock" -topic ticks -durable \
	    -subid dash -bookmark recent -n 3 -timeout 20000
}
[ "$(sub3 | tr -d '\n')" = '{"tick":1}{"tick":2}{"tick":3}' ] ||
    fail "first durable run did not get ticks 1-3"
[ "$(sub3 | tr -d '\n')" = '{"tick":4}{"tick":5}{"tick":6}' ] ||
    fail "durable subscription did not resume after tick 3"

# A daemon restart starts empty: the bookmarks are gone (recent is the
# beginning again), and new messages are not dropped as duplicates.
stop_ampsd
start_ampsd
wait_for 10 ready_at_least 3 || fail "not ready after the restart"
[ "$(sub3 | tr -d '\n')" = '{"tick":1}{"tick":2}{"tick":3}' ] ||
    fail "memory bookmark store survived a restart"
run_pubtest -S "$T/ampsd.sock" -t after -n 50 -s 64 -F -W 20000 ||
    fail "publishing after the restart failed"
replay_ids after >"$T/got"
seq 0 49 >"$T/want"
cmp -s "$T/want" "$T/got" || fail "b dropped or reordered messages after the restart"
[ -z "$(ls -A "$T/state" 2>/dev/null | grep -v '^ampsd\.lock$')" ] ||
    fail "files in the state directory: $(ls "$T/state")"
pass
