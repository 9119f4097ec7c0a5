#!/bin/bash
# A hostile server (huge length, bad JSON, frames before the logon ack,
# refused logon, bad sequence, silence, absurd acks, truncated frames)
# fails the connection each time but never the daemon (PROTOCOL.md §0.4
# rule 25; DESIGN.md §5 rule 8: no fatal() reachable from server input).
. "$(dirname "$0")/lib.sh"

FAKE=$B/tests/integ/fakeamps
[ -x "$FAKE" ] || { OK=1; echo "SKIP: fakeamps not built"; exit 77; }
"$FAKE" -u "$T/fake.sock" >"$T/fake.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 30 test -S "$T/fake.sock" || fail "fakeamps did not start"
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "hostile-$$";
	server "unix://localhost:0/amps/json?path=$T/fake.sock";
	logon-timeout 500ms;
	heartbeat off;
	reconnect fixed 50ms give-up never;
}
EOC
start_ampsd
wait_for 30 grep -q done "$T/fake.log" || fail "script did not finish"
kill -0 "$AMPSD_PID" || fail "ampsd died"
for what in 'bad frame from server' 'bad header from server' \
    'before the logon ack' 'is in use by another client' \
    'logon ack with a bad sequence' 'logon timed out' \
    'server refused message 99' \
    'but only 0 were sent'; do
	log_has 30 "$T/ampsd.log" "$what" || fail "not reported: $what"
done
grep -q "$(printf '\001')" "$T/ampsd.log" && fail "control byte in the log"
wait_for 30 ready_at_least 2 || fail "did not log on at the end"
run_pubtest -S "$T/ampsd.sock" -n 3 -W 30000 || fail "daemon unusable"
pass
