#!/bin/bash
# shellcheck disable=SC2317 # functions called indirectly (wait_for)
# Security promises with real processes and real users (DESIGN.md §4
# promises 3, 4 and 6), beyond t-acl.sh and t-tls.sh:
#  1. the socket gets the configured mode and group; the kernel keeps
#     out users outside them;
#  2. allow rules per connection, per topic, by user and by group, as
#     the real users "nobody" and "daemon";
#  3. the per-uid connection cap refuses the surplus with LIMIT while
#     other users still connect;
#  4. malformed, oversized and flooding IPC clients are dropped with a
#     FATAL error while a publisher next to them loses nothing;
#  5. TLS: a wrong CA and an expired certificate are refused;
#  6. a configuration holding credentials, or a TLS key, readable by
#     others is refused.
# Needs root, setpriv and the users nobody and daemon (skipped otherwise).
# shellcheck source=tests/integ/lib.sh
. "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=tests/reliability/rel.sh
. "$(dirname "$0")/rel.sh"

IPCRAW=$B/tests/reliability/ipcraw
[ "$(id -u)" = 0 ] || skip "needs root"
command -v setpriv >/dev/null || skip "needs setpriv"
{ id nobody && id daemon; } >/dev/null 2>&1 ||
    skip "needs users nobody and daemon"
[ -x "$IPCRAW" ] || skip "$IPCRAW not built"
CHECKS=0

# The programs run as nobody and daemon: copies they can reach.
user_bin "$B/ampsctl/ampsctl" "$IPCRAW"
# pub USER CONN TOPIC ID: one publish with ampsctl, waiting for STORED.
pub() {
	as_user "$1" ampsctl publish -topic "$3" -data "{\"id\":$4}" -conn "$2" \
	    -socket "$T/run/ampsd.sock" -wait stored >>"$T/ctl.log" 2>&1
}
allowed() {
	pub "$@" || fail "refused: $* ($(tail -n 1 "$T/ctl.log"))"
	CHECKS=$((CHECKS + 1))
}
denied() {
	pub "$@" && fail "allowed: $*"
	grep -q -i 'not permitted' "$T/ctl.log" ||
	    fail "no NOT_PERMITTED for: $*"
	: >"$T/ctl.log"
	CHECKS=$((CHECKS + 1))
}

mkdir -m 755 "$T/run"
start_ampsim sim
secconf() {
	cat >"$T/ampsd.conf" <<EOC
socket "$T/run/ampsd.sock" mode $1 group "daemon";
state-directory "$T/state";
log stderr;
connection "main" {
	default;
	client-name "sec-main-$$";
	server "tcp://127.0.0.1:$SIMPORT/amps/json";
	allow publish user "nobody" topic "ok\\\\..*";
	allow publish group "daemon" topic "grp\\\\..*";
}
connection "other" {
	client-name "sec-other-$$";
	server "tcp://127.0.0.1:$SIMPORT/amps/json";
	allow publish user "daemon" topic ".*";
}
EOC
}

# 1. Socket mode and group; the kernel refuses others.
secconf 0660
rm -f "$T/run/ampsd.sock"
"$AMPSD" -f -v -c "$T/ampsd.conf" >>"$T/ampsd.log" 2>&1 &
AMPSD_PID=$!
PIDS="$PIDS $AMPSD_PID"
wait_for 30 test -S "$T/run/ampsd.sock" || fail "ampsd did not start"
[ "$(stat -c '%a %G' "$T/run/ampsd.sock")" = "660 daemon" ] ||
    fail "socket is $(stat -c '%a %G' "$T/run/ampsd.sock"), want 660 daemon"
allowed daemon main grp.x 1
pub nobody main ok.x 2 && fail "nobody connected through a 0660 socket"
grep -q -i 'permission denied' "$T/ctl.log" ||
    fail "no EACCES for nobody: $(tail -n 1 "$T/ctl.log")"
: >"$T/ctl.log"
CHECKS=$((CHECKS + 1))
stop_ampsd TERM

# 2. Allow rules per connection, topic, user and group.
secconf 0666
rm -f "$T/run/ampsd.sock"
"$AMPSD" -f -v -c "$T/ampsd.conf" >>"$T/ampsd.log" 2>&1 &
AMPSD_PID=$!
PIDS="$PIDS $AMPSD_PID"
wait_for 30 test -S "$T/run/ampsd.sock" || fail "ampsd did not restart"
[ "$(stat -c '%a' "$T/run/ampsd.sock")" = 666 ] || fail "mode not applied"
allowed nobody main ok.x 3
denied nobody main grp.x 4
denied nobody other ok.x 5
allowed daemon main grp.x 6
denied daemon main ok.x 7
allowed daemon other any.topic 8
printf '3\n' >"$T/want.ok"
printf '1\n6\n' >"$T/want.grp"
wait_for 30 ids_exactly "$T/want.ok" ok.x || fail "ok.x holds $(cat "$T/got")"
wait_for 30 ids_exactly "$T/want.grp" grp.x ||
    fail "grp.x holds $(cat "$T/got")"

# 3. Per-uid connection cap: nobody's surplus refused, others still in.
# The holder keeps its connections (120 s at most) until it is told to
# go, so "others still connect" is checked while nobody is at its cap.
as_user nobody ipcraw -S "$T/run/ampsd.sock" hold 70 120000 >"$T/hold.out" \
    2>&1 &
holder=$!
PIDS="$PIDS $holder"
wait_for 30 test -s "$T/hold.out" || fail "ipcraw hold did not report"
read -r hold <"$T/hold.out"
echo "per-uid cap: $hold"
case $hold in
*"refused=0 "*) fail "no connection refused: $hold" ;;
*" code=57") ;;
*) fail "refused without LIMIT (57): $hold" ;;
esac
log_has 30 "$T/ampsd.log" 'connection limit' || fail "cap not logged"
allowed daemon other cap.topic 9
kill -0 "$holder" || fail "the holder ended before the check of others"
kill -TERM "$holder"
wait_exit 30 "$holder" "ipcraw hold after SIGTERM"
# nobody is under its cap again once the daemon has seen the closes.
wait_for 30 pub nobody main ok.x 10 ||
    fail "nobody still refused after its connections closed"
CHECKS=$((CHECKS + 1))

# 4. Bad IPC input next to a publisher that must lose nothing.
: >"$T/stored"
run_pubtest -S "$T/run/ampsd.sock" -t stream -f 0 -n 20000 -s 100 -d 5000 \
    -o "$T/stored" -F -W 60000 &
pub=$!
PIDS="$PIDS $pub"
for kind in huge short junk nohello badflags reserved twohello \
    servertype trunc flood; do
	"$IPCRAW" -S "$T/run/ampsd.sock" bad "$kind" >"$T/bad.out" \
	    2>>"$T/ipcraw.log" || fail "ipcraw bad $kind"
	read -r verdict <"$T/bad.out"
	echo "$verdict" >>"$T/ipcraw.log"
	case $kind in
	trunc) want='closed=1' ;;
	flood) want='' ;;
	*) want='fatal=1 closed=1' ;;
	esac
	case $verdict in
	*"$want") ;;
	*) fail "bad $kind: $verdict (want $want)" ;;
	esac
	case $kind:$verdict in
	trunc:* | flood:* | *error=1\ * | *error=56\ *) ;;
	*) fail "bad $kind: no PROTOCOL/TOO_BIG error: $verdict" ;;
	esac
	kill -0 "$AMPSD_PID" || fail "ampsd died on bad $kind"
	CHECKS=$((CHECKS + 1))
done
wait_exit 120 "$pub" "the publisher next to bad clients" ||
    fail "the publisher next to bad clients failed"
seq 0 19999 >"$T/want.stream"
wait_for 30 ids_exactly "$T/want.stream" stream ||
    fail "stream not delivered exactly once in order"
allowed nobody main ok.x 11
stop_ampsd TERM

# 5. TLS: wrong CA, expired certificate.
command -v openssl >/dev/null || skip "no openssl (after the IPC checks)"
cd "$T" || fail "cd"
ossl() {
	openssl "$@" >>"$T/openssl.log" 2>&1 || fail "openssl $1"
}
ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
    -days 2 -subj "/CN=rel-ca"
ossl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem \
    -days 2 -subj "/CN=other-ca"
ossl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
: >index.txt
echo 01 >serial
cat >ca.cnf <<EOC
[ ca ]
default_ca = rel
[ rel ]
database = $T/index.txt
new_certs_dir = $T
serial = $T/serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[ anything ]
commonName = supplied
EOC
ossl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in srv.csr \
    -out good.pem -days 2 -notext
ossl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in srv.csr \
    -out expired.pem -startdate 20200101000000Z -enddate 20200102000000Z \
    -notext
chmod 600 srv.key
tlsconf() {
	cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state-tls";
log stderr;
connection "main" {
	client-name "sec-tls-$$";
	server "tcps://localhost:$1/amps/json";
	reconnect fixed 300ms give-up never;
	tls { ca "$2"; }
}
EOC
}
tls_case() {
	start_ampsim "tls$1" --tls-port 0 --tls-cert "$T/$2" \
	    --tls-key "$T/srv.key"
	port=$(sed -n 's/^tls=//p' "$T/tls$1.port")
	tlsconf "$port" "$T/$3"
	: >"$T/ampsd.log"
	start_ampsd
}
tls_case 1 good.pem ca.pem
wait_for 30 ready_at_least 1 || fail "TLS control case did not log on"
stop_ampsd TERM
tls_case 2 good.pem other.pem
wait_for 30 grep -q 'certificate' "$T/ampsd.log" || fail "wrong CA accepted?"
[ "$(ready_count)" -eq 0 ] || fail "logged on with a certificate of another CA"
stop_ampsd TERM
CHECKS=$((CHECKS + 1))
tls_case 3 expired.pem ca.pem
wait_for 30 grep -q 'certificate' "$T/ampsd.log" || fail "expiry not reported"
grep -q -i 'expired' "$T/ampsd.log" || echo "note: no 'expired' in the message"
[ "$(ready_count)" -eq 0 ] || fail "logged on with an expired certificate"
stop_ampsd TERM
CHECKS=$((CHECKS + 1))

# 6. Secrets readable by others are refused.
cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state-sec";
log stderr;
connection "main" {
	client-name "sec-pw-$$";
	server "tcp://user:secret@127.0.0.1:$SIMPORT/amps/json";
}
EOC
chmod 644 "$T/ampsd.conf"
"$AMPSD" -t -c "$T/ampsd.conf" >"$T/t.out" 2>&1 &&
    fail "a world-readable file with a password was accepted"
grep -q 'holds credentials but is accessible' "$T/t.out" ||
    fail "no clear message: $(cat "$T/t.out")"
ampsd_refuses 10 || fail "ampsd started with a world-readable password"
[ ! -e "$T/state-sec/pub-main.db" ] || fail "a store was created anyway"
chmod 600 "$T/ampsd.conf"
"$AMPSD" -t -c "$T/ampsd.conf" >/dev/null 2>&1 || fail "0600 refused"
CHECKS=$((CHECKS + 1))
tlsconf 1 "$T/ca.pem"
sed -i 's|tls { ca "\(.*\)"; }|tls { ca "\1"; cert "'"$T"'/good.pem"; key "'"$T"'/srv.key"; }|' \
    "$T/ampsd.conf"
chmod 644 "$T/srv.key"
"$AMPSD" -t -c "$T/ampsd.conf" >"$T/t.out" 2>&1 &&
    fail "a world-readable TLS key was accepted"
grep -q 'accessible by group or others' "$T/t.out" ||
    fail "no clear message for the key: $(cat "$T/t.out")"
chmod 600 "$T/srv.key"
"$AMPSD" -t -c "$T/ampsd.conf" >/dev/null 2>&1 || fail "0600 key refused"
CHECKS=$((CHECKS + 1))
echo "security: $CHECKS checks, bad clients 10, stream stored-acked \
$(wc -l <"$T/stored"), delivered $(wc -l <"$T/got" 2>/dev/null || echo 0)"
pass
