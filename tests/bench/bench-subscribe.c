/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bench-subscribe: the receive path, AMPS (ampsim) -> ampsd ->
 * libampsipc -> one program.  It prints figures; it is not a test.
 *
 * It owns the processes it starts (one ampsim, one ampsd, a forked echo
 * peer), each killed by pid at exit, and a temporary directory.
 *
 *   replay    N messages (128 B) are published through ampsd first; then
 *             one program subscribes with bookmark EPOCH (handler style)
 *             and is timed from the subscribe until the N-th message.
 *   latency   one program publishes at a paced rate R (a burst every
 *             millisecond) for T seconds through ampsd and receives the
 *             same messages on a subscription (handler style, same
 *             thread); latency = receive time - the publish time carried
 *             in the payload.  Printed as p50/p99 for each rate, with
 *             the daemon's store at durability full and normal.
 *   raw       round trip of a 128-byte message between two processes on
 *             loopback TCP and on a unix socket (p50/p99), in the same
 *             run, as the reference.
 *
 * Usage: bench-subscribe [-n N] [-T secs] [-k]
 * Programs: $AMPSIM / $AMPSD, else $top_builddir/tests/ampsim/ampsim and
 * $top_builddir/daemon/ampsd (top_builddir defaults to ".").
 *
 * Invariants:
 *   1. Every process started here is killed by pid, never by name.
 *   2. A figure is printed only for a phase that completed.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ampsipc.h"

static char	dir[256];
static pid_t	sim_pid = -1, d_pid = -1;
static char	sock[300];
static int	sim_port;

/* Nanoseconds on the monotonic clock. */
static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* Kill what we started (invariant 1). */
static void
stop_all(void)
{
	if (d_pid > 0) {
		kill(d_pid, SIGKILL);
		waitpid(d_pid, NULL, 0);
		d_pid = -1;
	}
	if (sim_pid > 0) {
		kill(sim_pid, SIGKILL);
		waitpid(sim_pid, NULL, 0);
		sim_pid = -1;
	}
}

/* Print and exit. */
static void
die(const char *what)
{
	fprintf(stderr, "bench-subscribe: %s\n", what);
	stop_all();
	exit(1);
}

/* Start a program with output to dir/name.log. */
static pid_t
spawn(const char *name, char *const argv[])
{
	char	path[400];
	pid_t	pid;
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s.log", dir, name);
	if ((pid = fork()) == 0) {
		if ((f = freopen(path, "a", stderr)) == NULL)
			_exit(127);
		dup2(fileno(stderr), 1);
		execv(argv[0], argv);
		_exit(127);
	}
	return (pid);
}

/* Start ampsim and ampsd (durability full or normal). */
static void
start(const char *durability)
{
	const char	*top = getenv("top_builddir");
	char		 sim[300], amd[300], portf[300], conf[300], logd[300];
	char		 port[32] = "";
	FILE		*f;
	int		 i;

	if (top == NULL)
		top = ".";
	snprintf(sim, sizeof sim, "%s/tests/ampsim/ampsim", top);
	snprintf(amd, sizeof amd, "%s/daemon/ampsd", top);
	if (getenv("AMPSIM") != NULL)
		snprintf(sim, sizeof sim, "%s", getenv("AMPSIM"));
	if (getenv("AMPSD") != NULL)
		snprintf(amd, sizeof amd, "%s", getenv("AMPSD"));
	snprintf(portf, sizeof portf, "%s/port-%s", dir, durability);
	snprintf(logd, sizeof logd, "%s/log-%s", dir, durability);
	{
		char *const av[] = { sim, "-q", "-p", "0", "--port-file", portf,
		    "--ack-conflation", "20", "-d", logd, NULL };
		sim_pid = spawn("ampsim", av);
	}
	for (i = 0; i < 100 && port[0] == '\0'; i++) {
		usleep(50000);
		if ((f = fopen(portf, "r")) != NULL) {
			if (fgets(port, sizeof port, f) == NULL)
				port[0] = '\0';
			fclose(f);
		}
	}
	if (port[0] == '\0')
		die("ampsim did not start");
	port[strcspn(port, "\n")] = '\0';
	sim_port = atoi(port);
	snprintf(conf, sizeof conf, "%s/ampsd-%s.conf", dir, durability);
	snprintf(sock, sizeof sock, "%s/ampsd.sock", dir);
	if ((f = fopen(conf, "w")) == NULL)
		die("conf");
	fprintf(f, "socket \"%s\";\nstate-directory \"%s/state-%s\";\n"
	    "log stderr;\nconnection \"main\" {\n\tclient-name \"bench-%s\";"
	    "\n\tserver \"tcp://127.0.0.1:%s/amps/json\";\n"
	    "\tdurability %s;\n}\n", sock, dir, durability, durability, port,
	    durability);
	fclose(f);
	unlink(sock);
	{
		char *const av[] = { amd, "-f", "-c", conf, NULL };
		d_pid = spawn("ampsd", av);
	}
	for (i = 0; i < 100 && access(sock, F_OK) != 0; i++)
		usleep(50000);
	usleep(300000);		/* logged on */
}

/* Connect a handle to the daemon. */
static struct ampsipc *
open_h(void)
{
	struct ampsipc	*h = ampsipc_create();

	if (h == NULL || ampsipc_connect(h, sock, "bench", 5000) == -1)
		die("connect to ampsd");
	return (h);
}

static uint64_t	 got;

/* Replay handler: count. */
static int
count_h(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	if (m->command == AMPSIPC_C_PUBLISH)
		got++;
	return (0);
}

/* The replay case. */
static void
replay(uint64_t n)
{
	struct ampsipc		*h = open_h();
	struct ampsipc_command	*c;
	char			 data[128];
	uint64_t		 i, t0, t1;

	memset(data, 'x', sizeof data);
	memcpy(data, "{\"p\":\"", 6);
	memcpy(data + sizeof data - 2, "\"}", 2);
	for (i = 0; i < n; i++) {
		if (ampsipc_publish(h, "replay", data, sizeof data, NULL,
		    NULL) == -1)
			die("publish");
		if ((i & 1023) == 0 && ampsipc_poll(h, 0) == -1)
			die("poll");
	}
	if (ampsipc_wait_stored(h, 120000) == -1 ||
	    ampsipc_publish_flush(h, 120000) == -1)
		die("publish flush");
	c = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);
	ampsipc_cmd_set_str(c, AMPSIPC_FIELD_TOPIC, "replay");
	ampsipc_cmd_set_str(c, AMPSIPC_FIELD_BOOKMARK, AMPSIPC_BOOKMARK_EPOCH);
	got = 0;
	t0 = now_ns();
	if (ampsipc_execute_async(h, c, count_h, NULL) == -1)
		die("subscribe");
	while (got < n)
		if (ampsipc_poll(h, 1000) == -1)
			die("poll");
	t1 = now_ns();
	printf("replay     %llu messages of 128 B: %.2f s, %.0f msg/s\n",
	    (unsigned long long)n, (double)(t1 - t0) / 1e9,
	    (double)n / ((double)(t1 - t0) / 1e9));
	ampsipc_cmd_free(c);
	ampsipc_close(h);
}

static uint64_t	*lat;
static size_t	 nlat, clat;

/* Latency handler: record now - the time in the payload. */
static int
lat_h(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	const char	*p;
	uint64_t	 t;

	if (m->command != AMPSIPC_C_PUBLISH ||
	    (p = memchr(m->data, ':', m->len)) == NULL)
		return (0);
	t = strtoull(p + 1, NULL, 10);
	if (nlat < clat)
		lat[nlat++] = now_ns() - t;
	return (0);
}

/* Sort helper. */
static int
cmp64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Print p50/p99 of v[0..n) in microseconds. */
static void
pct(const char *label, uint64_t *v, size_t n)
{
	if (n == 0) {
		printf("%s: no samples\n", label);
		return;
	}
	qsort(v, n, sizeof *v, cmp64);
	printf("%s: p50 %.0f us, p99 %.0f us (%zu samples)\n", label,
	    (double)v[n / 2] / 1e3, (double)v[n * 99 / 100] / 1e3, n);
}

/* Write a whole AMPS frame (4-byte big-endian length) to fd. */
static void
amps_put(int fd, const char *hdr, const char *data, size_t dlen)
{
	char		buf[512];
	size_t		hlen = strlen(hdr), n = hlen + dlen;

	buf[0] = (char)(n >> 24);
	buf[1] = (char)(n >> 16);
	buf[2] = (char)(n >> 8);
	buf[3] = (char)n;
	memcpy(buf + 4, hdr, hlen);
	memcpy(buf + 4 + hlen, data, dlen);
	if (write(fd, buf, 4 + n) != (ssize_t)(4 + n))
		die("write to ampsim");
}

/* A raw AMPS publisher straight to ampsim (no ampsd, no store). */
static int
raw_publisher(void)
{
	static int		seq;
	char			logon[256];
	struct sockaddr_in	sin;
	int			fd, one = 1;
	char			junk[4096];

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)sim_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		die("connect to ampsim");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	snprintf(logon, sizeof logon, "{\"c\":\"logon\",\"cid\":\"1\","
	    "\"client_name\":\"bench-raw-%d-%d\",\"a\":\"processed\","
	    "\"version\":\"5.3.5.0\"}", (int)getpid(), ++seq);
	amps_put(fd, logon, "", 0);
	if (read(fd, junk, sizeof junk) <= 0)	/* the logon ack */
		die("logon to ampsim");
	return (fd);
}

/* Drain whatever ampsim sent the raw publisher (acks; never needed). */
static void
raw_drain(int fd)
{
	char	junk[4096];

	while (recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
		;
}

/* Raw AMPS subscriber: timestamps from "}{\"t\":N" in frames read. */
static void
raw_collect(int fd, char *buf, size_t *len, size_t cap)
{
	ssize_t		 r;
	char		*p, *e;

	while ((r = recv(fd, buf + *len, cap - *len - 1, MSG_DONTWAIT)) > 0) {
		*len += (size_t)r;
		buf[*len] = '\0';
		/* frames hold NUL bytes (length prefixes): memmem, not strstr */
		for (p = buf; (e = memmem(p, (size_t)(buf + *len - p),
		    "}{\"t\":", 6)) != NULL; p = e + 6)
			if (nlat < clat)
				lat[nlat++] = now_ns() - strtoull(e + 6, NULL, 10);
		/* keep a possibly cut marker */
		if (*len > 64) {
			memmove(buf, buf + *len - 64, 64);
			*len = 64;
		}
	}
}

/* Baseline without ampsd: raw publisher -> ampsim -> raw subscriber. */
static void
latency_raw(unsigned rate, int secs)
{
	int		 pfd = raw_publisher(), sfd = raw_publisher();
	char		 data[128], label[96], *buf = malloc(1 << 20);
	uint64_t	 start, tick, sent = 0, want, end;
	size_t		 blen = 0;
	struct pollfd	 pfds;
	int		 len;

	clat = (size_t)rate * (size_t)secs + 1000;
	lat = calloc(clat, sizeof *lat);
	nlat = 0;
	amps_put(sfd, "{\"c\":\"subscribe\",\"cid\":\"2\",\"t\":\"lat\","
	    "\"sub_id\":\"r\",\"a\":\"processed\"}", "", 0);
	usleep(100000);
	raw_drain(sfd);
	start = now_ns();
	end = start + (uint64_t)secs * 1000000000ULL;
	for (tick = start; tick < end; tick += 1000000) {
		want = (tick - start + 1000000) / 1000 * rate / 1000000;
		while (sent < want) {
			len = snprintf(data, sizeof data, "{\"t\":%llu}",
			    (unsigned long long)now_ns());
			amps_put(pfd, "{\"c\":\"p\",\"t\":\"lat\"}", data,
			    (size_t)len);
			sent++;
		}
		raw_drain(pfd);
		while (now_ns() < tick + 1000000) {
			pfds.fd = sfd;
			pfds.events = POLLIN;
			if (poll(&pfds, 1, 1) > 0)
				raw_collect(sfd, buf, &blen, 1 << 20);
		}
	}
	while (nlat < sent && now_ns() < end + 2000000000ULL) {
		pfds.fd = sfd;
		pfds.events = POLLIN;
		if (poll(&pfds, 1, 10) > 0)
			raw_collect(sfd, buf, &blen, 1 << 20);
	}
	snprintf(label, sizeof label, "raw AMPS   %5u msg/s, publisher -> "
	    "ampsim -> subscriber", rate);
	pct(label, lat, nlat);
	free(lat);
	free(buf);
	close(pfd);
	close(sfd);
}

/*
 * The latency case at rate msg/s for secs; direct: publish straight to
 * ampsim, so only the receive path (AMPS -> ampsd -> program) is timed.
 */
static void
latency(const char *durability, unsigned rate, int secs, int direct)
{
	int			 rfd = direct ? raw_publisher() : -1;
	struct ampsipc		*h = open_h();
	struct ampsipc_command	*c;
	char			 data[128], label[96];
	uint64_t		 start, tick, sent = 0, want, end;
	int			 len;

	clat = (size_t)rate * (size_t)secs + 1000;
	lat = calloc(clat, sizeof *lat);
	nlat = 0;
	c = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);
	ampsipc_cmd_set_str(c, AMPSIPC_FIELD_TOPIC, "lat");
	if (ampsipc_execute_async(h, c, lat_h, NULL) == -1)
		die("subscribe");
	start = now_ns();
	end = start + (uint64_t)secs * 1000000000ULL;
	for (tick = start; tick < end; tick += 1000000) {
		want = (tick - start + 1000000) / 1000 * rate / 1000000;
		while (sent < want) {
			len = snprintf(data, sizeof data, "{\"t\":%llu}",
			    (unsigned long long)now_ns());
			if (direct)
				amps_put(rfd, "{\"c\":\"p\",\"t\":\"lat\"}", data,
				    (size_t)len);
			else if (ampsipc_publish(h, "lat", data, (size_t)len,
			    NULL, NULL) == -1)
				die("publish");
			sent++;
		}
		(void)ampsipc_write(h);
		if (direct)
			raw_drain(rfd);
		while (now_ns() < tick + 1000000)
			if (ampsipc_poll(h, 1) == -1)
				die("poll");
	}
	while (nlat < sent && now_ns() < end + 5000000000ULL)
		if (ampsipc_poll(h, 10) == -1)
			die("poll");
	if (direct) {
		snprintf(label, sizeof label, "receive    %5u msg/s, AMPS -> "
		    "ampsd -> program  ", rate);
		close(rfd);
	} else
		snprintf(label, sizeof label, "latency    %5u msg/s, through "
		    "ampsd, durability %-6s", rate, durability);
	pct(label, lat, nlat);
	free(lat);
	ampsipc_cmd_free(c);
	ampsipc_close(h);
}

/* Round trips of 128 bytes over a connected pair (fd to an echo child). */
static void
rtt(const char *label, int fd, int n)
{
	uint64_t	*v = calloc((size_t)n, sizeof *v), t;
	char		 buf[128];
	ssize_t		 r, got_b;
	int		 i;

	memset(buf, 'r', sizeof buf);
	for (i = 0; i < n; i++) {
		t = now_ns();
		if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
			die("rtt write");
		for (got_b = 0; got_b < (ssize_t)sizeof buf; got_b += r)
			if ((r = read(fd, buf + got_b, sizeof buf -
			    (size_t)got_b)) <= 0)
				die("rtt read");
		v[i] = now_ns() - t;
	}
	pct(label, v, (size_t)n);
	free(v);
}

/* Echo child: read 128 bytes, write them back, until EOF. */
static void
echo(int fd)
{
	char	buf[128];
	ssize_t	r;

	while ((r = read(fd, buf, sizeof buf)) > 0)
		if (write(fd, buf, (size_t)r) != r)
			break;
	_exit(0);
}

/* The raw reference: TCP loopback and unix socket round trips. */
static void
raw(void)
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof sin;
	int			l, a, c, sv[2], one = 1;
	pid_t			pid;

	l = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(l, 1) == -1 || getsockname(l, (struct sockaddr *)&sin,
	    &slen) == -1)
		die("raw listen");
	if ((pid = fork()) == 0) {
		a = accept(l, NULL, NULL);
		setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		echo(a);
	}
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sin, sizeof sin) == -1)
		die("raw connect");
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	rtt("raw        TCP loopback round trip, 128 B", c, 20000);
	close(c);
	close(l);
	waitpid(pid, NULL, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		die("socketpair");
	if ((pid = fork()) == 0) {
		close(sv[0]);
		echo(sv[1]);
	}
	close(sv[1]);
	rtt("raw        unix socket round trip, 128 B ", sv[0], 20000);
	close(sv[0]);
	waitpid(pid, NULL, 0);
}

int
main(int argc, char **argv)
{
	uint64_t	n = 1000000;
	int		ch, secs = 3, keep = 0;
	char		cmd[600];

	while ((ch = getopt(argc, argv, "n:T:k")) != -1) {
		switch (ch) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'T': secs = atoi(optarg); break;
		case 'k': keep = 1; break;
		default:
			fprintf(stderr, "usage: bench-subscribe [-n N] "
			    "[-T secs] [-k]\n");
			return (2);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof dir, "/tmp/bench-subscribe.XXXXXX");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	raw();
	start("full");
	latency_raw(10000, secs);
	latency_raw(50000, secs);
	latency("full", 10000, secs, 1);
	latency("full", 50000, secs, 1);
	latency("full", 10000, secs, 0);
	latency("full", 50000, secs, 0);
	replay(n);
	stop_all();
	start("normal");
	latency("normal", 10000, secs, 0);
	latency("normal", 50000, secs, 0);
	stop_all();
	raw();
	if (!keep) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	} else
		printf("work directory kept: %s\n", dir);
	return (0);
}
