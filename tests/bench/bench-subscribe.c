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
 *             With -u USER (run as root) the subscribing program runs as
 *             USER, whose only allow rule is the topic: every delivery is
 *             checked against the allow rules (server-acl.c rule 5).
 *
 * Usage: bench-subscribe [-n N] [-u USER] [-k]
 * The servers and the work directory are benchenv.c's.
 *
 * Invariants:
 *   1. Every process started here is killed by pid, never by name.
 *   2. A figure is printed only for a phase that completed.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ampsipc.h"
#include "benchenv.h"

static uint64_t	 got;
static int	 ended;

/* Replay handler: count; note an early end (e.g. too far behind). */
static int
count_h(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	if (m->command == AMPSIPC_C_PUBLISH)
		got++;
	else if (m->command == AMPSIPC_C_END)
		ended = 1;
	return (0);
}

/* Become user (for -u): its group, no others.  Exits on failure. */
static void
become(const char *user)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		bench_die("no such user");
	if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		bench_die("cannot become the user");
}

/* Subscribe from EPOCH on a new handle and time the n messages. */
static void
replay_read(uint64_t n, const char *user)
{
	struct ampsipc		*h = bench_open();
	struct ampsipc_command	*c;
	uint64_t		 t0, t1, cpu0, cpu1;

	cpu0 = bench_ampsd_cpu_ns();
	c = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);
	ampsipc_cmd_set_str(c, AMPSIPC_FIELD_TOPIC, "replay");
	ampsipc_cmd_set_str(c, AMPSIPC_FIELD_BOOKMARK, AMPSIPC_BOOKMARK_EPOCH);
	got = 0;
	t0 = bench_now_ns();
	if (ampsipc_execute_async(h, c, count_h, NULL) == -1)
		bench_die("subscribe");
	while (got < n && !ended)
		if (ampsipc_poll(h, 1000) == -1)
			bench_die("poll");
	if (got < n)
		bench_die("the subscription ended before the last message");
	t1 = bench_now_ns();
	cpu1 = bench_ampsd_cpu_ns();
	printf("replay     %llu messages of 128 B%s%s: %.2f s, %.0f msg/s, "
	    "ampsd CPU %.0f ns/msg\n", (unsigned long long)n,
	    user != NULL ? " to user " : "", user != NULL ? user : "",
	    (double)(t1 - t0) / 1e9, (double)n / ((double)(t1 - t0) / 1e9),
	    (double)(cpu1 - cpu0) / (double)n);
	fflush(stdout);
	ampsipc_cmd_free(c);
	ampsipc_close(h);
}

/* The replay case. */
static void
replay(uint64_t n, const char *user)
{
	struct ampsipc		*h = bench_open();
	char			 data[128];
	uint64_t		 i;
	pid_t			 pid;
	int			 status;

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
	ampsipc_close(h);
	if (user == NULL) {
		replay_read(n, NULL);
		return;
	}
	if ((pid = fork()) == -1)
		bench_die("fork");
	if (pid == 0) {
		become(user);
		replay_read(n, user);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		bench_die("the subscriber as another user failed");
}

int
main(int argc, char **argv)
{
	uint64_t	 n = 1000000;
	const char	*user = NULL;
	char		 rule[128];
	int		 ch, keep = 0;

	while ((ch = getopt(argc, argv, "n:u:k")) != -1) {
		switch (ch) {
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'u':
			user = optarg;
			break;
		case 'k':
			keep = 1;
			break;
		default:
			fprintf(stderr, "usage: bench-subscribe [-n N] [-u USER] "
			    "[-k]\n");
			return (2);
		}
	}
	bench_init("bench-subscribe");
	if (user != NULL) {
		snprintf(rule, sizeof rule, "\tallow subscribe user \"%s\" "
		    "topic \"replay\";", user);
		bench_conn_extra = rule;
		if (chmod(bench_dir, 0711) == -1)
			bench_die("chmod the work directory");
	}
	bench_start("full", "");
	replay(n, user);
	bench_done(keep);
	return (0);
}
