#!/bin/bash
# shellcheck disable=SC2317 # functions called indirectly (wait_for)
# A durable subscription name belongs to the uid that defined it
# (RELIABILITY.md finding 15, DESIGN.md §4 promises 2 and 4).  User A
# ("nobody", topics a.*) defines "shared" and processes 8 messages; user
# B ("daemon", topics b.*) then tries every way to take the name over:
#  1. a durable subscription named "shared" on its own topic b.t;
#  2. ampsctl unsubscribe -name shared;
#  3. a DISCARD for "shared" by raw IPC, with a bookmark A was given,
#     while A is detached and while A is attached;
#  4. all of them again after an ampsd restart (the owner is in the
#     bookmark store).
# Each is refused with NOT_PERMITTED naming the owner, and A resumes
# exactly after its 8 messages (none delivered again).  Root may attach
# the name (the owner stays A) and remove it; the name is then free.
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
SOCK=$T/ampsd.sock
A=nobody
AUID=$(id -u nobody)

# durable USER TOPIC N OUT: USER's durable subscription "shared" to
# TOPIC (from EPOCH the first time), N messages, "bookmark data" lines.
durable() {
	as_user "$1" ampsctl subscribe -topic "$2" -durable -subid shared \
	    -bookmark 0 -n "$3" -format '{bookmark} {data}' -timeout 30000 \
	    -socket "$SOCK" >"$4" 2>"$4.err"
}
# refused WHAT FILE: FILE holds NOT_PERMITTED naming A's uid as owner.
refused() {
	grep -q "belongs to uid $AUID" "$2" ||
	    fail "$1: not refused with the owner named: $(cat "$2")"
}
# b_tries STEP: user B's three attempts, each must be refused.
b_tries() {
	durable daemon b.t 1 "$T/b$1.out" &&
	    fail "$1: B attached A's durable name"
	refused "$1: B's subscribe" "$T/b$1.out.err"
	as_user daemon ampsctl unsubscribe -name shared -socket "$SOCK" \
	    >"$T/u$1.out" 2>&1 && fail "$1: B removed A's durable name"
	refused "$1: B's unsubscribe -name" "$T/u$1.out"
	as_user daemon ipcraw -S "$SOCK" discard shared "$BM8" >"$T/d$1.out" ||
	    fail "$1: ipcraw discard"
	[ "$(cat "$T/d$1.out")" = "discard: error=50" ] ||
	    fail "$1: B's DISCARD for A's name: $(cat "$T/d$1.out")"
	listed "^durable name=shared .*owner_uid=$AUID " ||
	    fail "$1: the owner changed: $("$CTL" subscriptions -socket "$SOCK")"
}

start_ampsim sim
cat >"$T/ampsd.conf" <<EOC
socket "$SOCK" mode 0666;
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "sec-dur-$$";
	server "tcp://127.0.0.1:$SIMPORT/amps/json";
	reconnect exponential initial 50ms max 1s factor 2 give-up never;
	allow all user "nobody" topic "a\\\\..*";
	allow all user "daemon" topic "b\\\\..*";
}
EOC
start_ampsd
wait_for 30 ready_at_least 1 || fail "ampsd did not log on"

# A defines "shared" and processes messages 1..8.
pub_ids a.t 1 2 3 4 5 6 7 8
pub_ids b.t 1
durable "$A" a.t 8 "$T/a1.out" || fail "A's subscription: $(cat "$T/a1.out.err")"
[ "$(sed 's/^[^ ]* //' "$T/a1.out" | tr -d '\n')" = \
    '{"id":1}{"id":2}{"id":3}{"id":4}{"id":5}{"id":6}{"id":7}{"id":8}' ] ||
    fail "A got: $(cat "$T/a1.out")"
BM8=$(sed -n '8s/ .*//p' "$T/a1.out")
[ -n "$BM8" ] || fail "no bookmark for message 8"

b_tries 1
echo "1-3. B refused: subscribe, unsubscribe -name, DISCARD (A detached)"

# 4. After a restart, the same; and B's DISCARD while A is attached.
stop_ampsd TERM
start_ampsd
wait_for 30 ready_at_least 2 || fail "ampsd did not log on again"
b_tries 2
durable "$A" a.t 2 "$T/a2.out" &
a2=$!
PIDS="$PIDS $a2"
wait_for 30 listed "^sub id=shared kind=durable .*uid=$AUID " ||
    fail "A's resumed subscription not listed"
as_user daemon ipcraw -S "$SOCK" discard shared "$BM8" >"$T/d3.out" ||
    fail "ipcraw discard (A attached)"
[ "$(cat "$T/d3.out")" = "discard: error=50" ] ||
    fail "B's DISCARD while A is attached: $(cat "$T/d3.out")"
pub_ids a.t 9 10
wait "$a2" || fail "A's resume failed: $(cat "$T/a2.out.err")"
[ "$(sed 's/^[^ ]* //' "$T/a2.out" | tr -d '\n')" = '{"id":9}{"id":10}' ] ||
    fail "A resumed with: $(cat "$T/a2.out") (messages it had discarded?)"
echo "4. after a restart: B refused again; A resumed after its 8 messages"

# Root may attach A's name; the owner stays A.
pub_ids a.t 11
"$CTL" subscribe -topic a.t -durable -subid shared -n 1 -format '{data}' \
    -timeout 30000 -socket "$SOCK" >"$T/r.out" 2>&1 || fail "root attach"
[ "$(cat "$T/r.out")" = '{"id":11}' ] || fail "root got: $(cat "$T/r.out")"
listed "^durable name=shared .*owner_uid=$AUID " ||
    fail "root's attach changed the owner"
# Root removes it; the name is then free for B, and A is refused.
"$CTL" unsubscribe -name shared -socket "$SOCK" >>"$T/ctl.log" 2>&1 ||
    fail "root could not remove the name"
durable daemon b.t 1 "$T/b3.out" ||
    fail "B could not take the free name: $(cat "$T/b3.out.err")"
durable "$A" a.t 1 "$T/a3.out" && fail "A attached B's name"
grep -q "belongs to uid $(id -u daemon)" "$T/a3.out.err" ||
    fail "A not refused: $(cat "$T/a3.out.err")"
echo "5. root attaches (owner kept) and removes; then the name is free"
pass
