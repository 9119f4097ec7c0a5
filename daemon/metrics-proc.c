/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The process_* metrics every Prometheus client library exports, read
 * from /proc/self: process_cpu_seconds_total, process_resident_memory_
 * bytes, process_virtual_memory_bytes, process_open_fds, process_max_fds
 * and process_start_time_seconds.  metrics_proc_parse_stat() and
 * metrics_proc_render() are pure; metrics_proc_read() does the reading.
 *
 * The start time is the process's start in clock ticks after boot
 * (/proc/self/stat) placed on the wall clock with CLOCK_BOOTTIME, so
 * /proc/stat (hidden by ProcSubset=pid in ampsd.service) is not needed.
 *
 * Invariants:
 *   (1) A field that cannot be read leaves the whole set invalid
 *       (metrics_proc_read() returns -1): nothing half-read is rendered.
 *   (2) The stat line is parsed after its last ')', so a command name
 *       with spaces or parentheses cannot shift the fields.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/resource.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

/*
 * Parse the text of /proc/self/stat: utime and stime (fields 14, 15, in
 * ticks), starttime (22, ticks after boot), vsize (23, bytes) and rss
 * (24, pages).  ticks is sysconf(_SC_CLK_TCK), boot the wall-clock time
 * of the boot.  Returns 0, or -1 if the text is not a stat line.
 */
int
metrics_proc_parse_stat(const char *text, long ticks, long pagesize,
    double boot, struct metrics_proc *p)
{
	unsigned long long	 v[22];
	const char		*s;
	char			*end;
	size_t			 i;

	if (ticks <= 0 || pagesize <= 0 ||
	    (s = strrchr(text, ')')) == NULL)
		return (-1);
	s++;
	/* Field 3 (state) is a letter; fields 4 to 24 are numbers. */
	while (*s == ' ')
		s++;
	if (*s == '\0' || s[1] != ' ')
		return (-1);
	s += 2;
	for (i = 0; i < 21; i++) {
		errno = 0;	/* a negative field (nice) wraps: unused */
		v[i] = strtoull(s, &end, 10);
		if (end == s || errno != 0 || (*end != ' ' && *end != '\n' &&
		    *end != '\0'))
			return (-1);
		s = end;
	}
	/* v[0] is field 4: field N is v[N - 4]. */
	p->cpu_seconds = (double)(v[10] + v[11]) / (double)ticks;
	p->start_time = boot + (double)v[18] / (double)ticks;
	p->vsize_bytes = v[19];
	p->rss_bytes = v[20] * (unsigned long long)pagesize;
	return (0);
}

/* The number of open descriptors: entries of /proc/self/fd. */
static int
metrics_proc_fds(uint64_t *n)
{
	DIR		*d;
	struct dirent	*e;
	uint64_t	 c = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			c++;
	closedir(d);
	*n = c > 0 ? c - 1 : 0;		/* not the directory's own */
	return (0);
}

/* Read the process figures now (invariant 1).  Returns 0 or -1. */
int
metrics_proc_read(struct metrics_proc *p)
{
	struct timespec	 rt, bt;
	struct rlimit	 rl;
	char		 buf[1024];
	ssize_t		 n;
	int		 fd;

	memset(p, 0, sizeof *p);
	if ((fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &rt) == -1 ||
	    clock_gettime(CLOCK_BOOTTIME, &bt) == -1)
		return (-1);
	if (metrics_proc_parse_stat(buf, sysconf(_SC_CLK_TCK),
	    sysconf(_SC_PAGESIZE), (double)(rt.tv_sec - bt.tv_sec) +
	    (double)(rt.tv_nsec - bt.tv_nsec) / 1e9, p) == -1)
		return (-1);
	if (metrics_proc_fds(&p->open_fds) == -1 ||
	    getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return (-1);
	p->max_fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX :
	    (uint64_t)rl.rlim_cur;
	p->valid = 1;
	return (0);
}

/* The process_* families of p (nothing unless p->valid). */
void
metrics_proc_render(const struct metrics_proc *p, FILE *f)
{
	if (!p->valid)
		return;
	fprintf(f, "# HELP process_cpu_seconds_total Total user and system "
	    "CPU time spent in seconds.\n"
	    "# TYPE process_cpu_seconds_total counter\n"
	    "process_cpu_seconds_total %.2f\n", p->cpu_seconds);
	fprintf(f, "# HELP process_resident_memory_bytes Resident memory "
	    "size in bytes.\n"
	    "# TYPE process_resident_memory_bytes gauge\n"
	    "process_resident_memory_bytes %llu\n",
	    (unsigned long long)p->rss_bytes);
	fprintf(f, "# HELP process_virtual_memory_bytes Virtual memory size "
	    "in bytes.\n"
	    "# TYPE process_virtual_memory_bytes gauge\n"
	    "process_virtual_memory_bytes %llu\n",
	    (unsigned long long)p->vsize_bytes);
	fprintf(f, "# HELP process_open_fds Number of open file "
	    "descriptors.\n"
	    "# TYPE process_open_fds gauge\n"
	    "process_open_fds %llu\n", (unsigned long long)p->open_fds);
	fprintf(f, "# HELP process_max_fds Maximum number of open file "
	    "descriptors.\n"
	    "# TYPE process_max_fds gauge\n"
	    "process_max_fds %llu\n", (unsigned long long)p->max_fds);
	fprintf(f, "# HELP process_start_time_seconds Start time of the "
	    "process since unix epoch in seconds.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %.2f\n", p->start_time);
}
