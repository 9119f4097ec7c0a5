/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bench-subscribe: bookmark replay through the receive path, AMPS
 * (ampsim) -> ampsd -> libampsipc -> one program.  It prints figures; it
 * is not a test.  (Latency: bench-latency.)
 *
 *   replay    N messages (128 B) are published through ampsd first; then
 *             one program subscribes with bookmark EPOCH (handler style)
 *             and is timed from the subscribe until the N-th message.
 *
 * Usage: bench-subscribe [-n N] [-k]
 * The servers and the work directory are benchenv.c's.
 *
 * Invariants:
 *   1. Every process started here is killed by pid, never by name.
 *   2. A figure is printed only for a phase that completed.
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ampsipc.h"
#include "benchenv.h"

static uint64_t	 got;
static int	 ended = -1;	/* the daemon's error when it ended the sub */

/* Replay handler: count; note the end of the subscription. */
static int
count_h(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	if (m->command == AMPSIPC_C_PUBLISH)
		got++;
	else if (m->command == AMPSIPC_C_END)
		ended = m->error;
	return (0);
}

/* The replay case. */
static void
replay(uint64_t n)
{
	struct ampsipc		*h = bench_open();
	struct ampsipc_command	*c;
	char			 data[128];
	uint64_t		 i, t0, t1;

	memset(data, 'x', sizeof data);
	memcpy(data, "{\"p\":\"", 6);
	memcpy(data + sizeof data - 2, "\"}", 2);
	for (i = 0; i < n; i++) {
		if (ampsipc_publish(h, "replay", data, sizeof data, NULL,
		    NULL) == -1)
			bench_die("publish");
		if ((i & 1023) == 0 && ampsipc_poll(h, 0) == -1)
			bench_die("poll");
	}
	if (ampsipc_wait_stored(h, 120000) == -1 ||
	    ampsipc_publish_flush(h, 120000) == -1)
		bench_die("publish flush");
	c = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);
	ampsipc_cmd_set_str(c, AMPSIPC_FIELD_TOPIC, "replay");
	ampsipc_cmd_set_str(c, AMPSIPC_FIELD_BOOKMARK, AMPSIPC_BOOKMARK_EPOCH);
	got = 0;
	t0 = bench_now_ns();
	if (ampsipc_execute_async(h, c, count_h, NULL) == -1)
		bench_die("subscribe");
	while (got < n) {
		if (ampsipc_poll(h, 1000) == -1)
			bench_die("poll");
		if (ended != -1) {
			fprintf(stderr, "bench-subscribe: the daemon ended the "
			    "subscription after %llu of %llu messages: %s\n",
			    (unsigned long long)got, (unsigned long long)n,
			    ampsipc_strerror(ended));
			bench_stop();
			exit(1);
		}
	}
	t1 = bench_now_ns();
	printf("replay     %llu messages of 128 B: %.2f s, %.0f msg/s\n",
	    (unsigned long long)n, (double)(t1 - t0) / 1e9,
	    (double)n / ((double)(t1 - t0) / 1e9));
	printf("RESULT {\"bench\":\"subscribe\",\"n\":%llu,"
	    "\"replay\":%.0f}\n", (unsigned long long)n,
	    (double)n / ((double)(t1 - t0) / 1e9));
	ampsipc_cmd_free(c);
	ampsipc_close(h);
}

int
main(int argc, char **argv)
{
	uint64_t	n = 1000000;
	int		ch, keep = 0;

	while ((ch = getopt(argc, argv, "n:k")) != -1) {
		switch (ch) {
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'k':
			keep = 1;
			break;
		default:
			fprintf(stderr, "usage: bench-subscribe [-n N] [-k]\n");
			return (2);
		}
	}
	bench_init("bench-subscribe");
	bench_start("full", "");
	replay(n);
	bench_done(keep);
	return (0);
}
