/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * benchutil: the helpers of benchutil.h.  Benchmark code, not product:
 * it only times and chooses where to write.
 *
 * Invariant: every time is taken from CLOCK_MONOTONIC.
 */

#include <sys/vfs.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

#define TMPFS_MAGIC_	0x01021994

double
bu_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

int
bu_cmpd(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

double
bu_median(double *v, int n)
{
	if (n <= 0)
		return (0);
	qsort(v, (size_t)n, sizeof *v, bu_cmpd);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

int
bu_workdir(char *buf, size_t cap, const char *want, const char *prog)
{
	const char	*base = want;
	struct statfs	 sf;

	buf[0] = '\0';
	if (base == NULL) {
		base = "/tmp";
		if (statfs(base, &sf) == 0 && sf.f_type == TMPFS_MAGIC_)
			base = "/var/tmp";
	}
	if (statfs(base, &sf) == 0 && sf.f_type == TMPFS_MAGIC_)
		fprintf(stderr, "%s: warning: %s is tmpfs; fsync costs nothing "
		    "there\n", prog, base);
	if ((size_t)snprintf(buf, cap, "%s/%s-XXXXXX", base, prog) >= cap) {
		buf[0] = '\0';
		errno = ENAMETOOLONG;
		return (-1);
	}
	if (mkdtemp(buf) == NULL) {
		buf[0] = '\0';
		return (-1);
	}
	return (0);
}
