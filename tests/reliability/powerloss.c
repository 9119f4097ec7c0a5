/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * powerloss.c: the helpers of powerloss.h, shared by check_powerloss
 * and check_powerloss_bm.
 *
 * Invariants:
 *  1. The same seed gives the same numbers on every machine.
 *  2. pw_cycle() fails the test if crashvfs could not run the cycle, and
 *     counts every cycle it ran.
 */

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "powerloss.h"

uint64_t
pw_seed(const char *name, uint64_t dflt, const char *note)
{
	const char	*e = getenv("POWERLOSS_SEED");
	uint64_t	 seed = dflt;

	if (e != NULL && *e != '\0')
		seed = strtoull(e, NULL, 10);
	printf("%s: base seed %" PRIu64 " (set POWERLOSS_SEED to change)%s\n",
	    name, seed, note);
	fflush(stdout);
	return (seed);
}

uint64_t
pw_rand(uint64_t *state)
{
	uint64_t	 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

void
pw_rmdir(char *dir, const char *tmpl, const char *db)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-commits" };
	char			 p[300];
	size_t			 i;

	for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		snprintf(p, sizeof p, "%s/%s%s", dir, db, sfx[i]);
		unlink(p);
	}
	rmdir(dir);
	memcpy(dir, tmpl, strlen(tmpl) + 1);
}

void
pw_cycle(struct pw_job *job, enum cv_mode mode, uint64_t at_sync,
    void (*run)(void *), struct pw_crashes *c, struct cv_stats *st)
{
	ck_assert_int_eq(crashvfs_cycle(mode, job->seed, at_sync, run, job,
	    st), 0);
	c->cycles++;
	c->crashes += crashvfs_crashed();
	c->unsynced += st->unsynced;
	c->sectors_lost += st->sectors_lost;
	c->sectors_kept += st->sectors_kept;
}
