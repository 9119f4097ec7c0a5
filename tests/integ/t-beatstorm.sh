#!/bin/bash
# RELIABILITY.md finding 27: against a server that answers every beat
# (ampsim --answer-beats; PROTOCOL.md §14 lets either side answer),
# ampsd answers the server's heartbeats at most once per half interval,
# so the two never start a beat storm.  The time base is ampsim's own
# heartbeat timer (admin "stats"), not a sleep.
. "$(dirname "$0")/lib.sh"

start_ampsim sim --answer-beats
write_conf "$SIMPORT" "heartbeat 1s timeout 3s;"
start_ampsd
wait_for 30 ready_at_least 1 || fail "never ready"
stat_of() { sim_admin stats | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
t0=$(stat_of hb_timer)
b0=$(stat_of beats)
[ -n "$t0" ] && [ -n "$b0" ] || fail "ampsim stats have no heartbeat counts"
timer_past() { [ "$(stat_of hb_timer)" -ge $((t0 + 5)) ]; }
wait_for 30 timer_past || fail "ampsim's heartbeat timer did not fire 5 times"
t1=$(stat_of hb_timer)
b1=$(stat_of beats)
a1=$(stat_of hb_answers)
beats=$((b1 - b0))
ivals=$((t1 - t0))
echo "over $ivals heartbeat intervals: $beats beats from ampsd," \
    "$a1 answers from ampsim"
[ "$a1" -ge 1 ] || fail "ampsim --answer-beats answered nothing"
# At most one answer per half interval plus the periodic beat.
[ "$beats" -le $((ivals * 3 + 4)) ] ||
    fail "beat storm: $beats beats in $ivals intervals"
pass
