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
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <signal.h>
#include <stdlib.h>
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

/*
 * Run until loop_exit().  Returns the status passed to loop_exit().
 */
int
loop_run(void)
{
	int	rv;

	while (!loop_stop) {
		rv = event_base_loop(loop_evbase, EVLOOP_ONCE);
		if (rv == -1)
			fatalx("loop: event_base_loop failed");
		loop_npasses++;
		if (loop_flush != NULL)
			loop_flush(loop_flush_arg);
		loop_run_frees();
		if (rv == 1 && !loop_stop)
			fatalx("loop: no events left (a bug)");
	}
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
