/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Tests for libampsipc against a small fake daemon: a forked child that
 * listens on a unix socket in a temporary directory and answers with
 * the wire codec according to a mode (normal, version mismatch, refuse,
 * silent, garbage, flush not supported, late to read, deaf after the
 * handshake; an admin request
 * "silent" is never answered, a publish on "persist" is persisted at
 * once with everything before it).
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ampsipc.h"
#include "ampsipc-wire.h"
#include "ampsipc-int.h"		/* AMPSIPC_PEND_INITIAL */
#include "testutil.h"

enum mode {
	FK_NORMAL, FK_VERSION, FK_REFUSE, FK_SILENT, FK_GARBAGE, FK_NOFLUSH,
	FK_HANGUP, FK_LATE, FK_DEAF
};

/* FK_LATE: how long the fake daemon reads nothing after WELCOME. */
#define LATE_MS		300

static char	dir[64], path[96];
static pid_t	child = -1;

/* Fake daemon: send one frame. */
static void
fk_send(int fd, struct ipcwire_enc *e, uint8_t *buf)
{
	size_t	len;

	if (ipcwire_end(e, &len) != 0 || write(fd, buf, len) != (ssize_t)len)
		_exit(3);
}

/* Fake daemon: read one frame into buf; 0 on EOF. */
static int
fk_recv(int fd, uint8_t *buf, size_t cap, struct ipcwire_msg *m)
{
	size_t		have = 0;
	uint32_t	len = 0;
	ssize_t		n;
	int		rc;

	for (;;) {
		rc = ipcwire_frame_len(buf, have, 0, &len);
		if (rc == -1)
			_exit(4);
		if (rc == 1 && have == len)
			break;
		n = read(fd, buf + have, rc == 1 ? len - have : 4 - have);
		if (n <= 0)
			return (0);
		have += (size_t)n;
		if (have > cap)
			_exit(5);
	}
	if (ipcwire_decode(buf, len, IPCWIRE_FROM_CLIENT, m, NULL) != 0)
		_exit(6);
	return (1);
}

/*
 * Fake daemon: answer ADMIN.  "deny" gets ERROR NOT_PERMITTED; "notice"
 * is preceded by an unsolicited non-fatal ERROR SHUTTING_DOWN; others
 * get ADMIN_REPLY "got: <words>", STATUS 1 when they start with "bad".
 */
static void
fk_admin(int fd, const struct ipcwire_msg *m, uint8_t *out, size_t cap)
{
	struct ipcwire_enc	 e;
	const char		*req = ipcwire_str(m, AMPSIPC_T_OPTIONS);
	char			 text[128];

	if (strcmp(req, "silent") == 0)	/* never answered */
		return;
	if (strcmp(req, "deny") == 0) {
		ipcwire_begin(&e, out, cap, AMPSIPC_ERROR, 0, m->hdr.reqid);
		ipcwire_put_u32(&e, AMPSIPC_T_ERRCODE, AMPSIPC_E_NOT_PERMITTED);
		fk_send(fd, &e, out);
		return;
	}
	if (strcmp(req, "notice") == 0) {
		ipcwire_begin(&e, out, cap, AMPSIPC_ERROR, 0, 0);
		ipcwire_put_u32(&e, AMPSIPC_T_ERRCODE, AMPSIPC_E_SHUTTING_DOWN);
		ipcwire_put_str(&e, AMPSIPC_T_REASON, "daemon shutting down");
		fk_send(fd, &e, out);
	}
	snprintf(text, sizeof text, "got: %s", req);
	ipcwire_begin(&e, out, cap, AMPSIPC_ADMIN_REPLY, 0, m->hdr.reqid);
	ipcwire_put_u32(&e, AMPSIPC_T_STATUS, strncmp(req, "bad", 3) == 0);
	ipcwire_put_bytes(&e, AMPSIPC_T_DATA, text, strlen(text));
	fk_send(fd, &e, out);
}

/* Fake daemon main loop for one connection. */
static void
fake(int fd, enum mode mode)
{
	static uint8_t		 in[1 << 16], out[1024];
	struct ipcwire_enc	 e;
	struct ipcwire_msg	 m;
	uint64_t		 seq = 100;
	const char		*topic;

	if (mode == FK_REFUSE) {
		ipcwire_begin(&e, out, sizeof out, AMPSIPC_ERROR,
		    AMPSIPC_F_FATAL, 0);
		ipcwire_put_u32(&e, AMPSIPC_T_ERRCODE, AMPSIPC_E_NOT_PERMITTED);
		ipcwire_put_str(&e, AMPSIPC_T_REASON, "not permitted by ACL");
		fk_send(fd, &e, out);
		return;
	}
	if (!fk_recv(fd, in, sizeof in, &m) || m.hdr.type != AMPSIPC_HELLO)
		_exit(7);
	if (mode == FK_VERSION) {
		ipcwire_begin(&e, out, sizeof out, AMPSIPC_VERSION_BAD, 0,
		    m.hdr.reqid);
		ipcwire_put_raw32(&e, 2);
		fk_send(fd, &e, out);
		return;
	}
	if (mode == FK_SILENT) {
		pause();
		return;
	}
	ipcwire_begin(&e, out, sizeof out, AMPSIPC_WELCOME, 0, m.hdr.reqid);
	ipcwire_put_u32(&e, AMPSIPC_T_PROTO_VERSION, AMPSIPC_PROTO_VERSION);
	ipcwire_put_u32(&e, AMPSIPC_T_MAX_FRAME, 4096);
	ipcwire_put_str(&e, AMPSIPC_T_DAEMON_VERSION, "fake-9");
	ipcwire_put_str(&e, AMPSIPC_T_CONN, "main");
	fk_send(fd, &e, out);
	if (mode == FK_GARBAGE) {
		/* After the first request, so connect itself succeeds. */
		if (!fk_recv(fd, in, sizeof in, &m))
			_exit(8);
		if (write(fd, "\x14\0\0\0\x39\x30\0\0\0\0\0\0\0\0\0\0junk", 20)
		    != 20)
			_exit(3);
	}
	if (mode == FK_HANGUP)
		return;
	if (mode == FK_LATE)
		usleep(LATE_MS * 1000);
	if (mode == FK_DEAF) {
		pause();
		return;
	}
	while (fk_recv(fd, in, sizeof in, &m)) {
		switch (m.hdr.type) {
		case AMPSIPC_PING:
			ipcwire_begin(&e, out, sizeof out, AMPSIPC_PONG, 0,
			    m.hdr.reqid);
			fk_send(fd, &e, out);
			break;
		case AMPSIPC_PUBLISH:
		case AMPSIPC_DELTA_PUBLISH:
			topic = ipcwire_str(&m, AMPSIPC_T_TOPIC);
			if (strcmp(topic, "secret") == 0) {
				ipcwire_begin(&e, out, sizeof out,
				    AMPSIPC_ERROR, 0, m.hdr.reqid);
				ipcwire_put_u32(&e, AMPSIPC_T_ERRCODE,
				    AMPSIPC_E_NOT_PERMITTED);
				ipcwire_put_str(&e, AMPSIPC_T_REASON,
				    "not permitted by ACL");
				fk_send(fd, &e, out);
				break;
			}
			ipcwire_begin(&e, out, sizeof out, AMPSIPC_STORED, 0,
			    m.hdr.reqid);
			ipcwire_put_u32(&e, AMPSIPC_T_CONN_ID, 1);
			ipcwire_put_u64(&e, AMPSIPC_T_SEQ, ++seq);
			fk_send(fd, &e, out);
			if (strcmp(topic, "persist") == 0) {
				ipcwire_begin(&e, out, sizeof out,
				    AMPSIPC_PERSISTED, 0, 0);
				ipcwire_put_u32(&e, AMPSIPC_T_CONN_ID, 1);
				ipcwire_put_u64(&e, AMPSIPC_T_SEQ, seq);
				fk_send(fd, &e, out);
			}
			if (strcmp(topic, "bad") == 0) {
				ipcwire_begin(&e, out, sizeof out,
				    AMPSIPC_PUBLISH_FAILED, 0, 0);
				ipcwire_put_u32(&e, AMPSIPC_T_CONN_ID, 1);
				ipcwire_put_u64(&e, AMPSIPC_T_SEQ, seq);
				ipcwire_put_u32(&e, AMPSIPC_T_ERRCODE,
				    AMPSIPC_E_NOT_ENTITLED);
				ipcwire_put_str(&e, AMPSIPC_T_REASON,
				    "not entitled");
				fk_send(fd, &e, out);
			}
			break;
		case AMPSIPC_PUBLISH_FLUSH:
			if (mode == FK_NOFLUSH) {
				ipcwire_begin(&e, out, sizeof out,
				    AMPSIPC_ERROR, 0, m.hdr.reqid);
				ipcwire_put_u32(&e, AMPSIPC_T_ERRCODE,
				    AMPSIPC_E_NOT_SUPPORTED);
				fk_send(fd, &e, out);
			}
			ipcwire_begin(&e, out, sizeof out, AMPSIPC_PERSISTED,
			    0, 0);
			ipcwire_put_u32(&e, AMPSIPC_T_CONN_ID, 1);
			ipcwire_put_u64(&e, AMPSIPC_T_SEQ, seq);
			fk_send(fd, &e, out);
			if (mode != FK_NOFLUSH) {
				ipcwire_begin(&e, out, sizeof out,
				    AMPSIPC_FLUSHED, 0, m.hdr.reqid);
				fk_send(fd, &e, out);
			}
			break;
		case AMPSIPC_STATUS:
			ipcwire_begin(&e, out, sizeof out, AMPSIPC_ERROR, 0,
			    m.hdr.reqid);
			ipcwire_put_u32(&e, AMPSIPC_T_ERRCODE,
			    AMPSIPC_E_NOT_SUPPORTED);
			fk_send(fd, &e, out);
			break;
		case AMPSIPC_ADMIN:
			fk_admin(fd, &m, out, sizeof out);
			break;
		}
	}
}

/* Start the fake daemon in a child; it serves one connection. */
static void
start_fake(enum mode mode)
{
	struct sockaddr_un	sun;
	int			lfd, fd;

	snprintf(dir, sizeof dir, "/tmp/check_libampsipc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/sock", dir);
	lfd = test_unix_socket(path, &sun);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	child = fork();
	ck_assert_int_ne(child, -1);
	if (child == 0) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			_exit(2);
		fake(fd, mode);
		close(fd);
		_exit(0);
	}
	close(lfd);
}

static void
teardown(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	unlink(path);
	rmdir(dir);
}

/* Connect a handle to the fake daemon. */
static struct ampsipc *
connected(enum mode mode)
{
	struct ampsipc	*h;

	start_fake(mode);
	ck_assert_ptr_nonnull(h = ampsipc_create());
	if (ampsipc_connect(h, path, "check", 2000) != 0)
		ck_abort_msg("connect: %s", ampsipc_errmsg(h));
	return (h);
}

/* Record of publish events. */
struct seen {
	int		stored, persisted, failed;
	uint64_t	last_seq;
	int		last_error;
};

static void
on_pub(struct ampsipc *h, const struct ampsipc_pubevent *ev, void *arg)
{
	struct seen	*s = arg;

	switch (ev->kind) {
	case AMPSIPC_PUB_STORED:
		s->stored++;
		s->last_seq = ev->seq;
		break;
	case AMPSIPC_PUB_PERSISTED:
		s->persisted++;
		break;
	case AMPSIPC_PUB_FAILED:
		s->failed++;
		s->last_error = ev->error;
		break;
	}
}

START_TEST(test_handshake_ping)
{
	struct ampsipc	*h = connected(FK_NORMAL);

	ck_assert_str_eq(ampsipc_daemon_version(h), "fake-9");
	ck_assert_str_eq(ampsipc_default_conn(h), "main");
	ck_assert_int_ge(ampsipc_fd(h), 0);
	ck_assert_int_eq(ampsipc_ping(h, 2000), 0);
	ck_assert_int_eq(ampsipc_connect(h, path, NULL, 100), -1);
	ck_assert_int_eq(errno, EISCONN);
	ampsipc_close(h);
}
END_TEST

START_TEST(test_version_mismatch)
{
	struct ampsipc	*h;

	start_fake(FK_VERSION);
	h = ampsipc_create();
	ck_assert_int_eq(ampsipc_connect(h, path, "check", 2000), -1);
	ck_assert_int_eq(errno, EPROTONOSUPPORT);
	ck_assert_int_eq(ampsipc_error(h), AMPSIPC_E_VERSION);
	ck_assert_ptr_nonnull(strstr(ampsipc_errmsg(h),
	    "client protocol 1, server 2"));
	ck_assert_int_eq(ampsipc_fd(h), -1);
	ampsipc_close(h);
}
END_TEST

START_TEST(test_publish_stored_flush)
{
	struct ampsipc		*h = connected(FK_NORMAL);
	struct ampsipc_pubopts	 o;
	struct seen		 s;
	uint32_t		 r1 = 0, r2 = 0;

	memset(&s, 0, sizeof s);
	memset(&o, 0, sizeof o);
	o.correlation_id = "abc";
	o.sow_key = "k1";
	o.conn = "main";
	o.expiration = 30;
	o.flags = AMPSIPC_PUB_EXPIRATION;
	ampsipc_set_pub_handler(h, on_pub, &s);
	ck_assert_int_eq(ampsipc_publish(h, "orders", "{\"a\":1}", 7, &o,
	    &r1), 0);
	ck_assert_int_eq(ampsipc_delta_publish(h, "orders", "{\"a\":2}", 7,
	    NULL, &r2), 0);
	ck_assert_int_eq(ampsipc_publish(h, "orders", NULL, 0, NULL, NULL), 0);
	ck_assert_uint_ne(r1, r2);
	ck_assert_uint_eq(ampsipc_unstored(h), 3);
	ck_assert_uint_eq(ampsipc_unpersisted(h), 3);
	ck_assert_uint_gt(ampsipc_outq(h), 0);
	ck_assert_int_eq(ampsipc_wait_stored(h, 2000), 0);
	ck_assert_uint_eq(ampsipc_unstored(h), 0);
	ck_assert_uint_eq(ampsipc_unpersisted(h), 3);
	ck_assert_int_eq(s.stored, 3);
	ck_assert_uint_eq(s.last_seq, 103);
	ck_assert_int_eq(ampsipc_publish_flush(h, 2000), 0);
	ck_assert_uint_eq(ampsipc_unpersisted(h), 0);
	ck_assert_int_eq(s.persisted, 3);
	ck_assert_uint_eq(ampsipc_failed(h), 0);
	/* Nothing outstanding: flush returns at once. */
	ck_assert_int_eq(ampsipc_publish_flush(h, 0), 0);
	ampsipc_close(h);
}
END_TEST

/*
 * The ring of unpersisted publishes (AMPSIPC_PEND_INITIAL entries at
 * first) grows while its head is not at the start of its array: every entry is still found by its request id
 * (STORED) and by its sequence (PERSISTED) afterwards.
 */
START_TEST(test_pend_ring_grows_wrapped)
{
	struct ampsipc	*h = connected(FK_NORMAL);
	struct seen	 s;
	int		 i;

	memset(&s, 0, sizeof s);
	ampsipc_set_pub_handler(h, on_pub, &s);
	/* 100 persisted at once, 50 left: the head moves to entry 101. */
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(ampsipc_publish(h, "t", "x", 1, NULL, NULL),
		    0);
	ck_assert_int_eq(ampsipc_publish(h, "persist", "x", 1, NULL, NULL),
	    0);
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(ampsipc_publish(h, "t", "x", 1, NULL, NULL),
		    0);
	ck_assert_int_eq(ampsipc_wait_stored(h, 5000), 0);
	ck_assert_int_eq(s.persisted, 101);
	ck_assert_uint_eq(ampsipc_unpersisted(h), 50);
	/* More than the ring holds at first: it wraps, then grows. */
	for (i = 0; i < AMPSIPC_PEND_INITIAL; i++)
		ck_assert_int_eq(ampsipc_publish(h, "t", "x", 1, NULL, NULL),
		    0);
	if (ampsipc_wait_stored(h, 5000) != 0)
		ck_abort_msg("wait_stored: %s (%d stored)", ampsipc_errmsg(h),
		    s.stored);
	ck_assert_int_eq(s.stored, 151 + AMPSIPC_PEND_INITIAL);
	ck_assert_uint_eq(s.last_seq, 100 + 151 + AMPSIPC_PEND_INITIAL);
	ck_assert_uint_eq(ampsipc_unpersisted(h), 50 + AMPSIPC_PEND_INITIAL);
	/* Persisted in the middle (the fake sends PERSISTED before the
	 * next publish's STORED), then the last by the flush. */
	ck_assert_int_eq(ampsipc_publish(h, "persist", "x", 1, NULL, NULL),
	    0);
	ck_assert_int_eq(ampsipc_publish(h, "t", "x", 1, NULL, NULL), 0);
	ck_assert_int_eq(ampsipc_wait_stored(h, 5000), 0);
	ck_assert_int_eq(s.persisted, 152 + AMPSIPC_PEND_INITIAL);
	ck_assert_uint_eq(ampsipc_unpersisted(h), 1);
	ck_assert_int_eq(ampsipc_publish_flush(h, 5000), 0);
	ck_assert_int_eq(s.persisted, 153 + AMPSIPC_PEND_INITIAL);
	ck_assert_uint_eq(ampsipc_failed(h), 0);
	ampsipc_close(h);
}
END_TEST

/*
 * A blocking publisher whose daemon is late to read keeps a small queue:
 * once the socket is full it waits with at most 96 KiB and a frame
 * queued, and goes on when the daemon reads.  A non-blocking one whose
 * daemon never reads queues up to 4 MiB and is then refused (EAGAIN).
 */
START_TEST(test_publish_queue_bound)
{
	struct ampsipc	*h = connected(FK_LATE);
	static char	 payload[2000];
	size_t		 most = 0;
	int		 i, rc;

	for (i = 0; i < 2000; i++) {	/* 4 MB: many times the socket */
		ck_assert_int_eq(ampsipc_publish(h, "t", payload,
		    sizeof payload, NULL, NULL), 0);
		if (ampsipc_outq(h) > most)
			most = ampsipc_outq(h);
	}
	/* Without the wait the queue would have reached about 4 MB. */
	ck_assert_uint_le(most, 96 * 1024 + sizeof payload + 256);
	ck_assert_int_eq(ampsipc_wait_stored(h, 10000), 0);
	ck_assert_uint_eq(ampsipc_unstored(h), 0);
	ampsipc_close(h);
	teardown();

	h = connected(FK_DEAF);
	ck_assert_int_eq(ampsipc_set_nonblock(h, 1), 0);
	for (i = 0, rc = 0; i < 4000 && rc == 0; i++)
		rc = ampsipc_publish(h, "t", payload, sizeof payload, NULL,
		    NULL);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_uint_ge(ampsipc_outq(h), 4 * 1024 * 1024);
	ampsipc_close(h);
}
END_TEST

START_TEST(test_flush_fallback)
{
	struct ampsipc	*h = connected(FK_NOFLUSH);

	ck_assert_int_eq(ampsipc_publish(h, "t", "x", 1, NULL, NULL), 0);
	ck_assert_int_eq(ampsipc_publish_flush(h, 2000), 0);
	ck_assert_uint_eq(ampsipc_unpersisted(h), 0);
	ampsipc_close(h);
}
END_TEST

START_TEST(test_error_mapping)
{
	struct ampsipc	*h = connected(FK_NORMAL);
	struct seen	 s;
	char		*text = (char *)1;

	memset(&s, 0, sizeof s);
	ampsipc_set_pub_handler(h, on_pub, &s);
	ck_assert_int_eq(ampsipc_publish(h, "secret", "x", 1, NULL, NULL), 0);
	ck_assert_int_eq(ampsipc_publish(h, "bad", "x", 1, NULL, NULL), 0);
	ck_assert_int_eq(ampsipc_wait_stored(h, 2000), 0);
	ck_assert_int_eq(ampsipc_ping(h, 2000), 0);	/* FAILED arrives */
	ck_assert_int_eq(s.failed, 2);
	ck_assert_int_eq(s.last_error, AMPSIPC_E_NOT_ENTITLED);
	ck_assert_uint_eq(ampsipc_failed(h), 2);
	ck_assert_uint_eq(ampsipc_unpersisted(h), 0);

	ck_assert_int_eq(ampsipc_status(h, NULL, &text, 2000), -1);
	ck_assert_int_eq(errno, ENOTSUP);
	ck_assert_ptr_null(text);
	ck_assert_int_eq(ampsipc_error(h), AMPSIPC_E_NOT_SUPPORTED);
	ck_assert_str_eq(ampsipc_strerror(AMPSIPC_E_NOT_SUPPORTED),
	    "not supported by daemon");
	ck_assert_str_eq(ampsipc_strerror(AMPSIPC_E_BAD_REGEX_TOPIC),
	    "bad regex topic");
	ck_assert_str_eq(ampsipc_strerror(-5), "unknown error code");

	/* Usage errors. */
	ck_assert_int_eq(ampsipc_publish(h, "", "x", 1, NULL, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ampsipc_publish(h, NULL, "x", 1, NULL, NULL), -1);
	ampsipc_close(h);
}
END_TEST

/* ampsipc_admin: 0 done, 1 refused with text, -1 errors. */
START_TEST(test_admin)
{
	struct ampsipc	*h = connected(FK_NORMAL);
	char		*text = (char *)1;

	ck_assert_int_eq(ampsipc_admin(h, "trace +wire", &text, 2000), 0);
	ck_assert_str_eq(text, "got: trace +wire");
	free(text);
	ck_assert_int_eq(ampsipc_admin(h, "bad request", &text, 2000), 1);
	ck_assert_str_eq(text, "got: bad request");
	free(text);
	ck_assert_int_eq(ampsipc_admin(h, "deny", &text, 2000), -1);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_ptr_null(text);
	ck_assert_int_eq(ampsipc_error(h), AMPSIPC_E_NOT_PERMITTED);
	ck_assert_int_eq(ampsipc_admin(h, "", &text, 2000), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* An unsolicited SHUTTING_DOWN is recorded, the reply still comes. */
	ck_assert_int_eq(ampsipc_admin(h, "notice", &text, 2000), 0);
	ck_assert_str_eq(text, "got: notice");
	free(text);
	ck_assert_int_eq(ampsipc_error(h), AMPSIPC_E_SHUTTING_DOWN);
	ck_assert_int_eq(ampsipc_ping(h, 2000), 0);
	ampsipc_close(h);
}
END_TEST

START_TEST(test_too_big)
{
	static char	 big[8192];
	struct ampsipc	*h = connected(FK_NORMAL);

	/* The fake daemon announced a 4096-byte frame limit. */
	ck_assert_int_eq(ampsipc_publish(h, "t", big, sizeof big, NULL, NULL),
	    -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(ampsipc_error(h), AMPSIPC_E_TOO_BIG);
	ck_assert_uint_eq(ampsipc_unpersisted(h), 0);
	ck_assert_int_eq(ampsipc_ping(h, 2000), 0);
	ampsipc_close(h);
}
END_TEST

START_TEST(test_refused)
{
	struct ampsipc	*h;

	start_fake(FK_REFUSE);
	h = ampsipc_create();
	ck_assert_int_eq(ampsipc_connect(h, path, "check", 2000), -1);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_int_eq(ampsipc_error(h), AMPSIPC_E_NOT_PERMITTED);
	ck_assert_ptr_nonnull(strstr(ampsipc_errmsg(h), "not permitted"));
	ampsipc_close(h);
}
END_TEST

START_TEST(test_timeout)
{
	struct ampsipc	*h;

	start_fake(FK_SILENT);
	h = ampsipc_create();
	ck_assert_int_eq(ampsipc_connect(h, path, "check", 200), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(ampsipc_error(h), AMPSIPC_E_TIMED_OUT);
	ampsipc_close(h);
}
END_TEST

/* A wait check that stops the wait at its third call. */
static int
stop_third(struct ampsipc *h, void *arg)
{
	int	*calls = arg;

	return (++*calls >= 3);
}

START_TEST(test_wait_check)
{
	struct ampsipc	*h = connected(FK_NORMAL);
	char		*text = NULL;
	int		 calls = 0;

	/* Without a check a wait for no answer ends at its timeout. */
	ck_assert_int_eq(ampsipc_admin(h, "silent", &text, 300), -1);
	ck_assert_int_eq(ampsipc_error(h), AMPSIPC_E_TIMED_OUT);
	/* With one, it is run between slices and stops the wait. */
	ampsipc_set_wait_check(h, stop_third, &calls);
	ck_assert_int_eq(ampsipc_admin(h, "silent", &text, 60000), -1);
	ck_assert_int_eq(errno, EINTR);
	ck_assert_int_eq(ampsipc_error(h), AMPSIPC_E_SYSTEM);
	ck_assert_int_eq(calls, 3);
	ck_assert_ptr_null(text);
	/* The handle still works. */
	ampsipc_set_wait_check(h, NULL, NULL);
	ck_assert_int_eq(ampsipc_ping(h, 2000), 0);
	ampsipc_close(h);
}
END_TEST

START_TEST(test_garbage_from_daemon)
{
	struct ampsipc	*h = connected(FK_GARBAGE);

	ck_assert_int_eq(ampsipc_ping(h, 2000), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(ampsipc_error(h), AMPSIPC_E_PROTOCOL);
	/* The handle stays broken, and says so. */
	ck_assert_int_eq(ampsipc_ping(h, 100), -1);
	ck_assert_int_eq(ampsipc_publish(h, "t", "x", 1, NULL, NULL), -1);
	ampsipc_close(h);
}
END_TEST

START_TEST(test_daemon_hangup)
{
	struct ampsipc	*h = connected(FK_HANGUP);

	ck_assert_int_eq(ampsipc_publish(h, "t", "x", 1, NULL, NULL), 0);
	ck_assert_int_eq(ampsipc_wait_stored(h, 2000), -1);
	ck_assert(ampsipc_error(h) == AMPSIPC_E_CLOSED);
	ampsipc_close(h);
}
END_TEST

START_TEST(test_no_daemon_and_env)
{
	struct ampsipc	*h = ampsipc_create();

	ck_assert_int_eq(ampsipc_connect(h, "/nonexistent/ampsd.sock", NULL,
	    100), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(ampsipc_errmsg(h), "cannot connect"));
	ck_assert_int_eq(ampsipc_ping(h, 10), -1);
	ck_assert_int_eq(errno, ENOTCONN);

	start_fake(FK_NORMAL);
	setenv("AMPSD_SOCKET", path, 1);
	ck_assert_int_eq(ampsipc_connect(h, NULL, NULL, 2000), 0);
	ck_assert_int_eq(ampsipc_ping(h, 2000), 0);
	ampsipc_close(h);
	ampsipc_close(NULL);
}
END_TEST

static Suite *
libampsipc_suite(void)
{
	Suite	*s = suite_create("libampsipc");
	TCase	*tc = tcase_create("fake-daemon");

	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_handshake_ping);
	tcase_add_test(tc, test_version_mismatch);
	tcase_add_test(tc, test_publish_stored_flush);
	tcase_add_test(tc, test_pend_ring_grows_wrapped);
	tcase_add_test(tc, test_publish_queue_bound);
	tcase_add_test(tc, test_flush_fallback);
	tcase_add_test(tc, test_error_mapping);
	tcase_add_test(tc, test_admin);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_wait_check);
	tcase_add_test(tc, test_garbage_from_daemon);
	tcase_add_test(tc, test_daemon_hangup);
	tcase_add_test(tc, test_no_daemon_and_env);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return (check_main(libampsipc_suite()));
}
