#!/bin/bash
# The driver with only server kills (failover back and forth), strict
# about promise 2: no discarded message may be delivered again (it
# caught ampsd dropping a durable stream's DISCARDs after an upstream
# disconnect; docs/RELIABILITY.md, findings).  A failure other than a
# redelivered discard is reported as a hard error (exit 99).
export DRIVER_CYCLES=${DRIVER_CYCLES:-6}
export DRIVER_PUBS=1
export DRIVER_KINDS="server-kill9"
export DRIVER_KNOWN_BUGS=
out=$(mktemp "${TMPDIR:-/tmp}/ampsd-strict.XXXXXX")
bash "$(dirname "$0")/driver.sh" >"$out" 2>&1
rc=$?
cat "$out"
if [ $rc -ne 0 ] && [ $rc -ne 77 ] &&
    ! grep -q '^FAIL: .*discarded message(s) again' "$out"; then
	rm -f "$out"
	echo "ERROR: the strict driver failed for another reason"
	exit 99
fi
rm -f "$out"
exit $rc
