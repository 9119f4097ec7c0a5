/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Codec micro-benchmark: ns/op for parsing and writing the typical
 * delivery header (PROTOCOL.md A.7 plus "s"), for a whole frame with payload,
 * and for a memcpy of the same bytes measured in the same run, so the
 * figures can be compared across noisy machines as ratios.
 *
 * Each case runs RUNS times ITERS iterations (default 7 x 1000000; the
 * first argument overrides ITERS) and reports the median run, plus the
 * fastest and slowest, in thread CPU time.  Results are fed through an
 * empty asm barrier so the compiler cannot drop the work.
 *
 * Usage: make tests/bench/bench-codec && tests/bench/bench-codec [iters]
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amps.h"

#define RUNS		7
#define DEFAULT_ITERS	1000000L

/* Keep the compiler from optimising p (and what it points at) away. */
#define KEEP(p)	__asm__ __volatile__("" : : "r"(p) : "memory")

static const char hdr_text[] = "{\"c\":\"p\",\"t\":\"orders\",\"sub_id\":"
    "\"3\",\"bm\":\"9518329128413381245|42|\",\"k\":\"12081749325163098011\","
    "\"s\":42}";
static const char payload[] = "{\"id\":7,\"qty\":100}";

static char	 frame[256];		/* prefix + header + payload */
static size_t	 frame_len;
static char	 out[256];
static struct amps_hdr parsed;

/*
 * This thread's CPU time in nanoseconds: on a shared machine, time spent
 * descheduled is not counted (cache and SMT interference still is).
 */
static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec * 1e9 + (double)ts.tv_nsec);
}

/* Baseline: memcpy of the header's bytes. */
static void
run_memcpy_hdr(long n)
{
	long	i;

	for (i = 0; i < n; i++) {
		KEEP(hdr_text);
		memcpy(out, hdr_text, sizeof hdr_text - 1);
		KEEP(out);
	}
}

/* Baseline: memcpy of the whole frame's bytes. */
static void
run_memcpy_frame(long n)
{
	long	i;

	for (i = 0; i < n; i++) {
		KEEP(frame);
		memcpy(out, frame, frame_len);
		KEEP(out);
	}
}

/* Parse the typical header. */
static void
run_parse(long n)
{
	struct amps_hdr	h;
	long		i;

	for (i = 0; i < n; i++) {
		KEEP(hdr_text);
		if (amps_hdr_parse(hdr_text, sizeof hdr_text - 1, &h) != 0)
			abort();
		KEEP(&h);
	}
}

/* Split the frame, parse its header, get the command and sequence. */
static void
run_frame_parse(long n)
{
	struct amps_hdr	 h;
	const char	*body;
	uint32_t	 blen;
	size_t		 used;
	uint64_t	 s;
	long		 i;

	for (i = 0; i < n; i++) {
		KEEP(frame);
		if (amps_frame_next(frame, frame_len, AMPS_FRAME_MAX_DEFAULT,
		    &body, &blen, &used) != 1 ||
		    amps_hdr_parse(body, blen, &h) != 0 ||
		    amps_hdr_cmd(&h) != AMPS_CMD_PUBLISH ||
		    amps_hdr_u64(&h, AMPS_F_S, &s) != 0)
			abort();
		KEEP(&h);
		KEEP(&s);
	}
}

/* Write the typical header alone (bare). */
static void
run_write_hdr(long n)
{
	struct amps_wr	w;
	long		i;

	for (i = 0; i < n; i++) {
		amps_wr_begin_bare(&w, out, sizeof out);
		amps_wr_str(&w, AMPS_F_C, "p", 1);
		amps_wr_str(&w, AMPS_F_T, "orders", 6);
		amps_wr_str(&w, AMPS_F_SUB_ID, "3", 1);
		amps_wr_str(&w, AMPS_F_BM, "9518329128413381245|42|", 23);
		amps_wr_str(&w, AMPS_F_K, "12081749325163098011", 20);
		amps_wr_u64(&w, AMPS_F_S, 42);
		if (amps_wr_finish(&w, NULL, 0) !=
		    (long long)sizeof hdr_text - 1)
			abort();
		KEEP(out);
	}
}

/* Write the whole frame: prefix, header, payload. */
static void
run_write_frame(long n)
{
	struct amps_wr	w;
	long		i;

	for (i = 0; i < n; i++) {
		amps_wr_begin(&w, out, sizeof out);
		amps_wr_str(&w, AMPS_F_C, "p", 1);
		amps_wr_str(&w, AMPS_F_T, "orders", 6);
		amps_wr_str(&w, AMPS_F_SUB_ID, "3", 1);
		amps_wr_str(&w, AMPS_F_BM, "9518329128413381245|42|", 23);
		amps_wr_str(&w, AMPS_F_K, "12081749325163098011", 20);
		amps_wr_u64(&w, AMPS_F_S, 42);
		if (amps_wr_finish(&w, payload, sizeof payload - 1) !=
		    (long long)frame_len)
			abort();
		KEEP(out);
	}
}

/* Re-encode the parsed header as a whole frame (amps_hdr_write). */
static void
run_rewrite_frame(long n)
{
	long	i;

	for (i = 0; i < n; i++) {
		KEEP(&parsed);
		if (amps_hdr_write(&parsed, 1, payload, sizeof payload - 1,
		    out, sizeof out) != (long long)frame_len)
			abort();
		KEEP(out);
	}
}

/* Compare two doubles for qsort. */
static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* One benchmark case and its baseline. */
struct bench {
	const char	*name;
	void		(*fn)(long);
	int		 base;		/* index of its baseline, or -1 */
	double		 median;
};

/* Run every case RUNS times and print the medians and ratios. */
int
main(int argc, char **argv)
{
	struct bench	 b[] = {
		{ "memcpy header (baseline)", run_memcpy_hdr, -1, 0 },
		{ "memcpy frame (baseline)", run_memcpy_frame, -1, 0 },
		{ "parse header", run_parse, 0, 0 },
		{ "frame split + parse + cmd + s", run_frame_parse, 1, 0 },
		{ "write header (bare)", run_write_hdr, 0, 0 },
		{ "write frame + payload", run_write_frame, 1, 0 },
		{ "re-encode frame (hdr_write)", run_rewrite_frame, 1, 0 },
	};
	double		 t[RUNS], t0;
	long		 iters = DEFAULT_ITERS;
	size_t		 i, r, hl = sizeof hdr_text - 1;

	if (argc > 1 && (iters = strtol(argv[1], NULL, 10)) <= 0)
		iters = DEFAULT_ITERS;

	amps_frame_put_len(frame, (uint32_t)(hl + sizeof payload - 1));
	memcpy(frame + 4, hdr_text, hl);
	memcpy(frame + 4 + hl, payload, sizeof payload - 1);
	frame_len = 4 + hl + sizeof payload - 1;
	if (amps_hdr_parse(hdr_text, hl, &parsed) != 0)
		abort();

	printf("codec benchmark: header %zu bytes, frame %zu bytes, "
	    "%d runs x %ld iterations, thread CPU time "
	    "(median [min..max])\n", hl, frame_len, RUNS, iters);
	for (i = 0; i < sizeof b / sizeof b[0]; i++) {
		b[i].fn(iters / 10);			/* warm up */
		for (r = 0; r < RUNS; r++) {
			t0 = now_ns();
			b[i].fn(iters);
			t[r] = (now_ns() - t0) / (double)iters;
		}
		qsort(t, RUNS, sizeof t[0], cmp_double);
		b[i].median = t[RUNS / 2];
		printf("  %-32s %7.1f ns/op  [%6.1f..%6.1f]", b[i].name,
		    b[i].median, t[0], t[RUNS - 1]);
		if (b[i].base >= 0)
			printf("  %5.1fx %s", b[i].median / b[b[i].base].median,
			    b[b[i].base].name);
		printf("\n");
	}
	printf("RESULT {\"bench\":\"codec\",\"runs\":%d,\"cases\":[",
	    RUNS);
	for (i = 0; i < sizeof b / sizeof b[0]; i++)
		printf("%s{\"case\":\"%s\",\"ns\":%.1f,\"ratio\":%.2f}",
		    i > 0 ? "," : "", b[i].name, b[i].median, b[i].base >= 0 ?
		    b[i].median / b[b[i].base].median : 1.0);
	printf("]}\n");
	return (0);
}
