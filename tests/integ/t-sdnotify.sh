#!/bin/bash
# Under systemd (Type=notify, WatchdogSec=) ampsd reports READY=1 once it
# accepts programs, pings WATCHDOG=1 at half the interval, reports
# RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a SIGHUP reload,
# STATUS= with the connections ready and the unpersisted publishes as
# they change (the server goes away, publishes stay stored), and
# STOPPING=1 on SIGTERM.  Uses python3 as the notify socket listener.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { OK=1; echo "SKIP: no python3"; exit 77; }
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.2)
out = open(sys.argv[2], "a")
end = time.time() + 300
while time.time() < end:
    try:
        d = s.recv(4096)
    except socket.timeout:
        continue
    out.write(d.decode() + "\n")
    out.flush()
' "$T/notify.sock" "$T/notify.txt" &
PIDS="$PIDS $!"
wait_for 30 test -S "$T/notify.sock" || fail "the listener did not bind in 30 s"
start_ampsim sim
write_conf "$SIMPORT" "heartbeat 5s;"
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 start_ampsd
wait_for 30 grep -q '^READY=1' "$T/notify.txt" || fail "no READY=1"
wait_for 30 grep -qx 'STATUS=1/1 connections ready, 0 unpersisted' \
    "$T/notify.txt" || fail "no STATUS= with the connection ready: \
$(grep STATUS "$T/notify.txt")"
pings() {
	[ "$(grep -c '^WATCHDOG=1' "$T/notify.txt")" -ge 3 ]
}
wait_for 30 pings || fail "no watchdog pings"
kill -HUP "$AMPSD_PID"
reloaded() {
	grep -q '^RELOADING=1$' "$T/notify.txt" &&
	    grep -q '^MONOTONIC_USEC=[0-9][0-9]*$' "$T/notify.txt" &&
	    [ "$(grep -c '^READY=1' "$T/notify.txt")" -ge 2 ]
}
wait_for 30 reloaded || fail "no RELOADING=1 / READY=1 around SIGHUP"
# The server goes away, then 7 publishes are stored and not persisted.
kill -9 "$(cat "$T/sim.pid")"
wait_for 30 grep -qx 'STATUS=0/1 connections ready, 0 unpersisted' \
    "$T/notify.txt" || fail "no STATUS= with the connection down: \
$(grep STATUS "$T/notify.txt")"
run_pubtest -S "$T/ampsd.sock" -t orders -n 7 || fail "publishes not stored"
wait_for 30 grep -qx 'STATUS=0/1 connections ready, 7 unpersisted' \
    "$T/notify.txt" || fail "no STATUS= with 7 unpersisted: \
$(grep STATUS "$T/notify.txt")"
stop_ampsd TERM
wait_for 30 grep -q '^STOPPING=1' "$T/notify.txt" || fail "no STOPPING=1"
pass
