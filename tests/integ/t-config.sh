#!/bin/bash
# ampsd -t checks a configuration without touching any store; errors come
# as file:line: message; credentials in a group-readable file are refused;
# a second daemon on the same state directory fails clearly; users and
# groups named by allow rules and the socket group must exist; a renamed
# connection's old store files are reported at startup and left untouched.
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

cat >"$T/names.conf" <<EOC
socket "$T/n.sock" group "ampsd-no-such-group";
connection "a" {
	client-name "x";
	server "tcp://h:1/amps/json";
	allow publish user "ampsd-no-such-user" topic ".*";
	allow subscribe group "ampsd-no-such-group" topic ".*";
	allow all user "root" topic ".*";
	allow all group "daemon" topic ".*";
	allow subscribe user "*" topic "^pub";
}
EOC
out=$("$AMPSD" -t -c "$T/names.conf" 2>&1) && fail "-t accepted missing names"
want="$T/names.conf:1: no such group \"ampsd-no-such-group\" (socket group)
$T/names.conf:5: no such user \"ampsd-no-such-user\"
$T/names.conf:6: no such group \"ampsd-no-such-group\""
[ "$out" = "$want" ] || fail "name errors differ: $out"
sed -i -e 's/"ampsd-no-such-group"/"daemon"/' \
    -e 's/"ampsd-no-such-user"/"root"/' "$T/names.conf"
out=$("$AMPSD" -t -c "$T/names.conf" 2>&1) || fail "existing names refused: $out"

start_ampsim sim
write_conf "$SIMPORT" "heartbeat 5s;"
start_ampsd
out=$("$AMPSD" -f -c "$T/ampsd.conf" 2>&1) && fail "second daemon started"
case $out in *"is in use by another ampsd (pid $AMPSD_PID)"*) ;;
*) fail "lock message: $out" ;; esac
stop_ampsd TERM
grep -q 'shutting down' "$T/ampsd.log" || fail "no clean shutdown on SIGTERM"
[ ! -e "$T/ampsd.sock" ] || echo "note: socket left behind"

# Port 9: nothing listens, so these 3 messages stay unpersisted in
# pub-main.db; then "main" is renamed and its stores must be reported.
write_conf 9 "heartbeat 5s;"
echo 'shutdown-timeout 0s;' >>"$T/ampsd.conf"
start_ampsd
run_pubtest -S "$T/ampsd.sock" -t orders -n 3 || fail "not stored"
stop_ampsd TERM
[ ! -e "$T/state/pub-main.db-wal" ] || fail "pub-main.db-wal left by TERM"
sed -i 's/^connection "main"/connection "renamed"/' "$T/ampsd.conf"
sum=$(cksum "$T/state/pub-main.db" "$T/state/main.bm.db")
start_ampsd
# A reload runs the same name checks as -t.
sed -i 's/^\theartbeat 5s;/\tallow all user "ampsd-no-such-user" topic ".*";/' \
    "$T/ampsd.conf"
kill -HUP "$AMPSD_PID"
wait_for 30 grep -qF "reload: $T/ampsd.conf:8: no such user \"ampsd-no-such-user\"" \
    "$T/ampsd.log" || fail "reload did not check the allow user"
stop_ampsd TERM
grep -qF 'state directory holds pub-main.db, used by no configured connection (3 unpersisted message(s) in it stay there; rename the connection back, with a durable store, to send them)' \
    "$T/ampsd.log" || fail "no warning for pub-main.db"
grep -qF 'state directory holds main.bm.db, used by no configured connection' \
    "$T/ampsd.log" || fail "no warning for main.bm.db"
[ "$(grep -c 'holds pub-main.db' "$T/ampsd.log")" = 1 ] ||
    fail "pub-main.db reported more than once"
[ "$(cksum "$T/state/pub-main.db" "$T/state/main.bm.db")" = "$sum" ] ||
    fail "the old store files changed"
for f in pub-main.db main.bm.db; do
	[ ! -e "$T/state/$f-wal" ] && [ ! -e "$T/state/$f-shm" ] ||
	    fail "files created next to $f"
done
grep -q 'holds pub-renamed.db' "$T/ampsd.log" && fail "used store reported"

# "main" again, but with durability memory: it opens no file, so its old
# stores (3 messages) are reported the same way and left unchanged.
sed -i -e 's/^connection "renamed" {/connection "main" {\n\tdurability memory;/' \
    -e 's/^\tallow all user "ampsd-no-such-user".*/\theartbeat 5s;/' "$T/ampsd.conf"
mv "$T/ampsd.log" "$T/ampsd-renamed.log"
start_ampsd
stop_ampsd TERM
grep -qF 'state directory holds pub-main.db, used by no configured connection (3 unpersisted message(s) in it stay there' \
    "$T/ampsd.log" || fail "no warning for pub-main.db of a memory connection"
grep -qF 'state directory holds main.bm.db, used by no configured connection' \
    "$T/ampsd.log" || fail "no warning for main.bm.db of a memory connection"
[ "$(cksum "$T/state/pub-main.db" "$T/state/main.bm.db")" = "$sum" ] ||
    fail "a memory connection changed its old store files"
pass
