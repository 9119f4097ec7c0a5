#!/bin/bash
# shellcheck disable=SC2317 # functions called indirectly (wait_for)
# The connection caps cannot lock out the operator and count only
# programs that are still there (RELIABILITY.md finding 16, DESIGN.md
# §4 promise 4).  ampsd runs as the user "daemon":
#  1. the daemon's user holds 64 connections (the per-uid cap) and its
#     ampsctl still gets in, and so does root's: they are never refused
#     by the per-uid cap (and alone may use the reserve above the total
#     cap, checked by check_ipcserver);
#  2. "nobody" at its cap of 64 is refused LIMIT (57) while root gets in;
#  3. a connection whose program has exited stops counting at once:
#     with ampsd stopped (SIGSTOP), nobody's next program connects (it
#     waits in the listen queue, ahead of the EOF below), then one of
#     nobody's 64 programs exits; when ampsd runs again it accepts the
#     new program first, and must welcome it.
# Needs root, setpriv, ss and the users nobody and daemon.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=tests/reliability/rel.sh
. "$(dirname "$0")/rel.sh"

IPCRAW=$B/tests/reliability/ipcraw
CTL=$B/ampsctl/ampsctl
need_users
command -v ss >/dev/null || skip "needs ss (iproute2)"
[ -x "$IPCRAW" ] || skip "$IPCRAW not built"
user_bin "$AMPSD" "$CTL" "$IPCRAW"
SOCK=$T/run/ampsd.sock
mkdir -m 755 "$T/run" "$T/state"
chown daemon "$T/run" "$T/state"

# hold USER N NAME: USER opens N connections, kept 120 s; waits for the
# verdict and checks that all were welcomed.
hold() {
	as_user "$1" ipcraw -S "$SOCK" hold "$2" 120000 >"$T/$3.out" 2>&1 &
	eval "$3=\$!"
	PIDS="$PIDS $!"
	wait_for 30 test -s "$T/$3.out" || fail "$3: no verdict"
	grep -q "^welcome=$2 refused=0 " "$T/$3.out" ||
	    fail "$3: $(cat "$T/$3.out")"
}
# unhold NAME: end that holder and wait for it.
unhold() {
	eval "_p=\$$1"
	kill "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
}
# queued: connections waiting in the listen queue of the socket.
queued() {
	ss -xlH src "$SOCK" | awk '{ print $3 }'
}
# queued_is N: exactly N are waiting (for wait_for).
queued_is() {
	[ "$(queued)" = "$1" ]
}

start_ampsim sim
cat >"$T/ampsd.conf" <<EOC
socket "$SOCK" mode 0666;
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "sec-caps-$$";
	server "tcp://127.0.0.1:$SIMPORT/amps/json";
	allow subscribe user "nobody" topic ".*";
}
EOC
chown daemon "$T/ampsd.conf"
as_user daemon ampsd -f -v -c "$T/ampsd.conf" >>"$T/ampsd.log" 2>&1 &
AMPSD_PID=$!
PIDS="$PIDS $AMPSD_PID"
wait_for 30 test -S "$SOCK" || fail "ampsd did not start"

# 1. The daemon's user at 64 connections; its ampsctl and root's get in.
hold daemon 64 hd
as_user daemon ampsctl status -socket "$SOCK" >"$T/st1.out" 2>&1 ||
    fail "the daemon user's ampsctl was locked out: $(cat "$T/st1.out")"
"$CTL" status -socket "$SOCK" >"$T/st1.out" 2>&1 ||
    fail "root's ampsctl was locked out: $(cat "$T/st1.out")"
unhold hd
echo "1. daemon's user holds 64: its ampsctl and root's get in"

# 2. nobody at its cap: refused, root still in.
hold nobody 63 h63
hold nobody 1 h1
as_user nobody ampsctl ping -socket "$SOCK" >"$T/p2.out" 2>&1 &&
    fail "nobody's 65th connection was accepted"
grep -qi 'limit' "$T/p2.out" || fail "no LIMIT: $(cat "$T/p2.out")"
"$CTL" ping -socket "$SOCK" >"$T/p2.out" 2>&1 ||
    fail "root refused: $(cat "$T/p2.out")"
log_line=$(grep -c 'per-uid connection limit' "$T/ampsd.log")
[ "$log_line" -ge 1 ] || fail "the refusal was not logged"
echo "2. nobody at 64 refused LIMIT; root in"

# 3. A program that exited stops counting at once.
kill -STOP "$AMPSD_PID"
as_user nobody ampsctl ping -socket "$SOCK" >"$T/p3.out" 2>&1 &
late=$!
PIDS="$PIDS $late"
wait_for 30 queued_is 1 ||
    fail "the new program did not reach the listen queue ($(queued))"
unhold h1
kill -CONT "$AMPSD_PID"
wait "$late" || fail "the program after an exited one was refused: \
$(cat "$T/p3.out")"
grep -q 'alive' "$T/p3.out" || fail "ping: $(cat "$T/p3.out")"
echo "3. the exited program's place was given to the next one at once"
unhold h63
pass
