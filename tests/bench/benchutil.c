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

#include <sys/resource.h>
#include <sys/vfs.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/*
 * Sorts a copy: sorting the caller's array in place once made
 * bench-publish pair the figures of different runs in its "per-run"
 * ratios (it took the medians of each case first).
 */
double
bu_median(const double *v, int n)
{
	double	*c, m;

	if (n <= 0)
		return (0);
	if ((c = malloc((size_t)n * sizeof *c)) == NULL) {
		fprintf(stderr, "bu_median: out of memory\n");
		exit(2);
	}
	memcpy(c, v, (size_t)n * sizeof *c);
	qsort(c, (size_t)n, sizeof *c, bu_cmpd);
	m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return (m);
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

/* One thread's comm and CPU seconds from its stat file; -1 if unreadable. */
static int
bu_stat_cpu(const char *path, char *comm, size_t len, double *cpu)
{
	char			 buf[1024], *open_, *close_;
	unsigned long long	 ut, st;
	size_t			 n;
	FILE			*f;

	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* pid (comm) state ...: comm may hold spaces and ')', so the last. */
	if ((open_ = strchr(buf, '(')) == NULL ||
	    (close_ = strrchr(buf, ')')) == NULL || close_ < open_)
		return (-1);
	n = (size_t)(close_ - open_ - 1);
	if (n >= len)
		n = len - 1;
	memcpy(comm, open_ + 1, n);
	comm[n] = '\0';
	/* After ") ": state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime (fields 3..15). */
	if (sscanf(close_ + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu", &ut, &st) != 2)
		return (-1);
	*cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	return (0);
}

double
bu_task_cpu(pid_t pid, const char *comm, int want)
{
	char		 dir[64], path[384], name[64];
	struct dirent	*de;
	double		 sum = 0, c;
	DIR		*d;

	if (pid <= 0)
		return (0);
	snprintf(dir, sizeof dir, "/proc/%ld/task", (long)pid);
	if ((d = opendir(dir)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s/stat", dir, de->d_name);
		if (bu_stat_cpu(path, name, sizeof name, &c) == -1)
			continue;
		if (comm == NULL || (strcmp(name, comm) == 0) == (want != 0))
			sum += c;
	}
	closedir(d);
	return (sum);
}

double
bu_self_cpu(void)
{
	return (bu_rusage_cpu(RUSAGE_SELF));
}

/* CPU seconds of who (RUSAGE_SELF, or RUSAGE_CHILDREN: waited-for ones). */
double
bu_rusage_cpu(int who)
{
	return (bu_rusage(who, NULL));
}

/* The same, and its page faults (minor) in *minflt if not NULL. */
double
bu_rusage(int who, long *minflt)
{
	struct rusage	ru;

	if (minflt != NULL)
		*minflt = 0;
	if (getrusage(who, &ru) == -1)
		return (0);
	if (minflt != NULL)
		*minflt = ru.ru_minflt;
	return ((double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}
