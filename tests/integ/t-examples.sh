#!/bin/bash
# examples/publish.c and examples/subscribe.c build with the README's
# compile line, "cc ... $(pkg-config --cflags --libs libampsipc)",
# against the uninstalled library (libampsipc-uninstalled.pc) with
# warnings as errors, and work against a live ampsim and ampsd: the
# subscriber's filter lets through exactly the messages it names, and
# the publisher reports every message stored and persisted.
. "$(dirname "$0")/lib.sh"

# The compiler and flags of this build (a sanitizer build needs its
# flags at link time too).
vars=$(
    cd "$B" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -f - \
    _t_examples_vars <<'MK'
include Makefile
_t_examples_vars:
	@echo "cc='$(CC)'"
	@echo "cflags='$(CFLAGS)'"
	@echo "ldflags='$(LDFLAGS)'"
MK
) || fail "cannot read CC from $B/Makefile"
eval "$vars"

command -v pkg-config >/dev/null || fail "pkg-config not installed"
flags=$(PKG_CONFIG_PATH="$B/libampsipc" pkg-config --cflags --libs \
    libampsipc) || fail "pkg-config libampsipc (uninstalled)"
case $flags in *"-I$S/libampsipc"*"-L$B/libampsipc/.libs"*) ;;
*) fail "pkg-config did not pick libampsipc-uninstalled.pc: $flags" ;; esac
for prog in publish subscribe; do
	# shellcheck disable=SC2086
	$cc $cflags -Wall -Wextra -Werror -o "$T/$prog" \
	    "$S/examples/$prog.c" $flags $ldflags >"$T/cc.log" 2>&1 ||
	    fail "examples/$prog.c does not build: $(cat "$T/cc.log")"
done

start_ampsim sim --ack-conflation 10
write_conf "$SIMPORT"
start_ampsd
wait_for 30 ready_at_least 1 || fail "daemon never ready"
export AMPSD_SOCKET=$T/ampsd.sock

"$T/subscribe" orders '/id > 2' 3 >"$T/sub.out" 2>"$T/sub.log" &
SUB=$!
PIDS="$PIDS $SUB"
wait_for 30 grep -q '^subscribe: subscribed to orders$' "$T/sub.log" ||
    fail "the subscriber did not subscribe"
out=$("$T/publish" orders 5 2>>"$T/publish.log") ||
    fail "publish failed: $(cat "$T/publish.log")"
[ "$out" = "published 5 to orders: 5 stored, 5 persisted, 0 failed" ] ||
    fail "publish printed: $out"
wait_exit 30 "$SUB" "the subscriber (3 messages)" || fail "subscribe failed: $(cat "$T/sub.log")"
[ "$(cat "$T/sub.out")" = '{"id":3,"text":"hello"}
{"id":4,"text":"hello"}
{"id":5,"text":"hello"}' ] || fail "subscribe printed: $(cat "$T/sub.out")"

# Errors: no daemon, and a bad filter, each a message and exit 1.
AMPSD_SOCKET=$T/none.sock "$T/publish" orders 2>"$T/err" && fail "no daemon"
grep -q '^publish: ' "$T/err" || fail "no-daemon message: $(cat "$T/err")"
"$T/subscribe" orders '/id >>> 1' 2>"$T/err" && fail "bad filter accepted"
grep -qi 'filter' "$T/err" || fail "bad filter message: $(cat "$T/err")"
pass
