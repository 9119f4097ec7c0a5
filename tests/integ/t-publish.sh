#!/bin/bash
# 10 000 publishes from a program that exits right after the last
# "stored" reach AMPS exactly once, in order (DESIGN.md §4 promise 1).
. "$(dirname "$0")/lib.sh"

N=10000
start_ampsim sim
write_conf "$SIMPORT" "heartbeat 5s;"
start_ampsd
run_pubtest -S "$T/ampsd.sock" -t orders -n $N -s 100 ||
    fail "pubtest failed ($?)"
# The program is gone; the daemon must deliver on its own.
seq 0 $((N - 1)) >"$T/want"
got_all() {
	replay_ids orders >"$T/got"
	cmp -s "$T/want" "$T/got"
}
wait_for 30 got_all || {
	echo "got $(wc -l <"$T/got") lines, first diff:"
	diff "$T/want" "$T/got" | head -5
	fail "messages missing, duplicated or out of order"
}
pass
