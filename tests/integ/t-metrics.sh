#!/bin/bash
# Metrics: off by default (no TCP listener at all); a non-loopback
# address is refused by ampsd -t unless allow-remote; GET /metrics is
# Prometheus text whose every line parses, with published = acked = N,
# commits in the histogram, state, build info, programs and subscriptions;
# 404 and 405, HEAD without a body; process_* from /proc agree with the
# daemon's; ampsctl status -json is valid and has the same numbers;
# after the server dies the state leaves "connected" and reconnects count;
# a backlog found in the store at startup counts as replayed.
. "$(dirname "$0")/lib.sh"

CTL=$B/ampsctl/ampsctl
JSONCHECK=$B/tests/tools/jsoncheck
[ -x "$CTL" ] && [ -x "$JSONCHECK" ] ||
    { OK=1; echo "SKIP: no ampsctl or jsoncheck"; exit 77; }
N=200

# tcp_listeners PID: listening TCP sockets the process holds.
tcp_listeners() {
	_inodes=$(ls -l "/proc/$1/fd" 2>/dev/null |
	    sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p')
	for _i in $_inodes; do
		awk -v i="$_i" '$4 == "0A" && $10 == i' /proc/net/tcp \
		    /proc/net/tcp6 2>/dev/null
	done
}

# fetch PATH [METHOD]: the whole HTTP/1.0 response.
fetch() {
	exec 3<>"/dev/tcp/127.0.0.1/$MPORT" || return 1
	printf '%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "${2:-GET}" "$1" >&3
	timeout 30 cat <&3
	exec 3<&-
}

# scrape: the /metrics body in $T/m.txt (headers in $T/m.head).
scrape() {
	fetch /metrics >"$T/m.raw" || return 1
	sed -n '1,/^\r$/p' "$T/m.raw" >"$T/m.head"
	sed '1,/^\r$/d' "$T/m.raw" >"$T/m.txt"
	head -n 1 "$T/m.head" | grep -q '^HTTP/1\.[01] 200 '
}

# metric 'name{labels}': its value in the last scrape.
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$T/m.txt"
}

# metric_is 'name{labels}' VALUE: scrape, then compare (for wait_for).
metric_is() {
	scrape && [ "$(metric "$1")" = "$2" ]
}

# metric_gt 'name{labels}' VALUE: scrape; the metric exceeds VALUE.
metric_gt() {
	scrape && [ "$(metric "$1")" -gt "$2" ] 2>/dev/null
}

# --- off by default ---------------------------------------------------
start_ampsim sim
write_conf "$SIMPORT" "heartbeat 1s;"
start_ampsd
wait_for 30 grep -q -- '-> ready' "$T/ampsd.log" || fail "never ready"
[ -z "$(tcp_listeners "$AMPSD_PID")" ] ||
    fail "a TCP socket listens without metrics: $(tcp_listeners "$AMPSD_PID")"
grep -q 'metrics:' "$T/ampsd.log" && fail "metrics mentioned while off"
stop_ampsd TERM

# --- ampsd -t: loopback only unless allow-remote ------------------------
write_conf "$SIMPORT" "heartbeat 1s;"
printf 'metrics listen 10.1.2.3:9187;\n' >>"$T/ampsd.conf"
line=$(wc -l <"$T/ampsd.conf")
out=$("$AMPSD" -t -c "$T/ampsd.conf" 2>&1) && fail "-t accepted 10.1.2.3"
want="$T/ampsd.conf:$line: metrics listen \"10.1.2.3:9187\": not a loopback address (127.0.0.0/8 or ::1); add \"allow-remote yes\" to serve metrics to other hosts"
[ "$out" = "$want" ] || fail "-t said: $out"
sed -i 's/10.1.2.3:9187;/10.1.2.3:9187 allow-remote yes;/' "$T/ampsd.conf"
out=$("$AMPSD" -t -c "$T/ampsd.conf" 2>&1) || fail "allow-remote refused: $out"

# --- metrics on -----------------------------------------------------------
write_conf "$SIMPORT" "heartbeat 1s;"
printf 'metrics listen 127.0.0.1:0;\n' >>"$T/ampsd.conf"
start_ampsd
wait_for 30 grep -q 'metrics: serving http://127.0.0.1:' "$T/ampsd.log" ||
    fail "no metrics line in the log"
MPORT=$(sed -n 's|.*metrics: serving http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' \
    "$T/ampsd.log" | tail -n 1)
[ -n "$MPORT" ] && [ "$MPORT" -gt 0 ] || fail "no metrics port"
wait_for 30 ready_at_least 2 || fail "never ready"

"$CTL" subscribe -socket "$T/ampsd.sock" -topic watch -subid w1 \
    >"$T/sub.out" 2>>"$T/sub.log" &
SUBPID=$!
PIDS="$PIDS $SUBPID"
"$CTL" publish -socket "$T/ampsd.sock" -topic orders -data '{"id":1}' \
    -n "$N" -wait persisted 2>>"$T/ctl.log" || fail "publish"
wait_for 30 metric_is ampsd_subscriptions 1 ||
    fail "subscriptions: $(grep subscriptions "$T/m.txt")"
wait_for 30 metric_is 'ampsd_connection_acked_total{connection="main"}' "$N" ||
    fail "acked: $(metric 'ampsd_connection_acked_total{connection="main"}')"
scrape || fail "scrape: $(head -n 1 "$T/m.head")"
grep -qi '^Content-Type: text/plain; version=0\.0\.4' "$T/m.head" ||
    fail "content type: $(cat "$T/m.head")"

# Every line is a comment (# HELP / # TYPE) or `name{labels} value`.
bad=$(grep -Ev '^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$' "$T/m.txt" |
    grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eEInfa]+$')
[ -z "$bad" ] || fail "lines that do not parse: $bad"
[ "$(grep -c '^# TYPE ' "$T/m.txt")" = \
    "$(grep '^# TYPE ' "$T/m.txt" | sort -u | wc -l)" ] ||
    fail "a family is declared twice"

v=$(metric 'ampsd_build_info{version="'"$(sed -n 's/^AC_INIT(\[ampsd\], \[\([^]]*\)\].*/\1/p' \
    "$top_srcdir/configure.ac")"'"}')
[ "$v" = 1 ] || fail "build_info: $(grep build_info "$T/m.txt")"
[ "$(metric 'ampsd_connection_published_total{connection="main"}')" = "$N" ] ||
    fail "published: $(grep published_total "$T/m.txt")"
[ "$(metric 'ampsd_connection_sent_total{connection="main"}')" = "$N" ] ||
    fail "sent: $(grep sent_total "$T/m.txt")"
[ "$(metric 'ampsd_connection_unpersisted{connection="main"}')" = 0 ] ||
    fail "unpersisted: $(grep unpersisted "$T/m.txt")"
[ "$(metric 'ampsd_connection_state{connection="main",state="connected"}')" = 1 ] ||
    fail "state: $(grep connection_state "$T/m.txt")"
[ "$(metric 'ampsd_connection_state{connection="main",state="backoff"}')" = 0 ] ||
    fail "backoff state: $(grep connection_state "$T/m.txt")"
grep -q "^ampsd_connection_info{connection=\"main\",server=\"tcp://127.0.0.1:$SIMPORT/amps/json\",detail=\"ready\",default=\"yes\",store=\"sqlite\"} 1$" \
    "$T/m.txt" || fail "info: $(grep connection_info "$T/m.txt")"
count=$(metric ampsd_store_commit_seconds_count)
[ "${count:-0}" -gt 0 ] || fail "no commit observed"
[ "$(metric 'ampsd_store_commit_seconds_bucket{le="+Inf"}')" = "$count" ] ||
    fail "+Inf bucket differs from count"
prev=0
for b in $(awk '/^ampsd_store_commit_seconds_bucket/ { print $2 }' "$T/m.txt"); do
	[ "$b" -ge "$prev" ] || fail "buckets not cumulative"
	prev=$b
done
[ "$(metric 'ampsd_store_commits_total{store="publish"}')" -gt 0 ] ||
    fail "publish commits: $(grep commits_total "$T/m.txt")"
[ "$(metric "ampsd_program_subscriptions{uid=\"$(id -u)\",program=\"ampsctl\"}")" = 1 ] ||
    fail "program: $(grep program_ "$T/m.txt")"
[ "$(metric ampsd_ipc_clients)" -ge 1 ] || fail "ipc clients"

# Other paths and methods.
fetch /nothing >"$T/r404" && head -n 1 "$T/r404" | grep -q ' 404 ' ||
    fail "404: $(head -n 1 "$T/r404")"
fetch /metrics POST >"$T/r405" && head -n 1 "$T/r405" | grep -q ' 405 ' ||
    fail "405: $(head -n 1 "$T/r405")"
grep -qi '^Allow: GET, HEAD' "$T/r405" || fail "no Allow header"
# HEAD: 200, the type and the length a GET body has, and no body.
fetch /metrics HEAD >"$T/rhead" || fail "HEAD"
head -n 1 "$T/rhead" | grep -q '^HTTP/1\.[01] 200 ' ||
    fail "HEAD: $(head -n 1 "$T/rhead")"
grep -qi '^Content-Type: text/plain; version=0\.0\.4' "$T/rhead" ||
    fail "HEAD content type: $(cat "$T/rhead")"
hlen=$(sed -n 's/^Content-Length: \([0-9]*\)\r$/\1/ip' "$T/rhead")
[ "${hlen:-0}" -gt 1000 ] || fail "HEAD content length: $(cat "$T/rhead")"
[ -z "$(sed '1,/^\r$/d' "$T/rhead")" ] || fail "HEAD sent a body"

# process_* from /proc: this daemon's figures.
scrape || fail "scrape"
[ "$(metric process_open_fds)" -ge 5 ] ||
    fail "open fds: $(grep '^process_' "$T/m.txt")"
[ "$(metric process_open_fds)" -le "$(metric process_max_fds)" ] ||
    fail "max fds: $(grep '^process_' "$T/m.txt")"
rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$AMPSD_PID/status")
m=$(metric process_resident_memory_bytes)
[ "$m" -gt $((rss / 2)) ] && [ "$m" -lt $((rss * 2)) ] ||
    fail "rss $m, /proc says $rss"
start=$(metric process_start_time_seconds)
[ "${start%.*}" -le "$(date +%s)" ] &&
    [ "${start%.*}" -ge $(($(date +%s) - 600)) ] ||
    fail "start time $start"
cpu=$(metric process_cpu_seconds_total)
[ -n "$cpu" ] || fail "no process_cpu_seconds_total"

# ampsctl status: the same numbers, as JSON and as a table.
"$CTL" status -json -socket "$T/ampsd.sock" >"$T/status.json" ||
    fail "status -json"
"$JSONCHECK" <"$T/status.json" || fail "invalid JSON: $(cat "$T/status.json")"
if command -v python3 >/dev/null 2>&1; then
	python3 -m json.tool "$T/status.json" >/dev/null ||
	    fail "python3 refuses the JSON"
fi
for k in published acked sent; do
	grep -q "\"$k\":$N," "$T/status.json" ||
	    fail "status -json $k: $(cat "$T/status.json")"
done
grep -q '"state":"connected"' "$T/status.json" || fail "json state"
grep -q '"subscriptions":1,' "$T/status.json" || fail "json subscriptions"
"$CTL" status -socket "$T/ampsd.sock" >"$T/status.txt" || fail "status"
grep -Eq "^main\* +connected +0 +$N +$N +$N " "$T/status.txt" ||
    fail "status table: $(cat "$T/status.txt")"
kill "$SUBPID"

# The server dies: the state leaves "connected", reconnects count.
kill -9 "$(cat "$T/sim.pid")"
wait_for 30 metric_is \
    'ampsd_connection_state{connection="main",state="connected"}' 0 ||
    fail "still connected"
wait_for 30 metric_gt \
    'ampsd_connection_reconnects_total{connection="main"}' 0 ||
    fail "reconnects: $(grep reconnects "$T/m.txt")"

# A backlog stored while the server is away, then a daemon restart with
# the server back: it is sent again from the store, counted as replayed.
"$CTL" publish -socket "$T/ampsd.sock" -topic orders -data '{"id":2}' \
    -n 5 2>>"$T/ctl.log" || fail "publish while down"
stop_ampsd TERM
"$AMPSIM" -p "$SIMPORT" --port-file "$T/sim2.port" -d "$T/sim.txlog" \
    >>"$T/sim2.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 30 test -s "$T/sim2.port" || fail "ampsim did not restart"
start_ampsd
wait_for 30 grep -q 'metrics: serving http://127.0.0.1:' "$T/ampsd.log" ||
    fail "no metrics after restart"
MPORT=$(sed -n 's|.*metrics: serving http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' \
    "$T/ampsd.log" | tail -n 1)
wait_for 30 metric_is 'ampsd_connection_acked_total{connection="main"}' 5 ||
    fail "backlog not acked: $(grep -e acked -e state "$T/m.txt")"
[ "$(metric 'ampsd_connection_replayed_total{connection="main"}')" = 5 ] ||
    fail "replayed: $(grep -e replayed -e sent_total "$T/m.txt")"
[ "$(metric 'ampsd_connection_published_total{connection="main"}')" = 0 ] ||
    fail "published after restart: $(grep published "$T/m.txt")"
stop_ampsd TERM
pass
