#!/bin/bash
# The semantics test matrix (docs/IPC.md §12): each capability of the
# AMPS client API a program reaches through libampsipc, run
#   a  alone
#   b  beside a second program that holds an overlapping subscription and
#      publishes on the same upstream connection
#   c  across an upstream reconnect
#   d  across a failover to a replica
#   e  across an ampsd restart (the program's handle reconnects)
# and what the program received compared with what the same program
# receives through its own direct connection to ampsim (matrix.c "ref",
# a small HA client: a and b against ref alone; c and e against ref
# across a reconnect of its own; d against ref failing over itself).  A
# replicated pair of ampsims; one ampsd; every cell has its own topics.
. "$(dirname "$0")/lib.sh"

MATRIX=$B/tests/integ/matrix
[ -x "$MATRIX" ] || { echo "SKIP: matrix not built"; exit 77; }
CAPS=${MATRIX_CAPS:-"publish delta_publish filter regex replace pause
unsubscribe sow sow_and_subscribe delta_subscribe sow_delete queue durable
flush"}
CONDS=${MATRIX_CONDS:-abcde}
# Capabilities whose topic is a SOW topic (keyed by /id) or a queue.
SOWCAPS=" delta_publish sow sow_and_subscribe delta_subscribe sow_delete "
mkdir -p "$T/out"

# One ampsim configuration for every cell's topics.
{
	echo "txlog .*"
	for cap in $SOWCAPS; do
		for run in a_r a_i b_i c_r c_i d_r d_i e_i; do
			echo "sow m_${cap}_$run key=/id"
		done
	done
	for run in a_r a_i b_i c_r c_i d_r d_i e_i; do
		echo "queue m_queue_${run}q topic=m_queue_${run}q-in" \
		    "semantics=at-least-once lease=30s backlog=10"
	done
} >"$T/sim.conf"

# sim NAME PORT REPLPORT ADMINPORT PEERPORT: start (or restart) one of
# the pair on fixed ports, replicating synchronously to the other.
sim() {
	"$AMPSIM" -p "$2" --repl-port "$3" --admin-port "$4" \
	    --port-file "$T/$1.port" -d "$T/$1.txlog" -c "$T/sim.conf" \
	    --ack-conflation 10 --peer "127.0.0.1:$5" --repl-sync \
	    >>"$T/$1.log" 2>&1 &
	echo $! >"$T/$1.pid"
	PIDS="$PIDS $!"
}
# Free ports: ask the kernel by starting each once on port 0.
start_ampsim probe --repl-port 0
PA=$SIMPORT
RA=$(sed -n 's/^repl=//p' "$T/probe.port")
AA=$ADMINPORT
kill "$(cat "$T/probe.pid")"
start_ampsim probe2 --repl-port 0
PB=$SIMPORT
RB=$(sed -n 's/^repl=//p' "$T/probe2.port")
AB=$ADMINPORT
kill "$(cat "$T/probe2.pid")"
P1=$(cat "$T/probe.pid") P2=$(cat "$T/probe2.pid")
wait_for 10 sh -c "! kill -0 $P1 && ! kill -0 $P2" ||
    fail "probes did not stop"
rm -f "$T/a.port" "$T/b.port"
sim a "$PA" "$RA" "$AA" "$RB"
sim b "$PB" "$RB" "$AB" "$RA"
wait_for 10 test -s "$T/a.port" || fail "ampsim a did not start"
wait_for 10 test -s "$T/b.port" || fail "ampsim b did not start"
PRIMARY=a

cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "matrix-$$";
	server "tcp://127.0.0.1:$PA/amps/json" "tcp://127.0.0.1:$PB/amps/json";
	heartbeat 1s;
	reconnect exponential initial 50ms max 500ms factor 2 give-up never;
}
EOC
start_ampsd
main_ready() {
	grep -c 'connection main: [a-z-]* -> ready' "$T/ampsd.log"
}
ready_ge() {
	[ "$(main_ready)" -ge "$1" ]
}
wait_for 20 ready_ge 1 || fail "ampsd never ready"

# The port of the server connection main is on now (its last "-> ready").
ampsd_on() {
	sed -n 's|.*connection main: [a-z-]* -> ready (server tcp://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' \
	    "$T/ampsd.log" | tail -n 1
}

# restart_sim NAME: ampsim NAME (a or b) again, as the other's replica.
restart_sim() {
	if [ "$1" = a ]; then
		sim a "$PA" "$RA" "$AA" "$RB"
	else
		sim b "$PB" "$RB" "$AB" "$RA"
	fi
}

# ref_on SIM BASE: the reference run BASE has logged on to ampsim SIM.
ref_on() {
	grep -qF "(matrix-ref-$2, " "$T/$1.log"
}

RESTART=
# The disruption of one condition, for one kind of run.
disrupt() {	# KIND COND BASE
	local n port admin down
	n=$(main_ready)
	# ampsd's own run disrupts the server ampsd is on: a reference
	# run's failover may have sent ampsd back to the restarted server.
	if [ "$1" = ipc ]; then
		if [ "$(ampsd_on)" = "$PA" ]; then PRIMARY=a; else PRIMARY=b; fi
	fi
	if [ "$PRIMARY" = a ]; then admin=$AA; else admin=$AB; fi
	case $1$2 in
	refc)
		ADMINPORT=$admin
		sim_admin "disconnect matrix-ref-$3" >/dev/null ||
		    fail "admin disconnect"
		return
		;;
	ipcc)
		ADMINPORT=$admin
		sim_admin disconnect-all >/dev/null || fail "disconnect-all"
		;;
	refd|ipcd)
		# Kill the primary; the client fails over; the killed one
		# comes back as the replica (it catches up from its peer)
		# only once the client is on the other server: a client
		# retries the server it lost first (PROTOCOL.md §15.2, as
		# ampsd does), and one restarted that soon would take it
		# back without a failover.  The reference waits for GO, so
		# its restart happens in run(), after GO (RESTART).
		down=$PRIMARY
		kill -9 "$(cat "$T/$down.pid")"
		wait "$(cat "$T/$down.pid")" 2>/dev/null
		if [ "$down" = a ]; then PRIMARY=b; else PRIMARY=a; fi
		if [ "$1" = ref ]; then
			RESTART=$down
			return
		fi
		wait_for 30 ready_ge $((n + 1)) || fail "no failover"
		restart_sim "$down"
		return
		;;
	ipce)
		stop_ampsd
		start_ampsd
		;;
	esac
	wait_for 30 ready_ge $((n + 1)) || fail "ampsd not ready again"
}

# run KIND CAP COND: one run; its transcript in $T/out/m_CAP_COND_K.
run() {
	local base=m_$2_$3_${1:0:1} line pid
	if [ "$1" = ref ]; then
		if [ "$PRIMARY" = a ]; then port=$PA,$PB; else port=$PB,$PA; fi
		coproc RUN { timeout 120 "$MATRIX" ref -p "$port" "$2" "$3" \
		    "$base" 2>>"$T/matrix.log"; }
	else
		coproc RUN { timeout 120 "$MATRIX" ipc -S "$T/ampsd.sock" "$2" \
		    "$3" "$base" 2>>"$T/matrix.log"; }
	fi
	pid=$RUN_PID
	exec 7<&"${RUN[0]}" 8>&"${RUN[1]}"
	: >"$T/out/$base"
	while IFS= read -r line <&7; do
		case $line in
		"HOOK disrupt")
			disrupt "$1" "$3" "$base"
			echo GO >&8
			if [ -n "$RESTART" ]; then
				wait_for 30 ref_on "$PRIMARY" "$base" ||
				    fail "$base did not fail over to $PRIMARY"
				restart_sim "$RESTART"
				RESTART=
			fi
			;;
		*)
			echo "$line" >>"$T/out/$base"
			;;
		esac
	done
	exec 7<&- 8>&-
	wait "$pid" || echo "$1 $2 $3: exit $?" >>"$T/failed"
}

# same CAP COND WANT: the program's transcript equals the reference's.
same() {
	local got=$T/out/m_$1_$2_i want=$T/out/m_$1_$3_r
	if ! grep -q '^END$' "$got" || ! diff -u "$want" "$got" \
	    >"$T/out/diff-$1-$2" 2>&1; then
		echo "---- $1 ($2): reference m_$1_$3_r, program m_$1_$2_i"
		cat "$T/out/diff-$1-$2"
		echo "$1 $2" >>"$T/failed"
	fi
}

: >"$T/failed"
start=$(now_ms)
has() {
	case $CONDS in *$1*) return 0 ;; esac
	return 1
}
for cap in $CAPS; do
	run ref "$cap" a
	! has a || { run ipc "$cap" a; same "$cap" a a; }
	! has b || { run ipc "$cap" b; same "$cap" b a; }
	has c || has d || has e || continue
	run ref "$cap" c
	! has c || { run ipc "$cap" c; same "$cap" c c; }
done
for cap in $CAPS; do
	! has d || { run ref "$cap" d; run ipc "$cap" d; same "$cap" d d; }
done
for cap in $CAPS; do
	! has e || { run ipc "$cap" e; same "$cap" e c; }
done
echo "matrix: $(echo $CAPS | wc -w) capabilities x 5 conditions in" \
    "$(( ($(now_ms) - start) / 1000 )) s"
[ -s "$T/failed" ] && fail "cells that differ: $(tr '\n' ';' <"$T/failed")"
pass
