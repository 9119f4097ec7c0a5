#!/bin/bash
# ampsd -t checks a configuration without touching any store; errors come
# as file:line: message; credentials in a group-readable file are refused;
# a second daemon on the same state directory fails clearly.
. "$(dirname "$0")/lib.sh"

write_conf 9 "heartbeat 5s;"
out=$("$AMPSD" -t -c "$T/ampsd.conf" 2>&1) || fail "-t on a good file: $out"
[ "$out" = "configuration OK" ] || fail "unexpected -t output: $out"
[ ! -e "$T/state" ] || fail "-t created the state directory"

printf 'connection "a" {\n client-name "x";\n server "tcp://h:1/amps/json";\n heartbeat 5;\n}\nbogus;\n' \
    >"$T/bad.conf"
out=$("$AMPSD" -t -c "$T/bad.conf" 2>&1) && fail "-t accepted a bad file"
want="$T/bad.conf:4: heartbeat: invalid duration \"5\" (use a number with ms, s, m or h)
$T/bad.conf:6: unknown keyword \"bogus\""
[ "$out" = "$want" ] || fail "errors differ: $out"

printf 'connection "a" { client-name "x"; server "tcp://u:pw@h:1/amps/json"; }\n' \
    >"$T/secret.conf"
chmod 644 "$T/secret.conf"
out=$("$AMPSD" -t -c "$T/secret.conf" 2>&1) && fail "readable secrets accepted"
case $out in *"holds credentials but is accessible by group or others"*) ;;
*) fail "secrecy message: $out" ;; esac
chmod 600 "$T/secret.conf"
"$AMPSD" -t -c "$T/secret.conf" >/dev/null 2>&1 || fail "mode 600 refused"

start_ampsim sim
write_conf "$SIMPORT" "heartbeat 5s;"
start_ampsd
out=$("$AMPSD" -f -c "$T/ampsd.conf" 2>&1) && fail "second daemon started"
case $out in *"is in use by another ampsd (pid $AMPSD_PID)"*) ;;
*) fail "lock message: $out" ;; esac
stop_ampsd TERM
grep -q 'shutting down' "$T/ampsd.log" || fail "no clean shutdown on SIGTERM"
[ ! -e "$T/ampsd.sock" ] || echo "note: socket left behind"
pass
