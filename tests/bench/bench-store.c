/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bench-store: the publish store's group-commit rate against the raw
 * SQLite ceiling of the same pattern (DESIGN.md §7).
 *
 * For each batch size B (1, 10, 100, 1000 by default) and each run, a
 * fresh database in a temporary directory on a real disk (not tmpfs)
 * receives transactions of B inserted rows of P bytes (128 by default)
 * plus the delete of the previous transaction's rows (the persisted ack
 * arriving one pass later), one COMMIT each, synchronous=FULL:
 *
 *   raw       hand-written SQLite: same schema, pragmas and statements
 *             as pubstore.c, prepared once, BEGIN IMMEDIATE ... COMMIT;
 *   pubstore  pubstore_append() x B, pubstore_discard_upto(previous),
 *             pubstore_commit().
 *
 * Each run lasts -t seconds (monotonic clock); the median of -r runs is
 * printed as msg/s, with pubstore/raw as a ratio.
 *
 * Usage: bench-store [-r runs] [-t seconds] [-p payload] [-d dir] [-n]
 *	  [-b batch[,batch...]]      (-n: synchronous=NORMAL)
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "benchutil.h"
#include "pubstore.h"
#include "rawstore.h"

#define MAX_RUNS	15
#define MAX_BATCHES	8

static int	 opt_runs = 5;
static double	 opt_secs = 1.0;
static size_t	 opt_payload = 128;
static int	 opt_normal;
static char	 workdir[512];

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "bench-store: %s: %s\n", what, why);
	exit(1);
}

/* One pubstore run; returns messages per second. */
static double
run_pubstore(const char *path, int batch, const unsigned char *payload)
{
	struct pubstore		*ps;
	struct pubstore_rec	 r;
	uint64_t		 seq, prev_last = 0, rows = 0;
	double			 t0, t1;
	char			*cause = NULL;
	int			 i;

	rawstore_rmdb(path);
	ps = pubstore_open(path, opt_normal ? STORE_SYNC_NORMAL :
	    STORE_SYNC_FULL, STORE_CREATE, &cause);
	if (ps == NULL)
		die(path, cause != NULL ? cause : "?");
	memset(&r, 0, sizeof r);
	r.kind = PUBSTORE_PUBLISH;
	r.topic = "orders";
	r.topic_len = 6;
	r.hdr = "\"x\":\"c\"";
	r.hdr_len = 7;
	r.data = payload;
	r.data_len = opt_payload;

	t0 = bu_now();
	do {
		for (i = 0; i < batch; i++) {
			if (pubstore_append(ps, &r, &seq) != 0)
				die("append", pubstore_error(ps));
		}
		if (prev_last > 0)
			pubstore_discard_upto(ps, prev_last);
		if (pubstore_commit(ps) != 0)
			die("commit", pubstore_error(ps));
		prev_last = seq;
		rows += (uint64_t)batch;
		t1 = bu_now();
	} while (t1 - t0 < opt_secs);

	pubstore_close(ps);
	rawstore_rmdb(path);
	return ((double)rows / (t1 - t0));
}

/* Median of 31 write(4 KB)+fdatasync() pairs in the work dir, in µs. */
static double
fsync_us(void)
{
	char	 path[600], buf[4096];
	double	 v[31], t;
	int	 fd, i;

	snprintf(path, sizeof path, "%s/fsync.probe", workdir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		die(path, strerror(errno));
	memset(buf, 'f', sizeof buf);
	for (i = 0; i < 31; i++) {
		t = bu_now();
		if (pwrite(fd, buf, sizeof buf, (off_t)i * 4096) !=
		    (ssize_t)sizeof buf || fdatasync(fd) != 0)
			die(path, strerror(errno));
		v[i] = (bu_now() - t) * 1e6;
	}
	close(fd);
	unlink(path);
	qsort(v, 31, sizeof *v, bu_cmpd);
	return (v[15]);
}

int
main(int argc, char **argv)
{
	int		 batches[MAX_BATCHES] = { 1, 10, 100, 1000 };
	int		 nbatches = 4, c, b, i;
	double		 raw[MAX_RUNS], ps[MAX_RUNS], mr, mp, fs;
	unsigned char	*payload;
	const char	*dir = NULL;
	char		 path[600], *p, *tok, json[2048];
	size_t		 len;

	while ((c = getopt(argc, argv, "b:d:np:r:t:")) != -1) {
		switch (c) {
		case 'b':
			nbatches = 0;
			for (tok = strtok(optarg, ","); tok != NULL &&
			    nbatches < MAX_BATCHES; tok = strtok(NULL, ","))
				batches[nbatches++] = atoi(tok);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'n':
			opt_normal = 1;
			break;
		case 'p':
			opt_payload = (size_t)strtoul(optarg, &p, 10);
			break;
		case 'r':
			opt_runs = atoi(optarg);
			break;
		case 't':
			opt_secs = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench-store [-r runs] "
			    "[-t seconds] [-p payload] [-d dir] [-n] "
			    "[-b b1,b2,...]\n");
			return (1);
		}
	}
	if (opt_runs < 1 || opt_runs > MAX_RUNS || opt_secs <= 0 ||
	    opt_payload == 0 || opt_payload > 1024 * 1024)
		die("options", "out of range");
	for (b = 0; b < nbatches; b++)
		if (batches[b] < 1)
			die("batch", "must be >= 1");
	/* A work directory on a real disk: -d, else /tmp or /var/tmp. */
	if (bu_workdir(workdir, sizeof workdir, dir, "bench-store") == -1)
		die("work directory", strerror(errno));
	snprintf(path, sizeof path, "%s/bench.pub.db", workdir);
	if ((payload = malloc(opt_payload)) == NULL)
		die("malloc", strerror(errno));
	for (i = 0; i < (int)opt_payload; i++)
		payload[i] = (unsigned char)('a' + i % 26);

	printf("bench-store: SQLite %s, WAL, synchronous=%s, %zu B payload, "
	    "%d run(s) x %.1f s, dir %s\n", sqlite3_libversion(),
	    opt_normal ? "NORMAL" : "FULL", opt_payload, opt_runs, opt_secs,
	    workdir);
	fs = fsync_us();
	printf("one 4 KB write + fdatasync: median %.0f us\n", fs);
	printf("%-7s %14s %14s %8s\n", "batch", "raw msg/s", "pubstore msg/s",
	    "ratio");
	snprintf(json, sizeof json, "{\"bench\":\"store\",\"runs\":%d,"
	    "\"fdatasync_us\":%.0f,\"batches\":[", opt_runs, fs);
	for (b = 0; b < nbatches; b++) {
		for (i = 0; i < opt_runs; i++) {	/* interleave the two */
			raw[i] = rawstore_run(path, batches[b], opt_normal,
			    payload, opt_payload, opt_secs);
			ps[i] = run_pubstore(path, batches[b], payload);
		}
		mr = bu_median(raw, opt_runs);
		mp = bu_median(ps, opt_runs);
		printf("%-7d %14.0f %14.0f %8.2f\n", batches[b], mr, mp,
		    mr > 0 ? mp / mr : 0);
		fflush(stdout);
		len = strlen(json);
		snprintf(json + len, sizeof json - len, "%s{\"batch\":%d,"
		    "\"raw\":%.0f,\"pubstore\":%.0f,\"ratio\":%.3f}",
		    b > 0 ? "," : "", batches[b], mr, mp, mr > 0 ? mp / mr : 0);
	}
	printf("RESULT %s]}\n", json);
	rmdir(workdir);
	free(payload);
	return (0);
}
