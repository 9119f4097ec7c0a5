#!/bin/bash
# TLS to AMPS (DESIGN.md §4 promise 6): the certificate chain and host
# name are verified; a wrong name fails; "verify no" connects with a
# warning.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || { OK=1; echo "SKIP: no openssl"; exit 77; }
cd "$T" || fail "cd"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
    -days 2 -subj "/CN=integ-ca" >/dev/null 2>&1 || fail "CA"
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr \
    -subj "/CN=localhost" >/dev/null 2>&1 || fail "CSR"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out srv.pem -days 2 -extfile ext >/dev/null 2>&1 || fail "cert"
start_ampsim sim --tls-port 0 --tls-cert "$T/srv.pem" --tls-key "$T/srv.key"
TLSPORT=$(sed -n 's/^tls=//p' "$T/sim.port")
[ -n "$TLSPORT" ] || fail "no TLS port"
tlsconf() {
	cat >"$T/ampsd.conf" <<EOC
socket "$T/ampsd.sock";
state-directory "$T/state";
log stderr;
connection "main" {
	client-name "tls-$$";
	server "tcps://$1:$TLSPORT/amps/json";
	reconnect fixed 300ms give-up never;
	tls { ca "$T/ca.pem"; $2 }
}
EOC
}
tlsconf localhost ""
start_ampsd
wait_for 30 ready_at_least 1 || fail "no TLS logon (name)"
run_pubtest -S "$T/ampsd.sock" -n 20 -F -W 10000 || fail "publish over TLS"
stop_ampsd TERM
: >"$T/ampsd.log"
tlsconf 127.0.0.1 ""
start_ampsd
wait_for 30 ready_at_least 1 || fail "no TLS logon (IP)"
stop_ampsd TERM
: >"$T/ampsd.log"
tlsconf localhost 'server-name "wrong.example";'
start_ampsd
wait_for 30 grep -q 'certificate' "$T/ampsd.log" ||
    fail "host-name mismatch not reported"
[ "$(ready_count)" -eq 0 ] || fail "logged on despite a wrong host name"
stop_ampsd TERM
: >"$T/ampsd.log"
tlsconf localhost 'server-name "wrong.example"; verify no;'
start_ampsd
wait_for 30 ready_at_least 1 || fail "verify no did not connect"
grep -q 'verification is off' "$T/ampsd.log" || fail "no warning for verify no"
pass
