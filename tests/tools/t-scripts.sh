#!/bin/sh
# t-scripts.sh: a lint of the test scripts themselves, for a class of
# defect that makes a test fail (or pass) for the wrong reason.
#
# wait_for's arguments are expanded once, by the shell that calls it, so
# "wait_for 30 test "$(count)" = 2" polls one stale value for 30 s and
# then fails although the count reached 2 long before (it did, in
# t-sec-queue-ack.sh).  A value read again on every poll belongs inside
# a function given as the command.  This refuses a command substitution
# ("$(" that is not arithmetic "$((", or a backquote) in the arguments of
# any wait_for call outside single quotes, up to the first || or && or ;
# outside quotes (so the failure message after || may use one).
# Continued lines (ending in a backslash) are joined first.
set -eu
top=$(cd "${srcdir:-.}" && pwd)
[ -d "$top/tests" ] || top=$(cd "$(dirname "$0")/../.." && pwd)

n=0
bad=$(find "$top/tests" "$top/contrib" -name '*.sh' -print 2>/dev/null |
    sort | while read -r f; do
	awk -v file="${f#"$top"/}" '
	# join continued lines; report the first line of each statement
	{
		if (cont == "") { start = FNR }
		line = cont $0
		if (line ~ /\\$/) { cont = substr(line, 1, length(line) - 1); next }
		cont = ""
		check(line, start)
	}
	function check(s, at,    i, c, q, args, p, nxt) {
		p = index(s, "wait_for ")
		if (p == 0) return
		# a call, not the definition, a comment or a longer name
		if (s ~ /^[ \t]*#/ || s ~ /^wait_for\(\)/) return
		if (p > 1 && substr(s, p - 1, 1) ~ /[A-Za-z0-9_]/) return
		args = substr(s, p + 9)
		q = ""
		for (i = 1; i <= length(args); i++) {
			c = substr(args, i, 1)
			nxt = substr(args, i + 1, 1)
			if (q == "'\''") { if (c == "'\''") q = ""; continue }
			if (c == "\\") { i++; continue }
			if (c == "\"") { q = (q == "\"") ? "" : "\""; continue }
			if (q == "" && c == "'\''") { q = c; continue }
			if (q == "" && ((c == "|" && nxt == "|") ||
			    (c == "&" && nxt == "&") || c == ";")) break
			if (c == "`" || (c == "$" && nxt == "(" &&
			    substr(args, i + 2, 1) != "(")) {
				printf "%s:%d: command substitution in wait_for'\''s arguments (expanded once, not per poll): %s\n", file, at, s
				return
			}
		}
	}' "$f"
done)
if [ -n "$bad" ]; then
	printf '%s\n' "$bad"
	n=$(printf '%s\n' "$bad" | wc -l)
fi
echo "t-scripts: $n defect(s)"
[ "$n" -eq 0 ]
