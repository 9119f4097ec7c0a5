# rel.sh: helpers of the reliability scenarios, sourced after
# tests/integ/lib.sh (which needs bash for /dev/tcp).

# shellcheck disable=SC2034
FAULTPROXY=$B/tests/tools/faultproxy
EIOSHIM=$B/tests/reliability/.libs/libeioshim.so
# What to put in LD_PRELOAD for the shim.  In an --enable-asan build the
# shim links the ASan runtime, which must come first in the initial
# library list (or the program aborts at start): preload it ahead.
EIOSHIM_PRELOAD=$EIOSHIM
if [ "${AMPSD_ASAN:-0}" = 1 ] && [ -f "$EIOSHIM" ]; then
	_rt=$(ldd "$EIOSHIM" 2>/dev/null | awk '$1 ~ /^libasan\./ { print $3 }')
	[ -n "$_rt" ] && EIOSHIM_PRELOAD=$_rt:$EIOSHIM
fi
REALPUBTEST=$B/tests/integ/.libs/pubtest
[ -x "$REALPUBTEST" ] || REALPUBTEST=$PUBTEST

# skip REASON: not applicable here (exit 77, temp dir removed).
skip() {
	OK=1
	echo "SKIP: $*"
	exit 77
}

# tcp_req PORT LINE: one request line to 127.0.0.1:PORT; prints the reply.
tcp_req() {
	exec 4<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf '%s\n' "$2" >&4
	read -r _rep <&4
	exec 4<&-
	echo "$_rep"
	case $_rep in ok*) return 0 ;; *) return 1 ;; esac
}

# start_proxy NAME TARGET-PORT: a faultproxy; sets PXPORT and PXCTL.
start_proxy() {
	rm -f "$T/$1.pxport"
	"$FAULTPROXY" -t "$2" -P "$T/$1.pxport" >>"$T/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 30 test -s "$T/$1.pxport" || fail "faultproxy $1 did not start"
	PXPORT=$(head -n 1 "$T/$1.pxport")
	PXCTL=$(sed -n 's/^ctl=//p' "$T/$1.pxport")
}

# px REQUEST: one request to the proxy started last.
px() {
	tcp_req "$PXCTL" "$1" >/dev/null || fail "faultproxy: $1 refused"
}

# state_sums DIR: a checksum line per file of DIR (names and bytes).
state_sums() {
	(cd "$1" && find . -type f ! -name '*.lock' ! -name '*-shm' |
	    LC_ALL=C sort | xargs -r sha256sum)
}

# ampsd_refuses SECONDS: run ampsd on $T/ampsd.conf in the foreground;
# succeeds if it exits non-zero within SECONDS (the log is in
# $T/refuse.log), fails if it exits 0 or is still running.
ampsd_refuses() {
	: >"$T/refuse.log"
	"$AMPSD" -f -c "$T/ampsd.conf" >>"$T/refuse.log" 2>&1 &
	_p=$!
	PIDS="$PIDS $_p"
	_end=$(($(now_ms) + $1 * 1000))
	while kill -0 "$_p" 2>/dev/null; do
		if [ "$(now_ms)" -ge "$_end" ]; then
			kill -9 "$_p" 2>/dev/null
			wait "$_p" 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
	if wait "$_p"; then
		return 1
	fi
	return 0
}

# ids_exactly WANT-FILE TOPIC: AMPS holds exactly the ids of WANT-FILE,
# in that order (for wait_for).
ids_exactly() {
	replay_ids "$2" >"$T/got"
	cmp -s "$1" "$T/got"
}

# need_users: skip unless root with setpriv and the users nobody and
# daemon (the scenarios run programs as them).
need_users() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v setpriv >/dev/null || skip "needs setpriv"
	{ id nobody && id daemon; } >/dev/null 2>&1 ||
	    skip "needs users nobody and daemon"
}

# status_val CONN KEY: the value of KEY on connection CONN's "conn" line
# of the daemon's status, asked with $CTL (as the caller) on $SOCK.
status_val() {
	"$CTL" status -raw -socket "$SOCK" 2>/dev/null |
	    sed -n "s/^conn name=$1 .* $2=\\([^ ]*\\).*/\\1/p"
}

# pub_ids TOPIC ID...: $CTL publishes {"id":ID} for each ID to TOPIC on
# $SOCK and waits until AMPS persisted them.
pub_ids() {
	_t=$1
	shift
	for _i in "$@"; do
		printf '{"id":%s}\n' "$_i"
	done | "$CTL" publish -topic "$_t" -socket "$SOCK" -wait persisted \
	    >>"$T/ctl.log" 2>&1 || fail "publish to $_t"
}

# listed PATTERN: $CTL subscriptions on $SOCK prints a line matching the
# extended regex PATTERN (for wait_for).
listed() {
	"$CTL" subscriptions -socket "$SOCK" | grep -qE "$1"
}
