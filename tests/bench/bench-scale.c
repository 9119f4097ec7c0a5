/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bench-scale: ampsd with many programs, subscriptions and topics (issue
 * 13 item 4).  It prints figures; it is not a test.
 *
 * One ampsim and one ampsd (durability memory, so the disk plays no
 * part; socket mode 0666 and an allow rule for everyone) are started in
 * a work directory (benchenv.c).  Then, in order:
 *
 *   idle        ampsd's resident memory (VmRSS) once logged on.
 *   one         the baseline: one program, one subscription; a raw
 *               publisher (a process writing straight to ampsim) sends N
 *               messages of 128 B to its topic; deliveries per second,
 *               from the first message written to the last received.
 *               The publisher stays at most two windows of WINDOW
 *               messages ahead of what the program has received (a pipe
 *               grants each window): ampsd ends a plain subscription
 *               that falls 16 MiB behind (docs/IPC.md §9), and ampsim
 *               and ampsd can outrun one program on two cores.
 *   programs    P programs connect (IPC connections named scale-W-I in
 *               worker processes of at most 60 connections each; as
 *               root, each worker runs as its own uid, because ampsd
 *               admits 64 connections per uid); ampsd's memory, and the
 *               growth per program.  Topics are literal (no regex
 *               metacharacter, PROTOCOL.md §12.8).
 *   subs        each program subscribes to S topics t-I-K (P x S
 *               subscriptions in all); the growth per subscription.
 *   fanout      the raw publisher sends N messages round-robin over
 *               t-0-0 .. t-(P-1)-0 (P subscriptions on distinct topics, one
 *               per program); deliveries per second until every program
 *               has its share, and the ratio to the baseline.
 *   topics      one program publishes N messages through ampsd over T
 *               distinct topics, then N to one topic: stored msg/s of
 *               each, their ratio, and ampsd's memory once AMPS has
 *               persisted the T topics' messages (the memory store is
 *               empty again: what is left is per-topic state, if any).
 *
 * A line "RESULT {json}" ends the output (tests/bench/run.sh).
 *
 * Usage: bench-scale [-P programs] [-S subs per program] [-T topics]
 *	  [-n messages] [-k]
 *
 * Invariants:
 *   1. Every process started here (ampsim, ampsd, workers, the raw
 *      publisher) is killed or reaped by pid, also on failure.
 *   2. A figure is printed only for a phase that completed: every
 *      expected message was received or stored, within 120 s.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ampsipc.h"
#include "benchenv.h"

#define PER_WORKER	60
#define MAX_WORKERS	200
#define WAIT_NS		120000000000ULL
#define MSG_LEN		128
#define WINDOW		16384		/* baseline: messages per grant */

static long	 opt_progs = 1000;
static long	 opt_subs = 10;
static long	 opt_topics = 100000;
static long	 opt_n = 200000;

/* A worker process and the pipes to it. */
struct worker {
	pid_t	 pid;
	int	 cmd;		/* parent -> worker */
	int	 rep;		/* worker -> parent */
	long	 first;		/* its first program number */
	long	 n;		/* its programs */
};

static struct worker	 workers[MAX_WORKERS];
static int		 nworkers;
static char		 payload[MSG_LEN + 1];

/* Kill the workers (invariant 1). */
static void
stop_workers(void)
{
	int	 i;

	for (i = 0; i < nworkers; i++) {
		if (workers[i].pid <= 0)
			continue;
		kill(workers[i].pid, SIGKILL);
		waitpid(workers[i].pid, NULL, 0);
		workers[i].pid = -1;
	}
}

/* Print, clean up, exit. */
static void __attribute__((__noreturn__))
die(const char *what)
{
	stop_workers();
	bench_die(what);
}

/* Handler: count messages in *arg (acks and the like are not counted). */
static int
count_h(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	if (m->command == AMPSIPC_C_PUBLISH)
		(*(uint64_t *)arg)++;
	return (0);
}

/* Subscribe h to topic with count_h on *counter; -1 on failure. */
static int
subscribe(struct ampsipc *h, const char *topic, uint64_t *counter)
{
	struct ampsipc_command	*c;
	int			 rc;

	if ((c = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE)) == NULL)
		return (-1);
	ampsipc_cmd_set_str(c, AMPSIPC_FIELD_TOPIC, topic);
	ampsipc_cmd_set_num(c, AMPSIPC_FIELD_TIMEOUT, 60000);
	rc = ampsipc_execute_async(h, c, count_h, counter);
	ampsipc_cmd_free(c);
	return (rc);
}

/*
 * Poll handles h[0..n) until counter[i] >= want for every i, or the
 * deadline.  With gfd >= 0 (the baseline), keep the raw publisher's
 * grants (*granted messages so far, a byte on gfd per WINDOW) at most
 * two windows ahead of counter[0].  Returns 0 or -1.
 */
static int
pump(struct ampsipc **h, uint64_t *counter, long n, uint64_t want, int gfd,
    uint64_t *granted)
{
	struct pollfd	*pfd;
	uint64_t	 end = bench_now_ns() + WAIT_NS;
	long		 i, left;
	int		 rc = -1;

	if ((pfd = calloc((size_t)n, sizeof *pfd)) == NULL)
		return (-1);
	while (bench_now_ns() < end) {
		for (i = 0, left = 0; i < n; i++)
			if (counter[i] < want)
				left++;
		if (left == 0) {
			rc = 0;
			break;
		}
		while (gfd >= 0 && *granted < want &&
		    *granted < counter[0] + 2 * WINDOW) {
			if (write(gfd, "w", 1) != 1)
				goto out;
			*granted += WINDOW;
		}
		for (i = 0; i < n; i++) {
			pfd[i].fd = ampsipc_fd(h[i]);
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n, 100) == -1 && errno != EINTR)
			break;
		for (i = 0; i < n; i++)
			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    ampsipc_poll(h[i], 0) == -1)
				goto out;
	}
out:
	free(pfd);
	return (rc);
}

/* Reply one byte to the parent. */
static void
reply(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(3);
}

/*
 * A worker: programs first .. first+n-1 as IPC connections.  Commands:
 * 'S' subscribe each to opt_subs topics; 'D' + 8 bytes: wait until each
 * has that many messages (counting from zero again); 'Q' quit.
 */
static void __attribute__((__noreturn__))
worker_main(int w, long first, long n, int cmd, int rep)
{
	struct ampsipc	**h;
	uint64_t	 *counter, want;
	char		  name[64], topic[64], c;
	long		  i, k;

	if (geteuid() == 0 && (setgroups(0, NULL) == -1 ||
	    setresgid(30000 + (gid_t)w, 30000 + (gid_t)w,
	    30000 + (gid_t)w) == -1 || setresuid(30000 + (uid_t)w,
	    30000 + (uid_t)w, 30000 + (uid_t)w) == -1))
		_exit(2);
	h = calloc((size_t)n, sizeof *h);
	counter = calloc((size_t)n, sizeof *counter);
	if (h == NULL || counter == NULL)
		_exit(2);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "scale-%d-%ld", w, i);
		if ((h[i] = ampsipc_create()) == NULL ||
		    ampsipc_connect(h[i], bench_sock, name, 60000) == -1) {
			fprintf(stderr, "worker %d: %s\n", w, h[i] != NULL ?
			    ampsipc_errmsg(h[i]) : "out of memory");
			_exit(2);
		}
	}
	reply(rep, 'r');
	while (read(cmd, &c, 1) == 1) {
		switch (c) {
		case 'S':
			for (i = 0; i < n; i++)
				for (k = 0; k < opt_subs; k++) {
					snprintf(topic, sizeof topic, "t-%ld-%ld",
					    first + i, k);
					if (subscribe(h[i], topic, &counter[i]) ==
					    -1) {
						fprintf(stderr, "worker %d: "
						    "subscribe: %s\n", w,
						    ampsipc_errmsg(h[i]));
						_exit(2);
					}
				}
			reply(rep, 's');
			break;
		case 'D':
			if (read(cmd, &want, sizeof want) != sizeof want)
				_exit(2);
			memset(counter, 0, (size_t)n * sizeof *counter);
			reply(rep, 'g');
			reply(rep, pump(h, counter, n, want, -1, NULL) == 0 ?
			    'd' : 'x');
			break;
		default:
			for (i = 0; i < n; i++)
				ampsipc_close(h[i]);
			_exit(0);
		}
	}
	_exit(0);
}

/* Fork the workers for P programs; each reports ready. */
static void
start_workers(void)
{
	int	 cp[2], rp[2], i;
	long	 first = 0, n;
	char	 c;

	for (i = 0; first < opt_progs; i++) {
		if (i == MAX_WORKERS)
			die("too many programs");
		n = opt_progs - first < PER_WORKER ? opt_progs - first :
		    PER_WORKER;
		if (pipe(cp) == -1 || pipe(rp) == -1)
			die("pipe");
		workers[i].first = first;
		workers[i].n = n;
		if ((workers[i].pid = fork()) == -1)
			die("fork");
		if (workers[i].pid == 0) {
			close(cp[1]);
			close(rp[0]);
			worker_main(i, first, n, cp[0], rp[1]);
		}
		close(cp[0]);
		close(rp[1]);
		workers[i].cmd = cp[1];
		workers[i].rep = rp[0];
		nworkers = i + 1;
		first += n;
	}
	for (i = 0; i < nworkers; i++)
		if (read(workers[i].rep, &c, 1) != 1 || c != 'r')
			die("a worker could not connect its programs");
}

/* Send every worker cmd (and arg), then collect one reply each. */
static void
tell_all(char cmd, const void *arg, size_t len, char want)
{
	char	 c;
	int	 i;

	for (i = 0; i < nworkers; i++)
		if (write(workers[i].cmd, &cmd, 1) != 1 || (len > 0 &&
		    write(workers[i].cmd, arg, len) != (ssize_t)len))
			die("worker pipe");
	for (i = 0; i < nworkers; i++)
		if (read(workers[i].rep, &c, 1) != 1 || c != want)
			die("a worker failed");
}

/*
 * The raw publisher: a child that writes n messages straight to ampsim,
 * round-robin over topics t-0-K .. t-(ntopics-1)-K (or the one topic
 * given).  With gfd >= 0 it reads one byte from gfd before each window
 * of WINDOW messages.  Returns its pid; it exits when all is written
 * and flushed.
 */
static pid_t
raw_publisher(long n, long ntopics, long k, const char *one, int gfd[2])
{
	char	 hdr[160], *buf, c;
	size_t	 len = 0, cap = 1024 * 1024, fl;
	pid_t	 pid;
	long	 i;
	int	 fd;

	if ((pid = fork()) == -1)
		die("fork");
	if (pid != 0)
		return (pid);
	if (gfd != NULL)
		close(gfd[1]);
	fd = bench_raw_logon();
	if ((buf = malloc(cap)) == NULL)
		_exit(2);
	for (i = 0; i < n; i++) {
		if (gfd != NULL && i % WINDOW == 0) {
			bench_write_all(fd, buf, len);
			len = 0;
			if (read(gfd[0], &c, 1) != 1)
				_exit(3);	/* the parent is gone */
		}
		if (one != NULL)
			snprintf(hdr, sizeof hdr, "{\"c\":\"p\",\"t\":\"%s\"}",
			    one);
		else
			snprintf(hdr, sizeof hdr, "{\"c\":\"p\",\"t\":"
			    "\"t-%ld-%ld\"}", i % ntopics, k);
		fl = bench_amps_frame(buf + len, cap - len, hdr, payload,
		    MSG_LEN);
		if (fl == 0) {
			bench_write_all(fd, buf, len);
			len = 0;
			fl = bench_amps_frame(buf, cap, hdr, payload, MSG_LEN);
		}
		len += fl;
	}
	bench_write_all(fd, buf, len);
	close(fd);
	_exit(0);
}

/* Deliveries per second of n raw messages to the subscribers. */
static double
deliver(long n, long ntopics, const char *one, struct ampsipc *h,
    uint64_t *counter)
{
	uint64_t	 t0, t1, want, granted = 0;
	pid_t		 pub;
	char		 c;
	int		 i, st, gfd[2] = { -1, -1 };

	if (h == NULL) {
		want = (uint64_t)(n / ntopics);
		for (i = 0; i < nworkers; i++)
			if (write(workers[i].cmd, "D", 1) != 1 ||
			    write(workers[i].cmd, &want, sizeof want) !=
			    sizeof want || read(workers[i].rep, &c, 1) != 1)
				die("worker pipe");
	} else {
		*counter = 0;
		if (pipe(gfd) == -1)
			die("pipe");
	}
	t0 = bench_now_ns();
	pub = raw_publisher(n, ntopics, 0, one, h != NULL ? gfd : NULL);
	if (h != NULL) {
		close(gfd[0]);
		if (pump(&h, counter, 1, (uint64_t)n, gfd[1], &granted) ==
		    -1) {
			fprintf(stderr, "bench-scale: baseline: %llu of %ld "
			    "arrived: %s\n", (unsigned long long)*counter, n,
			    ampsipc_errmsg(h));
			die("baseline: not every message arrived");
		}
		close(gfd[1]);
	} else
		for (i = 0; i < nworkers; i++)
			if (read(workers[i].rep, &c, 1) != 1 || c != 'd')
				die("fan-out: not every message arrived");
	t1 = bench_now_ns();
	if (waitpid(pub, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		die("the raw publisher failed");
	return ((double)n / ((double)(t1 - t0) / 1e9));
}

/* Stored msg/s of n publishes through ampsd over ntopics topics. */
static double
publish_topics(struct ampsipc *h, long n, long ntopics)
{
	char		 topic[64];
	uint64_t	 t0, t1;
	long		 i;

	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		snprintf(topic, sizeof topic, "x-%ld", i % ntopics);
		if (ampsipc_publish(h, topic, payload, MSG_LEN, NULL, NULL) ==
		    -1)
			die("publish");
		if ((i & 1023) == 1023 && ampsipc_poll(h, 0) == -1)
			die("poll");
	}
	if (ampsipc_wait_stored(h, 120000) == -1 || ampsipc_failed(h) != 0)
		die("publish: not everything stored");
	t1 = bench_now_ns();
	/* Persisted: the memory store is empty again for the RSS. */
	if (ampsipc_publish_flush(h, 120000) == -1)
		die("publish: not everything persisted");
	return ((double)n / ((double)(t1 - t0) / 1e9));
}

/* A positive number option, or usage. */
static long
number(const char *s)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0) {
		fprintf(stderr, "usage: bench-scale [-P programs] [-S subs] "
		    "[-T topics] [-n messages] [-k]\n");
		exit(2);
	}
	return (v);
}

int
main(int argc, char **argv)
{
	struct ampsipc	*h;
	uint64_t	 rss0, rss1, rss2, rss3, counter = 0;
	double		 one, fan, many, single;
	pid_t		 d;
	int		 ch, keep = 0;

	while ((ch = getopt(argc, argv, "kn:P:S:T:")) != -1) {
		switch (ch) {
		case 'k':
			keep = 1;
			break;
		case 'n':
			opt_n = number(optarg);
			break;
		case 'P':
			opt_progs = number(optarg);
			break;
		case 'S':
			opt_subs = number(optarg);
			break;
		case 'T':
			opt_topics = number(optarg);
			break;
		default:
			number("x");
		}
	}
	if (opt_progs > (long)MAX_WORKERS * PER_WORKER)
		number("x");
	if (geteuid() != 0 && opt_progs > PER_WORKER) {
		fprintf(stderr, "bench-scale: not root: one uid, so %d "
		    "programs (ampsd admits 64 per uid)\n", PER_WORKER);
		opt_progs = PER_WORKER;
	}
	memset(payload, 'x', MSG_LEN);
	memcpy(payload, "{\"p\":\"", 6);
	memcpy(payload + MSG_LEN - 2, "\"}", 2);
	bench_init("bench-scale");
	if (chmod(bench_dir, 0755) == -1)
		bench_die("chmod");
	setvbuf(stdout, NULL, _IOLBF, 0);	/* progress shows in logs */
	bench_start_conf("memory limit 1G", "", " mode 0666",
	    "\tallow all user \"*\" topic \".*\";\n");
	d = bench_ampsd_pid();
	printf("bench-scale: %ld programs x %ld subscriptions, %ld topics, "
	    "%ld messages of %d B, durability memory\n", opt_progs, opt_subs,
	    opt_topics, opt_n, MSG_LEN);

	rss0 = bench_rss_kb(d);
	h = bench_open();
	if (subscribe(h, "one", &counter) == -1)
		bench_die("subscribe one");
	one = deliver(opt_n, 1, "one", h, &counter);
	printf("one        1 subscription: %.0f deliveries/s\n", one);

	start_workers();
	rss1 = bench_rss_kb(d);
	printf("programs   %ld connected: ampsd %llu kB (+%llu kB, %.1f kB per "
	    "program; idle %llu kB)\n", opt_progs, (unsigned long long)rss1,
	    (unsigned long long)(rss1 - rss0), (double)(rss1 - rss0) /
	    (double)opt_progs, (unsigned long long)rss0);
	tell_all('S', NULL, 0, 's');
	rss2 = bench_rss_kb(d);
	printf("subs       %ld subscriptions: ampsd %llu kB (+%llu kB, %.2f kB "
	    "per subscription)\n", opt_progs * opt_subs,
	    (unsigned long long)rss2, (unsigned long long)(rss2 - rss1),
	    (double)(rss2 - rss1) / (double)(opt_progs * opt_subs));
	fan = deliver(opt_n - opt_n % opt_progs, opt_progs, NULL, NULL, NULL);
	printf("fanout     %ld subscriptions on distinct topics: %.0f "
	    "deliveries/s (%.2f of one subscription)\n", opt_progs, fan,
	    fan / one);

	many = publish_topics(h, opt_n, opt_topics);
	rss3 = bench_rss_kb(d);
	single = publish_topics(h, opt_n, 1);
	printf("topics     %ld publishes over %ld topics: %.0f stored/s; to one "
	    "topic: %.0f stored/s (%.2f); ampsd %llu kB after the %ld topics "
	    "(+%lld kB)\n", opt_n, opt_topics, many, single, many / single,
	    (unsigned long long)rss3, opt_topics, (long long)rss3 -
	    (long long)rss2);
	printf("RESULT {\"bench\":\"scale\",\"programs\":%ld,"
	    "\"subscriptions\":%ld,\"topics\":%ld,\"n\":%ld,"
	    "\"rss_idle_kb\":%llu,\"kb_per_program\":%.2f,"
	    "\"kb_per_subscription\":%.3f,\"deliveries_one\":%.0f,"
	    "\"deliveries_fanout\":%.0f,\"fanout/one\":%.3f,"
	    "\"stored_topics\":%.0f,\"stored_one_topic\":%.0f,"
	    "\"topics/one\":%.3f,\"kb_after_topics\":%lld}\n", opt_progs,
	    opt_progs * opt_subs, opt_topics, opt_n,
	    (unsigned long long)rss0, (double)(rss1 - rss0) /
	    (double)opt_progs, (double)(rss2 - rss1) /
	    (double)(opt_progs * opt_subs), one, fan, fan / one, many, single,
	    many / single, (long long)rss3 - (long long)rss2);
	fflush(stdout);
	for (ch = 0; ch < nworkers; ch++)	/* quit, then reap */
		if (write(workers[ch].cmd, "Q", 1) != 1)
			break;
	ampsipc_close(h);
	stop_workers();
	bench_done(keep);
	return (0);
}
