/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * benchenv.c: the environment of bench-subscribe and bench-latency.
 *
 * It owns a temporary work directory and the processes started from it:
 * one ampsim (`--ack-conflation 20`, or bench_ack_conflation;
 * transaction log in the directory) and one ampsd (`-f`, one connection
 * "main" to that ampsim, durability as asked), plus the echo child of a
 * round-trip measurement.  Programs:
 * $AMPSIM / $AMPSD, else $top_builddir/ampsim/ampsim and
 * $top_builddir/daemon/ampsd (top_builddir defaults to ".").
 *
 * Invariants:
 *   1. Every process started here is killed by pid (bench_stop(),
 *      bench_die()), never by name; the echo child is reaped when its
 *      socket closes.
 *   2. bench_start() returns only with ampsd's socket present; a server
 *      that does not come up ends the benchmark (bench_die()).
 *   3. The raw round trip is an honest one: 128 bytes written by one
 *      process, read and written back whole by another, on a TCP
 *      loopback connection with TCP_NODELAY on both ends (or on a unix
 *      socket pair), timed with CLOCK_MONOTONIC around each trip.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ampsipc.h"
#include "benchenv.h"

int		 bench_ack_conflation = 20;	/* ms; < 0: ampsim's default */
char		 bench_dir[256];
char		 bench_sock[300];
const char	*bench_conn_extra = "";
int		 bench_sim_port;

static const char	*bench_prog = "bench";
static pid_t		 sim_pid = -1, d_pid = -1;
static unsigned		 nstarts;

/* Nanoseconds on the monotonic clock. */
uint64_t
bench_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* Make the work directory; prog names the benchmark in messages. */
void
bench_init(const char *prog)
{
	bench_prog = prog;
	signal(SIGPIPE, SIG_IGN);
	snprintf(bench_dir, sizeof bench_dir, "/tmp/%s.XXXXXX", prog);
	if (mkdtemp(bench_dir) == NULL)
		bench_die("mkdtemp");
}

/* Stop everything; remove the work directory unless keep. */
void
bench_done(int keep)
{
	char	cmd[600];

	bench_stop();
	if (keep) {
		printf("work directory kept: %s\n", bench_dir);
		return;
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", bench_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: could not remove %s\n", bench_prog,
		    bench_dir);
}

/* Kill what we started (invariant 1). */
void
bench_stop(void)
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

/* Print, stop everything and exit. */
void
bench_die(const char *what)
{
	fprintf(stderr, "%s: %s\n", bench_prog, what);
	bench_stop();
	exit(1);
}

/* Start a program with its output appended to dir/name.log. */
static pid_t
spawn(const char *name, char *const argv[])
{
	char	path[400];
	pid_t	pid;
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s.log", bench_dir, name);
	if ((pid = fork()) == 0) {
		if ((f = freopen(path, "a", stderr)) == NULL)
			_exit(127);
		dup2(fileno(stderr), 1);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid == -1)
		bench_die("fork");
	return (pid);
}

/*
 * Start a fresh ampsim and an ampsd connected to it with durability
 * "full" or "normal"; uriopts (e.g. "?tcp_nodelay=true", or "") is
 * appended to the server URI; bench_conn_extra, if any, goes in the
 * connection block and makes the socket mode 0666.
 */
void
bench_start(const char *durability, const char *uriopts)
{
	bench_start_conf(durability, uriopts, *bench_conn_extra != '\0' ?
	    " mode 0666" : "", bench_conn_extra);
}

/*
 * The same, with more of ampsd's configuration: sockopts after the
 * socket path (e.g. " mode 0666"), connopts inside the connection block
 * (e.g. an allow rule).
 */
void
bench_start_conf(const char *durability, const char *uriopts,
    const char *sockopts, const char *connopts)
{
	const char	*top = getenv("top_builddir");
	char		 sim[300], amd[300], portf[300], conf[300], logd[300];
	char		 port[32] = "";
	FILE		*f;
	int		 i;

	if (top == NULL)
		top = ".";
	snprintf(sim, sizeof sim, "%s/ampsim/ampsim", top);
	snprintf(amd, sizeof amd, "%s/daemon/ampsd", top);
	if (getenv("AMPSIM") != NULL)
		snprintf(sim, sizeof sim, "%s", getenv("AMPSIM"));
	if (getenv("AMPSD") != NULL)
		snprintf(amd, sizeof amd, "%s", getenv("AMPSD"));
	nstarts++;
	snprintf(portf, sizeof portf, "%s/port-%u", bench_dir, nstarts);
	snprintf(logd, sizeof logd, "%s/log-%u", bench_dir, nstarts);
	{
		char	 ackc[16];
		char	*av[] = { sim, "-q", "-p", "0", "--port-file", portf,
		    "-d", logd, "--ack-conflation", ackc, NULL };

		snprintf(ackc, sizeof ackc, "%d", bench_ack_conflation);
		if (bench_ack_conflation < 0)
			av[8] = NULL;	/* ampsim's default */
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
		bench_die("ampsim did not start");
	port[strcspn(port, "\n")] = '\0';
	bench_sim_port = atoi(port);
	snprintf(conf, sizeof conf, "%s/ampsd-%u.conf", bench_dir, nstarts);
	snprintf(bench_sock, sizeof bench_sock, "%s/ampsd.sock", bench_dir);
	if ((f = fopen(conf, "w")) == NULL)
		bench_die("conf");
	fprintf(f, "socket \"%s\"%s;\nstate-directory \"%s/state-%u\";\n"
	    "log stderr;\nconnection \"main\" {\n\tclient-name \"bench-%u\";"
	    "\n\tserver \"tcp://127.0.0.1:%s/amps/json%s\";\n"
	    "\tdurability %s;\n%s\n}\n", bench_sock, sockopts, bench_dir,
	    nstarts, nstarts, port, uriopts, durability, connopts);
	fclose(f);
	unlink(bench_sock);
	{
		char *const av[] = { amd, "-f", "-c", conf, NULL };
		d_pid = spawn("ampsd", av);
	}
	for (i = 0; i < 100 && access(bench_sock, F_OK) != 0; i++)
		usleep(50000);
	if (access(bench_sock, F_OK) != 0)
		bench_die("ampsd did not start");
	usleep(300000);		/* logged on */
}

/* ampsd's pid (-1 when not running). */
pid_t
bench_ampsd_pid(void)
{
	return (d_pid);
}

/* Resident set size of pid in kB from /proc (0 when unknown). */
uint64_t
bench_rss_kb(pid_t pid)
{
	char		 path[64], line[256];
	unsigned long long kb = 0;
	FILE		*f;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (kb);
}

/*
 * CPU time ampsd has run so far, in nanoseconds, from
 * /proc/PID/schedstat (0 if unknown).  Unlike wall time it does not grow
 * while other processes hold the CPUs.
 */
uint64_t
bench_ampsd_cpu_ns(void)
{
	char			 path[64];
	unsigned long long	 ns;
	FILE			*f;
	int			 n;

	snprintf(path, sizeof path, "/proc/%ld/schedstat", (long)d_pid);
	if (d_pid <= 0 || (f = fopen(path, "r")) == NULL)
		return (0);
	n = fscanf(f, "%llu", &ns);
	fclose(f);
	return (n == 1 ? (uint64_t)ns : 0);
}

/* Connect a handle to the daemon. */
struct ampsipc *
bench_open(void)
{
	struct ampsipc	*h = ampsipc_create();

	if (h == NULL || ampsipc_connect(h, bench_sock, "bench", 5000) == -1)
		bench_die("connect to ampsd");
	return (h);
}

/*
 * Put one AMPS frame (4-byte big-endian length, header, data) into buf.
 * Returns its length, or 0 if it does not fit.
 */
size_t
bench_amps_frame(char *buf, size_t cap, const char *hdr, const char *data,
    size_t dlen)
{
	size_t	hlen = strlen(hdr), n = hlen + dlen;

	if (n + 4 > cap || n > UINT32_MAX)
		return (0);
	buf[0] = (char)(n >> 24);
	buf[1] = (char)(n >> 16);
	buf[2] = (char)(n >> 8);
	buf[3] = (char)n;
	memcpy(buf + 4, hdr, hlen);
	memcpy(buf + 4 + hlen, data, dlen);
	return (4 + n);
}

/* Write all of buf to a blocking descriptor. */
void
bench_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	w;

	while (len > 0) {
		if ((w = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			bench_die("write");
		}
		buf += w;
		len -= (size_t)w;
	}
}

/*
 * A raw AMPS connection straight to ampsim (no ampsd, no store), logged
 * on, TCP_NODELAY as any latency-minded AMPS client sets it.  Blocking.
 */
int
bench_raw_logon(void)
{
	static int		seq;
	char			logon[256], frame[300], junk[4096];
	struct sockaddr_in	sin;
	size_t			n;
	int			fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		bench_die("socket");
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)bench_sim_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		bench_die("connect to ampsim");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	snprintf(logon, sizeof logon, "{\"c\":\"logon\",\"cid\":\"1\","
	    "\"client_name\":\"bench-raw-%d-%d\",\"a\":\"processed\","
	    "\"version\":\"5.3.5.0\"}", (int)getpid(), ++seq);
	n = bench_amps_frame(frame, sizeof frame, logon, "", 0);
	bench_write_all(fd, frame, n);
	if (read(fd, junk, sizeof junk) <= 0)	/* the logon ack */
		bench_die("logon to ampsim");
	return (fd);
}

/* Drain whatever ampsim sent a raw connection without waiting. */
void
bench_raw_drain(int fd)
{
	char	junk[4096];

	while (recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
		;
}

/* Echo child: read, write the same bytes back, until EOF. */
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

/* n round trips of 128 bytes on fd (to an echo child) into v. */
static void
rtt_loop(int fd, uint64_t *v, size_t n)
{
	char		buf[128];
	uint64_t	t;
	ssize_t		r, got;
	size_t		i;

	memset(buf, 'r', sizeof buf);
	for (i = 0; i < n; i++) {
		t = bench_now_ns();
		bench_write_all(fd, buf, sizeof buf);
		for (got = 0; got < (ssize_t)sizeof buf; got += r)
			if ((r = read(fd, buf + got, sizeof buf -
			    (size_t)got)) <= 0)
				bench_die("rtt read");
		v[i] = bench_now_ns() - t;
	}
}

/*
 * The raw reference (invariant 3): n round trips of a 128-byte message
 * to an echo process, on TCP loopback (unix_sock 0) or a unix socket
 * pair; nanoseconds into v.
 */
void
bench_rtt(int unix_sock, uint64_t *v, size_t n)
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof sin;
	int			l, a, c, sv[2], one = 1;
	pid_t			pid;

	if (unix_sock) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
			bench_die("socketpair");
		if ((pid = fork()) == 0) {
			close(sv[0]);
			echo(sv[1]);
		}
		close(sv[1]);
		rtt_loop(sv[0], v, n);
		close(sv[0]);
		waitpid(pid, NULL, 0);
		return;
	}
	l = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l == -1 || bind(l, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(l, 1) == -1 || getsockname(l, (struct sockaddr *)&sin,
	    &slen) == -1)
		bench_die("raw listen");
	if ((pid = fork()) == 0) {
		if ((a = accept(l, NULL, NULL)) == -1)
			_exit(1);
		setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		echo(a);
	}
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c == -1 || connect(c, (struct sockaddr *)&sin, sizeof sin) == -1)
		bench_die("raw connect");
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	rtt_loop(c, v, n);
	close(c);
	close(l);
	waitpid(pid, NULL, 0);
}

/* Sort helper. */
static int
cmp64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* The p-th percentile (0-100) of v[0..n), sorting v; 0 if n is 0. */
uint64_t
bench_pct(uint64_t *v, size_t n, unsigned p)
{
	return (bench_quantile(v, n, (double)p / 100));
}

/* The q-quantile (0 <= q <= 1) of v[0..n), sorting v; 0 for none. */
uint64_t
bench_quantile(uint64_t *v, size_t n, double q)
{
	size_t	i;

	if (n == 0)
		return (0);
	qsort(v, n, sizeof *v, cmp64);
	i = (size_t)((double)n * q);
	return (v[i < n ? i : n - 1]);
}
