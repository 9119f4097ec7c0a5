#!/bin/bash
# shellcheck disable=SC2317 # functions called indirectly (wait_for)
# Topic allow rules hold for what is delivered, not only for the topic
# string a program sends (RELIABILITY.md finding 14, DESIGN.md §4
# promise 4).  The real user "nobody" may use topics grp.* only
# (rule topic "grp\..*"); AMPS (ampsim) reads a subscription topic with
# regex characters as a regular expression, so:
#  1. a rule matches the whole topic: "orders" does not allow
#     payroll-orders-secret;
#  2. a bookmark subscription from EPOCH to "grp.z|.*" replays only grp.*
#     topics (the others are dropped and counted in status);
#  3. sow on "grp.x|orders" returns grp.x records only;
#  4. sow_and_subscribe with oof, and a delta subscription, on a regex
#     bring no message, SOW record or OOF of another topic;
#  5. sow_delete with a topic holding regex characters is refused
#     (NOT_PERMITTED) and deletes nothing; without them it works;
#  6. rules changed by a reload apply to live subscriptions: a queue
#     message of a topic no longer allowed is not delivered, its lease is
#     returned at once (another consumer gets it within 30 s, long before
#     the 120 s lease), and the subscription ends with NOT_PERMITTED;
#  7. the user "daemon", allowed every topic (".*"), and root get
#     everything, and nothing of theirs is counted as dropped.
# Needs root, setpriv and the users nobody and daemon (skipped otherwise).
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=tests/reliability/rel.sh
. "$(dirname "$0")/rel.sh"

CTL=$B/ampsctl/ampsctl
need_users
user_bin "$CTL"
SOCK=$T/run/ampsd.sock
mkdir -m 755 "$T/run"

# ctl USER ARGS...: ampsctl as USER ("root" runs the build's copy).
ctl() {
	_u=$1
	shift
	if [ "$_u" = root ]; then
		"$CTL" "$@" -socket "$SOCK"
	else
		as_user "$_u" ampsctl "$@" -socket "$SOCK"
	fi
}
# dropped: the daemon's acl_dropped count for connection main.
dropped() {
	status_val main acl_dropped
}
# only FILE PATTERN: every line of FILE matches the extended regex.
only() {
	! grep -qvE "$2" "$1"
}
# lines_ge FILE N: FILE has at least N lines (for wait_for).
lines_ge() {
	[ "$(wc -l <"$1")" -ge "$2" ]
}

start_ampsim sim --conf-line 'txlog .*' --conf-line 'sow orders key=/id' \
    --conf-line 'sow grp.x key=/id' --conf-line 'sow grp.y key=/id' \
    --conf-line 'sow grpz key=/id' \
    --conf-line 'queue grp.work topic=grp.work-in lease=120s backlog=10'
conf() {
	cat >"$T/ampsd.conf" <<EOC
socket "$SOCK" mode 0666;
state-directory "$T/state";
log stderr;
connection "main" {
	default;
	client-name "sec-acl-$$";
	server "tcp://127.0.0.1:$SIMPORT/amps/json";
	reconnect exponential initial 50ms max 1s factor 2 give-up never;
	allow all user "nobody" topic "$1";
	allow publish user "nobody" topic "orders";
	allow all user "nobody" topic "grpz";
	allow all user "daemon" topic ".*";
}
EOC
}
conf 'grp\\..*'
rm -f "$SOCK"
"$AMPSD" -f -v -c "$T/ampsd.conf" >>"$T/ampsd.log" 2>&1 &
AMPSD_PID=$!
PIDS="$PIDS $AMPSD_PID"
wait_for 30 test -S "$SOCK" || fail "ampsd did not start"
wait_for 30 ready_at_least 1 || fail "ampsd did not log on"

pub_ids orders 1 2 3 4 5
pub_ids grp.x 100 101 102
pub_ids grp.y 200
pub_ids orders 6 7 8
pub_ids grp.end 999

# 1. Whole-topic rules.
ctl nobody publish -topic payroll-orders-secret -data '{"id":66}' \
    -wait stored >"$T/p1.out" 2>&1 &&
    fail "nobody published to payroll-orders-secret (rule \"orders\")"
grep -qi 'not permitted' "$T/p1.out" || fail "no NOT_PERMITTED: $(cat "$T/p1.out")"
ctl nobody publish -topic orders.eu -data '{"id":67}' -wait stored \
    >"$T/p1.out" 2>&1 && fail "nobody published to orders.eu"
ctl nobody publish -topic grp.new -data '{"id":300}' -wait persisted \
    >"$T/p1.out" 2>&1 || fail "allowed publish refused: $(cat "$T/p1.out")"
ctl nobody subscribe -topic orders -n 1 -timeout 2000 >"$T/p1.out" 2>&1 &&
    fail "nobody subscribed to orders"
grep -qi 'not permitted' "$T/p1.out" || fail "subscribe: $(cat "$T/p1.out")"
echo "1. whole-topic rules: checked"

# 2. A regex bookmark subscription from EPOCH.  The last grp message
# (grp.end, after orders 6..8) ends it; anything else that leaked in
# before it would be among the 6 lines.
ctl nobody subscribe -topic 'grp.z|.*' -bookmark 0 -n 6 \
    -format '{topic} {data}' -timeout 30000 >"$T/s2.out" 2>"$T/s2.err" ||
    fail "regex subscription failed: $(cat "$T/s2.err")"
printf '%s\n' 'grp.x {"id":100}' 'grp.x {"id":101}' 'grp.x {"id":102}' \
    'grp.y {"id":200}' 'grp.end {"id":999}' 'grp.new {"id":300}' >"$T/s2.want"
cmp -s "$T/s2.want" "$T/s2.out" ||
    fail "regex subscription from EPOCH delivered: $(cat "$T/s2.out")"
[ "$(dropped)" = 8 ] || fail "acl_dropped $(dropped), want 8 (orders 1..8)"
grep -q 'may not receive topic orders' "$T/ampsd.log" ||
    fail "the first dropped delivery was not logged"
echo "2. regex subscription from EPOCH: 6 delivered, 8 dropped"

# 3. sow on a regex topic.
ctl nobody sow -topic 'grp.x|orders' -format '{topic} {data}' \
    >"$T/s3.out" 2>"$T/s3.err" || fail "sow failed: $(cat "$T/s3.err")"
[ "$(wc -l <"$T/s3.out")" = 3 ] && only "$T/s3.out" '^grp\.x ' ||
    fail "sow on grp.x|orders returned: $(cat "$T/s3.out")"
[ "$(dropped)" = 16 ] || fail "acl_dropped $(dropped) after sow, want 16"
# root sees both topics' records
ctl root sow -topic 'grp.x|orders' -format '{topic}' >"$T/s3r.out" ||
    fail "root sow"
[ "$(grep -c '^orders$' "$T/s3r.out")" = 8 ] ||
    fail "root's sow: $(tr '\n' ' ' <"$T/s3r.out")"
echo "3. sow on a regex: 3 records, 8 dropped"

# 4. sow_and_subscribe with oof on a regex, then live updates.  The
# program stops after 5 messages: 3 SOW records of grp.x, the OOF of
# grp.x 100 and the publish of grp.x 103; the deletion of orders 1 (an
# OOF) and the publish of orders 9 come before them and must not show.
ctl nobody sow_and_subscribe -topic 'grp.x|orders' -filter '/id > 0' \
    -options oof -subid sas -n 5 -format '{command} {topic} {data}' \
    -timeout 30000 >"$T/s4.out" 2>"$T/s4.err" &
sas=$!
PIDS="$PIDS $sas"
wait_for 30 lines_ge "$T/s4.out" 3 ||
    fail "sow_and_subscribe: no SOW records: $(cat "$T/s4.err")"
ctl root sow_delete -topic orders -filter '/id = 1' >>"$T/ctl.log" 2>&1 ||
    fail "root sow_delete orders"
pub_ids orders 9
ctl root sow_delete -topic grp.x -filter '/id = 100' >>"$T/ctl.log" 2>&1 ||
    fail "root sow_delete grp.x"
pub_ids grp.x 103
wait "$sas" || fail "sow_and_subscribe failed: $(cat "$T/s4.err")"
printf '%s\n' 'sow grp.x {"id":100}' 'sow grp.x {"id":101}' \
    'sow grp.x {"id":102}' 'oof grp.x {"id":100}' 'p grp.x {"id":103}' \
    >"$T/s4.want"
sort "$T/s4.out" | cmp -s - <(sort "$T/s4.want") ||
    fail "sow_and_subscribe brought: $(cat "$T/s4.out")"
# a delta subscription on a regex
ctl nobody subscribe -delta -topic 'grp.y|orders' -n 1 \
    -format '{topic} {data}' -timeout 30000 >"$T/s4d.out" 2>"$T/s4d.err" &
dsub=$!
PIDS="$PIDS $dsub"
NOBODY_UID=$(id -u nobody)
wait_for 30 listed "uid=$NOBODY_UID .*topic=grp.y" ||
    fail "delta subscription not registered"
pub_ids orders 10
pub_ids grp.y 201
wait "$dsub" || fail "delta subscription failed: $(cat "$T/s4d.err")"
[ "$(cat "$T/s4d.out")" = 'grp.y {"id":201}' ] ||
    fail "delta subscription brought: $(cat "$T/s4d.out")"
echo "4. sow_and_subscribe with oof and a delta subscription: only grp.*"

# 5. sow_delete with a regex topic is refused and deletes nothing.
ctl nobody sow_delete -topic 'grp.x|orders' -filter '/id > 0' \
    >"$T/s5.out" 2>&1 && fail "nobody's regex sow_delete was accepted"
grep -qi 'not permitted' "$T/s5.out" || fail "sow_delete: $(cat "$T/s5.out")"
ctl root sow -topic orders -format '{data}' >"$T/s5r.out" || fail "root sow"
[ "$(wc -l <"$T/s5r.out")" = 9 ] ||
    fail "orders lost records: $(tr '\n' ' ' <"$T/s5r.out")"
# A dot is a regex character too: only topics without one may be
# deleted from by a user whose rules do not cover every topic.
ctl nobody sow_delete -topic grp.y -filter '/id = 200' >"$T/s5.out" 2>&1 &&
    fail "nobody's sow_delete on grp.y (a regex) was accepted"
ctl nobody publish -topic grpz -data '{"id":1}' -wait persisted \
    >>"$T/ctl.log" 2>&1 || fail "nobody's publish to grpz"
ctl nobody sow_delete -topic grpz -filter '/id = 1' >"$T/s5.out" 2>&1 ||
    fail "nobody's sow_delete on grpz refused: $(cat "$T/s5.out")"
grep -q 'records_deleted=1 ' "$T/s5.out" || fail "grpz: $(cat "$T/s5.out")"
echo "5. sow_delete with a regex refused"

# 6. A reload takes grp.work away from nobody while it consumes the queue.
ctl nobody subscribe -topic grp.work -backlog 5 -ack -format '{data}' \
    >"$T/s6.out" 2>"$T/s6.err" &
qsub=$!
PIDS="$PIDS $qsub"
wait_for 30 listed 'topic=grp\.work$' ||
    fail "queue subscription not registered"
pub_ids grp.work-in 1
wait_for 30 grep -q '"id":1' "$T/s6.out" || fail "queue message 1 not delivered"
base=$(dropped)
conf 'grp\\.[xy].*'
ctl root reload >>"$T/ctl.log" 2>&1 || fail "reload refused"
pub_ids grp.work-in 2
wait_for 30 eval "! kill -0 $qsub" ||
    fail "the queue subscription did not end after the reload"
wait "$qsub" && fail "the queue subscription ended without an error"
grep -qi 'not permitted' "$T/s6.err" || fail "queue end: $(cat "$T/s6.err")"
grep -q '"id":2' "$T/s6.out" && fail "queue message 2 delivered after the reload"
[ "$(dropped)" = $((base + 1)) ] || fail "acl_dropped $(dropped), want $((base + 1))"
# the lease came back at once: root gets message 2 within 30 s, well
# before the 120 s lease would have run out
ctl root subscribe -topic grp.work -backlog 5 -ack -n 1 -format '{data}' \
    -timeout 30000 >"$T/s6r.out" 2>&1 || fail "root queue consumer"
[ "$(cat "$T/s6r.out")" = '{"id":2}' ] ||
    fail "queue message 2 not returned: $(cat "$T/s6r.out")"
echo "6. reload: queue message refused, lease returned, subscription ended"

# 7. Unrestricted users get everything and cost no drop: the log holds
# 10 publishes of orders and 4 of grp.x.
base=$(dropped)
for u in daemon root; do
	ctl "$u" subscribe -topic 'grp.x|orders' -bookmark 0 -n 14 \
	    -format '{topic}' -timeout 30000 >"$T/s7.$u" 2>&1 ||
	    fail "$u's regex subscription: $(cat "$T/s7.$u")"
	[ "$(grep -c '^orders$' "$T/s7.$u")" = 10 ] &&
	    [ "$(grep -c '^grp.x$' "$T/s7.$u")" = 4 ] ||
	    fail "$u got: $(tr '\n' ' ' <"$T/s7.$u")"
done
[ "$(dropped)" = "$base" ] || fail "unrestricted users had drops"
echo "7. daemon (.*) and root: everything, no drop"
pass
