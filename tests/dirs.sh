# dirs.sh: where the source tree ($S) and the build tree ($B) are, for a
# test script (sourced).  Under make check, top_srcdir and top_builddir
# say it.  Run by hand from a clone, the script finds the source tree
# from its own path and the build tree in ./build, where ./bootstrap
# builds, or else in the source tree itself (an in-tree build).
S=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -n "${top_builddir:-}" ]; then
	B=$top_builddir
elif [ -f "$S/build/Makefile" ]; then
	B=$S/build
else
	B=$S
fi
