#!/bin/sh
# Power loss, strict: also fail when ampsd refuses a store that SQLite
# itself recovers from its WAL (a torn checkpoint: page 1 reached the
# disk, the file's extension did not).  Seed 1 hits that case; it passes
# because daemon/store-file.c skips its size checks while a non-empty -wal
# file exists and leaves the repair to SQLite.
. "$(dirname "$0")/../dirs.sh"
P=$B/tests/reliability/check_powerloss
if [ ! -x "$P" ]; then
	echo "SKIP: $P not built"
	exit 77
fi
POWERLOSS_SEED=1 POWERLOSS_STRICT=1 CK_VERBOSITY=normal "$P"
