#!/bin/bash
# "make install DESTDIR=..." from the build directory gives the promised
# layout (daemon, tools, library, header, pkg-config file, configuration,
# systemd units and snippets, man pages); a second install keeps an
# edited configuration and puts the example beside it as .sample; the
# installed configuration passes ampsd -t and (as root) starts the
# installed daemon as the user of the installed sysusers.d snippet; the
# installed examples (examples/*.c) build against the DESTDIR install
# with pkg-config; every man page renders without warnings; uninstall
# leaves only the edited configuration behind (and nothing at all after
# an unedited install).
set -u

. "$(dirname "$0")/../dirs.sh"
OK=0

T=$(mktemp -d "${TMPDIR:-/tmp}/ampsd-install.XXXXXX")
cleanup() {
	if [ "$OK" = 1 ]; then
		rm -rf "$T"
	else
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "---- $f (tail)"
			tail -n 25 "$f"
		done
		echo "files kept in $T"
	fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

# Run make in the build directory, outside the make that runs this test
# (its MAKEFLAGS would carry TESTS= and jobserver descriptors along).
bmake() {
	(cd "$B" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	    make "$@")
}

# The configured installation directories, as make sees them.
dirs=$(
    cd "$B" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -f - \
    _t_install_dirs <<'EOF'
include Makefile
_t_install_dirs:
	@echo "prefix='$(prefix)'"
	@echo "bindir='$(bindir)'"
	@echo "sbindir='$(sbindir)'"
	@echo "libdir='$(libdir)'"
	@echo "includedir='$(includedir)'"
	@echo "sysconfdir='$(sysconfdir)'"
	@echo "mandir='$(mandir)'"
	@echo "docdir='$(docdir)'"
	@echo "unitdir='$(systemdsystemunitdir)'"
	@echo "tmpfilesdir='$(tmpfilesdir)'"
	@echo "sysusersdir='$(sysusersdir)'"
EOF
) || fail "cannot read the installation directories from $B/Makefile"
eval "$dirs"
[ -n "${sbindir:-}" ] && [ -n "${unitdir:-}" ] || fail "directories: $dirs"

# install_to DIR: make install into DESTDIR=DIR (log in $T/install.log).
install_to() {
	bmake install DESTDIR="$1" >>"$T/install.log" 2>&1 ||
	    fail "make install DESTDIR=$1 failed"
}

# uninstall_from DIR
uninstall_from() {
	bmake uninstall DESTDIR="$1" >>"$T/install.log" 2>&1 ||
	    fail "make uninstall DESTDIR=$1 failed"
}

# --- first install: the layout ------------------------------------------
D=$T/d1
install_to "$D"
for f in \
    "$sbindir/ampsd" \
    "$bindir/ampsctl" \
    "$bindir/ampsim"; do
	[ -f "$D$f" ] && [ -x "$D$f" ] || fail "missing program $f"
done
for f in \
    "$includedir/ampsipc.h" \
    "$libdir/pkgconfig/libampsipc.pc" \
    "$sysconfdir/ampsd/ampsd.conf" \
    "$unitdir/ampsd.service" \
    "$unitdir/ampsd.socket" \
    "$tmpfilesdir/ampsd.conf" \
    "$sysusersdir/ampsd.conf" \
    "$mandir/man8/ampsd.8" \
    "$mandir/man5/ampsd.conf.5" \
    "$mandir/man1/ampsctl.1" \
    "$mandir/man3/libampsipc.3" \
    "$mandir/man1/ampsim.1" \
    "$docdir/examples/publish.c" \
    "$docdir/examples/subscribe.c"; do
	[ -f "$D$f" ] || fail "missing $f"
done
ls "$D$libdir"/libampsipc.so.0* >/dev/null 2>&1 ||
    fail "missing $libdir/libampsipc.so.0*"
[ -L "$D$libdir/libampsipc.so" ] || fail "missing $libdir/libampsipc.so"
[ ! -e "$D$includedir/ampsipc-wire.h" ] || fail "the wire header is installed"
cmp -s "$S/conf/ampsd.conf" "$D$sysconfdir/ampsd/ampsd.conf" ||
    fail "installed ampsd.conf differs from conf/ampsd.conf"
[ ! -e "$D$sysconfdir/ampsd/ampsd.conf.sample" ] ||
    fail "a .sample on a first install"
grep -qx "ExecStart=$sbindir/ampsd -f -c $sysconfdir/ampsd/ampsd.conf" \
    "$D$unitdir/ampsd.service" || fail "ExecStart does not match the layout"

# --- the installed configuration starts the daemon as the units run it --
conf=$D$sysconfdir/ampsd/ampsd.conf
# ampsd -t looks up the socket group and the allow rules' group, "ampsd",
# which the sysusers.d snippet creates: without it, exactly those two
# errors (file:line).
out=$("$D$sbindir/ampsd" -t -c "$conf" 2>&1)
if getent group ampsd >/dev/null; then
	[ "$out" = "configuration OK" ] || fail "ampsd -t printed: $out"
else
	l1=$(grep -n '^socket .* group "ampsd"' "$conf" | cut -d: -f1)
	l2=$(grep -n '^[[:space:]]*allow all group "ampsd"' "$conf" | cut -d: -f1)
	want="$conf:$l1: no such group \"ampsd\" (socket group)
$conf:$l2: no such group \"ampsd\""
	[ "$out" = "$want" ] || fail "ampsd -t without group ampsd printed: $out"
fi
# Start the installed daemon with
# the installed configuration as the user of the installed sysusers.d
# snippet, with /etc/passwd and /etc/group as that snippet makes them,
# in private mount and network namespaces (the configured AMPS servers
# stay unreachable: that is fine).  Root and unshare(1) only.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    command -v systemd-sysusers >/dev/null &&
    unshare -m -n true 2>/dev/null; then
	R=$T/root
	mkdir -p "$R/etc"
	systemd-sysusers --root="$R" "$D$sysusersdir/ampsd.conf" ||
	    fail "systemd-sysusers on the installed snippet"
	user=$(sed -n 's/^User=//p' "$D$unitdir/ampsd.service")
	sock=$(sed -n 's/^socket "\([^"]*\)".*/\1/p' "$conf")
	state=$(sed -n 's/^state-directory "\([^"]*\)".*/\1/p' "$conf")
	[ -n "$user" ] && [ -n "$sock" ] && [ -n "$state" ] ||
	    fail "user/socket/state-directory: '$user' '$sock' '$state'"
	chmod 711 "$T"		# the daemon's user reaches the DESTDIR
	# shellcheck disable=SC2016
	unshare -m -n --propagation private bash -c '
	    set -eu
	    R=$1 user=$2 sock=$3 state=$4 ampsd=$5 conf=$6 ctl=$7 log=$8
	    mount --bind "$R/etc/passwd" /etc/passwd
	    mount --bind "$R/etc/group" /etc/group
	    for d in "$(dirname "$sock")" "$state"; do
		mount -t tmpfs -o mode=0755 tmpfs "$(dirname "$d")"
		install -d -o "$user" -g "$user" -m 0700 "$d"
	    done
	    chmod 0755 "$(dirname "$sock")"
	    "$ampsd" -t -c "$conf"
	    setpriv --reuid "$user" --regid "$user" --init-groups 		"$ampsd" -f -c "$conf" 2>"$log" &
	    pid=$!
	    for i in $(seq 100); do
		[ -S "$sock" ] && break
		kill -0 $pid 2>/dev/null || { echo "ampsd exited"; exit 1; }
		sleep 0.1
	    done
	    group=$(stat -c %G "$sock")
	    [ "$group" = "$user" ] || { echo "socket group $group"; exit 1; }
	    AMPSD_SOCKET=$sock "$ctl" ping -daemon	# the servers are away
	    kill $pid
	    for i in $(seq 300); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	    done
	    kill -0 $pid 2>/dev/null &&
		{ echo "ampsd did not stop within 30 s of SIGTERM"; exit 1; }
	    wait $pid
	' start "$R" "$user" "$sock" "$state" "$D$sbindir/ampsd" "$conf" \
	    "$B/ampsctl/ampsctl" "$T/start.log" >"$T/start.out" 2>&1 ||
	    fail "the installed daemon did not start as $user with the" \
		"installed configuration: $(cat "$T/start.out")"
	grep -q ': alive$' "$T/start.out" || fail "ping: $(cat "$T/start.out")"
	echo "started as $user with the installed configuration: ok"
else
	echo "note: not root or no unshare: the start as ampsd is not checked"
fi

# Only ampsipc_* symbols are exported.
if command -v nm >/dev/null; then
	bad=$(nm -D --defined-only "$D$libdir"/libampsipc.so.0 |
	    awk '$2 ~ /^[TDBRV]$/ && $3 !~ /^ampsipc_/ { print $3 }')
	[ -z "$bad" ] || fail "libampsipc exports non-ampsipc_ symbols: $bad"
fi

# --- second install over an edited configuration -------------------------
conf=$D$sysconfdir/ampsd/ampsd.conf
echo "# edited by t-install" >>"$conf"
cp "$conf" "$T/edited.conf"
install_to "$D"
cmp -s "$conf" "$T/edited.conf" || fail "install overwrote an edited ampsd.conf"
cmp -s "$S/conf/ampsd.conf" "$conf.sample" ||
    fail "the example was not installed as ampsd.conf.sample"

# --- the installed examples build against the DESTDIR install ---------
# (examples/*.c, with the compile line of the README and docs/INSTALL.md)
export PKG_CONFIG_LIBDIR="$D$libdir/pkgconfig"
export PKG_CONFIG_PATH=
export PKG_CONFIG_SYSROOT_DIR="$D"
flags=$(pkg-config --cflags --libs libampsipc) || fail "pkg-config libampsipc"
case $flags in *"-I$D$includedir"*"-L$D$libdir"*) ;;
*) fail "pkg-config flags do not point into DESTDIR: $flags" ;; esac
unset PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
# An --enable-asan library needs the sanitizer runtimes: AMPSD_SAN_FLAGS
# (AM_TESTS_ENVIRONMENT) builds the examples the same way.
for prog in publish subscribe; do
	# shellcheck disable=SC2086
	${CC:-cc} -Wall -Wextra -Werror ${AMPSD_SAN_FLAGS:-} -o "$T/$prog" \
	    "$D$docdir/examples/$prog.c" $flags >"$T/cc.log" 2>&1 ||
	    fail "examples/$prog.c does not build: $(cat "$T/cc.log")"
	# No daemon listens there: each fails cleanly, with its message.
	LD_LIBRARY_PATH="$D$libdir" AMPSD_SOCKET="$T/no-daemon.sock" \
	    "$T/$prog" orders >"$T/out" 2>&1 &&
	    fail "$prog succeeded without a daemon"
	grep -q "^$prog: .*No such file" "$T/out" ||
	    fail "$prog without a daemon printed: $(cat "$T/out")"
done

# The EXAMPLES program of libampsipc(3) builds and links the same way.
LC_ALL=C MANWIDTH=200 man -l "$D$mandir/man3/libampsipc.3" 2>/dev/null |
    awk '/^ *#include <stdio.h>/ { on = 1; ind = match($0, /[^ ]/) - 1 }
	on { print substr($0, ind + 1) }
	on && substr($0, ind + 1) == "}" { exit }' >"$T/example.c"
grep -q 'ampsipc_wait_stored' "$T/example.c" ||
    fail "no example program found in libampsipc(3)"
# shellcheck disable=SC2086
${CC:-cc} -Wall -Werror ${AMPSD_SAN_FLAGS:-} -o "$T/example" \
    "$T/example.c" $flags >"$T/cc.log" 2>&1 ||
    fail "the libampsipc(3) example does not build: $(cat "$T/cc.log")"

# --- man pages render without warnings ------------------------------------
for m in "$D$mandir"/man1/ampsctl.1 "$D$mandir"/man1/ampsim.1 \
    "$D$mandir"/man3/libampsipc.3 \
    "$D$mandir"/man5/ampsd.conf.5 "$D$mandir"/man8/ampsd.8; do
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
	[ -z "$out" ] || fail "man -l ${m##*/}: $out"
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$m" 2>/dev/null | wc -l)
	[ "$out" -gt 20 ] || fail "man -l ${m##*/} rendered $out lines"
	out=$(groff -mandoc -ww -z "$m" 2>&1)
	[ -z "$out" ] || fail "groff ${m##*/}: $out"
	if command -v mandoc >/dev/null; then
		out=$(mandoc -T lint -W warning "$m" 2>&1)
		[ -z "$out" ] || fail "mandoc -T lint ${m##*/}: $out"
	fi
done

# --- uninstall: only the edited configuration stays ----------------------
uninstall_from "$D"
left=$(cd "$D" && find . \( -type f -o -type l \) | sort)
[ "$left" = ".$sysconfdir/ampsd/ampsd.conf" ] ||
    fail "uninstall left: $left"
cmp -s "$conf" "$T/edited.conf" || fail "uninstall changed the edited config"

# --- an unedited install uninstalls completely ----------------------------
D=$T/d2
install_to "$D"
uninstall_from "$D"
left=$(cd "$D" && find . \( -type f -o -type l \) | sort)
[ -z "$left" ] || fail "uninstall of an unedited install left: $left"

OK=1
echo "PASS: $(basename "$0")"
