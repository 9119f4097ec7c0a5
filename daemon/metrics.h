/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Metrics: a snapshot of the daemon's figures (filled by
 * server-metrics.c, which also feeds the STATUS text, so both show the
 * same numbers), its rendering as Prometheus text exposition format
 * 0.0.4 (metrics-text.c: pure, no I/O), the commit-latency histogram
 * (metrics-text.c), the process_* metrics from /proc (metrics-proc.c),
 * and the HTTP endpoint on the daemon's event base (metrics.c: evhttp,
 * GET and HEAD /metrics only).
 */

#ifndef AMPSD_METRICS_H
#define AMPSD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct conf_metrics;
struct event_base;
struct metrics;

/* Upper bounds, in seconds, of ampsd_store_commit_seconds; +Inf follows. */
#define METRICS_HIST_NB	13
extern const double	metrics_hist_bounds[METRICS_HIST_NB];

/*
 * A latency histogram.  bucket[i] counts observations v with
 * bounds[i-1] < v <= bounds[i] (not cumulative); bucket[METRICS_HIST_NB]
 * those above the last bound.  count is their total.
 */
struct metrics_hist {
	uint64_t	 bucket[METRICS_HIST_NB + 1];
	uint64_t	 count;
	double		 sum;
};

/* One upstream connection. */
struct metrics_conn {
	const char	*name;
	const char	*state;		/* status/IPC state: "connected", ... */
	const char	*detail;	/* conn.c state: "ready", "gave-up", ... */
	const char	*server;	/* current server (redacted), or NULL */
	int		 is_default;
	int		 store_ok;	/* publish store writable */
	const char	*store;		/* its medium: "sqlite", "memory" */
	uint64_t	 store_bytes;	/* memory store: bytes held */
	uint64_t	 store_limit;	/* ... and its bound (0: none) */
	uint64_t	 reconnects;	/* attempts after a failure */
	uint64_t	 logons;	/* successful logons */
	uint64_t	 failures;	/* failed attempts and disconnects */
	uint64_t	 unpersisted;	/* stored, not yet persisted by AMPS */
	uint64_t	 published;	/* publishes stored for programs */
	uint64_t	 acked;		/* publishes persisted by AMPS */
	uint64_t	 failed_writes;	/* publishes the store refused or lost */
	uint64_t	 refused;	/* publishes AMPS refused (failure ack) */
	uint64_t	 sent;		/* publishes sent upstream */
	uint64_t	 replayed;	/* ... of which sent again (recovery) */
	uint64_t	 renumbered;	/* never-sent, renumbered at logon */
	uint64_t	 seq_assumed;	/* taken as persisted by a foreign s */
	uint64_t	 server_lost;	/* logons behind the persisted point */
	uint64_t	 damaged;	/* failed their checksum, quarantined */
	uint64_t	 acl_dropped;	/* deliveries the allow rules refused */
	uint64_t	 persisted_seq;
};

/* One program: the IPC clients with the same uid and HELLO name. */
struct metrics_prog {
	unsigned long	 uid;
	const char	*name;		/* "" when the program gave none */
	uint64_t	 clients;
	uint64_t	 subscriptions;
	uint64_t	 pending;	/* delivered, not discarded or acked */
	uint64_t	 queued_bytes;	/* IPC output not yet written */
};

/* Commits of one kind of store. */
struct metrics_store {
	const char	*kind;		/* "publish", "bookmark" */
	uint64_t	 commits;
	uint64_t	 failures;
};

/* The process_* figures (metrics-proc.c). */
struct metrics_proc {
	int		 valid;
	double		 cpu_seconds;
	double		 start_time;	/* Unix seconds */
	uint64_t	 rss_bytes;
	uint64_t	 vsize_bytes;
	uint64_t	 open_fds;
	uint64_t	 max_fds;
};

struct metrics_snap {
	const char		*version;
	double			 start_time;	/* Unix seconds */
	uint64_t		 ipc_clients;
	uint64_t		 subscriptions;
	uint64_t		 durable_subscriptions;
	struct metrics_store	 stores[2];
	size_t			 nstores;
	struct metrics_hist	 commit;	/* seconds per commit */
	struct metrics_conn	*conns;
	size_t			 nconns;
	struct metrics_prog	*progs;
	size_t			 nprogs;
	struct metrics_proc	 proc;		/* /metrics only */
};

/* metrics-text.c: pure */
void		 metrics_hist_observe(struct metrics_hist *, double);
uint64_t	 metrics_hist_le(const struct metrics_hist *, size_t);
void		 metrics_put_label(FILE *, const char *);
int		 metrics_render(const struct metrics_snap *, FILE *);

/* metrics-proc.c: the process_* metrics */
int		 metrics_proc_parse_stat(const char *, long, long, double,
		    struct metrics_proc *);
int		 metrics_proc_read(struct metrics_proc *);
void		 metrics_proc_render(const struct metrics_proc *, FILE *);

/* metrics.c: the HTTP endpoint (docs in metrics.c) */
typedef int	(*metrics_text_fn)(void *, FILE *);
struct metrics	*metrics_listen(struct event_base *,
		    const struct conf_metrics *, metrics_text_fn, void *,
		    char **);
void		 metrics_close(struct metrics *);

#endif /* AMPSD_METRICS_H */
