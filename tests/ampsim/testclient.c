/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * testclient.c: a blocking AMPS test client on the codec (amps.h) and
 * helpers to start/stop a real ampsim process.  Owns nothing global.
 *
 * Invariants:
 *  1. Every wait is bounded by a deadline on the monotonic clock.
 *  2. Frames are copied out of the reader before they are returned, so
 *     the last frame stays valid until the next tc_recv().
 *  3. The server process is only ever signalled by its pid.
 */

#include <sys/socket.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testclient.h"

/* Monotonic milliseconds. */
static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Path of the ampsim binary. */
static void
ampsim_path(char *out, size_t cap)
{
	const char	*p = getenv("AMPSIM"), *b = getenv("top_builddir");

	if (p != NULL)
		snprintf(out, cap, "%s", p);
	else
		snprintf(out, cap, "%s/ampsim/ampsim", b ? b : ".");
}

/* Read the port file; 0 when complete. */
static int
read_ports(struct tc_srv *srv, const char *pf)
{
	FILE	*f;
	char	 line[64];

	if ((f = fopen(pf, "r")) == NULL)
		return (-1);
	srv->port = -1;
	srv->admin_port = -1;
	srv->repl_port = -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "admin=", 6) == 0)
			srv->admin_port = atoi(line + 6);
		else if (strncmp(line, "repl=", 5) == 0)
			srv->repl_port = atoi(line + 5);
		else if (srv->port == -1 && line[0] >= '0' && line[0] <= '9')
			srv->port = atoi(line);
	}
	fclose(f);
	return (srv->port > 0 && srv->admin_port > 0 ? 0 : -1);
}

/* Spawn ampsim and wait for its port file. */
static int
srv_spawn(struct tc_srv *srv)
{
	char		 bin[1024], pf[512], logf[512];
	const char	*argv[64];
	int		 argc = 0, i, fd;
	int64_t		 deadline;

	ampsim_path(bin, sizeof bin);
	snprintf(pf, sizeof pf, "%s/port", srv->dir);
	snprintf(logf, sizeof logf, "%s/ampsim.log", srv->dir);
	unlink(pf);
	argv[argc++] = bin;
	argv[argc++] = "-p";
	argv[argc++] = "0";
	argv[argc++] = "--port-file";
	argv[argc++] = pf;
	argv[argc++] = "--admin-port";
	argv[argc++] = "0";
	if (!srv->memory) {
		argv[argc++] = "-d";
		argv[argc++] = srv->logdir;
	}
	argv[argc++] = "-v";
	for (i = 0; i < srv->nargs && argc < 62; i++)
		argv[argc++] = srv->args[i];
	argv[argc] = NULL;
	if ((srv->pid = fork()) == -1)
		return (-1);
	if (srv->pid == 0) {
#ifdef __linux__
		/* Never outlive a test that failed before tc_srv_stop. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
		if ((fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0644)) >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	deadline = now_ms() + 10000;
	while (now_ms() < deadline) {
		if (read_ports(srv, pf) == 0)
			return (0);
		if (waitpid(srv->pid, NULL, WNOHANG) == srv->pid) {
			srv->pid = 0;
			fprintf(stderr, "ampsim exited at startup (see %s)\n",
			    logf);
			return (-1);
		}
		usleep(5000);
	}
	return (-1);
}

/* Start ampsim in a new temporary directory; memory: without -d. */
static int
srv_start(struct tc_srv *srv, const char *const *args, int memory)
{
	const char	*tmp = getenv("TMPDIR");

	memset(srv, 0, sizeof *srv);
	snprintf(srv->dir, sizeof srv->dir, "%s/ampsim-test.XXXXXX",
	    tmp ? tmp : "/tmp");
	if (mkdtemp(srv->dir) == NULL)
		return (-1);
	snprintf(srv->logdir, sizeof srv->logdir, "%s/log", srv->dir);
	while (args != NULL && *args != NULL && srv->nargs < 16) {
		snprintf(srv->args[srv->nargs++], sizeof srv->args[0], "%s",
		    *args);
		args++;
	}
	srv->memory = memory;
	return (srv_spawn(srv));
}

int
tc_srv_start(struct tc_srv *srv, const char *const *args)
{
	return (srv_start(srv, args, 0));
}

int
tc_srv_start_memory(struct tc_srv *srv, const char *const *args)
{
	return (srv_start(srv, args, 1));
}

/* Stop the server process and wait for it. */
void
tc_srv_stop(struct tc_srv *srv)
{
	int64_t	deadline;

	if (srv->pid <= 0)
		return;
	kill(srv->pid, SIGTERM);
	deadline = now_ms() + 5000;
	while (now_ms() < deadline) {
		if (waitpid(srv->pid, NULL, WNOHANG) == srv->pid) {
			srv->pid = 0;
			return;
		}
		usleep(2000);
	}
	kill(srv->pid, SIGKILL);
	waitpid(srv->pid, NULL, 0);
	srv->pid = 0;
}

/* Restart with the same directory. */
int
tc_srv_restart(struct tc_srv *srv)
{
	tc_srv_stop(srv);
	return (srv_spawn(srv));
}

/* Remove a directory tree (two levels are enough here). */
static void
rm_tree(const char *dir)
{
	char	cmd[600];

	if (strncmp(dir, "/", 1) != 0 || strstr(dir, "ampsim-test.") == NULL)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* Stop and clean up (the log is kept when KEEP_AMPSIM_LOGS is set). */
void
tc_srv_destroy(struct tc_srv *srv)
{
	tc_srv_stop(srv);
	if (getenv("KEEP_AMPSIM_LOGS") == NULL)
		rm_tree(srv->dir);
}

/* Connect a blocking TCP socket to 127.0.0.1:port. */
static int
tcp_connect(int port)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		close(fd);
		return (-1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return (fd);
}

/* One admin request. */
int
tc_admin(struct tc_srv *srv, const char *line, char *reply, size_t cap)
{
	char	buf[1024];
	size_t	n = 0;
	ssize_t	r;
	int	fd;
	struct pollfd pfd;

	if ((fd = tcp_connect(srv->admin_port)) == -1)
		return (-1);
	snprintf(buf, sizeof buf, "%s\n", line);
	if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf)) {
		close(fd);
		return (-1);
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (n < sizeof buf - 1 && poll(&pfd, 1, 5000) == 1) {
		if ((r = read(fd, buf + n, sizeof buf - 1 - n)) <= 0)
			break;
		n += (size_t)r;
		if (memchr(buf, '\n', n) != NULL)
			break;
	}
	buf[n] = '\0';
	close(fd);
	if (reply != NULL)
		snprintf(reply, cap, "%s", buf);
	return (strncmp(buf, "ok", 2) == 0 ? 0 : -1);
}

/* Wrap a connected socket. */
static struct tc *
tc_wrap(int fd)
{
	struct tc	*t;

	if (fd == -1)
		return (NULL);
	t = calloc(1, sizeof *t);
	if (t == NULL) {
		close(fd);
		return (NULL);
	}
	t->fd = fd;
	t->skip_hb = 1;
	amps_reader_init(&t->rd, AMPS_FRAME_MAX_DEFAULT);
	return (t);
}

/* Connect over TCP. */
struct tc *
tc_connect(int port)
{
	return (tc_wrap(tcp_connect(port)));
}

/* Connect over a unix socket. */
struct tc *
tc_connect_unix(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return (NULL);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		close(fd);
		return (NULL);
	}
	return (tc_wrap(fd));
}

/* Close and free. */
void
tc_close(struct tc *t)
{
	if (t == NULL)
		return;
	close(t->fd);
	amps_reader_free(&t->rd);
	free(t->frame);
	free(t);
}

/* Write all bytes. */
int
tc_send_raw(struct tc *t, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = send(t->fd, c, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		c += w;
		n -= (size_t)w;
	}
	return (0);
}

/* Send header text + payload as one frame. */
int
tc_send(struct tc *t, const char *hdr, const char *payload)
{
	size_t	hl = strlen(hdr), pl = payload ? strlen(payload) : 0;
	char	*buf;
	int	 rc;

	if ((buf = malloc(4 + hl + pl)) == NULL)
		return (-1);
	amps_frame_put_len(buf, (uint32_t)(hl + pl));
	memcpy(buf + 4, hdr, hl);
	if (pl)
		memcpy(buf + 4 + hl, payload, pl);
	rc = tc_send_raw(t, buf, 4 + hl + pl);
	free(buf);
	return (rc);
}

/* printf-style header. */
int
tc_sendf(struct tc *t, const char *payload, const char *fmt, ...)
{
	char	hdr[8192];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(hdr, sizeof hdr, fmt, ap);
	va_end(ap);
	return (tc_send(t, hdr, payload));
}

/* Receive one frame (heartbeats skipped when skip_hb). */
int
tc_recv(struct tc *t, int timeout_ms)
{
	const char	*body;
	uint32_t	 blen;
	char		*p;
	size_t		 n;
	ssize_t		 r;
	int		 rc, left;
	int64_t		 deadline = now_ms() + timeout_ms;
	struct pollfd	 pfd;

	for (;;) {
		while ((rc = amps_reader_next(&t->rd, &body, &blen)) == 1) {
			free(t->frame);
			t->frame = malloc(blen + 1);
			if (t->frame == NULL)
				return (-1);
			memcpy(t->frame, body, blen);
			t->frame[blen] = '\0';
			t->flen = blen;
			if (amps_hdr_parse(t->frame, blen, &t->h) != 0)
				return (-1);
			t->payload = t->frame + t->h.hdr_len;
			t->plen = blen - t->h.hdr_len;
			if (amps_hdr_eq(&t->h, AMPS_F_C, "heartbeat")) {
				t->heartbeats++;
				if (t->skip_hb)
					continue;
			}
			return (1);
		}
		if (rc < 0 || t->closed)
			return (-1);
		left = (int)(deadline - now_ms());
		if (left <= 0)
			return (0);
		pfd.fd = t->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) != 1)
			continue;
		if (amps_reader_space(&t->rd, 65536, &p, &n) != 0)
			return (-1);
		r = read(t->fd, p, n);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			t->closed = 1;
			continue;
		}
		amps_reader_commit(&t->rd, (size_t)r);
	}
}

/* Receive until command c. */
int
tc_recv_cmd(struct tc *t, const char *c, int timeout_ms)
{
	int64_t	deadline = now_ms() + timeout_ms;
	int	rc;

	for (;;) {
		rc = tc_recv(t, (int)(deadline - now_ms()));
		if (rc != 1)
			return (rc);
		if (amps_hdr_eq(&t->h, AMPS_F_C, c))
			return (1);
	}
}

/* Wait for EOF. */
int
tc_wait_closed(struct tc *t, int timeout_ms)
{
	int64_t	deadline = now_ms() + timeout_ms;
	int	rc;

	while ((rc = tc_recv(t, (int)(deadline - now_ms()))) == 1)
		;
	return (rc == -1);
}

/* Field as a string. */
const char *
tc_str(struct tc *t, enum amps_field f)
{
	static char	buf[8][4096];
	static int	slot;
	char		*b = buf[slot++ & 7];

	if (amps_hdr_str(&t->h, f, b, sizeof buf[0]) < 0)
		b[0] = '\0';
	return (b);
}

/* Field as a number. */
uint64_t
tc_num(struct tc *t, enum amps_field f)
{
	uint64_t	v = 0;

	if (amps_hdr_u64(&t->h, f, &v) != 0)
		return (0);
	return (v);
}

/* Field present? */
int
tc_has(struct tc *t, enum amps_field f)
{
	return (amps_hdr_has(&t->h, f));
}

/* Command (and ack type) test. */
int
tc_is(struct tc *t, const char *c, const char *a)
{
	if (!amps_hdr_eq(&t->h, AMPS_F_C, c))
		return (0);
	return (a == NULL || amps_hdr_eq(&t->h, AMPS_F_A, a));
}

/* Payload copy. */
const char *
tc_payload(struct tc *t)
{
	static char	buf[65536];
	size_t		n = t->plen < sizeof buf - 1 ? t->plen : sizeof buf - 1;

	memcpy(buf, t->payload, n);
	buf[n] = '\0';
	return (buf);
}

/* Log on with a processed ack. */
int
tc_logon(struct tc *t, const char *name, uint64_t *seq)
{
	if (tc_sendf(t, NULL, "{\"c\":\"logon\",\"cid\":\"0\",\"client_name\":"
	    "\"%s\",\"a\":\"processed\",\"version\":\"5.3.4.0.1:c\","
	    "\"mt\":\"json\"}", name) != 0)
		return (-1);
	if (tc_recv_cmd(t, "ack", 5000) != 1)
		return (-1);
	if (!amps_hdr_eq(&t->h, AMPS_F_STATUS, "success"))
		return (-1);
	if (seq != NULL)
		*seq = tc_num(t, AMPS_F_S);
	return (0);
}
