/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The decision half of a configuration reload (SIGHUP, `ampsctl
 * reload`).  conf_diff() compares the running configuration with a newly
 * parsed and checked one and lists every difference, each marked live or
 * not; conf_diff_apply() moves the live values into the running
 * configuration.  reload.c does the I/O half (TLS contexts, allow rules,
 * log target, connections).  Pure logic: no sockets, stores or files.
 *
 * Live (taken at once, or at the next connect for what only matters
 * then):
 *   log target/file/facility, log level, log trace, shutdown-timeout;
 *   per connection: server list, heartbeat, logon-timeout, reconnect,
 *   tls, allow rules, queue-ack.
 * Not live (the old value is kept and the change is reported as needing
 * a restart; the rest of the reload still applies):
 *   socket path/mode/group, state-directory, metrics listen, a
 *   connection added or removed (a rename is both), and per connection
 *   client-name, durability and default.  These name files, sockets and
 *   the AMPS identity that stores and connected programs (or a scraper)
 *   already depend on.
 *
 * Invariants:
 *   (1) conf_diff() modifies neither configuration.
 *   (2) After conf_diff_apply(running, next, d), conf_diff(running, next)
 *       with a fresh parse of the same file lists only changes that are
 *       not live.
 *   (3) conf_diff_apply() never frees, moves or renames a struct
 *       conf_conn of the running configuration: it swaps field values,
 *       so pointers held by the daemon stay valid; next receives the old
 *       values and is freed by the caller.
 *   (4) Connections are matched by name, never by position.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf-diff.h"
#include "xmalloc.h"

/* Equal strings, NULL equal only to NULL. */
static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Record one change. */
static void __attribute__((__format__(printf, 4, 5)))
diff_add(struct conf_diff *d, unsigned bit, int live, const char *fmt, ...)
{
	struct conf_change	*ch;
	char			 buf[256];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	d->v = xreallocarray(d->v, d->n + 1, sizeof *d->v);
	ch = &d->v[d->n++];
	ch->text = xstrdup(buf);
	ch->bit = bit;
	ch->live = live;
	if (!live)
		d->nrefused++;
}

/* Same servers in the same order. */
static int
servers_eq(const struct conf_conn *a, const struct conf_conn *b)
{
	size_t	i;

	if (a->nservers != b->nservers)
		return (0);
	for (i = 0; i < a->nservers; i++)
		if (!str_eq(a->servers[i].uri, b->servers[i].uri))
			return (0);
	return (1);
}

/* Same reconnect policy. */
static int
reconnect_eq(const struct connha_policy *a, const struct connha_policy *b)
{
	return (a->kind == b->kind && a->initial_ms == b->initial_ms &&
	    a->max_ms == b->max_ms && a->factor == b->factor &&
	    a->giveup_ms == b->giveup_ms && a->jitter == b->jitter);
}

/* Same tls block (its line number does not count). */
static int
tls_eq(const struct conf_tls *a, const struct conf_tls *b)
{
	return ((a->line != 0) == (b->line != 0) && str_eq(a->ca, b->ca) &&
	    str_eq(a->cert, b->cert) && str_eq(a->key, b->key) &&
	    str_eq(a->server_name, b->server_name) && a->verify == b->verify);
}

/* Same allow rules in the same order. */
static int
allows_eq(const struct conf_conn *a, const struct conf_conn *b)
{
	size_t	i;

	if (a->nallows != b->nallows)
		return (0);
	for (i = 0; i < a->nallows; i++) {
		if (a->allows[i].what != b->allows[i].what ||
		    a->allows[i].is_group != b->allows[i].is_group ||
		    !str_eq(a->allows[i].name, b->allows[i].name) ||
		    !str_eq(a->allows[i].topic, b->allows[i].topic))
			return (0);
	}
	return (1);
}

/* Compare one connection block with its namesake. */
static unsigned
diff_conn(struct conf_diff *d, const struct conf_conn *a,
    const struct conf_conn *b)
{
	static const struct {
		unsigned	 bit;
		int		 live;
		const char	*name;
	} names[] = {
		{ CONF_CH_SERVERS, 1, "server" },
		{ CONF_CH_HEARTBEAT, 1, "heartbeat" },
		{ CONF_CH_LOGON, 1, "logon-timeout" },
		{ CONF_CH_RECONNECT, 1, "reconnect" },
		{ CONF_CH_TLS, 1, "tls" },
		{ CONF_CH_ALLOW, 1, "allow" },
		{ CONF_CH_QUEUE_ACK, 1, "queue-ack" },
		{ CONF_CH_CLIENT_NAME, 0, "client-name" },
		{ CONF_CH_DURABILITY, 0, "durability" },
		{ CONF_CH_DEFAULT, 0, "default" },
	};
	unsigned	bits = 0;
	size_t		i;

	if (!servers_eq(a, b))
		bits |= CONF_CH_SERVERS;
	if (a->heartbeat_ms != b->heartbeat_ms || a->timeout_ms != b->timeout_ms)
		bits |= CONF_CH_HEARTBEAT;
	if (a->logon_timeout_ms != b->logon_timeout_ms)
		bits |= CONF_CH_LOGON;
	if (!reconnect_eq(&a->reconnect, &b->reconnect))
		bits |= CONF_CH_RECONNECT;
	if (!tls_eq(&a->tls, &b->tls))
		bits |= CONF_CH_TLS;
	if (!allows_eq(a, b))
		bits |= CONF_CH_ALLOW;
	if (a->ack_batch != b->ack_batch ||
	    a->ack_timeout_ms != b->ack_timeout_ms)
		bits |= CONF_CH_QUEUE_ACK;
	if (!str_eq(a->client_name, b->client_name))
		bits |= CONF_CH_CLIENT_NAME;
	if (a->durability != b->durability ||
	    (a->durability == CONF_DURABILITY_MEMORY &&
	    a->memory_limit != b->memory_limit))
		bits |= CONF_CH_DURABILITY;
	if (a->is_default != b->is_default)
		bits |= CONF_CH_DEFAULT;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (bits & names[i].bit)
			diff_add(d, names[i].bit, names[i].live,
			    "connection %s: %s", a->name, names[i].name);
	return (bits);
}

/* Same log destination (target, and its file or facility). */
static int
log_target_eq(const struct conf *a, const struct conf *b)
{
	if (a->log_target != b->log_target)
		return (0);
	if (a->log_target == CONF_LOG_FILE)
		return (str_eq(a->log_file, b->log_file));
	if (a->log_target == CONF_LOG_SYSLOG)
		return (str_eq(a->log_facility, b->log_facility));
	return (1);
}

/*
 * Compare the running configuration with next (both passed conf_check)
 * and fill d (free it with conf_diff_free).  Returns the number of
 * changes; d->nrefused of them need a restart.
 */
int
conf_diff(const struct conf *running, const struct conf *next,
    struct conf_diff *d)
{
	const struct conf_conn	*cc;
	size_t			 i;

	memset(d, 0, sizeof *d);
	d->nconn = running->nconns;
	d->conn = xcalloc(d->nconn ? d->nconn : 1, sizeof *d->conn);
	if (!str_eq(running->socket_path, next->socket_path) ||
	    running->socket_mode != next->socket_mode ||
	    !str_eq(running->socket_group, next->socket_group)) {
		d->top |= CONF_CH_SOCKET;
		diff_add(d, CONF_CH_SOCKET, 0, "socket");
	}
	if (!str_eq(running->state_dir, next->state_dir)) {
		d->top |= CONF_CH_STATEDIR;
		diff_add(d, CONF_CH_STATEDIR, 0, "state-directory");
	}
	if (!str_eq(running->metrics.listen, next->metrics.listen) ||
	    running->metrics.allow_remote != next->metrics.allow_remote) {
		d->top |= CONF_CH_METRICS;
		diff_add(d, CONF_CH_METRICS, 0, "metrics");
	}
	if (!log_target_eq(running, next)) {
		d->top |= CONF_CH_LOG_TARGET;
		diff_add(d, CONF_CH_LOG_TARGET, 1, "log target");
	}
	if (running->log_verbose != next->log_verbose) {
		d->top |= CONF_CH_LOG_LEVEL;
		diff_add(d, CONF_CH_LOG_LEVEL, 1, "log level");
	}
	if (running->log_trace != next->log_trace) {
		d->top |= CONF_CH_LOG_TRACE;
		diff_add(d, CONF_CH_LOG_TRACE, 1, "log trace");
	}
	if (running->shutdown_ms != next->shutdown_ms) {
		d->top |= CONF_CH_SHUTDOWN;
		diff_add(d, CONF_CH_SHUTDOWN, 1, "shutdown-timeout");
	}
	for (i = 0; i < running->nconns; i++) {
		cc = conf_find_conn(next, running->conns[i]->name);
		if (cc == NULL) {
			d->top |= CONF_CH_CONNS;
			diff_add(d, CONF_CH_CONNS, 0, "removing connection %s",
			    running->conns[i]->name);
			continue;
		}
		d->conn[i] = diff_conn(d, running->conns[i], cc);
	}
	for (i = 0; i < next->nconns; i++) {
		if (conf_find_conn(running, next->conns[i]->name) != NULL)
			continue;
		d->top |= CONF_CH_CONNS;
		diff_add(d, CONF_CH_CONNS, 0, "adding connection %s",
		    next->conns[i]->name);
	}
	return ((int)d->n);
}

/* Swap two values of a type. */
#define SWAP(a, b) do {							\
	__typeof__(a) swap_tmp_ = (a);					\
	(a) = (b);							\
	(b) = swap_tmp_;						\
} while (0)

/*
 * Move every live change of d from next into running (invariant 3):
 * after this, running holds next's live values and next the old ones.
 * Settings that need a restart are left alone.  d must come from
 * conf_diff(running, next) with both unchanged since.
 */
void
conf_diff_apply(struct conf *running, struct conf *next,
    const struct conf_diff *d)
{
	struct conf_conn	*a, *b;
	unsigned		 bits;
	size_t			 i;

	if (d->top & CONF_CH_LOG_TARGET) {
		SWAP(running->log_target, next->log_target);
		SWAP(running->log_file, next->log_file);
		SWAP(running->log_facility, next->log_facility);
	}
	if (d->top & CONF_CH_LOG_LEVEL)
		SWAP(running->log_verbose, next->log_verbose);
	if (d->top & CONF_CH_LOG_TRACE)
		SWAP(running->log_trace, next->log_trace);
	if (d->top & CONF_CH_SHUTDOWN)
		SWAP(running->shutdown_ms, next->shutdown_ms);
	for (i = 0; i < d->nconn && i < running->nconns; i++) {
		bits = d->conn[i];
		a = running->conns[i];
		if (bits == 0 || (b = conf_find_conn(next, a->name)) == NULL)
			continue;
		if (bits & CONF_CH_SERVERS) {
			SWAP(a->servers, b->servers);
			SWAP(a->nservers, b->nservers);
		}
		if (bits & CONF_CH_HEARTBEAT) {
			SWAP(a->heartbeat_ms, b->heartbeat_ms);
			SWAP(a->timeout_ms, b->timeout_ms);
		}
		if (bits & CONF_CH_LOGON) {
			SWAP(a->logon_timeout_ms, b->logon_timeout_ms);
			SWAP(a->logon_timeout_set, b->logon_timeout_set);
		}
		if (bits & CONF_CH_RECONNECT)
			SWAP(a->reconnect, b->reconnect);
		if (bits & CONF_CH_TLS)
			SWAP(a->tls, b->tls);
		if (bits & CONF_CH_ALLOW) {
			SWAP(a->allows, b->allows);
			SWAP(a->nallows, b->nallows);
		}
		if (bits & CONF_CH_QUEUE_ACK) {
			SWAP(a->ack_batch, b->ack_batch);
			SWAP(a->ack_timeout_ms, b->ack_timeout_ms);
		}
	}
	if (next->has_secrets)
		running->has_secrets = 1;
}

/* Append s to the growing string *buf of length *len. */
static void
summary_put(char **buf, size_t *len, const char *s)
{
	size_t	n = strlen(s);

	*buf = xreallocarray(*buf, *len + n + 1, 1);
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

/* Append the texts of the changes with live == want, comma-separated. */
static void
summary_list(char **buf, size_t *len, const struct conf_diff *d, int want)
{
	size_t	i;
	int	first = 1;

	for (i = 0; i < d->n; i++) {
		if (d->v[i].live != want)
			continue;
		if (!first)
			summary_put(buf, len, ", ");
		summary_put(buf, len, d->v[i].text);
		first = 0;
	}
}

/*
 * One line saying what the reload does: "no change", or "applied: A, B"
 * and/or "needs a restart (old value kept): C".  The caller frees it.
 */
char *
conf_diff_summary(const struct conf_diff *d)
{
	char	*s = xstrdup("");
	size_t	 len = 0;

	if (d->n == 0)
		summary_put(&s, &len, "no change");
	if (d->n > d->nrefused) {
		summary_put(&s, &len, "applied: ");
		summary_list(&s, &len, d, 1);
	}
	if (d->nrefused > 0) {
		if (d->n > d->nrefused)
			summary_put(&s, &len, "; ");
		summary_put(&s, &len, "needs a restart (old value kept): ");
		summary_list(&s, &len, d, 0);
	}
	return (s);
}

/* Free what conf_diff() allocated; d can be reused. */
void
conf_diff_free(struct conf_diff *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].text);
	free(d->v);
	free(d->conn);
	memset(d, 0, sizeof *d);
}
