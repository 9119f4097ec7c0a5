#!/bin/bash
# shellcheck disable=SC2317 # functions called indirectly (trap, wait_for)
# Storage faults never lose stored data silently (DESIGN.md §4 promise 5,
# with promise 1 for what was stored):
#  1. disk full (a small tmpfs as the state directory): publishes are
#     refused with a "full" error, none is acknowledged as stored or sent,
#     and publishing works again once space returns;
#  2. EIO on fdatasync, then on write (LD_PRELOAD shim eioshim.so): same;
#  3. a corrupt, truncated, foreign or headerless store, or a lost main
#     file beside its -wal: ampsd refuses to start with a clear message
#     and leaves every file byte-for-byte as it was;
#  4. a broken configuration at restart: refused, stores untouched;
#     `ampsd -t` touches nothing.
# At the end AMPS holds exactly the ids reported stored, in order.
# Needs root to mount the tmpfs (skipped otherwise).
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=tests/reliability/rel.sh
. "$(dirname "$0")/rel.sh"

[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
[ -f "$EIOSHIM" ] || skip "$EIOSHIM not built"
command -v sqlite3 >/dev/null || skip "no sqlite3 command"
mkdir -p "$T/state"
mount -t tmpfs -o size=2m,mode=0700 tmpfs "$T/state" 2>/dev/null ||
    skip "cannot mount a tmpfs here"
MOUNTED=1
rel_cleanup() {
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	[ "${MOUNTED:-0}" = 1 ] && umount "$T/state"
	cleanup
}
trap rel_cleanup EXIT

FAULTS=0
start_ampsim sim
write_conf "$SIMPORT" "heartbeat 5s;"
# The clean stop below leaves rows whose acks are held: no long drain.
echo 'shutdown-timeout 1s;' >>"$T/ampsd.conf"
AMPSD_WRAPPER="env LD_PRELOAD=$EIOSHIM_PRELOAD EIOSHIM_TRIGGER=$T/eio \
EIOSHIM_MATCH=pub-main.db"
start_ampsd
wait_for 30 ready_at_least 1 || fail "never ready"
run_pubtest -S "$T/ampsd.sock" -f 0 -n 10 -F -W 10000 ||
    fail "first publishes"
seq 0 9 >"$T/want"

# 1. Disk full.  Acks are held so rows stay in the store and it grows.
sim_admin pause-acks >/dev/null || fail "pause-acks"
dd if=/dev/zero of="$T/state/filler" bs=64k 2>/dev/null
run_pubtest -S "$T/ampsd.sock" -f 100 -n 200 -s 4000 -o "$T/stored1" \
    -W 10000 && fail "publishes accepted on a full disk"
kill -0 "$AMPSD_PID" || fail "ampsd died on a full disk"
grep -q 'publish failed:.*full' "$T/pubtest.log" ||
    fail "no clear 'full' error to the program"
log_has 30 "$T/ampsd.log" 'publish store refused' ||
    fail "ampsd did not log the refusal"
touch "$T/stored1"
nfull=$((200 - $(wc -l <"$T/stored1")))
[ "$nfull" -gt 0 ] || fail "the disk never filled"
FAULTS=$((FAULTS + 1))
rm -f "$T/state/filler"
wait_for 30 grep -q 'publish store writable again' "$T/ampsd.log" ||
    fail "store not writable again after space returned"
run_pubtest -S "$T/ampsd.sock" -f 1000 -n 100 -s 200 -W 10000 ||
    fail "publishes refused after space returned"
cat "$T/stored1" >>"$T/want"
seq 1000 1099 >>"$T/want"

# 2. EIO on fdatasync, then on write; each time the store comes back.
writable() {
	[ "$(grep -c 'publish store writable again' "$T/ampsd.log")" -ge "$1" ]
}
n=2
for kind in sync write; do
	base=$((n * 1000))
	echo "$kind" >"$T/eio"
	rm -f "$T/eio.count"
	: >"$T/stored$n"
	run_pubtest -S "$T/ampsd.sock" -f "$base" -n 20 -o "$T/stored$n" \
	    -W 10000 && fail "publishes accepted with EIO on $kind"
	[ -s "$T/eio.count" ] || fail "no EIO was injected on $kind"
	[ ! -s "$T/stored$n" ] ||
	    fail "acknowledged as stored despite EIO on $kind"
	kill -0 "$AMPSD_PID" || fail "ampsd died on EIO ($kind)"
	FAULTS=$((FAULTS + $(cat "$T/eio.count")))
	rm -f "$T/eio"
	wait_for 30 writable "$n" || fail "store not back after EIO ($kind)"
	run_pubtest -S "$T/ampsd.sock" -f $((base + 500)) -n 20 -W 10000 ||
	    fail "publishes refused after EIO ($kind) ended"
	seq $((base + 500)) $((base + 519)) >>"$T/want"
	n=$((n + 1))
done
grep -q 'publish failed:' "$T/pubtest.log" || fail "EIO not reported"

# Leave unpersisted rows in the store, then stop cleanly.
run_pubtest -S "$T/ampsd.sock" -f 5000 -n 10 -W 10000 ||
    fail "publishes before the restart"
seq 5000 5009 >>"$T/want"
stop_ampsd TERM
unset AMPSD_WRAPPER
sim_admin resume-acks >/dev/null || fail "resume-acks"
mkdir "$T/good"
cp -a "$T/state/." "$T/good/"
DB=$T/state/pub-main.db
[ -s "$DB" ] || fail "no store file"

# 3. Damaged stores: refused, never touched, never replaced.
restore() {
	find "$T/state" -mindepth 1 -delete
	cp -a "$T/good/." "$T/state/"
}
refused_untouched() {
	state_sums "$T/state" >"$T/sums.before"
	ampsd_refuses 10 || fail "$1: ampsd did not refuse to start"
	grep -q "$2" "$T/refuse.log" ||
	    fail "$1: no clear message ($2): $(tail -n 3 "$T/refuse.log")"
	state_sums "$T/state" >"$T/sums.after"
	cmp -s "$T/sums.before" "$T/sums.after" ||
	    fail "$1: the state directory was modified"
	FAULTS=$((FAULTS + 1))
	restore
}
pagesz=$(sqlite3 "$DB" 'PRAGMA page_size')
npages=$(($(stat -c %s "$DB") / pagesz))
[ "$npages" -ge 3 ] || fail "store too small to damage ($npages pages)"
# A b-tree page overwritten with a pattern.
awk 'BEGIN { for (i = 0; i < 1024; i++) printf "BAD!" }' |
    dd of="$DB" bs="$pagesz" seek=2 conv=notrunc 2>/dev/null
refused_untouched corrupt 'corrupt database'
truncate -s "$pagesz" "$DB"
refused_untouched truncated 'truncated'
truncate -s $((pagesz * 2 + 100)) "$DB"
refused_untouched torn-size 'truncated or damaged'
printf 'NOT A DATABASE!!' | dd of="$DB" conv=notrunc 2>/dev/null
refused_untouched header 'not a SQLite database'
rm -f "$DB"
sqlite3 "$DB" 'CREATE TABLE other (x); INSERT INTO other VALUES (1);'
refused_untouched foreign 'not an ampsd publish store'
head -c 4096 "$DB" >"$DB-wal"
: >"$DB"
refused_untouched lost-main 'refusing to create an empty'

# 4. Broken configurations at restart; -t touches nothing.
cp "$T/ampsd.conf" "$T/good.conf"
sed 's/heartbeat 5s;/heartbeat 5s/' "$T/good.conf" >"$T/ampsd.conf"
refused_untouched syntax 'ampsd.conf:'
sed 's/heartbeat 5s;/heartbeat 5;/' "$T/good.conf" >"$T/ampsd.conf"
refused_untouched duration 'ampsd.conf:'
sed 's|server "tcp://|server "bogus://|' "$T/good.conf" >"$T/ampsd.conf"
refused_untouched uri 'ampsd.conf:'
cp "$T/good.conf" "$T/ampsd.conf"
state_sums "$T/state" >"$T/sums.before"
"$AMPSD" -t -c "$T/ampsd.conf" >/dev/null 2>&1 || fail "ampsd -t"
state_sums "$T/state" >"$T/sums.after"
cmp -s "$T/sums.before" "$T/sums.after" || fail "ampsd -t touched the state"

# The kept store still holds what was stored: AMPS gets exactly it.
start_ampsd
wait_for 30 ready_at_least 2 || fail "not ready with the restored store"
wait_for 30 ids_exactly "$T/want" orders || {
	echo "want $(wc -l <"$T/want") got $(wc -l <"$T/got")"
	diff "$T/want" "$T/got" | head -10
	fail "AMPS does not hold exactly the stored ids in order"
}
echo "storage: faults $FAULTS (full refused $nfull), stored-acked \
$(wc -l <"$T/want"), delivered $(wc -l <"$T/got"), lost 0, duplicated 0"
pass
