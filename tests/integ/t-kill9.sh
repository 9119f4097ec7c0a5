#!/bin/bash
# kill -9 of ampsd at 10 pseudo-random points (fixed seed) during publish
# streams, then restart: every message acknowledged as stored reaches AMPS
# exactly once and in order (DESIGN.md §4 promise 1).
. "$(dirname "$0")/lib.sh"

RANDOM=4242
ROUNDS=10
PER=20000
start_ampsim sim
write_conf "$SIMPORT" "heartbeat 5s;"
: >"$T/stored"
stored_at_least() {
	[ "$(wc -l <"$T/stored")" -ge "$1" ]
}
for r in $(seq 1 $ROUNDS); do
	start_ampsd
	run_pubtest -S "$T/ampsd.sock" -t orders -f $((r * 100000)) \
	    -n $PER -s 64 -d 2000 -o "$T/stored" -W 20000 >>"$T/pubtest.log" 2>&1 &
	pub=$!
	PIDS="$PIDS $pub"
	# Kill mid-stream: after a random number of further stored acks
	# (the paced publisher needs far longer for all of them).
	want=$(($(wc -l <"$T/stored") + 200 + RANDOM % 4000))
	wait_for 60 stored_at_least "$want" ||
	    fail "round $r: the publisher never stored $want in all"
	stop_ampsd KILL
	wait_exit 60 "$pub" "round $r: the publisher after the kill"
done
start_ampsd
[ -s "$T/stored" ] || fail "nothing was stored at all"
LC_ALL=C sort -u "$T/stored" >"$T/want"	# comm needs byte order
check() {
	replay_ids orders >"$T/got"
	# Strictly increasing: in order, no duplicate.
	sort -n -c -u "$T/got" 2>/dev/null || return 1
	# Every stored-acknowledged id is there.
	[ -z "$(LC_ALL=C sort "$T/got" | LC_ALL=C comm -23 "$T/want" -)" ]
}
wait_for 40 check || {
	replay_ids orders >"$T/got"
	echo "stored $(wc -l <"$T/want"), got $(wc -l <"$T/got")"
	sort -n -c -u "$T/got" || echo "order/duplicate problem"
	echo "missing: $(LC_ALL=C sort "$T/got" | LC_ALL=C comm -23 "$T/want" - | head -5)"
	fail "stored messages lost, duplicated or reordered"
}
echo "stored-acked: $(wc -l <"$T/want"), delivered: $(wc -l <"$T/got")"
pass
