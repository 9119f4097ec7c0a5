#!/bin/bash
# ampsd --count-unpersisted DIR, the read-only census the Debian package
# runs before a purge may delete /var/lib/ampsd (ampsd(8)), on stores a
# real ampsd wrote: an empty directory says nothing (exit 0); 3 messages
# stored while the server is down are "cannot tell" while that ampsd runs
# (its -wal), then counted once it stopped (exit 1), and nothing in the
# directory changes; once ampsim persisted them the store says 0 (exit
# 0); a store left by kill -9 (its -wal) is "cannot tell" again; the
# bookmark store is never listed; a directory that cannot be read exits
# 1 with the reason; a missing argument or another option exits 2.
. "$(dirname "$0")/lib.sh"

CTL=$B/ampsctl/ampsctl
S=$T/state
CANNOT="cannot tell (a -wal file is next to it: an ampsd has it open, or was stopped without closing it)"

# count: the census of $S; its status in $rc, stdout in $out, stderr in
# $T/count.err.
count() {
	rc=0
	out=$("$AMPSD" --count-unpersisted "$S" 2>"$T/count.err") || rc=$?
}
# expect RC OUT: the last count had status RC, printed OUT, no stderr.
expect() {
	[ "$rc" = "$1" ] || fail "count exited $rc, not $1 (printed: $out)"
	[ "$out" = "$2" ] || fail "count printed: $out (want: $2)"
	[ ! -s "$T/count.err" ] || fail "count stderr: $(cat "$T/count.err")"
}
# snap: every file of the state directory with its checksum.
snap() {
	(cd "$S" && find . -type f -print0 | sort -z | xargs -0 cksum)
}

mkdir "$S"
count
expect 0 ""

# Port 9: nothing listens, so the 3 messages stay in pub-main.db.
write_conf 9 "heartbeat 5s;"
echo 'shutdown-timeout 0s;' >>"$T/ampsd.conf"
start_ampsd
run_pubtest -S "$T/ampsd.sock" -t orders -n 3 || fail "not stored"
count
expect 1 "$S/pub-main.db: $CANNOT"
stop_ampsd TERM
[ -f "$S/main.bm.db" ] || fail "no bookmark store to leave out"
before=$(snap)
count
expect 1 "$S/pub-main.db: 3 unpersisted message(s)"
[ "$(snap)" = "$before" ] || fail "the census changed the directory:
$before
--
$(snap)"

# The same connection and client name against ampsim: sent, persisted.
start_ampsim sim
write_conf "$SIMPORT" "heartbeat 5s;"
start_ampsd
wait_for 30 sh -c "'$CTL' status -raw -socket '$T/ampsd.sock' |
    grep -q '^conn name=main .* unpersisted=0 '" ||
    fail "the 3 stored messages were not persisted by ampsim"
stop_ampsd TERM
count
expect 0 "$S/pub-main.db: 0 unpersisted message(s)"

# kill -9 leaves the store with its -wal: no exact count.
start_ampsd
stop_ampsd KILL
[ -e "$S/pub-main.db-wal" ] || fail "kill -9 left no pub-main.db-wal"
count
expect 1 "$S/pub-main.db: $CANNOT"

# A directory that cannot be listed; usage errors.
rc=0
"$AMPSD" --count-unpersisted "$T/none" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "a missing directory: exit $rc"
[ "$(cat "$T/err")" = "ampsd: $T/none: No such file or directory" ] ||
    fail "a missing directory: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "a missing directory: stdout $(cat "$T/out")"
for args in "--count-unpersisted:option --count-unpersisted needs a directory" \
    "-f --count-unpersisted $S:--count-unpersisted takes no other option"; do
	rc=0
	# shellcheck disable=SC2086
	"$AMPSD" ${args%%:*} >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "ampsd ${args%%:*}: exit $rc"
	[ "$(cat "$T/err")" = "ampsd: ${args#*:} (ampsd -h shows the options)" ] ||
	    fail "ampsd ${args%%:*}: $(cat "$T/err")"
done
pass
