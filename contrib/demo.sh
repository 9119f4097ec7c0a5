#!/bin/sh
# demo.sh: a guided tour of ampsd, run from a built tree.
#
#	contrib/demo.sh [BUILD_DIR]	(default: $BUILD_DIR, else ./build)
#
# Everything happens in one new temporary directory: ampsim (the
# project's AMPS-compatible server) on a free loopback port, and ampsd
# with a configuration written there.  The tour then publishes, runs a
# subscriber with a filter, queries the SOW, runs a sow_and_subscribe,
# shows a durable subscription surviving a daemon restart, and consumes
# a queue, all with ampsctl.  Each step prints its command line, then
# the output; the script checks what came back.
#
# Invariants:
#  1. Only processes this script started are stopped, by pid (SIGTERM,
#     then SIGKILL after 10 s); the directory is removed on any exit.
#  2. Every wait is a bounded poll: any failure ends the tour with a
#     "demo: FAILED" line, the tails of the logs, and exit status 1.
#  3. The last line is "demo: OK" exactly when every step passed.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD_DIR:-$top/build}}
if ! build=$(cd "$build" 2>/dev/null && pwd); then
	echo "demo: no build directory ${1:-${BUILD_DIR:-$top/build}}" \
	    "(run ./bootstrap build first)" >&2
	exit 1
fi
for p in ampsim/ampsim daemon/ampsd ampsctl/ampsctl; do
	if [ ! -x "$build/$p" ]; then
		echo "demo: $build/$p is not built (run ./bootstrap build)" >&2
		exit 1
	fi
done
for p in timeout seq sed ps; do
	command -v "$p" >/dev/null 2>&1 || {
		echo "demo: $p not found (coreutils, sed, procps)" >&2
		exit 1
	}
done
# The printed command lines are exactly what runs.
PATH=$build/ampsctl:$build/daemon:$build/ampsim:$PATH
W=$(mktemp -d "${TMPDIR:-/tmp}/ampsd-demo.XXXXXX") || exit 1
AMPSD_SOCKET=$W/ampsd.sock
export PATH W AMPSD_SOCKET

SIM_PID=
AMPSD_PID=
BG_PID=
OK=0

# alive PID: the process exists and is not a zombie.
alive() {
	_st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $_st in
	''|Z*)	return 1 ;;
	esac
	return 0
}

# stop PID: SIGTERM, up to 10 s, then SIGKILL; reaps it.
stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	_i=0
	while alive "$1" && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	alive "$1" && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

cleanup() {
	trap - EXIT INT TERM HUP
	stop "$BG_PID"
	stop "$AMPSD_PID"
	stop "$SIM_PID"
	if [ "$OK" != 1 ]; then
		for f in "$W"/ampsd.log "$W"/ampsim.log "$W"/bg.out; do
			[ -s "$f" ] || continue
			echo "---- ${f##*/} (last lines)"
			tail -n 15 "$f"
		done
	fi
	rm -rf "$W"
	if [ "$OK" = 1 ]; then
		echo "demo: OK (processes stopped, $W removed)"
	fi
}
trap cleanup EXIT
trap 'echo "demo: interrupted"; exit 130' INT
trap 'echo "demo: interrupted"; exit 143' TERM HUP

die() {
	echo "demo: FAILED: $*"
	exit 1
}

step() {
	printf '\n== %s\n' "$*"
}

# note TEXT: commentary between the commands.
note() {
	printf '   %s\n' "$*"
}

# run 'COMMAND LINE': print it, run it (30 s at most), print its output.
run() {
	printf '$ %s\n' "$1"
	timeout 30 sh -c "$1" >"$W/out" 2>&1
	_rc=$?
	sed 's/^/  /' "$W/out"
	[ $_rc = 0 ] || die "exit status $_rc from: $1"
}

# run_bg 'COMMAND': print it and start it in the background, output
# into $W/bg.out.
run_bg() {
	printf '$ %s &\n' "$1"
	sh -c "exec $1" >"$W/bg.out" 2>&1 &
	BG_PID=$!
}

# wait_bg: wait (30 s at most) for the background command, print its
# output.
wait_bg() {
	wait_until 30 "the background ampsctl to finish" bg_done
	wait "$BG_PID"
	_rc=$?
	BG_PID=
	sed 's/^/  /' "$W/bg.out"
	[ $_rc = 0 ] || die "the background ampsctl failed (exit status $_rc)"
}

bg_done() {
	! alive "$BG_PID"
}

ampsd_ready() {
	alive "$AMPSD_PID" || return 2
	ampsctl status -raw -timeout 1000 | grep -q 'state=connected'
}

# subscribed: the background ampsctl's subscription is in place.
subscribed() {
	alive "$BG_PID" || return 2
	ampsctl status -raw -timeout 1000 | grep -q 'subscriptions=[1-9]'
}

# wait_until SECONDS WHAT COMMAND...: poll every 0.1 s until COMMAND
# succeeds; it returns 2 when what it waits for can no longer happen.
wait_until() {
	_secs=$1
	_n=$((_secs * 10))
	_what=$2
	shift 2
	while :; do
		"$@" >/dev/null 2>&1
		case $? in
		0)	return 0 ;;
		2)	die "waiting for $_what: the process exited" ;;
		esac
		_n=$((_n - 1))
		[ $_n -gt 0 ] || die "gave up after $_secs s waiting for $_what"
		sleep 0.1
	done
}

# expect FILE TEXT WHAT: the file holds exactly TEXT.
expect() {
	[ "$(cat "$1")" = "$2" ] || die "$3: expected:
$2
got:
$(cat "$1")"
}

start_ampsd() {
	printf '$ ampsd -f -c "$W/ampsd.conf" 2>>"$W/ampsd.log" &\n'
	ampsd -f -c "$W/ampsd.conf" 2>>"$W/ampsd.log" &
	AMPSD_PID=$!
	wait_until 20 "ampsd to connect to ampsim" ampsd_ready
	note "ampsd runs (pid $AMPSD_PID) and is connected to ampsim."
}

echo "ampsd demo: ampsim + ampsd + ampsctl, from the build in $build"
echo "W=$W   (everything lives here; removed at the end)"

step "1. ampsim, an AMPS-compatible server, on a free loopback port"
printf '$ ampsim -p 0 --port-file "$W/ampsim.port" --ack-conflation 100 2>"$W/ampsim.log" &\n'
ampsim -p 0 --port-file "$W/ampsim.port" --ack-conflation 100 \
    2>"$W/ampsim.log" &
SIM_PID=$!
wait_until 10 "ampsim to listen" test -s "$W/ampsim.port"
PORT=$(head -n 1 "$W/ampsim.port")
note "ampsim runs (pid $SIM_PID) on tcp://127.0.0.1:$PORT/amps/json with"
note "a SOW topic \"orders\" keyed by /id, a queue \"work\" fed by topic"
note "\"work-in\", every topic in its transaction log, and persisted acks"
note "every 100 ms."

step "2. ampsd with a configuration of its own"
mkdir -m 700 "$W/state" || die "mkdir $W/state"
(
	umask 077
	cat >"$W/ampsd.conf" <<EOF
socket "$W/ampsd.sock" mode 0600;
state-directory "$W/state";
log stderr;
connection "main" {
	client-name "demo-ampsd";
	server "tcp://127.0.0.1:$PORT/amps/json";
	heartbeat 5s timeout 10s;
	reconnect exponential initial 100ms max 1s factor 2 give-up never;
}
EOF
) || die "cannot write $W/ampsd.conf"
run 'cat "$W/ampsd.conf"'
run 'ampsd -t -c "$W/ampsd.conf"'
start_ampsd
note "ampsctl finds the daemon through \$AMPSD_SOCKET=\"\$W/ampsd.sock\"."
run 'ampsctl status -conn main'

step "3. A subscriber with a filter, then four published orders"
run_bg "ampsctl subscribe -topic orders -filter \"/sym = 'IBM'\" -n 2 -timeout 10000"
wait_until 10 "the subscription" subscribed
cat >"$W/orders.json" <<'EOF'
{"id":1,"sym":"IBM","qty":100}
{"id":2,"sym":"MSFT","qty":250}
{"id":3,"sym":"IBM","qty":300}
{"id":4,"sym":"AAPL","qty":50}
EOF
run 'cat "$W/orders.json"'
run 'ampsctl publish -topic orders -wait persisted <"$W/orders.json"'
note "publish returned: AMPS has persisted all four (one per line of"
note "input).  The subscriber printed the two IBM orders and exited:"
wait_bg
expect "$W/bg.out" '{"id":1,"sym":"IBM","qty":100}
{"id":3,"sym":"IBM","qty":300}' "the filtered subscriber"

step "4. The State of the World of \"orders\", with a filter"
run "ampsctl sow -topic orders -filter '/qty >= 200'"
expect "$W/out" '{"id":2,"sym":"MSFT","qty":250}
{"id":3,"sym":"IBM","qty":300}' "sow"

step "5. sow_and_subscribe: the current IBM orders, then live updates"
run_bg "ampsctl sow_and_subscribe -topic orders -filter \"/sym = 'IBM'\" -n 3 -format '{command} {data}'"
wait_until 10 "the subscription" subscribed
run "ampsctl publish -topic orders -data '{\"id\":1,\"sym\":\"IBM\",\"qty\":150}'"
wait_bg
expect "$W/bg.out" 'sow {"id":1,"sym":"IBM","qty":100}
sow {"id":3,"sym":"IBM","qty":300}
p {"id":1,"sym":"IBM","qty":150}' "sow_and_subscribe"
note "\"sow\": records of the query; \"p\": a live publish after it."

step "6. A durable subscription survives an ampsd restart"
note "A durable subscription has a name (-subid).  ampsd keeps its place"
note "in a bookmark store: ampsctl discards each message it has printed,"
note "and -bookmark recent resumes after the last discarded one."
run "seq 1 5 | sed 's/.*/{\"tick\":&}/' | ampsctl publish -topic ticks -wait persisted"
run 'ampsctl subscribe -topic ticks -durable -subid dash -bookmark recent -n 3'
expect "$W/out" '{"tick":1}
{"tick":2}
{"tick":3}' "the durable subscription"
note "Ticks 1-3 are processed; the subscriber is gone.  Restart ampsd:"
printf '$ kill -TERM %s\n' "$AMPSD_PID"
stop "$AMPSD_PID"
AMPSD_PID=
start_ampsd
run "seq 6 8 | sed 's/.*/{\"tick\":&}/' | ampsctl publish -topic ticks -wait persisted"
run 'ampsctl subscribe -topic ticks -durable -subid dash -bookmark recent -n 5'
expect "$W/out" '{"tick":4}
{"tick":5}
{"tick":6}
{"tick":7}
{"tick":8}' "the durable subscription after the restart"
note "Resumed right after tick 3, across the restart: no gap, no repeat."

step "7. A queue: publish work, consume it with acks"
run "seq 1 3 | sed 's/.*/{\"job\":&}/' | ampsctl publish -topic work-in -wait persisted"
run 'ampsctl subscribe -topic work -backlog 10 -ack -n 2'
note "Two jobs processed and acked; the third stays in the queue:"
run 'ampsctl sow -topic work'
expect "$W/out" '{"job":3}' "the queue after two acks"

step "Done"
note "Next: docs/INSTALL.md (install, configure, systemd), ampsctl(1),"
note "libampsipc(3) and examples/*.c for programs of your own."
OK=1
