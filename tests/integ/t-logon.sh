#!/bin/bash
# Logon outcomes (PROTOCOL.md §4.1.3): a wrong password is reported as an
# authentication failure and retried with backoff; the right one logs on;
# a challenge (status retry) is answered.
. "$(dirname "$0")/lib.sh"

start_ampsim sim --user svc --password s3cret --logon-retry 1
conf() {
	cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "logon-$$";
	server "tcp://svc:$1@127.0.0.1:$SIMPORT/amps/json";
	reconnect fixed 200ms give-up never;
}
EOC
	chmod 600 "$T/ampsd.conf"
}
conf wrong
start_ampsd
wait_for 30 grep -q 'authentication failure' "$T/ampsd.log" ||
    fail "auth failure not reported"
grep -q 'wrong' "$T/ampsd.log" && fail "password leaked into the log"
[ "$(ready_count)" -eq 0 ] || fail "ready with a wrong password"
stop_ampsd TERM
conf s3cret
start_ampsd
wait_for 30 ready_at_least 1 || fail "not ready with the right password"
grep -q 'logon retry requested' "$T/ampsd.log" || fail "retry not seen"
run_pubtest -S "$T/ampsd.sock" -n 10 -F -W 30000 || fail "publish failed"
pass
