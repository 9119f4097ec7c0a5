/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * powerloss.h: what the two power-loss tests share (check_powerloss.c
 * for the publish store, check_powerloss_bm.c for the bookmark store):
 * the base seed, the writers' generator, the scratch directory, and one
 * crash cycle around crashvfs_cycle() with its figures summed.  What a
 * writer does and what the checker requires stay in each test.
 */

#ifndef AMPSD_POWERLOSS_H
#define AMPSD_POWERLOSS_H

#include <stdint.h>

#include "crashvfs.h"
#include "store.h"

/* One writer run as crashvfs_cycle() runs it; run: the test's record. */
struct pw_job {
	const char		*path;
	enum store_durability	 dur;
	uint64_t		 seed;
	void			*run;
};

/* The crash figures of one test, summed over its cycles. */
struct pw_crashes {
	uint64_t	 cycles;
	uint64_t	 crashes;
	uint64_t	 unsynced;
	uint64_t	 sectors_lost;
	uint64_t	 sectors_kept;
};

/*
 * The base seed: POWERLOSS_SEED (decimal) if set, else dflt.  Prints
 * "name: base seed N (set POWERLOSS_SEED to change)" and note.
 */
uint64_t	 pw_seed(const char *, uint64_t, const char *);

/* The writers' generator (splitmix64), independent of crashvfs's. */
uint64_t	 pw_rand(uint64_t *);

/*
 * Remove db and its -wal, -shm and -commits files from dir, remove dir,
 * and put the mkdtemp() template tmpl back into dir for the next test.
 */
void		 pw_rmdir(char *, const char *, const char *);

/*
 * One cycle: crashvfs_cycle(mode, job->seed, at_sync, run, job, st),
 * which must succeed, then the cycle, whether it crashed and st's
 * unsynced writes and sectors added to *c.  The test then checks what
 * survived in job->path.
 */
void		 pw_cycle(struct pw_job *, enum cv_mode, uint64_t,
		    void (*)(void *), struct pw_crashes *, struct cv_stats *);

#endif /* AMPSD_POWERLOSS_H */
