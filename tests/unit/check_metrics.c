/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for the Prometheus renderer (daemon/metrics-text.c): the
 * histogram (bucket edges, cumulative counts), label escaping and UTF-8
 * repair, and whole expositions checked line by line by a small parser
 * of text format 0.0.4 (HELP/TYPE before samples, one block per family,
 * `name{labels} value` samples, escapes, histogram suffixes).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "testutil.h"

/* Render s into a string (caller frees). */
static char *
render(const struct metrics_snap *s)
{
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(metrics_render(s, f), 0);
	fclose(f);
	return (out);
}

/* Escape one label value into a string (caller frees). */
static char *
label(const char *in)
{
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&out, &len);
	metrics_put_label(f, in);
	fclose(f);
	return (out);
}

/* |a - b| < 1e-9 */
static int
near(double a, double b)
{
	return (a - b < 1e-9 && b - a < 1e-9);
}

/* Whether the n bytes at p are exactly the string s. */
static int
is(const char *p, size_t n, const char *s)
{
	return (strlen(s) == n && memcmp(p, s, n) == 0);
}

/* Whether name is a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
static int
good_name(const char *p, size_t n)
{
	size_t	i;

	if (n == 0 || isdigit((unsigned char)p[0]))
		return (0);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '_' &&
		    p[i] != ':')
			return (0);
	return (1);
}

/*
 * Check one exposition; returns NULL or a message (static).  Records of
 * the families seen: a family must not be declared twice and its samples
 * must follow its own TYPE line, before the next family.
 */
static const char *
validate(const char *text, size_t *nsamples)
{
	static char	 why[512];
	char		 fam[128] = "", type[32] = "", seen[8192] = " ";
	const char	*p = text, *e, *q;
	char		*end;
	size_t		 n;

	*nsamples = 0;
	while (*p != '\0') {
		if ((e = strchr(p, '\n')) == NULL)
			return ("last line has no newline");
		if (strncmp(p, "# HELP ", 7) == 0) {
			q = p + 7;
			n = strcspn(q, " \n");
			if (!good_name(q, n) || n >= sizeof fam)
				return ("bad HELP name");
			snprintf(fam, sizeof fam, "%.*s", (int)n, q);
			type[0] = '\0';
			for (q += n; q < e; q++)
				if (*q == '\\' && q[1] != '\\' && q[1] != 'n')
					return ("bad escape in HELP");
		} else if (strncmp(p, "# TYPE ", 7) == 0) {
			q = p + 7;
			n = strcspn(q, " \n");
			if (strlen(fam) != n || strncmp(q, fam, n) != 0)
				return ("TYPE does not follow its HELP");
			snprintf(type, sizeof type, "%.*s", (int)(e - q - n - 1),
			    q + n + 1);
			if (strcmp(type, "gauge") != 0 &&
			    strcmp(type, "counter") != 0 &&
			    strcmp(type, "histogram") != 0)
				return ("unknown TYPE");
			snprintf(why, sizeof why, " %s ", fam);
			if (strstr(seen, why) != NULL) {
				snprintf(why, sizeof why, "family %s twice",
				    fam);
				return (why);
			}
			if (strlen(seen) + strlen(fam) + 2 >= sizeof seen)
				return ("too many families");
			strcat(seen, fam);
			strcat(seen, " ");
		} else if (*p == '#') {
			return ("unknown comment line");
		} else {
			n = strcspn(p, "{ \n");
			if (!good_name(p, n))
				return ("bad sample name");
			if (type[0] == '\0')
				return ("sample before TYPE");
			if (strcmp(type, "histogram") == 0) {
				size_t	fl = strlen(fam);

				if (n <= fl || strncmp(p, fam, fl) != 0 ||
				    (!is(p + fl, n - fl, "_bucket") &&
				    !is(p + fl, n - fl, "_sum") &&
				    !is(p + fl, n - fl, "_count"))) {
					snprintf(why, sizeof why, "sample "
					    "%.*s outside family %s", (int)n,
					    p, fam);
					return (why);
				}
			} else if (!is(p, n, fam)) {
				snprintf(why, sizeof why, "sample %.*s outside "
				    "family %s", (int)n, p, fam);
				return (why);
			}
			q = p + n;
			if (*q == '{') {
				q++;
				for (;;) {
					n = strcspn(q, "=\n");
					if (!good_name(q, n) || q[n] != '=' ||
					    q[n + 1] != '"')
						return ("bad label name");
					for (q += n + 2; *q != '"'; q++) {
						if (*q == '\n' || *q == '\0')
							return ("unterminated "
							    "label value");
						if (*q == '\\' && q[1] != '\\'
						    && q[1] != '"' &&
						    q[1] != 'n')
							return ("bad escape");
						if (*q == '\\')
							q++;
					}
					q++;
					if (*q == '}')
						break;
					if (*q != ',')
						return ("bad label list");
					q++;
				}
				q++;
			}
			if (*q != ' ')
				return ("no space before value");
			q++;
			if (strncmp(q, "+Inf\n", 5) != 0 &&
			    strncmp(q, "-Inf\n", 5) != 0 &&
			    strncmp(q, "NaN\n", 4) != 0) {
				(void)strtod(q, &end);
				if (end == q || *end != '\n')
					return ("bad value");
			}
			(*nsamples)++;
		}
		p = e + 1;
	}
	return (NULL);
}

/* The value of the sample line that starts with prefix, or -1. */
static double
sample(const char *text, const char *prefix)
{
	const char	*p = text;
	size_t		 n = strlen(prefix);

	for (;;) {
		if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
			return (strtod(p + n + 1, NULL));
		if ((p = strchr(p, '\n')) == NULL)
			return (-1);
		p++;
	}
}

/* Observations land in the first bucket whose bound is >= the value. */
START_TEST(test_hist_buckets)
{
	struct metrics_hist	h;
	size_t			i;

	memset(&h, 0, sizeof h);
	metrics_hist_observe(&h, 0);
	metrics_hist_observe(&h, 0.0001);	/* on the edge: first bucket */
	metrics_hist_observe(&h, 0.00011);
	metrics_hist_observe(&h, 0.3);
	metrics_hist_observe(&h, 1);
	metrics_hist_observe(&h, 7.5);		/* above every bound */
	ck_assert_uint_eq(h.count, 6);
	ck_assert_uint_eq(h.bucket[0], 2);
	ck_assert_uint_eq(h.bucket[1], 1);
	ck_assert_uint_eq(h.bucket[11], 1);	/* (0.25, 0.5] */
	ck_assert_uint_eq(h.bucket[12], 1);	/* (0.5, 1] */
	ck_assert_uint_eq(h.bucket[METRICS_HIST_NB], 1);
	ck_assert(near(h.sum, 8.80021));
	ck_assert_uint_eq(metrics_hist_le(&h, 0), 2);
	ck_assert_uint_eq(metrics_hist_le(&h, 1), 3);
	ck_assert_uint_eq(metrics_hist_le(&h, 10), 3);
	ck_assert_uint_eq(metrics_hist_le(&h, 11), 4);
	ck_assert_uint_eq(metrics_hist_le(&h, METRICS_HIST_NB - 1), 5);
	ck_assert_uint_eq(metrics_hist_le(&h, METRICS_HIST_NB), 6);
	for (i = 1; i < METRICS_HIST_NB; i++)
		ck_assert(metrics_hist_bounds[i] > metrics_hist_bounds[i - 1]);
}
END_TEST

/* Label values: the three escapes, UTF-8 kept, bad bytes replaced. */
START_TEST(test_label_escape)
{
	static const struct {
		const char	*in;
		const char	*out;
	} t[] = {
		{ "plain", "plain" },
		{ "", "" },
		{ "a\"b\\c\nd", "a\\\"b\\\\c\\nd" },
		{ "tab\there", "tab\there" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "x\xffy", "x\xef\xbf\xbdy" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },	/* overlong */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		  "\xef\xbf\xbd" },				/* > U+10FFFF */
		{ "end\xe2\x82", "end\xef\xbf\xbd\xef\xbf\xbd" },	/* cut */
	};
	size_t	 i;
	char	*got;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		got = label(t[i].in);
		ck_assert_msg(strcmp(got, t[i].out) == 0, "case %zu: %s", i,
		    got);
		free(got);
	}
}
END_TEST

/* A snapshot with two connections and two programs. */
static void
fill(struct metrics_snap *s, struct metrics_conn *c, struct metrics_prog *p)
{
	memset(s, 0, sizeof *s);
	memset(c, 0, 2 * sizeof *c);
	memset(p, 0, 2 * sizeof *p);
	s->version = "0.1.0";
	s->start_time = 1700000000.25;
	s->ipc_clients = 3;
	s->subscriptions = 4;
	s->durable_subscriptions = 1;
	s->stores[0].kind = "publish";
	s->stores[0].commits = 120;
	s->stores[0].failures = 2;
	s->stores[1].kind = "bookmark";
	s->stores[1].commits = 7;
	s->nstores = 2;
	metrics_hist_observe(&s->commit, 0.0002);
	metrics_hist_observe(&s->commit, 0.004);
	metrics_hist_observe(&s->commit, 0.004);
	metrics_hist_observe(&s->commit, 3);
	c[0].name = "main";
	c[0].state = "connected";
	c[0].detail = "ready";
	c[0].server = "tcp://127.0.0.1:9007/amps/json";
	c[0].is_default = 1;
	c[0].store_ok = 1;
	c[0].store = "memory";
	c[0].store_bytes = 4096;
	c[0].store_limit = 1048576;
	c[0].published = 100;
	c[0].acked = 99;
	c[0].unpersisted = 1;
	c[0].sent = 105;
	c[0].replayed = 5;
	c[0].reconnects = 2;
	c[1].name = "we\"ird\\name\n";
	c[1].state = "backoff";
	c[1].detail = "backoff";
	c[1].failed_writes = 3;
	c[1].refused = 4;
	s->conns = c;
	s->nconns = 2;
	p[0].uid = 1000;
	p[0].name = "pubtest";
	p[0].clients = 2;
	p[0].subscriptions = 3;
	p[0].queued_bytes = 4096;
	p[1].uid = 0;
	p[1].name = "";
	p[1].clients = 1;
	p[1].pending = 9;
	s->progs = p;
	s->nprogs = 2;
}

/* The exposition parses, and each figure is where it belongs. */
START_TEST(test_render)
{
	struct metrics_snap	 s;
	struct metrics_conn	 c[2];
	struct metrics_prog	 p[2];
	const char		*why;
	char			*text;
	size_t			 n;

	fill(&s, c, p);
	text = render(&s);
	why = validate(text, &n);
	ck_assert_msg(why == NULL, "%s in:\n%s", why, text);
	ck_assert_uint_gt(n, 60);
	ck_assert_double_eq(sample(text,
	    "ampsd_build_info{version=\"0.1.0\"}"), 1);
	ck_assert_ptr_nonnull(strstr(text,
	    "\nampsd_start_time_seconds 1700000000.250\n"));
	ck_assert_double_eq(sample(text, "ampsd_ipc_clients"), 3);
	ck_assert_double_eq(sample(text, "ampsd_subscriptions"), 4);
	ck_assert_double_eq(sample(text, "ampsd_durable_subscriptions"), 1);
	ck_assert_double_eq(sample(text,
	    "ampsd_store_commits_total{store=\"publish\"}"), 120);
	ck_assert_double_eq(sample(text,
	    "ampsd_store_commit_failures_total{store=\"publish\"}"), 2);
	ck_assert_double_eq(sample(text,
	    "ampsd_store_commits_total{store=\"bookmark\"}"), 7);
	ck_assert_double_eq(sample(text, "ampsd_connection_state{connection="
	    "\"main\",state=\"connected\"}"), 1);
	ck_assert_double_eq(sample(text, "ampsd_connection_state{connection="
	    "\"main\",state=\"backoff\"}"), 0);
	ck_assert_double_eq(sample(text, "ampsd_connection_state{connection="
	    "\"we\\\"ird\\\\name\\n\",state=\"backoff\"}"), 1);
	ck_assert_double_eq(sample(text, "ampsd_connection_state{connection="
	    "\"we\\\"ird\\\\name\\n\",state=\"connected\"}"), 0);
	ck_assert_double_eq(sample(text, "ampsd_connection_info{connection="
	    "\"main\",server=\"tcp://127.0.0.1:9007/amps/json\",detail="
	    "\"ready\",default=\"yes\",store=\"memory\"}"), 1);
	ck_assert_double_eq(sample(text, "ampsd_connection_info{connection="
	    "\"we\\\"ird\\\\name\\n\",server=\"\",detail=\"backoff\","
	    "default=\"no\",store=\"sqlite\"}"), 1);
	ck_assert_double_eq(sample(text, "ampsd_connection_published_total"
	    "{connection=\"main\"}"), 100);
	ck_assert_double_eq(sample(text, "ampsd_connection_store_memory_bytes"
	    "{connection=\"main\"}"), 4096);
	ck_assert_double_eq(sample(text,
	    "ampsd_connection_store_memory_limit_bytes{connection=\"main\"}"),
	    1048576);
	ck_assert_double_eq(sample(text, "ampsd_connection_acked_total"
	    "{connection=\"main\"}"), 99);
	ck_assert_double_eq(sample(text, "ampsd_connection_unpersisted"
	    "{connection=\"main\"}"), 1);
	ck_assert_double_eq(sample(text, "ampsd_connection_sent_total"
	    "{connection=\"main\"}"), 105);
	ck_assert_double_eq(sample(text, "ampsd_connection_replayed_total"
	    "{connection=\"main\"}"), 5);
	ck_assert_double_eq(sample(text, "ampsd_connection_reconnects_total"
	    "{connection=\"main\"}"), 2);
	ck_assert_double_eq(sample(text, "ampsd_connection_store_ok"
	    "{connection=\"main\"}"), 1);
	ck_assert_double_eq(sample(text, "ampsd_connection_failed_writes_total"
	    "{connection=\"we\\\"ird\\\\name\\n\"}"), 3);
	ck_assert_double_eq(sample(text, "ampsd_connection_refused_total"
	    "{connection=\"we\\\"ird\\\\name\\n\"}"), 4);
	ck_assert_double_eq(sample(text, "ampsd_connection_store_ok"
	    "{connection=\"we\\\"ird\\\\name\\n\"}"), 0);
	ck_assert_double_eq(sample(text, "ampsd_program_clients{uid=\"1000\","
	    "program=\"pubtest\"}"), 2);
	ck_assert_double_eq(sample(text, "ampsd_program_subscriptions{uid="
	    "\"1000\",program=\"pubtest\"}"), 3);
	ck_assert_double_eq(sample(text, "ampsd_program_output_queued_bytes"
	    "{uid=\"1000\",program=\"pubtest\"}"), 4096);
	ck_assert_double_eq(sample(text, "ampsd_program_pending_messages{uid="
	    "\"0\",program=\"\"}"), 9);
	free(text);
}
END_TEST

/* Buckets are cumulative, end with +Inf = _count, and _sum is the sum. */
START_TEST(test_render_histogram)
{
	struct metrics_snap	 s;
	struct metrics_conn	 c[2];
	struct metrics_prog	 p[2];
	char			*text, key[128];
	double			 prev = 0, v;
	size_t			 i;

	fill(&s, c, p);
	text = render(&s);
	for (i = 0; i < METRICS_HIST_NB; i++) {
		snprintf(key, sizeof key, "ampsd_store_commit_seconds_bucket"
		    "{le=\"%g\"}", metrics_hist_bounds[i]);
		v = sample(text, key);
		ck_assert_msg(v >= prev, "bucket %s: %g < %g", key, v, prev);
		prev = v;
	}
	ck_assert_double_eq(sample(text, "ampsd_store_commit_seconds_bucket"
	    "{le=\"0.0001\"}"), 0);
	ck_assert_double_eq(sample(text, "ampsd_store_commit_seconds_bucket"
	    "{le=\"0.00025\"}"), 1);
	ck_assert_double_eq(sample(text, "ampsd_store_commit_seconds_bucket"
	    "{le=\"0.005\"}"), 3);
	ck_assert_double_eq(sample(text, "ampsd_store_commit_seconds_bucket"
	    "{le=\"1\"}"), 3);
	ck_assert_double_eq(sample(text, "ampsd_store_commit_seconds_bucket"
	    "{le=\"+Inf\"}"), 4);
	ck_assert_double_eq(sample(text, "ampsd_store_commit_seconds_count"),
	    4);
	ck_assert(near(sample(text, "ampsd_store_commit_seconds_sum"),
	    3.0082));
	free(text);
}
END_TEST

/* An empty daemon (no connection, no program) still parses. */
START_TEST(test_render_empty)
{
	struct metrics_snap	 s;
	const char		*why;
	char			*text;
	size_t			 n;

	memset(&s, 0, sizeof s);
	text = render(&s);
	why = validate(text, &n);
	ck_assert_msg(why == NULL, "%s in:\n%s", why, text);
	ck_assert_double_eq(sample(text, "ampsd_build_info{version=\"\"}"), 1);
	ck_assert_double_eq(sample(text, "ampsd_store_commit_seconds_count"),
	    0);
	ck_assert_ptr_null(strstr(text, "connection=\""));
	free(text);
}
END_TEST

/* /proc/self/stat: fields after the last ')', whatever the name holds. */
START_TEST(test_proc_stat)
{
	static const char line[] = "4242 (a) b (c) S 1 4242 4242 0 -1 "
	    "4194560 1200 0 3 0 250 130 0 0 20 0 1 0 5000 123456789 300 "
	    "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0\n";
	static const char *const bad[] = {
		"", "4242 no parenthesis S 1 2", "1 (x) S 1 2 3",
		"1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 x 21",
		"1 (x)",
	};
	struct metrics_proc	p;
	size_t			i;

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(metrics_proc_parse_stat(line, 100, 4096, 1000.0, &p),
	    0);
	ck_assert(near(p.cpu_seconds, 3.8));		/* (250 + 130) / 100 */
	ck_assert(near(p.start_time, 1050.0));		/* 1000 + 5000 / 100 */
	ck_assert_uint_eq(p.vsize_bytes, 123456789);
	ck_assert_uint_eq(p.rss_bytes, 300 * 4096);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(metrics_proc_parse_stat(bad[i], 100, 4096, 0, &p)
		    == -1, "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(metrics_proc_parse_stat(line, 0, 4096, 0, &p), -1);
}
END_TEST

/* The process_* families: rendered when read, valid, and this process's. */
START_TEST(test_proc_render)
{
	struct metrics_snap	 s;
	const char		*why;
	char			*text;
	size_t			 n;

	memset(&s, 0, sizeof s);
	text = render(&s);
	ck_assert_ptr_null(strstr(text, "process_"));	/* not read: none */
	free(text);
	ck_assert_int_eq(metrics_proc_read(&s.proc), 0);
	text = render(&s);
	why = validate(text, &n);
	ck_assert_msg(why == NULL, "%s in:\n%s", why, text);
	ck_assert(sample(text, "process_cpu_seconds_total") >= 0);
	ck_assert(sample(text, "process_resident_memory_bytes") > 0);
	ck_assert(sample(text, "process_virtual_memory_bytes") >=
	    sample(text, "process_resident_memory_bytes"));
	ck_assert(sample(text, "process_open_fds") >= 3);
	ck_assert(sample(text, "process_max_fds") >=
	    sample(text, "process_open_fds"));
	/* Started within the last hour, not in the future. */
	ck_assert(sample(text, "process_start_time_seconds") <=
	    (double)time(NULL) + 1);
	ck_assert(sample(text, "process_start_time_seconds") >
	    (double)time(NULL) - 3600);
	free(text);
}
END_TEST

/* The validator itself refuses what the format forbids. */
START_TEST(test_validator)
{
	static const char *const bad[] = {
		"x 1\n",				/* no TYPE */
		"# HELP x h\n# TYPE x gauge\nx{a=\"b} 1\n",
		"# HELP x h\n# TYPE x gauge\nx{a=\"\\t\"} 1\n",
		"# HELP x h\n# TYPE x gauge\nx 1 \n",
		"# HELP x h\n# TYPE x gauge\ny 1\n",
		"# HELP x h\n# TYPE x gauge\n# HELP x h\n# TYPE x gauge\n",
		"# HELP x h\n# TYPE x gauge\nx one\n",
		"# HELP x h\n# TYPE x histogram\nx_bucket{le=\"1\"} 1\nx 2\n",
		"# HELP x h\n# TYPE x histogram\nx_b 2\n",
		"# HELP x h\n# TYPE x gauge\nx 1",
	};
	size_t	i, n;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(validate(bad[i], &n) != NULL, "case %zu", i);
	ck_assert_ptr_null(validate("# HELP x h\n# TYPE x gauge\n"
	    "x{a=\"\\\"\\\\\\n\",b=\"\"} 1.5\n", &n));
	ck_assert_uint_eq(n, 1);
}
END_TEST

/* The test cases of this file. */
static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("text");

	tcase_add_test(tc, test_hist_buckets);
	tcase_add_test(tc, test_label_escape);
	tcase_add_test(tc, test_render);
	tcase_add_test(tc, test_render_histogram);
	tcase_add_test(tc, test_render_empty);
	tcase_add_test(tc, test_validator);
	tcase_add_test(tc, test_proc_stat);
	tcase_add_test(tc, test_proc_render);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; exit status says whether every test passed. */
int
main(void)
{
	return (check_main(metrics_suite()));
}
