/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bench-ampsim: throughput of a real ampsim process over loopback TCP.
 *
 *   ingest     one publisher, 128-byte JSON payloads, no subscribers;
 *              timed from the first byte written to the processed ack of
 *              a flush sent after the last publish.
 *   fanout N   the same publisher with N subscribers on the topic (each
 *              its own connection and thread); timed until every
 *              subscriber has received every message.
 *   replay     ingest, then one subscriber replays the whole log from
 *              bookmark 0 (read back from the log file); timed from the
 *              subscribe until it has received every message.
 *
 * Each case runs RUNS times with a fresh server (default configuration:
 * every topic transaction-logged to a temporary directory, no fsync);
 * the median msg/s is printed.  Usage: bench-ampsim [messages] [runs].
 * The server is $AMPSIM or $top_builddir/ampsim/ampsim (default
 * ./ampsim/ampsim from the build directory).
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testclient.h"

static int	nmsgs = 200000;

/* Monotonic seconds. */
static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

/* A subscriber thread: receive nmsgs deliveries. */
static void *
sub_main(void *arg)
{
	struct tc	*t = arg;
	int		 n = 0;

	while (n < nmsgs && tc_recv(t, 30000) == 1)
		if (tc_is(t, "p", NULL))
			n++;
	if (n != nmsgs)
		fprintf(stderr, "subscriber got %d of %d\n", n, nmsgs);
	return (NULL);
}

/*
 * One run with nsubs subscribers, or (nsubs < 0) the replay case; returns
 * msg/s (0 on error).
 */
static double
run(int nsubs)
{
	struct tc_srv	 srv;
	struct tc	*p, *r, *subs[16];
	pthread_t	 th[16];
	char		 payload[129], hdr[] = "{\"c\":\"p\",\"t\":\"bench\"}";
	char		*buf;
	size_t		 flen, hl = strlen(hdr), chunk = 1000, i, j, off;
	double		 t0, t1;
	int		 k, replay = nsubs < 0;

	if (replay)
		nsubs = 0;
	if (tc_srv_start(&srv, NULL) != 0) {
		fprintf(stderr, "cannot start ampsim\n");
		return (0);
	}
	/* 128-byte JSON document. */
	memset(payload, 'x', 128);
	memcpy(payload, "{\"id\":1,\"pad\":\"", 15);
	memcpy(payload + 126, "\"}", 2);
	payload[128] = '\0';
	for (k = 0; k < nsubs; k++) {
		char name[16];

		snprintf(name, sizeof name, "sub%d", k);
		subs[k] = tc_connect(srv.port);
		if (subs[k] == NULL || tc_logon(subs[k], name, NULL) != 0)
			return (0);
		tc_sendf(subs[k], NULL, "{\"c\":\"subscribe\",\"cid\":\"1\","
		    "\"t\":\"bench\",\"a\":\"processed\"}");
		if (tc_recv_cmd(subs[k], "ack", 5000) != 1)
			return (0);
	}
	p = tc_connect(srv.port);
	if (p == NULL || tc_logon(p, "bench-pub", NULL) != 0)
		return (0);
	flen = 4 + hl + 128;
	buf = malloc(flen * chunk);
	for (j = 0; j < chunk; j++) {
		amps_frame_put_len(buf + j * flen, (uint32_t)(hl + 128));
		memcpy(buf + j * flen + 4, hdr, hl);
		memcpy(buf + j * flen + 4 + hl, payload, 128);
	}
	for (k = 0; k < nsubs; k++)
		pthread_create(&th[k], NULL, sub_main, subs[k]);
	t0 = now_s();
	for (i = 0; i < (size_t)nmsgs; i += chunk) {
		off = (size_t)nmsgs - i < chunk ? (size_t)nmsgs - i : chunk;
		if (tc_send_raw(p, buf, off * flen) != 0)
			return (0);
	}
	tc_send(p, "{\"c\":\"flush\",\"cid\":\"f\",\"a\":\"processed\"}",
	    NULL);
	if (tc_recv_cmd(p, "ack", 60000) != 1)
		return (0);
	for (k = 0; k < nsubs; k++)
		pthread_join(th[k], NULL);
	t1 = now_s();
	if (replay) {
		if ((r = tc_connect(srv.port)) == NULL ||
		    tc_logon(r, "bench-replay", NULL) != 0)
			return (0);
		t0 = now_s();
		tc_sendf(r, NULL, "{\"c\":\"subscribe\",\"cid\":\"1\","
		    "\"t\":\"bench\",\"bm\":\"0\"}");
		sub_main(r);
		t1 = now_s();
		tc_close(r);
	}
	free(buf);
	tc_close(p);
	for (k = 0; k < nsubs; k++)
		tc_close(subs[k]);
	tc_srv_destroy(&srv);
	return ((double)nmsgs / (t1 - t0));
}

/* Compare doubles for qsort. */
static int
cmp_d(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* main. */
int
main(int argc, char **argv)
{
	static const int cases[] = { 0, 1, 10, -1 };
	double		 r[15], med[4];
	int		 runs = 5, c, i;

	if (argc > 1)
		nmsgs = atoi(argv[1]);
	if (argc > 2)
		runs = atoi(argv[2]);
	if (nmsgs <= 0 || runs <= 0 || runs > 15) {
		fprintf(stderr, "usage: bench-ampsim [messages] [runs<=15]\n");
		return (1);
	}
	if (getenv("AMPSIM") == NULL && getenv("top_builddir") == NULL)
		setenv("top_builddir", ".", 1);
	printf("ampsim: %d messages of 128 bytes, median of %d runs\n",
	    nmsgs, runs);
	for (c = 0; c < 4; c++) {
		for (i = 0; i < runs; i++)
			r[i] = run(cases[c]);
		qsort(r, (size_t)runs, sizeof r[0], cmp_d);
		med[c] = r[runs / 2];
		if (cases[c] == 0)
			printf("  ingest, no subscribers   %10.0f msg/s\n",
			    r[runs / 2]);
		else if (cases[c] < 0)
			printf("  replay from the log      %10.0f msg/s\n",
			    r[runs / 2]);
		else
			printf("  fan-out to %2d subscriber%s %10.0f msg/s "
			    "published (%.0f deliveries/s)\n", cases[c],
			    cases[c] == 1 ? " " : "s", r[runs / 2],
			    r[runs / 2] * cases[c]);
	}
	printf("RESULT {\"bench\":\"ampsim\",\"runs\":%d,\"messages\":%d,"
	    "\"ingest\":%.0f,\"fanout1\":%.0f,\"fanout10\":%.0f,"
	    "\"replay\":%.0f}\n", runs, nmsgs, med[0], med[1], med[2], med[3]);
	return (0);
}
