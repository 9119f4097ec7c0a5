/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subtest-modes.c: the long-running consumers of subtest (see
 * subtest.c): a durable subscriber for the kill tests and queue
 * consumers for the lease and ack-batching tests.
 *
 * Invariants:
 *  1. Every line is written and flushed (fflush + fsync) before the
 *     action it reports, so a kill -9 never loses a line that matters:
 *     "R id" before the discard, "D id" only after the daemon answered a
 *     ping sent after the discard.
 *  2. A mode that waits for the test waits for a condition it can see
 *     (a file the test creates), never for a fixed time, and gives up
 *     with a message after a bound; a "runs until killed" mode stops
 *     by itself after subtest's lifetime limit (subtest.c).
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ampsipc.h"

int	other_modes(const char *, int, char **);

struct dstate {
	FILE	*out;
};

/* Write one line durably. */
static void
line(FILE *f, const char *tag, const struct ampsipc_message *m)
{
	const char	*p = strstr(m->data, "\"id\":");

	fprintf(f, "%s %ld\n", tag, p != NULL ? strtol(p + 5, NULL, 10) : -1L);
	fflush(f);
	fsync(fileno(f));
}

/*
 * End a mode: close the stream, the command, the handle and the output
 * (any may be NULL) and return rc, so every exit path frees what the
 * mode holds (the ASan build fails a program that leaks).
 */
static int
finish(struct ampsipc *h, struct ampsipc_command *x,
    struct ampsipc_stream *st, FILE *out, int rc)
{
	ampsipc_stream_close(st);
	ampsipc_cmd_free(x);
	ampsipc_close(h);
	if (out != NULL)
		fclose(out);
	return (rc);
}

/* Durable consumer. */
static int
durable(const char *sock, int argc, char **argv)
{
	struct ampsipc		*h;
	struct ampsipc_command	*x;
	struct dstate		 d = { 0 };
	long			 max = argc > 4 ? atol(argv[4]) : 0, done = 0;
	const struct ampsipc_message *m;
	struct ampsipc_stream	*st;
	int			 rc, tries = 0;

	if (argc < 4)
		return (2);
	if ((d.out = fopen(argv[3], "a")) == NULL)
		return (1);
	if ((h = ampsipc_create()) == NULL ||
	    ampsipc_connect(h, sock, "durable", 5000) == -1)
		return (finish(h, NULL, NULL, d.out, 3));
	x = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, argv[2]);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, argv[1]);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_BOOKMARK,
	    AMPSIPC_BOOKMARK_MOST_RECENT);
	ampsipc_cmd_set_flags(x, AMPSIPC_CMDF_DURABLE);
	/* The daemon may not have seen the previous consumer go yet. */
	while ((st = ampsipc_execute(h, x)) == NULL &&
	    ampsipc_error(h) == AMPSIPC_E_SUB_EXISTS && tries++ < 50)
		usleep(100000);
	if (st == NULL) {
		fprintf(stderr, "durable: %s\n", ampsipc_errmsg(h));
		return (finish(h, x, NULL, d.out,
		    ampsipc_error(h) == AMPSIPC_E_CLOSED ? 3 : 1));
	}
	while (max == 0 || done < max) {
		rc = ampsipc_stream_next(st, &m, 1000);
		if (rc == -1)
			return (finish(h, x, st, d.out, 3));
		if (rc == 0 || m->command != AMPSIPC_C_PUBLISH)
			continue;
		line(d.out, "R", m);
		if (ampsipc_discard(h, m) == -1 || ampsipc_ping(h, 5000) == -1)
			return (finish(h, x, st, d.out, 3));
		line(d.out, "D", m);
		done++;
	}
	return (finish(h, x, st, d.out, 0));
}

/* Queue consumer: hold leases (never ack), or drain with auto-ack. */
static int
queue(const char *sock, int argc, char **argv, int drain)
{
	struct ampsipc		*h;
	struct ampsipc_command	*x;
	struct ampsipc_stream	*st;
	const struct ampsipc_message *m;
	FILE			*out;
	long			 n = drain ? atol(argv[2]) : 0, got = 0;
	int			 rc;

	if ((out = fopen(argv[drain ? 3 : 2], "a")) == NULL)
		return (1);
	if ((h = ampsipc_create()) == NULL ||
	    ampsipc_connect(h, sock, "queue", 5000) == -1)
		return (finish(h, NULL, NULL, out, 3));
	x = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, argv[1]);
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_MAX_BACKLOG, drain ? 10 : 2);
	if (drain)
		ampsipc_cmd_set_flags(x, AMPSIPC_CMDF_AUTO_ACK);
	if ((st = ampsipc_execute(h, x)) == NULL) {
		fprintf(stderr, "queue: %s\n", ampsipc_errmsg(h));
		return (finish(h, x, NULL, out, 1));
	}
	while (!drain || got < n) {
		if ((rc = ampsipc_stream_next(st, &m, 1000)) == -1)
			return (finish(h, x, st, out, 3));
		if (rc == 1 && m->command == AMPSIPC_C_PUBLISH) {
			line(out, "Q", m);
			got++;
		}
	}
	return (finish(h, x, st, out, 0));
}

/* Wall-clock milliseconds, comparable with lib.sh's now_ms. */
static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * ackq TOPIC BACKLOG N FILE all|each: a queue consumer (max_backlog
 * BACKLOG) that acks explicitly: "all" holds the first N messages and
 * then acks them together, "each" acks every message as it arrives.
 * Each id received goes to FILE as "Q id", and "A <ms>" (wall clock,
 * as the shell's now_ms) once "all" has acked; after the N-th it keeps
 * reading for 1.5 s (a message that was not acked upstream would come
 * again once its lease expires) and exits 0, or 1 if fewer than N came
 * within 20 s.
 */
static int
ackq_mode(const char *sock, char **argv)
{
	struct ampsipc		*h;
	struct ampsipc_command	*x;
	struct ampsipc_stream	*st;
	const struct ampsipc_message *m;
	FILE			*out;
	char			**bms, *topic = NULL, *sid = NULL;
	long			 n = atol(argv[3]), got = 0, i;
	int			 each = strcmp(argv[5], "each") == 0, rc;
	int			 waited = 0, linger = 0;

	if (n <= 0 || (bms = calloc((size_t)n, sizeof *bms)) == NULL ||
	    (out = fopen(argv[4], "a")) == NULL)
		return (2);
	if ((h = ampsipc_create()) == NULL ||
	    ampsipc_connect(h, sock, "ackq", 5000) == -1)
		return (3);
	x = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, argv[1]);
	ampsipc_cmd_set_num(x, AMPSIPC_FIELD_MAX_BACKLOG, atol(argv[2]));
	if ((st = ampsipc_execute(h, x)) == NULL) {
		fprintf(stderr, "ackq: %s\n", ampsipc_errmsg(h));
		return (1);
	}
	ampsipc_cmd_free(x);
	while (linger < 1500) {
		if ((rc = ampsipc_stream_next(st, &m, 100)) == -1)
			return (3);
		if (got >= n)
			linger += 100;	/* roughly: timeouts dominate */
		else if (rc == 0 && (waited += 100) > 20000) {
			fprintf(stderr, "ackq: only %ld of %ld\n", got, n);
			return (1);
		}
		if (rc == 0 || m->command != AMPSIPC_C_PUBLISH)
			continue;
		line(out, "Q", m);
		if (each) {
			if (ampsipc_ack(h, m, NULL) == -1)
				return (3);
		} else if (got < n) {
			bms[got] = strdup(m->bookmark);
			free(topic);
			free(sid);
			topic = strdup(m->topic);
			sid = strdup(m->sub_id);
		}
		if (++got == n && !each) {
			for (i = 0; i < n; i++) {
				if (ampsipc_ack_bookmark(h, topic, bms[i], sid,
				    NULL) == -1)
					return (3);
				free(bms[i]);
			}
			if (ampsipc_ping(h, 5000) == -1)
				return (3);
			fprintf(out, "A %lld\n", now_ms());
			fflush(out);
		}
	}
	free(bms);
	free(topic);
	free(sid);
	ampsipc_stream_close(st);
	ampsipc_close(h);
	fclose(out);
	return (0);
}

/* Async handler: "G" per group_begin, "R id" per message; discard;
 * "END code reason" when the daemon ends the subscription. */
static int
async_h(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	FILE	*out = arg;

	if (m->command == AMPSIPC_C_END) {	/* the daemon ended it */
		fprintf(out, "END %d %s\n", m->error, m->reason);
		fflush(out);
		return (0);
	}
	if (m->command == AMPSIPC_C_GROUP_BEGIN) {
		fprintf(out, "G\n");
		fflush(out);
	}
	if (m->command != AMPSIPC_C_PUBLISH && m->command != AMPSIPC_C_SOW)
		return (0);
	line(out, "R", m);
	if (m->bookmark[0] != '\0')
		(void)ampsipc_discard(h, m);
	return (0);
}

/*
 * async TOPIC FILE [NAME]: a subscription in handler style, kept by the
 * daemon across failover: sow_and_subscribe, or with NAME a durable
 * bookmark subscription (MOST_RECENT).  Runs until killed.
 */
static int
async_mode(const char *sock, int argc, char **argv)
{
	struct ampsipc		*h;
	struct ampsipc_command	*x;
	FILE			*out;

	if ((out = fopen(argv[2], "a")) == NULL)
		return (1);
	if ((h = ampsipc_create()) == NULL ||
	    ampsipc_connect(h, sock, "async", 5000) == -1)
		return (finish(h, NULL, NULL, out, 3));
	x = ampsipc_cmd_new(argc > 3 ? AMPSIPC_C_SUBSCRIBE :
	    AMPSIPC_C_SOW_AND_SUBSCRIBE);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, argv[1]);
	if (argc > 3) {
		ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, argv[3]);
		ampsipc_cmd_set_str(x, AMPSIPC_FIELD_BOOKMARK,
		    AMPSIPC_BOOKMARK_MOST_RECENT);
		ampsipc_cmd_set_flags(x, AMPSIPC_CMDF_DURABLE);
	}
	if (ampsipc_execute_async(h, x, async_h, out) == -1) {
		fprintf(stderr, "async: %s\n", ampsipc_errmsg(h));
		return (finish(h, x, NULL, out, 1));
	}
	fprintf(out, "S\n");		/* subscribed: the test may go on */
	fflush(out);
	for (;;)
		if (ampsipc_poll(h, 1000) == -1)
			return (finish(h, x, NULL, out, 3));
}

struct slow {
	FILE		*out;
	const char	*go;		/* resume reading once this exists */
	int		 paused;
	int		 end;	/* the daemon ended the subscription: code */
	int		 side;	/* messages on the side subscription */
};

/*
 * Stop reading until the file GO exists: the test creates it once the
 * daemon has reported the condition it waits for.  600 s at most, then
 * exit 7 saying what did not happen.
 */
static void
pause_until(FILE *out, const char *go)
{
	struct stat	sb;
	int		i;

	fprintf(out, "PAUSED\n");
	fflush(out);
	for (i = 0; i < 6000; i++) {
		if (stat(go, &sb) == 0)
			return;
		usleep(100000);
	}
	fprintf(stderr, "slow: not told to resume reading in 600 s (no %s)\n",
	    go);
	exit(7);
}

/* Slow handler: record (no fsync); after the first, pause_until. */
static int
slow_h(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	struct slow	*s = arg;
	const char	*p;

	if (m->command == AMPSIPC_C_END) {
		fprintf(s->out, "END %d %s\n", m->error, m->reason);
		fflush(s->out);
		s->end = m->error;
		return (0);
	}
	if (m->command != AMPSIPC_C_PUBLISH)
		return (0);
	p = strstr(m->data, "\"id\":");
	fprintf(s->out, "R %ld\n", p != NULL ? strtol(p + 5, NULL, 10) : -1L);
	if (!s->paused) {
		s->paused = 1;
		pause_until(s->out, s->go);
	}
	return (0);
}

/* Side subscription handler: count. */
static int
side_h(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	if (m->command == AMPSIPC_C_PUBLISH)
		((struct slow *)arg)->side++;
	return (0);
}

/*
 * A plain slow subscriber whose subscription the daemon ended: the
 * connection must still work.  Publish to TOPIC-side, which its side
 * subscription receives.  Exits 5 when it does, else 6.
 */
static int
slow_after_end(struct ampsipc *h, struct slow *s, const char *topic)
{
	char	side[256];
	int	i;

	fprintf(stderr, "slow: subscription ended: %d %s\n", s->end,
	    ampsipc_strerror(s->end));
	snprintf(side, sizeof side, "%s-side", topic);
	if (ampsipc_ping(h, 10000) == -1 ||
	    ampsipc_publish(h, side, "{\"id\":0}", 8, NULL, NULL) == -1 ||
	    ampsipc_wait_stored(h, 10000) == -1) {
		fprintf(stderr, "slow: after the end: %s\n",
		    ampsipc_errmsg(h));
		return (6);
	}
	for (i = 0; i < 100 && s->side == 0; i++)
		if (ampsipc_poll(h, 100) == -1)
			return (6);
	fprintf(s->out, "SIDE %d\n", s->side);
	fflush(s->out);
	return (s->side > 0 ? 5 : 6);
}

/*
 * slow TOPIC FILE NAME GO [K]: a durable subscriber (auto-discard;
 * NAME "-": a plain one, K times on TOPIC, and once on TOPIC-side) that
 * writes "S" once subscribed, reads its first message, writes "PAUSED"
 * and stops reading until the file GO exists.  Exits 3 when the
 * daemon drops it (4: with TOO_FAR_BEHIND), 5 when the daemon ended a
 * plain subscription and the connection still worked, never otherwise
 * (runs until killed).
 */
static int
slow_mode(const char *sock, int argc, char **argv)
{
	struct ampsipc		*h;
	struct ampsipc_command	*x;
	struct slow		 s = { 0 };
	char			 side[256];
	int			 tries = 0, rc, k, nsubs;

	if ((s.out = fopen(argv[2], "a")) == NULL)
		return (1);
	s.go = argv[4];
	nsubs = argc > 5 ? atoi(argv[5]) : 1;
	if ((h = ampsipc_create()) == NULL ||
	    ampsipc_connect(h, sock, "slow", 5000) == -1)
		return (finish(h, NULL, NULL, s.out, 3));
	for (k = 0; k < nsubs; k++) {
		x = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);
		ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, argv[1]);
		if (strcmp(argv[3], "-") != 0) {	/* "-": plain */
			ampsipc_cmd_set_str(x, AMPSIPC_FIELD_SUB_ID, argv[3]);
			ampsipc_cmd_set_str(x, AMPSIPC_FIELD_BOOKMARK,
			    AMPSIPC_BOOKMARK_MOST_RECENT);
			ampsipc_cmd_set_flags(x, AMPSIPC_CMDF_DURABLE |
			    AMPSIPC_CMDF_AUTO_DISCARD);
		}
		while ((rc = ampsipc_execute_async(h, x, slow_h, &s)) == -1 &&
		    ampsipc_error(h) == AMPSIPC_E_SUB_EXISTS && tries++ < 50)
			usleep(100000);
		ampsipc_cmd_free(x);
		if (rc == -1) {
			fprintf(stderr, "slow: %s\n", ampsipc_errmsg(h));
			return (finish(h, NULL, NULL, s.out, 1));
		}
	}
	if (strcmp(argv[3], "-") == 0) {
		snprintf(side, sizeof side, "%s-side", argv[1]);
		x = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);
		ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, side);
		rc = ampsipc_execute_async(h, x, side_h, &s);
		ampsipc_cmd_free(x);
		if (rc == -1) {
			fprintf(stderr, "slow: side: %s\n", ampsipc_errmsg(h));
			return (finish(h, NULL, NULL, s.out, 1));
		}
	}
	fprintf(s.out, "S\n");
	fflush(s.out);
	for (;;) {
		if (ampsipc_poll(h, 1000) == -1) {
			fflush(s.out);
			fprintf(stderr, "slow: %s\n", ampsipc_errmsg(h));
			return (finish(h, NULL, NULL, s.out, ampsipc_error(h) ==
			    AMPSIPC_E_TOO_FAR_BEHIND ? 4 : 3));
		}
		fflush(s.out);
		if (s.end != 0)
			return (finish(h, NULL, NULL, s.out,
			    slow_after_end(h, &s, argv[1])));
	}
}

/*
 * stream TOPIC: a synchronous stream; prints "END <error code>" when the
 * stream ends (an upstream failover ends it with DISCONNECTED).
 */
static int
stream_mode(const char *sock, char **argv)
{
	struct ampsipc		*h;
	struct ampsipc_command	*x;
	struct ampsipc_stream	*st;
	const struct ampsipc_message *m;

	if ((h = ampsipc_create()) == NULL ||
	    ampsipc_connect(h, sock, "stream", 5000) == -1)
		return (finish(h, NULL, NULL, NULL, 3));
	x = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);
	ampsipc_cmd_set_str(x, AMPSIPC_FIELD_TOPIC, argv[1]);
	if ((st = ampsipc_execute(h, x)) == NULL)
		return (finish(h, x, NULL, NULL, 1));
	printf("SUBSCRIBED\n");
	fflush(stdout);
	while (ampsipc_stream_next(st, &m, 1000) >= 0)
		;
	printf("END %d %s\n", ampsipc_error(h), ampsipc_errmsg(h));
	fflush(stdout);
	return (finish(h, x, st, NULL, 0));
}

/* Dispatch the non-scenario modes. */
int
other_modes(const char *sock, int argc, char **argv)
{
	if (strcmp(argv[0], "stream") == 0 && argc >= 2)
		return (stream_mode(sock, argv));
	if (strcmp(argv[0], "slow") == 0 && argc >= 5)
		return (slow_mode(sock, argc, argv));
	if (strcmp(argv[0], "async") == 0 && argc >= 3)
		return (async_mode(sock, argc, argv));
	if (strcmp(argv[0], "durable") == 0)
		return (durable(sock, argc, argv));
	if (strcmp(argv[0], "queue") == 0 && argc >= 3)
		return (queue(sock, argc, argv, 0));
	if (strcmp(argv[0], "drain") == 0 && argc >= 4)
		return (queue(sock, argc, argv, 1));
	if (strcmp(argv[0], "ackq") == 0 && argc >= 6)
		return (ackq_mode(sock, argv));
	fprintf(stderr, "subtest: unknown mode %s\n", argv[0]);
	return (2);
}
