#!/bin/bash
# The README's demo (contrib/demo.sh, "./bootstrap demo") against this
# build tree: it exits 0, prints its key results, says "demo: OK" last,
# and leaves neither its directory nor a process behind.
. "$(dirname "$0")/lib.sh"

timeout 60 sh "$S/contrib/demo.sh" "$B" >"$T/demo.log" 2>&1
rc=$?
cat "$T/demo.log"
[ $rc = 0 ] || fail "demo exited $rc"
[ "$(tail -n 1 "$T/demo.log" | cut -d' ' -f1-2)" = "demo: OK" ] ||
    fail "last line: $(tail -n 1 "$T/demo.log")"
for line in \
    '  configuration OK' \
    '  ampsd *, pid *, up *' \
    '  main\** connected *' \
    '  {"id":3,"sym":"IBM","qty":300}' \
    '  p {"id":1,"sym":"IBM","qty":150}' \
    '  {"tick":8}' \
    '   Resumed right after tick 3, across the restart: no gap, no repeat.' \
    '  {"job":3}'; do
	found=0
	while IFS= read -r l; do
		# shellcheck disable=SC2053
		[[ $l == $line ]] && { found=1; break; }
	done <"$T/demo.log"
	[ $found = 1 ] || fail "no line like: $line"
done
grep -q 'FAILED' "$T/demo.log" && fail "a FAILED line"
[ "$(grep -c '^== ' "$T/demo.log")" = 8 ] || fail "not 8 steps"

# Nothing left behind: the directory and every process it started.
W=$(sed -n 's/^W=\([^ ]*\) .*/\1/p' "$T/demo.log")
[ -n "$W" ] || fail "no W= line"
[ ! -e "$W" ] || fail "$W was not removed"
pids=$(sed -n 's/.*runs (pid \([0-9]*\)).*/\1/p' "$T/demo.log")
[ "$(echo $pids | wc -w)" = 3 ] ||
    fail "not 3 pids (ampsim, ampsd twice): $pids"
for p in $pids; do
	if ps -o args= -p "$p" 2>/dev/null | grep -qF "$W"; then
		fail "process $p still runs: $(ps -o stat=,args= -p "$p")"
	fi
done
pass
