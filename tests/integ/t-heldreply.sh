#!/bin/bash
# Replies held behind a commit (daemon/publish.c invariants 1, 6 and 8):
# the commit thread is stopped alone (tests/tools/threadhold, ptrace)
# while a program publishes on a file store's connection, then on a
# memory store's connection of the same AMPS, whose rows go upstream at
# once.  AMPS persists one and refuses the other before their STORED
# replies may go; once the commit thread goes on, the program is told
# STORED, then PERSISTED or FAILED for each, and its flushes agree
# (semtest.c, scenario heldreply).
. "$(dirname "$0")/lib.sh"

SEMTEST=$B/tests/integ/semtest
HOLD=$B/tests/tools/threadhold
[ -x "$SEMTEST" ] && [ -x "$HOLD" ] ||
    { OK=1; echo "SKIP: semtest or threadhold not built"; exit 77; }

start_ampsim sim --conf-line "sow hsow key=/id"
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
connection "main" {
	default;
	client-name "held-$$";
	server "tcp://127.0.0.1:$SIMPORT/amps/json";
}
connection "mem" {
	client-name "held-mem-$$";
	server "tcp://127.0.0.1:$SIMPORT/amps/json";
	durability memory;
}
EOC
start_ampsd
ready() {
	[ "$(grep -c 'connection [a-z]*: [a-z-]* -> ready' "$T/ampsd.log")" \
	    -ge 2 ]
}
wait_for 20 ready || fail "the connections never both ready"

# mem_settled: AMPS persisted B and refused C (status of "mem").
mem_field() {
	"$B/ampsctl/ampsctl" status -raw -socket "$T/ampsd.sock" -conn mem |
	    sed -n 's/^conn //p' | tr ' ' '\n' | sed -n "s/^$1=//p"
}
mem_settled() {
	[ "$(mem_field refused)" = 1 ] && [ "$(mem_field persisted_seq)" -ge 1 ]
}

held() {
	grep -q "^$1" "$T/hold.out"
}
# Can this machine stop one thread of ampsd (ptrace)?  Held and let go
# at once (end of input); exit 2: not permitted here.
"$HOLD" "$AMPSD_PID" ampsd-commit </dev/null >/dev/null 2>"$T/hold.log"
case $? in
0) ;;
2) OK=1; echo "SKIP: ptrace not permitted: $(cat "$T/hold.log")"; exit 77 ;;
*) fail "threadhold: $(cat "$T/hold.log")" ;;
esac
mkfifo "$T/hold.in"
# held_hook LINE: do what the scenario's hook asks.
held_hook() {
	case $1 in
	"HOOK hold-commit")
		"$HOLD" "$AMPSD_PID" ampsd-commit <"$T/hold.in" \
		    >"$T/hold.out" 2>>"$T/hold.log" &
		PIDS="$PIDS $!"
		exec 8>"$T/hold.in"
		wait_for 60 held "held " ||
		    fail "the commit thread was not stopped: $(cat "$T/hold.log")"
		;;
	"HOOK mem-settled")
		wait_for 20 mem_settled ||
		    fail "AMPS did not persist B and refuse C" \
		    "(refused=$(mem_field refused)," \
		    "persisted_seq=$(mem_field persisted_seq))"
		;;
	"HOOK release-commit")
		echo go >&8
		exec 8>&-
		wait_for 60 held released ||
		    fail "the commit thread was not let go: $(cat "$T/hold.log")"
		;;
	*)
		fail "unknown hook: $1"
		;;
	esac
}

: >"$T/results"
run_hooked held_hook timeout 120 "$SEMTEST" -S "$T/ampsd.sock" heldreply \
    2>>"$T/semtest.log" || fail "semtest heldreply: $(cat "$T/semtest.log")"
grep -q '^ok scenario heldreply' "$T/results" ||
    fail "scenario heldreply did not pass: $(cat "$T/semtest.log")"
pass
