/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsctl: command-line client for ampsd, built on libampsipc only.
 *
 *	ampsctl publish -topic T [-data D | -file F] [-delta] [-n N]
 *	    [-rate R] [-conn C] [-correlation X] [-sowkey K]
 *	    [-expiration S] [-wait stored|persisted|none] [-socket P]
 *	ampsctl flush [-timeout MS] [-socket P]
 *	ampsctl ping [-socket P]
 *	ampsctl status [-json | -raw] [-conn C] [-socket P]
 *	ampsctl subscribe | sow | sow_and_subscribe | sow_delete | unsubscribe
 *	    | subscriptions
 *	    ...: see ampsctl-sub.c
 *	ampsctl reload | trace | verbose ...: see ampsctl-admin.c
 *
 * Without -data or -file, publish sends one message per line of stdin.
 * -server is accepted as a synonym of -socket (spark habit).  Exit
 * status: 0 success, 1 failure, 2 usage.
 *
 * Invariants:
 *  1. Every error is printed once, with the library's message, on stderr.
 *  2. publish waits (by default) until the daemon has stored every
 *     message before exiting, so "exit 0" means the daemon holds them.
 */

#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ampsipc.h"

#define CTL_TIMEOUT	10000	/* ms, default for waits */

int	ctl_sub_main(const char *, int, char **);	/* ampsctl-sub.c */
int	ctl_status_print(const char *, int, FILE *);	/* ampsctl-status.c */
int	ctl_admin_main(const char *, int, char **);	/* ampsctl-admin.c */

struct ctl {
	const char		*sock;
	const char		*topic;
	const char		*data;
	const char		*file;
	const char		*wait;
	int			 delta;
	int			 format;	/* status: 0 table, 1 -json, 2 -raw */
	long			 n;
	double			 rate;
	int			 timeout;
	struct ampsipc_pubopts	 opts;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ampsctl publish -topic T [-data D | -file F] [-delta] "
	    "[-n N] [-rate R]\n"
	    "           [-conn C] [-correlation X] [-sowkey K] "
	    "[-expiration S]\n"
	    "           [-wait stored|persisted|none] [-timeout MS] "
	    "[-socket P]\n"
	    "       ampsctl flush [-timeout MS] [-socket P]\n"
	    "       ampsctl ping [-socket P]\n"
	    "       ampsctl status [-json | -raw] [-conn C] [-socket P]\n"
	    "       ampsctl subscribe|sow|sow_and_subscribe|sow_delete ...\n"
	    "       ampsctl reload | trace [[+|-]CAT ...] | verbose LEVEL\n"
	    "       ampsctl unsubscribe -name NAME [-force] | subscriptions\n");
	exit(2);
}

/* Print the library's error for what and return 1. */
static int
fail(struct ampsipc *h, const char *what)
{
	const char	*msg = h != NULL ? ampsipc_errmsg(h) : "";

	fprintf(stderr, "ampsctl: %s: %s\n", what,
	    *msg != '\0' ? msg : strerror(errno));
	return (1);
}

/* Parse single-dash flags after the command word. */
static void
parse(struct ctl *c, int argc, char **argv)
{
	int	 i;
	char	*end;

	for (i = 0; i < argc; i++) {
		const char	*f = argv[i], *v;

		if (strcmp(f, "-delta") == 0) {
			c->delta = 1;
			continue;
		}
		if (strcmp(f, "-json") == 0 || strcmp(f, "-raw") == 0) {
			c->format = f[1] == 'j' ? 1 : 2;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		v = argv[++i];
		if (strcmp(f, "-topic") == 0)
			c->topic = v;
		else if (strcmp(f, "-data") == 0)
			c->data = v;
		else if (strcmp(f, "-file") == 0)
			c->file = v;
		else if (strcmp(f, "-socket") == 0 || strcmp(f, "-server") == 0)
			c->sock = v;
		else if (strcmp(f, "-conn") == 0)
			c->opts.conn = v;
		else if (strcmp(f, "-correlation") == 0)
			c->opts.correlation_id = v;
		else if (strcmp(f, "-sowkey") == 0)
			c->opts.sow_key = v;
		else if (strcmp(f, "-wait") == 0)
			c->wait = v;
		else if (strcmp(f, "-expiration") == 0) {
			c->opts.expiration = (uint32_t)strtoul(v, &end, 10);
			if (*end != '\0')
				usage();
			c->opts.flags |= AMPSIPC_PUB_EXPIRATION;
		} else if (strcmp(f, "-n") == 0) {
			c->n = strtol(v, &end, 10);
			if (*end != '\0' || c->n < 1)
				usage();
		} else if (strcmp(f, "-rate") == 0) {
			c->rate = strtod(v, &end);
			if (*end != '\0' || c->rate < 0)
				usage();
		} else if (strcmp(f, "-timeout") == 0) {
			c->timeout = (int)strtol(v, &end, 10);
			if (*end != '\0')
				usage();
		} else
			usage();
	}
}

/* Sleep as needed to keep to rate messages per second. */
static void
pace(const struct ctl *c, long sent, const struct timespec *start)
{
	struct timespec	now, ts;
	double		due, el;

	if (c->rate <= 0)
		return;
	due = (double)sent / c->rate;
	clock_gettime(CLOCK_MONOTONIC, &now);
	el = (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9;
	if (due > el) {
		ts.tv_sec = (time_t)(due - el);
		ts.tv_nsec = (long)((due - el - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* Publish one message (n times), pacing to the rate. */
static int
pub_one(struct ampsipc *h, const struct ctl *c, const void *data,
    size_t len, long *sent, const struct timespec *start)
{
	long	i;
	int	rc;

	for (i = 0; i < c->n; i++) {
		pace(c, *sent, start);
		if (c->delta)
			rc = ampsipc_delta_publish(h, c->topic, data, len,
			    &c->opts, NULL);
		else
			rc = ampsipc_publish(h, c->topic, data, len, &c->opts,
			    NULL);
		if (rc == -1)
			return (-1);
		(*sent)++;
		if (c->rate > 0 && ampsipc_write(h) == -1)
			return (-1);
	}
	return (0);
}

/* Read a whole file into memory. */
static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf = NULL, *p;
	size_t	 cap = 0, len = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	for (;;) {
		if (cap - len < 65536) {
			cap = cap == 0 ? 65536 : cap * 2;
			if ((p = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				return (NULL);
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	*lenp = len;
	return (buf);
}

/* ampsctl publish. */
static int
cmd_publish(struct ampsipc *h, struct ctl *c)
{
	struct timespec	 start;
	char		*buf = NULL, *line = NULL;
	size_t		 len, cap = 0;
	ssize_t		 n;
	long		 sent = 0;
	int		 rc = 0;

	if (c->topic == NULL || (c->data != NULL && c->file != NULL))
		usage();
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (c->data != NULL)
		rc = pub_one(h, c, c->data, strlen(c->data), &sent, &start);
	else if (c->file != NULL) {
		if ((buf = slurp(c->file, &len)) == NULL) {
			fprintf(stderr, "ampsctl: %s: %s\n", c->file,
			    strerror(errno));
			return (1);
		}
		rc = pub_one(h, c, buf, len, &sent, &start);
		free(buf);
	} else {
		while (rc == 0 && (n = getline(&line, &cap, stdin)) != -1) {
			if (n > 0 && line[n - 1] == '\n')
				line[--n] = '\0';
			rc = pub_one(h, c, line, (size_t)n, &sent, &start);
		}
		free(line);
	}
	if (rc == -1)
		return (fail(h, "publish"));
	if (strcmp(c->wait, "none") == 0)
		rc = ampsipc_wait_stored(h, 0) == -1 &&
		    ampsipc_error(h) != AMPSIPC_E_TIMED_OUT ? -1 : 0;
	else if (strcmp(c->wait, "persisted") == 0)
		rc = ampsipc_publish_flush(h, c->timeout);
	else
		rc = ampsipc_wait_stored(h, c->timeout);
	if (rc == -1)
		return (fail(h, "publish"));
	if (ampsipc_failed(h) != 0) {
		fprintf(stderr, "ampsctl: %" PRIu64 " of %ld publishes "
		    "failed: %s\n", ampsipc_failed(h), sent, ampsipc_errmsg(h));
		return (1);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	struct ampsipc	*h;
	struct ctl	 c;
	char		*text;
	const char	*cmd;
	int		 rc;

	if (argc < 2)
		usage();
	cmd = argv[1];
	if ((rc = ctl_sub_main(cmd, argc - 2, argv + 2)) != -1)
		return (rc);
	if ((rc = ctl_admin_main(cmd, argc - 2, argv + 2)) != -1)
		return (rc);
	memset(&c, 0, sizeof c);
	c.n = 1;
	c.wait = "stored";
	c.timeout = CTL_TIMEOUT;
	parse(&c, argc - 2, argv + 2);
	if (strcmp(c.wait, "stored") != 0 && strcmp(c.wait, "persisted") != 0 &&
	    strcmp(c.wait, "none") != 0)
		usage();
	if (strcmp(cmd, "publish") != 0 && strcmp(cmd, "flush") != 0 &&
	    strcmp(cmd, "ping") != 0 && strcmp(cmd, "status") != 0)
		usage();

	if ((h = ampsipc_create()) == NULL)
		return (fail(NULL, "ampsipc_create"));
	if (ampsipc_connect(h, c.sock, "ampsctl", c.timeout) == -1) {
		rc = fail(h, "connect");
		ampsipc_close(h);
		return (rc);
	}
	rc = 0;
	if (strcmp(cmd, "publish") == 0)
		rc = cmd_publish(h, &c);
	else if (strcmp(cmd, "flush") == 0) {
		if (ampsipc_publish_flush(h, c.timeout) == -1)
			rc = fail(h, "flush");
	} else if (strcmp(cmd, "ping") == 0) {
		if (ampsipc_ping(h, c.timeout) == -1)
			rc = fail(h, "ping");
		else
			printf("ampsd %s: alive\n", ampsipc_daemon_version(h));
	} else {
		if (ampsipc_status(h, c.opts.conn, &text, c.timeout) == -1)
			rc = fail(h, "status");
		else {
			if (ctl_status_print(text, c.format, stdout) == -1)
				rc = fail(NULL, "status");
			free(text);
		}
	}
	ampsipc_close(h);
	return (rc);
}
