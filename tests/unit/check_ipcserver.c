/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Tests for the daemon's IPC server (daemon/ipc.c, daemon/ipc-client.c)
 * on a real event_base and a real unix socket in a temporary directory.
 * The peer side is raw sockets plus the wire encoder, so the tests can
 * send anything, garbage included.  Also: no unsolicited frame before
 * WELCOME, adopting an inherited listening socket (systemd socket
 * activation), the read budget yielding to the next loop pass, the
 * pass's cap counting every client together, and the operations side:
 * ADMIN requests, ipc_stop_accepting() and ipc_client_shutdown()
 * (SIGTERM drain).
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc.h"
#include "testutil.h"

static struct event_base	*base;
static struct ipc		*ipc;
static char			 dir[64], path[96];
static int			 deny_connect, closed_calls, admin_ok;
static unsigned int		 max_clients;
static uint64_t			 next_seq;
static char			 last_log[512];

/*
 * ACL: deny topic "secret" (with a reason), everything at connect when
 * asked, and the admin reserve unless admin_ok.
 */
static int
acl(void *arg, uid_t uid, gid_t gid, const char *conn, const char *topic,
    enum ipc_op op, const char **why)
{
	if (op == IPC_OP_CONNECT)
		return (!deny_connect);
	if (op == IPC_OP_ADMIN && topic == NULL && conn == NULL)
		return (admin_ok);
	if (topic != NULL && strcmp(topic, "secret") == 0) {
		*why = "secret is secret";
		return (0);
	}
	return (1);
}

/* Publish handler: "store" at once. */
static int
on_publish(struct ipc_client *c, const struct ipcwire_msg *m, void *arg)
{
	if (strcmp(ipcwire_str(m, AMPSIPC_T_TOPIC), "disk") == 0)
		return (AMPSIPC_E_DISK_FULL);
	ipc_client_reply_stored(c, m->hdr.reqid, 3, ++next_seq);
	return (0);
}

/* Admin handler: "did: <request>", status 1 for requests starting "bad". */
static int
on_admin(struct ipc_client *c, const struct ipcwire_msg *m, void *arg)
{
	const char	*req = ipcwire_str(m, AMPSIPC_T_OPTIONS);
	char		 text[128];

	snprintf(text, sizeof text, "did: %s", req);
	ipc_client_reply_admin(c, m->hdr.reqid, strncmp(req, "bad", 3) == 0,
	    text);
	return (0);
}

static void
on_closed(struct ipc_client *c, void *arg)
{
	closed_calls++;
}

/* Log hook: keep the last warning for the tests to look at. */
static void
on_log(void *arg, int level, const char *msg)
{
	if (level <= LOG_WARNING)
		snprintf(last_log, sizeof last_log, "%s", msg);
}

/*
 * Listen on p, or adopt fd (> 0), with a read budget per callback and
 * per pass (0 = defaults).
 */
static struct ipc *
listen_with(const char *p, unsigned int per_uid, unsigned int budget,
    unsigned int pass_max, int fd, char **cause)
{
	struct ipc_config	cfg;
	struct ipc_handlers	h;

	memset(&cfg, 0, sizeof cfg);
	cfg.path = p;
	cfg.fd = fd;
	cfg.group = (gid_t)-1;
	cfg.max_per_uid = per_uid;
	cfg.max_clients = max_clients;
	cfg.admin_reserve = 2;
	cfg.budget = budget;
	cfg.pass_max = pass_max;
	cfg.log = on_log;
	cfg.daemon_version = "test-1";
	cfg.default_conn = "main";
	cfg.acl = acl;
	memset(&h, 0, sizeof h);
	h.publish.fn = on_publish;
	h.admin.fn = on_admin;
	h.closed = on_closed;
	return (ipc_listen(base, &cfg, &h, cause));
}

static struct ipc *
listen_on(const char *p, unsigned int per_uid, char **cause)
{
	return (listen_with(p, per_uid, 0, 0, -1, cause));
}

static void
setup(void)
{
	char	*cause = NULL;

	snprintf(dir, sizeof dir, "/tmp/check_ipcserver.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/sock", dir);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	deny_connect = closed_calls = 0;
	admin_ok = 1;
	max_clients = 0;
	next_seq = 0;
	last_log[0] = '\0';
	ipc = listen_on(path, 0, &cause);
	if (ipc == NULL)
		ck_abort_msg("ipc_listen: %s", cause);
}

static void
teardown(void)
{
	ipc_close(ipc);
	event_base_free(base);
	unlink(path);
	rmdir(dir);
}

/*
 * One pass of the daemon's loop, then its flush phase as far as ipc is
 * concerned: ipc_release() sends the replies held until the commit.
 */
static struct ipc	*ipc2;		/* a second listener, if any */

static void
loop_pass(int flags)
{
	event_base_loop(base, flags);
	ipc_release(ipc);
	ipc_release(ipc2);
}

/* Run the daemon's loop for a few milliseconds. */
static void
pump(int ms)
{
	struct timespec	ts = { 0, 1000000 };
	int		i;

	for (i = 0; i < ms; i++) {
		loop_pass(EVLOOP_NONBLOCK);
		nanosleep(&ts, NULL);
	}
}

/* Connect a raw peer to socket p. */
static int
peer_at(const char *p)
{
	struct sockaddr_un	sun;
	int			fd;

	fd = test_unix_socket(p, &sun);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return (fd);
}

/* Connect a raw peer to the fixture's socket. */
static int
peer(void)
{
	return (peer_at(path));
}

static void
send_all(int fd, const void *buf, size_t len)
{
	ck_assert_int_eq(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Send HELLO with the given version. */
static void
send_hello(int fd, uint32_t version)
{
	uint8_t			buf[128];
	struct ipcwire_enc	e;
	size_t			len;

	ipcwire_begin(&e, buf, sizeof buf, AMPSIPC_HELLO, 0, 1);
	ipcwire_put_raw32(&e, version);
	ipcwire_put_raw32(&e, (uint32_t)getpid());
	ipcwire_put_str(&e, AMPSIPC_T_CLIENT_NAME, "test\x01peer");
	ck_assert_int_eq(ipcwire_end(&e, &len), 0);
	send_all(fd, buf, len);
}

/* Send a PUBLISH to topic with request id reqid. */
static void
send_publish(int fd, uint32_t reqid, const char *topic)
{
	uint8_t			buf[256];
	struct ipcwire_enc	e;
	size_t			len;

	ipcwire_begin(&e, buf, sizeof buf, AMPSIPC_PUBLISH, 0, reqid);
	ipcwire_put_str(&e, AMPSIPC_T_TOPIC, topic);
	ipcwire_put_bytes(&e, AMPSIPC_T_DATA, "{\"a\":1}", 7);
	ck_assert_int_eq(ipcwire_end(&e, &len), 0);
	send_all(fd, buf, len);
}

static void
send_empty(int fd, uint16_t type, uint32_t reqid)
{
	uint8_t			buf[16];
	struct ipcwire_enc	e;
	size_t			len;

	ipcwire_begin(&e, buf, sizeof buf, type, 0, reqid);
	ck_assert_int_eq(ipcwire_end(&e, &len), 0);
	send_all(fd, buf, len);
}

/*
 * Receive one frame within 2 s while running the loop.  Returns 1 with
 * *m decoded (pointing into buf), 0 on EOF.
 */
static int
recv_frame(int fd, uint8_t *buf, size_t cap, size_t *have,
    struct ipcwire_msg *m)
{
	uint32_t	 len;
	ssize_t		 n;
	int		 i;
	const char	*why;

	for (i = 0; i < 2000; i++) {
		if (ipcwire_frame_len(buf, *have, 0, &len) == 1 &&
		    *have >= len) {
			if (ipcwire_decode(buf, len, IPCWIRE_FROM_DAEMON, m,
			    &why) != 0)
				ck_abort_msg("bad frame from daemon: %s", why);
			return (1);
		}
		n = recv(fd, buf + *have, cap - *have, 0);
		if (n == 0)
			return (0);
		if (n > 0) {
			*have += (size_t)n;
			continue;
		}
		ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
		pump(1);
	}
	ck_abort_msg("no frame from daemon within 2 s");
	return (0);
}

/*
 * Drop the first frame of buf; *m is re-decoded from a copy so that its
 * pointers stay valid until the next consume().
 */
static void
consume(uint8_t *buf, size_t *have, struct ipcwire_msg *m)
{
	static uint8_t	last[65536];
	uint32_t	len = m->hdr.len;

	memcpy(last, buf, len);
	memmove(buf, buf + len, *have - len);
	*have -= len;
	ck_assert_int_eq(ipcwire_decode(last, len, IPCWIRE_FROM_DAEMON, m,
	    NULL), 0);
}

/* Expect one frame of type; returns it in *m (consumed). */
static void
expect(int fd, uint8_t *buf, size_t *have, uint16_t type,
    struct ipcwire_msg *m)
{
	ck_assert_int_eq(recv_frame(fd, buf, 65536, have, m), 1);
	if (m->hdr.type != type)
		ck_abort_msg("expected %s, got %s (%s)", ipcwire_type_name(type),
		    ipcwire_type_name(m->hdr.type),
		    ipcwire_str(m, AMPSIPC_T_REASON) != NULL ?
		    ipcwire_str(m, AMPSIPC_T_REASON) : "");
	consume(buf, have, m);
}

/* Expect the daemon to close the connection. */
static void
expect_eof(int fd, uint8_t *buf, size_t *have)
{
	struct ipcwire_msg	m;

	ck_assert_int_eq(recv_frame(fd, buf, 65536, have, &m), 0);
}

/* Greet: HELLO then WELCOME. */
static int
greeted_peer(uint8_t *buf, size_t *have)
{
	struct ipcwire_msg	m;
	int			fd = peer();

	send_hello(fd, AMPSIPC_PROTO_VERSION);
	expect(fd, buf, have, AMPSIPC_WELCOME, &m);
	return (fd);
}

START_TEST(test_handshake_ping_publish)
{
	static uint8_t		buf[65536];
	struct ipcwire_msg	m;
	size_t			have = 0;
	int			fd = peer();

	send_hello(fd, AMPSIPC_PROTO_VERSION);
	ck_assert_int_eq(recv_frame(fd, buf, sizeof buf, &have, &m), 1);
	ck_assert_uint_eq(m.hdr.type, AMPSIPC_WELCOME);
	ck_assert_uint_eq(m.hdr.reqid, 1);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_PROTO_VERSION, 0),
	    AMPSIPC_PROTO_VERSION);
	ck_assert_str_eq(ipcwire_str(&m, AMPSIPC_T_DAEMON_VERSION), "test-1");
	ck_assert_str_eq(ipcwire_str(&m, AMPSIPC_T_CONN), "main");
	consume(buf, &have, &m);
	ck_assert_uint_eq(ipc_nclients(ipc), 1);

	send_empty(fd, AMPSIPC_PING, 9);
	expect(fd, buf, &have, AMPSIPC_PONG, &m);
	ck_assert_uint_eq(m.hdr.reqid, 9);

	send_publish(fd, 10, "orders");
	send_publish(fd, 11, "orders");
	expect(fd, buf, &have, AMPSIPC_STORED, &m);
	ck_assert_uint_eq(m.hdr.reqid, 10);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_SEQ, 0), 1);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_CONN_ID, 0), 3);
	expect(fd, buf, &have, AMPSIPC_STORED, &m);
	ck_assert_uint_eq(m.hdr.reqid, 11);

	/* Handler error code becomes a non-fatal ERROR; no handler: ENOTSUP. */
	send_publish(fd, 12, "disk");
	expect(fd, buf, &have, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(m.hdr.reqid, 12);
	ck_assert_uint_eq(m.hdr.flags, 0);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_DISK_FULL);
	send_empty(fd, AMPSIPC_STATUS, 13);
	expect(fd, buf, &have, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_NOT_SUPPORTED);

	close(fd);
	pump(20);
	ck_assert_uint_eq(ipc_nclients(ipc), 0);
	ck_assert_int_eq(closed_calls, 1);
}
END_TEST

START_TEST(test_version_mismatch)
{
	static uint8_t		buf[65536];
	struct ipcwire_msg	m;
	size_t			have = 0;
	int			fd = peer();

	send_hello(fd, 99);
	ck_assert_int_eq(recv_frame(fd, buf, sizeof buf, &have, &m), 1);
	ck_assert_uint_eq(m.hdr.type, AMPSIPC_VERSION_BAD);
	ck_assert_uint_eq(m.version, AMPSIPC_PROTO_VERSION);
	ck_assert_str_eq(ipcwire_str(&m, AMPSIPC_T_REASON),
	    "client protocol 99, server 1");
	consume(buf, &have, &m);
	expect_eof(fd, buf, &have);
	close(fd);
}
END_TEST

START_TEST(test_garbage_drops_only_offender)
{
	static uint8_t		abuf[65536], bbuf[65536];
	static const uint8_t	garbage[] = { 20, 0, 0, 0, 0x39, 0x30, 0, 0,
	    1, 0, 0, 0, 0, 0, 0, 0, 'j', 'u', 'n', 'k' };
	struct ipcwire_msg	m;
	size_t			ahave = 0, bhave = 0;
	int			a, b;

	a = greeted_peer(abuf, &ahave);
	b = greeted_peer(bbuf, &bhave);
	ck_assert_uint_eq(ipc_nclients(ipc), 2);

	send_all(a, garbage, sizeof garbage);
	expect(a, abuf, &ahave, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(m.hdr.flags, AMPSIPC_F_FATAL);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_PROTOCOL);
	expect_eof(a, abuf, &ahave);

	send_publish(b, 5, "orders");
	expect(b, bbuf, &bhave, AMPSIPC_STORED, &m);
	ck_assert_uint_eq(m.hdr.reqid, 5);
	ck_assert_uint_eq(ipc_nclients(ipc), 1);
	close(a);
	close(b);
}
END_TEST

START_TEST(test_oversized_length_dropped)
{
	static uint8_t		buf[65536];
	static const uint8_t	huge[] = { 0xff, 0xff, 0xff, 0x7f,
	    100, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	struct ipcwire_msg	m;
	size_t			have = 0;
	int			fd = greeted_peer(buf, &have);

	send_all(fd, huge, sizeof huge);
	expect(fd, buf, &have, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_TOO_BIG);
	expect_eof(fd, buf, &have);
	close(fd);
}
END_TEST

START_TEST(test_first_frame_not_hello)
{
	static uint8_t		buf[65536];
	struct ipcwire_msg	m;
	size_t			have = 0;
	int			fd = peer();

	send_publish(fd, 1, "orders");
	expect(fd, buf, &have, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(m.hdr.flags, AMPSIPC_F_FATAL);
	expect_eof(fd, buf, &have);
	close(fd);
}
END_TEST

START_TEST(test_refuse_live_socket)
{
	char		*cause = NULL;
	struct ipc	*second;

	second = listen_on(path, 0, &cause);
	ck_assert_ptr_null(second);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "another daemon"));
	free(cause);
	/* The live socket is still there and still answers. */
	close(peer());
}
END_TEST

START_TEST(test_stale_socket_replaced)
{
	struct sockaddr_un	 sun;
	char			 stale[96], *cause = NULL;
	struct ipc		*other;
	struct stat		 sb;
	int			 fd;

	snprintf(stale, sizeof stale, "%s/stale", dir);
	fd = test_unix_socket(stale, &sun);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);	/* leaves a socket nobody listens on */
	ck_assert_int_eq(lstat(stale, &sb), 0);

	other = listen_on(stale, 0, &cause);
	if (other == NULL)
		ck_abort_msg("stale socket not replaced: %s", cause);
	ck_assert_int_eq(lstat(stale, &sb), 0);
	ck_assert(S_ISSOCK(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 0777, 0660);
	ipc_close(other);
	ck_assert_int_eq(lstat(stale, &sb), -1);	/* unlinked on close */

	/* A regular file in the way is never removed. */
	fd = open(stale, O_CREAT | O_WRONLY, 0600);
	close(fd);
	ck_assert_ptr_null(listen_on(stale, 0, &cause));
	ck_assert_int_eq(lstat(stale, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	free(cause);
	unlink(stale);
}
END_TEST

START_TEST(test_acl_deny)
{
	static uint8_t		buf[65536];
	struct ipcwire_msg	m;
	size_t			have = 0;
	int			fd = greeted_peer(buf, &have);

	/* Per command: non-fatal, the client keeps working. */
	send_publish(fd, 2, "secret");
	expect(fd, buf, &have, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(m.hdr.reqid, 2);
	ck_assert_uint_eq(m.hdr.flags, 0);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_NOT_PERMITTED);
	ck_assert_str_eq(ipcwire_str(&m, AMPSIPC_T_REASON), "secret is secret");
	send_publish(fd, 3, "orders");
	expect(fd, buf, &have, AMPSIPC_STORED, &m);
	close(fd);

	/* At connect: a fatal ERROR, then the connection is closed. */
	deny_connect = 1;
	have = 0;
	fd = peer();
	pump(20);
	expect(fd, buf, &have, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(m.hdr.flags, AMPSIPC_F_FATAL);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_NOT_PERMITTED);
	expect_eof(fd, buf, &have);
	close(fd);
}
END_TEST

/* Send a request of type carrying topic (and CMD for a COMMAND). */
static void
send_topic(int fd, uint16_t type, uint32_t reqid, const char *topic)
{
	struct ipcwire_enc	e;
	uint8_t			*buf;
	size_t			 len, cap = strlen(topic) + 256;

	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	ipcwire_begin(&e, buf, cap, type, 0, reqid);
	if (type == AMPSIPC_COMMAND)
		ipcwire_put_u32(&e, AMPSIPC_T_CMD, AMPSIPC_CMD_SUBSCRIBE);
	ipcwire_put_str(&e, AMPSIPC_T_TOPIC, topic);
	if (type == AMPSIPC_PUBLISH)
		ipcwire_put_bytes(&e, AMPSIPC_T_DATA, "{}", 2);
	ck_assert_int_eq(ipcwire_end(&e, &len), 0);
	send_all(fd, buf, len);
	free(buf);
}

/*
 * A bad topic gets INVALID_TOPIC with the reason before the ACL and any
 * handler, whatever the request (the COMMAND handler is not even set).
 */
START_TEST(test_bad_topic)
{
	static uint8_t		buf[65536];
	struct ipcwire_msg	m;
	size_t			have = 0;
	char			*big;
	int			fd = greeted_peer(buf, &have);

	send_topic(fd, AMPSIPC_PUBLISH, 2, "caf\xc3");
	expect(fd, buf, &have, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(m.hdr.reqid, 2);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_INVALID_TOPIC);
	ck_assert_str_eq(ipcwire_str(&m, AMPSIPC_T_REASON),
	    "topic is not valid UTF-8 (byte 4 of 4)");
	big = malloc(65538);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 65537);
	big[65537] = '\0';
	send_topic(fd, AMPSIPC_PUBLISH, 3, big);
	expect(fd, buf, &have, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_INVALID_TOPIC);
	ck_assert_str_eq(ipcwire_str(&m, AMPSIPC_T_REASON),
	    "topic of 65537 bytes is longer than 65536");
	free(big);
	send_topic(fd, AMPSIPC_COMMAND, 4, "a\nb");
	expect(fd, buf, &have, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_INVALID_TOPIC);
	send_topic(fd, AMPSIPC_PUBLISH, 5, "");
	expect(fd, buf, &have, AMPSIPC_ERROR, &m);
	ck_assert_str_eq(ipcwire_str(&m, AMPSIPC_T_REASON), "empty topic");
	ck_assert_uint_eq(next_seq, 0);		/* nothing was "stored" */
	send_topic(fd, AMPSIPC_PUBLISH, 6, "caf\xc3\xa9");
	expect(fd, buf, &have, AMPSIPC_STORED, &m);
	close(fd);
}
END_TEST

/* Listen again with a per-uid cap, for a uid that is not an admin. */
static void
relisten_capped(unsigned int per_uid)
{
	char	*cause = NULL;

	ipc_close(ipc);
	admin_ok = 0;
	ipc = listen_on(path, per_uid, &cause);
	if (ipc == NULL)
		ck_abort_msg("ipc_listen: %s", cause);
}

/* Expect a connection refused with LIMIT (the accept is pumped). */
static void
expect_limit(int fd, uint8_t *buf, size_t *have)
{
	struct ipcwire_msg	m;

	pump(20);
	expect(fd, buf, have, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_LIMIT);
	ck_assert_uint_eq(m.hdr.flags, AMPSIPC_F_FATAL);
}

START_TEST(test_per_uid_cap)
{
	static uint8_t		buf[65536];
	size_t			have = 0;
	int			a, b, c;

	relisten_capped(2);
	a = peer();
	b = peer();
	pump(20);
	c = peer();
	expect_limit(c, buf, &have);
	expect_eof(c, buf, &have);
	ck_assert_uint_eq(ipc_nclients(ipc), 2);
	ck_assert_ptr_nonnull(strstr(last_log, "per-uid connection limit"));
	close(c);
	/* An admin uid is never refused by the per-uid cap. */
	admin_ok = 1;
	have = 0;
	c = greeted_peer(buf, &have);
	ck_assert_uint_eq(ipc_nclients(ipc), 3);
	close(a);
	close(b);
	close(c);
}
END_TEST

/* The last connections above max_clients are for admin uids only. */
START_TEST(test_admin_reserve)
{
	static uint8_t		buf[65536];
	size_t			have = 0;
	int			fd[6], i;

	max_clients = 2;
	relisten_capped(0);
	fd[0] = greeted_peer(buf, &have);
	fd[1] = greeted_peer(buf, &have);
	fd[2] = peer();
	expect_limit(fd[2], buf, &have);
	expect_eof(fd[2], buf, &have);
	close(fd[2]);
	admin_ok = 1;		/* the reserve of 2 */
	have = 0;
	fd[2] = greeted_peer(buf, &have);
	fd[3] = greeted_peer(buf, &have);
	fd[4] = peer();
	expect_limit(fd[4], buf, &have);
	ck_assert_uint_eq(ipc_nclients(ipc), 4);
	for (i = 0; i < 5; i++)
		close(fd[i]);
}
END_TEST

/*
 * A program that closed its end stops counting at once, even when the
 * next program's connect is handled before its EOF; what it sent before
 * closing is still handled.
 */
START_TEST(test_gone_not_counted)
{
	static uint8_t		buf[65536];
	struct ipcwire_msg	m;
	size_t			have = 0;
	int			a, b, c;

	relisten_capped(2);
	a = greeted_peer(buf, &have);
	b = greeted_peer(buf, &have);
	/* c is queued on the listener before a goes: accept sees it first. */
	c = peer();
	send_hello(c, AMPSIPC_PROTO_VERSION);
	send_publish(a, 7, "orders");
	close(a);
	have = 0;
	expect(c, buf, &have, AMPSIPC_WELCOME, &m);
	ck_assert_uint_eq(next_seq, 1);		/* a's publish was handled */
	ck_assert_int_eq(closed_calls, 1);
	ck_assert_uint_eq(ipc_nclients(ipc), 2);
	close(b);
	close(c);
}
END_TEST

START_TEST(test_bye_and_split_frames)
{
	static uint8_t		buf[65536];
	uint8_t			fr[256];
	struct ipcwire_enc	e;
	struct ipcwire_msg	m;
	size_t			have = 0, len, i;
	int			fd = greeted_peer(buf, &have);

	/* A publish delivered one byte at a time still works. */
	ipcwire_begin(&e, fr, sizeof fr, AMPSIPC_PUBLISH, 0, 44);
	ipcwire_put_str(&e, AMPSIPC_T_TOPIC, "slow");
	ck_assert_int_eq(ipcwire_end(&e, &len), 0);
	for (i = 0; i < len; i++) {
		send_all(fd, fr + i, 1);
		pump(1);
	}
	expect(fd, buf, &have, AMPSIPC_STORED, &m);
	ck_assert_uint_eq(m.hdr.reqid, 44);
	send_empty(fd, AMPSIPC_BYE, 45);
	expect_eof(fd, buf, &have);
	close(fd);
	ck_assert_int_eq(closed_calls, 1);
}
END_TEST

/* ipc_foreach callback: remember the (only) client. */
static void
grab_client(struct ipc_client *c, void *arg)
{
	*(struct ipc_client **)arg = c;
}

START_TEST(test_nothing_before_welcome)
{
	static uint8_t		 buf[65536];
	uint8_t			 fr[128];
	struct ipcwire_enc	 e;
	struct ipcwire_msg	 m;
	struct ipc_client	*c = NULL;
	size_t			 have = 0, len;
	ssize_t			 n;
	int			 fd = peer();

	pump(20);
	ipc_foreach(ipc, grab_client, &c);
	ck_assert_ptr_nonnull(c);

	/* Unsolicited frames before HELLO are dropped, not queued. */
	ck_assert_int_eq(ipc_client_send_conn_state(c, "main", 0, 4,
	    "tcp://h:9007/amps/json", 0, NULL), 0);
	ck_assert_int_eq(ipc_client_send_persisted(c, 0, 7), 0);
	ck_assert_int_eq(ipc_client_send_publish_failed(c, 0, 0, 7,
	    AMPSIPC_E_COMMAND, "no"), 0);
	ipcwire_begin(&e, fr, sizeof fr, AMPSIPC_CONN_STATE, 0, 0);
	ipcwire_put_str(&e, AMPSIPC_T_CONN, "main");
	ipcwire_put_u32(&e, AMPSIPC_T_CONN_ID, 0);
	ipcwire_put_u32(&e, AMPSIPC_T_STATE, 1);
	ck_assert_int_eq(ipcwire_end(&e, &len), 0);
	ck_assert_int_eq(ipc_client_send_frame(c, fr, len), 0);
	pump(20);
	n = recv(fd, buf, sizeof buf, 0);
	ck_assert_int_eq(n, -1);
	ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
	ck_assert(ipc_client_alive(c));

	/* The first frame is WELCOME; afterwards CONN_STATE gets through. */
	send_hello(fd, AMPSIPC_PROTO_VERSION);
	expect(fd, buf, &have, AMPSIPC_WELCOME, &m);
	ck_assert_int_eq(ipc_client_send_conn_state(c, "main", 0, 4, NULL,
	    0, NULL), 0);
	expect(fd, buf, &have, AMPSIPC_CONN_STATE, &m);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_STATE, 9), 4);
	ck_assert(!ipcwire_has(&m, AMPSIPC_T_ERRCODE));
	/* A connection down says why: the AMPS error kind and the text. */
	ck_assert_int_eq(ipc_client_send_conn_state(c, "main", 0, 5, NULL,
	    AMPSIPC_E_AUTHENTICATION, "logon failed: auth failure"), 0);
	expect(fd, buf, &have, AMPSIPC_CONN_STATE, &m);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_STATE, 9), 5);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_AUTHENTICATION);
	ck_assert_str_eq(ipcwire_str(&m, AMPSIPC_T_REASON),
	    "logon failed: auth failure");
	ck_assert_int_eq(ipc_client_send_frame(c, fr, len), 0);
	expect(fd, buf, &have, AMPSIPC_CONN_STATE, &m);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_STATE, 9), 1);
	close(fd);
}
END_TEST

/* Make a listening unix socket at p with mode 0640; returns its fd. */
static int
make_listener(const char *p, int do_listen)
{
	struct sockaddr_un	sun;
	int			fd;

	fd = test_unix_socket(p, &sun);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(chmod(p, 0640), 0);
	if (do_listen)
		ck_assert_int_eq(listen(fd, 8), 0);
	return (fd);
}

START_TEST(test_adopt_inherited_socket)
{
	static uint8_t		 buf[65536];
	char			 sp[96], *cause = NULL;
	struct ipcwire_msg	 m;
	struct ipc		*ad;
	struct stat		 sb, sb2;
	size_t			 have = 0;
	int			 lfd, fd, fl;

	snprintf(sp, sizeof sp, "%s/adopted", dir);
	lfd = make_listener(sp, 1);
	ck_assert_int_eq(lstat(sp, &sb), 0);

	/*
	 * A live socket is at the path (our own listener): a created
	 * listener would refuse it, an adopted one does not probe.
	 */
	ad = ipc2 = listen_with(sp, 0, 0, 0, lfd, &cause);
	if (ad == NULL)
		ck_abort_msg("adopt: %s", cause);
	ck_assert_int_eq(last_log[0], '\0');
	fl = fcntl(lfd, F_GETFL);
	ck_assert(fl != -1 && (fl & O_NONBLOCK));
	fl = fcntl(lfd, F_GETFD);
	ck_assert(fl != -1 && (fl & FD_CLOEXEC));
	ck_assert_int_eq(lstat(sp, &sb2), 0);
	ck_assert_uint_eq(sb2.st_ino, sb.st_ino);	/* not re-bound */
	ck_assert_uint_eq(sb2.st_mode & 0777, 0640);	/* not chmod'ed */

	fd = peer_at(sp);
	send_hello(fd, AMPSIPC_PROTO_VERSION);
	expect(fd, buf, &have, AMPSIPC_WELCOME, &m);
	send_publish(fd, 2, "orders");
	expect(fd, buf, &have, AMPSIPC_STORED, &m);
	ck_assert_uint_eq(m.hdr.reqid, 2);
	close(fd);
	pump(10);

	/* Closing never unlinks the adopted socket. */
	ipc2 = NULL;
	ipc_close(ad);
	ck_assert_int_eq(lstat(sp, &sb2), 0);
	ck_assert_uint_eq(sb2.st_ino, sb.st_ino);
	ck_assert_int_eq(fcntl(lfd, F_GETFD), -1);	/* ours was closed */
	unlink(sp);
}
END_TEST

START_TEST(test_adopt_checks)
{
	char		 sp[96], other[96], *cause = NULL;
	struct ipc	*ad;
	int		 lfd, fd;

	/* Bound but not listening: refused, and nothing is unlinked. */
	snprintf(sp, sizeof sp, "%s/notlistening", dir);
	lfd = make_listener(sp, 0);
	ck_assert_ptr_null(listen_with(sp, 0, 0, 0, lfd, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "not listening"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(access(sp, F_OK), 0);
	close(lfd);
	unlink(sp);

	/* Not a socket at all. */
	fd = open("/dev/null", O_RDONLY);
	ck_assert_ptr_null(listen_with(sp, 0, 0, 0, fd, &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	close(fd);

	/* Listening elsewhere than configured: used, with a warning. */
	snprintf(other, sizeof other, "%s/elsewhere", dir);
	lfd = make_listener(other, 1);
	ad = listen_with(sp, 0, 0, 0, lfd, &cause);
	if (ad == NULL)
		ck_abort_msg("adopt: %s", cause);
	ck_assert_ptr_nonnull(strstr(last_log, "elsewhere"));
	ck_assert_int_eq(access(sp, F_OK), -1);		/* nothing bound */
	close(peer_at(other));
	ipc_close(ad);
	ck_assert_int_eq(access(other, F_OK), 0);
	unlink(other);
}
END_TEST

START_TEST(test_budget_yields_to_next_pass)
{
	static uint8_t		 buf[65536];
	uint8_t			 fr[6 * 64];
	struct ipcwire_enc	 e;
	struct ipcwire_msg	 m;
	char			*cause = NULL;
	size_t			 have = 0, len, off = 0;
	uint32_t		 i;
	int			 fd, passes;

	ipc_close(ipc);
	ipc = listen_with(path, 0, 2, 4, -1, &cause);
	ck_assert_ptr_nonnull(ipc);
	fd = greeted_peer(buf, &have);

	/*
	 * Six publishes in one write; the budget is two per callback and
	 * four per pass.
	 */
	for (i = 0; i < 6; i++) {
		ipcwire_begin(&e, fr + off, sizeof fr - off, AMPSIPC_PUBLISH,
		    0, 10 + i);
		ipcwire_put_str(&e, AMPSIPC_T_TOPIC, "orders");
		ck_assert_int_eq(ipcwire_end(&e, &len), 0);
		off += len;
	}
	send_all(fd, fr, off);

	/* One loop pass handles two callbacks, not all six frames. */
	for (passes = 0; next_seq == 0 && passes < 100; passes++)
		loop_pass(EVLOOP_ONCE);
	ck_assert_uint_eq(next_seq, 4);
	ck_assert_uint_eq(ipc_yields(ipc), 1);
	loop_pass(EVLOOP_ONCE);
	ck_assert_uint_eq(next_seq, 6);
	for (i = 0; i < 6; i++) {
		expect(fd, buf, &have, AMPSIPC_STORED, &m);
		ck_assert_uint_eq(m.hdr.reqid, 10 + i);
	}
	close(fd);
}
END_TEST

/*
 * The pass's cap counts every client together (ipc-client.c invariant
 * 5): two programs with six publishes each, both in the kernel before
 * the pass, budget two per callback and four per pass: each pass takes
 * four of the twelve, not four from each, and every publish is answered
 * in its program's order.
 */
START_TEST(test_pass_cap_counts_all_clients)
{
	static uint8_t		 buf[2][65536];
	uint8_t			 fr[6 * 64];
	struct ipcwire_enc	 e;
	struct ipcwire_msg	 m;
	char			*cause = NULL;
	size_t			 have[2] = { 0, 0 }, len, off;
	uint32_t		 i;
	int			 fd[2], k, passes;

	ipc_close(ipc);
	ipc = listen_with(path, 0, 2, 4, -1, &cause);
	ck_assert_ptr_nonnull(ipc);
	for (k = 0; k < 2; k++)
		fd[k] = greeted_peer(buf[k], &have[k]);
	for (k = 0; k < 2; k++) {
		for (i = 0, off = 0; i < 6; i++) {
			ipcwire_begin(&e, fr + off, sizeof fr - off,
			    AMPSIPC_PUBLISH, 0, 100 * (uint32_t)k + i);
			ipcwire_put_str(&e, AMPSIPC_T_TOPIC, "orders");
			ck_assert_int_eq(ipcwire_end(&e, &len), 0);
			off += len;
		}
		send_all(fd[k], fr, off);
	}
	for (passes = 0; next_seq == 0 && passes < 100; passes++)
		loop_pass(EVLOOP_ONCE);
	ck_assert_uint_eq(next_seq, 4);
	loop_pass(EVLOOP_ONCE);
	ck_assert_uint_eq(next_seq, 8);
	loop_pass(EVLOOP_ONCE);
	ck_assert_uint_eq(next_seq, 12);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 6; i++) {
			expect(fd[k], buf[k], &have[k], AMPSIPC_STORED, &m);
			ck_assert_uint_eq(m.hdr.reqid, 100 * (uint32_t)k + i);
		}
		close(fd[k]);
	}
}
END_TEST

/* Send an ADMIN request with the given words. */
static void
send_admin(int fd, uint32_t reqid, const char *words)
{
	uint8_t			buf[256];
	struct ipcwire_enc	e;
	size_t			len;

	ipcwire_begin(&e, buf, sizeof buf, AMPSIPC_ADMIN, 0, reqid);
	if (words != NULL)
		ipcwire_put_str(&e, AMPSIPC_T_OPTIONS, words);
	ck_assert_int_eq(ipcwire_end(&e, &len), 0);
	send_all(fd, buf, len);
}

/* ipc_foreach callback: close one program for the shutdown. */
static void
shutdown_one(struct ipc_client *c, void *arg)
{
	ipc_client_shutdown(c, arg);
}

/*
 * ADMIN reaches its handler and gets ADMIN_REPLY (STATUS, DATA); one
 * without OPTIONS is malformed.  ipc_stop_accepting() removes the socket
 * but keeps serving connected programs; ipc_client_shutdown() sends them
 * a fatal SHUTTING_DOWN after their queued output, then closes them.
 */
START_TEST(test_admin_stop_shutdown)
{
	static uint8_t		 buf[65536], buf2[65536];
	struct ipcwire_msg	 m;
	struct sockaddr_un	 sun;
	const void		*data;
	size_t			 have = 0, have2 = 0, len;
	int			 fd, fd2, s;

	fd = greeted_peer(buf, &have);
	send_admin(fd, 5, "trace +wire");
	expect(fd, buf, &have, AMPSIPC_ADMIN_REPLY, &m);
	ck_assert_uint_eq(m.hdr.reqid, 5);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_STATUS, 9), 0);
	data = ipcwire_bytes(&m, AMPSIPC_T_DATA, &len);
	ck_assert_uint_eq(len, strlen("did: trace +wire"));
	ck_assert_mem_eq(data, "did: trace +wire", len);
	send_admin(fd, 6, "bad words");
	expect(fd, buf, &have, AMPSIPC_ADMIN_REPLY, &m);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_STATUS, 9), 1);

	fd2 = greeted_peer(buf2, &have2);
	send_admin(fd2, 7, NULL);
	expect(fd2, buf2, &have2, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(m.hdr.flags, AMPSIPC_F_FATAL);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_PROTOCOL);
	expect_eof(fd2, buf2, &have2);
	close(fd2);

	ipc_stop_accepting(ipc);
	ipc_stop_accepting(ipc);
	ck_assert_int_eq(access(path, F_OK), -1);
	s = test_unix_socket(path, &sun);
	ck_assert_int_eq(connect(s, (struct sockaddr *)&sun, sizeof sun), -1);
	close(s);
	send_empty(fd, AMPSIPC_PING, 8);
	expect(fd, buf, &have, AMPSIPC_PONG, &m);

	send_publish(fd, 9, "orders");
	pump(5);
	ipc_foreach(ipc, shutdown_one, "daemon shutting down");
	expect(fd, buf, &have, AMPSIPC_STORED, &m);
	ck_assert_uint_eq(m.hdr.reqid, 9);
	expect(fd, buf, &have, AMPSIPC_ERROR, &m);
	ck_assert_uint_eq(m.hdr.flags, AMPSIPC_F_FATAL);
	ck_assert_uint_eq(ipcwire_num(&m, AMPSIPC_T_ERRCODE, 0),
	    AMPSIPC_E_SHUTTING_DOWN);
	ck_assert_str_eq(ipcwire_str(&m, AMPSIPC_T_REASON),
	    "daemon shutting down");
	expect_eof(fd, buf, &have);
	close(fd);
	pump(20);
	ck_assert_uint_eq(ipc_nclients(ipc), 0);
	ck_assert_int_eq(closed_calls, 2);
}
END_TEST

static Suite *
ipcserver_suite(void)
{
	Suite	*s = suite_create("ipcserver");
	TCase	*tc = tcase_create("server");

	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_handshake_ping_publish);
	tcase_add_test(tc, test_version_mismatch);
	tcase_add_test(tc, test_garbage_drops_only_offender);
	tcase_add_test(tc, test_oversized_length_dropped);
	tcase_add_test(tc, test_first_frame_not_hello);
	tcase_add_test(tc, test_refuse_live_socket);
	tcase_add_test(tc, test_stale_socket_replaced);
	tcase_add_test(tc, test_acl_deny);
	tcase_add_test(tc, test_bad_topic);
	tcase_add_test(tc, test_per_uid_cap);
	tcase_add_test(tc, test_admin_reserve);
	tcase_add_test(tc, test_gone_not_counted);
	tcase_add_test(tc, test_bye_and_split_frames);
	tcase_add_test(tc, test_nothing_before_welcome);
	tcase_add_test(tc, test_adopt_inherited_socket);
	tcase_add_test(tc, test_adopt_checks);
	tcase_add_test(tc, test_budget_yields_to_next_pass);
	tcase_add_test(tc, test_pass_cap_counts_all_clients);
	tcase_add_test(tc, test_admin_stop_shutdown);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(ipcserver_suite()));
}
