#!/bin/bash
# The generated systemd units pass "systemd-analyze verify" without a
# single message (man pages in Documentation= included), "systemd-analyze
# security --offline=yes" rates ampsd.service at an exposure of 3.0 or
# less, and the sysusers.d/tmpfiles.d snippets create the user and the
# directories in a scratch root (when run as root).  Skips (77) only when
# systemd-analyze is not installed.
#
# ExecStart names $(sbindir)/ampsd, which is not installed during make
# check, so the copy given to verify points at the built daemon instead;
# nothing else in the units is changed.
set -u

. "$(dirname "$0")/../dirs.sh"
MAX_EXPOSURE=3.0
OK=0

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not installed (apt-get install systemd)"
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/ampsd-systemd.XXXXXX")
cleanup() {
	if [ "$OK" = 1 ]; then
		rm -rf "$T"
	else
		echo "files kept in $T"
	fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

for f in systemd/ampsd.service systemd/ampsd.socket \
    systemd/tmpfiles.d/ampsd.conf systemd/sysusers.d/ampsd.conf; do
	[ -s "$B/$f" ] || fail "$B/$f not generated (make all first)"
	if grep -n '@[A-Za-z_]*@' "$B/$f"; then
		fail "$f: placeholder left unsubstituted"
	fi
done
[ -x "$B/daemon/ampsd" ] || fail "$B/daemon/ampsd not built"

# --- the service runs the daemon in the foreground with the config ----
exec_line=$(sed -n 's/^ExecStart=//p' "$B/systemd/ampsd.service")
set -- $exec_line
case $1 in
/*/ampsd) ;;
*) fail "ExecStart does not name an absolute ampsd: $exec_line" ;;
esac
case " $* " in *" -f "*) ;; *) fail "ExecStart lacks -f: $exec_line" ;; esac
case " $* " in *" -c /"*) ;; *) fail "ExecStart lacks -c FILE: $exec_line" ;; esac
grep -qx 'Type=notify' "$B/systemd/ampsd.service" || fail "not Type=notify"
sock=$(sed -n 's/^ListenStream=//p' "$B/systemd/ampsd.socket")
case $sock in /*) ;; *) fail "ListenStream is not a path: $sock" ;; esac

# --- verify: no output at all, exit 0 -----------------------------------
mkdir -p "$T/units" "$T/man/man1" "$T/man/man3" "$T/man/man5" "$T/man/man8"
sed "s|^ExecStart=[^ ]*|ExecStart=$B/daemon/ampsd|" \
    "$B/systemd/ampsd.service" >"$T/units/ampsd.service"
cp "$B/systemd/ampsd.socket" "$T/units/ampsd.socket"
for m in "$S"/docs/man/*.[1-8]; do
	sec=${m##*.}
	ln -s "$m" "$T/man/man$sec/"
done
out=$(cd "$T/units" && MANPATH="$T/man" systemd-analyze verify \
    ampsd.socket ampsd.service 2>&1)
rc=$?
[ "$rc" = 0 ] && [ -z "$out" ] || fail "systemd-analyze verify (rc $rc): $out"
echo "verify: clean"

# --- security: parse the overall exposure and compare -------------------
out=$(systemd-analyze security --offline=yes "$T/units/ampsd.service" 2>&1)
echo "$out" | grep -v '^✓'
score=$(echo "$out" |
    sed -n 's/.*Overall exposure level for ampsd.service: \([0-9][0-9]*\.[0-9]\).*/\1/p')
[ -n "$score" ] || fail "no exposure level in systemd-analyze output"
awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' ||
    fail "exposure $score is above $MAX_EXPOSURE"
echo "security: exposure $score (limit $MAX_EXPOSURE)"

# --- sysusers/tmpfiles in a scratch root (they chown: root only) -------
if [ "$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null &&
    command -v systemd-tmpfiles >/dev/null; then
	R=$T/root
	mkdir -p "$R/etc"
	systemd-sysusers --root="$R" "$B/systemd/sysusers.d/ampsd.conf" ||
	    fail "systemd-sysusers"
	user=$(sed -n 's/^User=//p' "$B/systemd/ampsd.service")
	grep -q "^$user:" "$R/etc/passwd" || fail "sysusers made no $user user"
	grep -q "^$user:" "$R/etc/group" || fail "sysusers made no $user group"
	systemd-tmpfiles --root="$R" --create \
	    "$B/systemd/tmpfiles.d/ampsd.conf" || fail "systemd-tmpfiles"
	uid=$(sed -n "s/^$user:x:\([0-9]*\):.*/\1/p" "$R/etc/passwd")
	sockdir=$(dirname "$sock")
	for d in "$sockdir" /var/lib/ampsd; do
		[ -d "$R$d" ] || fail "tmpfiles did not create $d"
		[ "$(stat -c %u "$R$d")" = "$uid" ] || fail "$d not owned by $user"
	done
	[ "$(stat -c %a "$R/var/lib/ampsd")" = 700 ] || fail "state dir mode"
	echo "sysusers/tmpfiles: ok"
else
	echo "note: not root; sysusers/tmpfiles scratch-root check skipped"
fi

OK=1
echo "PASS: $(basename "$0")"
