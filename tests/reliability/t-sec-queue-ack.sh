#!/bin/bash
# shellcheck disable=SC2317 # functions called indirectly (wait_for)
# A queue message is settled only by the program holding its lease
# (RELIABILITY.md finding 30, DESIGN.md §4 promise 4; AMPS settles only
# the leases of the connection that sends the ack, PROTOCOL.md §10).
# The users nobody and daemon are both allowed the queue "jobs".
#  1. nobody's consumer holds the leases of messages 1 and 2 (backlog
#     10, lease 120 s) and does not ack them;
#  2. daemon learns their bookmarks and acks them by raw IPC, one and
#     then both in one frame; root does the same from a program of its
#     own: every ack is refused (NOT_PERMITTED) and AMPS gets none
#     (ampsim's ack count stays 0);
#  3. nobody's consumer stops: its leases are returned at once, and
#     daemon's consumer gets messages 1 and 2 within 30 s (long before
#     the 120 s lease), acks them, and AMPS counts exactly 2 acks.
# With the daemon before this check, step 2 consumed both messages and
# step 3 timed out.
# Needs root, setpriv and the users nobody and daemon (skipped otherwise).
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=tests/reliability/rel.sh
. "$(dirname "$0")/rel.sh"

IPCRAW=$B/tests/reliability/ipcraw
CTL=$B/ampsctl/ampsctl
need_users
[ -x "$IPCRAW" ] || skip "$IPCRAW not built"
user_bin "$CTL" "$IPCRAW"
SOCK=$T/run/ampsd.sock
mkdir -m 755 "$T/run"
NOT_PERMITTED=50

# qack KEY: one value of ampsim's "qacks" reply
qack() {
	sim_admin qacks | tr ' ' '\n' | sed -n "s/^$1=//p"
}
# qack_is KEY N: ampsim's count KEY is N now (for wait_for, which
# re-runs it on every poll).
qack_is() {
	[ "$(qack "$1")" = "$2" ]
}
# lines_ge FILE N: FILE has at least N lines (for wait_for).
lines_ge() {
	[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]
}
# refused WHO OUT: the ipcraw verdict in OUT is NOT_PERMITTED.
refused() {
	grep -q "^qack: error=$NOT_PERMITTED\$" "$2" ||
	    fail "$1: ack not refused: $(cat "$2")"
}

start_ampsim sim --conf-line 'txlog .*' \
    --conf-line 'queue jobs topic=jobs-in lease=120s backlog=10'
cat >"$T/ampsd.conf" <<EOC
socket "$SOCK" mode 0666;
state-directory "$T/state";
log stderr;
connection "main" {
	default;
	client-name "sec-qack-$$";
	server "tcp://127.0.0.1:$SIMPORT/amps/json";
	queue-ack batch 1 timeout 100ms;
	allow all user "nobody" topic "jobs|jobs-in";
	allow all user "daemon" topic "jobs|jobs-in";
}
EOC
"$AMPSD" -f -v -c "$T/ampsd.conf" >>"$T/ampsd.log" 2>&1 &
AMPSD_PID=$!
PIDS="$PIDS $AMPSD_PID"
wait_for 30 test -S "$SOCK" || fail "ampsd did not start"
wait_for 30 ready_at_least 1 || fail "ampsd did not log on"

pub_ids jobs-in 1 2

# 1: nobody holds both leases (it waits for a third message that never
# comes, until it is stopped).
as_user nobody ampsctl subscribe -topic jobs -backlog 10 -n 3 \
    -format '{bookmark} {data}' -timeout 120000 -socket "$SOCK" \
    >"$T/a.out" 2>"$T/a.err" &
A=$!
PIDS="$PIDS $A"
wait_for 30 lines_ge "$T/a.out" 2 || fail "nobody's consumer got no lease"
BM1=$(sed -n '1s/ .*//p' "$T/a.out")
BM2=$(sed -n '2s/ .*//p' "$T/a.out")
[ -n "$BM1" ] && [ -n "$BM2" ] || fail "no bookmarks: $(cat "$T/a.out")"

# 2: every other program's ack of them is refused and not sent.
as_user daemon ipcraw -S "$SOCK" qack jobs "$BM1" >"$T/b1.out" 2>&1
refused "daemon, one bookmark" "$T/b1.out"
as_user daemon ipcraw -S "$SOCK" qack jobs "$BM1,$BM2" >"$T/b2.out" 2>&1
refused "daemon, both bookmarks" "$T/b2.out"
"$IPCRAW" -S "$SOCK" qack jobs "$BM2" >"$T/r.out" 2>&1
refused "root's program" "$T/r.out"
# A refused ack would have gone upstream before the PONG answered it.
[ "$(qack bookmarks)" = 0 ] ||
    fail "AMPS got acks for leases nobody holds: $(sim_admin qacks)"
kill -0 "$A" 2>/dev/null || fail "nobody's consumer ended early"

# 3: the holder stops; its leases come back at once to daemon's consumer.
kill -TERM "$A"
wait_exit 30 "$A" "nobody's consumer" || true
as_user daemon ampsctl subscribe -topic jobs -backlog 10 -ack -n 2 \
    -format '{data}' -timeout 30000 -socket "$SOCK" >"$T/c.out" \
    2>"$T/c.err" || fail "daemon's consumer did not get messages 1 and 2 \
within 30 s (consumed by a refused ack?): $(cat "$T/c.out" "$T/c.err")"
[ "$(grep -o '[0-9]*' "$T/c.out" | sort -n | tr '\n' ' ')" = "1 2 " ] ||
    fail "daemon's consumer got: $(cat "$T/c.out")"
wait_for 30 qack_is bookmarks 2 ||
    fail "AMPS did not get the holder's 2 acks: $(sim_admin qacks)"

pass
