/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Rendering a struct metrics_snap as Prometheus text exposition format
 * 0.0.4, and the latency histogram behind ampsd_store_commit_seconds.
 * Pure: a snapshot in, text out (to a FILE the caller owns); no clock,
 * no sockets, no daemon state.  The metric names, types and help texts
 * are listed in ampsd(8), METRICS.
 *
 * Invariants:
 *   (1) Every family is written as one block: "# HELP", "# TYPE", then
 *       all of its samples, so no family appears twice.
 *   (2) Label values are escaped per the format (\\, \", \n) and are
 *       valid UTF-8: a byte that does not start a well-formed sequence
 *       becomes U+FFFD.
 *   (3) Histogram buckets are cumulative and end with le="+Inf", whose
 *       value equals _count.
 *   (4) Each series is unique: one per connection (per state for
 *       ampsd_connection_state), one per program (uid, name).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "ampsipc-wire.h"
#include "metrics.h"

const double	metrics_hist_bounds[METRICS_HIST_NB] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1,
};

/* The connection states, one ampsd_connection_state series each. */
static const char *const metrics_states[] = {
#define METRICS_STATE(name, num, text)	text,
	AMPSIPC_STATES(METRICS_STATE)
#undef METRICS_STATE
};

/* Count one observation of v (seconds). */
void
metrics_hist_observe(struct metrics_hist *h, double v)
{
	size_t	i;

	for (i = 0; i < METRICS_HIST_NB && v > metrics_hist_bounds[i]; i++)
		;
	h->bucket[i]++;
	h->count++;
	h->sum += v;
}

/* Observations <= bounds[i] (cumulative); i == METRICS_HIST_NB: all. */
uint64_t
metrics_hist_le(const struct metrics_hist *h, size_t i)
{
	uint64_t	n = 0;
	size_t		j;

	if (i >= METRICS_HIST_NB)
		return (h->count);
	for (j = 0; j <= i; j++)
		n += h->bucket[j];
	return (n);
}

/*
 * Length of the well-formed UTF-8 sequence at s (1..4), or 0 if the byte
 * at s does not start one (overlong, surrogate, beyond U+10FFFF, cut).
 */
static size_t
metrics_utf8_len(const unsigned char *s)
{
	unsigned char	c = s[0];

	if (c < 0x80)
		return (1);
	if (c >= 0xc2 && c <= 0xdf)
		return ((s[1] & 0xc0) == 0x80 ? 2 : 0);
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return (0);
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return (0);
		return (3);
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return (0);
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return (0);
		return (4);
	}
	return (0);
}

/* Write s as the inside of a quoted label value (invariant 2). */
void
metrics_put_label(FILE *f, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	while (*p != '\0') {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if ((n = metrics_utf8_len(p)) == 0)
			fputs("\xef\xbf\xbd", f);
		else {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		p++;
	}
}

/* "# HELP" and "# TYPE" of one family (invariant 1). */
static void
metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{connection="..."} value */
static void
metrics_conn_u64(FILE *f, const char *name, const struct metrics_conn *c,
    uint64_t v)
{
	fprintf(f, "%s{connection=\"", name);
	metrics_put_label(f, c->name);
	fprintf(f, "\"} %llu\n", (unsigned long long)v);
}

/* name{uid="...",program="..."} value */
static void
metrics_prog_u64(FILE *f, const char *name, const struct metrics_prog *p,
    uint64_t v)
{
	fprintf(f, "%s{uid=\"%lu\",program=\"", name, p->uid);
	metrics_put_label(f, p->name);
	fprintf(f, "\"} %llu\n", (unsigned long long)v);
}

/* The per-connection counters and gauges, one family each. */
static void
metrics_render_conns(const struct metrics_snap *s, FILE *f)
{
	static const struct {
		const char	*name;
		const char	*type;
		const char	*help;
		size_t		 off;
	} fam[] = {
#define F(n, t, h, field) \
	{ n, t, h, offsetof(struct metrics_conn, field) }
		F("ampsd_connection_reconnects_total", "counter",
		    "Connection attempts made after a failure or disconnect.",
		    reconnects),
		F("ampsd_connection_logons_total", "counter",
		    "Successful logons to an AMPS server.", logons),
		F("ampsd_connection_failures_total", "counter",
		    "Failed connection attempts and lost connections.",
		    failures),
		F("ampsd_connection_unpersisted", "gauge",
		    "Publishes stored and not yet persisted by AMPS.",
		    unpersisted),
		F("ampsd_connection_published_total", "counter",
		    "Publishes stored for programs (each got STORED).",
		    published),
		F("ampsd_connection_acked_total", "counter",
		    "Publishes AMPS acknowledged as persisted.", acked),
		F("ampsd_connection_failed_writes_total", "counter",
		    "Publishes the store refused or lost in a failed commit "
		    "(the program got an error).", failed_writes),
		F("ampsd_connection_refused_total", "counter",
		    "Publishes AMPS refused with a failure ack.", refused),
		F("ampsd_connection_sent_total", "counter",
		    "Publishes sent to AMPS, replays included.", sent),
		F("ampsd_connection_replayed_total", "counter",
		    "Publishes sent again from the store after a reconnect "
		    "or a restart.", replayed),
		F("ampsd_connection_renumbered_total", "counter",
		    "Stored publishes never sent that were renumbered above "
		    "the server's sequence at logon.", renumbered),
		F("ampsd_connection_seq_assumed_total", "counter",
		    "Unpersisted publishes taken as persisted because the "
		    "server's sequence did not come from this store (may be "
		    "lost).", seq_assumed),
		F("ampsd_connection_server_lost_total", "counter",
		    "Logons where the server's sequence was behind what it "
		    "had persisted (the server lost messages).", server_lost),
		F("ampsd_connection_damaged_total", "counter",
		    "Stored publishes that failed their checksum (quarantined, "
		    "not sent).", damaged),
		F("ampsd_connection_acl_dropped_total", "counter",
		    "Messages, SOW records and queue messages from this "
		    "connection not delivered to a program because its allow "
		    "rules do not allow their topic.", acl_dropped),
		F("ampsd_connection_persisted_sequence", "gauge",
		    "Highest publish sequence AMPS persisted.", persisted_seq),
		F("ampsd_connection_store_memory_bytes", "gauge",
		    "Bytes of messages the publish store holds in memory (an "
		    "SQLite store: not yet sent or persisted).", store_bytes),
		F("ampsd_connection_store_memory_limit_bytes", "gauge",
		    "The bound of a memory publish store (0: none, or a "
		    "SQLite store).", store_limit),
#undef F
	};
	const struct metrics_conn	*c;
	size_t				 i, j, k;

	metrics_family(f, "ampsd_connection_state", "gauge",
	    "Connection state: 1 for the current state, 0 for the others.");
	for (i = 0; i < s->nconns; i++) {
		c = &s->conns[i];
		for (k = 0; k < sizeof metrics_states /
		    sizeof metrics_states[0]; k++) {
			fprintf(f, "ampsd_connection_state{connection=\"");
			metrics_put_label(f, c->name);
			fprintf(f, "\",state=\"%s\"} %d\n", metrics_states[k],
			    c->state != NULL &&
			    strcmp(c->state, metrics_states[k]) == 0);
		}
	}
	metrics_family(f, "ampsd_connection_info", "gauge",
	    "Connection details (always 1): the current server while one "
	    "is in use, the detailed state, whether it is the default, the "
	    "publish store's medium (sqlite or memory).");
	for (i = 0; i < s->nconns; i++) {
		c = &s->conns[i];
		fprintf(f, "ampsd_connection_info{connection=\"");
		metrics_put_label(f, c->name);
		fprintf(f, "\",server=\"");
		metrics_put_label(f, c->server != NULL ? c->server : "");
		fprintf(f, "\",detail=\"");
		metrics_put_label(f, c->detail != NULL ? c->detail : "");
		fprintf(f, "\",default=\"%s\",store=\"%s\"} 1\n",
		    c->is_default ? "yes" : "no", c->store != NULL ? c->store :
		    "sqlite");
	}
	for (j = 0; j < sizeof fam / sizeof fam[0]; j++) {
		metrics_family(f, fam[j].name, fam[j].type, fam[j].help);
		for (i = 0; i < s->nconns; i++) {
			c = &s->conns[i];
			metrics_conn_u64(f, fam[j].name, c, *(const uint64_t *)
			    (const void *)((const char *)c + fam[j].off));
		}
	}
	metrics_family(f, "ampsd_connection_store_ok", "gauge",
	    "1 while the publish store is writable, 0 while degraded or "
	    "full.");
	for (i = 0; i < s->nconns; i++)
		metrics_conn_u64(f, "ampsd_connection_store_ok", &s->conns[i],
		    s->conns[i].store_ok != 0);
}

/* The per-program gauges. */
static void
metrics_render_progs(const struct metrics_snap *s, FILE *f)
{
	static const struct {
		const char	*name;
		const char	*help;
		size_t		 off;
	} fam[] = {
		{ "ampsd_program_clients",
		    "IPC connections of the program (uid, HELLO name).",
		    offsetof(struct metrics_prog, clients) },
		{ "ampsd_program_subscriptions",
		    "Subscriptions the program holds through the daemon.",
		    offsetof(struct metrics_prog, subscriptions) },
		{ "ampsd_program_pending_messages",
		    "Messages delivered to the program and not yet discarded "
		    "(durable) or acked (queues).",
		    offsetof(struct metrics_prog, pending) },
		{ "ampsd_program_output_queued_bytes",
		    "Bytes queued for the program and not yet written to its "
		    "socket.", offsetof(struct metrics_prog, queued_bytes) },
	};
	const struct metrics_prog	*p;
	size_t				 i, j;

	for (j = 0; j < sizeof fam / sizeof fam[0]; j++) {
		metrics_family(f, fam[j].name, "gauge", fam[j].help);
		for (i = 0; i < s->nprogs; i++) {
			p = &s->progs[i];
			metrics_prog_u64(f, fam[j].name, p, *(const uint64_t *)
			    (const void *)((const char *)p + fam[j].off));
		}
	}
}

/* The store commit counters and the latency histogram (invariant 3). */
static void
metrics_render_store(const struct metrics_snap *s, FILE *f)
{
	size_t	i;

	metrics_family(f, "ampsd_store_commits_total", "counter",
	    "Successful store commits (one per store per loop pass with "
	    "writes).");
	for (i = 0; i < s->nstores; i++) {
		fprintf(f, "ampsd_store_commits_total{store=\"");
		metrics_put_label(f, s->stores[i].kind);
		fprintf(f, "\"} %llu\n",
		    (unsigned long long)s->stores[i].commits);
	}
	metrics_family(f, "ampsd_store_commit_failures_total", "counter",
	    "Store commits that failed (their writes were lost).");
	for (i = 0; i < s->nstores; i++) {
		fprintf(f, "ampsd_store_commit_failures_total{store=\"");
		metrics_put_label(f, s->stores[i].kind);
		fprintf(f, "\"} %llu\n",
		    (unsigned long long)s->stores[i].failures);
	}
	metrics_family(f, "ampsd_store_commit_seconds", "histogram",
	    "Time of each store commit of the group commit, every store.");
	for (i = 0; i < METRICS_HIST_NB; i++)
		fprintf(f, "ampsd_store_commit_seconds_bucket{le=\"%g\"} %llu\n",
		    metrics_hist_bounds[i],
		    (unsigned long long)metrics_hist_le(&s->commit, i));
	fprintf(f, "ampsd_store_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "ampsd_store_commit_seconds_sum %.9g\n"
	    "ampsd_store_commit_seconds_count %llu\n",
	    (unsigned long long)s->commit.count, s->commit.sum,
	    (unsigned long long)s->commit.count);
}

/*
 * Write the whole exposition of s to f.  Returns 0, or -1 if f reported
 * an error (e.g. out of memory in a memstream).
 */
int
metrics_render(const struct metrics_snap *s, FILE *f)
{
	metrics_family(f, "ampsd_build_info", "gauge",
	    "ampsd build information; the value is always 1.");
	fprintf(f, "ampsd_build_info{version=\"");
	metrics_put_label(f, s->version != NULL ? s->version : "");
	fprintf(f, "\"} 1\n");
	metrics_family(f, "ampsd_start_time_seconds", "gauge",
	    "Start time of the daemon, seconds since the Unix epoch.");
	fprintf(f, "ampsd_start_time_seconds %.3f\n", s->start_time);
	metrics_family(f, "ampsd_ipc_clients", "gauge",
	    "Programs connected to the IPC socket.");
	fprintf(f, "ampsd_ipc_clients %llu\n",
	    (unsigned long long)s->ipc_clients);
	metrics_family(f, "ampsd_subscriptions", "gauge",
	    "Subscriptions held for programs, durable ones included.");
	fprintf(f, "ampsd_subscriptions %llu\n",
	    (unsigned long long)s->subscriptions);
	metrics_family(f, "ampsd_durable_subscriptions", "gauge",
	    "Durable (bookmark store) subscriptions.");
	fprintf(f, "ampsd_durable_subscriptions %llu\n",
	    (unsigned long long)s->durable_subscriptions);
	metrics_render_store(s, f);
	metrics_render_conns(s, f);
	metrics_render_progs(s, f);
	metrics_proc_render(&s->proc, f);
	return (ferror(f) ? -1 : 0);
}
