/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bench-flush: how long a program waits for AMPS to persist one message,
 * with ampsim at its default persisted-ack conflation (1 s, like AMPS's
 * transaction log), three ways, in one run:
 *
 *   raw      a direct AMPS client: publish (s, a=persisted), then flush
 *            (a=persisted), until the flush's persisted ack: the floor
 *   flush    libampsipc: ampsipc_publish() then ampsipc_publish_flush():
 *            ampsd stores, sends, and asks AMPS for a flush
 *   wait     libampsipc: ampsipc_publish(), then waiting for PERSISTED
 *            alone (what a flush cost before ampsd sent AMPS a flush:
 *            the rest of the conflation interval)
 *
 * Each is timed -n times (default 40), one message at a time, with a
 * random pause of 0 to 300 ms before each (fixed seed), so the publishes
 * fall anywhere in the conflation interval; medians and 90th percentiles
 * are printed, and flush's median as a ratio of raw's.  It prints
 * figures; it is not a test.
 *
 * Usage: bench-flush [-n count] [-k]   (-k keeps the work directory;
 * programs as in benchenv.c)
 *
 * Invariant: every process started here is killed by pid (benchenv.c).
 */

#include "config.h"

#include <sys/socket.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ampsipc.h"
#include "benchenv.h"

#define MSG	"{\"id\":1,\"p\":\"bench-flush\"}"

/* Sleep a random 0..300 ms (the publish lands anywhere in an interval). */
static void
jitter(void)
{
	struct timespec	ts;
	long		ms = random() % 300;

	ts.tv_sec = 0;
	ts.tv_nsec = ms * 1000000L;
	nanosleep(&ts, NULL);
}

/* Read from fd until buf holds needle (the ack we wait for). */
static void
raw_wait(int fd, const char *needle)
{
	char		buf[65536];
	size_t		have = 0;
	ssize_t		n;
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, 10000) != 1)
			bench_die("raw: no ack from ampsim");
		if ((n = read(fd, buf + have, sizeof buf - 1 - have)) <= 0)
			bench_die("raw: ampsim closed");
		have += (size_t)n;
		buf[have] = '\0';
		if (memmem(buf, have, needle, strlen(needle)) != NULL)
			return;
		if (have > sizeof buf / 2) {	/* keep the tail */
			memmove(buf, buf + have - 256, 256);
			have = 256;
		}
	}
}

/* A direct client: publish and flush, until the flush's persisted ack. */
static uint64_t
one_raw(int fd, unsigned seq)
{
	char		hdr[256], frame[512], cid[32];
	size_t		n;
	uint64_t	t0;

	snprintf(hdr, sizeof hdr, "{\"c\":\"p\",\"t\":\"bfr\",\"s\":%u,"
	    "\"a\":\"persisted\"}", seq);
	n = bench_amps_frame(frame, sizeof frame, hdr, MSG, strlen(MSG));
	t0 = bench_now_ns();
	bench_write_all(fd, frame, n);
	snprintf(cid, sizeof cid, "f%u", seq);
	snprintf(hdr, sizeof hdr, "{\"c\":\"flush\",\"cid\":\"%s\",\"a\":"
	    "\"persisted\"}", cid);
	n = bench_amps_frame(frame, sizeof frame, hdr, "", 0);
	bench_write_all(fd, frame, n);
	snprintf(hdr, sizeof hdr, "\"cid\":\"%s\"", cid);
	raw_wait(fd, hdr);
	return (bench_now_ns() - t0);
}

/* libampsipc: publish, then publish_flush. */
static uint64_t
one_flush(struct ampsipc *h)
{
	uint64_t	t0 = bench_now_ns();

	if (ampsipc_publish(h, "bff", MSG, strlen(MSG), NULL, NULL) == -1 ||
	    ampsipc_publish_flush(h, 10000) == -1)
		bench_die("publish_flush");
	return (bench_now_ns() - t0);
}

/* libampsipc: publish, then wait for PERSISTED without asking. */
static uint64_t
one_wait(struct ampsipc *h)
{
	uint64_t	t0 = bench_now_ns();

	if (ampsipc_publish(h, "bfw", MSG, strlen(MSG), NULL, NULL) == -1)
		bench_die("publish");
	while (ampsipc_unpersisted(h) > 0)
		if (ampsipc_poll(h, 10) == -1)
			bench_die("poll");
	return (bench_now_ns() - t0);
}

static void
report(const char *name, uint64_t *v, size_t n, uint64_t base)
{
	uint64_t	p50 = bench_pct(v, n, 50), p90 = bench_pct(v, n, 90);

	printf("%-6s n=%-4zu p50 %8.2f ms  p90 %8.2f ms", name, n,
	    (double)p50 / 1e6, (double)p90 / 1e6);
	if (base != 0)
		printf("  p50 = %.1f x raw", (double)p50 / (double)base);
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct ampsipc	*h;
	uint64_t	*raw, *fl, *wt;
	size_t		 n = 40, i;
	int		 ch, keep = 0, fd;

	while ((ch = getopt(argc, argv, "kn:")) != -1) {
		switch (ch) {
		case 'k':
			keep = 1;
			break;
		case 'n':
			n = (size_t)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: bench-flush [-n count] [-k]\n");
			return (2);
		}
	}
	if (n == 0)
		return (2);
	srandom(17);
	bench_init("bench-flush");
	bench_ack_conflation = -1;	/* ampsim's default: 1 s */
	bench_start("full", "");
	raw = calloc(n, sizeof *raw);
	fl = calloc(n, sizeof *fl);
	wt = calloc(n, sizeof *wt);
	if (raw == NULL || fl == NULL || wt == NULL)
		bench_die("calloc");
	fd = bench_raw_logon();
	h = bench_open();
	for (i = 0; i < n; i++) {	/* interleaved: same conditions */
		jitter();
		raw[i] = one_raw(fd, (unsigned)i + 1);
		jitter();
		fl[i] = one_flush(h);
		jitter();
		wt[i] = one_wait(h);
	}
	printf("bench-flush: one message, ampsim ack conflation 1000 ms\n");
	report("raw", raw, n, 0);
	report("flush", fl, n, bench_pct(raw, n, 50));
	report("wait", wt, n, bench_pct(raw, n, 50));
	ampsipc_close(h);
	close(fd);
	free(raw);
	free(fl);
	free(wt);
	bench_stop();
	bench_done(keep);
	return (0);
}
