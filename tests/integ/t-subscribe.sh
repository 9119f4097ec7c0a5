#!/bin/bash
# Client-side conformance scenarios of PROTOCOL.md §17.4 (12-29; 23 and 24 in
# one), pause/resume and client-side conflation through libampsipc, ampsd
# and ampsim, plus the ampsctl receiving commands.
. "$(dirname "$0")/lib.sh"

SUBTEST=$B/tests/integ/subtest
AMPSCTL=$B/ampsctl/ampsctl
start_ampsim sim --ack-conflation 10 --conf-line "sow orders key=/id" \
    --conf-line "sow s15 key=/id" --conf-line "sow s16 key=/id" \
    --conf-line "sow s18 key=/id" --conf-line "sow s19 key=/id" \
    --conf-line "sow s20 key=/id" --conf-line "sow s21 key=/id" \
    --conf-line "sow s23 key=/id" --conf-line "txlog .*" \
    --conf-line "queue work topic=work-in semantics=at-least-once lease=30s backlog=10" \
    --conf-line "queue work2 topic=work2-in semantics=at-least-once lease=30s backlog=10" \
    --conf-line "queue qctl topic=qctl-in semantics=at-least-once lease=30s backlog=10"
write_conf "$SIMPORT"
start_ampsd
wait_for 30 ready_at_least 1 || fail "daemon never ready"

timeout 120 "$SUBTEST" -S "$T/ampsd.sock" scenario 12 13 14 15 16 17 18 19 \
    20 21 22 23 25 26 27 28 29 conflate pause release >"$T/subtest.log" 2>&1
rc=$?
cat "$T/subtest.log"
[ $rc = 0 ] || fail "scenarios failed"

# ampsctl: sow with order and top_n, sow_delete stats, subscribe -n.
export AMPSD_SOCKET="$T/ampsd.sock"
for i in 1 2 3; do echo "{\"id\":$i,\"qty\":$((i * 10))}"; done |
    "$AMPSCTL" publish -topic orders -wait persisted || fail "publish"
got=$("$AMPSCTL" sow -topic orders -orderby '/qty DESC' -topn 2 \
    -format '{data}') || fail "ampsctl sow"
[ "$got" = '{"id":3,"qty":30}
{"id":2,"qty":20}' ] || fail "ampsctl sow output: $got"
got=$("$AMPSCTL" sow_delete -topic orders -filter '/id = 1') ||
    fail "ampsctl sow_delete"
[ "$got" = "records_deleted=1 matches=1" ] || fail "sow_delete: $got"
got=$(timeout 30 "$AMPSCTL" subscribe -topic orders -bookmark 0 -n 3 \
    -format '{command} {data}') || fail "ampsctl subscribe"
[ "$(echo "$got" | wc -l)" = 3 ] || fail "subscribe replay: $got"
"$AMPSCTL" sow -topic orders -filter '/qty >>> 1' 2>"$T/err" &&
    fail "bad filter accepted"
grep -q "bad filter" "$T/err" || fail "bad filter message: $(cat "$T/err")"

# ampsctl durable resume: -n 3 then the rest, nothing twice.
for i in 0 1 2 3 4; do echo "{\"id\":$i}"; done |
    "$AMPSCTL" publish -topic dtest -wait persisted || fail "publish dtest"
a=$(timeout 10 "$AMPSCTL" subscribe -topic dtest -durable -subid z \
    -bookmark recent -n 3 | tr -d '\n')
b=$(timeout 10 "$AMPSCTL" subscribe -topic dtest -durable -subid z \
    -bookmark recent -timeout 700 | tr -d '\n')
[ "$a|$b" = '{"id":0}{"id":1}{"id":2}|{"id":3}{"id":4}' ] ||
    fail "ampsctl durable resume: $a|$b"

# ampsctl subscribe -ack -n on a queue: the acks of what it printed
# reach AMPS before its unsubscribe, and what it leased but did not
# print goes back to the queue.
for i in 1 2 3; do echo "{\"job\":$i}"; done |
    "$AMPSCTL" publish -topic qctl-in -wait persisted || fail "publish qctl"
got=$(timeout 10 "$AMPSCTL" subscribe -topic qctl -backlog 10 -ack -n 2 |
    tr -d '\n')
[ "$got" = '{"job":1}{"job":2}' ] || fail "queue -n 2: $got"
got=$("$AMPSCTL" sow -topic qctl | tr -d '\n')
[ "$got" = '{"job":3}' ] || fail "queue after -ack -n 2 holds: $got"

# One live attachment per durable name; the second gets a clear error.
"$AMPSCTL" subscribe -topic orders -durable -subid dx -bookmark recent \
    -timeout 120000 >/dev/null 2>&1 &
PIDS="$PIDS $!"
dx_attached() {
	"$AMPSCTL" subscriptions | grep -q '^durable name=dx .*attached=1'
}
wait_for 30 dx_attached || fail "the first attachment of dx never attached"
"$AMPSCTL" subscribe -topic orders -durable -subid dx -bookmark recent \
    -timeout 500 2>"$T/err" && fail "second attachment accepted"
grep -q "attached to another program" "$T/err" ||
    fail "second attachment: $(cat "$T/err")"
pass
