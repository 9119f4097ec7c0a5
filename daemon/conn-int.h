/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Private to the upstream connection's files: conn.c (protocol, states,
 * recovery), conn-io.c (sockets, TLS, buffers), conn-reload.c (a
 * reload seen by one connection) and conn-trace.c (the wire trace);
 * tests/unit/check_log.c includes it for conn_trace_redact().  Nothing
 * else includes this file.
 */

#ifndef AMPSD_CONN_INT_H
#define AMPSD_CONN_INT_H

#include <openssl/ssl.h>

#include "amps.h"
#include "conn.h"
#include "connha.h"
#include "errmap.h"

#define CONN_READ_CHUNK		(256 * 1024)
#define CONN_READS_PER_CB	16
#define CONN_OUT_HIGH		(4 * 1024 * 1024)

struct event;
struct addrinfo;

struct conn_obuf {
	char		*p;
	size_t		 off;
	size_t		 len;
	size_t		 cap;
};

struct conn {
	const struct conf_conn	*cc;
	char			*name;		/* cc's, or "<cc>.delta" */
	char			*client_name;	/* the AMPS client name */
	uint32_t		 id;
	struct pubstore		*ps;
	struct conn_events	 ev;
	char			*head;		/* header of a stored publish */
	size_t			 headcap;
	enum conn_state		 state;
	uint64_t		 state_since;
	struct connha		 ha;
	struct amps_uri		*uris;
	char			**redacted;
	size_t			 nuris;
	SSL_CTX			*ctx;
	SSL			*ssl;
	int			 tls_done;
	int			 fd;
	struct addrinfo		*ai_list;	/* resolved addresses */
	struct addrinfo		*ai_next;	/* next one to try */
	int			 connected;	/* TCP/unix connect finished */
	unsigned		 gen;		/* bumped by conn_close() */
	struct event		*ev_io;		/* EV_READ, persistent */
	struct event		*ev_wr;		/* EV_WRITE, when needed */
	struct event		*ev_timer;	/* backoff, connect/logon */
	struct event		*ev_idle;
	struct event		*ev_beat;
	struct amps_reader	 rd;
	struct conn_obuf	 out;
	uint64_t		 cid;
	char			 logon_cid[24];
	char			 flush_cid[32];	/* our flush awaiting its ack */
	uint64_t		 flush_seq;	/* sent_seq when it was sent */
	uint64_t		 flush_logon;	/* connects when it was sent */
	int			 logon_retries;
	char			*retry_user;
	char			*retry_pw;
	uint64_t		 last_rx;
	uint64_t		 last_beat;
	uint64_t		 sent_seq;
	uint64_t		 recover_target;
	uint64_t		 logon_seq;
	uint64_t		 persisted_seq;
	uint64_t		 connects;
	uint64_t		 failures;
	uint64_t		 frames_in;
	uint64_t		 frames_out;
	uint64_t		 reconnects;	/* attempts from BACKOFF */
	uint64_t		 pub_sent;	/* publishes sent upstream */
	uint64_t		 pub_replayed;	/* ... at or below max_sent */
	uint64_t		 max_sent;	/* highest seq ever sent, or in
						   the store at startup */
	uint64_t		 renumbered;	/* never-sent rows moved above
						   the server's sequence */
	uint64_t		 seq_assumed;	/* rows taken as persisted by a
						   sequence that was not ours */
	uint64_t		 server_lost;	/* logons whose s was behind the
						   persisted point */
	uint64_t		 damaged;	/* rows that failed their
						   checksum, not sent */
	char			 last_error[256];
	enum errmap_conn	 why;		/* the next conn_fail()'s kind */
	enum errmap_conn	 down_why;	/* why not up; NONE once ready */
	char			 down_reason[256]; /* logon failure reason */
};

/* conn.c */
void	conn_fail(struct conn *, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));
void	conn_connected(struct conn *);
int	conn_frame(struct conn *, const char *, uint32_t);
void	conn_set_state(struct conn *, enum conn_state);

/* conn-trace.c */
size_t	conn_trace_redact(const char *, size_t, char *, size_t);
void	conn_trace_parts(const struct conn *, int, const char *, size_t,
	    const char *, size_t, const char *, size_t);
void	conn_trace_frame(const struct conn *, int, const char *, size_t,
	    size_t);

/* conn-io.c */
int	conn_io_open(struct conn *, char **);
void	conn_io_close(struct conn *);
void	conn_io_flush(struct conn *);
void	conn_out_put(struct conn *, const void *, size_t);
size_t	conn_out_pending(const struct conn *);
void	conn_arm(struct event *, uint64_t);

#endif /* AMPSD_CONN_INT_H */
