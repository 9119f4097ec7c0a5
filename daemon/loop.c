/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The event loop.  Owns the only event_base, the signal events and the
 * deferred-free list.  loop_run() runs event_base_loop(EVLOOP_ONCE) and
 * after every pass calls the flush hook, which commits the store
 * transaction(s) written during the pass and only then releases the
 * "stored" replies that waited for that commit (DESIGN.md §5 rule 2).
 *
 * Signals: SIGTERM and SIGINT call the term hook once (the daemon's
 * drain, drain.c), which ends the loop with loop_exit() when it is done;
 * without a hook, or at the second such signal, the loop ends after the
 * current pass (which is still flushed: everything stored is committed).
 * SIGHUP is passed to the hup hook (or logged); SIGUSR1 reopens the log
 * file (log_reopen; a logged no-op for stderr and syslog); SIGUSR2
 * toggles debug output; SIGPIPE is ignored (writes report EPIPE).
 *
 * Invariants:
 *   (1) Only this file creates an event_base; others use loop_base().
 *   (2) The flush hook runs after every pass, including the last one.
 *   (3) Objects queued with loop_defer_free() are freed after the flush
 *       of the pass that queued them, never inside their own callback.
 *   (4) Time for timers comes from CLOCK_MONOTONIC (loop_now_ms()).
 *   (5) With AMPSD_SLOW_PASS_US=N in the environment (a diagnostic for
 *       tail latency, docs/BENCHMARKS.md) every pass, flush hook
 *       included, is timed in thread CPU time; a pass over N us is
 *       logged (warning) with the frames it took in and sent out
 *       (loop_frames_in/out, counted by conn.c, publish.c and
 *       subpath-out.c), and every LOOP_REPORT_MS the CPU p50/p99/p99.9/
 *       max of the passes that took frames in.  Unset, the only cost is
 *       one test per pass and the two counters.
 *   (6) loop_in_pass() is true from the start of a pass to the end of its
 *       flush hook: output queued then may wait for the flush hook to
 *       write it in one piece (conn.c), which the hook then must do.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "loop.h"
#include "xmalloc.h"

struct loop_free {
	void			(*fn)(void *);
	void			*arg;
	struct loop_free	*next;
};

static struct event_base	*loop_evbase;
static int			 loop_passing;	/* invariant 6 */
static struct event		*loop_sig[5];
static int			 loop_stop;
static int			 loop_status;
static loop_flush_fn		 loop_flush;
static void			*loop_flush_arg;
static loop_hup_fn		 loop_hup;
static void			*loop_hup_arg;
static loop_term_fn		 loop_term;
static void			*loop_term_arg;
static int			 loop_terms;	/* SIGTERM/SIGINT seen */
static struct loop_free		*loop_frees;
static uint64_t			 loop_npasses;

uint64_t			 loop_frames_in;
uint64_t			 loop_frames_out;

/* Pass timing (invariant 5); loop_slow_us < 0: off. */
#define LOOP_HIST	20000		/* 1 us buckets; more = the last */
#define LOOP_REPORT_MS	2000
static long long		 loop_slow_us = -1;
static uint32_t			*loop_hist;
static uint64_t			 loop_hn, loop_hmax, loop_hcpu, loop_hframes;
static uint64_t			 loop_hnext;

/* Handle a signal (called from the loop by libevent, not async). */
static void
loop_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		if (loop_terms++ == 0 && loop_term != NULL) {
			log_info("loop: signal %d, draining (send it again to "
			    "exit at once)", (int)sig);
			loop_term(loop_term_arg);
			break;
		}
		log_info("loop: signal %d, shutting down%s", (int)sig,
		    loop_terms > 1 ? " now" : "");
		loop_exit(0);
		break;
	case SIGHUP:
		if (loop_hup != NULL)
			loop_hup(loop_hup_arg);
		else
			log_info("loop: SIGHUP noted (reload is not "
			    "supported yet; restart to apply changes)");
		break;
	case SIGUSR1:
		switch (log_reopen()) {
		case 1:
			log_info("loop: SIGUSR1: log file reopened");
			break;
		case 0:
			log_info("loop: SIGUSR1: logging to %s, nothing to "
			    "reopen", log_target() == LOG_TO_SYSLOG ?
			    "syslog" : "stderr");
			break;
		}
		break;
	case SIGUSR2:
		log_set_verbose(log_get_verbose() ? 0 : 1);
		log_info("loop: debug output %s",
		    log_get_verbose() ? "on" : "off");
		break;
	}
}

/* Create the event base and the signal events. */
void
loop_init(void)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
	    SIGUSR2 };
	size_t			 i;

	signal(SIGPIPE, SIG_IGN);
	loop_stop = 0;
	loop_status = 0;
	loop_npasses = 0;
	loop_terms = 0;
	if ((loop_evbase = event_base_new()) == NULL)
		fatalx("loop: event_base_new failed");
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		loop_sig[i] = evsignal_new(loop_evbase, sigs[i],
		    loop_signal_cb, NULL);
		if (loop_sig[i] == NULL ||
		    evsignal_add(loop_sig[i], NULL) == -1)
			fatalx("loop: cannot watch signal %d", sigs[i]);
	}
}

/* The event base (after loop_init). */
struct event_base *
loop_base(void)
{
	return (loop_evbase);
}

/* Install the hook run after every pass. */
void
loop_set_flush(loop_flush_fn fn, void *arg)
{
	loop_flush = fn;
	loop_flush_arg = arg;
}

/* Install the SIGTERM/SIGINT hook (the first signal only). */
void
loop_set_term(loop_term_fn fn, void *arg)
{
	loop_term = fn;
	loop_term_arg = arg;
}

/* Install the SIGHUP hook. */
void
loop_set_hup(loop_hup_fn fn, void *arg)
{
	loop_hup = fn;
	loop_hup_arg = arg;
}

/* Run the deferred frees queued so far. */
static void
loop_run_frees(void)
{
	struct loop_free	*lf;

	while ((lf = loop_frees) != NULL) {
		loop_frees = lf->next;
		lf->fn(lf->arg);
		free(lf);
	}
}

/* Thread CPU time in nanoseconds. */
static uint64_t
loop_cpu_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* Read AMPSD_SLOW_PASS_US (invariant 5). */
static void
loop_timing_init(void)
{
	const char	*v = getenv("AMPSD_SLOW_PASS_US");
	char		*end;
	long long	 n;

	loop_slow_us = -1;
	if (v == NULL || *v == '\0')
		return;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0) {
		log_warnx("loop: AMPSD_SLOW_PASS_US=%s is not a number of "
		    "microseconds, passes not timed", v);
		return;
	}
	if (loop_hist == NULL)
		loop_hist = xcalloc(LOOP_HIST + 1, sizeof *loop_hist);
	loop_slow_us = n;
	loop_hnext = loop_now_ms() + LOOP_REPORT_MS;
	log_warnx("loop: timing passes, logging those over %lld us of cpu", n);
}

/* CPU time under which a fraction q of the timed passes lie (us). */
static uint64_t
loop_quantile(double q)
{
	uint64_t	want, seen = 0;
	size_t		i;

	if ((want = (uint64_t)(q * (double)loop_hn)) == 0)
		want = 1;
	for (i = 0; i < LOOP_HIST; i++)
		if ((seen += loop_hist[i]) >= want)
			return (i);
	return (loop_hmax);
}

/* Log and reset the summary of the passes that took frames in. */
static void
loop_report(void)
{
	if (loop_hn > 0)
		log_warnx("loop: %llu passes with input, cpu us p50 %llu p99 "
		    "%llu p99.9 %llu max %llu, %.3f us cpu per frame in "
		    "(%llu frames)", (unsigned long long)loop_hn,
		    (unsigned long long)loop_quantile(0.50),
		    (unsigned long long)loop_quantile(0.99),
		    (unsigned long long)loop_quantile(0.999),
		    (unsigned long long)loop_hmax,
		    loop_hframes ? (double)loop_hcpu / 1000.0 /
		    (double)loop_hframes : 0.0,
		    (unsigned long long)loop_hframes);
	memset(loop_hist, 0, (LOOP_HIST + 1) * sizeof *loop_hist);
	loop_hn = loop_hmax = loop_hcpu = loop_hframes = 0;
	loop_hnext = loop_now_ms() + LOOP_REPORT_MS;
}

/* Account one timed pass. */
static void
loop_timed(uint64_t ns, uint64_t in, uint64_t out)
{
	uint64_t	us = ns / 1000;

	if (us > (uint64_t)loop_slow_us)
		log_warnx("loop: slow pass: %llu us cpu, %llu frames in, "
		    "%llu out", (unsigned long long)us,
		    (unsigned long long)in, (unsigned long long)out);
	if (in > 0) {
		loop_hist[us < LOOP_HIST ? us : LOOP_HIST]++;
		loop_hn++;
		loop_hcpu += ns;
		loop_hframes += in;
		if (us > loop_hmax)
			loop_hmax = us;
	}
	if (loop_now_ms() >= loop_hnext)
		loop_report();
}

/*
 * Run until loop_exit().  Returns the status passed to loop_exit().
 */
int
loop_run(void)
{
	uint64_t	t0 = 0, in0 = 0, out0 = 0;
	int		rv;

	loop_timing_init();
	while (!loop_stop) {
		if (loop_slow_us >= 0) {
			in0 = loop_frames_in;
			out0 = loop_frames_out;
			t0 = loop_cpu_ns();
		}
		loop_passing = 1;
		rv = event_base_loop(loop_evbase, EVLOOP_ONCE);
		if (rv == -1)
			fatalx("loop: event_base_loop failed");
		loop_npasses++;
		if (loop_flush != NULL)
			loop_flush(loop_flush_arg);
		loop_passing = 0;
		loop_run_frees();
		if (loop_slow_us >= 0)
			loop_timed(loop_cpu_ns() - t0, loop_frames_in - in0,
			    loop_frames_out - out0);
		if (rv == 1 && !loop_stop)
			fatalx("loop: no events left (a bug)");
	}
	if (loop_slow_us >= 0)
		loop_report();
	return (loop_status);
}

/* Make loop_run() return status after the current pass. */
void
loop_exit(int status)
{
	loop_stop = 1;
	loop_status = status;
	if (loop_evbase != NULL)
		event_base_loopbreak(loop_evbase);
}

/* Whether loop_exit() was called. */
int
loop_exiting(void)
{
	return (loop_stop);
}

/* Whether a pass or its flush hook is running (invariant 6). */
int
loop_in_pass(void)
{
	return (loop_passing);
}

/* Free arg with fn after this pass's flush (invariant 3). */
void
loop_defer_free(void (*fn)(void *), void *arg)
{
	struct loop_free	*lf;

	lf = xcalloc(1, sizeof *lf);
	lf->fn = fn;
	lf->arg = arg;
	lf->next = loop_frees;
	loop_frees = lf;
}

/* Tear down: pending frees, signal events, the base. */
void
loop_done(void)
{
	size_t	i;

	loop_run_frees();
	for (i = 0; i < sizeof loop_sig / sizeof loop_sig[0]; i++)
		if (loop_sig[i] != NULL) {
			event_free(loop_sig[i]);
			loop_sig[i] = NULL;
		}
	if (loop_evbase != NULL)
		event_base_free(loop_evbase);
	loop_evbase = NULL;
}

/* Monotonic milliseconds (invariant 4). */
uint64_t
loop_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Passes run so far (for status). */
uint64_t
loop_passes(void)
{
	return (loop_npasses);
}
