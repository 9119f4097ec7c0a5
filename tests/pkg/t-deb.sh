#!/bin/sh
# t-deb.sh DIR: the Debian packages that ./bootstrap deb left in DIR,
# installed, upgraded, removed and purged with dpkg, maintainer scripts
# included, in a throwaway root: an overlay of / (the host's root stays
# untouched) in private mount and PID namespaces, entered with chroot.
#
#  1. install ampsd, libampsipc0, libampsipc-dev, ampsim, python3-amps:
#     the files, the conffiles, no libtool archive, a multiarch library,
#     hardened binaries (RELRO, BIND_NOW, stack protector, FORTIFY); what
#     the maintainer scripts did (the "ampsd" user and group,
#     /var/lib/ampsd owned by it, the units not enabled, the module
#     byte-compiled); ampsd -t accepts the shipped configuration; a
#     libampsipc example builds with pkg-config; the installed ampsim and
#     ampsd (as user ampsd) carry a publish end to end, and ampsctl ping
#     reports the connection; python3 imports AMPS from the package (and
#     the packaged libampsipc) and publishes, subscribes with a filter
#     and queries the SOW through the installed daemon;
#  2. an edited /etc/ampsd/ampsd.conf survives an upgrade to a newer
#     version with the same conffile (no prompt, no .dpkg-dist) and one
#     whose conffile changed (--force-confold: kept, the new one beside
#     it as .dpkg-dist); the stores survive both;
#  3. remove keeps the configuration and the stores; a purge while the
#     publish store in /var/lib/ampsd holds 2 messages AMPS never got
#     (stored while the server was down) keeps the directory, the store
#     untouched, and says where the messages are and how to send or
#     delete them;
#  4. doing what that message says sends them: reinstalled, with the
#     connection configured again, ampsd delivers both to ampsim; a purge
#     with the store empty then deletes /var/lib/ampsd;
#  5. a purge while an ampsd still runs on /var/lib/ampsd (started by
#     hand, not under systemd) keeps it ("cannot tell"); once it is
#     stopped and the directory removed as the message says, nothing of
#     the packages is left: no files, no /etc/ampsd, no /var/lib/ampsd.
#
# What it does not do: systemd is not PID 1 in the namespace, so the
# maintainer scripts take their "systemd not running" path (no
# daemon-reload, no start or restart); the units themselves are checked
# by tests/integ/t-systemd.sh.  The newer versions are the same build
# repacked with another version number (dpkg-deb -R / -b).
#
# Root, unshare(1) and overlayfs only.  Prints "deb: N passed, 0 failed"
# at the end, or the failed check and exits 1.  Bounded: the whole run
# is killed after AMPSD_DEB_TEST_TIMEOUT seconds (default 900).

set -eu

if [ "${1:-}" != --inner ] && [ "${1:-}" != --chroot ]; then
	dir=$(cd "${1:?usage: t-deb.sh DIR}" && pwd)
	[ "$(id -u)" = 0 ] || { echo "t-deb: needs root"; exit 1; }
	command -v unshare >/dev/null || { echo "t-deb: needs unshare"; exit 1; }
	T=$(mktemp -d "${TMPDIR:-/tmp}/ampsd-deb.XXXXXX")
	rc=0
	timeout -k 10 "${AMPSD_DEB_TEST_TIMEOUT:-900}" \
	    unshare --mount --pid --fork --kill-child --propagation private \
	    sh "$0" --inner "$dir" "$T" || rc=$?
	rm -rf "$T"
	[ "$rc" = 124 ] && echo "FAIL: t-deb timed out"
	exit "$rc"
fi

if [ "$1" = --inner ]; then
	# In the new namespaces: the overlay root, then chroot into it.
	dir=$2 T=$3
	mount -t tmpfs tmpfs "$T"
	mkdir "$T/u" "$T/w" "$T/m"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$T/u,workdir=$T/w" \
	    "$T/m"
	M=$T/m
	mount -t proc proc "$M/proc"
	mount --rbind /dev "$M/dev"
	mount --rbind /sys "$M/sys"
	mount -t tmpfs tmpfs "$M/tmp"
	mount -t tmpfs tmpfs "$M/run"
	mkdir -p "$M/tmp/pkgtest/v1"
	for p in libampsipc0 libampsipc-dev ampsd ampsim python3-amps; do
		set -- "$dir/${p}_"*.deb
		[ -f "$1" ] || { echo "FAIL: no ${p}_*.deb in $dir"; exit 1; }
		cp "$1" "$M/tmp/pkgtest/v1/"
	done
	cp "$0" "$M/tmp/pkgtest/t-deb.sh"
	exec chroot "$M" sh /tmp/pkgtest/t-deb.sh --chroot
fi

# ---- in the chroot ---------------------------------------------------------
cd /tmp/pkgtest
# Nothing from a build tree or another interpreter may stand in.
unset PYTHONPATH PYTHONHOME LD_LIBRARY_PATH LD_PRELOAD
N=0
PIDS=
cleanup() {
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null || :
	done
}
trap cleanup EXIT
fail() {
	echo "FAIL: t-deb: $*"
	for f in /tmp/pkgtest/*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (tail)"
		tail -n 30 "$f"
	done
	exit 1
}
ok() {
	N=$((N + 1))
}
# check DESCRIPTION command...: the command must succeed.
check() {
	_what=$1
	shift
	"$@" >/dev/null 2>&1 || fail "$_what"
	ok
}
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}
# wait_for SECONDS WHAT command...: poll every 0.1 s, fail after SECONDS.
wait_for() {
	_end=$(($(now_ms) + $1 * 1000))
	_what=$2
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$_end" ] || fail "$_what"
		sleep 0.1
	done
	ok
}
status_of() {
	dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null
}
# exited PID: PID has exited (gone, or a zombie not waited for yet).
exited() {
	[ ! -e "/proc/$1" ] ||
	    [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d ' ' -f 1)" = Z ]
}
# start_ampsd CONF LOG: the installed ampsd as user ampsd, in the
# foreground, pid in $AP; waits for the socket CONF names.
start_ampsd() {
	setpriv --reuid ampsd --regid ampsd --init-groups \
	    ampsd -f -c "$1" >"$2" 2>&1 &
	AP=$!
	PIDS="$PIDS $AP"
	_sock=$(sed -n 's/^socket "\([^"]*\)".*/\1/p' "$1")
	wait_for 30 "ampsd ($1) did not create $_sock" test -S "$_sock"
}
# stop_ampsd PID: SIGTERM, at most 60 s to exit, with status 0.
stop_ampsd() {
	kill -TERM "$1" || fail "ampsd (pid $1) was not running"
	wait_for 60 "ampsd (pid $1) did not exit within 60 s of SIGTERM" \
	    exited "$1"
	wait "$1" || fail "ampsd (pid $1) exited with status $? on SIGTERM"
	PIDS=$(echo " $PIDS " | sed "s/ $1 / /")
}
# purged: every package is gone from dpkg's database.
purged() {
	for p in $PKGS; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || :)
		case $st in
		""|"unknown ok not-installed"|"purge ok not-installed") ok ;;
		*) fail "$p after purge: $st" ;;
		esac
	done
}
# Removal order: what depends on libampsipc0 first.
RMPKGS="python3-amps ampsim libampsipc-dev ampsd libampsipc0"
ST=/var/lib/ampsd
PKGS="libampsipc0 libampsipc-dev ampsd ampsim python3-amps"
PYDIR=/usr/lib/python3/dist-packages/AMPS
# Debian's python3, the one python3-amps is for (not one earlier on PATH,
# such as pyenv's).
PY=/usr/bin/python3
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
V1=$(dpkg-deb -f v1/ampsd_*.deb Version)
CONF=/etc/ampsd/ampsd.conf
# The man-db trigger would index every page of the host: not needed here.
rm -f /var/lib/man-db/auto-update

# --- 1. install -------------------------------------------------------------
dpkg -i v1/*.deb >install.log 2>&1 </dev/null || fail "dpkg -i (v1)"
for p in $PKGS; do
	[ "$(status_of "$p")" = "install ok installed $V1" ] ||
	    fail "$p: $(status_of "$p")"
	ok
done
for f in /usr/sbin/ampsd /usr/bin/ampsctl /usr/bin/ampsim; do
	check "$f is installed and executable" test -x "$f"
done
for f in /lib/systemd/system/ampsd.service /lib/systemd/system/ampsd.socket \
    /usr/lib/sysusers.d/ampsd.conf /usr/lib/tmpfiles.d/ampsd.conf \
    "$CONF" /etc/logrotate.d/ampsd \
    /usr/share/man/man8/ampsd.8.gz /usr/share/man/man5/ampsd.conf.5.gz \
    /usr/share/man/man1/ampsctl.1.gz /usr/share/man/man1/ampsim.1.gz \
    /usr/share/man/man3/libampsipc.3.gz \
    /usr/include/ampsipc.h /usr/include/ampsipc-format.h \
    "/usr/lib/$MA/pkgconfig/libampsipc.pc" \
    /usr/share/doc/libampsipc-dev/examples/publish.c \
    /usr/share/doc/libampsipc-dev/examples/subscribe.c \
    /usr/share/doc/ampsd/copyright /usr/share/doc/ampsd/README.Debian \
    "$PYDIR/__init__.py" /usr/share/doc/python3-amps/copyright \
    /usr/share/doc/python3-amps/examples/publisher.py; do
	check "$f is installed" test -f "$f"
done
# dh_python3: the extension carries its ABI tag; postinst byte-compiled.
set -- "$PYDIR"/_amps.cpython-*-"$MA".so
if [ "$#" != 1 ] || [ ! -f "$1" ]; then
	fail "no tagged _amps extension: $(ls "$PYDIR")"
fi
PYEXT=$1
ok
check "AMPS byte-compiled by postinst" test -n "$(find "$PYDIR/__pycache__" \
    -name '__init__.cpython-*.pyc' 2>/dev/null)"
check "libampsipc.so.0 in /usr/lib/$MA" test -f "/usr/lib/$MA/libampsipc.so.0"
check "libampsipc.so (dev link)" test -L "/usr/lib/$MA/libampsipc.so"
[ -z "$(dpkg -L $PKGS | grep '\.la$')" ] || fail "a libtool archive: \
$(dpkg -L $PKGS | grep '\.la$')"
ok
[ -z "$(dpkg -L libampsipc0 libampsipc-dev | grep '^/usr/lib/lib')" ] ||
    fail "a library outside the multiarch directory"
ok
conffiles=$(dpkg-query -W -f='${Conffiles}' ampsd)
for f in "$CONF" /etc/logrotate.d/ampsd; do
	echo "$conffiles" | grep -q "^ $f " || fail "$f is not a conffile"
	ok
done
# Hardening of what was built with dpkg-buildflags (hardening=+all).
for b in /usr/sbin/ampsd /usr/bin/ampsctl /usr/bin/ampsim \
    "/usr/lib/$MA/libampsipc.so.0" "$PYEXT"; do
	readelf -lW "$b" | grep -q GNU_RELRO || fail "$b: no RELRO"
	readelf -dW "$b" | grep -q 'FLAGS.*BIND_NOW\|FLAGS_1.*NOW' ||
	    fail "$b: no BIND_NOW"
	ok
done
readelf --dyn-syms -W /usr/sbin/ampsd | grep -q __stack_chk_fail ||
    fail "ampsd: no stack protector"
readelf --dyn-syms -W /usr/sbin/ampsd | grep -q '__[a-z]*_chk' ||
    fail "ampsd: no fortified functions"
ok
# The maintainer scripts ran: sysusers, tmpfiles, units left disabled.
check "user ampsd (sysusers.d)" getent passwd ampsd
check "group ampsd (sysusers.d)" getent group ampsd
[ "$(stat -c '%U %G %a' /var/lib/ampsd)" = "ampsd ampsd 700" ] ||
    fail "/var/lib/ampsd: $(stat -c '%U %G %a' /var/lib/ampsd 2>&1)"
ok
check "/run/ampsd (tmpfiles.d)" test -d /run/ampsd
for u in multi-user.target.wants/ampsd.service \
    sockets.target.wants/ampsd.socket; do
	[ ! -e "/etc/systemd/system/$u" ] || fail "$u is enabled"
	ok
done
out=$(ampsd -t -c "$CONF" 2>&1) || fail "ampsd -t: $out"
[ "$out" = "configuration OK" ] || fail "ampsd -t: $out"
ok
[ "$(ampsd --version)" = "ampsd ${V1%%-*}" ] || fail "ampsd --version"
ok
[ "$(ampsctl --version)" = "ampsctl ${V1%%-*}" ] || fail "ampsctl --version"
ok
# libampsipc-dev: the example builds with pkg-config.
# shellcheck disable=SC2046
cc -Wall -Werror -o /tmp/pkgtest/publish \
    /usr/share/doc/libampsipc-dev/examples/publish.c \
    $(pkg-config --cflags --libs libampsipc) >cc.log 2>&1 ||
    fail "examples/publish.c does not build with pkg-config"
ok

# End to end with the installed programs: ampsim, ampsd as user ampsd,
# the example publisher, ampsctl ping and sow.
E=/tmp/pkgtest/e2e
mkdir -p "$E/state"
ampsim -p 0 --port-file "$E/sim.port" >ampsim.log 2>&1 &
PIDS="$PIDS $!"
wait_for 30 "ampsim did not start" test -s "$E/sim.port"
cat >"$E/ampsd.conf" <<EOF
socket "$E/ampsd.sock" mode 0666;
state-directory "$E/state";
log stderr;
connection "main" {
	client-name "pkgtest";
	server "tcp://127.0.0.1:$(head -n 1 "$E/sim.port")/amps/json";
}
EOF
chown -R ampsd:ampsd "$E"
setpriv --reuid ampsd --regid ampsd --init-groups \
    ampsd -f -c "$E/ampsd.conf" >ampsd.log 2>&1 &
PIDS="$PIDS $!"
wait_for 30 "ampsd did not start" test -S "$E/ampsd.sock"
wait_for 30 "ampsctl ping: the connection did not come up" \
    ampsctl ping -socket "$E/ampsd.sock"
ampsctl ping -socket "$E/ampsd.sock" >ping.out 2>&1 || fail "ping"
grep -q "^main: connected tcp://127.0.0.1:" ping.out ||
    fail "ping output: $(cat ping.out)"
ok
out=$(AMPSD_SOCKET=$E/ampsd.sock /tmp/pkgtest/publish orders 3 2>&1) ||
    fail "publish example: $out"
[ "$out" = "published 3 to orders: 3 stored, 3 persisted, 0 failed" ] ||
    fail "publish example printed: $out"
ok
n=$(ampsctl sow -topic orders -socket "$E/ampsd.sock" | wc -l)
[ "$n" = 3 ] || fail "sow returned $n records"
ok

# python3-amps: what it depends on, then the installed module (not one
# from a build tree) through the installed ampsd.
deps=$(dpkg-query -W -f='${Depends}' python3-amps)
for d in "libampsipc0 (>= " "python3 (>= 3" "python3 (<< 3"; do
	case $deps in *"$d"*) ok ;;
	*) fail "python3-amps Depends lacks \"$d\": $deps" ;; esac
done
cat >"$E/py-e2e.py" <<'EOF_PY'
import os
import sys
import threading

import AMPS

sock, pydir, libdir = sys.argv[1:4]
if os.path.dirname(os.path.realpath(AMPS.__file__)) != pydir:
    sys.exit("AMPS from %s, not %s" % (AMPS.__file__, pydir))
with open("/proc/self/maps") as f:
    libs = {ln.split()[-1] for ln in f if "libampsipc.so" in ln}
if len(libs) != 1 or os.path.dirname(libs.pop()) != libdir:
    sys.exit("libampsipc loaded from %s, not %s" % (libs, libdir))

got = []
done = threading.Event()


def on_message(m):
    if m.get_command() == AMPS.Message.Command.Publish:
        got.append(m.get_data())
        if len(got) == 2:
            done.set()


c = AMPS.Client("pkgtest-py")
c.connect("ampsd://" + sock)
c.logon()
sub = c.subscribe(on_message, "orders", "/id > 100 AND /qty > 100")
for i, q in enumerate((50, 150, 200)):
    c.publish("orders", '{"id":%d,"qty":%d}' % (101 + i, q))
c.publish_flush(30000)
if not done.wait(30):
    sys.exit("the subscriber got %d of 2 messages in 30 s: %r" %
             (len(got), got))
want = ['{"id":102,"qty":150}', '{"id":103,"qty":200}']
if got != want:
    sys.exit("the subscriber got %r, not %r" % (got, want))
c.unsubscribe(sub)
sow = [m.get_data() for m in c.sow("orders", "/id > 100").timeout(30000)
       if m.get_command() == AMPS.Message.Command.SOW]
c.close()
if len(sow) != 3:
    sys.exit("sow returned %r" % sow)
print("python: 3 published, 2 matched the filter, 3 in the SOW")
EOF_PY
out=$(timeout -k 5 120 "$PY" -c 'import AMPS' 2>&1) ||
    fail "$PY -c 'import AMPS': $out"
ok
out=$(cd / && timeout -k 5 120 "$PY" "$E/py-e2e.py" "$E/ampsd.sock" \
    "$PYDIR" "/usr/lib/$MA" 2>&1) || fail "python publish/subscribe: $out"
[ "$out" = "python: 3 published, 2 matched the filter, 3 in the SOW" ] ||
    fail "python publish/subscribe printed: $out"
ok
cleanup
PIDS=

# --- 2. upgrades keep the edited conffile -----------------------------------
# repack VERSION DIR [changed]: v1 with another version (and a changed
# ampsd.conf), into DIR.
repack() {
	mkdir -p "$2"
	for d in v1/*.deb; do
		rm -rf x
		dpkg-deb -R "$d" x
		sed -i -e "s/^Version: .*/Version: $1/" \
		    -e "s/(= $V1)/(= $1)/g" x/DEBIAN/control
		if [ "${3:-}" = changed ] && [ -f "x$CONF" ]; then
			echo "# changed in $1" >>"x$CONF"
			(cd x && find . -type f ! -path './DEBIAN/*' \
			    -printf '%P\0' | xargs -0 md5sum >DEBIAN/md5sums)
		fi
		dpkg-deb -b x "$2/$(basename "$d" | sed "s/_${V1}_/_${1}_/")" \
		    >/dev/null
	done
	rm -rf x
}
V2=$V1+pkgtest1
V3=$V1+pkgtest2
repack "$V2" v2
repack "$V3" v3 changed
echo "# edited by the administrator" >>"$CONF"
cp "$CONF" edited.conf

# The publish store the rest of the test keeps: ampsd, as installed,
# stores 2 messages while its server is down (port 9 of the loopback,
# where nothing listens), so AMPS never got them.
K=/tmp/pkgtest/kept
mkdir -p "$K"
cat >"$K/ampsd.conf" <<EOF
socket "$K/ampsd.sock" mode 0666;
log stderr;
shutdown-timeout 0s;
connection "main" {
	client-name "pkgtest-kept";
	server "tcp://127.0.0.1:9/amps/json";
}
EOF
chown -R ampsd:ampsd "$K"
start_ampsd "$K/ampsd.conf" kept-ampsd.log
printf '{"id":201,"kept":1}\n{"id":202,"kept":2}\n' | timeout -k 5 60 \
    ampsctl publish -topic orders -socket "$K/ampsd.sock" >kept-pub.log 2>&1 ||
    fail "ampsctl publish (stored while the server is down)"
ok
stop_ampsd "$AP"
out=$(ampsd --count-unpersisted "$ST" 2>&1) &&
    fail "--count-unpersisted exited 0: $out"
[ "$out" = "$ST/pub-main.db: 2 unpersisted message(s)" ] ||
    fail "--count-unpersisted printed: $out"
ok
KEPT=$(cksum "$ST/pub-main.db")

dpkg -i v2/*.deb >upgrade2.log 2>&1 </dev/null || fail "dpkg -i (v2)"
[ "$(status_of ampsd)" = "install ok installed $V2" ] ||
    fail "ampsd after the upgrade: $(status_of ampsd)"
ok
check "the edited conffile is kept (v2)" cmp -s "$CONF" edited.conf
for s in dpkg-dist dpkg-new dpkg-old; do
	[ ! -e "$CONF.$s" ] || fail "an unchanged conffile left $CONF.$s"
	ok
done
[ "$(cksum "$ST/pub-main.db")" = "$KEPT" ] ||
    fail "the store changed in the upgrade"
ok

dpkg --force-confold -i v3/*.deb >upgrade3.log 2>&1 </dev/null ||
    fail "dpkg -i (v3)"
[ "$(status_of ampsd)" = "install ok installed $V3" ] ||
    fail "ampsd after the second upgrade: $(status_of ampsd)"
ok
check "the edited conffile is kept (v3, --force-confold)" \
    cmp -s "$CONF" edited.conf
grep -qx "# changed in $V3" "$CONF.dpkg-dist" ||
    fail "the new conffile is not in $CONF.dpkg-dist"
ok

# --- 3. remove; purge keeps unsent messages ---------------------------------
# shellcheck disable=SC2086
dpkg -r $RMPKGS >remove.log 2>&1 </dev/null || fail "dpkg -r"
[ "$(dpkg-query -W -f='${Status}' ampsd)" = "deinstall ok config-files" ] ||
    fail "ampsd after remove: $(dpkg-query -W -f='${Status}' ampsd)"
ok
for f in /usr/sbin/ampsd /usr/bin/ampsctl /usr/bin/ampsim \
    "/usr/lib/$MA/libampsipc.so.0" /usr/include/ampsipc.h "$PYDIR"; do
	[ ! -e "$f" ] || fail "remove left $f"
	ok
done
check "remove keeps the configuration" cmp -s "$CONF" edited.conf
[ "$(cksum "$ST/pub-main.db")" = "$KEPT" ] || fail "remove changed the store"
ok
check "prerm counted the store" grep -qxF \
    "$ST/pub-main.db: 2 unpersisted message(s)" "$ST/.count-unpersisted"

# shellcheck disable=SC2086
dpkg -P $RMPKGS >purge.log 2>&1 </dev/null || fail "dpkg -P"
purged
for f in /etc/ampsd /etc/logrotate.d/ampsd; do
	[ ! -e "$f" ] || fail "purge left $f"
	ok
done
[ "$(cksum "$ST/pub-main.db" 2>&1)" = "$KEPT" ] ||
    fail "purge deleted or changed the store holding unsent messages"
ok
for l in "ampsd: $ST is NOT removed: it may hold messages AMPS has not persisted yet." \
    "  $ST/pub-main.db: 2 unpersisted message(s)" \
    "ampsd: To throw the messages away: rm -rf $ST"; do
	grep -qxF "$l" purge.log || fail "purge did not say: $l"
	ok
done

# --- 4. what the message says sends them; then purge deletes the state ------
dpkg -i v1/*.deb >reinstall.log 2>&1 </dev/null ||
    fail "dpkg -i (after the purge)"
[ "$(cksum "$ST/pub-main.db")" = "$KEPT" ] ||
    fail "the reinstallation changed the kept store"
ok
ampsim -p 0 --port-file "$K/sim.port" >ampsim-kept.log 2>&1 &
PIDS="$PIDS $!"
wait_for 30 "ampsim did not start" test -s "$K/sim.port"
sed -i -e "s|tcp://127.0.0.1:9/|tcp://127.0.0.1:$(head -n 1 "$K/sim.port")/|" \
    -e 's/shutdown-timeout 0s/shutdown-timeout 30s/' "$K/ampsd.conf"
start_ampsd "$K/ampsd.conf" sent-ampsd.log
# sow_is N: ampsim's SOW of "orders" holds N of the kept messages.
sow_is() {
	[ "$(ampsctl sow -topic orders -filter '/id > 200' \
	    -socket "$K/ampsd.sock" 2>/dev/null | wc -l)" = "$1" ]
}
wait_for 30 "the 2 kept messages did not reach ampsim" sow_is 2
wait_for 30 "ampsim did not persist the 2 kept messages" sh -c \
    "ampsctl status -raw -socket '$K/ampsd.sock' |
    grep -q '^conn name=main .* unpersisted=0 '"
stop_ampsd "$AP"
out=$(ampsd --count-unpersisted "$ST" 2>&1) ||
    fail "--count-unpersisted after sending: $out"
[ "$out" = "$ST/pub-main.db: 0 unpersisted message(s)" ] ||
    fail "--count-unpersisted after sending printed: $out"
ok
# shellcheck disable=SC2086
dpkg -P $RMPKGS >purge2.log 2>&1 </dev/null || fail "dpkg -P (empty store)"
purged
[ ! -e "$ST" ] || fail "purge kept $ST with every message persisted: \
$(cat purge2.log)"
ok

# --- 5. purge while an ampsd runs on the directory keeps it ------------------
dpkg -i v1/*.deb >reinstall2.log 2>&1 </dev/null ||
    fail "dpkg -i (after the second purge)"
start_ampsd "$K/ampsd.conf" running-ampsd.log
wait_for 30 "ampsd did not connect to ampsim" \
    ampsctl ping -socket "$K/ampsd.sock"
# shellcheck disable=SC2086
dpkg -P $RMPKGS >purge3.log 2>&1 </dev/null || fail "dpkg -P (ampsd runs)"
purged
check "purge keeps the store an ampsd has open" test -f "$ST/pub-main.db"
for l in "ampsd: $ST is NOT removed:" \
    "  $ST/pub-main.db: cannot tell (a -wal file is next to it: an ampsd has it open, or was stopped without closing it)" \
    "ampsd: To throw the messages away: rm -rf $ST"; do
	grep -qF "$l" purge3.log || fail "purge did not say: $l"
	ok
done
stop_ampsd "$AP"
rm -rf "$ST"

for f in /etc/ampsd /etc/logrotate.d/ampsd "$PYDIR"; do
	[ ! -e "$f" ] || fail "purge left $f"
	ok
done
left=$(for d in v1/*.deb; do
	dpkg-deb -c "$d" | awk '$1 !~ /^d/ { print substr($6, 2) }'
done | while read -r f; do
	[ ! -e "$f" ] && [ ! -L "$f" ] || echo "$f"
done)
[ -z "$left" ] || fail "purge left: $left"
ok
echo "deb: $N passed, 0 failed"
