/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * directpub: an in-process publisher with no store, the ceiling the
 * daemon's publish path is measured against (docs/BENCHMARKS.md).  It
 * does what an AMPS HA client does on its hot path minus the store:
 * frames {"c":"p","t":T,"a":"persisted","s":N} written with the codec
 * into a 64 KiB output buffer (as conn.c does), one non-blocking socket
 * polled for both directions, persisted acks parsed with the codec's
 * reader.  Nagle is left as ampsd leaves it (tcp_nodelay off).
 *
 * Invariants:
 *  1. A figure is returned only when the server acknowledged every
 *     message as persisted (ack s == n) with status success.
 *  2. The descriptor is closed before it returns.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amps.h"
#include "benchutil.h"
#include "directpub.h"

#define DP_OUT		(64 * 1024)
#define DP_TIMEOUT_MS	600000

/* One connection's state. */
struct dp {
	int			 fd;
	struct amps_reader	 rd;
	uint64_t		 acked;		/* persisted up to */
	int			 logged_on;
	int			 failed;
};

/* Handle every whole frame read so far. */
static void
dp_frames(struct dp *d)
{
	struct amps_hdr	 h;
	const char	*body;
	uint32_t	 blen;
	uint64_t	 s;
	int		 rc;

	while ((rc = amps_reader_next(&d->rd, &body, &blen)) == 1) {
		if (amps_hdr_parse(body, blen, &h) != 0 ||
		    amps_hdr_cmd(&h) != AMPS_CMD_ACK)
			continue;
		if (!amps_hdr_eq(&h, AMPS_F_STATUS, "success")) {
			fprintf(stderr, "directpub: a failure ack: %.*s\n",
			    (int)blen, body);
			d->failed = 1;
			return;
		}
		if (amps_hdr_eq(&h, AMPS_F_A, "processed"))
			d->logged_on = 1;
		else if (amps_hdr_eq(&h, AMPS_F_A, "persisted") &&
		    amps_hdr_u64(&h, AMPS_F_S, &s) == 0 && s > d->acked)
			d->acked = s;
	}
	if (rc < 0)
		d->failed = 1;
}

/* Read what is there; -1 on EOF or error. */
static int
dp_read(struct dp *d)
{
	char	*p;
	size_t	 cap;
	ssize_t	 r;

	if (amps_reader_space(&d->rd, 64 * 1024, &p, &cap) != 0)
		return (-1);
	r = read(d->fd, p, cap);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
		return (-1);
	if (r > 0) {
		amps_reader_commit(&d->rd, (size_t)r);
		dp_frames(d);
	}
	return (d->failed ? -1 : 0);
}

/* Connect and log on with a fresh client name; -1 on failure. */
static int
dp_logon(struct dp *d, int port)
{
	static int		 k;
	struct sockaddr_in	 sin;
	struct amps_wr		 w;
	struct pollfd		 pfd;
	char			 buf[512], name[64];
	long long		 n;
	double			 end;

	if ((d->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(d->fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		return (-1);
	snprintf(name, sizeof name, "bench-direct-%ld-%d", (long)getpid(),
	    ++k);
	amps_wr_begin(&w, buf, sizeof buf);
	amps_wr_cstr(&w, AMPS_F_C, "logon");
	amps_wr_cstr(&w, AMPS_F_CID, "1");
	amps_wr_cstr(&w, AMPS_F_CLIENT_NAME, name);
	amps_wr_cstr(&w, AMPS_F_A, "processed");
	amps_wr_cstr(&w, AMPS_F_VERSION, "5.3.5.0");
	n = amps_wr_finish(&w, NULL, 0);
	if (n < 0 || (size_t)n > sizeof buf ||
	    write(d->fd, buf, (size_t)n) != n)
		return (-1);
	if (fcntl(d->fd, F_SETFL, O_NONBLOCK) == -1)
		return (-1);
	end = bu_now() + 20;
	while (!d->logged_on && bu_now() < end) {
		pfd.fd = d->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) > 0 && dp_read(d) == -1)
			return (-1);
	}
	return (d->logged_on ? 0 : -1);
}

/* Publish n messages and wait for their persisted ack (invariant 1). */
double
directpub_run(int port, const char *topic, long n, const void *payload,
    size_t len)
{
	struct dp	 d;
	struct amps_wr	 w;
	struct pollfd	 pfd;
	char		*out;
	size_t		 olen = 0, off = 0;
	uint64_t	 next = 1;
	long long	 hl;
	double		 t0 = 0, t1 = 0, end;
	ssize_t		 wr;

	memset(&d, 0, sizeof d);
	amps_reader_init(&d.rd, AMPS_FRAME_MAX_DEFAULT);
	if ((out = malloc(DP_OUT)) == NULL || dp_logon(&d, port) == -1) {
		fprintf(stderr, "directpub: cannot log on to port %d\n", port);
		goto done;
	}
	t0 = bu_now();
	end = t0 + DP_TIMEOUT_MS / 1000.0;
	while (d.acked < (uint64_t)n && bu_now() < end) {
		/* Fill the buffer with whole frames, as conn.c does. */
		if (off == olen)
			off = olen = 0;
		while (next <= (uint64_t)n) {
			amps_wr_begin(&w, out + olen, DP_OUT - olen);
			amps_wr_cstr(&w, AMPS_F_C, "p");
			amps_wr_cstr(&w, AMPS_F_T, topic);
			amps_wr_cstr(&w, AMPS_F_A, "persisted");
			amps_wr_u64(&w, AMPS_F_S, next);
			hl = amps_wr_finish_head(&w, len);
			if (hl < 0 || olen + (size_t)hl + len > DP_OUT)
				break;
			memcpy(out + olen + hl, payload, len);
			olen += (size_t)hl + len;
			next++;
		}
		pfd.fd = d.fd;
		pfd.events = POLLIN | (off < olen ? POLLOUT : 0);
		if (poll(&pfd, 1, 1000) == -1 && errno != EINTR)
			break;
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    dp_read(&d) == -1)
			break;
		if (pfd.revents & POLLOUT) {
			wr = write(d.fd, out + off, olen - off);
			if (wr < 0 && errno != EAGAIN && errno != EINTR)
				break;
			if (wr > 0)
				off += (size_t)wr;
		}
	}
	if (d.acked == (uint64_t)n)
		t1 = bu_now();
	else
		fprintf(stderr, "directpub: %llu of %ld persisted\n",
		    (unsigned long long)d.acked, n);
done:
	if (d.fd > 0)
		close(d.fd);
	amps_reader_free(&d.rd);
	free(out);
	return (t1 > 0 ? (double)n / (t1 - t0) : 0);
}
