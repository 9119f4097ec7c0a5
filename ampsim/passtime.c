/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * passtime.c: runs the event loop, and with AMPSIM_SLOW_PASS_US=N in the
 * environment times every loop pass in thread CPU time (the diagnostic
 * that finds receive-path stalls, docs/BENCHMARKS.md
 * "bench-latency").  Each pass that used more than N us of CPU is logged on
 * stderr with what it did (frames in and out, log records appended);
 * every PASS_REPORT_MS a summary of the passes that read frames (count,
 * CPU p50/p99/p99.9/max, CPU per frame in) is logged too, since the
 * benchmarks end ampsim with SIGKILL.  Logged whatever -q says: the
 * variable is the request.
 *
 * Invariants:
 *  1. Off (variable unset, empty or not a number): the loop is the plain
 *     event_base_dispatch(); the only cost left is the two frame
 *     counters (sim_frames_in/out), incremented by session.c.
 *  2. On: one pass is one event_base_loop(EVLOOP_ONCE); CPU time is
 *     CLOCK_THREAD_CPUTIME_ID, the report period CLOCK_MONOTONIC.
 *  3. The loop ends exactly when event_base_dispatch() would: on
 *     event_base_loopbreak()/loopexit() or when no event is left.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ampsim.h"

uint64_t	sim_frames_in;
uint64_t	sim_frames_out;

#define PASS_BUCKETS	20000		/* 1 us each; more = the last */
#define PASS_REPORT_MS	2000

static uint32_t	pass_hist[PASS_BUCKETS + 1];
static uint64_t	pass_n, pass_max, pass_cpu, pass_frames;

/* Thread CPU time in nanoseconds. */
static uint64_t
cpu_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* The smallest bucket (us) at or below which a fraction q of passes lie. */
static uint64_t
pass_quantile(double q)
{
	uint64_t	want, seen = 0;
	size_t		i;

	want = (uint64_t)(q * (double)pass_n);
	if (want == 0)
		want = 1;
	for (i = 0; i <= PASS_BUCKETS; i++) {
		seen += pass_hist[i];
		if (seen >= want)
			return (i == PASS_BUCKETS ? pass_max : i);
	}
	return (pass_max);
}

/* Log and reset the summary of the passes that read frames. */
static void
pass_report(void)
{
	if (pass_n == 0)
		return;
	fprintf(stderr, "ampsim[%llu] passes: %llu with input, cpu us p50 %llu "
	    "p99 %llu p99.9 %llu max %llu, %.3f us cpu per frame in "
	    "(%llu frames)\n", (unsigned long long)sim_mono_ms(),
	    (unsigned long long)pass_n,
	    (unsigned long long)pass_quantile(0.50),
	    (unsigned long long)pass_quantile(0.99),
	    (unsigned long long)pass_quantile(0.999),
	    (unsigned long long)pass_max,
	    pass_frames ? (double)pass_cpu / 1000.0 / (double)pass_frames : 0.0,
	    (unsigned long long)pass_frames);
	memset(pass_hist, 0, sizeof pass_hist);
	pass_n = pass_max = pass_cpu = pass_frames = 0;
}

/* The value of AMPSIM_SLOW_PASS_US, or -1 when off (invariant 1). */
static long long
pass_threshold(void)
{
	const char	*v = getenv("AMPSIM_SLOW_PASS_US");
	char		*end;
	long long	 n;

	if (v == NULL || *v == '\0')
		return (-1);
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0)
		return (-1);
	return (n);
}

/* Run the loop until it is broken or empty (invariant 3). */
void
passtime_run(struct event_base *base)
{
	long long	 slow;
	uint64_t	 t0, ns, us, in0, out0, rec0, din, next;
	int		 rv;

	if ((slow = pass_threshold()) < 0) {
		event_base_dispatch(base);
		return;
	}
	fprintf(stderr, "ampsim: timing loop passes, logging those over %lld "
	    "us of cpu\n", slow);
	next = sim_mono_ms() + PASS_REPORT_MS;
	for (;;) {
		in0 = sim_frames_in;
		out0 = sim_frames_out;
		rec0 = txlog_count();
		t0 = cpu_ns();
		rv = event_base_loop(base, EVLOOP_ONCE);
		ns = cpu_ns() - t0;
		us = ns / 1000;
		din = sim_frames_in - in0;
		if (us > (uint64_t)slow)
			fprintf(stderr, "ampsim[%llu] slow pass: %llu us cpu, "
			    "%llu frames in, %llu out, %zu log records\n",
			    (unsigned long long)sim_mono_ms(),
			    (unsigned long long)us, (unsigned long long)din,
			    (unsigned long long)(sim_frames_out - out0),
			    txlog_count() - rec0);
		if (din > 0) {
			pass_hist[us < PASS_BUCKETS ? us : PASS_BUCKETS]++;
			pass_n++;
			pass_cpu += ns;
			pass_frames += din;
			if (us > pass_max)
				pass_max = us;
		}
		if (sim_mono_ms() >= next) {
			pass_report();
			next = sim_mono_ms() + PASS_REPORT_MS;
		}
		if (rv != 0 || event_base_got_break(base) ||
		    event_base_got_exit(base))
			break;
	}
	pass_report();
}
