/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsctl-sub.c: the receiving commands of ampsctl (spark-like flags):
 *
 *	ampsctl subscribe | sow_and_subscribe -topic T [-filter F]
 *	    [-subid ID] [-bookmark BM] [-durable] [-discard] [-delta]
 *	    [-backlog N] [-ack] [-options O] [-orderby O] [-topn N]
 *	    [-batchsize N] [-format FMT] [-n N] [-timeout MS] [-conn C]
 *	ampsctl sow -topic T [-filter F] [-orderby O] [-topn N] [-skipn N]
 *	    [-batchsize N] [-keys K] [-bookmark BM] [-format FMT] [-stats]
 *	ampsctl sow_delete -topic T (-filter F | -keys K | -data D)
 *	ampsctl unsubscribe -name NAME [-force] [-conn C]
 *	ampsctl subscriptions [-conn C]
 *
 * (ampsctl-args.c parses and checks the flags.)  subscribe and
 * sow_and_subscribe use handler style (kept by the daemon across
 * failover); sow and sow_delete use a synchronous stream.  -n stops
 * after N messages, -timeout after MS without one: with -n, fewer than
 * N messages before that is a failure (exit 1).  -format
 * expands {data} {topic} {command} {bookmark} {sowkey} {subid}
 * {correlation_id} {timestamp} {lease} {reason} {queryid}; default
 * "{data}".  Exit status: 0 success, 1 failure, 2 usage.
 *
 * Invariants:
 *  1. Every error is printed once, with the library's message.
 *  2. Output is one line per message, flushed per message.
 */

#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc.h"
#include "ampsctl.h"

#define SUB_TIMEOUT	10000	/* ms: -timeout's default, ampsctl(1) */

/* One receiving command: its arguments and progress. */
struct sctl {
	const struct ctl_args	*a;
	const char		*format;
	long			 n;		/* 0: no limit */
	int			 timeout;	/* ms; -1: not given */
	int			 durable;	/* -durable or -discard */
	long			 got;
	int			 failed;
	char			 used_id[128];	/* the sub_id execute used */
};

/* Print one message with the format. */
static void
sub_print(const struct sctl *c, const struct ampsipc_message *m)
{
	static const char *const names[] = { "", "p", "delta_publish",
	    "subscribe", "delta_subscribe", "sow", "sow_and_subscribe",
	    "sow_and_delta_subscribe", "sow_delete", "unsubscribe", "flush",
	    "ack", "oof", "group_begin", "group_end" };
	const char	*p = c->format != NULL ? c->format : "{data}", *e;
	size_t		 n;

	while (*p != '\0') {
		if (*p != '{' || (e = strchr(p, '}')) == NULL) {
			putchar(*p++);
			continue;
		}
		n = (size_t)(e - p + 1);
#define F(name, val) else if (n == sizeof(name) - 1 && \
	    memcmp(p, name, n) == 0) fputs(val, stdout)
		if (n == 6 && memcmp(p, "{data}", 6) == 0)
			fwrite(m->data, 1, m->len, stdout);
		F("{topic}", m->topic);
		F("{command}", m->command >= 0 && m->command < 15 ?
		    names[m->command] : "?");
		F("{bookmark}", m->bookmark);
		F("{sowkey}", m->sow_key);
		F("{subid}", m->sub_id);
		F("{correlation_id}", m->correlation_id);
		F("{timestamp}", m->timestamp);
		F("{lease}", m->lease_period);
		F("{reason}", m->reason);
		F("{queryid}", m->query_id);
		else
			fwrite(p, 1, n, stdout);
#undef F
		p += n;
	}
	putchar('\n');
	fflush(stdout);
}

/* Handler for subscribe / sow_and_subscribe. */
static int
sub_handler(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	struct sctl	*c = arg;

	if (m->command == AMPSIPC_C_ACK || m->command == AMPSIPC_C_GROUP_BEGIN ||
	    m->command == AMPSIPC_C_GROUP_END || m->command == AMPSIPC_C_END)
		return (0);	/* an end also reaches the exception listener */
	if (c->n > 0 && c->got >= c->n)
		return (0);	/* already unsubscribed; not discarded */
	sub_print(c, m);
	/* Printed = processed.  Ack and discard here, not with the library's
	 * auto-ack/auto-discard: those run after we return, so at -n they
	 * would follow the unsubscribe, too late for AMPS to take the ack
	 * (the message would go back to the queue). */
	if (c->a->ack)
		(void)ampsipc_ack(h, m, NULL);
	if (c->durable)
		(void)ampsipc_discard(h, m);
	/* Stop at -n at once: later messages of this read go to the ended
	 * route and are neither printed, acked nor discarded. */
	if (++c->got == c->n)
		(void)ampsipc_unsubscribe(h, c->used_id, 0);
	return (0);
}

/* Exception listener: a subscription ended with an error. */
static void
sub_exc(struct ampsipc *h, int code, const char *text, void *arg)
{
	struct sctl	*c = arg;

	fprintf(stderr, "ampsctl: %s: %s\n", ampsipc_strerror(code), text);
	c->failed = 1;
}

/* Build the command object from the flags. */
static struct ampsipc_command *
sub_cmd(const struct sctl *sc, int cmd)
{
	const struct ctl_args	*c = sc->a;
	struct ampsipc_command	*x;
	int			 flags = 0;

	if ((x = ampsipc_cmd_new(cmd)) == NULL)
		return (NULL);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, c->topic);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_FILTER, c->filter);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, c->subid);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_BOOKMARK, c->bookmark);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_OPTIONS, c->options);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_ORDER_BY, c->orderby);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SOW_KEYS, c->keys);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_CONN, c->conn);
	if (c->topn > 0)
		ampsipc_cmd_set_num(x, AMPSIPC_FIELD_TOP_N, (uint64_t)c->topn);
	if (c->skipn > 0)
		ampsipc_cmd_set_num(x, AMPSIPC_FIELD_SKIP_N, (uint64_t)c->skipn);
	if (c->batchsize > 0)
		ampsipc_cmd_set_num(x, AMPSIPC_FIELD_BATCH_SIZE,
		    (uint64_t)c->batchsize);
	if (c->backlog > 0)
		ampsipc_cmd_set_num(x, AMPSIPC_FIELD_MAX_BACKLOG,
		    (uint64_t)c->backlog);
	if (c->stats || cmd == AMPSIPC_C_SOW_DELETE)
		ampsipc_cmd_set_num(x, AMPSIPC_FIELD_ACK_TYPES,
		    AMPSIPC_ACK_STATS);
	if (c->data != NULL)
		ampsipc_cmd_set_data(x, c->data, strlen(c->data));
	if (sc->durable)	/* sub_handler discards and acks */
		flags |= AMPSIPC_CMDF_DURABLE;
	ampsipc_cmd_set_flags(x, flags);
	return (x);
}

/* Print the library's error and return 1. */
static int
sub_fail(struct ampsipc *h, const char *what)
{
	const char	*msg = ampsipc_errmsg(h);

	fprintf(stderr, "ampsctl: %s: %s\n", what,
	    *msg != '\0' ? msg : strerror(errno));
	return (1);
}

/* subscribe / sow_and_subscribe: handler style, until -n or -timeout. */
static int
sub_subscribe(struct ampsipc *h, struct sctl *c, int cmd)
{
	struct ampsipc_command	*x;
	long			 last = 0;
	int			 idle = 0, rc;

	if ((x = sub_cmd(c, cmd)) == NULL)
		return (sub_fail(h, "command"));
	ampsipc_set_exception_listener(h, sub_exc, c);
	if (c->timeout > 0)	/* also the wait for the processed ack */
		ampsipc_cmd_set_num(x, AMPSIPC_FIELD_TIMEOUT,
		    (uint64_t)c->timeout);
	if (c->a->subid == NULL) {
		snprintf(c->used_id, sizeof c->used_id, "ampsctl");
		ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, c->used_id);
	} else
		snprintf(c->used_id, sizeof c->used_id, "%s", c->a->subid);
	rc = ampsipc_execute_async(h, x, sub_handler, c);
	ampsipc_cmd_free(x);
	if (rc == -1 && c->failed)
		return (1);	/* sub_exc() printed why (invariant 1) */
	if (rc == -1)
		return (sub_fail(h, "subscribe"));
	while (!c->failed && (c->n == 0 || c->got < c->n)) {
		if (ampsipc_poll(h, 100) == -1)
			return (sub_fail(h, "subscribe"));
		if (c->got != last) {
			last = c->got;
			idle = 0;
		} else if (c->timeout > 0 && (idle += 100) >= c->timeout)
			break;
	}
	(void)ampsipc_wait_stored(h, 1000);	/* flush acks and discards */
	if (!c->failed && c->n > 0 && c->got < c->n) {
		fprintf(stderr, "ampsctl: %s: %ld of %ld message(s) within "
		    "-timeout %d ms of silence\n", ctl_cmd_name(c->a->cmd),
		    c->got, c->n, c->timeout);
		return (1);
	}
	return (c->failed);
}

/* sow / sow_delete: a synchronous stream until it ends. */
static int
sub_query(struct ampsipc *h, struct sctl *c, int cmd)
{
	struct ampsipc_command		*x;
	struct ampsipc_stream		*st;
	const struct ampsipc_message	*m;
	int				 rc, timeout;

	if ((x = sub_cmd(c, cmd)) == NULL)
		return (sub_fail(h, "command"));
	/* Default 30 s; -1 waits forever, and the daemon takes its own. */
	timeout = !c->a->has_timeout || c->timeout == 0 ? 30000 : c->timeout;
	if (timeout > 0)
		ampsipc_cmd_set_num(x, AMPSIPC_FIELD_TIMEOUT,
		    (uint64_t)timeout);
	st = ampsipc_execute(h, x);
	ampsipc_cmd_free(x);
	if (st == NULL)
		return (sub_fail(h, cmd == AMPSIPC_C_SOW ? "sow" :
		    "sow_delete"));
	while ((rc = ampsipc_stream_next(st, &m, timeout)) == 1) {
		if (m->command == AMPSIPC_C_ACK) {
			if (m->ack_type == AMPSIPC_ACK_STATS &&
			    cmd == AMPSIPC_C_SOW_DELETE)
				printf("records_deleted=%" PRIu64 " matches=%"
				    PRIu64 "\n", m->records_deleted,
				    m->matches);
			else if (m->ack_type == AMPSIPC_ACK_STATS)
				fprintf(stderr, "records_returned=%" PRIu64
				    " matches=%" PRIu64 " topic_matches=%"
				    PRIu64 "\n", m->records_returned,
				    m->matches, m->topic_matches);
			continue;
		}
		if (m->command == AMPSIPC_C_SOW) {
			sub_print(c, m);
			if (c->n > 0 && ++c->got >= c->n)
				break;
		}
	}
	if (rc == 0) {
		fprintf(stderr, "ampsctl: timed out\n");
		ampsipc_stream_close(st);
		return (1);
	}
	rc = rc == -1 && ampsipc_error(h) != AMPSIPC_E_OK ?
	    sub_fail(h, "query") : 0;
	ampsipc_stream_close(st);
	return (rc);
}

/*
 * unsubscribe -name NAME: remove a durable subscription (an operator's
 * request; the daemon checks who asks).
 */
static int
sub_unsubscribe(struct ampsipc *h, struct sctl *sc)
{
	const struct ctl_args	*c = sc->a;
	const char		*name = c->name != NULL ? c->name : c->subid;

	if (ampsipc_unsubscribe_durable(h, name, c->conn, c->force,
	    c->has_timeout ? sc->timeout : SUB_TIMEOUT) == -1)
		return (sub_fail(h, "unsubscribe"));
	printf("durable subscription %s removed\n", name);
	return (0);
}

/* subscriptions: the "sub" and "durable" lines of the daemon's status. */
static int
sub_list(struct ampsipc *h, struct sctl *c)
{
	char	*text, *line, *next;

	if (ampsipc_status(h, c->a->conn, &text, c->a->has_timeout ?
	    c->timeout : SUB_TIMEOUT) == -1)
		return (sub_fail(h, "subscriptions"));
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "sub ", 4) == 0 ||
		    strncmp(line, "durable ", 8) == 0)
			printf("%s\n", line);
	}
	free(text);
	return (0);
}

/* Run a receiving command (ampsctl.c's main); returns the exit status. */
int
ctl_receive(struct ctl_args *a)
{
	struct ampsipc	*h;
	struct sctl	 c;
	int		 rc, kind;

	switch (ctl_cmd_id(a->cmd)) {
	case CTL_C_SUBSCRIBE:
		kind = a->delta ? AMPSIPC_C_DELTA_SUBSCRIBE :
		    AMPSIPC_C_SUBSCRIBE;
		break;
	case CTL_C_SOW_AND_SUBSCRIBE:
		kind = a->delta ? AMPSIPC_C_SOW_AND_DELTA_SUBSCRIBE :
		    AMPSIPC_C_SOW_AND_SUBSCRIBE;
		break;
	case CTL_C_SOW:
		kind = AMPSIPC_C_SOW;
		break;
	case CTL_C_SOW_DELETE:
		kind = AMPSIPC_C_SOW_DELETE;
		break;
	case CTL_C_UNSUBSCRIBE:
		kind = AMPSIPC_C_UNSUBSCRIBE;
		break;
	default:
		kind = 0;	/* subscriptions */
		break;
	}
	memset(&c, 0, sizeof c);
	c.a = a;
	c.format = a->fmt;
	c.n = a->n > 0 ? a->n : 0;
	c.timeout = a->has_timeout ? (int)a->timeout : -1;
	c.durable = a->durable || a->discard;
	if ((h = ampsipc_create()) == NULL) {
		fprintf(stderr, "ampsctl: %s\n", strerror(errno));
		return (1);
	}
	if (ampsipc_connect(h, a->sock, "ampsctl", c.timeout > 0 ? c.timeout :
	    SUB_TIMEOUT) == -1) {
		rc = sub_fail(h, "connect");
		ampsipc_close(h);
		return (rc);
	}
	if (kind == AMPSIPC_C_UNSUBSCRIBE)
		rc = sub_unsubscribe(h, &c);
	else if (kind == 0)
		rc = sub_list(h, &c);
	else if (kind == AMPSIPC_C_SOW || kind == AMPSIPC_C_SOW_DELETE)
		rc = sub_query(h, &c, kind);
	else
		rc = sub_subscribe(h, &c, kind);
	ampsipc_close(h);
	return (rc);
}
