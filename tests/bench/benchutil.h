/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * benchutil: what bench-store and bench-publish (and rawstore, their
 * shared baseline) share: the monotonic clock in seconds, medians, and
 * a work directory on a real disk.  See benchutil.c.
 */

#ifndef AMPSD_BENCH_BENCHUTIL_H
#define AMPSD_BENCH_BENCHUTIL_H

#include <stddef.h>

/* Monotonic seconds. */
double	 bu_now(void);

/* qsort() comparison of doubles, ascending. */
int	 bu_cmpd(const void *, const void *);

/* The median of v[0..n) (sorts v in place); 0 for none. */
double	 bu_median(double *, int);

/*
 * Make a work directory "base/prog-XXXXXX" in buf: base is want if not
 * NULL, else /tmp, or /var/tmp when /tmp is tmpfs (fsync must cost what
 * it costs); warns on stderr when base is tmpfs all the same.  Returns 0,
 * or -1 with errno set and buf[0] = '\0'.
 */
int	 bu_workdir(char *, size_t, const char *, const char *);

#endif /* AMPSD_BENCH_BENCHUTIL_H */
