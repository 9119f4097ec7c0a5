#!/bin/bash
# shellcheck disable=SC2317 # functions called indirectly (wait_for)
# Network faults between ampsd and AMPS, through tests/tools/faultproxy
# (DESIGN.md §4 promise 1):
#  1. a blackholed upstream (TCP up, nothing arrives) is detected by the
#     heartbeat timeout and ampsd fails over to the next server, where
#     publishing goes on;
#  2. a stream of publishes runs through resets, delays and half-open
#     links chosen from a fixed seed: every message acknowledged as
#     stored reaches AMPS exactly once and in order.
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=tests/reliability/rel.sh
. "$(dirname "$0")/rel.sh"

[ -x "$FAULTPROXY" ] || skip "$FAULTPROXY not built"

# 1. Blackhole -> heartbeat timeout -> failover.
start_ampsim a
PA=$SIMPORT
start_ampsim b
PB=$SIMPORT
start_proxy pa "$PA"
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "relnet-$$";
	server "tcp://127.0.0.1:$PXPORT/amps/json" "tcp://127.0.0.1:$PB/amps/json";
	heartbeat 1s timeout 2s;
	logon-timeout 1s;
	reconnect exponential initial 50ms max 500ms factor 2 give-up never;
}
EOC
start_ampsd
wait_for 30 ready_at_least 1 || fail "never ready"
grep -q -- "-> ready (server tcp://127.0.0.1:$PXPORT/" "$T/ampsd.log" ||
    fail "not on the proxied server first"
run_pubtest -S "$T/ampsd.sock" -t orders -f 0 -n 100 -F -W 10000 ||
    fail "publish through the proxy"
px blackhole
t0=$(now_ms)
wait_for 30 grep -q 'no data or heartbeat' "$T/ampsd.log" ||
    fail "blackhole not detected"
t1=$(now_ms)
wait_for 30 grep -q -- "-> ready (server tcp://127.0.0.1:$PB/" \
    "$T/ampsd.log" || fail "no failover to the second server"
t2=$(now_ms)
echo "blackhole: detected after $((t1 - t0)) ms, on server b after \
$((t2 - t0)) ms"
[ $((t1 - t0)) -le 3000 ] || fail "detection took $((t1 - t0)) ms (timeout 2 s)"
run_pubtest -S "$T/ampsd.sock" -t orders -f 100 -n 100 -F -W 10000 ||
    fail "publish after failover"
SIMPORT=$PB
seq 100 199 >"$T/want"
wait_for 30 ids_exactly "$T/want" orders ||
    fail "server b does not hold 100..199 exactly"
stop_ampsd TERM

# 2. A stored-acked stream through seeded resets, delays and half-open
# links to one server.
start_ampsim c --hb-multiple 2
PC=$SIMPORT
start_proxy pc "$PC"
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state2";
log stderr;
connection "main" {
	client-name "relnet2-$$";
	server "tcp://127.0.0.1:$PXPORT/amps/json";
	heartbeat 1s timeout 2s;
	logon-timeout 1s;
	reconnect fixed 100ms give-up never;
}
EOC
: >"$T/ampsd.log"
start_ampsd
wait_for 30 ready_at_least 1 || fail "never ready (stream)"
SEED=${NETFAULT_SEED:-7321}
echo "network fault seed $SEED (NETFAULT_SEED)"
RANDOM=$SEED
N=30000
: >"$T/stored"
run_pubtest -S "$T/ampsd.sock" -t orders -f 0 -n "$N" -s 100 -d 15000 \
    -o "$T/stored" -F -W 60000 &
pub=$!
PIDS="$PIDS $pub"
faults=0
resets=0
i=0
while [ $i -lt 12 ] && kill -0 "$pub" 2>/dev/null; do
	sleep "0.$((RANDOM % 5 + 2))"
	case $((RANDOM % 4)) in
	0) px reset; resets=$((resets + 1)) ;;
	1) px "delay $((RANDOM % 300 + 50))" ;;
	2) px "halfopen down" ;;
	3) px "halfopen up" ;;
	esac
	faults=$((faults + 1))
	sleep "0.$((RANDOM % 5 + 3))"
	px pass
	i=$((i + 1))
	if [ $i -eq 4 ]; then
		# Once mid-stream: server->client silent until ampsd's
		# heartbeat timeout drops the link.
		px "halfopen down"
		faults=$((faults + 1))
		wait_for 30 grep -q 'no data or heartbeat' "$T/ampsd.log" ||
		    fail "half-open link not detected"
		px pass
	fi
done
px pass
wait_exit 120 "$pub" "the publisher through the faults"
rc=$?
[ $rc -eq 0 ] || fail "publisher exit $rc (stored $(wc -l <"$T/stored"))"
[ "$(wc -l <"$T/stored")" -eq "$N" ] || fail "not everything was stored"
SIMPORT=$PC
seq 0 $((N - 1)) >"$T/want"
wait_for 30 ids_exactly "$T/want" orders || {
	echo "want $(wc -l <"$T/want") got $(wc -l <"$T/got")"
	sort -n -c -u "$T/got" || echo "order/duplicate problem"
	fail "AMPS does not hold every stored id exactly once in order"
}
echo "network: faults $faults (resets $resets), logons $(ready_count), \
stored-acked $N, delivered $(wc -l <"$T/got"), lost 0, duplicated 0"
pass
