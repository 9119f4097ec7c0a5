/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Pure HA policy for one upstream connection (PROTOCOL.md §15): which server of
 * the ordered list to try next, and how long to wait before trying.  No
 * I/O, no clock: the caller passes monotonic milliseconds in.
 */

#ifndef AMPSD_CONNHA_H
#define AMPSD_CONNHA_H

#include <stddef.h>
#include <stdint.h>

enum connha_kind {
	CONNHA_FIXED,
	CONNHA_EXPONENTIAL,
};

/* The reconnect strategy, as configured. */
struct connha_policy {
	enum connha_kind kind;
	uint64_t	 initial_ms;	/* fixed: the delay; else the first */
	uint64_t	 max_ms;	/* exponential cap */
	double		 factor;	/* exponential multiplier, >= 1 */
	uint64_t	 giveup_ms;	/* 0 = never give up */
	int		 jitter;	/* scale each delay into [3/4 d, d] */
};

/*
 * Defaults: exponential 200 ms x 1.5 up to 5 s (PROTOCOL.md §E.6), and
 * never give up: a sidecar retries for ever, as the AMPS HA clients do
 * (a give-up time is available when configured).
 */
#define CONNHA_DEFAULT_INITIAL_MS	200
#define CONNHA_DEFAULT_MAX_MS		5000
#define CONNHA_DEFAULT_FACTOR		1.5
#define CONNHA_DEFAULT_GIVEUP_MS	0

struct connha {
	struct connha_policy policy;
	size_t		 nservers;
	size_t		 cur;		/* index of the current server */
	uint32_t	*failures;	/* consecutive failures per server */
	uint64_t	 delay_ms;	/* next non-zero delay (exponential) */
	int		 failing;	/* in a failure streak */
	int		 immediate;	/* next attempt needs no wait */
	uint64_t	 streak_start;	/* when the streak began */
	uint64_t	 up_since;	/* last report_success */
	int		 up;		/* connected (after report_success) */
	uint64_t	 rng;		/* jitter state */
	uint32_t	 attempts;	/* attempts in this streak */
};

#define CONNHA_GIVE_UP	(-1)

void	 connha_default_policy(struct connha_policy *);
const char *connha_policy_check(const struct connha_policy *);
void	 connha_init(struct connha *, size_t nservers,
	    const struct connha_policy *, uint64_t seed);
void	 connha_free(struct connha *);
size_t	 connha_current(const struct connha *);
uint32_t connha_failures(const struct connha *, size_t);
int	 connha_next_delay(struct connha *, uint64_t now_ms,
	    uint64_t *delay_ms);
void	 connha_report_failure(struct connha *, uint64_t now_ms);
void	 connha_report_success(struct connha *, uint64_t now_ms);
void	 connha_report_disconnect(struct connha *, uint64_t now_ms);
void	 connha_report_hung(struct connha *, uint64_t now_ms);
void	 connha_set_servers(struct connha *, size_t nservers, size_t cur);
void	 connha_set_policy(struct connha *, const struct connha_policy *);

#endif /* AMPSD_CONNHA_H */
