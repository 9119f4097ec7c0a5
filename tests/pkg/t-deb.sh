#!/bin/sh
# t-deb.sh DIR: the Debian packages that ./bootstrap deb left in DIR,
# installed, upgraded, removed and purged with dpkg, maintainer scripts
# included, in a throwaway root: an overlay of / (the host's root stays
# untouched) in private mount and PID namespaces, entered with chroot.
#
#  1. install ampsd, libampsipc0, libampsipc-dev, ampsim: the files, the
#     conffiles, no libtool archive, a multiarch library, hardened
#     binaries (RELRO, BIND_NOW, stack protector, FORTIFY); what the
#     maintainer scripts did (the "ampsd" user and group, /var/lib/ampsd
#     owned by it, the units not enabled); ampsd -t accepts the shipped
#     configuration; a libampsipc example builds with pkg-config; the
#     installed ampsim and ampsd (as user ampsd) carry a publish end to
#     end, and ampsctl ping reports the connection;
#  2. an edited /etc/ampsd/ampsd.conf survives an upgrade to a newer
#     version with the same conffile (no prompt, no .dpkg-dist) and one
#     whose conffile changed (--force-confold: kept, the new one beside
#     it as .dpkg-dist); the stores survive both;
#  3. remove keeps the configuration and the stores; purge leaves none
#     of the packages' files, no /etc/ampsd and no /var/lib/ampsd.
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
	for p in libampsipc0 libampsipc-dev ampsd ampsim; do
		set -- "$dir/${p}_"*.deb
		[ -f "$1" ] || { echo "FAIL: no ${p}_*.deb in $dir"; exit 1; }
		cp "$1" "$M/tmp/pkgtest/v1/"
	done
	cp "$0" "$M/tmp/pkgtest/t-deb.sh"
	exec chroot "$M" sh /tmp/pkgtest/t-deb.sh --chroot
fi

# ---- in the chroot ---------------------------------------------------------
cd /tmp/pkgtest
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
PKGS="libampsipc0 libampsipc-dev ampsd ampsim"
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
    /usr/share/doc/ampsd/copyright /usr/share/doc/ampsd/README.Debian; do
	check "$f is installed" test -f "$f"
done
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
    "/usr/lib/$MA/libampsipc.so.0"; do
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
echo keep >/var/lib/ampsd/store-survives

dpkg -i v2/*.deb >upgrade2.log 2>&1 </dev/null || fail "dpkg -i (v2)"
[ "$(status_of ampsd)" = "install ok installed $V2" ] ||
    fail "ampsd after the upgrade: $(status_of ampsd)"
ok
check "the edited conffile is kept (v2)" cmp -s "$CONF" edited.conf
for s in dpkg-dist dpkg-new dpkg-old; do
	[ ! -e "$CONF.$s" ] || fail "an unchanged conffile left $CONF.$s"
	ok
done
check "the stores survive the upgrade" test -f /var/lib/ampsd/store-survives

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

# --- 3. remove, then purge ---------------------------------------------------
dpkg -r ampsim libampsipc-dev ampsd libampsipc0 >remove.log 2>&1 \
    </dev/null || fail "dpkg -r"
[ "$(dpkg-query -W -f='${Status}' ampsd)" = "deinstall ok config-files" ] ||
    fail "ampsd after remove: $(dpkg-query -W -f='${Status}' ampsd)"
ok
for f in /usr/sbin/ampsd /usr/bin/ampsctl /usr/bin/ampsim \
    "/usr/lib/$MA/libampsipc.so.0" /usr/include/ampsipc.h; do
	[ ! -e "$f" ] || fail "remove left $f"
	ok
done
check "remove keeps the configuration" cmp -s "$CONF" edited.conf
check "remove keeps the stores" test -f /var/lib/ampsd/store-survives

dpkg -P ampsim libampsipc-dev ampsd libampsipc0 >purge.log 2>&1 \
    </dev/null || fail "dpkg -P"
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || :)
	case $st in
	""|"unknown ok not-installed"|"purge ok not-installed") ok ;;
	*) fail "$p after purge: $st" ;;
	esac
done
for f in /etc/ampsd /etc/logrotate.d/ampsd /var/lib/ampsd; do
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
