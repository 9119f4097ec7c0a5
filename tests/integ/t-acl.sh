#!/bin/bash
# Only local users the configuration allows may connect, and only to the
# topics they are allowed (DESIGN.md §4 promise 4).  Needs root (to run
# the publisher as "nobody"); skipped otherwise.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null ||
    ! id nobody >/dev/null 2>&1; then
	OK=1
	echo "SKIP: needs root, setpriv and user nobody"
	exit 77
fi
user_bin "$PUBTEST"
as_nobody() {
	as_user nobody pubtest "$@" 2>>"$T/nobody.log"
}
start_ampsim sim
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock" mode 0666;
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "acl-$$";
	server "tcp://127.0.0.1:$SIMPORT/amps/json";
	allow publish user "nobody" topic "ok\\\\..*";
}
EOC
start_ampsd
as_nobody -S "$T/ampsd.sock" -t ok.orders -n 3 -F -W 30000 ||
    fail "allowed publish refused: $(cat "$T/nobody.log")"
as_nobody -S "$T/ampsd.sock" -t secret -n 1 -W 5000 &&
    fail "publish to a topic outside the rule was accepted"
grep -q -i 'not permitted' "$T/nobody.log" ||
    fail "no NOT_PERMITTED error: $(cat "$T/nobody.log")"
# Without any rule naming it, the user cannot even connect.
sed -i '/allow publish/d' "$T/ampsd.conf"
stop_ampsd TERM
start_ampsd
: >"$T/nobody.log"
as_nobody -S "$T/ampsd.sock" -t ok.orders -n 1 -W 5000 &&
    fail "a user without any rule could publish"
printf '0\n1\n2\n' >"$T/want"
got() {
	replay_ids ok.orders >"$T/got"
	cmp -s "$T/want" "$T/got"
}
wait_for 30 got || fail "allowed messages not delivered exactly"
replay_ids secret >"$T/got2"
[ ! -s "$T/got2" ] || fail "refused topic reached AMPS"
pass
