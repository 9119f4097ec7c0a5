#!/bin/bash
# The command lines of ampsctl and ampsd, as a user meets them: help on
# stdout with exit 0 (ampsctl -h, help CMD, CMD -h, trace -h, ampsd -h),
# --version, every bad or unused option named in one line on stderr with
# exit 2, -server refused with what to use; against a real ampsd and
# ampsim: ping reports each connection and fails while one is down
# (-daemon checks the daemon only; a user who may not read the status is
# told so), a subscribe that got fewer than -n messages exits 1, and
# status -json shows the last error with its spaces; ampsd's stderr lines
# have timestamps when stderr is not the journal.
. "$(dirname "$0")/lib.sh"

CTL=$B/ampsctl/ampsctl
JSONCHECK=$B/tests/tools/jsoncheck
[ -x "$CTL" ] && [ -x "$JSONCHECK" ] ||
    { OK=1; echo "SKIP: no ampsctl or jsoncheck"; exit 77; }

# run WANT_RC PROG ARGS...: stdout to $T/out, stderr to $T/err.
run() {
	_want=$1
	shift
	_rc=0
	"$@" >"$T/out" 2>"$T/err" </dev/null || _rc=$?
	[ "$_rc" = "$_want" ] ||
	    fail "$* exited $_rc, not $_want: $(cat "$T/out" "$T/err")"
}
# usage_err LINE ARGS...: ampsctl ARGS exits 2 with exactly LINE on
# stderr and nothing on stdout.
usage_err() {
	_line=$1
	shift
	run 2 "$CTL" "$@"
	[ "$(cat "$T/err")" = "$_line" ] ||
	    fail "ampsctl $*: stderr: $(cat "$T/err") (wanted: $_line)"
	[ ! -s "$T/out" ] || fail "ampsctl $*: stdout: $(cat "$T/out")"
}
# help_ok ARGS...: help on stdout, nothing on stderr, exit 0.
help_ok() {
	run 0 "$CTL" "$@"
	grep -q '^usage: ampsctl' "$T/out" || fail "ampsctl $*: $(cat "$T/out")"
	[ ! -s "$T/err" ] || fail "ampsctl $*: stderr: $(cat "$T/err")"
}

# --- help and --version ----------------------------------------------------
help_ok -h
help_ok --help
grep -q '^  sow_and_subscribe ' "$T/out" || fail "ampsctl --help lists no commands"
help_ok help
help_ok help publish
grep -q '^  -wait W ' "$T/out" || fail "help publish: $(cat "$T/out")"
help_ok publish -h
help_ok subscribe --help
grep -q '^  -n N ' "$T/out" || fail "subscribe --help: $(cat "$T/out")"
help_ok trace -h
grep -q '^usage: ampsctl trace ' "$T/out" || fail "trace -h: $(cat "$T/out")"
help_ok ping -help
run 0 "$CTL" --version
[ "$(cat "$T/out")" = "ampsctl $(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' \
    "$B/config.h")" ] || fail "ampsctl --version: $(cat "$T/out")"
run 0 "$CTL" status --version
grep -q '^ampsctl ' "$T/out" || fail "status --version: $(cat "$T/out")"

# --- bad and unused options: one line, exit 2 -----------------------------
usage_err "ampsctl publish: unknown option -topik" publish -topik x -data y
usage_err "ampsctl publish: bad value \"bogus\" for -wait (stored, persisted \
or none)" publish -topic x -data y -wait bogus
usage_err "ampsctl subscribe: bad value \"abc\" for -n (a whole number >= 0)" \
    subscribe -topic x -n abc
usage_err "ampsctl ping: -topic is not used by this command (ampsctl help \
ping)" ping -topic x
usage_err "ampsctl sow: -durable is not used by this command (ampsctl help \
sow)" sow -topic x -durable
usage_err "ampsctl status: unexpected argument \"now\"" status now
usage_err "ampsctl ping: -server is not supported: ampsctl talks to the \
local ampsd, not to an AMPS server; use -socket PATH (or AMPSD_SOCKET) to \
name ampsd's socket" ping -server localhost:9007
usage_err "ampsctl: unknown command \"pong\" (ampsctl help lists the \
commands)" pong
usage_err "ampsctl help: unknown command \"pong\" (ampsctl help lists them)" \
    help pong
run 2 "$CTL"
grep -q '^usage: ampsctl COMMAND' "$T/err" || fail "ampsctl alone: $(cat "$T/err")"

# --- ampsd ------------------------------------------------------------------
run 0 "$AMPSD" -h
grep -q '^usage: ampsd ' "$T/out" || fail "ampsd -h: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "ampsd -h: stderr: $(cat "$T/err")"
run 0 "$AMPSD" --help
run 0 "$AMPSD" --version
grep -q '^ampsd [0-9]' "$T/out" || fail "ampsd --version: $(cat "$T/out")"
for args in "-x:ampsd: unknown option -x" \
    "--bogus:ampsd: unknown option --bogus" \
    "-c:ampsd: option -c needs a file" \
    "extra:ampsd: unexpected argument \"extra\""; do
	run 2 "$AMPSD" "${args%%:*}"
	[ "$(cat "$T/err")" = "${args#*:} (ampsd -h shows the options)" ] ||
	    fail "ampsd ${args%%:*}: $(cat "$T/err")"
done

# --- against a real daemon --------------------------------------------------
chmod 755 "$T"
start_ampsim sim
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock" mode 0666;
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "cli-$$";
	server "tcp://127.0.0.1:$SIMPORT/amps/json";
	reconnect exponential initial 50ms max 200ms factor 2 give-up never;
	allow all user "nobody" topic ".*";
}
EOC
start_ampsd
S=(-socket "$T/ampsd.sock")
# Its stderr is a file, not the journal: lines carry a timestamp.
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{4} ampsd\[[0-9]+\]: info: ampsd [^ ]* started' \
    "$T/ampsd.log" || fail "no timestamped start line: $(head -n 3 "$T/ampsd.log")"
wait_for 30 "$CTL" ping "${S[@]}" || fail "ping never saw the connection up"
run 0 "$CTL" ping "${S[@]}"
[ "$(sed -n 1p "$T/out")" = "ampsd $(sed -n 1p "$T/out" |
    sed 's/^ampsd \([^:]*\):.*/\1/'): alive" ] || fail "ping: $(cat "$T/out")"
grep -qx "main: connected tcp://127.0.0.1:$SIMPORT/amps/json" "$T/out" ||
    fail "ping: $(cat "$T/out")"

# subscribe -n 2: one message arrives, then -timeout: exit 1.
"$CTL" publish "${S[@]}" -topic clitest -data '{"a":1}' -wait persisted ||
    fail "publish"
run 1 "$CTL" subscribe "${S[@]}" -topic clitest -bookmark 0 -n 2 \
    -timeout 1000
[ "$(cat "$T/out")" = '{"a":1}' ] || fail "subscribe printed: $(cat "$T/out")"
grep -q "subscribe: 1 of 2 message(s) within -timeout 1000 ms" "$T/err" ||
    fail "subscribe -n 2: $(cat "$T/err")"
run 0 "$CTL" subscribe "${S[@]}" -topic clitest -bookmark 0 -n 1 \
    -timeout 5000

# Another user: alive, and the state of the connections it may use (its
# own view of the status, docs/IPC.md §7).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    id nobody >/dev/null 2>&1; then
	user_bin "$CTL"		# a copy nobody can run (the clone may be 0700)
	run 0 as_user nobody ampsctl ping "${S[@]}"
	grep -q "^main: connected " "$T/out" ||
	    fail "ping as nobody: $(cat "$T/out" "$T/err")"
fi

# The server goes away: ping names the connection and fails; -daemon not.
kill -9 "$(cat "$T/sim.pid")"
conn_refused() {
	"$CTL" status -raw "${S[@]}" | grep -q 'last_error=connect:'
}
wait_for 30 conn_refused || fail "no connect error in the status"
run 1 "$CTL" ping "${S[@]}"
grep -q "^main: [a-z-]*\( [^ ,]*\)\?, last error: connect: [A-Z]" "$T/out" ||
    fail "ping with the server down: $(cat "$T/out")"
grep -qx "ampsctl: ping: 1 of 1 connection(s) down" "$T/err" ||
    fail "ping with the server down: $(cat "$T/err")"
run 0 "$CTL" ping -daemon "${S[@]}"
[ "$(wc -l <"$T/out")" = 1 ] || fail "ping -daemon: $(cat "$T/out")"

# status -json: valid, and the free-text error has its spaces.
run 0 "$CTL" status -json "${S[@]}"
"$JSONCHECK" <"$T/out" || fail "status -json is not JSON: $(cat "$T/out")"
grep -q '"last_error":"connect: [A-Z][a-z]* ' "$T/out" ||
    fail "status -json last_error: $(grep -o '"last_error":"[^"]*"' "$T/out")"
pass
