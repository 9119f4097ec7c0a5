#!/bin/sh
# run.sh: every benchmark of tests/bench in one go (`make bench`,
# `make bench-quick`), each with its medians and same-run ratios, then
# one table of the goals of docs/BENCHMARKS.md (met or not, beside the
# value recorded in the summary file, so a regression shows) and a
# machine-readable summary in JSON.
#
#   run.sh [--quick] [--out FILE] [--only NAMES] [--wait-quiet MINUTES]
#
# --quick      fewer runs and messages (minutes instead of most of an
#              hour); the figures are rougher
# --out FILE   the JSON summary (default: docs/BENCHMARKS.json in the
#              source tree; with --quick: bench-quick.json here)
# --only NAMES comma-separated: codec,store,publish,subscribe,latency,
#              ampsim,scale,flush
# --wait-quiet wait up to MINUTES for the 1-minute load average to fall
#              below 2 before starting (the load is recorded either way)
#
# Each benchmark prints lines "RESULT {json}" (its medians) and
# "GOAL name value op target"; this script collects them.  The logs of a
# run go to bench-logs/ in the build directory.  It needs the programs
# built (the make targets build them first).
set -u
. "$(dirname "$0")/../dirs.sh"

quick=0
out=
only=codec,store,publish,subscribe,latency,ampsim,scale,flush
wait_min=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--out) out=$2; shift ;;
	--only) only=$2; shift ;;
	--wait-quiet) wait_min=$2; shift ;;
	*) echo "usage: run.sh [--quick] [--out FILE] [--only NAMES]" \
	    "[--wait-quiet MINUTES]" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$out" ]; then
	if [ $quick = 1 ]; then out=$B/bench-quick.json
	else out=$S/docs/BENCHMARKS.json; fi
fi
logs=$B/bench-logs
mkdir -p "$logs"
export top_builddir=$B

load() { cut -d' ' -f1-3 /proc/loadavg; }
if [ "$wait_min" -gt 0 ]; then
	end=$(($(date +%s) + wait_min * 60))
	while [ "$(date +%s)" -lt "$end" ] &&
	    awk '{ exit !($1 >= 2) }' /proc/loadavg; do
		echo "run.sh: load $(load), waiting for it to fall below 2"
		sleep 60
	done
fi

if [ $quick = 1 ]; then
	a_store="-r 1 -t 0.5 -b 100,1000"
	a_publish="-r 1 -n 50000 -P 64 -T 1 -t 1"
	a_subscribe="-n 100000"
	a_latency="-r 1 -T 1"
	a_ampsim="100000 1"
	a_scale="-P 200 -S 10 -T 20000 -n 50000"
	a_flush="-n 10"
else
	a_store="-r 5 -t 2"
	a_publish="-r 3"
	a_subscribe="-n 1000000"
	a_latency="-r 5 -T 2"
	a_ampsim="200000 5"
	a_scale=""
	a_flush=""
fi

load_before=$(load)
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$(git -C "$S" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "run.sh: $date, commit $commit, $(nproc) CPU(s), load $load_before"
results=
failed=
: >"$logs/goals"
for b in $(echo "$only" | tr ',' ' '); do
	case $b in
	codec) args= ;;
	store) args=$a_store ;;
	publish) args=$a_publish ;;
	subscribe) args=$a_subscribe ;;
	latency) args=$a_latency ;;
	ampsim) args=$a_ampsim ;;
	scale) args=$a_scale ;;
	flush) args=$a_flush ;;
	*) echo "run.sh: no benchmark $b" >&2; exit 2 ;;
	esac
	echo "== bench-$b $args (load $(load))"
	# shellcheck disable=SC2086
	if ! "$B/tests/bench/bench-$b" $args >"$logs/$b.log" 2>&1; then
		failed="$failed $b"
		echo "   FAILED, see $logs/$b.log"
	fi
	grep -v '^RESULT \|^GOAL ' "$logs/$b.log" | tail -n 25
	r=$(sed -n 's/^RESULT //p' "$logs/$b.log" | tail -n 1)
	[ -n "$r" ] && results="$results${results:+,
    }\"$b\": $r"
	sed -n "s/^GOAL /$b /p" "$logs/$b.log" >>"$logs/goals"
done
load_after=$(load)

# The goals: name, value, op, target; met or not; the recorded value.
goals_json=
printf '\n%-36s %10s %12s %6s %10s\n' goal value target met recorded
while read -r bench name value op target; do
	if awk -v v="$value" -v t="$target" -v op="$op" 'BEGIN {
	    exit !((op == ">=" && v + 0 >= t + 0) ||
	    (op == "<=" && v + 0 <= t + 0)) }'; then met=true; else met=false; fi
	rec=$(sed -n "s#.*\"name\": *\"$bench $name\", *\"value\": *\([-0-9.e+]*\).*#\1#p" \
	    "$S/docs/BENCHMARKS.json" 2>/dev/null | head -n 1)
	printf '%-36s %10s %12s %6s %10s\n' "$bench $name" "$value" \
	    "$op $target" "$met" "${rec:--}"
	goals_json="$goals_json${goals_json:+,
    }{\"name\": \"$bench $name\", \"value\": $value, \"op\": \"$op\", \"target\": $target, \"met\": $met}"
done <"$logs/goals"

cat >"$out" <<EOF
{
  "date": "$date",
  "commit": "$commit",
  "quick": $([ $quick = 1 ] && echo true || echo false),
  "machine": {"cpus": $(nproc), "kernel": "$(uname -r)", "load_before": "$load_before", "load_after": "$load_after"},
  "goals": [
    $goals_json
  ],
  "results": {
    $results
  }
}
EOF
echo "run.sh: summary in $out (load $load_before before, $load_after after)"
if [ -n "$failed" ]; then
	echo "run.sh: failed:$failed"
	exit 1
fi
exit 0
