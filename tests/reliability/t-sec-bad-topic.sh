#!/bin/bash
# shellcheck disable=SC2317 # functions called indirectly (wait_for)
# A bad topic gets INVALID_TOPIC with a clear reason, whatever the
# request, and nothing of it is stored or sent to AMPS (RELIABILITY.md
# finding 18, docs/IPC.md §6): a topic over 64 KiB (it used to get "store
# unavailable"), one that is not valid UTF-8 (it used to reach AMPS) and
# one with a control character, each as publish, delta publish,
# subscribe, sow and sow_delete; then a good topic works.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=tests/reliability/rel.sh
. "$(dirname "$0")/rel.sh"

CTL=$B/ampsctl/ampsctl
SOCK=$T/ampsd.sock
start_ampsim sim
write_conf "$SIMPORT"
start_ampsd
wait_for 30 ready_at_least 1 || fail "ampsd did not log on"

LONG=$(head -c 65537 /dev/zero | tr '\0' 'x')
BADUTF=$(printf 'caf\303')
CTRL=$(printf 'a\tb')
n=0
# bad NAME TOPIC REASON ARGS...: ampsctl ARGS with -topic TOPIC fails
# with REASON.
bad() {
	_name=$1
	_topic=$2
	_why=$3
	shift 3
	"$CTL" "$@" -topic "$_topic" -socket "$SOCK" >"$T/bad.out" 2>&1 &&
	    fail "$_name: accepted"
	grep -q -- "$_why" "$T/bad.out" || fail "$_name: $(cat "$T/bad.out")"
	n=$((n + 1))
}
for k in LONG BADUTF CTRL; do
	case $k in
	LONG) t=$LONG why='topic of 65537 bytes is longer than 65536' ;;
	BADUTF) t=$BADUTF why='topic is not valid UTF-8 (byte 4 of 4)' ;;
	CTRL) t=$CTRL why='topic holds a control character (byte 2 of 3)' ;;
	esac
	bad "$k publish" "$t" "$why" publish -data '{"id":1}' -wait stored
	bad "$k delta publish" "$t" "$why" publish -delta -data '{"id":1}' \
	    -wait stored
	bad "$k subscribe" "$t" "$why" subscribe -n 1 -timeout 2000
	bad "$k sow" "$t" "$why" sow
	bad "$k sow_delete" "$t" "$why" sow_delete -filter '/id = 1'
done
# nothing was stored: no STORED, no store failure
[ "$(status_val main published)" = 0 ] ||
    fail "published=$(status_val main published)"
[ "$(status_val main failed_writes)" = 0 ] ||
    fail "failed_writes=$(status_val main failed_writes)"
# and nothing reached AMPS: its log holds only the good message below
"$CTL" publish -topic good -data '{"id":7}' -socket "$SOCK" \
    -wait persisted >>"$T/ctl.log" 2>&1 || fail "a good topic failed"
"$AMPSUB" -p "$SIMPORT" -t '.*' -q 700 -T 30000 >"$T/all" ||
    fail "ampsub"
[ "$(grep -c . "$T/all")" = 1 ] && grep -q '"id":7' "$T/all" ||
    fail "AMPS holds: $(head -c 300 "$T/all")"
echo "bad topics: $n requests refused with INVALID_TOPIC, nothing stored"
pass
