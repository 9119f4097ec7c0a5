/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * simconf.c: ampsim's configuration.  Owns the global `conf`: listener
 * and behaviour settings (filled from the command line by ampsim.c) and
 * the topic tables (SOW topics, transaction-logged patterns, queues) read
 * from a small line-oriented file, or the zero-setup defaults.
 *
 * File format (one directive per line, '#' starts a comment):
 *
 *	sow   <topic> key=/id[,/other] [expiration] [history]
 *	sow   <topic> user_keys [expiration] [history]
 *	txlog <topic-or-regex>
 *	queue <name> topic=<t>[,<t2>] [semantics=at-least-once|at-most-once]
 *	      [lease=<interval>] [backlog=<n>] [max_deliveries=<n>]
 *	      [max_cancels=<n>]
 *
 * Defaults (no file): "sow orders key=/id expiration history", "txlog .*",
 * "queue work topic=work-in semantics=at-least-once lease=30s backlog=10".
 *
 * Invariants:
 *  1. Topic tables are only changed before the loop starts.
 *  2. A SOW topic name is exact (no regex); txlog patterns may be regexes.
 *  3. conf_txlogged() answers from a cache of at most TXL_CACHE_MAX
 *     topics, emptied whenever a txlog pattern is added (and when full),
 *     so it always agrees with the patterns.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsim.h"
#include "strmap.h"
#include "topicmatch.h"

#define TXL_CACHE_MAX	4096

static void	txl_cache_clear(void);

struct simconf conf;

/* Set the built-in defaults for everything but topics. */
void
conf_init(void)
{
	memset(&conf, 0, sizeof conf);
	conf.addr = xstrdup("127.0.0.1");
	conf.port = 9007;
	conf.tls_port = -1;
	conf.admin_port = -1;
	conf.repl_port = -1;
	conf.ack_conflation_ms = 1000;
	conf.hb_multiple = 2;
	conf.out_limit = 64 * 1024 * 1024;
	conf.dupack = DUPACK_SUCCESS;
	conf.bmnf_default = BMNF_NOW;
	conf.bm_persisted_ms = 1000;
	conf.frame_max = AMPS_FRAME_MAX_DEFAULT;
	conf.instance = xstrdup("ampsim");
	TAILQ_INIT(&conf.topics);
	TAILQ_INIT(&conf.txpats);
	TAILQ_INIT(&conf.queues);
}

/* Split s on commas into a new NULL-free array. */
static char **
split_list(const char *s, size_t *n)
{
	char		**v = NULL;
	const char	*p = s, *c;

	*n = 0;
	while (*p != '\0') {
		c = strchr(p, ',');
		if (c == NULL)
			c = p + strlen(p);
		if (c > p) {
			v = xrealloc(v, (*n + 1) * sizeof *v);
			v[(*n)++] = xstrndup(p, (size_t)(c - p));
		}
		p = *c ? c + 1 : c;
	}
	return (v);
}

/* Parse one "sow" directive. */
static int
conf_sow(char **w, int nw, char *err, size_t errlen)
{
	struct simtopic	*t;
	int		 i;

	if (nw < 3) {
		snprintf(err, errlen, "sow: need a topic and key=/path or "
		    "user_keys");
		return (-1);
	}
	if (conf_sow_topic(w[1], strlen(w[1])) != NULL) {
		snprintf(err, errlen, "sow: topic %s defined twice", w[1]);
		return (-1);
	}
	t = xcalloc(1, sizeof *t);
	t->name = xstrdup(w[1]);
	for (i = 2; i < nw; i++) {
		if (strncmp(w[i], "key=", 4) == 0)
			t->keys = split_list(w[i] + 4, &t->nkeys);
		else if (strcmp(w[i], "user_keys") == 0)
			t->user_keys = 1;
		else if (strcmp(w[i], "expiration") == 0)
			t->expiration = 1;
		else if (strcmp(w[i], "history") == 0)
			t->history = 1;
		else {
			snprintf(err, errlen, "sow: unknown word %s", w[i]);
			return (-1);
		}
	}
	if (t->nkeys == 0 && !t->user_keys) {
		snprintf(err, errlen, "sow %s: no keys", t->name);
		return (-1);
	}
	for (i = 0; i < (int)t->nkeys; i++) {
		if (t->keys[i][0] != '/') {
			snprintf(err, errlen, "sow %s: key %s is not a path",
			    t->name, t->keys[i]);
			return (-1);
		}
	}
	TAILQ_INSERT_TAIL(&conf.topics, t, entry);
	return (0);
}

/* Parse one "txlog" directive. */
static int
conf_txlog(char **w, int nw, char *err, size_t errlen)
{
	struct simtxpat	*p;
	char		 e[128];

	if (nw != 2) {
		snprintf(err, errlen, "txlog: need one topic or regex");
		return (-1);
	}
	p = xcalloc(1, sizeof *p);
	p->pattern = xstrdup(w[1]);
	p->tm = topicmatch_new(w[1], strlen(w[1]), 0, e, sizeof e);
	if (p->tm == NULL) {
		snprintf(err, errlen, "txlog %s: %s", w[1], e);
		free(p->pattern);
		free(p);
		return (-1);
	}
	TAILQ_INSERT_TAIL(&conf.txpats, p, entry);
	txl_cache_clear();
	return (0);
}

/* Parse one "queue" directive. */
static int
conf_queue_line(char **w, int nw, char *err, size_t errlen)
{
	struct simqueue	*q;
	long long	 v;
	int		 i;

	if (nw < 3) {
		snprintf(err, errlen, "queue: need a name and topic=...");
		return (-1);
	}
	q = xcalloc(1, sizeof *q);
	q->name = xstrdup(w[1]);
	q->sem = QSEM_AT_LEAST_ONCE;
	q->lease_ms = 30000;
	q->max_backlog = 10;
	for (i = 2; i < nw; i++) {
		if (strncmp(w[i], "topic=", 6) == 0)
			q->topics = split_list(w[i] + 6, &q->ntopics);
		else if (strcmp(w[i], "semantics=at-least-once") == 0)
			q->sem = QSEM_AT_LEAST_ONCE;
		else if (strcmp(w[i], "semantics=at-most-once") == 0)
			q->sem = QSEM_AT_MOST_ONCE;
		else if (strncmp(w[i], "lease=", 6) == 0) {
			v = sim_parse_interval_ms(w[i] + 6, strlen(w[i] + 6));
			if (v <= 0) {
				snprintf(err, errlen, "queue: bad lease");
				return (-1);
			}
			q->lease_ms = (unsigned)v;
		} else if (strncmp(w[i], "max_deliveries=", 15) == 0)
			q->max_deliveries = (unsigned)strtoul(w[i] + 15,
			    NULL, 10);
		else if (strncmp(w[i], "max_cancels=", 12) == 0)
			q->max_cancels = (unsigned)strtoul(w[i] + 12, NULL,
			    10);
		else if (strncmp(w[i], "backlog=", 8) == 0) {
			v = strtoll(w[i] + 8, NULL, 10);
			if (v <= 0 || v > 1000000) {
				snprintf(err, errlen, "queue: bad backlog");
				return (-1);
			}
			q->max_backlog = (unsigned)v;
		} else {
			snprintf(err, errlen, "queue: unknown word %s", w[i]);
			return (-1);
		}
	}
	if (q->ntopics == 0) {
		snprintf(err, errlen, "queue %s: no topic=", q->name);
		return (-1);
	}
	TAILQ_INSERT_TAIL(&conf.queues, q, entry);
	return (0);
}

/* Parse one configuration line (comments and blank lines allowed). */
int
conf_add_line(const char *line, char *err, size_t errlen)
{
	char	*copy, *p, *w[32];
	int	 nw = 0, rc;

	copy = xstrdup(line);
	if ((p = strchr(copy, '#')) != NULL)
		*p = '\0';
	for (p = strtok(copy, " \t\r\n"); p != NULL && nw < 32;
	    p = strtok(NULL, " \t\r\n"))
		w[nw++] = p;
	if (nw == 0)
		rc = 0;
	else if (strcmp(w[0], "sow") == 0)
		rc = conf_sow(w, nw, err, errlen);
	else if (strcmp(w[0], "txlog") == 0)
		rc = conf_txlog(w, nw, err, errlen);
	else if (strcmp(w[0], "queue") == 0)
		rc = conf_queue_line(w, nw, err, errlen);
	else {
		snprintf(err, errlen, "unknown directive %s", w[0]);
		rc = -1;
	}
	free(copy);
	return (rc);
}

/* Read a configuration file. */
int
conf_load_file(const char *path, char *err, size_t errlen)
{
	FILE	*f;
	char	 line[4096], e[256];
	int	 n = 0;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		n++;
		if (conf_add_line(line, e, sizeof e) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, n, e);
			fclose(f);
			return (-1);
		}
	}
	fclose(f);
	return (0);
}

/* The zero-setup configuration used when no file is given. */
void
conf_load_defaults(void)
{
	static const char *lines[] = {
		"sow orders key=/id expiration history",
		"txlog .*",
		"queue work topic=work-in semantics=at-least-once lease=30s "
		    "backlog=10",
	};
	char	err[256];
	size_t	i;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		if (conf_add_line(lines[i], err, sizeof err) != 0)
			sim_fatalx("default config: %s", err);
}

/* The SOW topic named exactly t, or NULL. */
struct simtopic *
conf_sow_topic(const char *t, size_t len)
{
	struct simtopic	*st;

	TAILQ_FOREACH(st, &conf.topics, entry)
		if (strlen(st->name) == len && memcmp(st->name, t, len) == 0)
			return (st);
	return (NULL);
}

/* The queue named exactly t, or NULL. */
struct simqueue *
conf_queue(const char *t, size_t len)
{
	struct simqueue	*q;

	TAILQ_FOREACH(q, &conf.queues, entry)
		if (strlen(q->name) == len && memcmp(q->name, t, len) == 0)
			return (q);
	return (NULL);
}

/*
 * Answers of conf_txlogged() by topic (invariant 3): a publish asks for
 * every message, and a regex pattern costs a pcre2 match each time.
 */
struct txl_entry {
	struct strmap_node	 node;
	int			 logged;
	char			 topic[];
};
static struct strmap	 txl_cache;

/* Forget the cached answers (the patterns changed). */
static void
txl_cache_clear(void)
{
	struct strmap_node	*n;
	size_t			 i;

	for (i = 0; i < txl_cache.nb; i++)
		while ((n = txl_cache.b[i]) != NULL) {
			strmap_remove(&txl_cache, n);
			free(STRMAP_ENTRY(n, struct txl_entry, node));
		}
	strmap_free(&txl_cache);
}

/* Whether topic t (len bytes) is recorded in the transaction log. */
int
conf_txlogged(const char *t, size_t len)
{
	struct simtxpat		*p;
	struct strmap_node	*n;
	struct txl_entry	*e;
	char			 key[256];
	int			 logged = 0, cacheable;

	cacheable = len < sizeof key && memchr(t, '\0', len) == NULL;
	if (cacheable) {
		memcpy(key, t, len);
		key[len] = '\0';
		if ((n = strmap_find(&txl_cache, key)) != NULL)
			return (STRMAP_ENTRY(n, struct txl_entry, node)->logged);
	}
	TAILQ_FOREACH(p, &conf.txpats, entry)
		if (topicmatch_match(p->tm, t, len)) {
			logged = 1;
			break;
		}
	if (cacheable) {
		if (txl_cache.n >= TXL_CACHE_MAX)
			txl_cache_clear();
		e = xmalloc(sizeof *e + len + 1);
		memcpy(e->topic, key, len + 1);
		e->logged = logged;
		strmap_insert(&txl_cache, &e->node, e->topic);
	}
	return (logged);
}

/* Log the effective topic configuration. */
void
conf_dump(void)
{
	struct simtopic	*t;
	struct simtxpat	*p;
	struct simqueue	*q;

	TAILQ_FOREACH(t, &conf.topics, entry)
		sim_log(LOG_INFO, "conf: sow %s %s%s%s%s", t->name,
		    t->user_keys ? "user_keys" : "key=",
		    t->nkeys ? t->keys[0] : "",
		    t->expiration ? " expiration" : "",
		    t->history ? " history" : "");
	TAILQ_FOREACH(p, &conf.txpats, entry)
		sim_log(LOG_INFO, "conf: txlog %s", p->pattern);
	TAILQ_FOREACH(q, &conf.queues, entry)
		sim_log(LOG_INFO, "conf: queue %s topic=%s %s lease=%ums "
		    "backlog=%u", q->name, q->topics[0],
		    q->sem == QSEM_AT_LEAST_ONCE ? "at-least-once" :
		    "at-most-once", q->lease_ms, q->max_backlog);
}
