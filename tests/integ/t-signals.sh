#!/bin/bash
# Operations: SIGHUP reload (a broken file is rejected with file:line and
# changes nothing, not even the store files; a new server list moves the
# connection; new allow rules apply to new requests; log trace from the
# file), SIGUSR1 reopens a rotated log file, run-time trace switches show
# (wire, ipc and store lines)
# and stop wire lines, and SIGTERM drains: promptly with a healthy
# upstream, within shutdown-timeout with one that stops acking (the rest
# is logged, kept, and replayed exactly once after a restart), and at
# once on a second signal.
. "$(dirname "$0")/lib.sh"

CTL=$B/ampsctl/ampsctl
[ -x "$CTL" ] || { OK=1; echo "SKIP: no ampsctl"; exit 77; }
LOG=$T/ampsd-file.log

# conf PORT [top-level lines] [connection lines]: writes $T/ampsd.conf.
conf() {
	cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock" mode 0666;
state-directory "$T/state";
log file "$LOG";
shutdown-timeout 2s;
${2:-}
connection "main" {
	client-name "sig-$$";
	server "tcp://127.0.0.1:$1/amps/json";
	reconnect exponential initial 50ms max 500ms factor 2 give-up never;
	${3:-}
}
EOC
}
logged() {
	grep -q -- "$1" "$LOG"
}
count() {
	grep -c -- "$1" "$LOG" || true
}
# traced: how many ipc frame and store trace lines were logged.
traced() {
	grep -c -e 'ipc: client [0-9]*: received ' \
	    -e 'ipc: client [0-9]*: queued ' -e ' store: ' "$LOG" || true
}
count_at_least() {
	[ "$(count "$1")" -ge "$2" ]
}
ctl() {
	"$CTL" "$@" -socket "$T/ampsd.sock"
}
store_sum() {
	(cd "$T/state" && cat pub-main.db* main.bm.db* 2>/dev/null |
	    sha256sum)
}
# store_settled: the store's checksum once two reads 300 ms apart agree
# (FLUSHED can reach the program before the pass that deletes the
# persisted rows has committed them); at most 10 s.
store_settled() {
	_a=$(store_sum)
	for _i in $(seq 1 33); do
		sleep 0.3
		_b=$(store_sum)
		[ "$_a" = "$_b" ] && break
		_a=$_b
	done
	echo "$_a"
}
# stopped_within SECONDS: wait for our daemon to exit; sets ELAPSED (ms)
# and STATUS.
stopped_within() {
	_t0=$(now_ms)
	_end=$((_t0 + $1 * 1000))
	while kill -0 "$AMPSD_PID" 2>/dev/null; do
		[ "$(now_ms)" -lt "$_end" ] || return 1
		sleep 0.05
	done
	wait "$AMPSD_PID"	# it has exited: returns at once
	STATUS=$?
	ELAPSED=$(($(now_ms) - _t0))
}

start_ampsim a
PA=$SIMPORT
start_ampsim b
PB=$SIMPORT
ADMB=$ADMINPORT

conf "$PA"
start_ampsd
wait_for 30 logged '-> ready' || fail "not ready"
run_pubtest -S "$T/ampsd.sock" -t orders -n 3 -F -W 30000 ||
    fail "publish to a"

# 1. A broken file is rejected with file:line; nothing changes.
sum0=$(store_settled)
cp "$T/ampsd.conf" "$T/good.conf"
conf "$PB" "log trace wire;" "heartbeat 3;"
kill -HUP "$AMPSD_PID"
wait_for 30 logged 'reload (SIGHUP): 1 error(s); keeping the running' ||
    fail "broken file not rejected"
logged "warning: reload: $T/ampsd.conf:10: heartbeat: invalid duration" ||
    fail "no file:line error: $(grep reload "$LOG")"
[ "$(store_sum)" = "$sum0" ] || fail "a rejected reload touched the store"
out=$(ctl reload 2>&1) && fail "ampsctl reload accepted a broken file"
case $out in *"ampsd.conf:10: heartbeat: invalid duration"*) ;;
*) fail "ampsctl reload output: $out" ;; esac
ctl status -raw | grep -q "state=connected server=tcp://127.0.0.1:$PA/" ||
    fail "connection moved after a rejected reload"
ctl trace | grep -q 'trace=none$' || fail "trace changed: $(ctl trace)"
run_pubtest -S "$T/ampsd.sock" -t orders -f 3 -n 2 -F -W 30000 ||
    fail "publish after the rejected reload"

# 2. A new server list moves the connection; settings that need a
# restart are named and keep their old value.
conf "$PB" "log trace wire;" "durability normal;"
kill -HUP "$AMPSD_PID"
wait_for 30 logged 'reload (SIGHUP): applied: log trace, connection main: server; needs a restart (old value kept): connection main: durability' ||
    fail "reload summary: $(grep 'reload (SIGHUP)' "$LOG" | tail -1)"
wait_for 30 logged 'reload: connection main: durability requires a restart; keeping the old value' ||
    fail "no refusal line"
out=$(ctl reload 2>&1) && fail "ampsctl reload exit 0 with a restart-only change"
[ "$out" = "reload: needs a restart (old value kept): connection main: durability" ] ||
    fail "ampsctl reload: $out"
wait_for 30 logged "is no longer listed; moving to tcp://127.0.0.1:$PB/" ||
    fail "connection did not move"
wait_for 30 count_at_least '-> ready' 2 || fail "not ready on b"
ctl status -raw | grep -q "state=connected server=tcp://127.0.0.1:$PB/" ||
    fail "status: $(ctl status -raw)"
ctl trace | grep -q 'trace=wire' || fail "log trace from the file not applied"
run_pubtest -S "$T/ampsd.sock" -t orders -f 5 -n 2 -F -W 30000 ||
    fail "publish to b"
printf '5\n6\n' >"$T/want.b"
SIMPORT=$PB
replay_ids orders >"$T/got.b"
cmp -s "$T/want.b" "$T/got.b" || fail "b got: $(tr '\n' ' ' <"$T/got.b")"

# 3. Run-time trace switches: wire lines while on, none once off.
logged 'wire -> [0-9]* bytes: {"c":"p","t":"orders"' ||
    fail "no wire line for a publish"
logged 'wire <- [0-9]* bytes: {"c":"ack","a":"persisted"' ||
    fail "no wire line for an ack"
ctl trace -wire | grep -q 'trace=none' || fail "trace -wire"
n=$(count ': wire ')
run_pubtest -S "$T/ampsd.sock" -t orders -f 7 -n 1 -F -W 30000 ||
    fail "publish 7"
[ "$(count ': wire ')" = "$n" ] || fail "wire lines after trace -wire"
# ipc and store: a frame received, a frame queued, a group commit.
ctl trace +ipc,+store | grep -q 'trace=ipc,store$' || fail "trace +ipc,+store"
run_pubtest -S "$T/ampsd.sock" -t orders -f 8 -n 1 -F -W 30000 ||
    fail "publish 8"
logged 'ipc: client [0-9]*: received PUBLISH reqid [0-9]* len [0-9]*' ||
    fail "no ipc line for a received PUBLISH"
logged 'ipc: client [0-9]*: queued [A-Z_]* reqid [0-9]* len [0-9]*' ||
    fail "no ipc line for a queued reply"
logged 'store: publish store .*pub-main.db: commit [0-9]*: [1-9][0-9]* rows inserted, [0-9]* deleted, [0-9]* updated in [0-9]* us' ||
    fail "no store commit line: $(grep 'store:' "$LOG" | tail -3)"
ctl trace -ipc -store | grep -q 'trace=none$' || fail "trace -ipc -store"
n=$(traced)
run_pubtest -S "$T/ampsd.sock" -t orders -f 9 -n 1 -F -W 30000 ||
    fail "publish 9"
[ "$(traced)" = "$n" ] ||
    fail "ipc/store lines after trace -ipc -store"
ctl trace +wire,connection | grep -q 'trace=connection,wire' ||
    fail "trace +wire,connection"
ctl verbose debug | grep -q '^level=debug trace=connection,wire' ||
    fail "verbose debug"
out=$(ctl trace +bogus 2>&1) && fail "bad category accepted"
case $out in *'unknown trace category "bogus"'*) ;;
*) fail "bad category: $out" ;; esac
ctl trace -all >/dev/null || fail "trace -all"

# 4. SIGUSR1 after a rotation: a new file, written from then on.
mv "$LOG" "$LOG.1"
kill -USR1 "$AMPSD_PID"
wait_for 30 logged 'loop: SIGUSR1: log file reopened' ||
    fail "log not reopened"
case $(stat -c %a "$LOG") in 640|600) ;;
*) fail "log file mode $(stat -c %a "$LOG")" ;; esac
grep -q 'reopened' "$LOG.1" && fail "reopen line went to the old file"

# 5. Allow rules: new requests follow the reloaded rules (needs root
# and user nobody to publish as someone else).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    id nobody >/dev/null 2>&1; then
	user_bin "$PUBTEST" "$B/ampsctl/ampsctl"
	as_nobody() {
		as_user nobody "$@" 2>>"$T/nobody.log"
	}
	as_nobody pubtest -S "$T/ampsd.sock" -t ok.x -n 1 -W 5000 &&
	    fail "nobody published without a rule"
	conf "$PB" "" "allow publish user \"nobody\" topic \"ok\\\\..*\";"
	ctl reload | grep -q 'applied: .*connection main: allow' ||
	    fail "allow rule not applied"
	as_nobody pubtest -S "$T/ampsd.sock" -t ok.x -f 200 -n 1 -W 30000 ||
	    fail "allowed publish refused: $(tail -3 "$T/nobody.log")"
	as_nobody pubtest -S "$T/ampsd.sock" -t secret -n 1 -W 5000 &&
	    fail "publish outside the rule accepted"
	as_nobody ampsctl trace -socket "$T/ampsd.sock" &&
	    fail "nobody may switch traces"
	grep -q -i 'not permitted' "$T/nobody.log" ||
	    fail "no NOT_PERMITTED: $(cat "$T/nobody.log")"
	conf "$PB"
	ctl reload | grep -q 'applied: .*connection main: allow' ||
	    fail "allow rule not removed"
	as_nobody pubtest -S "$T/ampsd.sock" -t ok.x -n 1 -W 5000 &&
	    fail "nobody published after the rule was removed"
else
	echo "note: allow-rule reload not checked (needs root, setpriv, nobody)"
fi

# 6. SIGTERM with a healthy upstream: prompt, nothing left behind.  The
# timeout is long (30 s) so that "prompt" (under 15 s even on a loaded
# machine) cannot be the timeout.
conf "$PB" "shutdown-timeout 30s;"
sed -i '/^shutdown-timeout 2s;$/d' "$T/ampsd.conf"
ctl reload | grep -q 'applied: .*shutdown-timeout' || fail "shutdown-timeout"
run_pubtest -S "$T/ampsd.sock" -t orders -f 10 -n 5 -W 30000 ||
    fail "publish 10..14"
kill -TERM "$AMPSD_PID"
stopped_within 10 || fail "healthy drain did not end"
[ "$STATUS" = 0 ] || fail "exit status $STATUS"
[ "$ELAPSED" -lt 15000 ] || fail "healthy drain took $ELAPSED ms (timeout 30 s)"
logged 'shutdown: connection main: 0 unpersisted message(s)' ||
    fail "healthy drain: $(grep -e drain -e shutdown "$LOG" | tail -5)"
[ ! -e "$T/ampsd.sock" ] || fail "socket left behind"

# 6b. Nothing unpersisted (the store is empty but has used sequences)
# and no server reachable: the drain has nothing to wait for (ends far
# sooner than its 20 s timeout).
conf 1 "shutdown-timeout 20s;"
sed -i '/^shutdown-timeout 2s;$/d' "$T/ampsd.conf"
start_ampsd
wait_for 30 logged 'tcp://127.0.0.1:1/amps/json: connect' ||
    fail "no failed connect"
kill -TERM "$AMPSD_PID"
stopped_within 10 || fail "empty drain did not end"
[ "$ELAPSED" -lt 10000 ] || fail "an empty drain took $ELAPSED ms (timeout 20 s)"
[ "$(count 'shutdown: connection main: 0 unpersisted')" = 2 ] ||
    fail "empty drain: $(grep -e drain -e shutdown "$LOG" | tail -3)"

# 7. SIGTERM with an upstream that stops acking: bounded by
# shutdown-timeout (2 s); a publisher still sending is refused (nothing
# it is not told STORED gets stored) and closed, a subscriber is told;
# the rest is logged and kept.
conf "$PB"
r=$(count '-> ready')
start_ampsd
wait_for 30 count_at_least '-> ready' $((r + 1)) ||
    fail "not ready after restart"
sim_admin "fault deny_acks=persisted" >/dev/null || fail "ampsim fault"
run_pubtest -S "$T/ampsd.sock" -t orders -f 100 -n 20 -W 30000 ||
    fail "publish 100..119"
r=$(count 'name ampsctl')
"$CTL" subscribe -topic nothing -socket "$T/ampsd.sock" \
    >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!
PIDS="$PIDS $SUB"
wait_for 30 count_at_least 'name ampsctl' $((r + 1)) ||
    fail "subscriber not connected"
"$PUBTEST" -S "$T/ampsd.sock" -t orders -f 1000 -n 1000000 -d 20000 \
    -o "$T/stored.slow" -W 10000 2>"$T/slow.err" &
SLOW=$!
PIDS="$PIDS $SLOW"
slow_started() {
	[ -s "$T/stored.slow" ] && [ "$(wc -l <"$T/stored.slow")" -ge 64 ]
}
wait_for 30 slow_started || fail "slow publisher"
kill -TERM "$AMPSD_PID"
stopped_within 10 || fail "drain did not end"
[ "$STATUS" = 0 ] || fail "exit status $STATUS"
[ "$ELAPSED" -ge 1500 ] && [ "$ELAPSED" -lt 10000 ] ||
    fail "drain took $ELAPSED ms with shutdown-timeout 2s"
wait_exit 30 "$SLOW" "the publisher after the drain" &&
    fail "the publisher was not closed"
grep -q 'publish failed: daemon shutting down: not stored' "$T/slow.err" ||
    fail "publishes during the drain not refused: $(tail -2 "$T/slow.err")"
N=$((20 + $(wc -l <"$T/stored.slow")))
logged "drain: shutdown-timeout (2000 ms) passed with $N stored" ||
    fail "no timeout line for $N: $(grep drain "$LOG" | tail -3)"
logged "shutdown: connection main: $N unpersisted message(s) stay in the store" ||
    fail "unpersisted count ($N) not logged"
wait_exit 30 "$SUB" "the subscriber after the drain"
grep -q 'shutting down' "$T/sub.err" ||
    fail "the program was not told: $(cat "$T/sub.err")"

# 8. The next start replays them to a server that never had them:
# exactly 100..119 and what the slow publisher was told was stored.
kill -9 "$(cat "$T/b.pid")"
wait_exit 30 "$(cat "$T/b.pid")" "ampsim b after kill -9"
"$AMPSIM" -p "$PB" --port-file "$T/b2.port" --admin-port 0 \
    -d "$T/b2.txlog" --fault deny_acks=persisted >>"$T/b2.log" 2>&1 &
echo $! >"$T/b2.pid"
PIDS="$PIDS $!"
wait_for 30 test -s "$T/b2.port" || fail "ampsim b2 did not start"
conf "$PB" "shutdown-timeout 20s;"
sed -i '/^shutdown-timeout 2s;$/d' "$T/ampsd.conf"
start_ampsd
wait_for 30 logged "publish store has $N unpersisted message(s)" ||
    fail "store lost messages"
{ seq 100 119; cat "$T/stored.slow"; } >"$T/want.b2"
got_b2() {
	replay_ids orders >"$T/got.b2"
	cmp -s "$T/want.b2" "$T/got.b2"
}
wait_for 30 got_b2 || fail "replay: $(tr '\n' ' ' <"$T/got.b2")"

# 9. A second SIGTERM ends the drain at once.
kill -TERM "$AMPSD_PID"
wait_for 30 logged 'waiting up to 20000 ms' || fail "no second drain"
kill -TERM "$AMPSD_PID"
stopped_within 5 || fail "second SIGTERM did not end the drain"
[ "$ELAPSED" -lt 10000 ] || fail "second SIGTERM took $ELAPSED ms (timeout 20 s)"
logged 'loop: signal 15, shutting down now' || fail "no 'now' line"
[ "$(count "shutdown: connection main: $N unpersisted message(s)")" = 2 ] ||
    fail "count after the second signal"
pass
