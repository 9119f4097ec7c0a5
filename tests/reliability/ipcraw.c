/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ipcraw: a raw IPC client for the security tests.  It speaks the frame
 * format of docs/IPC.md by hand (not through libampsipc), so it can send
 * what no well-behaved program would.
 *
 *	ipcraw -S socket hold N MS
 *		open N connections, each sending HELLO; print
 *		"welcome=W refused=R code=C" (C: error code of the first
 *		refusal), then keep them open MS milliseconds
 *	ipcraw -S socket bad KIND
 *		send one kind of bad input, then read until the daemon
 *		closes (at most 5 s); print "KIND: error=C fatal=F
 *		closed=X"; KIND is huge, short, junk, nohello, badflags,
 *		reserved, twohello, servertype, trunc or flood
 *	ipcraw -S socket discard NAME BOOKMARK
 *		after the handshake, a DISCARD of BOOKMARK for the durable
 *		subscription NAME that this program never subscribed to
 *		(what libampsipc would never send), then a PING; print
 *		"discard: error=C" (C: the ERROR code, 0 if none) once the
 *		PONG is in
 *	ipcraw -S socket qack TOPIC BOOKMARKS
 *		after the handshake, a QUEUE_ACK of BOOKMARKS (a comma
 *		list) on TOPIC, whatever this program was delivered, then
 *		a PING; print "qack: error=C" once the PONG is in
 *
 * Exit status: 0 done (the verdict is in the output), 1 usage or
 * connect error.
 *
 * Invariants:
 *  1. Every frame is built byte by byte, little-endian (docs/IPC.md §1).
 *  2. Every wait has a deadline; nothing blocks forever.
 *  3. Junk comes from a fixed-seed generator: the same bytes every run.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tools/lifetime.h"

#define HDR_LEN		16
#define T_HELLO		1
#define T_WELCOME	2
#define T_ERROR		4
#define T_PING		5
#define T_PONG		6
#define T_DISCARD	203
#define T_QUEUE_ACK	204
#define TAG_TOPIC	2
#define TAG_SUB_ID	10
#define TAG_BOOKMARK	13
#define T_STORED	102
#define TAG_ERRCODE	24
#define F_FATAL		0x0001
#define MAX_FRAME	(16U * 1024 * 1024)

/* What the daemon answered on one connection. */
struct verdict {
	int	 welcome;
	int	 error;		/* error code, 0 if none */
	int	 fatal;
	int	 closed;
};

/* Milliseconds of the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Store v little-endian in n bytes at p. */
static void
put_le(unsigned char *p, uint64_t v, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Read n little-endian bytes at p. */
static uint64_t
get_le(const unsigned char *p, int n)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return (v);
}

/* Build a frame header (invariant 1). */
static void
hdr(unsigned char *p, uint32_t len, uint16_t type, uint16_t flags,
    uint32_t reqid, uint32_t reserved)
{
	put_le(p, len, 4);
	put_le(p + 4, type, 2);
	put_le(p + 6, flags, 2);
	put_le(p + 8, reqid, 4);
	put_le(p + 12, reserved, 4);
}

/* A HELLO frame (24 bytes): version 1, our pid, no fields. */
static size_t
hello(unsigned char *p, uint16_t flags)
{
	hdr(p, 24, T_HELLO, flags, 1, 0);
	put_le(p + 16, 1, 4);
	put_le(p + 20, (uint64_t)getpid(), 4);
	return (24);
}

/* Connect to the daemon's socket; -1 on error. */
static int
dial(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return (-1);
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Write everything (blocking socket); -1 if the daemon went away. */
static int
send_all(int fd, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Read n bytes before the deadline; 1 done, 0 closed, -1 timeout. */
static int
recv_n(int fd, unsigned char *buf, size_t n, int64_t deadline)
{
	struct pollfd	 pfd;
	size_t		 got = 0;
	ssize_t		 r;
	int64_t		 left;

	while (got < n) {
		if ((left = deadline - now_ms()) <= 0)
			return (-1);
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = recv(fd, buf + got, n - got, 0);
		if (r == 0 || (r == -1 && errno == ECONNRESET))
			return (0);
		if (r == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return (0);
		}
		got += (size_t)r;
	}
	return (1);
}

/* Find the ERRCODE field of an ERROR body. */
static int
errcode(const unsigned char *body, size_t len)
{
	size_t		 off = 0;
	uint32_t	 flen;

	while (off + 6 <= len) {
		flen = (uint32_t)get_le(body + off + 2, 4);
		if (off + 6 + flen > len)
			break;
		if (get_le(body + off, 2) == TAG_ERRCODE && flen == 4)
			return ((int)get_le(body + off + 6, 4));
		off += 6 + flen;
	}
	return (-1);
}

/*
 * Read frames until one of type stop (0: none), the connection closes,
 * or the deadline; note WELCOME, ERRORs and FATAL in v.
 */
static void
read_verdict(int fd, struct verdict *v, int stop, int ms)
{
	unsigned char	 h[HDR_LEN], *body;
	int64_t		 deadline = now_ms() + ms;
	uint32_t	 len;
	int		 r;

	for (;;) {
		if ((r = recv_n(fd, h, HDR_LEN, deadline)) <= 0) {
			v->closed = (r == 0);
			return;
		}
		len = (uint32_t)get_le(h, 4);
		if (len < HDR_LEN || len > MAX_FRAME)
			return;
		if ((body = malloc(len - HDR_LEN + 1)) == NULL)
			return;
		if ((r = recv_n(fd, body, len - HDR_LEN, deadline)) <= 0) {
			v->closed = (r == 0);
			free(body);
			return;
		}
		switch (get_le(h + 4, 2)) {
		case T_WELCOME:
			v->welcome = 1;
			break;
		case T_ERROR:
			if (v->error == 0)
				v->error = errcode(body, len - HDR_LEN);
			if (get_le(h + 6, 2) & F_FATAL)
				v->fatal = 1;
			break;
		}
		free(body);
		if (stop != 0 && (int)get_le(h + 4, 2) == stop)
			return;
	}
}

/* hold: N connections with HELLO, count WELCOMEs and refusals. */
static int
cmd_hold(const char *sock, int n, int ms)
{
	struct verdict	 v;
	unsigned char	 buf[64];
	int		 i, fd, welcome = 0, refused = 0, code = 0;

	for (i = 0; i < n; i++) {
		memset(&v, 0, sizeof v);
		if ((fd = dial(sock)) == -1) {
			refused++;
			continue;
		}
		if (send_all(fd, buf, hello(buf, 0)) == 0)
			read_verdict(fd, &v, T_WELCOME, 3000);
		if (v.welcome)
			welcome++;		/* kept open until exit */
		else {
			refused++;
			if (code == 0)
				code = v.error;
			close(fd);
		}
	}
	printf("welcome=%d refused=%d code=%d\n", welcome, refused, code);
	fflush(stdout);
	usleep((useconds_t)ms * 1000);
	return (0);
}

/* xorshift32 for junk (invariant 3). */
static uint32_t
junk_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return (*s);
}

/* flood: HELLO, then PINGs without reading any reply, for one second. */
static void
flood(int fd, struct verdict *v)
{
	unsigned char	 buf[16 * 4096];
	size_t		 i, off = 0;
	int64_t		 end = now_ms() + 1000;
	unsigned long long total = 0;
	ssize_t		 n;

	for (i = 0; i < sizeof buf / HDR_LEN; i++)
		hdr(buf + i * HDR_LEN, HDR_LEN, T_PING, 0, (uint32_t)i + 2, 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (now_ms() < end) {
		n = send(fd, buf + off, sizeof buf - off, MSG_NOSIGNAL);
		if (n > 0) {
			total += (unsigned long long)n;
			off = (off + (size_t)n) % sizeof buf;
		} else if (n == -1 && errno != EAGAIN && errno != EINTR) {
			v->closed = 1;
			break;
		} else
			usleep(1000);
	}
	fprintf(stderr, "ipcraw: flood wrote %llu bytes in 1 s\n", total);
}

/* bad: one kind of bad input, then what the daemon did. */
static int
cmd_bad(const char *sock, const char *kind)
{
	struct verdict	 v;
	unsigned char	 buf[8192];
	uint32_t	 seed = 0x5eed1234;
	size_t		 len = 0, i;
	int		 fd;

	memset(&v, 0, sizeof v);
	if ((fd = dial(sock)) == -1) {
		perror(sock);
		return (1);
	}
	if (strcmp(kind, "huge") == 0) {
		len = hello(buf, 0);
		hdr(buf + len, 0xfffffff0U, 100, 0, 2, 0);
		len += HDR_LEN;
	} else if (strcmp(kind, "short") == 0) {
		hdr(buf, 8, T_HELLO, 0, 1, 0);
		len = HDR_LEN;
	} else if (strcmp(kind, "junk") == 0) {
		for (i = 0; i < 4096; i++)
			buf[i] = (unsigned char)junk_next(&seed);
		len = 4096;
	} else if (strcmp(kind, "nohello") == 0) {
		hdr(buf, HDR_LEN, T_PING, 0, 1, 0);
		len = HDR_LEN;
	} else if (strcmp(kind, "badflags") == 0)
		len = hello(buf, 0x8000);
	else if (strcmp(kind, "reserved") == 0) {
		len = hello(buf, 0);
		put_le(buf + 12, 7, 4);
	} else if (strcmp(kind, "twohello") == 0) {
		len = hello(buf, 0);
		len += hello(buf + len, 0);
	} else if (strcmp(kind, "servertype") == 0) {
		len = hello(buf, 0);
		hdr(buf + len, HDR_LEN, T_STORED, 0, 2, 0);
		len += HDR_LEN;
	} else if (strcmp(kind, "trunc") == 0) {
		len = hello(buf, 0);
		hdr(buf + len, 64, T_PING, 0, 2, 0);
		len += 10;
	} else if (strcmp(kind, "flood") != 0) {
		fprintf(stderr, "ipcraw: unknown kind %s\n", kind);
		return (1);
	}
	if (strcmp(kind, "flood") == 0) {
		len = hello(buf, 0);
		if (send_all(fd, buf, len) == 0)
			flood(fd, &v);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	} else if (send_all(fd, buf, len) == -1)
		v.closed = 1;
	if (strcmp(kind, "trunc") == 0)
		shutdown(fd, SHUT_WR);
	if (!v.closed)
		read_verdict(fd, &v, 0, 5000);
	printf("%s: error=%d fatal=%d closed=%d\n", kind, v.error, v.fatal,
	    v.closed);
	close(fd);
	return (0);
}

/* Append a string field (with its NUL) at p; returns its length. */
static size_t
str_field(unsigned char *p, uint16_t tag, const char *s)
{
	size_t	n = strlen(s) + 1;

	put_le(p, tag, 2);
	put_le(p + 2, n, 4);
	memcpy(p + 6, s, n);
	return (6 + n);
}

/*
 * One frame of type with two string fields (tag1 s1, tag2 s2), then a
 * PING; print "what: error=C" once the PONG is in.
 */
static int
cmd_two(const char *sock, const char *what, uint16_t type, uint16_t tag1,
    const char *s1, uint16_t tag2, const char *s2)
{
	struct verdict	 v;
	unsigned char	 buf[4096];
	size_t		 len;
	int		 fd;

	if (strlen(s1) + strlen(s2) > 2048) {
		fprintf(stderr, "ipcraw: %s: arguments too long\n", what);
		return (1);
	}
	memset(&v, 0, sizeof v);
	if ((fd = dial(sock)) == -1) {
		perror(sock);
		return (1);
	}
	if (send_all(fd, buf, hello(buf, 0)) == 0)
		read_verdict(fd, &v, T_WELCOME, 5000);
	if (!v.welcome) {
		fprintf(stderr, "ipcraw: no WELCOME (error %d)\n", v.error);
		close(fd);
		return (1);
	}
	len = HDR_LEN;
	len += str_field(buf + len, tag1, s1);
	len += str_field(buf + len, tag2, s2);
	hdr(buf, (uint32_t)len, type, 0, 2, 0);
	hdr(buf + len, HDR_LEN, T_PING, 0, 3, 0);
	len += HDR_LEN;
	if (send_all(fd, buf, len) == 0)
		read_verdict(fd, &v, T_PONG, 5000);
	printf("%s: error=%d\n", what, v.error);
	close(fd);
	return (0);
}

/* Parse the command line and run one command. */
int
main(int argc, char **argv)
{
	const char	*sock = NULL;
	int		 ch;

	lifetime_start("ipcraw", 300, "a request never finished");
	while ((ch = getopt(argc, argv, "S:")) != -1) {
		switch (ch) {
		case 'S':
			sock = optarg;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (sock == NULL || argc < 1)
		goto usage;
	if (strcmp(argv[0], "hold") == 0 && argc == 3)
		return (cmd_hold(sock, atoi(argv[1]), atoi(argv[2])));
	if (strcmp(argv[0], "bad") == 0 && argc == 2)
		return (cmd_bad(sock, argv[1]));
	if (strcmp(argv[0], "discard") == 0 && argc == 3)
		return (cmd_two(sock, "discard", T_DISCARD, TAG_SUB_ID,
		    argv[1], TAG_BOOKMARK, argv[2]));
	if (strcmp(argv[0], "qack") == 0 && argc == 3)
		return (cmd_two(sock, "qack", T_QUEUE_ACK, TAG_TOPIC,
		    argv[1], TAG_BOOKMARK, argv[2]));
usage:
	fprintf(stderr, "usage: ipcraw -S socket hold N MS | bad KIND | "
	    "discard NAME BOOKMARK | qack TOPIC BOOKMARKS\n");
	return (1);
}
