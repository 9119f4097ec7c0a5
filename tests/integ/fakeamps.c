/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * fakeamps: a hostile AMPS "server" for robustness tests.  It listens on
 * a unix socket and answers each successive connection with the next
 * misbehaviour of its script (one per connection), then exits after the
 * last one.  The daemon must survive all of them (PROTOCOL.md §0.4 rule 25:
 * malformed input is fatal for the connection, never for the process).
 *
 *	fakeamps -u socket-path
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#include "../tools/lifetime.h"
#endif

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Send a frame whose body is the string s. */
static void
frame(int fd, const char *s)
{
	size_t		len = strlen(s);
	unsigned char	p[4];

	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
	if (write(fd, p, 4) != 4 || write(fd, s, len) != (ssize_t)len)
		perror("fakeamps: write");
}

/* Send raw bytes. */
static void
raw(int fd, const void *p, size_t len)
{
	if (write(fd, p, len) != (ssize_t)len)
		perror("fakeamps: write");
}

/* Answer the logon cid with status and extra fields (",..." or ""). */
static void
logon_ack(int fd, const char *cid, const char *status, const char *extra)
{
	char	buf[512];

	snprintf(buf, sizeof buf, "{\"c\":\"ack\",\"cid\":\"%s\","
	    "\"a\":\"processed\",\"status\":\"%s\"%s}", cid, status,
	    extra);
	frame(fd, buf);
}

/* Read one frame (the logon) and return its cid in cid. */
static int
read_logon(int fd, char *cid, size_t cidlen)
{
	unsigned char	 p[4];
	char		*body, *c;
	size_t		 len, got = 0;
	ssize_t		 n;

	while (got < 4) {
		if ((n = read(fd, p + got, 4 - got)) <= 0)
			return (-1);
		got += (size_t)n;
	}
	len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
	    p[3];
	if (len > 65536 || (body = calloc(1, len + 1)) == NULL)
		return (-1);
	for (got = 0; got < len; got += (size_t)n)
		if ((n = read(fd, body + got, len - got)) <= 0) {
			free(body);
			return (-1);
		}
	snprintf(cid, cidlen, "0");
	if ((c = strstr(body, "\"cid\":\"")) != NULL)
		snprintf(cid, cidlen, "%.*s", (int)strcspn(c + 7, "\""), c + 7);
	free(body);
	return (0);
}

/* Hold the connection open for ms, discarding input. */
static void
linger_ms(int fd, int ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };
	char		buf[4096];

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	while (read(fd, buf, sizeof buf) > 0)
		continue;
}

/* Parse options, then serve the script, one step per connection. */
int
main(int argc, char **argv)
{
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff, '{' };
	struct sockaddr_un	 sun;
	char			 cid[64];
	const char		*path = NULL;
	int			 ch, lfd, fd, step;

	lifetime_start("fakeamps", 600,
	    "the scenario never closed its connection");
	while ((ch = getopt(argc, argv, "u:")) != -1) {
		if (ch == 'u')
			path = optarg;
		else
			return (1);
	}
	if (path == NULL || strlen(path) >= sizeof sun.sun_path)
		return (1);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	unlink(path);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(lfd, 8) == -1) {
		perror("fakeamps");
		return (1);
	}
	for (step = 0; step < 9; step++) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			perror("fakeamps: accept");
			return (1);
		}
		if (read_logon(fd, cid, sizeof cid) == -1) {
			close(fd);
			step--;
			continue;
		}
		printf("step %d\n", step);
		fflush(stdout);
		switch (step) {
		case 0:		/* length prefix far above the maximum */
			raw(fd, huge, sizeof huge);
			break;
		case 1:		/* not a JSON header */
			frame(fd, "this is not json");
			break;
		case 2:		/* a delivery before the logon ack */
			frame(fd, "{\"c\":\"p\",\"t\":\"x\"}data");
			break;
		case 3:		/* logon refused */
			logon_ack(fd, cid, "failure",
			    ",\"reason\":\"name in use\"");
			break;
		case 4:		/* logon ack with a bad sequence */
			logon_ack(fd, cid, "success", ",\"s\":\"12x\"");
			break;
		case 5:		/* no logon ack at all: logon timeout */
			linger_ms(fd, 3000);
			break;
		case 6:		/* good logon, absurd persisted ack, junk */
			logon_ack(fd, cid, "success", ",\"s\":0");
			frame(fd, "{\"c\":\"ack\",\"a\":\"persisted\","
			    "\"status\":\"success\","
			    "\"s\":18446744073709551615}");
			frame(fd, "{\"c\":\"ack\",\"a\":\"persisted\","
			    "\"status\":\"success\",\"s\":1000000}");
			frame(fd, "{\"c\":\"ack\",\"a\":\"persisted\","
			    "\"status\":\"failure\",\"s\":99,"
			    "\"reason\":\"\\u0001\\n\"}");
			frame(fd, "{\"c\":\"heartbeat\"}");
			frame(fd, "{\"c\":\"unknown_cmd\",\"t\":\"\\u0000\"}");
			frame(fd, "");
			frame(fd, "{\"c\":\"ack\",\"a\":\"persisted\",\"s\":");
			break;
		case 7:		/* a truncated frame, then close */
			raw(fd, "\0\0\0\x20{\"c\":\"a", 12);
			break;
		case 8:		/* a well-behaved session to finish */
			logon_ack(fd, cid, "success", ",\"s\":0");
			linger_ms(fd, 2000);
			break;
		}
		linger_ms(fd, 100);
		close(fd);
	}
	printf("done\n");
	return (0);
}
