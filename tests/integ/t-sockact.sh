#!/bin/bash
# Socket activation: ampsd adopts a listening socket passed by a service
# manager (LISTEN_FDS=1, LISTEN_PID, descriptor 3) instead of creating
# one.  Part 1 uses systemd-socket-activate when it is installed (else
# the python3 launcher below, once): a program's first connection starts
# the daemon and its publishes reach AMPS.  Part 2 is what systemd's
# ampsd.socket gives: a holder keeps the socket open while ampsd
# restarts, a program that connects while no daemon runs waits in the
# backlog and gets through once the next daemon accepts, and ampsd never
# unlinks the socket file on exit.
. "$(dirname "$0")/lib.sh"

AMPSCTL=$B/ampsctl/ampsctl
[ -x "$AMPSCTL" ] || { OK=1; echo "SKIP: ampsctl not built"; exit 77; }
command -v python3 >/dev/null || { OK=1; echo "SKIP: no python3"; exit 77; }
SOCK=$T/ampsd.sock

# The launcher: bind + listen on SOCK, then start the daemon GENS times
# in a row with the socket as descriptor 3, like systemd does; wait
# DELAY seconds between a daemon's exit and the next start.  Each
# daemon's pid is written to PIDFILE as "generation pid".
cat >"$T/launch.py" <<'EOP'
import os, socket, sys, time
path, pidfile, gens, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4])
argv = sys.argv[5:]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(64)
for g in range(1, gens + 1):
    pid = os.fork()
    if pid == 0:
        if s.fileno() != 3:
            os.dup2(s.fileno(), 3)
        os.set_inheritable(3, True)
        os.environ["LISTEN_FDS"] = "1"
        os.environ["LISTEN_PID"] = str(os.getpid())
        os.environ["LISTEN_FDNAMES"] = "ampsd.sock"
        os.execv(argv[0], argv)
    with open(pidfile + ".tmp", "w") as f:
        f.write("%d %d\n" % (g, pid))
    os.rename(pidfile + ".tmp", pidfile)
    os.waitpid(pid, 0)
    if g < gens:
        time.sleep(delay)
time.sleep(30)
EOP

# daemon_pid GEN: wait until the launcher started generation GEN; sets
# AMPSD_PID (and records it for cleanup).
daemon_pid() {
	gen_is() { [ "$(cut -d' ' -f1 "$T/daemon.pid" 2>/dev/null)" = "$1" ]; }
	wait_for 30 gen_is "$1" || fail "launcher did not start daemon $1"
	AMPSD_PID=$(cut -d' ' -f2 "$T/daemon.pid")
	PIDS="$PIDS $AMPSD_PID"
}

# ids_through FROM TO: ampsctl publishes {"id":FROM..TO} on topic orders
# and waits until AMPS persisted them.
ids_through() {
	seq "$1" "$2" | sed 's/.*/{"id":&}/' |
	    "$AMPSCTL" publish -socket "$SOCK" -topic orders -wait persisted \
	    -timeout 20000 2>>"$T/ampsctl.log"
}

sock_ino() {
	stat -c %i "$SOCK"
}

start_ampsim sim
write_conf "$SIMPORT" "heartbeat 5s;"

# Part 1: the first connection starts the daemon (launch.py starts it at
# once; the program's connection waits in the backlog the same way).
# (SOCKACT_LAUNCHER=python forces the fallback.)
if [ "${SOCKACT_LAUNCHER:-}" != python ] &&
    command -v systemd-socket-activate >/dev/null; then
	systemd-socket-activate -l "$SOCK" "$AMPSD" -f -v -c "$T/ampsd.conf" \
	    >>"$T/ampsd.log" 2>&1 &
	PIDS="$PIDS $!"
	LAUNCHER=systemd-socket-activate
else
	python3 "$T/launch.py" "$SOCK" "$T/daemon.pid" 1 0 \
	    "$AMPSD" -f -v -c "$T/ampsd.conf" >>"$T/ampsd.log" 2>&1 &
	PIDS="$PIDS $!"
	LAUNCHER=launch.py
fi
wait_for 30 test -S "$SOCK" || fail "$LAUNCHER did not create the socket"
INO=$(sock_ino)
ids_through 0 99 || fail "publish through the activated daemon failed"
grep -q 'inherited socket' "$T/ampsd.log" ||
    fail "the daemon did not adopt the socket ($LAUNCHER)"
LOCKPID=$(head -n 1 "$T/state/ampsd.lock")
[ -n "$LOCKPID" ] && kill -0 "$LOCKPID" || fail "no daemon pid"
PIDS="$PIDS $LOCKPID"
kill -TERM "$LOCKPID"
gone() { ! kill -0 "$LOCKPID" 2>/dev/null; }
wait_for 30 gone || fail "daemon did not stop"
test -S "$SOCK" && [ "$(sock_ino)" = "$INO" ] ||
    fail "ampsd unlinked or replaced the inherited socket on exit"
SIMPID=$(cat "$T/sim.pid")
for p in $PIDS; do
	[ "$p" = "$SIMPID" ] || kill -9 "$p" 2>/dev/null
done
PIDS=$SIMPID

# Part 2: restarts behind a socket that stays open.
rm -f "$T/daemon.pid"
python3 "$T/launch.py" "$SOCK" "$T/daemon.pid" 2 2 \
    "$AMPSD" -f -v -c "$T/ampsd.conf" >>"$T/ampsd.log" 2>&1 &
PIDS="$PIDS $!"
daemon_pid 1
wait_for 30 test -S "$SOCK" || fail "launcher did not create the socket"
INO=$(sock_ino)
ids_through 100 199 || fail "publish before the restart failed"
kill -TERM "$AMPSD_PID"
gone1() { ! kill -0 "$AMPSD_PID" 2>/dev/null; }
wait_for 30 gone1 || fail "daemon 1 did not stop"
test -S "$SOCK" && [ "$(sock_ino)" = "$INO" ] ||
    fail "ampsd unlinked the socket on exit"
# No daemon for 2 s now: this program's connection waits in the backlog.
T0=$(now_ms)
ids_through 200 299 || fail "a program connecting during the restart failed"
daemon_pid 2
[ $(($(now_ms) - T0)) -ge 1000 ] ||
    echo "note: the program got through quickly ($(($(now_ms) - T0)) ms)"
kill -TERM "$AMPSD_PID"
wait_for 30 gone1 || fail "daemon 2 did not stop"
test -S "$SOCK" && [ "$(sock_ino)" = "$INO" ] ||
    fail "ampsd unlinked the socket on exit"

seq 0 299 >"$T/want"
got_all() {
	replay_ids orders >"$T/got"
	cmp -s "$T/want" "$T/got"
}
wait_for 30 got_all || {
	echo "got $(wc -l <"$T/got") lines, first diff:"
	diff "$T/want" "$T/got" | head -5
	fail "messages missing, duplicated or out of order"
}
pass
