#!/bin/bash
# Removing durable subscriptions by name (ampsctl unsubscribe -name) and
# listing subscriptions (ampsctl subscriptions):
#  - an idle durable name is removed: it leaves the list, and the next
#    MOST_RECENT subscription under that name starts from the beginning;
#  - an attached one is refused (the reason names the program), and with
#    -force the program's subscription ends with a reason it sees;
#  - another user may not remove a name it does not own (when run as
#    root: the check uses user nobody);
#  - a program's own unsubscribe by id, by list and "all" through
#    libampsipc (subtest scenario unsub).
. "$(dirname "$0")/lib.sh"

SUBTEST=$B/tests/integ/subtest
CTL=$B/ampsctl/ampsctl
ctl() {
	"$CTL" "$@" -socket "$T/ampsd.sock"
}
chmod 755 "$T"
start_ampsim sim --conf-line "txlog .*"
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock" mode 0666;
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "unsub-$$";
	server "tcp://127.0.0.1:$SIMPORT/amps/json";
	allow subscribe user "nobody" topic ".*";
}
EOC
start_ampsd
wait_for 30 ready_at_least 1 || fail "daemon never ready"

run_pubtest -S "$T/ampsd.sock" -t orders -n 5 -F || fail "publish"
# dur1: takes 3 of 5 (discarding them), then nobody is attached
ctl subscribe -topic orders -subid dur1 -durable -bookmark recent -n 3 \
    -timeout 5000 >"$T/dur1.a" || fail "durable subscribe"
[ "$(wc -l <"$T/dur1.a")" = 3 ] || fail "dur1 took $(wc -l <"$T/dur1.a")"
# dur2: attached (a program that runs until killed)
"$SUBTEST" -S "$T/ampsd.sock" async orders "$T/dur2" dur2 \
    2>>"$T/dur2.log" &
D2=$!
PIDS="$PIDS $D2"
wait_for 30 grep -q "^R 4" "$T/dur2" || fail "dur2 not attached"

ctl subscriptions >"$T/list1" || fail "subscriptions"
cat "$T/list1"
grep -q "^durable name=dur1 conn=main owner_uid=$(id -u) attached=0" \
    "$T/list1" || fail "dur1 not listed idle"
grep -q "^durable name=dur2 .*attached=1 pid=$D2 state=live" "$T/list1" ||
    fail "dur2 not listed attached"
grep -q "^sub id=dur2 kind=durable .*pid=$D2 " "$T/list1" ||
    fail "dur2's live subscription not listed"

# another user may not remove what root defined
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    id nobody >/dev/null 2>&1; then
	user_bin "$B/ampsctl/ampsctl"
	as_user nobody ampsctl unsubscribe \
	    -name dur1 -socket "$T/ampsd.sock" 2>"$T/nobody.err" &&
	    fail "nobody removed root's durable subscription"
	cat "$T/nobody.err"
	grep -q "belongs to uid 0" "$T/nobody.err" ||
	    fail "no clear refusal: $(cat "$T/nobody.err")"
fi

# attached: refused, then forced
ctl unsubscribe -name dur2 2>"$T/refused.err" &&
    fail "removed an attached durable subscription"
cat "$T/refused.err"
grep -q "attached to program pid $D2" "$T/refused.err" ||
    fail "refusal does not name the program"
ctl unsubscribe -name nosuch 2>"$T/nosuch.err" && fail "removed nothing"
grep -q 'no durable subscription "nosuch"' "$T/nosuch.err" ||
    fail "unknown name: $(cat "$T/nosuch.err")"

# idle: removed; MOST_RECENT then starts from the beginning
ctl unsubscribe -name dur1 || fail "unsubscribe dur1"
ctl subscriptions >"$T/list2" || fail "subscriptions 2"
grep -q "name=dur1" "$T/list2" && fail "dur1 still listed"
ctl subscribe -topic orders -subid dur1 -durable -bookmark recent -n 5 \
    -timeout 5000 >"$T/dur1.b" || fail "durable subscribe again"
[ "$(wc -l <"$T/dur1.b")" = 5 ] ||
    fail "dur1 resumed instead of starting over: $(wc -l <"$T/dur1.b")"

# forced: the program sees why, and it is gone from the list
ctl unsubscribe -name dur2 -force || fail "forced unsubscribe"
wait_for 30 grep -q "^END 12 unsubscribed by an operator" "$T/dur2" ||
    fail "the program did not see the reason"
kill -0 "$D2" || fail "the program's connection was dropped"
ctl subscriptions >"$T/list3" || fail "subscriptions 3"
grep -q "dur2" "$T/list3" && fail "dur2 still listed: $(cat "$T/list3")"
log_has 30 "$T/ampsd.log" "forced unsubscribe" || fail "not logged"

# a program's own subscriptions: by id, by list, all
"$SUBTEST" -S "$T/ampsd.sock" scenario unsub || fail "scenario unsub"
pass
