/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * benchutil: what bench-store and bench-publish (and rawstore, their
 * shared baseline) share: the monotonic clock in seconds, medians, a
 * work directory on a real disk, and the CPU time of another process's
 * threads.  See benchutil.c.
 */

#ifndef AMPSD_BENCH_BENCHUTIL_H
#define AMPSD_BENCH_BENCHUTIL_H

#include <sys/types.h>

#include <stddef.h>

/* Monotonic seconds. */
double	 bu_now(void);

/* qsort() comparison of doubles, ascending. */
int	 bu_cmpd(const void *, const void *);

/* The median of v[0..n) (v is left as it is); 0 for none. */
double	 bu_median(const double *, int);

/*
 * Make a work directory "base/prog-XXXXXX" in buf: base is want if not
 * NULL, else /tmp, or /var/tmp when /tmp is tmpfs (fsync must cost what
 * it costs); warns on stderr when base is tmpfs all the same.  Returns 0,
 * or -1 with errno set and buf[0] = '\0'.
 */
int	 bu_workdir(char *, size_t, const char *, const char *);

/*
 * CPU time (user + system, seconds) of process pid's threads named comm
 * (want 1), of its other threads (want 0), or of all of them (comm
 * NULL), from /proc/pid/task/N/stat; 0 when pid is gone.
 */
double	 bu_task_cpu(pid_t, const char *, int);

/* This process's CPU time (all threads, user + system), seconds. */
double	 bu_self_cpu(void);
/* CPU time of getrusage(who): RUSAGE_SELF or RUSAGE_CHILDREN; and with
 * its minor page faults in *minflt (may be NULL). */
double	 bu_rusage_cpu(int who);
double	 bu_rusage(int who, long *minflt);

#endif /* AMPSD_BENCH_BENCHUTIL_H */
