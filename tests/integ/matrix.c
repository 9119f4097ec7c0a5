/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * matrix: one capability of the AMPS client API, run the same way by a
 * program through libampsipc and ampsd ("ipc") and by a reference client
 * with its own direct connection to ampsim ("ref", a small HA client on
 * the codec: it reconnects, fails over, resubscribes as the program left
 * its subscriptions, and keeps its publishes until persisted).  Both
 * print the same transcript of what the program received; t-matrix.sh
 * compares them (docs/IPC.md §12).
 *
 *	matrix ipc -S socket CAP COND TOPIC
 *	matrix ref -p port[,port2] CAP COND TOPIC
 *
 * COND is a (alone), b (a second program holds an overlapping
 * subscription and publishes on the same connection), c (upstream
 * reconnect), d (failover to a replica) or e (ampsd restart).  c, d and
 * e print "HOOK disrupt" and wait for a line on standard input: the
 * script does the disruption (for ref: drops its link, or kills its
 * server).  TOPIC is the base of this run's topics.
 * The transcript names topics relative to TOPIC ("T", "T.a", ...) and
 * leaves out bookmarks and marker messages (those with "sync"), which
 * only prove that a subscription is live again.
 */

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amps.h"
#include "ampsipc.h"
#include "testclient.h"

#define MAXSUB		8
#define MAXLINE		256
#define WAIT_MS		20000

/* What a subscription is. */
struct subdef {
	const char	*cmd;		/* AMPS command */
	const char	*topic;		/* relative: "" = TOPIC, ".a" ... */
	const char	*filter;
	const char	*opts;
	const char	*bm;
	int		 durable;
	int		 backlog;
};

struct sub {
	char		 id[16];
	struct subdef	 d;
	char		 topic[128];
	char		 filter[128];
	char		 opts[128];
	int		 live;
	int		 paused;
	int		 n;		/* messages recorded (not markers) */
	int		 synced;	/* markers seen */
	char		 lines[64][MAXLINE];
	char		 bm[64][64];	/* bookmarks (queue acks) */
	char		 last_bm[64];
	int		 quiet;		/* the other program's: not printed */
};

static struct sub	 Subs[MAXSUB];
static int		 Nsubs;
static char		 Global[64][MAXLINE];
static int		 Nglobal;
static const char	*Base;
static char		 Cond;
static int		 Failed;

/* Monotonic ms. */
static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void	die(const char *, ...) __attribute__((__format__(printf, 1,
		    2), __noreturn__));

static void
die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "matrix: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* A transcript line not tied to a subscription. */
static void	note(const char *, ...) __attribute__((__format__(printf, 1,
		    2)));

static void
note(const char *fmt, ...)
{
	va_list	ap;

	if (Nglobal >= 64)
		return;
	va_start(ap, fmt);
	vsnprintf(Global[Nglobal++], MAXLINE, fmt, ap);
	va_end(ap);
}

/* topic relative to the base ("T..."), for the transcript. */
static const char *
rel(const char *topic)
{
	static char	buf[4][128];
	static int	slot;
	char		*b = buf[slot++ & 3];
	size_t		 n = strlen(Base);

	if (strncmp(topic, Base, n) == 0)
		snprintf(b, 128, "T%s", topic + n);
	else
		snprintf(b, 128, "%s", topic);
	return (b);
}

/* A message for s: recorded unless it is a marker. */
static void
got(struct sub *s, const char *kind, const char *topic, const char *data,
    size_t len, const char *bm)
{
	char	line[MAXLINE];

	if (len > 0 && memmem(data, len, "sync", 4) != NULL) {
		s->synced++;
		return;
	}
	if (bm != NULL && *bm != '\0')
		snprintf(s->last_bm, sizeof s->last_bm, "%s", bm);
	if (s->n >= 64)
		return;
	snprintf(s->bm[s->n], sizeof s->bm[0], "%s", bm != NULL ? bm : "");
	snprintf(line, sizeof line, "%s %s %s %.*s", s->id, kind, rel(topic),
	    (int)(len > 160 ? 160 : len), data);
	memcpy(s->lines[s->n], line, sizeof line);
	s->n++;
}

static struct sub *
sub_by_id(const char *id)
{
	int	i;

	for (i = 0; i < Nsubs; i++)
		if (strcmp(Subs[i].id, id) == 0)
			return (&Subs[i]);
	return (NULL);
}

/* ------------------------------------------------------------ backends */

struct backend {
	void	(*sub)(struct sub *);
	void	(*unsub)(struct sub *);
	void	(*replace)(struct sub *);
	void	(*pause)(struct sub *, int);
	void	(*pub)(const char *, const char *, int);
	void	(*flush)(void);
	void	(*sow)(const char *, const char *, int, int, const char *);
	void	(*sowdel)(const char *, const char *);
	void	(*ack)(struct sub *, int);
	void	(*poll)(int);
	void	(*disrupted)(void);
	void	(*other)(void);		/* cond b: the second program */
	void	(*other_pub)(const char *);
};

static const struct backend	*Be;

/* ---- ipc: libampsipc through ampsd */

static struct ampsipc	*H, *H2;
static const char	*Sock;

/* Handler: one subscription's messages. */
static int
ipc_handler(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	struct sub	*s = arg;
	char		 kind[64];

	switch (m->command) {
	case AMPSIPC_C_PUBLISH:
		got(s, "p", m->topic, m->data, m->len, m->bookmark);
		if (s->d.durable)
			(void)ampsipc_discard(h, m);
		break;
	case AMPSIPC_C_OOF:
		snprintf(kind, sizeof kind, "oof:%s", m->reason);
		got(s, kind, m->topic, m->data, m->len, NULL);
		break;
	case AMPSIPC_C_SOW:
		got(s, "sow", m->topic, m->data, m->len, NULL);
		break;
	case AMPSIPC_C_GROUP_BEGIN:
		got(s, "group_begin", Base, "", 0, NULL);
		break;
	case AMPSIPC_C_GROUP_END:
		got(s, "group_end", Base, "", 0, NULL);
		break;
	case AMPSIPC_C_END:
		snprintf(kind, sizeof kind, "end:%d", m->error);
		got(s, kind, Base, "", 0, NULL);
		break;
	default:
		break;
	}
	return (0);
}

static void
ipc_poll(int ms)
{
	long long	end = now_ms() + ms;

	do {
		if (ampsipc_poll(H, 10) == -1)
			die("ipc poll: %s", ampsipc_errmsg(H));
		if (H2 != NULL && ampsipc_poll(H2, 0) == -1)
			die("ipc poll (other): %s", ampsipc_errmsg(H2));
	} while (now_ms() < end);
}

static void
ipc_sub(struct sub *s)
{
	static const struct { const char *name; int c; } cmds[] = {
		{ "subscribe", AMPSIPC_C_SUBSCRIBE },
		{ "delta_subscribe", AMPSIPC_C_DELTA_SUBSCRIBE },
		{ "sow_and_subscribe", AMPSIPC_C_SOW_AND_SUBSCRIBE },
	};
	struct ampsipc_command	*x = NULL;
	size_t			 i;

	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(cmds[i].name, s->d.cmd) == 0)
			x = ampsipc_cmd_new(cmds[i].c);
	if (x == NULL)
		die("no command %s", s->d.cmd);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, s->topic);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, s->id);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_FILTER, s->d.filter);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_OPTIONS, s->d.opts);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_BOOKMARK, s->d.bm);
	if (s->d.backlog > 0)
		ampsipc_cmd_set_num(x, AMPSIPC_FIELD_MAX_BACKLOG,
		    (uint64_t)s->d.backlog);
	if (s->d.durable)
		ampsipc_cmd_set_flags(x, AMPSIPC_CMDF_DURABLE);
	if (ampsipc_execute_async(s->quiet ? H2 : H, x, ipc_handler, s) == -1)
		die("subscribe %s: %s", s->id, ampsipc_errmsg(s->quiet ? H2 :
		    H));
	ampsipc_cmd_free(x);
}

static void
ipc_unsub(struct sub *s)
{
	if (ampsipc_unsubscribe(H, s->id, 10000) == -1)
		die("unsubscribe: %s", ampsipc_errmsg(H));
}

/* replace / pause / resume: a command naming s. */
static void
ipc_change(struct sub *s, const char *opts, const char *filter)
{
	struct ampsipc_command	*x = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);

	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, s->id);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_OPTIONS, opts);
	if (filter != NULL) {
		ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, s->topic);
		ampsipc_cmd_set_str(x, AMPSIPC_FIELD_FILTER, filter);
	}
	if (ampsipc_execute_async(H, x, NULL, NULL) == -1)
		die("%s %s: %s", opts, s->id, ampsipc_errmsg(H));
	ampsipc_cmd_free(x);
}

static void
ipc_replace(struct sub *s)
{
	ipc_change(s, "replace", s->filter);
}

static void
ipc_pause(struct sub *s, int pause)
{
	ipc_change(s, pause ? "pause" : "resume", NULL);
}

static void
ipc_pub(const char *topic, const char *json, int delta)
{
	int	rc;

	rc = delta ? ampsipc_delta_publish(H, topic, json, strlen(json), NULL,
	    NULL) : ampsipc_publish(H, topic, json, strlen(json), NULL, NULL);
	if (rc == -1)
		die("publish: %s", ampsipc_errmsg(H));
}

static void
ipc_flush(void)
{
	if (ampsipc_publish_flush(H, WAIT_MS) == -1)
		note("flush failed: %s", ampsipc_strerror(ampsipc_error(H)));
	else
		note("flushed, %llu failed",
		    (unsigned long long)ampsipc_failed(H));
}

/* A query as a stream: records, and the stats of a sow_delete. */
static void
ipc_query(struct ampsipc_command *x, int del)
{
	const struct ampsipc_message	*m;
	struct ampsipc_stream		*st;
	int				 rc;

	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_TIMEOUT, WAIT_MS);
	if ((st = ampsipc_execute(H, x)) == NULL) {
		note("query failed: %s", ampsipc_strerror(ampsipc_error(H)));
		return;
	}
	while ((rc = ampsipc_stream_next(st, &m, WAIT_MS)) == 1) {
		if (m->command == AMPSIPC_C_SOW)
			note("sow %.*s", (int)m->len, (const char *)m->data);
		else if (m->command == AMPSIPC_C_GROUP_BEGIN ||
		    m->command == AMPSIPC_C_GROUP_END)
			note("%s", m->command == AMPSIPC_C_GROUP_BEGIN ?
			    "group_begin" : "group_end");
		else if (del && m->command == AMPSIPC_C_ACK &&
		    m->ack_type == AMPSIPC_ACK_STATS)
			note("deleted %llu",
			    (unsigned long long)m->records_deleted);
	}
	if (rc == 0 || ampsipc_error(H) != AMPSIPC_E_OK)
		note("query ended: %s", ampsipc_strerror(ampsipc_error(H)));
	ampsipc_stream_close(st);
}

static void
ipc_sow(const char *topic, const char *filter, int bs, int topn,
    const char *orderby)
{
	struct ampsipc_command	*x = ampsipc_cmd_new(AMPSIPC_C_SOW);

	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, topic);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_FILTER, filter);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_ORDER_BY, orderby);
	if (bs > 0)
		ampsipc_cmd_set_num(x, AMPSIPC_FIELD_BATCH_SIZE, (uint64_t)bs);
	if (topn > 0)
		ampsipc_cmd_set_num(x, AMPSIPC_FIELD_TOP_N, (uint64_t)topn);
	ipc_query(x, 0);
	ampsipc_cmd_free(x);
}

static void
ipc_sowdel(const char *topic, const char *filter)
{
	struct ampsipc_command	*x = ampsipc_cmd_new(AMPSIPC_C_SOW_DELETE);

	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, topic);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_FILTER, filter);
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_ACK_TYPES, AMPSIPC_ACK_STATS);
	ipc_query(x, 1);
	ampsipc_cmd_free(x);
}

static void
ipc_ack(struct sub *s, int i)
{
	if (ampsipc_ack_bookmark(H, s->topic, s->bm[i], s->id, NULL) == -1)
		die("ack: %s", ampsipc_errmsg(H));
}

/*
 * After the disruption: ampsd re-enters the subscriptions upstream by
 * itself (c, d); after an ampsd restart (e) the handles connect again,
 * in the first call that notices, and re-enter them: poll until then,
 * so that a query is not sent into the closed socket.
 */
static void
ipc_disrupted(void)
{
	long long	end = now_ms() + WAIT_MS;
	uint64_t	n = ampsipc_reconnects(H);

	while (Cond == 'e' && ampsipc_reconnects(H) == n && now_ms() < end)
		ipc_poll(20);
	while (Cond == 'e' && H2 != NULL && ampsipc_reconnects(H2) == 0 &&
	    now_ms() < end)
		ipc_poll(20);
}

static void
ipc_other(void)
{
	if ((H2 = ampsipc_create()) == NULL ||
	    ampsipc_connect(H2, Sock, "matrix-other", 10000) == -1)
		die("connect (other)");
	(void)ampsipc_set_reconnect(H2, 60000);
}

static void
ipc_other_pub(const char *topic)
{
	if (ampsipc_publish(H2, topic, "{\"id\":\"other\"}", 14, NULL,
	    NULL) == -1)
		die("publish (other): %s", ampsipc_errmsg(H2));
}

static const struct backend ipc_be = {
	ipc_sub, ipc_unsub, ipc_replace, ipc_pause, ipc_pub, ipc_flush,
	ipc_sow, ipc_sowdel, ipc_ack, ipc_poll, ipc_disrupted, ipc_other,
	ipc_other_pub,
};

/* ---- ref: a direct connection to ampsim with its own HA logic */

static struct tc	*R, *R2;
static int		 Rport[2], Rnport, Rcur, Rgen;
static char		 Rname[64];
static uint64_t		 Rseq, Racked;
static int		 Rqdone, Rqack;		/* the running query */
static uint64_t		 Rqdeleted;
static int		 Rcid;

static void	ref_subscribe(struct sub *);

/* s as the inside of a JSON string (our values need \\ and \" only). */
static const char *
jesc(const char *s)
{
	static char	buf[4][256];
	static int	slot;
	char		*b = buf[slot++ & 3], *w = b;

	while (*s != '\0' && w < b + sizeof buf[0] - 2) {
		if (*s == '\\' || *s == '"')
			*w++ = '\\';
		*w++ = *s++;
	}
	*w = '\0';
	return (b);
}

/* One frame for the reference program. */
static void
ref_frame(struct tc *t)
{
	struct amps_sow_iter	 it;
	struct amps_hdr		 rec;
	struct sub		*s;
	const char		*data, *cmd = tc_str(t, AMPS_F_C);
	char			 kind[64];
	size_t			 len;

	if (strcmp(cmd, "p") == 0 || strcmp(cmd, "oof") == 0) {
		if ((s = sub_by_id(tc_str(t, AMPS_F_SUB_ID))) == NULL)
			return;
		snprintf(kind, sizeof kind, "%s%s%s", cmd, *cmd == 'o' ?
		    ":" : "", *cmd == 'o' ? tc_str(t, AMPS_F_REASON) : "");
		got(s, kind, tc_str(t, AMPS_F_T), t->payload, t->plen,
		    tc_str(t, AMPS_F_BM));
	} else if (strcmp(cmd, "group_begin") == 0 ||
	    strcmp(cmd, "group_end") == 0) {
		if ((s = sub_by_id(tc_str(t, AMPS_F_QUERY_ID))) != NULL)
			got(s, cmd, Base, "", 0, NULL);
		else
			note("%s", cmd);
	} else if (strcmp(cmd, "sow") == 0) {
		s = sub_by_id(tc_str(t, AMPS_F_QUERY_ID));
		amps_sow_begin(&it, &t->h, t->frame, t->flen);
		while (amps_sow_next(&it, &rec, &data, &len) == 1) {
			if (s != NULL)
				got(s, "sow", Base, data, len, NULL);
			else
				note("sow %.*s", (int)len, data);
		}
	} else if (strcmp(cmd, "ack") == 0) {
		if (amps_hdr_eq(&t->h, AMPS_F_A, "persisted") &&
		    tc_has(t, AMPS_F_S) && tc_num(t, AMPS_F_S) > Racked)
			Racked = tc_num(t, AMPS_F_S);
		if (amps_hdr_eq(&t->h, AMPS_F_CID, "q")) {
			if (amps_hdr_eq(&t->h, AMPS_F_A, "stats"))
				Rqdeleted = tc_num(t, AMPS_F_RECORDS_DELETED);
			if (amps_hdr_eq(&t->h, AMPS_F_A, "completed") ||
			    amps_hdr_eq(&t->h, AMPS_F_A, "stats"))
				Rqdone = 1;
			if (!amps_hdr_eq(&t->h, AMPS_F_STATUS, "success")) {
				Rqdone = 1;
				Rqack = -1;
			}
		}
	}
}

/* Connect and log on, to the current server or the next ones. */
static void
ref_connect(void)
{
	long long	end = now_ms() + WAIT_MS;
	uint64_t	seq;
	int		i;

	for (;;) {
		for (i = 0; i < Rnport; i++) {
			if ((R = tc_connect(Rport[Rcur])) != NULL) {
				R->skip_hb = 1;
				if (tc_logon(R, Rname, &seq) == 0)
					return;
				tc_close(R);
				R = NULL;
			}
			Rcur = (Rcur + 1) % Rnport;
		}
		if (now_ms() > end)
			die("ref: no server");
		(void)poll(NULL, 0, 50);
	}
}

/*
 * The link dropped: connect again (failing over), resubscribe every
 * live subscription as the program left it (bookmark ones after the
 * last bookmark, paused ones paused, sow_and_subscribe re-run), and
 * send the publish still waiting for its ack.
 */
static void
ref_recover(void)
{
	int	i;

	tc_close(R);
	ref_connect();
	Rgen++;
	for (i = 0; i < Nsubs; i++)
		if (Subs[i].live && !Subs[i].quiet)
			ref_subscribe(&Subs[i]);
}

static void
ref_poll(int ms)
{
	long long	end = now_ms() + ms;
	int		rc;

	do {
		while ((rc = tc_recv(R, 10)) == 1)
			ref_frame(R);
		if (rc == -1)
			ref_recover();
		while (R2 != NULL && (rc = tc_recv(R2, 0)) == 1)
			;
	} while (now_ms() < end);
}

static void
ref_subscribe(struct sub *s)
{
	char	hdr[1024], opts[160];
	size_t	n;
	int	bookmark = s->d.bm != NULL || s->d.durable;

	snprintf(opts, sizeof opts, "%s%s%s", s->opts, s->opts[0] &&
	    s->paused ? "," : "", s->paused ? "pause" : "");
	if (s->d.backlog > 0)
		snprintf(opts + strlen(opts), sizeof opts - strlen(opts),
		    "%smax_backlog=%d", opts[0] ? "," : "", s->d.backlog);
	n = (size_t)snprintf(hdr, sizeof hdr, "{\"c\":\"%s\",\"cid\":\"s%d\","
	    "\"t\":\"%s\",\"sub_id\":\"%s\",\"query_id\":\"%s\"", s->d.cmd,
	    ++Rcid, jesc(s->topic), s->id, s->id);
	if (s->filter[0] && n < sizeof hdr)
		n += (size_t)snprintf(hdr + n, sizeof hdr - n,
		    ",\"f\":\"%s\"", jesc(s->filter));
	if (opts[0] && n < sizeof hdr)
		n += (size_t)snprintf(hdr + n, sizeof hdr - n,
		    ",\"o\":\"%s\"", opts);
	if (bookmark && n < sizeof hdr)
		n += (size_t)snprintf(hdr + n, sizeof hdr - n,
		    ",\"bm\":\"%s\"", s->last_bm[0] ? s->last_bm :
		    s->d.bm != NULL ? s->d.bm : "0");
	if (n < sizeof hdr)
		snprintf(hdr + n, sizeof hdr - n, ",\"a\":\"processed\"}");
	(void)tc_send(s->quiet ? R2 : R, hdr, NULL);
	s->live = 1;
}

static void
ref_sub(struct sub *s)
{
	ref_subscribe(s);
	ref_poll(50);
}

static void
ref_unsub(struct sub *s)
{
	(void)tc_sendf(R, NULL, "{\"c\":\"unsubscribe\",\"sub_id\":\"%s\"}",
	    s->id);
	s->live = 0;
}

static void
ref_replace(struct sub *s)
{
	(void)tc_sendf(R, NULL, "{\"c\":\"subscribe\",\"cid\":\"r%d\","
	    "\"t\":\"%s\",\"sub_id\":\"%s\",\"f\":\"%s\",\"o\":\"replace\","
	    "\"a\":\"processed\"}", ++Rcid, s->topic, s->id, s->filter);
}

static void
ref_pause(struct sub *s, int pause)
{
	s->paused = pause;
	(void)tc_sendf(R, NULL, "{\"c\":\"subscribe\",\"cid\":\"r%d\","
	    "\"sub_id\":\"%s\",\"o\":\"%s\",\"a\":\"processed\"}", ++Rcid,
	    s->id, pause ? "pause" : "resume");
}

/* Publish with a sequence and wait for its persisted ack (the store). */
static void
ref_pub(const char *topic, const char *json, int delta)
{
	long long	end = now_ms() + WAIT_MS;
	uint64_t	seq = ++Rseq;
	int		gen;

	for (;;) {
		gen = Rgen;
		(void)tc_sendf(R, json, "{\"c\":\"%s\",\"t\":\"%s\",\"s\":%llu,"
		    "\"a\":\"persisted\"}", delta ? "delta_publish" : "p",
		    topic, (unsigned long long)seq);
		/* A new link (ref_recover): send it again; AMPS drops a
		 * copy it has (same client name and sequence). */
		while (Racked < seq && now_ms() < end && gen == Rgen)
			ref_poll(10);
		if (Racked >= seq)
			return;
		if (now_ms() >= end)
			die("ref: publish not persisted");
	}
}

static void
ref_flush(void)
{
	note("flushed, 0 failed");	/* every publish waited for its ack */
}

/*
 * Run a query (cid and query_id "q", header hdr) to its end; sent again
 * on a new link (the one it went out on dropped).
 */
static void
ref_query(const char *hdr)
{
	long long	end = now_ms() + WAIT_MS;
	int		gen;

	do {
		gen = Rgen;
		Rqdone = Rqack = 0;
		(void)tc_send(R, hdr, NULL);
		while (!Rqdone && now_ms() < end && gen == Rgen)
			ref_poll(10);
	} while (!Rqdone && now_ms() < end);
	if (!Rqdone || Rqack == -1)
		note("query ended: failed");
}

static void
ref_sow(const char *topic, const char *filter, int bs, int topn,
    const char *orderby)
{
	char	extra[256], hdr[512];

	snprintf(extra, sizeof extra, "%s%s%s", filter != NULL ?
	    ",\"f\":\"" : "", filter != NULL ? filter : "", filter != NULL ?
	    "\"" : "");
	if (orderby != NULL)
		snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
		    ",\"orderby\":\"%s\"", orderby);
	if (topn > 0)
		snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
		    ",\"top_n\":%d", topn);
	snprintf(hdr, sizeof hdr, "{\"c\":\"sow\",\"cid\":\"q\",\"query_id\":"
	    "\"q\",\"t\":\"%s\",\"bs\":%d%s,\"a\":\"processed,completed\"}",
	    topic, bs > 0 ? bs : 10, extra);
	ref_query(hdr);
}

static void
ref_sowdel(const char *topic, const char *filter)
{
	long long	end = now_ms() + WAIT_MS;
	uint64_t	seq = ++Rseq;
	char		hdr[512];

	Rqdeleted = 0;
	snprintf(hdr, sizeof hdr, "{\"c\":\"sow_delete\",\"cid\":\"q\","
	    "\"t\":\"%s\",\"f\":\"%s\",\"s\":%llu,\"a\":\"processed,stats,"
	    "persisted\"}", topic, filter, (unsigned long long)seq);
	ref_query(hdr);
	while (Racked < seq && now_ms() < end)
		ref_poll(10);
	note("deleted %llu", (unsigned long long)Rqdeleted);
}

static void
ref_ack(struct sub *s, int i)
{
	(void)tc_sendf(R, NULL, "{\"c\":\"sow_delete\",\"t\":\"%s\","
	    "\"bm\":\"%s\"}", s->topic, s->bm[i]);
}

static void
ref_disrupted(void)
{
	/* ref_poll() notices the dropped link and recovers. */
}

static void
ref_other(void)
{
	char	name[80];

	if ((R2 = tc_connect(Rport[Rcur])) == NULL)
		die("ref: other connect");
	R2->skip_hb = 1;
	snprintf(name, sizeof name, "%s-other", Rname);
	if (tc_logon(R2, name, NULL) != 0)
		die("ref: other logon");
}

static void
ref_other_pub(const char *topic)
{
	(void)tc_sendf(R2, "{\"id\":\"other\"}", "{\"c\":\"p\",\"t\":\"%s\"}",
	    topic);
}

static const struct backend ref_be = {
	ref_sub, ref_unsub, ref_replace, ref_pause, ref_pub, ref_flush,
	ref_sow, ref_sowdel, ref_ack, ref_poll, ref_disrupted, ref_other,
	ref_other_pub,
};

/* ---------------------------------------------------------- the scripts */

static char	 Tp[128];	/* topic being built */
static int	 Marker;

/* The base topic with a suffix. */
static const char *
tp(const char *suffix)
{
	snprintf(Tp, sizeof Tp, "%s%s", Base, suffix);
	return (Tp);
}

/* Start subscription id with definition d (its topic relative). */
static struct sub *
S(const char *id, struct subdef d)
{
	struct sub	*s = &Subs[Nsubs++];

	snprintf(s->id, sizeof s->id, "%s", id);
	s->d = d;
	if (d.topic[0] == '^')	/* a regex: "^" BASE rest */
		snprintf(s->topic, sizeof s->topic, "^%s%s", Base, d.topic + 1);
	else
		snprintf(s->topic, sizeof s->topic, "%s%s", Base, d.topic);
	snprintf(s->filter, sizeof s->filter, "%s", d.filter != NULL ?
	    d.filter : "");
	snprintf(s->opts, sizeof s->opts, "%s", d.opts != NULL ? d.opts : "");
	s->live = 1;
	Be->sub(s);
	return (s);
}

/* Poll until s has n messages (not markers); notes it if not. */
static void
wait_n(struct sub *s, int n)
{
	long long	end = now_ms() + WAIT_MS;

	while (s->n < n && now_ms() < end)
		Be->poll(10);
	if (s->n < n) {
		note("timeout: %s has %d of %d", s->id, s->n, n);
		Failed = 1;
	}
}

/* Poll until s has k more messages than it had at mark. */
#define WAIT_MORE(s, mark, k)	wait_n((s), (mark) + (k))

/* Publish json to the base topic with suffix (and the other program). */
static int	 Other;	/* the second program runs */

static void
P(const char *suffix, const char *json)
{
	Be->pub(tp(suffix), json, 0);
	if (Other)
		Be->other_pub(tp(".other"));
}

/*
 * Until s receives a marker published to topic suffix: proof that its
 * subscription (and every earlier one on its session) is live again.
 */
static void
sync_on(struct sub *s, const char *suffix)
{
	long long	end = now_ms() + WAIT_MS;
	int		seen = s->synced;
	char		json[128];

	while (s->synced == seen && now_ms() < end) {
		snprintf(json, sizeof json, "{\"id\":\"sync\",\"sync\":%d,"
		    "\"n\":100000,\"v\":2,\"q\":1000}", ++Marker);
		Be->pub(tp(suffix), json, 0);
		Be->poll(200);
	}
	if (s->synced == seen) {
		note("timeout: %s never live again", s->id);
		Failed = 1;
	}
}

/* The disruption of conditions c, d and e. */
static void
disrupt(void)
{
	char	line[64];

	if (Cond != 'c' && Cond != 'd' && Cond != 'e')
		return;
	/* What the program said (discards, acks) reaches the daemon
	 * before the world changes: a round trip. */
	if (H != NULL && ampsipc_ping(H, WAIT_MS) == -1)
		die("ping: %s", ampsipc_errmsg(H));
	printf("HOOK disrupt\n");
	fflush(stdout);
	if (fgets(line, sizeof line, stdin) == NULL)
		die("no answer to the hook");
	Be->disrupted();
}

/* The second program of condition b: an overlapping subscription. */
static void
other(const char *cmd)
{
	struct sub	*s;

	if (Cond != 'b')
		return;
	Be->other();
	Other = 1;
	s = &Subs[Nsubs++];
	snprintf(s->id, sizeof s->id, "O");
	s->d.cmd = cmd;
	s->d.topic = "";
	snprintf(s->topic, sizeof s->topic, "%s", Base);
	s->quiet = 1;
	s->live = 1;
	Be->sub(s);
}

static const struct subdef D0 = { "subscribe", "", NULL, NULL, NULL, 0, 0 };

static void
c_publish(void)
{
	struct subdef	d = D0;
	struct sub	*l;
	char		 j[64];
	int		 i;

	other("subscribe");
	for (i = 1; i <= 5; i++) {
		snprintf(j, sizeof j, "{\"id\":%d}", i);
		P("", j);
	}
	Be->flush();
	disrupt();
	for (i = 6; i <= 10; i++) {
		snprintf(j, sizeof j, "{\"id\":%d}", i);
		P("", j);
	}
	Be->flush();
	d.bm = "0";			/* what AMPS has, in order */
	l = S("L", d);
	wait_n(l, 10);
}

static void
c_delta_publish(void)
{
	struct sub	*s = S("S", D0);
	int		 mark;

	other("subscribe");
	P("", "{\"id\":1,\"a\":1,\"b\":1}");
	Be->pub(tp(""), "{\"id\":1,\"a\":2}", 1);
	Be->flush();
	wait_n(s, 2);
	disrupt();
	sync_on(s, "");
	mark = s->n;
	Be->pub(tp(""), "{\"id\":1,\"b\":3}", 1);
	Be->flush();
	WAIT_MORE(s, mark, 1);
	Be->sow(tp(""), "/id = 1", 0, 0, NULL);
}

static void
c_filter(void)
{
	struct subdef	d = D0;
	struct sub	*s;
	int		 mark;

	d.filter = "/n > 2";
	s = S("S", d);
	other("subscribe");
	P("", "{\"n\":1}");
	P("", "{\"n\":3}");
	P("", "{\"n\":2}");
	P("", "{\"n\":4}");
	wait_n(s, 2);
	disrupt();
	sync_on(s, "");
	mark = s->n;
	P("", "{\"n\":0}");
	P("", "{\"n\":5}");
	WAIT_MORE(s, mark, 1);
}

static void
c_regex(void)
{
	struct subdef	d = D0;
	struct sub	*s;
	int		 mark;

	d.topic = "^\\.(a|b)$";
	s = S("S", d);
	other("subscribe");
	P(".a", "{\"n\":1}");
	P(".c", "{\"n\":2}");
	P(".b", "{\"n\":3}");
	wait_n(s, 2);
	disrupt();
	sync_on(s, ".a");
	mark = s->n;
	P(".ab", "{\"n\":4}");
	P(".b", "{\"n\":5}");
	WAIT_MORE(s, mark, 1);
}

static void
c_replace(void)
{
	struct subdef	d = D0;
	struct sub	*s;
	int		 mark;

	d.filter = "/v = 1";
	s = S("S", d);
	other("subscribe");
	P("", "{\"v\":1}");
	P("", "{\"v\":2}");
	wait_n(s, 1);
	snprintf(s->filter, sizeof s->filter, "/v = 2");
	Be->replace(s);
	P("", "{\"v\":1,\"x\":1}");
	P("", "{\"v\":2,\"x\":1}");
	wait_n(s, 2);
	disrupt();
	sync_on(s, "");
	mark = s->n;
	P("", "{\"v\":1,\"x\":2}");
	P("", "{\"v\":2,\"x\":2}");
	WAIT_MORE(s, mark, 1);
}

static void
c_pause(void)
{
	struct subdef	d = D0;
	struct sub	*p, *a;
	int		 mark;

	d.bm = "0";
	p = S("P", d);
	a = S("A", D0);
	other("subscribe");
	P("", "{\"n\":1}");
	P("", "{\"n\":2}");
	wait_n(p, 2);
	Be->pause(p, 1);
	P("", "{\"n\":3}");
	wait_n(a, 3);
	disrupt();
	sync_on(a, "");
	mark = a->n;
	P("", "{\"n\":4}");
	WAIT_MORE(a, mark, 1);
	Be->poll(300);
	note("P had %d while paused", p->n);
	Be->pause(p, 0);
	wait_n(p, 4);
	P("", "{\"n\":5}");
	wait_n(p, 5);
}

static void
c_unsubscribe(void)
{
	struct sub	*s = S("S", D0), *a = S("A", D0);
	int		 mark;

	other("subscribe");
	P("", "{\"n\":1}");
	wait_n(s, 1);
	Be->unsub(s);
	s->live = 0;
	P("", "{\"n\":2}");
	wait_n(a, 2);
	disrupt();
	sync_on(a, "");
	mark = a->n;
	P("", "{\"n\":3}");
	WAIT_MORE(a, mark, 1);
	Be->poll(200);
}

static void
c_sow(void)
{
	char	j[64];
	int	i;

	other("subscribe");
	for (i = 1; i <= 12; i++) {
		snprintf(j, sizeof j, "{\"id\":%d,\"q\":%d}", i, i * 7 % 13);
		P("", j);
	}
	Be->flush();
	disrupt();
	Be->sow(tp(""), NULL, 5, 4, "/q DESC");
	Be->sow(tp(""), "/q > 5", 3, 0, NULL);
}

static void
c_sow_and_subscribe(void)
{
	struct subdef	d = D0;
	struct sub	*s;
	int		 mark;

	P("", "{\"id\":1,\"q\":10}");
	P("", "{\"id\":2,\"q\":100}");
	d.cmd = "sow_and_subscribe";
	d.filter = "/q > 50";
	d.opts = "oof";
	s = S("S", d);
	other("subscribe");
	wait_n(s, 3);
	P("", "{\"id\":1,\"q\":200}");
	P("", "{\"id\":2,\"q\":5}");
	wait_n(s, 5);
	disrupt();
	sync_on(s, "");
	mark = s->n;
	P("", "{\"id\":3,\"q\":300}");
	WAIT_MORE(s, mark, 1);
}

static void
c_delta_subscribe(void)
{
	struct subdef	d = D0;
	struct sub	*s;
	int		 mark;

	d.cmd = "delta_subscribe";
	s = S("S", d);
	other("subscribe");
	P("", "{\"id\":1,\"a\":1,\"b\":1}");
	P("", "{\"id\":1,\"a\":2,\"b\":1}");
	wait_n(s, 2);
	disrupt();
	sync_on(s, "");
	mark = s->n;
	P("", "{\"id\":1,\"a\":2,\"b\":5}");
	WAIT_MORE(s, mark, 1);
}

static void
c_sow_delete(void)
{
	char	j[64];
	int	i;

	other("subscribe");
	for (i = 1; i <= 5; i++) {
		snprintf(j, sizeof j, "{\"id\":%d}", i);
		P("", j);
	}
	Be->flush();
	Be->sowdel(tp(""), "/id > 3");
	disrupt();
	Be->sowdel(tp(""), "/id = 1");
	Be->sow(tp(""), NULL, 0, 0, "/id ASC");
}

static void
c_queue(void)
{
	struct subdef	d = D0;
	struct sub	*s;
	char		 j[64];
	int		 i, acked = 0;

	d.backlog = 2;
	d.topic = "q";
	s = S("S", d);
	for (i = 1; i <= 4; i++) {
		snprintf(j, sizeof j, "{\"job\":%d}", i);
		P("q-in", j);
	}
	wait_n(s, 2);
	Be->ack(s, 0);
	acked = 1;
	wait_n(s, 3);
	disrupt();
	/* Whatever comes now (leases broken by the reconnect come again)
	 * is acked as it comes, until every job was seen. */
	for (i = 0; i < 200; i++) {
		while (acked < s->n)
			Be->ack(s, acked++);
		if (strstr(s->lines[s->n - 1], "\"job\":4") != NULL)
			break;
		Be->poll(100);
	}
	while (acked < s->n)
		Be->ack(s, acked++);
	Be->poll(200);
}

static void
c_durable(void)
{
	struct subdef	d = D0;
	struct sub	*s;
	int		 mark;

	d.durable = 1;
	d.bm = "0";
	s = S("D", d);
	other("subscribe");
	P("", "{\"n\":1}");
	P("", "{\"n\":2}");
	P("", "{\"n\":3}");
	wait_n(s, 3);
	disrupt();
	mark = s->n;
	P("", "{\"n\":4}");
	P("", "{\"n\":5}");
	WAIT_MORE(s, mark, 2);
	Be->poll(200);
}

static void
c_flush(void)
{
	struct subdef	d = D0;
	struct sub	*l;

	other("subscribe");
	P("", "{\"n\":1}");
	P("", "{\"n\":2}");
	Be->flush();
	disrupt();
	P("", "{\"n\":3}");
	Be->flush();
	d.bm = "0";
	l = S("L", d);
	wait_n(l, 3);
}

static const struct {
	const char	*name;
	void		(*fn)(void);
} Caps[] = {
	{ "publish", c_publish }, { "delta_publish", c_delta_publish },
	{ "filter", c_filter }, { "regex", c_regex },
	{ "replace", c_replace }, { "pause", c_pause },
	{ "unsubscribe", c_unsubscribe }, { "sow", c_sow },
	{ "sow_and_subscribe", c_sow_and_subscribe },
	{ "delta_subscribe", c_delta_subscribe },
	{ "sow_delete", c_sow_delete }, { "queue", c_queue },
	{ "durable", c_durable }, { "flush", c_flush },
};

static void
usage(void)
{
	fprintf(stderr, "usage: matrix ipc -S socket CAP COND TOPIC\n"
	    "       matrix ref -p port[,port] CAP COND TOPIC\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	size_t	i;
	int	j;
	char	*comma;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 7)
		usage();
	Cond = argv[5][0];
	Base = argv[6];
	if (strcmp(argv[1], "ipc") == 0 && strcmp(argv[2], "-S") == 0) {
		Be = &ipc_be;
		Sock = argv[3];
		if ((H = ampsipc_create()) == NULL ||
		    ampsipc_connect(H, argv[3], "matrix", 10000) == -1)
			die("connect: %s", H != NULL ? ampsipc_errmsg(H) : "");
		(void)ampsipc_set_reconnect(H, 60000);
	} else if (strcmp(argv[1], "ref") == 0 && strcmp(argv[2], "-p") == 0) {
		Be = &ref_be;
		Rport[Rnport++] = atoi(argv[3]);
		if ((comma = strchr(argv[3], ',')) != NULL)
			Rport[Rnport++] = atoi(comma + 1);
		snprintf(Rname, sizeof Rname, "matrix-ref-%s", Base);
		ref_connect();
	} else
		usage();
	for (i = 0; i < sizeof Caps / sizeof Caps[0]; i++)
		if (strcmp(Caps[i].name, argv[4]) == 0)
			break;
	if (i == sizeof Caps / sizeof Caps[0])
		usage();
	Caps[i].fn();
	for (j = 0; j < Nglobal; j++)
		printf("%s\n", Global[j]);
	for (j = 0; j < Nsubs; j++) {
		int k;

		if (Subs[j].quiet)
			continue;
		for (k = 0; k < Subs[j].n; k++)
			printf("%s\n", Subs[j].lines[k]);
	}
	printf("END\n");
	if (H != NULL)
		ampsipc_close(H);
	if (H2 != NULL)
		ampsipc_close(H2);
	return (Failed);
}
