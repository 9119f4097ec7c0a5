#!/bin/bash
# test-timeout: 1200
# Every Check unit test program (tests/unit/check_*, tests/ampsim/check_*)
# under valgrind memcheck, in one process (CK_FORK=no), failing on any
# memory error or definitely lost block.  Bounded to about three minutes
# on the 2-vCPU machine: the test cases that take more than 30 s under
# valgrind are left out or shrunk, each listed below with its reason.
# Valgrind is CPU-bound: with both cores busy (make check-stress) it
# runs at a third of that speed, hence the 1200 s limit of run-test and
# 300 s per program (VALGRIND_TIMEOUT=S to change).
#
#   VALGRIND_ONLY="check_filter check_uri"   run just these programs
#
# Exit 77 when valgrind is not installed (bootstrap installs it) or the
# build is an --enable-asan one (AM_TESTS_ENVIRONMENT sets AMPSD_ASAN=1):
# memcheck and AddressSanitizer cannot instrument the same process.
set -u

if [ "${AMPSD_ASAN:-0}" = 1 ]; then
	echo "SKIP: AddressSanitizer build (AMPSD_ASAN=1): valgrind cannot" \
	    "run ASan-instrumented programs; the sanitizers check them instead"
	exit 77
fi

. "$(dirname "$0")/../dirs.sh"
SUPP=$S/tests/reliability/valgrind.supp

if ! command -v valgrind >/dev/null 2>&1; then
	echo "SKIP: valgrind not installed (apt-get install valgrind)"
	exit 77
fi

# Programs whose slow test cases are left out: PROGRAM -> the Check test
# cases (CK_RUN_CASE) that still run.  Times are under valgrind on the
# 2-vCPU machine.
declare -A CASES=(
	# "reader" feeds every frame in every chunking (75 s); "next"
	# covers the same parser (fuzz-frame covers the reader under ASan).
	[check_frame]="next"
	# "timestamp" round-trips thousands of timestamps (33 s); the
	# bookmark id and classify cases still run.
	[check_bookmark]="id classify"
)
# Programs left out entirely: none today.  Add "[check_x]=reason".
declare -A SKIP=()

VG=(valgrind -q --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite --suppressions="$SUPP"
    --num-callers=30)
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/ampsd-valgrind.XXXXXX")
export top_srcdir="$S" top_builddir="$B"
PER_PROG=${VALGRIND_TIMEOUT:-300}

ran=0
failed=0
skipped=0
t_all=$(date +%s)
for p in "$B"/tests/unit/check_* "$B"/tests/ampsim/check_*; do
	name=$(basename "$p")
	case $name in *.*) continue ;; esac
	[ -f "$p" ] && [ -x "$p" ] || continue
	if [ -n "${VALGRIND_ONLY:-}" ] &&
	    ! [[ " $VALGRIND_ONLY " == *" $name "* ]]; then
		continue
	fi
	if [ -n "${SKIP[$name]:-}" ]; then
		echo "skip $name: ${SKIP[$name]}"
		skipped=$((skipped + 1))
		continue
	fi
	for c in ${CASES[$name]:-ALL}; do
		label=$name
		[ "$c" = ALL ] || label="$name/$c"
		log=$LOGDIR/${label//\//-}.log
		t0=$(date +%s%N)
		if [ "$c" = ALL ]; then
			CK_FORK=no timeout "$PER_PROG" "${VG[@]}" "$p" \
			    >"$log" 2>&1
		else
			CK_FORK=no CK_RUN_CASE=$c timeout "$PER_PROG" \
			    "${VG[@]}" "$p" >"$log" 2>&1
		fi
		rc=$?
		ms=$((($(date +%s%N) - t0) / 1000000))
		ran=$((ran + 1))
		if [ $rc -eq 0 ]; then
			printf 'ok   %-36s %6d ms  %s\n' "$label" "$ms" \
			    "$(grep -E '^[0-9]+%: Checks' "$log" | tail -n 1)"
		else
			failed=$((failed + 1))
			printf 'FAIL %-36s %6d ms  exit %d%s\n' "$label" "$ms" \
			    "$rc" "$([ $rc -eq 124 ] && echo ' (timeout)')"
			grep -E '==[0-9]+==|Checks|:[EF]:' "$log" | head -n 60
		fi
	done
done
echo "valgrind: $ran runs, $failed failed, $skipped skipped," \
    "$(($(date +%s) - t_all)) s"
if [ $ran -eq 0 ]; then
	echo "FAIL: no Check program found under $B/tests"
	exit 1
fi
if [ $failed -ne 0 ]; then
	echo "logs kept in $LOGDIR"
	exit 1
fi
rm -rf "$LOGDIR"
exit 0
