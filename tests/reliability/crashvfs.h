/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * crashvfs.h: a test-only SQLite VFS that simulates power loss.
 *
 * "crashvfs" wraps the default unix VFS.  Every write and truncate goes to
 * the real file at once (so the process reads back what it wrote), and is
 * also remembered per file as "not yet synced" until the next xSync of
 * that file.  At the armed crash point every later write, truncate, sync
 * and delete fails with an I/O error, so the process can no longer change
 * the files.  When all connections are closed, crashvfs_materialize()
 * rewrites each file as a disk could have left it after losing power: the
 * synced image plus none, all, or a random sector-granular part of the
 * unsynced writes (CV_DROP, CV_KEEP, CV_TEAR).  The files are then opened
 * again through the normal VFS to see what survived.
 *
 * Test code only: it keeps global state and is not thread-safe.
 */

#ifndef AMPSD_CRASHVFS_H
#define AMPSD_CRASHVFS_H

#include <stdint.h>

/* What happens to unsynced writes at the crash. */
enum cv_mode {
	CV_DROP = 0,	/* all lost */
	CV_TEAR = 1,	/* each 512-byte sector of each write kept or lost */
	CV_KEEP = 2,	/* all kept (a process crash, not a power loss) */
};

/* Which operations count towards the crash point. */
enum cv_count {
	CV_COUNT_ALL = 0,	/* writes, truncates and syncs */
	CV_COUNT_SYNC = 1,	/* syncs only: crash inside the Nth sync */
};

/* Figures of the last materialize, for the test's report. */
struct cv_stats {
	uint64_t	 ops;		/* counted operations before the crash */
	uint64_t	 syncs;		/* syncs that succeeded */
	uint64_t	 files;		/* files rewritten */
	uint64_t	 unsynced;	/* unsynced writes at the crash */
	uint64_t	 sectors_kept;	/* unsynced sectors applied */
	uint64_t	 sectors_lost;	/* unsynced sectors dropped */
};

/*
 * Register the VFS under the name "crashvfs" (once; later calls only
 * change the default).  makedefault: make it (1) or the unix VFS (0) the
 * default for new connections.  Returns 0 or an SQLite error code.
 */
int		 crashvfs_register(int makedefault);

/*
 * Forget every file and arm a crash: when the counter of `count`
 * operations reaches at (1-based; 0 = never) that operation fails and
 * the crash begins.  seed drives CV_TEAR.
 */
void		 crashvfs_arm(uint64_t at, enum cv_count count, enum cv_mode,
		    uint64_t seed);

/* Whether the crash point was reached. */
int		 crashvfs_crashed(void);

/* Operations counted so far (of the armed kind). */
uint64_t	 crashvfs_ops(void);

/*
 * After every connection using the files is closed: rewrite each file
 * seen since crashvfs_arm() as it would be after the power loss (crashed
 * or not).  Returns 0, or -1 with errno set.  Fills *st if not NULL.
 */
int		 crashvfs_materialize(struct cv_stats *st);

/*
 * The skeleton of a power-loss cycle.  run(arg) must start from scratch
 * (recreate its files) and work until the crash or its end.  With at_sync
 * 0: run once counting every operation (nothing lost), then again with a
 * crash armed at an operation drawn from seed; with at_sync > 0: once,
 * crashing inside that sync.  Then the files are materialized into *st.
 * Returns 0, or -1 if the dry run did nothing or materialize failed.
 */
int		 crashvfs_cycle(enum cv_mode, uint64_t seed, uint64_t at_sync,
		    void (*run)(void *), void *arg, struct cv_stats *st);

/* Run run(arg) once without a crash; the operations of `count` kind. */
uint64_t	 crashvfs_count(enum cv_count, uint64_t seed,
		    void (*run)(void *), void *arg);

#endif /* AMPSD_CRASHVFS_H */
