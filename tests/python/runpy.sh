#!/bin/sh
# runpy.sh FILE.py [ARGS]: run a Python test module or script of the
# binding against the build tree: the AMPS package of python/pkg, the
# uninstalled libampsipc, the interpreter configure chose ($PYTHON).
#
# In an --enable-asan build (AMPSD_ASAN=1) the extension carries the
# sanitizers but python3 does not, so libasan is preloaded.  The
# interpreter leaves memory behind at exit by design; LeakSanitizer
# reports go to files and only leaks with a frame in the binding
# (python/*.c) or libampsipc fail the run (tests/python/lsan.supp holds
# the module's one-time initialisation).  Any other ASan or UBSan
# report fails it too.
set -u

. "$(dirname "$0")/../dirs.sh"
PY=${PYTHON:-/usr/bin/python3}
file=$1
shift

PYTHONPATH=$B/python/pkg:$S/tests/python
LD_LIBRARY_PATH=$B/libampsipc/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
PYTHONDONTWRITEBYTECODE=1
PYTHONUNBUFFERED=1
export PYTHONPATH LD_LIBRARY_PATH PYTHONDONTWRITEBYTECODE PYTHONUNBUFFERED
export top_builddir="$B" top_srcdir="$S" PYTHON="$PY"

if [ ! -e "$B/python/pkg/AMPS/_amps.so" ]; then
	echo "SKIP: the Python binding is not built"
	exit 77
fi

if [ "${AMPSD_ASAN:-0}" != 1 ]; then
	exec "$PY" "$file" "$@"
fi

asan=$(${CC:-cc} -print-file-name=libasan.so)
[ -f "$asan" ] || { echo "FAIL: libasan.so not found ($asan)"; exit 1; }
logs=$(mktemp -d "${TMPDIR:-/tmp}/ampsd-pyasan.XXXXXX")
chmod 1777 "$logs"	# children run as another user (AclTest) report too
LD_PRELOAD=$asan${LD_PRELOAD:+:$LD_PRELOAD}
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$logs/asan:verify_asan_link_order=0
LSAN_OPTIONS=exitcode=0:suppressions=$S/tests/python/lsan.supp:print_suppressions=0
export LD_PRELOAD ASAN_OPTIONS LSAN_OPTIONS
"$PY" "$file" "$@"
rc=$?
unset LD_PRELOAD
# Keep the report blocks that name our code; the interpreter's own
# leaks (frames only in python3) are left out.
bad=0
for f in "$logs"/asan.*; do
	[ -f "$f" ] || continue
	if grep -qE 'ERROR: AddressSanitizer|runtime error:' "$f"; then
		echo "---- $f"
		cat "$f"
		bad=1
	fi
	awk -v RS= '/(Direct|Indirect) leak/ &&
	    /\/python\/[a-z-]+\.c|libampsipc/' "$f" >"$f.ours"
	if [ -s "$f.ours" ]; then
		echo "---- leaks in the binding or libampsipc ($f)"
		cat "$f.ours"
		bad=1
	fi
done
rm -rf "$logs"
[ $bad = 0 ] || { echo "FAIL: sanitizer report"; exit 1; }
exit $rc
