#!/bin/bash
# A publish AMPS refuses (failure persisted ack) is reported to the
# program that published it, removed from the store (not retried), and
# does not hold back the messages after it (PROTOCOL.md §7.4, §6.6).
. "$(dirname "$0")/lib.sh"

start_ampsim sim
write_conf "$SIMPORT" "heartbeat 5s;"
start_ampsd
wait_for 30 ready_at_least 1 || fail "never ready"
sim_admin "fault fail_reason=not entitled" >/dev/null || fail "fault"
sim_admin "fault fail_cmd=p" >/dev/null || fail "fault"
run_pubtest -S "$T/ampsd.sock" -t orders -n 5 -F -W 30000
rc=$?
[ $rc -eq 2 ] || fail "pubtest exit $rc, want 2 (one failed publish)"
grep -q 'publish failed: not entitled' "$T/pubtest.log" ||
    fail "failure not reported to the program"
grep -q 'server refused message 1: not entitled' "$T/ampsd.log" ||
    fail "failure not logged by ampsd"
printf '1\n2\n3\n4\n' >"$T/want"
got() {
	replay_ids orders >"$T/got"
	cmp -s "$T/want" "$T/got"
}
wait_for 30 got || fail "AMPS should hold 1..4 exactly"
# Restart: the refused message must not come back.
stop_ampsd TERM
start_ampsd
wait_for 30 ready_at_least 2 || fail "not ready after restart"
# A replay of the refused message would reach AMPS before anything
# published after the restart: publish a marker and wait for it.
run_pubtest -S "$T/ampsd.sock" -t orders -f 5 -n 1 -F -W 30000 ||
    fail "publish after restart"
printf '1\n2\n3\n4\n5\n' >"$T/want"
wait_for 30 got || fail "refused message replayed after restart: $(cat "$T/got")"
pass
