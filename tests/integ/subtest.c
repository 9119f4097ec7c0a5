/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subtest: the client-side conformance scenarios of PROTOCOL.md §17.4 (12-29,
 * client-side conflation) through libampsipc against ampsd and
 * ampsim, plus a durable consumer for the kill tests.
 *
 *	subtest -S socket scenario NAME...	run scenarios; exit 0 if all pass
 *	subtest -S socket durable NAME TOPIC FILE [MAX]
 *	    consume durable subscription NAME (MOST_RECENT); per message
 *	    write "R <id>" to FILE, discard, ping (the daemon has the
 *	    discard), write "D <id>"; exit 0 after MAX messages, 3 if the
 *	    daemon went away
 *	subtest -S socket queue TOPIC FILE
 *	    consume a queue with backlog 2, hold every lease (never ack);
 *	    write each id to FILE
 *	subtest -S socket drain TOPIC N FILE
 *	    consume a queue (auto-ack) until N messages; their ids to FILE
 *	subtest -S socket ackq TOPIC BACKLOG N FILE all|each
 *	    consume a queue, acking the first N together or each at once
 *
 * Each scenario uses its own topics (ampsim must define the SOW topics
 * s15 s16 s18 s19 s20 s21 s23 keyed by /id; see t-subscribe.sh).
 */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ampsipc.h"
#include "../tools/lifetime.h"

#define MAXM	256

struct coll {
	int	 n;
	int	 cmd[MAXM];
	char	*data[MAXM];
	char	*topic[MAXM];
	char	*key[MAXM];
	char	*bm[MAXM];
	char	*reason[MAXM];
	int	 acks;
	uint32_t backlog;
	char	 lastlease[256];
	char	 leasetopic[256];
};

static struct ampsipc	*H;
static const char	*Sock;
static int		 Failed;

/* Report a failed check. */
static void
check(int ok, const char *fmt, ...)
{
	va_list	ap;

	if (ok)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "  check failed: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " [%s]\n", ampsipc_errmsg(H));
	va_end(ap);
	Failed = 1;
}

/*
 * Strings collected by the running scenario: they live until it ends
 * (kept_free() in main), so its struct coll arrays never own memory.
 */
static char	**Kept;
static size_t	  Nkept, Capkept;

/* Remember s until the scenario ends; a failed copy ends the program. */
static char *
keep(char *s)
{
	char	**nv;
	size_t	  ncap;

	if (s == NULL) {
		perror("subtest");
		exit(1);
	}
	if (Nkept == Capkept) {
		ncap = Capkept == 0 ? 256 : Capkept * 2;
		if ((nv = reallocarray(Kept, ncap, sizeof *nv)) == NULL) {
			perror("subtest");
			exit(1);
		}
		Kept = nv;
		Capkept = ncap;
	}
	Kept[Nkept++] = s;
	return (s);
}

/* Free what the scenario collected. */
static void
kept_free(void)
{
	while (Nkept > 0)
		free(Kept[--Nkept]);
	free(Kept);
	Kept = NULL;
	Capkept = 0;
}

/* Copy a string (kept until the scenario ends). */
static char *
sdup(const char *s)
{
	return (keep(strdup(s != NULL ? s : "")));
}

/* Handler: collect messages (acks counted, backlog remembered). */
static int
collect(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	struct coll	*c = arg;

	if (m->command == AMPSIPC_C_ACK) {
		c->acks++;
		if (m->max_backlog != 0)
			c->backlog = m->max_backlog;
		return (0);
	}
	if (c->n >= MAXM)
		return (0);
	c->cmd[c->n] = m->command;
	c->data[c->n] = keep(strndup(m->data, m->len));
	c->topic[c->n] = sdup(m->topic);
	c->key[c->n] = sdup(m->sow_key);
	c->bm[c->n] = sdup(m->bookmark);
	c->reason[c->n] = sdup(m->reason);
	if (m->lease_period[0] != '\0') {
		snprintf(c->lastlease, sizeof c->lastlease, "%s", m->bookmark);
		snprintf(c->leasetopic, sizeof c->leasetopic, "%s", m->topic);
	}
	c->n++;
	return (0);
}

/* Poll until c has n messages or ms pass. */
static void
wait_n(struct coll *c, int n, int ms)
{
	while (c->n < n && ms > 0) {
		if (ampsipc_poll(H, 20) == -1)
			return;
		ms -= 20;
	}
}

/* Poll for ms regardless. */
static void
settle(int ms)
{
	for (; ms > 0; ms -= 20)
		if (ampsipc_poll(H, 20) == -1)
			return;
}

/* Publish and wait until AMPS has it. */
static void
pub(const char *topic, const char *json, int delta)
{
	int	rc;

	rc = delta ? ampsipc_delta_publish(H, topic, json, strlen(json),
	    NULL, NULL) : ampsipc_publish(H, topic, json, strlen(json), NULL,
	    NULL);
	check(rc == 0, "publish %s", topic);
	check(ampsipc_publish_flush(H, 10000) == 0, "publish_flush");
}

/* A command with the usual fields. */
static struct ampsipc_command *
cmd(int c, const char *topic, const char *filter, const char *opts)
{
	struct ampsipc_command	*x = ampsipc_cmd_new(c);

	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, topic);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_FILTER, filter);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_OPTIONS, opts);
	return (x);
}

/* Run a command as a stream to its end; collect everything. */
static int
run_stream(struct ampsipc_command *x, struct coll *c, uint64_t *stats)
{
	const struct ampsipc_message	*m;
	struct ampsipc_stream		*st;
	int				 rc;

	if ((st = ampsipc_execute(H, x)) == NULL)
		return (-1);
	while ((rc = ampsipc_stream_next(st, &m, 5000)) == 1) {
		if (m->command == AMPSIPC_C_ACK && m->ack_type ==
		    AMPSIPC_ACK_STATS && stats != NULL) {
			stats[0] = m->matches;
			stats[1] = m->records_returned;
			stats[2] = m->records_deleted;
		}
		(void)collect(H, m, c);
	}
	check(rc == -1 && ampsipc_error(H) == AMPSIPC_E_OK,
	    "stream ended normally (rc %d)", rc);
	ampsipc_stream_close(st);
	return (0);
}

/* Count collected messages of a command. */
static int
count(const struct coll *c, int command)
{
	int	i, n = 0;

	for (i = 0; i < c->n; i++)
		n += c->cmd[i] == command;
	return (n);
}

static void
s12(void)
{
	struct coll	c = { 0 };
	struct ampsipc_command *x = cmd(AMPSIPC_C_SUBSCRIBE, "s12",
	    "/qty > 50", NULL);

	check(ampsipc_execute_async(H, x, collect, &c) == 0, "subscribe");
	pub("s12", "{\"id\":1,\"qty\":10}", 0);
	pub("s12", "{\"id\":2,\"qty\":100}", 0);
	wait_n(&c, 1, 3000);
	settle(200);
	check(c.n == 1 && strstr(c.data[0], "100") != NULL, "only qty 100");
	ampsipc_cmd_free(x);
}

static void
s13(void)
{
	struct coll	c = { 0 };
	struct ampsipc_command *x = cmd(AMPSIPC_C_SUBSCRIBE, "s13",
	    "/qty >>> 1", NULL);

	check(ampsipc_execute_async(H, x, collect, &c) == -1 &&
	    ampsipc_error(H) == AMPSIPC_E_BAD_FILTER, "bad filter error");
	ampsipc_cmd_free(x);
	x = cmd(AMPSIPC_C_SUBSCRIBE, "^s13(", NULL, NULL);
	check(ampsipc_execute_async(H, x, collect, &c) == -1 &&
	    ampsipc_error(H) == AMPSIPC_E_BAD_REGEX_TOPIC, "bad regex topic");
	ampsipc_cmd_free(x);
}

/* Paused bookmark subscription, resumed by sub_id (PROTOCOL.md §8.4). */
static void
spause(void)
{
	struct coll	c = { 0 }, r = { 0 };
	struct ampsipc_command *x = cmd(AMPSIPC_C_SUBSCRIBE, "spause", NULL,
	    "pause"), *y = cmd(AMPSIPC_C_SUBSCRIBE, NULL, NULL, "resume");

	pub("spause", "{\"id\":1}", 0);
	pub("spause", "{\"id\":2}", 0);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, "P");
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_BOOKMARK, AMPSIPC_BOOKMARK_EPOCH);
	check(ampsipc_execute_async(H, x, collect, &c) == 0, "paused sub");
	settle(300);
	check(c.n == 0, "nothing while paused (%d)", c.n);
	ampsipc_cmd_set_str(y, AMPSIPC_FIELD_SUB_ID, "P");
	check(ampsipc_execute_async(H, y, collect, &r) == 0, "resume");
	wait_n(&c, 2, 3000);
	check(c.n == 2, "replayed after resume (%d)", c.n);
	ampsipc_cmd_free(x);
	ampsipc_cmd_free(y);
}

static void
s14(void)
{
	struct coll	c = { 0 };
	struct ampsipc_command *x = cmd(AMPSIPC_C_SUBSCRIBE, "^s14\\.",
	    NULL, NULL);

	check(ampsipc_execute_async(H, x, collect, &c) == 0, "subscribe");
	pub("s14.eu", "{\"id\":1}", 0);
	pub("x14", "{\"id\":2}", 0);
	pub("s14.us", "{\"id\":3}", 0);
	wait_n(&c, 2, 3000);
	settle(200);
	check(c.n == 2 && strcmp(c.topic[0], "s14.eu") == 0 &&
	    strcmp(c.topic[1], "s14.us") == 0, "concrete topics");
	ampsipc_cmd_free(x);
}

static void
s15(void)
{
	struct coll	c = { 0 };
	char		buf[64];
	int		i, keyed = 1;
	struct ampsipc_command *x = cmd(AMPSIPC_C_SOW, "s15", NULL, NULL);

	for (i = 0; i < 25; i++) {
		snprintf(buf, sizeof buf, "{\"id\":%d}", i);
		check(ampsipc_publish(H, "s15", buf, strlen(buf), NULL,
		    NULL) == 0, "publish");
	}
	check(ampsipc_publish_flush(H, 10000) == 0, "flush");
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_BATCH_SIZE, 10);
	run_stream(x, &c, NULL);
	for (i = 0; i < c.n; i++)
		if (c.cmd[i] == AMPSIPC_C_SOW && c.key[i][0] == '\0')
			keyed = 0;
	check(count(&c, AMPSIPC_C_SOW) == 25 && keyed, "25 keyed records");
	check(c.n == 27 && c.cmd[0] == AMPSIPC_C_GROUP_BEGIN &&
	    c.cmd[26] == AMPSIPC_C_GROUP_END, "group_begin .. group_end");
	ampsipc_cmd_free(x);
}

static void
s16(void)
{
	struct coll	c = { 0 };
	struct ampsipc_command *x = cmd(AMPSIPC_C_SOW, "s16", NULL, NULL);

	run_stream(x, &c, NULL);
	check(c.n == 2 && c.cmd[0] == AMPSIPC_C_GROUP_BEGIN &&
	    c.cmd[1] == AMPSIPC_C_GROUP_END, "empty group");
	ampsipc_cmd_free(x);
}

static void
s17(void)
{
	struct ampsipc_command *x = cmd(AMPSIPC_C_SOW, "plain17", NULL, NULL);

	check(ampsipc_execute(H, x) == NULL &&
	    ampsipc_error(H) == AMPSIPC_E_INVALID_TOPIC, "invalid topic");
	ampsipc_cmd_free(x);
}

static void
s18(void)
{
	struct coll	c = { 0 }, d = { 0 };
	struct ampsipc_command *x = cmd(AMPSIPC_C_SOW_AND_SUBSCRIBE, "s18",
	    "/qty > 50", "oof"), *del;

	pub("s18", "{\"id\":1,\"qty\":100}", 0);
	check(ampsipc_execute_async(H, x, collect, &c) == 0, "sow_and_sub");
	wait_n(&c, 3, 3000);
	check(c.n == 3 && c.cmd[1] == AMPSIPC_C_SOW, "snapshot");
	pub("s18", "{\"id\":1,\"qty\":10}", 0);
	pub("s18", "{\"id\":2,\"qty\":200}", 0);
	wait_n(&c, 5, 3000);
	check(c.n == 5 && c.cmd[3] == AMPSIPC_C_OOF &&
	    strcmp(c.reason[3], "match") == 0 &&
	    strstr(c.data[3], "\"qty\":10") != NULL, "oof match, new data");
	check(c.n == 5 && c.cmd[4] == AMPSIPC_C_PUBLISH, "update");
	del = cmd(AMPSIPC_C_SOW_DELETE, "s18", "/id = 2", NULL);
	run_stream(del, &d, NULL);
	wait_n(&c, 6, 3000);
	check(c.n == 6 && c.cmd[5] == AMPSIPC_C_OOF &&
	    strcmp(c.reason[5], "deleted") == 0 &&
	    strstr(c.data[5], "200") != NULL, "oof deleted, old data");
	ampsipc_cmd_free(x);
	ampsipc_cmd_free(del);
}

static void
s19(void)
{
	struct coll	c = { 0 }, d = { 0 };
	uint64_t	st[3] = { 0 };
	char		buf[64];
	int		i;
	struct ampsipc_command *x = cmd(AMPSIPC_C_SOW, "s19", NULL, NULL);

	for (i = 1; i <= 10; i++) {
		snprintf(buf, sizeof buf, "{\"id\":%d,\"qty\":%d}", i, i * 10);
		ampsipc_publish(H, "s19", buf, strlen(buf), NULL, NULL);
	}
	check(ampsipc_publish_flush(H, 10000) == 0, "flush");
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_TOP_N, 3);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_ORDER_BY, "/qty DESC");
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_ACK_TYPES, AMPSIPC_ACK_STATS);
	run_stream(x, &c, st);
	check(count(&c, AMPSIPC_C_SOW) == 3 && strstr(c.data[1], "100") &&
	    strstr(c.data[3], "80"), "top 3 by qty desc");
	check(st[0] == 10 && st[1] == 3, "stats matches %llu > returned %llu",
	    (unsigned long long)st[0], (unsigned long long)st[1]);
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_SKIP_N, 2);
	run_stream(x, &d, NULL);
	check(count(&d, AMPSIPC_C_SOW) == 3 && strstr(d.data[1], "80") &&
	    strstr(d.data[3], "60"), "skip 2");
	ampsipc_cmd_free(x);
}

static void
s20(void)
{
	struct coll	c = { 0 }, k = { 0 };
	uint64_t	st[3] = { 0 };
	struct ampsipc_command *x;

	pub("s20", "{\"id\":1}", 0);
	pub("s20", "{\"id\":2}", 0);
	pub("s20", "{\"id\":3}", 0);
	x = cmd(AMPSIPC_C_SOW_DELETE, "s20", "1=1", NULL);
	run_stream(x, &c, st);
	check(st[2] == 3 && st[0] == 3, "delete by filter: %llu",
	    (unsigned long long)st[2]);
	ampsipc_cmd_free(x);
	pub("s20", "{\"id\":4}", 0);
	pub("s20", "{\"id\":5}", 0);
	x = cmd(AMPSIPC_C_SOW, "s20", "/id = 4", NULL);
	run_stream(x, &k, NULL);
	ampsipc_cmd_free(x);
	check(k.n == 3, "key of id 4");
	x = cmd(AMPSIPC_C_SOW_DELETE, "s20", NULL, NULL);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SOW_KEYS, k.n == 3 ? k.key[1] :
	    "0");
	memset(st, 0, sizeof st);
	run_stream(x, &c, st);
	check(st[2] == 1, "delete by keys");
	ampsipc_cmd_free(x);
	x = cmd(AMPSIPC_C_SOW_DELETE, "s20", NULL, NULL);
	ampsipc_cmd_set_data(x, "{\"id\":5}", 8);
	memset(st, 0, sizeof st);
	run_stream(x, &c, st);
	check(st[2] == 1, "delete by data");
	ampsipc_cmd_free(x);
}

static void
s21(void)
{
	struct coll	c = { 0 }, f = { 0 }, s = { 0 };
	struct ampsipc_command *x = cmd(AMPSIPC_C_DELTA_SUBSCRIBE, "s21",
	    NULL, NULL), *y = cmd(AMPSIPC_C_SUBSCRIBE, "s21", NULL, NULL),
	    *q = cmd(AMPSIPC_C_SOW, "s21", NULL, NULL);

	pub("s21", "{\"id\":7,\"qty\":100,\"px\":3}", 0);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, "d21");
	check(ampsipc_execute_async(H, x, collect, &c) == 0, "delta sub");
	pub("s21", "{\"id\":7,\"qty\":150}", 1);
	wait_n(&c, 1, 3000);
	check(c.n == 1 && strstr(c.data[0], "150") &&
	    strstr(c.data[0], "px") == NULL, "delta only");
	check(ampsipc_unsubscribe(H, "d21", 5000) == 0, "unsubscribe");
	run_stream(q, &s, NULL);
	check(s.n == 3 && strstr(s.data[1], "\"px\":3") &&
	    strstr(s.data[1], "150"), "merged in the SOW");
	check(ampsipc_execute_async(H, y, collect, &f) == 0, "full sub");
	pub("s21", "{\"id\":7,\"qty\":160}", 1);
	wait_n(&f, 1, 3000);
	check(f.n == 1 && strstr(f.data[0], "px"), "full gets merged");
	ampsipc_cmd_free(x);
	ampsipc_cmd_free(y);
	ampsipc_cmd_free(q);
}

static void
s22(void)
{
	const struct ampsipc_message	*m;
	struct ampsipc_stream		*st;
	struct ampsipc_command		*x;
	char				 buf[64];
	int				 i, p = 0, completed = 0, rc, bms = 1;

	for (i = 0; i < 5; i++) {
		snprintf(buf, sizeof buf, "{\"id\":%d}", i);
		ampsipc_publish(H, "s22", buf, strlen(buf), NULL, NULL);
	}
	check(ampsipc_publish_flush(H, 10000) == 0, "flush");
	x = cmd(AMPSIPC_C_SUBSCRIBE, "s22", NULL, NULL);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_BOOKMARK, AMPSIPC_BOOKMARK_EPOCH);
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_ACK_TYPES,
	    AMPSIPC_ACK_PROCESSED | AMPSIPC_ACK_COMPLETED);
	check((st = ampsipc_execute(H, x)) != NULL, "bookmark subscribe");
	if (st == NULL)
		return;
	while ((rc = ampsipc_stream_next(st, &m, 2000)) == 1) {
		if (m->command == AMPSIPC_C_PUBLISH) {
			p++;
			bms &= m->bookmark[0] != '\0';
		}
		if (m->command == AMPSIPC_C_ACK &&
		    m->ack_type == AMPSIPC_ACK_COMPLETED) {
			completed = p == 5 && m->bookmark[0] != '\0';
			pub("s22", "{\"id\":99}", 0);
		}
		if (p == 6)
			break;
	}
	check(p == 6 && completed && bms, "5 replayed, completed, live");
	ampsipc_stream_close(st);
	ampsipc_cmd_free(x);
}

/* 23/24: discard 3 of 5, resubscribe MOST_RECENT: 4 and 5 again only. */
static void
s23(void)
{
	const struct ampsipc_message	*m;
	struct ampsipc_stream		*st;
	struct ampsipc_command		*x;
	char				 buf[64];
	int				 i, n = 0, first = -1;

	for (i = 1; i <= 5; i++) {
		snprintf(buf, sizeof buf, "{\"id\":%d}", i);
		ampsipc_publish(H, "s23b", buf, strlen(buf), NULL, NULL);
	}
	check(ampsipc_publish_flush(H, 10000) == 0, "flush");
	x = cmd(AMPSIPC_C_SUBSCRIBE, "s23b", NULL, NULL);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, "dur23");
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_BOOKMARK,
	    AMPSIPC_BOOKMARK_MOST_RECENT);
	ampsipc_cmd_set_flags(x, AMPSIPC_CMDF_DURABLE);
	check((st = ampsipc_execute(H, x)) != NULL, "durable subscribe");
	while (st != NULL && n < 5 && ampsipc_stream_next(st, &m, 2000) == 1) {
		if (m->command != AMPSIPC_C_PUBLISH)
			continue;
		if (++n <= 3)
			check(ampsipc_discard(H, m) == 0, "discard");
	}
	check(n == 5, "5 delivered (%d)", n);
	ampsipc_stream_close(st);
	check(ampsipc_ping(H, 5000) == 0, "ping");
	check((st = ampsipc_execute(H, x)) != NULL, "resubscribe");
	n = 0;
	while (st != NULL && ampsipc_stream_next(st, &m, 500) == 1)
		if (m->command == AMPSIPC_C_PUBLISH && n++ == 0)
			first = strstr(m->data, "\"id\":4") != NULL;
	check(n == 2 && first == 1, "4 and 5 again, nothing discarded (%d)", n);
	ampsipc_stream_close(st);
	ampsipc_cmd_free(x);
}

/* 25: bookmark_not_found=fail -> a failure ack. */
static void
s25(void)
{
	struct coll	c = { 0 };
	struct ampsipc_command *x = cmd(AMPSIPC_C_SUBSCRIBE, "s25", NULL,
	    "bookmark_not_found=fail");

	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_BOOKMARK, "123|456|");
	check(ampsipc_execute_async(H, x, collect, &c) == -1 &&
	    ampsipc_error(H) != AMPSIPC_E_OK &&
	    ampsipc_error(H) != AMPSIPC_E_TIMED_OUT, "failure ack (%d)",
	    ampsipc_error(H));
	ampsipc_cmd_free(x);
}

static void
s28(void)
{
	struct coll	a = { 0 }, b = { 0 };
	struct ampsipc_command *x = cmd(AMPSIPC_C_SUBSCRIBE, "s28", NULL,
	    NULL), *y = cmd(AMPSIPC_C_SUBSCRIBE, "s28", "/id > 0", NULL);

	check(ampsipc_execute_async(H, x, collect, &a) == 0, "sub a");
	check(ampsipc_execute_async(H, y, collect, &b) == 0, "sub b");
	pub("s28", "{\"id\":1}", 0);
	wait_n(&b, 1, 3000);
	check(ampsipc_unsubscribe(H, "all", 5000) == 0, "unsubscribe all");
	pub("s28", "{\"id\":2}", 0);
	settle(300);
	check(a.n == 1 && b.n == 1, "nothing after unsubscribe all");
	ampsipc_cmd_free(x);
	ampsipc_cmd_free(y);
}

static void
s29(void)
{
	struct coll	c = { 0 }, r = { 0 };
	struct ampsipc_command *x = cmd(AMPSIPC_C_SUBSCRIBE, "s29",
	    "/qty > 100", NULL), *y = cmd(AMPSIPC_C_SUBSCRIBE, "s29",
	    "/qty < 10", "replace");

	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, "X");
	ampsipc_cmd_set_str(y, AMPSIPC_FIELD_SUB_ID, "X");
	check(ampsipc_execute_async(H, x, collect, &c) == 0, "subscribe X");
	check(ampsipc_execute_async(H, x, collect, &r) == -1 &&
	    ampsipc_error(H) == AMPSIPC_E_SUB_EXISTS, "same id again");
	check(ampsipc_execute_async(H, y, collect, &r) == 0, "replace X");
	pub("s29", "{\"id\":1,\"qty\":5}", 0);
	pub("s29", "{\"id\":2,\"qty\":500}", 0);
	wait_n(&c, 1, 3000);
	settle(200);
	check(c.n == 1 && strstr(c.data[0], "\"qty\":5}"), "only filter B");
	ampsipc_cmd_free(x);
	ampsipc_cmd_free(y);
}

/* 26: queue with backlog 2, ack, cancel. */
static void
s26(void)
{
	struct coll	c = { 0 };
	char		buf[64];
	int		i;
	struct ampsipc_command *x = cmd(AMPSIPC_C_SUBSCRIBE, "work", NULL,
	    NULL);

	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_MAX_BACKLOG, 2);
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_ACK_TYPES, AMPSIPC_ACK_PROCESSED);
	check(ampsipc_execute_async(H, x, collect, &c) == 0, "queue sub");
	check(c.backlog == 2, "granted backlog %u", c.backlog);
	for (i = 0; i < 5; i++) {
		snprintf(buf, sizeof buf, "{\"id\":%d}", i);
		ampsipc_publish(H, "work-in", buf, strlen(buf), NULL, NULL);
	}
	check(ampsipc_publish_flush(H, 10000) == 0, "flush");
	wait_n(&c, 2, 3000);
	settle(300);
	check(c.n == 2, "exactly 2 leased (%d)", c.n);
	check(ampsipc_ack_bookmark(H, c.leasetopic, c.bm[0], "", NULL) == 0,
	    "ack");
	wait_n(&c, 3, 3000);
	check(c.n == 3, "one more after an ack (%d)", c.n);
	check(ampsipc_ack_bookmark(H, c.leasetopic, c.bm[2], "", "cancel") ==
	    0, "cancel");
	wait_n(&c, 4, 3000);
	check(c.n == 4 && strcmp(c.data[3], c.data[2]) == 0,
	    "cancelled message redelivered");
	ampsipc_unsubscribe(H, "all", 5000);
	ampsipc_cmd_free(x);
}

static int	exc_calls, fail_once;

/* Exception listener: count. */
static void
exc_listener(struct ampsipc *h, int code, const char *text, void *arg)
{
	exc_calls++;
}

/* Handler failing the first message (its auto-ack becomes a cancel). */
static int
fail_first(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	collect(h, m, arg);
	if (m->command == AMPSIPC_C_PUBLISH && fail_once) {
		fail_once = 0;
		return (1);
	}
	return (0);
}

/* 27: auto-ack (batched by the daemon); a failed handler cancels. */
static void
s27(void)
{
	struct coll	c = { 0 };
	char		buf[64];
	int		i;
	struct ampsipc_command *x = cmd(AMPSIPC_C_SUBSCRIBE, "work2", NULL,
	    NULL);

	ampsipc_set_exception_listener(H, exc_listener, NULL);
	exc_calls = 0;
	fail_once = 1;
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_MAX_BACKLOG, 2);
	ampsipc_cmd_set_flags(x, AMPSIPC_CMDF_AUTO_ACK);
	check(ampsipc_execute_async(H, x, fail_first, &c) == 0, "queue sub");
	for (i = 0; i < 8; i++) {
		snprintf(buf, sizeof buf, "{\"id\":%d}", i);
		ampsipc_publish(H, "work2-in", buf, strlen(buf), NULL, NULL);
	}
	check(ampsipc_publish_flush(H, 10000) == 0, "flush");
	wait_n(&c, 9, 5000);
	settle(300);
	check(c.n == 9, "8 messages + 1 redelivery through backlog 2 (%d)",
	    c.n);
	check(c.n >= 2 && strcmp(c.data[0], c.data[1]) != 0 &&
	    exc_calls == 1, "exception listener told once (%d)", exc_calls);
	ampsipc_cmd_free(x);
}

/* Client-side conflation of a stream. */
static void
sconf(void)
{
	const struct ampsipc_message	*m;
	struct ampsipc_stream		*st;
	struct ampsipc_command *x = cmd(AMPSIPC_C_SUBSCRIBE, "s23", NULL,
	    NULL);
	int	n = 0, last = 0;

	ampsipc_cmd_set_flags(x, AMPSIPC_CMDF_CONFLATE);
	check((st = ampsipc_execute(H, x)) != NULL, "stream");
	if (st == NULL)
		return;
	pub("s23", "{\"id\":1,\"v\":1}", 0);
	pub("s23", "{\"id\":1,\"v\":2}", 0);
	pub("s23", "{\"id\":1,\"v\":3}", 0);
	pub("s23", "{\"id\":2,\"v\":1}", 0);
	settle(300);
	while (ampsipc_stream_next(st, &m, 200) == 1) {
		n++;
		if (strstr(m->data, "\"v\":3"))
			last = 1;
	}
	check(n == 2 && last, "conflated to latest per key (%d)", n);
	ampsipc_stream_close(st);
	ampsipc_cmd_free(x);
}

/* unsub: a program's own unsubscribe by id, by list, and "all". */
static void
sunsub(void)
{
	static struct coll	 c[4];
	struct ampsipc_command	*x;
	char			 id[8], *text = NULL;
	int			 i, want[4];

	memset(c, 0, sizeof c);
	for (i = 0; i < 4; i++) {
		snprintf(id, sizeof id, "u%d", i + 1);
		x = cmd(AMPSIPC_C_SUBSCRIBE, "un", NULL, NULL);
		ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, id);
		check(ampsipc_execute_async(H, x, collect, &c[i]) == 0,
		    "subscribe %s", id);
		ampsipc_cmd_free(x);
	}
	/* each step: publish one, then every live subscription has it */
#define STEP(a, b, cc, d) do {						\
	pub("un", "{\"id\":1}", 0);					\
	want[0] = (a); want[1] = (b); want[2] = (cc); want[3] = (d);	\
	wait_n(&c[3], want[3], 5000);					\
	settle(200);							\
	for (i = 0; i < 4; i++)						\
		check(c[i].n == want[i], "u%d has %d, not %d", i + 1,	\
		    c[i].n, want[i]);					\
} while (0)
	STEP(1, 1, 1, 1);
	check(ampsipc_unsubscribe(H, "u1", 5000) == 0, "unsubscribe u1");
	STEP(1, 2, 2, 2);
	check(ampsipc_unsubscribe(H, "u2,u3", 5000) == 0, "unsubscribe list");
	check(ampsipc_unsubscribe(H, "nosuch", 5000) == 0, "unknown id");
	STEP(1, 2, 2, 3);
	check(ampsipc_status(H, NULL, &text, 5000) == 0, "status");
	check(text != NULL && strstr(text, "sub id=u4 ") != NULL &&
	    strstr(text, "sub id=u1 ") == NULL, "status lists u4 only");
	free(text);
	check(ampsipc_unsubscribe(H, "all", 5000) == 0, "unsubscribe all");
	pub("un", "{\"id\":1}", 0);
	settle(300);
	check(c[3].n == 3, "u4 still got messages after all (%d)", c[3].n);
	check(ampsipc_status(H, NULL, &text, 5000) == 0, "status");
	check(text != NULL && strstr(text, "sub id=u") == NULL,
	    "status lists no subscription");
	free(text);
#undef STEP
}

static int	released[4];
static void	connect_h(void);

/* A handler that takes every message. */
static int
take_all(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	return (0);
}

/* Release handler: count per route (arg points into released[]). */
static void
count_release(struct ampsipc *h, void *arg)
{
	(*(int *)arg)++;
}

/*
 * release: the release handler runs once per execute_async with a
 * handler: a failed command, a finished SOW query, an unsubscribe, and
 * a subscription still running at ampsipc_close().
 */
static void
srelease(void)
{
	struct ampsipc_command	*x;
	int			 i;

	memset(released, 0, sizeof released);
	ampsipc_set_release_handler(H, count_release);
	x = cmd(AMPSIPC_C_SUBSCRIBE, "rel", "/qty >>> 1", NULL);
	check(ampsipc_execute_async(H, x, take_all, &released[0]) == -1 &&
	    ampsipc_error(H) == AMPSIPC_E_BAD_FILTER, "bad filter refused");
	ampsipc_cmd_free(x);
	check(released[0] == 1, "failed execute released (%d)", released[0]);
	pub("s15", "{\"id\":1}", 0);
	x = cmd(AMPSIPC_C_SOW, "s15", NULL, NULL);
	check(ampsipc_execute_async(H, x, take_all, &released[1]) == 0, "sow");
	ampsipc_cmd_free(x);
	for (i = 0; i < 50 && released[1] == 0; i++)
		ampsipc_poll(H, 100);
	check(released[1] == 1, "finished sow released (%d)", released[1]);
	x = cmd(AMPSIPC_C_SUBSCRIBE, "rel", NULL, NULL);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, "r1");
	check(ampsipc_execute_async(H, x, take_all, &released[2]) == 0, "sub");
	ampsipc_cmd_free(x);
	check(released[2] == 0, "running subscription kept");
	check(ampsipc_unsubscribe(H, "r1", 5000) == 0, "unsubscribe");
	check(released[2] == 1, "unsubscribed released (%d)", released[2]);
	x = cmd(AMPSIPC_C_SUBSCRIBE, "rel", NULL, NULL);
	check(ampsipc_execute_async(H, x, take_all, &released[3]) == 0, "sub");
	ampsipc_cmd_free(x);
	ampsipc_close(H);
	H = NULL;
	check(released[3] == 1, "released at close (%d)", released[3]);
	connect_h();		/* main() closes H */
}

static const struct {
	const char	*name;
	void		(*fn)(void);
} scen[] = {
	{ "12", s12 }, { "13", s13 }, { "14", s14 }, { "15", s15 },
	{ "16", s16 }, { "17", s17 }, { "18", s18 }, { "19", s19 },
	{ "20", s20 }, { "21", s21 }, { "22", s22 }, { "26", s26 },
	{ "23", s23 }, { "25", s25 }, { "27", s27 },
	{ "28", s28 }, { "29", s29 }, { "conflate", sconf },
	{ "pause", spause }, { "unsub", sunsub }, { "release", srelease },
};

/* Connect H. */
static void
connect_h(void)
{
	if ((H = ampsipc_create()) == NULL ||
	    ampsipc_connect(H, Sock, "subtest", 5000) == -1) {
		fprintf(stderr, "subtest: connect: %s\n",
		    H != NULL ? ampsipc_errmsg(H) : strerror(errno));
		exit(1);
	}
}

int	other_modes(const char *, int, char **);	/* subtest-modes.c */

int
main(int argc, char **argv)
{
	size_t	i;
	int	a, rc = 0, found;

	lifetime_start("subtest", 600,
	    "a scenario or a consumer that never ended");
	if (argc < 4 || strcmp(argv[1], "-S") != 0) {
		fprintf(stderr, "usage: subtest -S socket scenario NAME...\n");
		return (2);
	}
	Sock = argv[2];
	if (strcmp(argv[3], "scenario") != 0)
		return (other_modes(Sock, argc - 3, argv + 3));
	for (a = 4; a < argc; a++) {
		found = 0;
		for (i = 0; i < sizeof scen / sizeof scen[0]; i++) {
			if (strcmp(scen[i].name, argv[a]) != 0)
				continue;
			found = 1;
			connect_h();
			Failed = 0;
			scen[i].fn();
			printf("%s scenario %s\n", Failed ? "FAIL" : "ok",
			    argv[a]);
			fflush(stdout);
			rc |= Failed;
			ampsipc_close(H);
			kept_free();
		}
		if (!found) {
			fprintf(stderr, "subtest: no scenario %s\n", argv[a]);
			rc = 1;
		}
	}
	return (rc);
}
