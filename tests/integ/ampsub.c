/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsub: a minimal blocking AMPS client for the integration tests.  It
 * logs on to a server (TCP 127.0.0.1 or any host:port), subscribes to a
 * topic with a bookmark (default EPOCH, i.e. replay the transaction log
 * from the start) and prints each delivered payload on its own line,
 * until the replay is completed (the `completed` ack) and no message has
 * arrived for the quiet time, or the overall timeout passes.
 *
 *	ampsub -p port [-h host] [-t topic] [-b bookmark] [-q quiet-ms]
 *	       [-T timeout-ms] [-n client-name]
 *
 * Exit status: 0 after the replay completed, 1 on errors, 2 on timeout.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amps.h"
#include "../tools/lifetime.h"

/* Monotonic milliseconds. */
static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Write all of buf or exit. */
static void
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			perror("ampsub: write");
			exit(1);
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Parse options, then run the whole client (see the top comment). */
int
main(int argc, char **argv)
{
	const char		*host = "127.0.0.1", *port = NULL;
	const char		*topic = "orders", *bm = AMPS_BOOKMARK_EPOCH;
	const char		*name = NULL;
	long long		 quiet = 1000, timeout = 30000, start, last;
	struct addrinfo		 hints, *res;
	struct amps_reader	 rd;
	struct amps_hdr		 h;
	struct amps_wr		 w;
	struct pollfd		 pfd;
	char			 buf[4096], dflt[64], *p;
	const char		*body;
	uint32_t		 blen;
	size_t			 n;
	ssize_t			 r;
	long long		 fl;
	int			 ch, fd, rc, completed = 0;

	lifetime_start("ampsub", 600, "the replay never completed");
	while ((ch = getopt(argc, argv, "b:h:n:p:q:t:T:")) != -1) {
		switch (ch) {
		case 'b': bm = optarg; break;
		case 'h': host = optarg; break;
		case 'n': name = optarg; break;
		case 'p': port = optarg; break;
		case 'q': quiet = atoll(optarg); break;
		case 't': topic = optarg; break;
		case 'T': timeout = atoll(optarg); break;
		default:
			fprintf(stderr, "usage: ampsub -p port [-h host] "
			    "[-t topic] [-b bm] [-q ms] [-T ms] [-n name]\n");
			return (1);
		}
	}
	if (port == NULL)
		return (1);
	if (name == NULL) {
		snprintf(dflt, sizeof dflt, "ampsub-%ld", (long)getpid());
		name = dflt;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		fprintf(stderr, "ampsub: cannot resolve %s\n", host);
		return (1);
	}
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd == -1 || connect(fd, res->ai_addr, res->ai_addrlen) == -1) {
		perror("ampsub: connect");
		return (1);
	}
	freeaddrinfo(res);

	amps_wr_begin(&w, buf, sizeof buf);
	amps_wr_cstr(&w, AMPS_F_C, "logon");
	amps_wr_cstr(&w, AMPS_F_CID, "0");
	amps_wr_cstr(&w, AMPS_F_CLIENT_NAME, name);
	amps_wr_cstr(&w, AMPS_F_A, "processed");
	amps_wr_cstr(&w, AMPS_F_VERSION, "0.1.0.0.0:c");
	amps_wr_cstr(&w, AMPS_F_MT, "json");
	fl = amps_wr_finish(&w, NULL, 0);
	write_all(fd, buf, (size_t)fl);
	amps_wr_begin(&w, buf, sizeof buf);
	amps_wr_cstr(&w, AMPS_F_C, "subscribe");
	amps_wr_cstr(&w, AMPS_F_CID, "1");
	amps_wr_cstr(&w, AMPS_F_T, topic);
	amps_wr_cstr(&w, AMPS_F_SUB_ID, "1");
	amps_wr_cstr(&w, AMPS_F_BM, bm);
	amps_wr_cstr(&w, AMPS_F_A, "processed,completed");
	fl = amps_wr_finish(&w, NULL, 0);
	write_all(fd, buf, (size_t)fl);

	amps_reader_init(&rd, AMPS_FRAME_MAX_DEFAULT);
	start = last = now_ms();
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (now_ms() - start > timeout) {
			fprintf(stderr, "ampsub: timed out\n");
			return (2);
		}
		if (completed && now_ms() - last > quiet)
			break;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (amps_reader_space(&rd, 65536, &p, &n) == -1)
			return (1);
		if ((r = read(fd, p, n)) <= 0) {
			fprintf(stderr, "ampsub: server closed\n");
			return (1);
		}
		amps_reader_commit(&rd, (size_t)r);
		while ((rc = amps_reader_next(&rd, &body, &blen)) == 1) {
			if (amps_hdr_parse(body, blen, &h) != 0) {
				fprintf(stderr, "ampsub: bad header\n");
				return (1);
			}
			switch (amps_hdr_cmd(&h)) {
			case AMPS_CMD_PUBLISH:
				fwrite(body + h.hdr_len, 1, blen - h.hdr_len,
				    stdout);
				fputc('\n', stdout);
				last = now_ms();
				break;
			case AMPS_CMD_ACK:
				if (!amps_hdr_eq(&h, AMPS_F_STATUS,
				    "success")) {
					fprintf(stderr, "ampsub: failure ack: "
					    "%.*s\n", (int)h.hdr_len, body);
					return (1);
				}
				if (amps_hdr_eq(&h, AMPS_F_A, "completed")) {
					completed = 1;
					last = now_ms();
				}
				break;
			case AMPS_CMD_HEARTBEAT:
			default:
				break;
			}
		}
		if (rc < 0)
			return (1);
	}
	amps_reader_free(&rd);
	close(fd);
	fflush(stdout);
	return (0);
}
