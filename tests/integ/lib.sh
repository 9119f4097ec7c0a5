# lib.sh: shared helpers for the ampsd integration scenarios (sourced).
#
# Each scenario gets a private temporary directory $T holding configs,
# sockets, stores and logs.  Every process started here is recorded by
# pid and killed by pid at exit (never by name).  Logs are kept (and
# their tails printed) only when the scenario fails.

set -u

. "$(dirname "$0")/../dirs.sh"
AMPSIM=$B/ampsim/ampsim
AMPSD=$B/daemon/ampsd
PUBTEST=$B/tests/integ/pubtest
AMPSUB=$B/tests/integ/ampsub
T=$(mktemp -d "${TMPDIR:-/tmp}/ampsd-integ.XXXXXX")
PIDS=""
OK=0

for prog in "$AMPSIM" "$AMPSD" "$PUBTEST" "$AMPSUB"; do
	if [ ! -x "$prog" ]; then
		echo "SKIP: $prog not built"
		rm -rf "$T"
		exit 77
	fi
done

# san_reports: the files under $T holding an ASan, LSan or UBSan report.
SAN_RE='ERROR: (Address|Leak)Sanitizer|runtime error:'
san_reports() {
	grep -rIlE "$SAN_RE" "$T" 2>/dev/null
}

cleanup() {
	_san=
	if [ "${AMPSD_ASAN:-0}" = 1 ]; then
		# An --enable-asan build (AM_TESTS_ENVIRONMENT): SIGTERM first,
		# so LeakSanitizer checks each process at its exit (5 s at
		# most, then -9), and any sanitizer report fails the test.
		# After 1 s a second SIGTERM ends an ampsd drain that waits for
		# a server the scenario took away (it still exits cleanly).
		for p in $PIDS; do
			kill -TERM "$p" 2>/dev/null
		done
		_end=$(($(now_ms) + 5000))
		_again=$(($(now_ms) + 1000))
		for p in $PIDS; do
			while kill -0 "$p" 2>/dev/null &&
			    [ "$(now_ms)" -lt "$_end" ]; do
				if [ "$(now_ms)" -ge "$_again" ]; then
					for q in $PIDS; do
						kill -TERM "$q" 2>/dev/null
					done
					_again=$_end
				fi
				sleep 0.05
			done
		done
	fi
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	if [ "${AMPSD_ASAN:-0}" = 1 ] && _san=$(san_reports) &&
	    [ -n "$_san" ]; then
		for f in $_san; do
			echo "---- $f (sanitizer report)"
			grep -m 1 -A 40 -E "$SAN_RE" "$f"
		done
		echo "FAIL: sanitizer report in:" $_san
		OK=0
	fi
	if [ "$OK" = 1 ]; then
		rm -rf "$T"
	else
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "---- $f (tail)"
			tail -n 25 "$f"
		done
		echo "logs kept in $T"
	fi
	[ -z "$_san" ] || exit 1
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

pass() {
	OK=1
	echo "PASS: $(basename "$0")"
	exit 0
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# run_hooked HANDLER COMMAND...: run COMMAND as a coprocess; each line it
# prints "HOOK <action>" is passed to the function HANDLER (which fails
# the scenario on an action it does not know), then COMMAND reads "OK";
# its other lines are printed and appended to $T/results.  Returns
# COMMAND's exit status (semtest.c scenarios).
run_hooked() {
	_handler=$1
	shift
	coproc HOOKED { "$@"; }
	_hooked_pid=$HOOKED_PID	# bash unsets HOOKED_PID when it ends
	exec 5<&"${HOOKED[0]}" 6>&"${HOOKED[1]}"
	while IFS= read -r _line <&5; do
		case $_line in
		HOOK*)
			"$_handler" "$_line"
			echo OK >&6
			;;
		*)
			echo "$_line"
			echo "$_line" >>"$T/results"
			;;
		esac
	done
	exec 5<&- 6>&-
	wait "$_hooked_pid"
}

# wait_for SECONDS command...: poll every 0.1 s until the command succeeds.
# Its arguments are expanded once, by the caller: a value that must be
# read again on every poll goes inside a function that is the command
# ("wait_for 30 test "$(count)" = 2" would compare one stale value for
# 30 s); tests/tools/t-scripts.sh refuses a "$(" in wait_for's arguments.
# A bound only costs time when the awaited thing never happens, so the
# scenarios give events 30 s at least (ASan, busy cores); a timing claim
# is checked separately, from the daemon's timestamps or measured times.
wait_for() {
	_end=$(($(now_ms) + $1 * 1000))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$_end" ] || return 1
		sleep 0.1
	done
	return 0
}

# wait_exit SECONDS PID WHAT: wait for our child PID to exit, SECONDS at
# most, and return its exit status; fails the test ("WHAT did not end")
# if it is still running then.  Never a bare "wait PID": that one has no
# bound.
wait_exit() {
	_end=$(($(now_ms) + $1 * 1000))
	while kill -0 "$2" 2>/dev/null; do
		[ "$(now_ms)" -lt "$_end" ] ||
		    fail "$3 did not end within $1 s (pid $2 still running)"
		sleep 0.1
	done
	wait "$2"
}

# wait_progress STALL MAX DONE-CMD COUNT-CMD: poll until DONE-CMD
# succeeds, for a consumer that catches up at its own pace (slower with
# ASan on a loaded machine): fails (returns 1) once COUNT-CMD's output
# has not changed for STALL seconds, or after MAX seconds in all.  A
# real loss makes no progress and still fails.
wait_progress() {
	_stall=$(($(now_ms) + $1 * 1000))
	_max=$(($(now_ms) + $2 * 1000))
	_last=
	while ! $3 >/dev/null 2>&1; do
		_n=$($4)
		if [ "$_n" != "$_last" ]; then
			_last=$_n
			_stall=$(($(now_ms) + $1 * 1000))
		fi
		[ "$(now_ms)" -lt "$_stall" ] && [ "$(now_ms)" -lt "$_max" ] ||
		    return 1
		sleep 0.5
	done
	return 0
}

# log_has SECONDS FILE PATTERN: poll FILE (SECONDS at most) until it has a
# line matching the extended regular expression PATTERN.  A log line
# may be written a moment after the event a scenario waited for: a log
# is never grepped once for what may not be written yet.
log_has() {
	wait_for "$1" grep -qE -- "$3" "$2"
}

# user_bin PROG...: copies of PROG (programs of the build tree, real
# binaries, not libtool wrappers) and of libampsipc's shared library in
# $T/ubin, for running as another user (as_user).  The clone may sit in
# a directory other users cannot enter (root's home is mode 0700): $T
# (under /tmp) and $T/ubin are made searchable instead, and the clone's
# own permissions are never touched.
user_bin() {
	mkdir -p "$T/ubin/lib"
	chmod 755 "$T" "$T/ubin" "$T/ubin/lib"
	cp -P "$B"/libampsipc/.libs/libampsipc.so* "$T/ubin/lib/" 2>/dev/null
	for _p in "$@"; do
		_src=$(dirname "$_p")/.libs/$(basename "$_p")
		[ -x "$_src" ] || _src=$_p
		cp "$_src" "$T/ubin/$(basename "$_p")" ||
		    fail "cannot copy $_p for another user"
		chmod 755 "$T/ubin/$(basename "$_p")"
	done
}

# as_user USER PROG [ARGS...]: run $T/ubin/PROG (copied by user_bin) as
# USER with USER's primary group only.  In a subshell (as_user ... &)
# it execs, so $! is the program's own pid, to be signalled and waited
# for.
as_user() {
	_u=$1
	_p=$2
	shift 2
	if [ "$BASHPID" != "$$" ]; then
		exec setpriv --reuid="$_u" --regid="$(id -g "$_u")" \
		    --clear-groups env LD_LIBRARY_PATH="$T/ubin/lib" \
		    "$T/ubin/$_p" "$@"
	fi
	setpriv --reuid="$_u" --regid="$(id -g "$_u")" --clear-groups \
	    env LD_LIBRARY_PATH="$T/ubin/lib" "$T/ubin/$_p" "$@"
}

# start_ampsim NAME [ampsim options]: sets SIMPORT and ADMINPORT.
start_ampsim() {
	_n=$1
	shift
	rm -f "$T/$_n.port"
	"$AMPSIM" -p 0 --port-file "$T/$_n.port" --admin-port 0 \
	    -d "$T/$_n.txlog" "$@" >>"$T/$_n.log" 2>&1 &
	echo $! >"$T/$_n.pid"
	PIDS="$PIDS $!"
	wait_for 30 test -s "$T/$_n.port" || fail "ampsim $_n did not start"
	SIMPORT=$(head -n 1 "$T/$_n.port")
	ADMINPORT=$(sed -n 's/^admin=//p' "$T/$_n.port")
}

# sim_admin COMMAND: one line to the ampsim admin channel; prints reply.
sim_admin() {
	exec 3<>"/dev/tcp/127.0.0.1/$ADMINPORT" || fail "admin connect"
	printf '%s\n' "$1" >&3
	read -r -t 30 _reply <&3 || _reply="(no reply in 30 s)"
	exec 3<&-
	echo "$_reply"
	case $_reply in ok*) return 0 ;; *) return 1 ;; esac
}

# write_conf PORT [extra connection statements]: writes $T/ampsd.conf.
write_conf() {
	cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "integ-$$";
	server "tcp://127.0.0.1:$1/amps/json";
	reconnect exponential initial 50ms max 1s factor 2 give-up never;
	${2:-}
}
EOC
}

# start_ampsd: foreground daemon on $T/ampsd.conf; waits for the socket.
# AMPSD_WRAPPER (e.g. "valgrind -q --error-exitcode=9") runs it under a
# tool.
start_ampsd() {
	rm -f "$T/ampsd.sock"
	${AMPSD_WRAPPER:-} "$AMPSD" -f -v -c "$T/ampsd.conf" >>"$T/ampsd.log" 2>&1 &
	AMPSD_PID=$!
	PIDS="$PIDS $AMPSD_PID"
	wait_for 30 test -S "$T/ampsd.sock" || fail "ampsd did not start"
}

# stop_ampsd [SIGNAL]: kill our daemon by pid and wait for it (60 s at
# most: a drain ends within its own bound; ASan builds exit slowly).
stop_ampsd() {
	kill "-${1:-TERM}" "$AMPSD_PID" 2>/dev/null
	wait_exit 60 "$AMPSD_PID" "ampsd (SIG${1:-TERM})" 2>/dev/null
}

# ready_count: how many times the daemon reached "ready".
ready_count() {
	grep -c -- '-> ready' "$T/ampsd.log" 2>/dev/null || true
}

# replay_ids TOPIC: ids of every message in ampsim's log for TOPIC.
replay_ids() {
	"$AMPSUB" -p "$SIMPORT" -t "$1" -q 700 -T 30000 |
	    sed -n 's/^{"id":\([0-9]*\).*/\1/p'
}

# run_pubtest ARGS...: the publisher, its messages kept in pubtest.log.
run_pubtest() {
	"$PUBTEST" "$@" 2>>"$T/pubtest.log"
}

# ready_at_least N: the daemon reached "ready" at least N times (for
# wait_for, which must re-evaluate the count on every try).
ready_at_least() {
	[ "$(ready_count)" -ge "$1" ]
}
