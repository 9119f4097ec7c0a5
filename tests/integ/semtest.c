/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * semtest: scenarios of docs/DESIGN.md §4 promise 7 (each program gets
 * the semantics of its own in-process HA client) through libampsipc,
 * one per defect of the audit they come from; run by t-semantics.sh
 * (heldreply by t-heldreply.sh).
 *
 *	semtest -S socket NAME...	run scenarios; exit 0 if all pass
 *
 * A scenario that needs something done to the world (an ampsim
 * disconnect, a stop or a restart) prints "HOOK <action>" on standard
 * output and reads one line from standard input when it is done: the
 * script runs semtest as a coprocess.
 */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ampsipc.h"

#define MAXM	64

struct coll {
	int	 n;
	int	 cmd[MAXM];
	char	 data[MAXM][256];
	char	 reason[MAXM][256];
	char	 cmdid[MAXM][32];
	int	 ack[MAXM];
	int	 status[MAXM];
	int	 error[MAXM];
	uint64_t deleted[MAXM];
	int	 ended;
	int	 endcode;
};

static const char	*Sock;
static int		 Failed;

/* Report a failed check. */
static void
check(struct ampsipc *h, int ok, const char *fmt, ...)
{
	va_list	ap;

	if (ok)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "  check failed: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " [%s]\n", h != NULL ? ampsipc_errmsg(h) : "");
	va_end(ap);
	Failed = 1;
}

/* Ask the script to do action; returns when it answered. */
static void
hook(const char *action)
{
	char	line[128];

	printf("HOOK %s\n", action);
	fflush(stdout);
	if (fgets(line, sizeof line, stdin) == NULL) {
		fprintf(stderr, "semtest: no answer to hook %s\n", action);
		exit(1);
	}
}

/* A connected handle, or exit. */
static struct ampsipc *
conn(const char *name)
{
	struct ampsipc	*h;

	if ((h = ampsipc_create()) == NULL ||
	    ampsipc_connect(h, Sock, name, 10000) == -1) {
		fprintf(stderr, "semtest: connect: %s\n",
		    h != NULL ? ampsipc_errmsg(h) : strerror(errno));
		exit(1);
	}
	return (h);
}

/* Handler: keep messages and acks in order. */
static int
collect(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	struct coll	*c = arg;

	if (m->command == AMPSIPC_C_END) {
		c->ended = 1;
		c->endcode = m->error;
		return (0);
	}
	if (c->n >= MAXM)
		return (0);
	c->cmd[c->n] = m->command;
	snprintf(c->data[c->n], sizeof c->data[0], "%.*s", (int)m->len,
	    (const char *)m->data);
	snprintf(c->reason[c->n], sizeof c->reason[0], "%s", m->reason);
	snprintf(c->cmdid[c->n], sizeof c->cmdid[0], "%s", m->command_id);
	c->ack[c->n] = m->ack_type;
	c->status[c->n] = m->status;
	c->error[c->n] = m->error;
	c->deleted[c->n] = m->records_deleted;
	c->n++;
	return (0);
}

/* Messages (not acks) collected. */
static int
nmsg(const struct coll *c)
{
	int	i, n = 0;

	for (i = 0; i < c->n; i++)
		n += c->cmd[i] != AMPSIPC_C_ACK;
	return (n);
}

/* Poll h until cond(c) or ms pass; returns cond(c). */
static int
wait_cond(struct ampsipc *h, struct coll *c, int (*cond)(struct coll *,
    int), int arg, int ms)
{
	while (!cond(c, arg) && ms > 0) {
		if (ampsipc_poll(h, 20) == -1)
			break;
		ms -= 20;
	}
	return (cond(c, arg));
}

static int
has_msgs(struct coll *c, int n)
{
	return (nmsg(c) >= n);
}

static int
has_n(struct coll *c, int n)
{
	return (c->n >= n);
}

/* A command with a topic, a filter and options. */
static struct ampsipc_command *
mk(int c, const char *topic, const char *filter, const char *opts)
{
	struct ampsipc_command	*x = ampsipc_cmd_new(c);

	if (x == NULL) {
		perror("semtest");
		exit(1);
	}
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, topic);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_FILTER, filter);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_OPTIONS, opts);
	return (x);
}

/*
 * Subscribe on h with sub_id id (opts "pause", "resume", "replace":
 * change it), from bookmark bm (NULL: none), collecting into c (NULL:
 * no handler); what names the check.
 */
static void
sub(struct ampsipc *h, const char *topic, const char *filter,
    const char *opts, const char *id, const char *bm, struct coll *c,
    const char *what)
{
	struct ampsipc_command	*x;

	x = mk(AMPSIPC_C_SUBSCRIBE, topic, filter, opts);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, id);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_BOOKMARK, bm);
	check(h, ampsipc_execute_async(h, x, c != NULL ? collect : NULL, c) ==
	    0, "%s", what);
	ampsipc_cmd_free(x);
}

/* Publish on conn (NULL: default) and wait for AMPS to persist it. */
static void
pub(struct ampsipc *h, const char *topic, const char *json)
{
	check(h, ampsipc_publish(h, topic, json, strlen(json), NULL,
	    NULL) == 0, "publish %s", topic);
	check(h, ampsipc_publish_flush(h, 20000) == 0, "publish_flush");
}

/* Monotonic milliseconds. */
static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

struct connwatch {
	char	conn[64];
	int	error;
	char	reason[256];
	int	seen;
};

/* Connection events: remember the last error of one connection. */
static void
on_conn(struct ampsipc *h, const struct ampsipc_conn_event *ev, void *arg)
{
	struct connwatch	*w = arg;

	if (strcmp(ev->conn, w->conn) != 0 || ev->error == 0)
		return;
	w->error = ev->error;
	snprintf(w->reason, sizeof w->reason, "%s", ev->reason);
	w->seen++;
}

/*
 * Defect 1 and 5: a flush covers every connection the program published
 * on; connection "aux" is down (refused), so a flush of everything
 * times out naming it, while one of "main" succeeds.  The connection
 * events say why aux is down.
 */
static void
s_flushconn(void)
{
	struct ampsipc		*h = conn("semtest");
	struct ampsipc_pubopts	 o;
	struct connwatch	 w;
	char			*text = NULL;
	int			 ms;

	memset(&w, 0, sizeof w);
	snprintf(w.conn, sizeof w.conn, "aux");
	ampsipc_set_conn_event_handler(h, on_conn, &w);
	memset(&o, 0, sizeof o);
	o.conn = "aux";
	check(h, ampsipc_publish(h, "fa", "{\"id\":1}", 8, &o, NULL) == 0,
	    "publish on aux");
	check(h, ampsipc_wait_stored(h, 10000) == 0, "stored");
	check(h, ampsipc_publish(h, "fm", "{\"id\":2}", 8, NULL, NULL) == 0,
	    "publish on main");
	check(h, ampsipc_publish_flush(h, 1500) == -1 &&
	    ampsipc_error(h) == AMPSIPC_E_TIMED_OUT &&
	    strstr(ampsipc_errmsg(h), "connection aux") != NULL,
	    "flush of every connection waits for aux");
	check(h, ampsipc_publish_flush_conn(h, "aux", 0) == -1 &&
	    ampsipc_error(h) == AMPSIPC_E_TIMED_OUT, "aux, no wait");
	check(h, ampsipc_publish_flush_conn(h, "main", 20000) == 0,
	    "flush of main alone");
	check(h, ampsipc_publish_flush_conn(h, "nosuch", 1000) == -1 &&
	    ampsipc_error(h) == AMPSIPC_E_NO_SUCH_CONNECTION, "unknown conn");
	check(h, ampsipc_unpersisted(h) == 1, "one unpersisted (%llu)",
	    (unsigned long long)ampsipc_unpersisted(h));
	for (ms = 0; w.seen == 0 && ms < 10000; ms += 20)
		(void)ampsipc_poll(h, 20);
	check(h, w.seen > 0 && w.error == AMPSIPC_E_CONNECTION_REFUSED &&
	    strstr(w.reason, "refused") != NULL, "aux down: refused (%d %s)",
	    w.error, w.reason);
	check(h, ampsipc_status(h, "aux", &text, 5000) == 0 && text != NULL &&
	    strstr(text, "error=14 ") != NULL &&
	    strstr(text, "own_unpersisted=1") != NULL, "status of aux: %s",
	    text != NULL ? text : "-");
	free(text);
	ampsipc_close(h);
}

/*
 * Defect 7: with AMPS conflating persisted acks for ten minutes, a flush
 * still returns: the daemon asks AMPS for a flush.
 */
static void
s_flushfast(void)
{
	struct ampsipc	*h = conn("semtest");
	long long	 t0 = now_ms();

	check(h, ampsipc_publish(h, "ff", "{\"id\":1}", 8, NULL, NULL) == 0,
	    "publish");
	check(h, ampsipc_publish_flush(h, 30000) == 0,
	    "flush returns before the 10 min ack conflation");
	fprintf(stderr, "  flush took %lld ms\n", now_ms() - t0);
	ampsipc_close(h);
}

/*
 * Defect 3: a delta subscription gets deltas although another program
 * holds a full subscription to the same topic on the same connection.
 */
static void
s_delta2(void)
{
	struct ampsipc	*a = conn("delta"), *b = conn("full");
	struct coll	 ca, cb;
	struct ampsipc_command *x;

	memset(&ca, 0, sizeof ca);
	memset(&cb, 0, sizeof cb);
	x = mk(AMPSIPC_C_DELTA_SUBSCRIBE, "dz", NULL, NULL);
	check(a, ampsipc_execute_async(a, x, collect, &ca) == 0, "delta sub");
	ampsipc_cmd_free(x);
	x = mk(AMPSIPC_C_SUBSCRIBE, "dz", NULL, NULL);
	check(b, ampsipc_execute_async(b, x, collect, &cb) == 0, "full sub");
	ampsipc_cmd_free(x);
	pub(b, "dz", "{\"id\":1,\"a\":1,\"b\":1}");
	pub(b, "dz", "{\"id\":1,\"a\":2,\"b\":1}");
	check(b, wait_cond(b, &cb, has_msgs, 2, 10000), "full gets 2");
	check(a, wait_cond(a, &ca, has_msgs, 2, 10000), "delta gets 2");
	check(a, ca.n == 2 && strstr(ca.data[0], "\"b\":1") != NULL,
	    "an insert is whole: %s", ca.data[0]);
	check(a, ca.n == 2 && strstr(ca.data[1], "\"a\":2") != NULL &&
	    strstr(ca.data[1], "\"b\"") == NULL, "a delta: %s", ca.data[1]);
	check(b, cb.n == 2 && strstr(cb.data[1], "\"b\":1") != NULL,
	    "full: %s", cb.data[1]);
	ampsipc_close(a);
	ampsipc_close(b);
}

/*
 * Defect 2: a paused bookmark subscription stays paused across an
 * upstream reconnect, and its resume replays exactly what it missed.
 * A plain subscription on the same topic shows when a message has been
 * fanned out.  Also: a replaced filter survives the reconnect.
 */
static void
s_pausereconnect(void)
{
	struct ampsipc	*h = conn("semtest");
	struct coll	 p, q, r;
	int		 ms;

	memset(&p, 0, sizeof p);
	memset(&q, 0, sizeof q);
	memset(&r, 0, sizeof r);
	sub(h, "pr", NULL, NULL, "P", AMPSIPC_BOOKMARK_EPOCH, &p, "bm sub");
	sub(h, "pr", NULL, NULL, "Q", NULL, &q, "plain sub");
	sub(h, "rf", "/v = 1", NULL, "R", NULL, &r, "filtered");
	sub(h, "rf", "/v = 2", "replace", "R", NULL, &r, "replace");
	pub(h, "pr", "{\"n\":1}");
	pub(h, "pr", "{\"n\":2}");
	check(h, wait_cond(h, &p, has_msgs, 2, 10000), "P has 1, 2");
	sub(h, NULL, NULL, "pause", "P", NULL, NULL, "pause");
	pub(h, "pr", "{\"n\":3}");
	hook("disconnect");		/* back once ampsd is ready again */
	pub(h, "pr", "{\"n\":4}");
	pub(h, "rf", "{\"v\":1}");
	pub(h, "rf", "{\"v\":2}");
	check(h, wait_cond(h, &q, has_msgs, 2, 10000), "Q has 4");
	check(h, wait_cond(h, &r, has_msgs, 1, 10000), "R has v 2");
	for (ms = 0; ms < 500 && nmsg(&p) == 2; ms += 20)
		(void)ampsipc_poll(h, 20);
	check(h, nmsg(&p) == 2, "P stays paused across the reconnect (%d)",
	    nmsg(&p));
	check(h, nmsg(&r) == 1 && strstr(r.data[r.n - 1], "\"v\":2"),
	    "the replaced filter holds after the reconnect");
	sub(h, NULL, NULL, "resume", "P", NULL, NULL, "resume");
	check(h, wait_cond(h, &p, has_msgs, 4, 10000), "P has 3, 4");
	pub(h, "pr", "{\"n\":5}");
	check(h, wait_cond(h, &q, has_msgs, 3, 10000), "Q has 5");
	check(h, wait_cond(h, &p, has_msgs, 5, 10000), "P has 5");
	check(h, nmsg(&p) == 5 && strstr(p.data[2], "\"n\":3") &&
	    strstr(p.data[3], "\"n\":4") && strstr(p.data[4], "\"n\":5"),
	    "P: 1..5 once each (%d)", nmsg(&p));
	ampsipc_close(h);
}

/*
 * Defect 4: while AMPS is unreachable, an asynchronous subscription is
 * accepted at once and entered when AMPS is back; a query waits up to
 * its timeout and fails saying why, or runs once AMPS is back.
 */
static void
s_down(void)
{
	struct ampsipc	*h = conn("semtest");
	struct coll	 s, q;
	struct ampsipc_command *x;
	struct ampsipc_stream *st;
	const struct ampsipc_message *m;
	int		 rc, n = 0;

	memset(&s, 0, sizeof s);
	memset(&q, 0, sizeof q);
	hook("stop-sim");		/* ampsd in backoff */
	x = mk(AMPSIPC_C_SUBSCRIBE, "dn", NULL, NULL);
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_ACK_TYPES, AMPSIPC_ACK_PROCESSED);
	check(h, ampsipc_execute_async(h, x, collect, &s) == 0,
	    "subscribe accepted while AMPS is down");
	ampsipc_cmd_free(x);
	check(h, s.n == 1 && s.ack[0] == AMPSIPC_ACK_PROCESSED &&
	    strstr(s.reason[0], "accepted") != NULL, "ack says accepted: %s",
	    s.n > 0 ? s.reason[0] : "-");
	x = mk(AMPSIPC_C_SOW, "dsow", NULL, NULL);
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_TIMEOUT, 1500);
	check(h, ampsipc_execute(h, x) == NULL &&
	    ampsipc_error(h) == AMPSIPC_E_DISCONNECTED &&
	    strstr(ampsipc_errmsg(h), "connection main is") != NULL &&
	    strstr(ampsipc_errmsg(h), "ampsd") == NULL,
	    "sow fails after its timeout, naming the connection's state");
	hook("start-sim-when-parked");	/* AMPS back once the next waits */
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_TIMEOUT, 30000);
	st = ampsipc_execute(h, x);
	check(h, st != NULL, "sow waits for AMPS and runs");
	while (st != NULL && (rc = ampsipc_stream_next(st, &m, 10000)) == 1)
		n++;
	check(h, n == 2, "empty sow result: group_begin, group_end (%d)", n);
	ampsipc_stream_close(st);
	ampsipc_cmd_free(x);
	pub(h, "dn", "{\"n\":1}");
	check(h, wait_cond(h, &s, has_msgs, 1, 10000),
	    "the subscription made while down receives");
	ampsipc_close(h);
}

/* Defect 5: the events say why the connection is down (auth failure). */
static void
s_authfail(void)
{
	struct ampsipc		*h = conn("semtest");
	struct connwatch	 w;
	int			 ms;

	memset(&w, 0, sizeof w);
	snprintf(w.conn, sizeof w.conn, "main");
	ampsipc_set_conn_event_handler(h, on_conn, &w);
	for (ms = 0; w.seen == 0 && ms < 15000; ms += 20)
		(void)ampsipc_poll(h, 20);
	check(h, w.error == AMPSIPC_E_AUTHENTICATION &&
	    strstr(w.reason, "authentication") != NULL,
	    "auth failure seen (%d %s)", w.error, w.reason);
	ampsipc_close(h);
}

/*
 * Defect 8: the generic command publishes (persisted ack, failure ack
 * with AMPS's reason), flushes, deletes by data, carries a command id
 * and any header field.
 */
static void
s_generic(void)
{
	struct ampsipc		*h = conn("semtest");
	struct coll		 a, b, f, d, o, e;
	struct ampsipc_command	*x;
	const char		*rec = "{\"id\":7,\"v\":1}";

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	memset(&f, 0, sizeof f);
	memset(&d, 0, sizeof d);
	memset(&o, 0, sizeof o);
	memset(&e, 0, sizeof e);
	x = mk(AMPSIPC_C_SOW_AND_SUBSCRIBE, "gc", NULL, NULL);
	check(h, ampsipc_cmd_set_header(x, "send_oof", "true") == 0,
	    "header send_oof");
	check(h, ampsipc_execute_async(h, x, collect, &o) == 0, "sow_and_sub");
	ampsipc_cmd_free(x);
	x = ampsipc_cmd_new(AMPSIPC_C_PUBLISH);
	check(h, x != NULL, "publish command");
	ampsipc_cmd_set_header(x, "t", "gc");
	ampsipc_cmd_set_header(x, "cid", "c1");
	ampsipc_cmd_set_header(x, "a", "persisted");
	ampsipc_cmd_set_data(x, rec, strlen(rec));
	check(h, ampsipc_execute_async(h, x, collect, &a) == 0, "publish");
	ampsipc_cmd_free(x);
	check(h, ampsipc_publish_flush(h, 20000) == 0, "flush");
	check(h, wait_cond(h, &a, has_n, 1, 20000) && a.ack[0] ==
	    AMPSIPC_ACK_PERSISTED && a.status[0] == 0 &&
	    strcmp(a.cmdid[0], "c1") == 0, "persisted ack with cid c1");
	x = ampsipc_cmd_new(AMPSIPC_C_PUBLISH);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, "gc");
	ampsipc_cmd_set_data(x, "not json", 8);
	check(h, ampsipc_execute_async(h, x, collect, &b) == 0, "bad publish");
	ampsipc_cmd_free(x);
	check(h, wait_cond(h, &b, has_n, 1, 20000) && b.status[0] == 1 &&
	    b.reason[0][0] != '\0', "failure ack with a reason: %s",
	    b.reason[0]);
	x = ampsipc_cmd_new(AMPSIPC_C_FLUSH);
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_TIMEOUT, 20000);
	check(h, ampsipc_execute_async(h, x, collect, &f) == 0 && f.n >= 1 &&
	    f.ack[0] == AMPSIPC_ACK_PROCESSED && f.status[0] == 0,
	    "flush command");
	ampsipc_cmd_free(x);
	x = ampsipc_cmd_new(AMPSIPC_C_SOW_DELETE);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, "gc");
	ampsipc_cmd_set_data(x, rec, strlen(rec));
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_ACK_TYPES, AMPSIPC_ACK_STATS);
	check(h, ampsipc_execute_async(h, x, collect, &d) == 0, "sow_delete");
	ampsipc_cmd_free(x);
	check(h, wait_cond(h, &d, has_n, 1, 20000) &&
	    d.deleted[d.n - 1] == 1, "deleted by data (%llu)",
	    d.n > 0 ? (unsigned long long)d.deleted[d.n - 1] : 0ULL);
	check(h, wait_cond(h, &o, has_msgs, 4, 10000) &&
	    o.cmd[o.n - 1] == AMPSIPC_C_OOF, "send_oof header: an oof");
	x = mk(AMPSIPC_C_SUBSCRIBE, "gc", NULL, NULL);
	ampsipc_cmd_set_header(x, "bogus_field", "1");
	check(h, ampsipc_execute_async(h, x, collect, &e) == -1 &&
	    ampsipc_error(h) == AMPSIPC_E_COMMAND, "unknown header refused");
	check(h, ampsipc_cmd_set_header(x, "c", "p") == -1,
	    "the command word is not a header");
	ampsipc_cmd_free(x);
	ampsipc_close(h);
}

/*
 * Defect 10: a sow_delete goes upstream sequenced, stays in the store
 * until AMPS persisted it, and after a reconnect is sent again and
 * dropped by AMPS as a duplicate: a record published after it
 * survives.  (AMPS holds its persisted acks for ten minutes.)
 */
static void
s_sowdelseq(void)
{
	struct ampsipc		*h = conn("semtest");
	struct coll		 d, q;
	struct ampsipc_command	*x;

	memset(&d, 0, sizeof d);
	memset(&q, 0, sizeof q);
	check(h, ampsipc_publish(h, "sd", "{\"id\":1,\"v\":1}", 14, NULL,
	    NULL) == 0, "publish v1");
	check(h, ampsipc_wait_stored(h, 10000) == 0, "stored");
	x = mk(AMPSIPC_C_SOW_DELETE, "sd", "/id = 1", NULL);
	check(h, ampsipc_execute_async(h, x, collect, &d) == 0, "sow_delete");
	ampsipc_cmd_free(x);
	check(h, wait_cond(h, &d, has_n, 1, 20000) && d.deleted[d.n - 1] == 1,
	    "deleted 1");
	check(h, ampsipc_publish(h, "sd", "{\"id\":1,\"v\":2}", 14, NULL,
	    NULL) == 0, "publish v2");
	check(h, ampsipc_wait_stored(h, 10000) == 0, "stored");
	hook("disconnect");
	x = mk(AMPSIPC_C_SOW, "sd", NULL, NULL);
	check(h, ampsipc_execute_async(h, x, collect, &q) == 0, "sow");
	ampsipc_cmd_free(x);
	check(h, wait_cond(h, &q, has_msgs, 3, 10000) &&
	    strstr(q.data[1], "\"v\":2") != NULL,
	    "v2 survives the replayed sow_delete");
	ampsipc_close(h);
}

/*
 * An ampsd restart under a program that reconnects (ampsipc_set_reconnect):
 * publishes stored before it and sent after it reach AMPS once each, its
 * flush waits for every one of them (the new daemon adopts the earlier
 * session's stored publishes), and its subscription, paused before the
 * restart, is still paused after it.
 */
static void
s_restart(void)
{
	struct ampsipc	*h = conn("semtest");
	struct coll	 p, q;
	char		 json[64];
	int		 i, ms, rc;

	memset(&p, 0, sizeof p);
	memset(&q, 0, sizeof q);
	(void)ampsipc_set_reconnect(h, 30000);
	sub(h, "rs", NULL, NULL, "P", AMPSIPC_BOOKMARK_EPOCH, &p, "bm sub");
	sub(h, "rs", NULL, NULL, "Q", NULL, &q, "plain sub");
	for (i = 1; i <= 50; i++) {
		snprintf(json, sizeof json, "{\"n\":%d}", i);
		check(h, ampsipc_publish(h, "rs", json, strlen(json), NULL,
		    NULL) == 0, "publish %d", i);
	}
	check(h, ampsipc_wait_stored(h, 20000) == 0, "stored");
	check(h, wait_cond(h, &p, has_msgs, 1, 20000), "P has a message");
	sub(h, NULL, NULL, "pause", "P", NULL, NULL, "pause");
	check(h, ampsipc_ping(h, 10000) == 0, "ping");
	hook("restart-ampsd");
	for (i = 51; i <= 100; i++) {
		snprintf(json, sizeof json, "{\"n\":%d}", i);
		check(h, ampsipc_publish(h, "rs", json, strlen(json), NULL,
		    NULL) == 0, "publish %d", i);
	}
	rc = ampsipc_publish_flush(h, 30000);
	check(h, rc == 0 && ampsipc_unpersisted(h) == 0, "flush after the "
	    "restart (rc %d, error %d, %llu left)", rc, ampsipc_error(h),
	    (unsigned long long)ampsipc_unpersisted(h));
	check(h, ampsipc_reconnects(h) == 1, "reconnected once (%llu)",
	    (unsigned long long)ampsipc_reconnects(h));
	check(h, wait_cond(h, &q, has_msgs, 50, 20000),
	    "the plain subscription is back (%d)", nmsg(&q));
	ms = nmsg(&p);
	(void)ampsipc_poll(h, 300);
	check(h, nmsg(&p) == ms && ms < 100, "P stayed paused (%d)", nmsg(&p));
	ampsipc_close(h);
}

/* What became of up to three publishes, by reqid. */
struct pubev {
	uint32_t reqid[3];
	int	 stored[3];
	int	 persisted[3];
	int	 failed[3];
	int	 early[3];	/* PERSISTED or FAILED before STORED */
	char	 reason[256];
};

/* Publish events: count them per publish. */
static void
on_pub(struct ampsipc *h, const struct ampsipc_pubevent *ev, void *arg)
{
	struct pubev	*e = arg;
	int		 i;

	for (i = 0; i < 3 && e->reqid[i] != ev->reqid; i++)
		;
	if (i == 3)
		return;
	if (ev->kind != AMPSIPC_PUB_STORED && e->stored[i] == 0)
		e->early[i]++;
	if (ev->kind == AMPSIPC_PUB_STORED)
		e->stored[i]++;
	else if (ev->kind == AMPSIPC_PUB_PERSISTED)
		e->persisted[i]++;
	else if (ev->kind == AMPSIPC_PUB_FAILED) {
		e->failed[i]++;
		snprintf(e->reason, sizeof e->reason, "%s", ev->reason);
	}
}

/*
 * Replies held behind a commit (the commit thread stopped by the
 * script): A on "main" waits for its commit; B and C on "mem" (a memory
 * store) go upstream at once, and AMPS persists B and refuses C (not
 * JSON on a SOW topic) while their STORED replies wait behind A's, in
 * the program's order.  A flush of "mem" alone must not answer before
 * those replies (it times out: the commit is held).  Once the commit
 * thread goes on, each publish is told STORED, then PERSISTED (B too,
 * though AMPS persisted it before), or FAILED with AMPS's reason, and a
 * flush of everything leaves nothing unpersisted.
 */
static void
s_heldreply(void)
{
	struct ampsipc		*h = conn("semtest");
	struct ampsipc_pubopts	 mem;
	struct pubev		 e;
	int			 rc, i;

	memset(&e, 0, sizeof e);
	memset(&mem, 0, sizeof mem);
	mem.conn = "mem";
	ampsipc_set_pub_handler(h, on_pub, &e);
	hook("hold-commit");
	check(h, ampsipc_publish(h, "held", "{\"id\":1}", 8, NULL,
	    &e.reqid[0]) == 0, "publish A");
	check(h, ampsipc_publish(h, "held", "{\"id\":2}", 8, &mem,
	    &e.reqid[1]) == 0, "publish B");
	check(h, ampsipc_publish(h, "hsow", "not json", 8, &mem,
	    &e.reqid[2]) == 0, "publish C");
	(void)ampsipc_poll(h, 0);
	hook("mem-settled");
	rc = ampsipc_publish_flush_conn(h, "mem", 300);
	check(h, rc == -1 && ampsipc_error(h) == AMPSIPC_E_TIMED_OUT &&
	    strstr(ampsipc_errmsg(h), "not yet stored") != NULL,
	    "a flush of mem answers only after B's and C's replies (rc %d)",
	    rc);
	check(h, e.stored[0] + e.stored[1] + e.stored[2] == 0,
	    "STORED while A's commit is held");
	hook("release-commit");
	rc = ampsipc_publish_flush(h, 20000);
	check(h, rc == 0 && ampsipc_unpersisted(h) == 0, "flush after the "
	    "release (rc %d, %llu unpersisted)", rc,
	    (unsigned long long)ampsipc_unpersisted(h));
	for (i = 0; i < 3; i++)
		check(h, e.stored[i] == 1 && e.early[i] == 0 &&
		    e.persisted[i] + e.failed[i] == 1, "publish %c: stored %d "
		    "persisted %d failed %d early %d", 'A' + i, e.stored[i],
		    e.persisted[i], e.failed[i], e.early[i]);
	check(h, e.persisted[1] == 1, "B persisted");
	check(h, e.failed[2] == 1 && e.reason[0] != '\0',
	    "C failed with a reason (\"%s\")", e.reason);
	ampsipc_close(h);
}

/*
 * A refusal of a publish an earlier daemon stored reaches the program
 * that adopted it (docs/IPC.md §11): with AMPS down, A, B (not JSON on
 * a SOW topic) and C are stored; ampsd restarts under the program, and
 * AMPS, back, refuses B.  The refusal comes before the program adopts
 * (late 0: the new daemon sends them as soon as AMPS is back, before
 * the program's next call reconnects) or while its adoption waits
 * (late 1: AMPS comes back only after the program reconnected).  Either
 * way A and C are told PERSISTED, B FAILED with AMPS's reason, and a
 * flush leaves nothing unpersisted.
 */
/*
 * After an ampsd restart: the first call notices it, reconnects (the
 * adoption requests go first) and fails CLOSED (docs/IPC.md §11); the
 * second ping's PONG then follows the adoption.
 */
static void
ping_again(struct ampsipc *h)
{
	(void)ampsipc_ping(h, 20000);
	check(h, ampsipc_ping(h, 20000) == 0, "ping after the restart");
}

static void
adoptfail(int late)
{
	struct ampsipc	*h = conn("semtest");
	struct pubev	 e;
	int		 rc, i;

	memset(&e, 0, sizeof e);
	(void)ampsipc_set_reconnect(h, 30000);
	ampsipc_set_pub_handler(h, on_pub, &e);
	hook("stop-sim");
	check(h, ampsipc_publish(h, "sd", "{\"id\":71}", 9, NULL,
	    &e.reqid[0]) == 0, "publish A");
	check(h, ampsipc_publish(h, "sd", "not json", 8, NULL,
	    &e.reqid[1]) == 0, "publish B");
	check(h, ampsipc_publish(h, "sd", "{\"id\":73}", 9, NULL,
	    &e.reqid[2]) == 0, "publish C");
	check(h, ampsipc_wait_stored(h, 20000) == 0, "stored");
	if (late) {
		hook("restart-ampsd-down");
		ping_again(h);
		hook("start-sim");
	} else {
		hook("restart-ampsd-refused");
		ping_again(h);
	}
	rc = ampsipc_publish_flush(h, 30000);
	check(h, rc == 0 && ampsipc_unpersisted(h) == 0, "flush (rc %d, "
	    "error %d, %llu left)", rc, ampsipc_error(h),
	    (unsigned long long)ampsipc_unpersisted(h));
	check(h, ampsipc_reconnects(h) == 1, "reconnected once (%llu)",
	    (unsigned long long)ampsipc_reconnects(h));
	for (i = 0; i < 3; i++)
		check(h, e.stored[i] == 1 && e.persisted[i] + e.failed[i] == 1,
		    "publish %c: stored %d persisted %d failed %d", 'A' + i,
		    e.stored[i], e.persisted[i], e.failed[i]);
	check(h, e.persisted[0] == 1 && e.persisted[2] == 1,
	    "A and C persisted");
	check(h, e.failed[1] == 1 && strstr(e.reason, "parse") != NULL,
	    "B failed with AMPS's reason (\"%s\")", e.reason);
	check(h, ampsipc_failed(h) == 1, "one failed (%llu)",
	    (unsigned long long)ampsipc_failed(h));
	ampsipc_close(h);
}

static void
s_adoptfail(void)
{
	adoptfail(0);
}

static void
s_adoptfaillate(void)
{
	adoptfail(1);
}

static const struct {
	const char	*name;
	void		(*fn)(void);
} scen[] = {
	{ "restart", s_restart },
	{ "adoptfail", s_adoptfail }, { "adoptfaillate", s_adoptfaillate },
	{ "flushconn", s_flushconn }, { "flushfast", s_flushfast },
	{ "delta2", s_delta2 }, { "pausereconnect", s_pausereconnect },
	{ "down", s_down }, { "authfail", s_authfail },
	{ "generic", s_generic }, { "sowdelseq", s_sowdelseq },
	{ "heldreply", s_heldreply },
};

int
main(int argc, char **argv)
{
	size_t	i;
	int	a, rc = 0, found;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4 || strcmp(argv[1], "-S") != 0) {
		fprintf(stderr, "usage: semtest -S socket NAME...\n");
		return (2);
	}
	Sock = argv[2];
	for (a = 3; a < argc; a++) {
		found = 0;
		for (i = 0; i < sizeof scen / sizeof scen[0]; i++) {
			if (strcmp(scen[i].name, argv[a]) != 0)
				continue;
			found = 1;
			Failed = 0;
			scen[i].fn();
			printf("%s scenario %s\n", Failed ? "FAIL" : "ok",
			    argv[a]);
			rc |= Failed;
		}
		if (!found) {
			fprintf(stderr, "semtest: no scenario %s\n", argv[a]);
			rc = 1;
		}
	}
	return (rc);
}
