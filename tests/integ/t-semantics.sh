#!/bin/bash
# Each program gets the semantics of its own in-process HA client
# (docs/DESIGN.md §4 promise 7): one check per defect of the audit
# behind it (semtest.c scenarios and ampsctl), against real ampsim and
# ampsd processes.
#   flush covers every connection, and asks AMPS for a flush
#   a paused subscription stays paused across a reconnect
#   delta subscriptions get deltas beside another program's full one
#   commands while AMPS is unreachable; why a connection is down
#   a refused publish says why, also one adopted after an ampsd restart;
#   the generic command; sequenced sow_delete
#   legacy header protocols refused by ampsd -t; ampsctl's seams
. "$(dirname "$0")/lib.sh"

SEMTEST=$B/tests/integ/semtest
AMPSCTL=$B/ampsctl/ampsctl
[ -x "$SEMTEST" ] || { echo "SKIP: semtest not built"; exit 77; }
EXTRA=""			# ampsim restarted by a hook
trap 'for p in $EXTRA; do kill -9 "$p" 2>/dev/null; done; cleanup' EXIT

SIMARGS="--ack-conflation 600000 --conf-line txlog_.* --conf-line sow_dz_key=/id
--conf-line sow_gc_key=/id --conf-line sow_sd_key=/id --conf-line sow_dsow_key=/id"
sim_args() {
	echo "$SIMARGS" | tr ' _' '\n ' | sed '/^$/d'
}
mapfile -t SARGS < <(sim_args)
start_ampsim sim "${SARGS[@]}"
SIM_PORT=$SIMPORT
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
log trace wire;
connection "main" {
	default;
	client-name "sem-$$";
	server "tcp://127.0.0.1:$SIM_PORT/amps/json";
	reconnect exponential initial 50ms max 500ms factor 2 give-up never;
}
connection "aux" {
	client-name "sem-aux-$$";
	server "tcp://127.0.0.1:1/amps/json";
	reconnect exponential initial 50ms max 300ms factor 2 give-up never;
}
EOC
start_ampsd
main_ready() {
	grep -c 'connection main: [a-z-]* -> ready' "$T/ampsd.log"
}
main_down() {
	grep -c 'connection main: [a-z-]* -> backoff' "$T/ampsd.log"
}
parked() {
	grep -c 'waits for the session' "$T/ampsd.log"
}
count_ge() {
	[ "$("$1")" -ge "$2" ]
}
refusals() {
	grep -c 'connection main: server refused message' "$T/ampsd.log"
}
# sim_again: ampsim again on its port and log (it was stopped by a hook).
sim_again() {
	rm -f "$T/sim3.port"
	"$AMPSIM" -p "$SIM_PORT" --admin-port 0 --port-file "$T/sim3.port" \
	    -d "$T/sim.txlog" "${SARGS[@]}" >>"$T/sim.log" 2>&1 &
	echo $! >"$T/sim.pid"
	EXTRA="$EXTRA $!"
	wait_for 30 test -s "$T/sim3.port" || fail "ampsim did not start again"
	ADMINPORT=$(sed -n 's/^admin=//p' "$T/sim3.port")
}
wait_for 20 count_ge main_ready 1 || fail "main never ready"

# sem_hook LINE: do what a scenario's hook asks.
sem_hook() {
	case $1 in
	"HOOK disconnect")
		n=$(main_ready)
		sim_admin disconnect-all >/dev/null ||
		    fail "admin disconnect-all"
		wait_for 20 count_ge main_ready $((n + 1)) ||
		    fail "main not ready again"
		;;
	"HOOK stop-sim")
		n=$(main_down)
		kill -TERM "$(cat "$T/sim.pid")"
		wait_for 20 count_ge main_down $((n + 1)) ||
		    fail "main did not go to backoff"
		;;
	"HOOK start-sim-when-parked")
		n=$(parked)
		( wait_for 30 count_ge parked $((n + 1)) &&
		    exec "$AMPSIM" -p "$SIM_PORT" --admin-port 0 \
		    --port-file "$T/sim2.port" -d "$T/sim.txlog" \
		    "${SARGS[@]}" >>"$T/sim.log" 2>&1 ) &
		EXTRA="$EXTRA $!"
		;;
	"HOOK restart-ampsd-down")
		stop_ampsd
		start_ampsd
		;;
	"HOOK restart-ampsd-refused")
		n=$(refusals)
		stop_ampsd
		sim_again
		start_ampsd
		wait_for 30 count_ge refusals $((n + 1)) ||
		    fail "the new daemon's message was not refused"
		;;
	"HOOK start-sim")
		n=$(main_ready)
		sim_again
		wait_for 30 count_ge main_ready $((n + 1)) ||
		    fail "main not ready after ampsim came back"
		;;
	"HOOK restart-ampsd")
		n=$(main_ready)
		stop_ampsd
		start_ampsd
		wait_for 20 count_ge main_ready $((n + 1)) ||
		    fail "ampsd not ready after its restart"
		;;
	*)
		fail "unknown hook: $1"
		;;
	esac
}

# run_semtest NAME...: the scenarios, answering their hooks.
run_semtest() {
	run_hooked sem_hook timeout 300 "$SEMTEST" -S "$T/ampsd.sock" "$@" \
	    2>>"$T/semtest.log"
}

: >"$T/results"
run_semtest flushconn flushfast delta2 generic sowdelseq pausereconnect
grep -q '^FAIL' "$T/results" && fail "scenarios failed: $(grep FAIL "$T/results")"
[ "$(grep -c '^ok' "$T/results")" = 6 ] || fail "scenarios did not all run"

# An ampsd restart under a program that reconnects: its 100 publishes
# reach AMPS once each, in order.
run_semtest restart
grep -q '^ok scenario restart' "$T/results" || fail "scenario restart"
"$AMPSUB" -p "$SIM_PORT" -t rs -q 700 -T 30000 >"$T/rs" ||
    fail "ampsub rs"
seq 1 100 | sed 's/.*/{"n":&}/' | diff - "$T/rs" >"$T/rs.diff" ||
    fail "publishes across the restart: $(head -5 "$T/rs.diff")"

# A refusal of a publish stored before an ampsd restart reaches the
# program that adopted it, whether it came before or after the adoption.
run_semtest adoptfail adoptfaillate
grep -q '^ok scenario adoptfail$' "$T/results" || fail "scenario adoptfail"
grep -q '^ok scenario adoptfaillate' "$T/results" ||
    fail "scenario adoptfaillate"

# A sow_delete goes upstream with its sequence (PROTOCOL.md §7.1).
grep -q 'wire -> .*"c":"sow_delete".*"s":' "$T/ampsd.log" ||
    fail "sow_delete sent without a sequence"

export AMPSD_SOCKET="$T/ampsd.sock"
# publish -conn X -wait persisted fails while X is down.
"$AMPSCTL" publish -conn aux -topic x -data '{}' -wait persisted \
    -timeout 1500 2>"$T/err" && fail "publish -conn aux -wait persisted: exit 0"
grep -q 'connection aux' "$T/err" || fail "flush error: $(cat "$T/err")"
# A refused publish says why.
"$AMPSCTL" publish -topic gc -data 'not json' -wait persisted 2>"$T/err" &&
    fail "bad JSON to a SOW topic accepted"
grep -q 'publishes failed: .*parse error' "$T/err" ||
    fail "no reason for the refusal: $(cat "$T/err")"
# ampsctl flush asks the daemon (an unknown connection is an error).
"$AMPSCTL" flush -conn nosuch 2>"$T/err" && fail "flush -conn nosuch: exit 0"
grep -q 'no such connection' "$T/err" || fail "flush: $(cat "$T/err")"
# A subscribe error is printed once.
"$AMPSCTL" subscribe -topic gc -filter '/v >>> 1' 2>"$T/err" &&
    fail "bad filter accepted"
[ "$(grep -c 'bad filter' "$T/err")" = 1 ] ||
    fail "subscribe error printed $(grep -c 'bad filter' "$T/err") times"

# While AMPS is down: the semtest scenario, then ampsctl.
run_semtest down
grep -q '^ok scenario down' "$T/results" || fail "scenario down failed"
n=$(main_down)
kill -TERM $EXTRA 2>/dev/null
wait_for 20 count_ge main_down $((n + 1)) || fail "main did not go down"
# ampsctl subscribe -timeout is the wait for its ack too: accepted now
# (then 1 s without a message ends it with exit 0: no -n to reach).
timeout 20 "$AMPSCTL" subscribe -topic dn2 -timeout 1000 2>"$T/err" ||
    fail "subscribe while down: $(cat "$T/err")"
# ampsctl sow's default timeout is ampsctl(1)'s 30 s, and the error says
# what the connection is doing.
timeout 90 "$AMPSCTL" sow -topic dsow 2>"$T/err" && fail "sow while down"
grep -q 'within 30000 ms: connection main is' "$T/err" ||
    fail "sow while down: $(cat "$T/err")"

# Why a connection is down, to a program: authentication failure.
stop_ampsd
start_ampsim auth --user u1 --password right
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock" mode 0666;
state-directory "$T/state2";
log stderr;
connection "main" {
	client-name "sem2-$$";
	server "tcp://u1:wrong@127.0.0.1:$SIMPORT/amps/json";
	reconnect fixed 200ms give-up never;
	allow all user "nobody" topic ".*";
}
EOC
chmod 600 "$T/ampsd.conf"	# it holds a password
start_ampsd
run_semtest authfail
grep -q '^ok scenario authfail' "$T/results" || fail "scenario authfail"
# Any program may read the status of the connections it may use: its
# own view, without credentials or other programs (needs root to run
# ampsctl as "nobody").
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    id nobody >/dev/null 2>&1; then
	user_bin "$AMPSCTL"	# a copy nobody can run (the clone may be 0700)
	got=$(as_user nobody ampsctl status -raw -socket "$T/ampsd.sock" \
	    2>&1) || fail "status as nobody: $got"
	echo "$got" | grep -q '^conn name=main .*error=3 ' ||
	    fail "own status: $got"
	echo "$got" | grep -q 'wrong\|^prog \|client_name=' &&
	    fail "leaks: $got"
fi

# ampsd -t refuses header protocols it cannot write, takes /amps/<type>.
for proto in fix nvfix xml; do
	sed "s|/amps/json|/$proto|" "$T/ampsd.conf" >"$T/legacy.conf"
	chmod 600 "$T/legacy.conf"
	"$AMPSD" -t -c "$T/legacy.conf" 2>"$T/err" &&
	    fail "ampsd -t accepted /$proto"
	grep -q "protocol \"$proto\" is a legacy header protocol" "$T/err" ||
	    fail "-t /$proto: $(cat "$T/err")"
done
sed "s|/amps/json|/amps/fix|" "$T/ampsd.conf" >"$T/amps-fix.conf"
chmod 600 "$T/amps-fix.conf"
"$AMPSD" -t -c "$T/amps-fix.conf" >/dev/null 2>&1 ||
    fail "ampsd -t refused /amps/fix"
pass
