/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bench-latency: publish -> subscriber latency through ampsd, beside the
 * raw loopback round trip measured in the same run (issue #5).  It
 * prints figures; it is not a test.
 *
 * Per run (-r runs, medians printed last):
 *   raw tcp   128-byte round trips to an echo process over TCP loopback
 *             (TCP_NODELAY), 10000 at the start and 10000 at the end of
 *             the run, pooled; "raw unix" the same on a unix socket pair.
 *   relay     the floor of that topology: the same frames through a
 *             process that only forwards bytes (blocking read, write) from
 *             one TCP loopback connection to another.
 *   relay2    the floor of the receive topology: TCP -> forwarder -> TCP
 *             -> forwarder -> unix socket -> the subscriber.
 *   frelay    relay's topology with the least AMPS work a server does for
 *             a subscriber: the forwarder frames the input, parses every
 *             header (codec/amps.h, as ampsim and ampsd do) and writes a
 *             delivery frame {"c":"p","t":..,"sub_id":..} with the
 *             payload per message, a burst's frames in one write.  Not a
 *             goal's floor; its p50 / relay says how much of the 1.3x the
 *             protocol work itself takes on this machine.
 *   flog      frelay that also keeps every message it forwards, appended
 *             to memory it never reuses (an in-memory log, as ampsim's
 *             transaction log; pages touched 1 MiB ahead after each
 *             write, as ampsim does).  Not a goal's floor: it says what
 *             keeping messages in memory costs on this machine.
 *   ffile     frelay that also appends every message to a file, 64 KiB
 *             per write() (as ampsim's disk log), keeping none.
 *   ampsim    a raw AMPS publisher -> ampsim -> a raw AMPS subscriber
 *             (two TCP connections straight to ampsim; no ampsd).
 *   receive   a raw AMPS publisher -> ampsim -> ampsd -> libampsipc
 *             subscriber: ampsd's receive hop.
 *   full      libampsipc publish -> ampsd (publish store commit,
 *             synchronous=FULL: the publish goes upstream only after its
 *             fdatasync) -> ampsim -> ampsd -> the same program's
 *             subscription.
 *   normal    the same with durability normal (commit without fsync).
 * Each path runs at every rate of -R (default 10000 and 50000 msg/s) for
 * -T seconds after a 0.2 s warm-up that is not recorded.  Printed per
 * path: p50, p99 and p99.9; at the end the medians over runs with the
 * ratio of p50 to the raw TCP round trip and to the path's topology
 * floor (relay for ampsim, relay2 for the paths through ampsd) of the
 * same run and rate, a line "RESULT {json}" and the goals of issue 13
 * as lines "GOAL name value <= target" for tests/bench/run.sh.
 *
 * Message: 128 bytes of JSON {"t":<send time ns>,"p":"xxx..."} on a
 * topic of its own per path; the publisher is paced as a burst every
 * millisecond (rate/1000 messages), each message stamped with
 * CLOCK_MONOTONIC when it is built, the burst then handed to the kernel
 * with one write (raw) or one ampsipc_write() (libampsipc).  Latency is
 * the subscriber's receive time (CLOCK_MONOTONIC, in the same process
 * and thread, which sleeps in ppoll() between bursts) minus the stamp.
 *
 * Usage: bench-latency [-r runs] [-T secs] [-R rate,rate] [-c paths]
 *	  [-u uriopts] [-k]
 * -c picks paths (comma-separated names from above, default all but the
 * raw ones, which always run); -u appends to ampsd's server URI (e.g. "?tcp_nodelay=false"); -k keeps
 * the work directory.  Programs as in benchenv.c.
 *
 * Invariants:
 *   1. Every process started here is killed by pid (benchenv.c).
 *   2. A path's figures count only messages stamped after its warm-up;
 *      how many of them arrived is printed beside them ("n of sent").
 */

#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amps.h"
#include "ampsipc.h"
#include "benchenv.h"

#define MAX_RUNS	15
#define MAX_RATES	4
#define MSG_LEN		128
#define WARM_NS		200000000ULL	/* 0.2 s, not recorded */
#define TICK_NS		1000000ULL	/* one burst per millisecond */
#define DRAIN_NS	3000000000ULL	/* wait for stragglers */
#define RTT_N		10000
#define RBUF_CAP	(1U << 20)

enum lc_kind { LC_RELAY, LC_RELAY2, LC_FRELAY, LC_FLOG, LC_FFILE,
    LC_AMPSIM, LC_RECEIVE, LC_FULL, LC_NORMAL, LC_N };
static const char *lc_names[LC_N] = { "relay", "relay2", "frelay", "flog",
    "ffile", "ampsim", "receive", "full", "normal" };
static const char *lc_what[LC_N] = {
	"publisher -> forwarder -> subscriber (floor of ampsim)",
	"publisher -> forwarder -> forwarder -unix-> subscriber (floor of "
	    "receive)",
	"publisher -> AMPS frame forwarder -> subscriber (protocol work "
	    "only)",
	"frelay keeping every message in memory (an in-memory log)",
	"frelay writing every message to a file, 64 KiB per write",
	"publisher -> ampsim -> subscriber (no ampsd)",
	"publisher -> ampsim -> ampsd -> program",
	"program -> ampsd (FULL) -> ampsim -> ampsd -> program",
	"program -> ampsd (NORMAL) -> ampsim -> ampsd -> program",
};

/* One path being measured. */
struct lat_case {
	enum lc_kind	 kind;
	int		 pfd;		/* raw publisher or -1 */
	int		 sfd;		/* raw subscriber or -1 */
	struct ampsipc	*h;		/* libampsipc subscriber or NULL */
	char		 topic[32];
	pid_t		 fwd[2];	/* forwarders of the relay paths */
	char		*rbuf;		/* raw subscriber input */
	size_t		 rlen;
	uint64_t	 rec_from;	/* record stamps from here */
	uint64_t	*v;
	size_t		 n, cap;
};

/* One figure: p50/p99/p99.9 in microseconds, samples, messages to expect. */
struct fig {
	double		 p50, p99, p999;
	size_t		 n, sent;
	int		 ok;
};

static struct fig	 raw_tcp[MAX_RUNS], raw_unix[MAX_RUNS];
static struct fig	 figs[MAX_RUNS][LC_N][MAX_RATES];
static struct fig	 med[LC_N][MAX_RATES];		/* over runs */
static double		 medfloor[LC_N][MAX_RATES];	/* p50 / floor */
static unsigned		 rates[MAX_RATES] = { 10000, 50000 };
static size_t		 nrates = 2;
static int		 want_case[LC_N] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };

/* Build the 128-byte payload stamped t. */
static void
payload(char *p, uint64_t t)
{
	int	n;

	n = snprintf(p, MSG_LEN + 1, "{\"t\":%020llu,\"p\":\"",
	    (unsigned long long)t);
	memset(p + n, 'x', MSG_LEN - 2 - (size_t)n);
	memcpy(p + MSG_LEN - 2, "\"}", 2);
}

/* Record one received message whose payload is data. */
static void
lat_record(struct lat_case *lc, const char *data, size_t len)
{
	const char	*p;
	uint64_t	 t, now = bench_now_ns();

	if ((p = memmem(data, len, "{\"t\":", 5)) == NULL)
		return;
	t = strtoull(p + 5, NULL, 10);
	if (t >= lc->rec_from && lc->n < lc->cap && now >= t)
		lc->v[lc->n++] = now - t;
}

/* libampsipc handler. */
static int
lat_handler(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	if (m->command == AMPSIPC_C_PUBLISH)
		lat_record(arg, m->data, m->len);
	return (0);
}

/* Raw subscriber: read what is there and record every whole frame. */
static void
raw_collect(struct lat_case *lc)
{
	uint32_t	 flen;
	size_t		 off;
	ssize_t		 r;

	while ((r = recv(lc->sfd, lc->rbuf + lc->rlen, RBUF_CAP - lc->rlen,
	    MSG_DONTWAIT)) > 0) {
		lc->rlen += (size_t)r;
		for (off = 0; lc->rlen - off >= 4; off += 4 + flen) {
			flen = (uint32_t)(uint8_t)lc->rbuf[off] << 24 |
			    (uint32_t)(uint8_t)lc->rbuf[off + 1] << 16 |
			    (uint32_t)(uint8_t)lc->rbuf[off + 2] << 8 |
			    (uint32_t)(uint8_t)lc->rbuf[off + 3];
			if (flen > RBUF_CAP - 4)
				bench_die("raw subscriber: frame too big");
			if (lc->rlen - off - 4 < flen)
				break;
			lat_record(lc, lc->rbuf + off + 4, flen);
		}
		memmove(lc->rbuf, lc->rbuf + off, lc->rlen - off);
		lc->rlen -= off;
	}
	if (r == 0)
		bench_die("raw subscriber: ampsim closed the connection");
}

/* Receive until the monotonic clock reaches until. */
static void
lat_wait(struct lat_case *lc, uint64_t until)
{
	struct pollfd	 pfd;
	struct timespec	 ts;
	uint64_t	 now, left;

	while ((now = bench_now_ns()) < until) {
		left = until - now;
		ts.tv_sec = (time_t)(left / 1000000000ULL);
		ts.tv_nsec = (long)(left % 1000000000ULL);
		pfd.fd = lc->sfd != -1 ? lc->sfd : ampsipc_fd(lc->h);
		pfd.events = POLLIN;
		if (lc->h != NULL && ampsipc_outq(lc->h) != 0)
			pfd.events |= POLLOUT;
		pfd.revents = 0;
		if (ppoll(&pfd, 1, &ts, NULL) == -1 && errno != EINTR)
			bench_die("ppoll");
		if (pfd.revents == 0)
			continue;
		if (lc->sfd != -1)
			raw_collect(lc);
		else if (ampsipc_poll(lc->h, 0) == -1)
			bench_die("ampsipc_poll");
	}
}

/* A connected TCP loopback pair, TCP_NODELAY on both ends. */
static void
tcp_pair(int sv[2])
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof sin;
	int			l, one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(l, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(l, 1) == -1 ||
	    getsockname(l, (struct sockaddr *)&sin, &slen) == -1 ||
	    (sv[0] = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(sv[0], (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    (sv[1] = accept(l, NULL, NULL)) == -1)
		bench_die("tcp pair");
	close(l);
	setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Fork a forwarder: bytes from in to out until EOF; closes both here. */
static pid_t
forwarder(int in, int out, int other1, int other2)
{
	char	buf[65536];
	ssize_t	r, w, off;
	pid_t	pid;

	if ((pid = fork()) == -1)
		bench_die("fork");
	if (pid == 0) {		/* never bench_die() here: not our servers */
		close(other1);
		close(other2);
		while ((r = read(in, buf, sizeof buf)) > 0)
			for (off = 0; off < r; off += w)
				if ((w = write(out, buf + off,
				    (size_t)(r - off))) <= 0)
					_exit(1);
		_exit(0);
	}
	close(in);
	close(out);
	return (pid);
}

/* What the frame forwarder does with each message besides forwarding. */
#define KEEP_AHEAD	(1UL << 20)	/* flog: pages touched this far ahead */
#define KEEP_SPACE	(8UL << 30)	/* flog: address space reserved */
#define KEEP_CHUNK	65536		/* ffile: bytes per write() */

struct keep {
	enum lc_kind	 kind;		/* LC_FRELAY (nothing), LC_FLOG, LC_FFILE */
	char		*mem;		/* flog: the log; ffile: the chunk */
	size_t		 len;		/* bytes in mem */
	size_t		 touched;	/* flog: mem[0..touched) paged in */
	int		 fd;		/* ffile: the file (unlinked) */
};

/* Set the keeping up in the forwarder; 0, or -1 (it then exits). */
static int
keep_init(struct keep *k, enum lc_kind kind)
{
	char	path[sizeof bench_dir + 32];

	memset(k, 0, sizeof *k);
	k->kind = kind;
	k->fd = -1;
	if (kind == LC_FLOG) {
		k->mem = mmap(NULL, KEEP_SPACE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		return (k->mem == MAP_FAILED ? -1 : 0);
	}
	if (kind == LC_FFILE) {
		snprintf(path, sizeof path, "%s/ffile.%d", bench_dir,
		    (int)getpid());
		if ((k->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0600)) == -1)
			return (-1);
		unlink(path);
		return ((k->mem = malloc(KEEP_CHUNK)) == NULL ? -1 : 0);
	}
	return (0);
}

/* Keep one message (its whole frame body); 0, or -1. */
static int
keep_msg(struct keep *k, const char *body, uint32_t blen)
{
	if (k->kind == LC_FLOG) {
		if (k->len + blen > KEEP_SPACE)
			return (-1);
		memcpy(k->mem + k->len, body, blen);
		k->len += blen;
	} else if (k->kind == LC_FFILE) {
		if (blen > KEEP_CHUNK)
			return (-1);
		if (k->len + blen > KEEP_CHUNK) {
			if (write(k->fd, k->mem, k->len) != (ssize_t)k->len)
				return (-1);
			k->len = 0;
		}
		memcpy(k->mem + k->len, body, blen);
		k->len += blen;
	}
	return (0);
}

/* After a burst's write, flog pages in the log ahead of use. */
static void
keep_ahead(struct keep *k)
{
	if (k->kind != LC_FLOG)
		return;
	if (k->touched < k->len)
		k->touched = k->len & ~4095UL;
	for (; k->touched < k->len + KEEP_AHEAD && k->touched < KEEP_SPACE;
	    k->touched += 4096)
		((volatile char *)k->mem)[k->touched] = 0;
}

/*
 * Fork the AMPS frame forwarder (frelay, flog, ffile): frames from in,
 * each parsed, kept as kind says, and written to out as a delivery to
 * subscription "r", the frames of one read in one write, until EOF;
 * closes both here.  Any bad frame ends it (the subscriber then sees
 * fewer messages than were sent).
 */
static pid_t
frame_forwarder(int in, int out, int other1, int other2, enum lc_kind kind)
{
	struct keep		 keep;
	struct amps_reader	 rd;
	struct amps_hdr		 h;
	struct amps_wr		 w;
	const struct amps_view	*t;
	const char		*body;
	char			*p, *obuf;
	size_t			 n, olen, ocap = RBUF_CAP;
	uint32_t		 blen;
	ssize_t			 r, wn;
	long long		 fl;
	pid_t			 pid;

	if ((pid = fork()) == -1)
		bench_die("fork");
	if (pid != 0) {
		close(in);
		close(out);
		return (pid);
	}
	close(other1);		/* never bench_die() here: not our servers */
	close(other2);
	amps_reader_init(&rd, RBUF_CAP / 2);
	if ((obuf = malloc(ocap)) == NULL || keep_init(&keep, kind) == -1)
		_exit(1);
	for (;;) {
		if (amps_reader_space(&rd, 65536, &p, &n) != 0 ||
		    (r = read(in, p, n)) <= 0)
			_exit(0);
		amps_reader_commit(&rd, (size_t)r);
		olen = 0;
		while (amps_reader_next(&rd, &body, &blen) == 1) {
			if (amps_hdr_parse(body, blen, &h) != 0 ||
			    (t = amps_hdr_view(&h, AMPS_F_T)) == NULL ||
			    keep_msg(&keep, body, blen) == -1)
				_exit(1);
			amps_wr_begin(&w, obuf + olen, ocap - olen);
			amps_wr_cstr(&w, AMPS_F_C, "p");
			amps_wr_str(&w, AMPS_F_T, t->p, t->len);
			amps_wr_cstr(&w, AMPS_F_SUB_ID, "r");
			fl = amps_wr_finish(&w, body + h.hdr_len,
			    blen - h.hdr_len);
			if (fl < 0 || (size_t)fl > ocap - olen)
				_exit(1);
			olen += (size_t)fl;
		}
		for (n = 0; n < olen; n += (size_t)wn)
			if ((wn = write(out, obuf + n, olen - n)) <= 0)
				_exit(1);
		keep_ahead(&keep);
	}
}

/* The relay paths: publisher end in pfd, subscriber end in sfd. */
static void
relay_setup(struct lat_case *lc)
{
	int	a[2], b[2], u[2];

	tcp_pair(a);
	if (lc->kind != LC_RELAY2) {
		tcp_pair(b);
		lc->fwd[0] = lc->kind == LC_RELAY ?
		    forwarder(a[1], b[0], a[0], b[1]) :
		    frame_forwarder(a[1], b[0], a[0], b[1], lc->kind);
		lc->pfd = a[0];
		lc->sfd = b[1];
		return;
	}
	tcp_pair(b);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, u) == -1)
		bench_die("socketpair");
	lc->fwd[0] = forwarder(a[1], b[0], a[0], b[1]);
	lc->fwd[1] = forwarder(b[1], u[0], a[0], u[1]);
	lc->pfd = a[0];
	lc->sfd = u[1];
}

/* Set a path up: connections and the subscription. */
static void
lat_setup(struct lat_case *lc, enum lc_kind kind, unsigned rate, int secs)
{
	struct ampsipc_command	*c;
	char			 hdr[256], frame[300];
	size_t			 n;

	memset(lc, 0, sizeof *lc);
	lc->kind = kind;
	lc->pfd = lc->sfd = -1;
	snprintf(lc->topic, sizeof lc->topic, "lat-%s-%u", lc_names[kind],
	    rate);
	lc->cap = (size_t)rate * (size_t)secs + 1000;
	if ((lc->v = calloc(lc->cap, sizeof *lc->v)) == NULL)
		bench_die("out of memory");
	if (kind < LC_AMPSIM) {		/* the forwarder paths */
		relay_setup(lc);
		if ((lc->rbuf = malloc(RBUF_CAP)) == NULL)
			bench_die("out of memory");
		return;
	}
	if (kind == LC_AMPSIM || kind == LC_RECEIVE)
		lc->pfd = bench_raw_logon();
	if (kind == LC_AMPSIM) {
		lc->sfd = bench_raw_logon();
		if ((lc->rbuf = malloc(RBUF_CAP)) == NULL)
			bench_die("out of memory");
		snprintf(hdr, sizeof hdr, "{\"c\":\"subscribe\",\"cid\":\"2\","
		    "\"t\":\"%s\",\"sub_id\":\"r\",\"a\":\"processed\"}",
		    lc->topic);
		n = bench_amps_frame(frame, sizeof frame, hdr, "", 0);
		bench_write_all(lc->sfd, frame, n);
		usleep(100000);
		bench_raw_drain(lc->sfd);	/* the processed ack */
		return;
	}
	lc->h = bench_open();
	c = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE);
	ampsipc_cmd_set_str(c, AMPSIPC_FIELD_TOPIC, lc->topic);
	if (ampsipc_execute_async(lc->h, c, lat_handler, lc) == -1)
		bench_die("subscribe through ampsd");
	ampsipc_cmd_free(c);
}

/* Close a path's connections. */
static void
lat_teardown(struct lat_case *lc)
{
	int	i;

	if (lc->pfd != -1)
		close(lc->pfd);
	if (lc->sfd != -1)
		close(lc->sfd);
	if (lc->h != NULL)
		ampsipc_close(lc->h);
	for (i = 0; i < 2; i++)
		if (lc->fwd[i] > 0) {
			kill(lc->fwd[i], SIGKILL);
			waitpid(lc->fwd[i], NULL, 0);
		}
	free(lc->rbuf);
	free(lc->v);
}

/* Run one path at rate msg/s for secs after the warm-up; fill *f. */
static void
lat_run(enum lc_kind kind, unsigned rate, int secs, struct fig *f)
{
	struct lat_case	 lc;
	char		 msg[MSG_LEN + 1], *burst;
	static const char hdr_fmt[] = "{\"c\":\"p\",\"t\":\"%s\"}";
	char		 hdr[64];
	uint64_t	 start, end, tick, t, want, sent = 0, sent_rec = 0;
	size_t		 blen, bcap, n;

	lat_setup(&lc, kind, rate, secs);
	snprintf(hdr, sizeof hdr, hdr_fmt, lc.topic);
	bcap = ((size_t)rate / 1000 + 2) * (4 + 64 + MSG_LEN);
	if ((burst = malloc(bcap)) == NULL)
		bench_die("out of memory");
	start = bench_now_ns();
	lc.rec_from = start + WARM_NS;
	end = lc.rec_from + (uint64_t)secs * 1000000000ULL;
	for (tick = start; tick < end; tick += TICK_NS) {
		want = ((tick - start) / TICK_NS + 1) * rate / 1000;
		for (blen = 0; sent < want; sent++) {
			t = bench_now_ns();
			payload(msg, t);
			if (t >= lc.rec_from)
				sent_rec++;
			if (lc.pfd != -1) {
				n = bench_amps_frame(burst + blen, bcap - blen,
				    hdr, msg, MSG_LEN);
				if (n == 0)
					bench_die("burst buffer too small");
				blen += n;
			} else if (ampsipc_publish(lc.h, lc.topic, msg,
			    MSG_LEN, NULL, NULL) == -1)
				bench_die("ampsipc_publish");
		}
		if (lc.pfd != -1) {
			bench_write_all(lc.pfd, burst, blen);
			bench_raw_drain(lc.pfd);
		} else if (ampsipc_write(lc.h) == -1)
			bench_die("ampsipc_write");
		lat_wait(&lc, tick + TICK_NS);
	}
	while (lc.n < sent_rec && bench_now_ns() < end + DRAIN_NS)
		lat_wait(&lc, bench_now_ns() + 10000000ULL);
	f->n = lc.n;
	f->sent = sent_rec;
	f->p50 = (double)bench_pct(lc.v, lc.n, 50) / 1e3;
	f->p99 = (double)bench_pct(lc.v, lc.n, 99) / 1e3;
	f->p999 = (double)bench_quantile(lc.v, lc.n, 0.999) / 1e3;
	f->ok = lc.n > 0;
	printf("  %-8s %6u msg/s: p50 %7.1f us  p99 %8.1f us  p99.9 %8.1f us"
	    "  (%zu of %zu)  %s\n", lc_names[kind], rate, f->p50, f->p99,
	    f->p999, f->n, f->sent, lc_what[kind]);
	fflush(stdout);
	free(burst);
	lat_teardown(&lc);
}

/* Raw round trips at the start and end of a run, pooled into *f. */
static void
raw_rtt(int unix_sock, uint64_t *v, int second, struct fig *f)
{
	bench_rtt(unix_sock, v + (second ? RTT_N : 0), RTT_N);
	if (!second)
		return;
	f->n = f->sent = 2 * RTT_N;
	f->p50 = (double)bench_pct(v, 2 * RTT_N, 50) / 1e3;
	f->p99 = (double)bench_pct(v, 2 * RTT_N, 99) / 1e3;
	f->p999 = (double)bench_quantile(v, 2 * RTT_N, 0.999) / 1e3;
	f->ok = 1;
	printf("  raw %-4s round trip, 128 B: p50 %7.1f us  p99 %8.1f us\n",
	    unix_sock ? "unix" : "tcp", f->p50, f->p99);
}

/* Sort helper for doubles. */
static int
cmpd(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* Median of v[0..n) (sorts v). */
static double
median(double *v, size_t n)
{
	if (n == 0)
		return (0);
	qsort(v, n, sizeof *v, cmpd);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

/* The floor of a path's topology (relay, relay2), or -1 for none. */
static int
floor_of(enum lc_kind k)
{
	switch (k) {
	case LC_FRELAY:
	case LC_FLOG:
	case LC_FFILE:
	case LC_AMPSIM:
		return (LC_RELAY);
	case LC_RECEIVE:
	case LC_FULL:
	case LC_NORMAL:
		return (LC_RELAY2);
	default:
		return (-1);
	}
}

/*
 * Print the medians over runs as a table, then the RESULT line for
 * tests/bench/run.sh: per path and rate the medians, the ratio of p50 to
 * the same run's raw TCP p50 and to its topology's floor (relay for
 * ampsim, relay2 for the paths through ampsd) at the same rate.
 */
static void
summary(int runs)
{
	double	 a[MAX_RUNS], b[MAX_RUNS], c[MAX_RUNS], r[MAX_RUNS];
	double	 fl[MAX_RUNS], rawp50;
	size_t	 i, k, na, nf;
	int	 run, f, first = 1;
	char	 fr[32];

	for (run = 0; run < runs; run++)
		a[run] = raw_tcp[run].p50;
	rawp50 = median(a, (size_t)runs);
	for (run = 0; run < runs; run++)
		a[run] = raw_tcp[run].p99;
	printf("\nmedians of %d runs (ratios: the median of each run's p50 / "
	    "that run's raw TCP p50, and / that run's floor of the same "
	    "topology at the same rate)\n\n", runs);
	printf("| path | rate msg/s | p50 us | p99 us | p99.9 us | "
	    "p50 / raw TCP | p50 / floor |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|\n");
	printf("| raw TCP loopback round trip, 128 B | - | %.1f | %.1f | - | "
	    "1 | - |\n", rawp50, median(a, (size_t)runs));
	for (run = 0; run < runs; run++) {
		a[run] = raw_unix[run].p50;
		b[run] = raw_unix[run].p99;
		r[run] = raw_unix[run].p50 / raw_tcp[run].p50;
	}
	printf("| raw unix socket round trip, 128 B | - | %.1f | %.1f | - | "
	    "%.2f | - |\n", median(a, (size_t)runs), median(b, (size_t)runs),
	    median(r, (size_t)runs));
	for (k = 0; k < LC_N; k++)
		for (i = 0; i < nrates && want_case[k]; i++) {
			f = floor_of((enum lc_kind)k);
			for (na = 0, nf = 0, run = 0; run < runs; run++) {
				if (!figs[run][k][i].ok)
					continue;
				a[na] = figs[run][k][i].p50;
				b[na] = figs[run][k][i].p99;
				c[na] = figs[run][k][i].p999;
				r[na] = figs[run][k][i].p50 / raw_tcp[run].p50;
				na++;
				if (f >= 0 && figs[run][f][i].ok)
					fl[nf++] = figs[run][k][i].p50 /
					    figs[run][f][i].p50;
			}
			if (nf > 0)
				snprintf(fr, sizeof fr, "%.2f", median(fl, nf));
			else
				snprintf(fr, sizeof fr, "-");
			printf("| %s: %s | %u | %.1f | %.1f | %.1f | %.2f | "
			    "%s |\n", lc_names[k], lc_what[k], rates[i],
			    median(a, na), median(b, na), median(c, na),
			    median(r, na), fr);
			med[k][i].p50 = median(a, na);
			med[k][i].p99 = median(b, na);
			med[k][i].p999 = median(c, na);
			medfloor[k][i] = nf > 0 ? median(fl, nf) : 0;
		}
	printf("RESULT {\"bench\":\"latency\",\"runs\":%d,"
	    "\"raw_tcp_p50_us\":%.1f,\"paths\":[", runs, rawp50);
	for (k = 0; k < LC_N; k++)
		for (i = 0; i < nrates && want_case[k]; i++) {
			printf("%s{\"path\":\"%s\",\"rate\":%u,\"p50_us\":%.1f,"
			    "\"p99_us\":%.1f,\"p999_us\":%.1f", first ? "" : ",",
			    lc_names[k], rates[i], med[k][i].p50,
			    med[k][i].p99, med[k][i].p999);
			if (medfloor[k][i] > 0)
				printf(",\"p50_floor_ratio\":%.3f",
				    medfloor[k][i]);
			printf("}");
			first = 0;
		}
	printf("]}\n");
	/* The goals of issue 13: ampsim and the receive path. */
	for (k = 0; k < LC_N; k++)
		for (i = 0; i < nrates && want_case[k]; i++) {
			if (k != LC_AMPSIM && k != LC_RECEIVE)
				continue;
			if (medfloor[k][i] > 0)
				printf("GOAL %s@%u:p50/floor %.3f <= 1.3\n",
				    lc_names[k], rates[i], medfloor[k][i]);
			if (rates[i] >= 50000)
				printf("GOAL %s@%u:p99_us %.1f <= 2000\n",
				    lc_names[k], rates[i], med[k][i].p99);
		}
}

/* Parse -c: comma-separated path names. */
static void
parse_cases(char *s)
{
	char	*tok;
	size_t	 k;

	memset(want_case, 0, sizeof want_case);
	while ((tok = strsep(&s, ",")) != NULL) {
		for (k = 0; k < LC_N; k++)
			if (strcmp(tok, lc_names[k]) == 0)
				break;
		if (k == LC_N)
			bench_die("-c: paths are relay, relay2, frelay, "
			    "flog, ffile, ampsim, receive, full, normal");
		want_case[k] = 1;
	}
}

/* Parse -R: comma-separated rates. */
static void
parse_rates(char *s)
{
	char	*tok;

	for (nrates = 0; (tok = strsep(&s, ",")) != NULL &&
	    nrates < MAX_RATES; nrates++)
		if ((rates[nrates] = (unsigned)strtoul(tok, NULL, 10)) < 1000 ||
		    rates[nrates] > 500000)
			bench_die("-R: rates from 1000 to 500000 msg/s");
}

int
main(int argc, char **argv)
{
	static uint64_t	 rv_tcp[2 * RTT_N], rv_unix[2 * RTT_N];
	const char	*uriopts = "";
	enum lc_kind	 k;
	size_t		 i;
	int		 ch, secs = 2, runs = 5, keep = 0, run;

	while ((ch = getopt(argc, argv, "c:r:T:R:u:k")) != -1) {
		switch (ch) {
		case 'c':
			parse_cases(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			if (runs < 1 || runs > MAX_RUNS)
				bench_die("-r: 1 to 15 runs");
			break;
		case 'T':
			if ((secs = atoi(optarg)) < 1 || secs > 60)
				bench_die("-T: 1 to 60 seconds");
			break;
		case 'R':
			parse_rates(optarg);
			break;
		case 'u':
			uriopts = optarg;
			break;
		case 'k':
			keep = 1;
			break;
		default:
			fprintf(stderr, "usage: bench-latency [-r runs] "
			    "[-T secs] [-R rate,rate] [-c paths] [-u uriopts] "
			    "[-k]\n");
			return (2);
		}
	}
	bench_init("bench-latency");
	for (run = 0; run < runs; run++) {
		printf("run %d\n", run + 1);
		raw_rtt(0, rv_tcp, 0, &raw_tcp[run]);
		raw_rtt(1, rv_unix, 0, &raw_unix[run]);
		for (i = 0; i < nrates; i++)
			for (k = LC_RELAY; k <= LC_FFILE; k++)
				if (want_case[k])
					lat_run(k, rates[i], secs,
					    &figs[run][k][i]);
		if (want_case[LC_AMPSIM] || want_case[LC_RECEIVE] ||
		    want_case[LC_FULL]) {
			bench_start("full", uriopts);
			for (i = 0; i < nrates; i++)
				for (k = LC_AMPSIM; k <= LC_FULL; k++)
					if (want_case[k])
						lat_run(k, rates[i], secs,
						    &figs[run][k][i]);
			bench_stop();
		}
		if (want_case[LC_NORMAL]) {
			bench_start("normal", uriopts);
			for (i = 0; i < nrates; i++)
				lat_run(LC_NORMAL, rates[i], secs,
				    &figs[run][LC_NORMAL][i]);
			bench_stop();
		}
		raw_rtt(0, rv_tcp, 1, &raw_tcp[run]);
		raw_rtt(1, rv_unix, 1, &raw_unix[run]);
	}
	summary(runs);
	bench_done(keep);
	return (0);
}
