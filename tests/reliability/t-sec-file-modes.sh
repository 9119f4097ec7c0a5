#!/bin/bash
# shellcheck disable=SC2317 # functions called indirectly (wait_for)
# The state files stay private whatever umask ampsd is started with
# (RELIABILITY.md finding 17, DESIGN.md §4 promise 8):
#  1. started from a shell with umask 022, and again with umask 000, in
#     a new state directory: the directory is 0700; the lock file, both
#     stores and their -wal and -shm files are 0600, while ampsd runs
#     and after a publish and a durable subscription wrote to them;
#  2. store files left readable by others (an older ampsd, a careless
#     copy) are made 0600 at the next start, with a warning naming each;
#     a state directory others may enter is reported.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=tests/reliability/rel.sh
. "$(dirname "$0")/rel.sh"

CTL=$B/ampsctl/ampsctl
start_ampsim sim
write_conf "$SIMPORT"

# modes_ok DIR: DIR is 0700 and every file in it is 0600; else prints
# the first offender.
modes_ok() {
	_d=$(stat -c %a "$1")
	[ "$_d" = 700 ] || { echo "$1 is $_d"; return 1; }
	for _f in "$1"/*; do
		_m=$(stat -c %a "$_f")
		[ "$_m" = 600 ] || { echo "$_f is $_m"; return 1; }
	done
}
# run_case UMASK: a fresh state directory written under that umask.
run_case() {
	rm -rf "$T/state"
	(umask "$1" && exec "$AMPSD" -f -v -c "$T/ampsd.conf") \
	    >>"$T/ampsd.log" 2>&1 &
	AMPSD_PID=$!
	PIDS="$PIDS $AMPSD_PID"
	wait_for 30 test -S "$T/ampsd.sock" || fail "ampsd did not start"
	wait_for 30 ready_at_least 1 || fail "no logon"
	(umask "$1" && "$CTL" publish -topic t -data '{"id":1}' \
	    -socket "$T/ampsd.sock" -wait persisted) >>"$T/ctl.log" 2>&1 ||
	    fail "publish"
	(umask "$1" && "$CTL" subscribe -topic t -durable -subid dur \
	    -bookmark 0 -n 1 -socket "$T/ampsd.sock") >>"$T/ctl.log" 2>&1 ||
	    fail "durable subscription"
	for f in ampsd.lock pub-main.db pub-main.db-wal pub-main.db-shm \
	    main.bm.db main.bm.db-wal main.bm.db-shm; do
		[ -f "$T/state/$f" ] || fail "umask $1: no $f"
	done
	why=$(modes_ok "$T/state") || fail "umask $1, ampsd running: $why"
	stop_ampsd TERM
	why=$(modes_ok "$T/state") || fail "umask $1, after the stop: $why"
	echo "umask $1: $(stat -c '%a %n' "$T/state" "$T/state"/* |
	    sed "s|$T/state/||" | tr '\n' ' ')"
}
run_case 022
run_case 000

# 2. Files made readable by others behind ampsd's back.
chmod 755 "$T/state"
chmod 644 "$T/state"/*
: >"$T/ampsd.log"
(umask 022 && exec "$AMPSD" -f -v -c "$T/ampsd.conf") >>"$T/ampsd.log" 2>&1 &
AMPSD_PID=$!
PIDS="$PIDS $AMPSD_PID"
wait_for 30 test -S "$T/ampsd.sock" || fail "ampsd did not restart"
for f in "$T"/state/*; do
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f left $(stat -c %a "$f")"
	case $f in
	*-shm | *-wal) ;;	# SQLite may have recreated them
	*) grep -q "state file $f was mode 0644, readable by others; now 0600" \
	    "$T/ampsd.log" || fail "no warning for $f" ;;
	esac
done
grep -q "state directory $T/state is mode 0755: other users may enter it" \
    "$T/ampsd.log" || fail "the open state directory was not reported"
stop_ampsd TERM
pass
