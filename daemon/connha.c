/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * HA policy for one upstream connection: the server chooser and the
 * reconnect delay strategy of PROTOCOL.md §15, as pure logic.  conn.c owns the
 * sockets and timers; it asks this module where to connect and how long
 * to wait, and reports what happened.  Time is passed in as monotonic
 * milliseconds, so every sequence is reproducible in unit tests.
 *
 * The reconnect loop seen from conn.c:
 *
 *	connha_next_delay(now, &d)   -> CONNHA_GIVE_UP: stop (GAVE_UP)
 *	wait d ms; connect to server connha_current()
 *	  connect/logon failed       -> connha_report_failure(now)
 *	  logon succeeded            -> connha_report_success(now)
 *	  an established link broke  -> connha_report_disconnect(now)
 *	  an established link went
 *	  silent (heartbeat timeout) -> connha_report_hung(now)
 *
 * Rules:
 *   (1) The first attempt at startup has no wait.
 *   (2) After a disconnect the current server is retried first (§15.2);
 *       a failure (connect, TLS or logon error, or timeout) moves on to
 *       the next server in list order, wrapping.  A link that went
 *       silent (heartbeat timeout) also moves on first: a hung server
 *       (SIGSTOP, a frozen VM) still accepts TCP connections, and
 *       retrying it would cost a whole logon timeout before failover.
 *   (3) A link that stayed up for at least the stability period (the
 *       maximum delay for exponential, the delay for fixed) resets the
 *       strategy and its first retry has no wait.  A link that flaps
 *       faster keeps escalating, so a server that accepts and drops at
 *       once cannot make the daemon spin.
 *   (4) Fixed: every wait is initial_ms.  Exponential: initial_ms, then
 *       multiplied by factor after each wait, capped at max_ms.
 *   (5) Give-up: when giveup_ms is not 0 and the next attempt would start
 *       more than giveup_ms after the first failure of the current streak,
 *       connha_next_delay returns CONNHA_GIVE_UP.
 *   (6) Jitter (optional) scales each returned wait into [3/4 d, d] with a
 *       seeded generator; the escalation itself is not jittered.
 *   (7) A reload (connha_set_servers, connha_set_policy) keeps the
 *       failure streak, so a give-up deadline is not pushed back by
 *       reloading; the per-server failure counts start again.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>

#include "connha.h"
#include "xmalloc.h"

/* Fill p with the defaults of PROTOCOL.md §E.6. */
void
connha_default_policy(struct connha_policy *p)
{
	p->kind = CONNHA_EXPONENTIAL;
	p->initial_ms = CONNHA_DEFAULT_INITIAL_MS;
	p->max_ms = CONNHA_DEFAULT_MAX_MS;
	p->factor = CONNHA_DEFAULT_FACTOR;
	p->giveup_ms = CONNHA_DEFAULT_GIVEUP_MS;
	p->jitter = 0;
}

/* Return NULL when p is consistent, else a message saying why not. */
const char *
connha_policy_check(const struct connha_policy *p)
{
	if (p->kind == CONNHA_FIXED)
		return (NULL);
	if (p->factor < 1.0 || p->factor > 100.0)
		return ("backoff factor must be between 1 and 100");
	if (p->max_ms < p->initial_ms)
		return ("maximum delay is smaller than the initial delay");
	if (p->initial_ms == 0 && p->factor > 1.0)
		return ("exponential initial delay must not be 0");
	return (NULL);
}

/*
 * Set up h for nservers servers (at least 1) under policy p; seed drives
 * the jitter only.  Free with connha_free.
 */
void
connha_init(struct connha *h, size_t nservers, const struct connha_policy *p,
    uint64_t seed)
{
	h->policy = *p;
	h->nservers = nservers == 0 ? 1 : nservers;
	h->cur = 0;
	h->failures = xcalloc(h->nservers, sizeof *h->failures);
	h->delay_ms = p->initial_ms;
	h->failing = 0;
	h->immediate = 1;
	h->streak_start = 0;
	h->up_since = 0;
	h->up = 0;
	h->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	h->attempts = 0;
}

/* Release what connha_init allocated. */
void
connha_free(struct connha *h)
{
	free(h->failures);
	h->failures = NULL;
}

/* Index of the server to try next (or the one connected). */
size_t
connha_current(const struct connha *h)
{
	return (h->cur);
}

/* Consecutive failures recorded for server i. */
uint32_t
connha_failures(const struct connha *h, size_t i)
{
	return (i < h->nservers ? h->failures[i] : 0);
}

/* xorshift64*: deterministic jitter source. */
static uint64_t
connha_rand(struct connha *h)
{
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return (h->rng * 0x2545f4914f6cdd1dULL);
}

/*
 * How long to wait before the next attempt.  Returns 0 and sets *delay_ms,
 * or CONNHA_GIVE_UP when the give-up time has passed (rule 5).  Each call
 * is one attempt: it advances the exponential escalation.
 */
int
connha_next_delay(struct connha *h, uint64_t now_ms, uint64_t *delay_ms)
{
	const struct connha_policy	*p = &h->policy;
	uint64_t			 d;
	double				 next;

	if (h->immediate) {
		d = 0;
		h->immediate = 0;
	} else if (p->kind == CONNHA_FIXED)
		d = p->initial_ms;
	else {
		d = h->delay_ms;
		next = (double)h->delay_ms * p->factor;
		if (next >= (double)p->max_ms)
			h->delay_ms = p->max_ms;
		else
			h->delay_ms = (uint64_t)next;
	}
	if (h->failing && p->giveup_ms != 0 &&
	    now_ms + d > h->streak_start + p->giveup_ms)
		return (CONNHA_GIVE_UP);
	if (p->jitter && d > 0)
		d -= (connha_rand(h) % (d / 4 + 1));
	h->attempts++;
	*delay_ms = d;
	return (0);
}

/* Begin a failure streak if none is running. */
static void
connha_streak(struct connha *h, uint64_t now_ms)
{
	if (!h->failing) {
		h->failing = 1;
		h->streak_start = now_ms;
		h->attempts = 0;
	}
}

/* The attempt on the current server failed: count it, move on (rule 2). */
void
connha_report_failure(struct connha *h, uint64_t now_ms)
{
	connha_streak(h, now_ms);
	h->up = 0;
	if (h->failures[h->cur] != UINT32_MAX)
		h->failures[h->cur]++;
	h->cur = (h->cur + 1) % h->nservers;
}

/* Logon on the current server succeeded. */
void
connha_report_success(struct connha *h, uint64_t now_ms)
{
	h->failures[h->cur] = 0;
	h->failing = 0;
	h->attempts = 0;
	h->up = 1;
	h->up_since = now_ms;
}

/*
 * An established link to the current server broke.  The same server is
 * tried next (rule 2); whether without a wait depends on rule 3.
 */
void
connha_report_disconnect(struct connha *h, uint64_t now_ms)
{
	uint64_t	stable;

	stable = h->policy.kind == CONNHA_FIXED ? h->policy.initial_ms :
	    h->policy.max_ms;
	if (h->up && now_ms - h->up_since >= stable) {
		h->delay_ms = h->policy.initial_ms;
		h->immediate = 1;
	}
	h->up = 0;
	connha_streak(h, now_ms);
}

/*
 * The established link to the current server went silent (heartbeat
 * timeout): the server is hung or unreachable, so the next server is
 * tried first (rule 2), with the wait rule 3 gives a disconnect.  With
 * one server this is a disconnect.
 */
void
connha_report_hung(struct connha *h, uint64_t now_ms)
{
	connha_report_disconnect(h, now_ms);
	if (h->nservers < 2)
		return;
	if (h->failures[h->cur] != UINT32_MAX)
		h->failures[h->cur]++;
	h->cur = (h->cur + 1) % h->nservers;
}

/*
 * The server list changed (reload): nservers servers now, the current
 * one at index cur (0 when it is no longer listed).  Per-server failure
 * counts start again; the streak and the escalation are kept (rule 7).
 */
void
connha_set_servers(struct connha *h, size_t nservers, size_t cur)
{
	free(h->failures);
	h->nservers = nservers == 0 ? 1 : nservers;
	h->failures = xcalloc(h->nservers, sizeof *h->failures);
	h->cur = cur < h->nservers ? cur : 0;
}

/*
 * The reconnect policy changed (reload): the next wait follows p, the
 * escalation clamped into p's [initial, max] range.
 */
void
connha_set_policy(struct connha *h, const struct connha_policy *p)
{
	h->policy = *p;
	if (h->delay_ms > p->max_ms)
		h->delay_ms = p->max_ms;
	if (h->delay_ms < p->initial_ms)
		h->delay_ms = p->initial_ms;
}
