/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubtest: publish numbered messages through ampsd with libampsipc, for
 * the integration tests.
 *
 *	pubtest -S socket [-t topic] [-f first] [-n count] [-s size]
 *	        [-o stored-file] [-W wait-ms] [-d usec] [-F]
 *
 * Message i (first <= i < first+count) has the payload {"id":i,...}
 * padded to size bytes.  Each index whose publish the daemon reported
 * STORED is appended to stored-file (one per line, flushed at once), so
 * a test that kills the daemon knows what it promised.  At the end the
 * program waits until everything is stored (-F: also persisted) and
 * exits at once, like a cron job would.  -d pauses usec microseconds
 * after every 64 messages (a slower stream, for kill tests).
 *
 * Exit status: 0 all stored, 1 usage or connect error, 2 connection lost
 * or timeout (what was stored is in stored-file).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ampsipc.h"
#include "../tools/lifetime.h"

struct state {
	FILE		*out;
	uint64_t	*idx_by_req;	/* reqid -> index + 1 */
	size_t		 cap;
	uint64_t	 stored;
	uint64_t	 failed;
};

/* Publish events: record stored indices. */
static void
pub_cb(struct ampsipc *a, const struct ampsipc_pubevent *ev, void *arg)
{
	struct state	*st = arg;

	if (ev->kind == AMPSIPC_PUB_FAILED) {
		st->failed++;
		fprintf(stderr, "pubtest: publish failed: %s\n", ev->reason);
		return;
	}
	if (ev->kind != AMPSIPC_PUB_STORED)
		return;
	st->stored++;
	if (st->out != NULL && ev->reqid < st->cap &&
	    st->idx_by_req[ev->reqid] != 0) {
		fprintf(st->out, "%llu\n",
		    (unsigned long long)st->idx_by_req[ev->reqid] - 1);
		fflush(st->out);
	}
}

/* Parse options, then run the whole client (see the top comment). */
int
main(int argc, char **argv)
{
	const char	*sock = NULL, *topic = "orders", *outf = NULL;
	unsigned long	 first = 0, count = 10, i;
	size_t		 size = 0, len;
	int		 ch, waitms = 60000, flush = 0, delay = 0;
	struct state	 st;
	struct ampsipc	*a;
	uint32_t	 reqid;
	char		*buf;

	lifetime_start("pubtest", 600, "publishes never all stored");
	while ((ch = getopt(argc, argv, "FS:d:f:n:o:s:t:W:")) != -1) {
		switch (ch) {
		case 'F': flush = 1; break;
		case 'S': sock = optarg; break;
		case 'd': delay = atoi(optarg); break;
		case 'f': first = strtoul(optarg, NULL, 10); break;
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'o': outf = optarg; break;
		case 's': size = strtoul(optarg, NULL, 10); break;
		case 't': topic = optarg; break;
		case 'W': waitms = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: pubtest -S sock [-t topic] "
			    "[-f first] [-n count] [-s size] [-o file] [-W ms] "
			    "[-F]\n");
			return (1);
		}
	}
	memset(&st, 0, sizeof st);
	if (outf != NULL && (st.out = fopen(outf, "a")) == NULL) {
		perror(outf);
		return (1);
	}
	if ((a = ampsipc_create()) == NULL ||
	    ampsipc_connect(a, sock, "pubtest", 5000) == -1) {
		fprintf(stderr, "pubtest: connect: %s\n",
		    a ? ampsipc_errmsg(a) : "no memory");
		ampsipc_close(a);
		if (st.out != NULL)
			fclose(st.out);
		return (1);
	}
	ampsipc_set_pub_handler(a, pub_cb, &st);
	buf = malloc(size + 64);
	for (i = first; i < first + count; i++) {
		len = (size_t)snprintf(buf, size + 64, "{\"id\":%lu}", i);
		if (len < size) {
			memset(buf + len - 1, ' ', size - len);
			buf[size - 1] = '}';
			len = size;
		}
		if (ampsipc_publish(a, topic, buf, len, NULL, &reqid) == -1) {
			fprintf(stderr, "pubtest: publish %lu: %s\n", i,
			    ampsipc_errmsg(a));
			goto lost;
		}
		if (reqid >= st.cap) {
			size_t	ncap = st.cap ? st.cap * 2 : 4096;

			while (ncap <= reqid)
				ncap *= 2;
			st.idx_by_req = realloc(st.idx_by_req,
			    ncap * sizeof *st.idx_by_req);
			memset(st.idx_by_req + st.cap, 0,
			    (ncap - st.cap) * sizeof *st.idx_by_req);
			st.cap = ncap;
		}
		st.idx_by_req[reqid] = i + 1;
		if ((i & 63) == 0 && ampsipc_poll(a, 0) == -1)
			goto lost;
		if ((i & 63) == 63 && delay > 0)
			usleep((useconds_t)delay);
	}
	if (ampsipc_wait_stored(a, waitms) == -1) {
		fprintf(stderr, "pubtest: wait stored: %s\n",
		    ampsipc_errmsg(a));
		goto lost;
	}
	if (flush && ampsipc_publish_flush(a, waitms) == -1) {
		fprintf(stderr, "pubtest: flush: %s\n", ampsipc_errmsg(a));
		goto lost;
	}
	ampsipc_close(a);
	if (st.out != NULL)
		fclose(st.out);
	free(buf);
	free(st.idx_by_req);
	return (st.failed ? 2 : 0);
lost:
	ampsipc_close(a);
	if (st.out != NULL)
		fclose(st.out);
	free(buf);
	free(st.idx_by_req);
	return (2);
}
