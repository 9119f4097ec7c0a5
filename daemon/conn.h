/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * One upstream AMPS HA connection per configured connection block:
 * connect (tcp, tcps, unix), logon, heartbeats, reconnect through
 * connha, publish-store recovery and sending.  See conn.c.
 */

#ifndef AMPSD_CONN_H
#define AMPSD_CONN_H

#include <stddef.h>
#include <stdint.h>

struct conf_conn;
struct pubstore;
struct conn;
struct amps_hdr;

/* name, status-text name, ampsipc-wire state number */
#define CONN_STATES(X)					\
	X(IDLE,		"idle",		0)		\
	X(CONNECTING,	"connecting",	1)		\
	X(LOGGING_ON,	"logging-on",	2)		\
	X(RECOVERING,	"recovering",	3)		\
	X(READY,	"ready",	4)		\
	X(BACKOFF,	"backoff",	5)		\
	X(GAVE_UP,	"gave-up",	6)		\
	X(STOPPED,	"stopped",	6)

enum conn_state {
#define CONN_STATE_ENUM(e, s, w)	CONN_##e,
	CONN_STATES(CONN_STATE_ENUM)
#undef CONN_STATE_ENUM
};

/* Snapshot for `ampsctl status`; strings are copies. */
struct conn_status {
	char		 name[128];
	char		 client_name[128];
	enum conn_state	 state;
	const char	*state_name;
	uint32_t	 wire_state;	/* AMPSIPC_STATE_* */
	char		 server[512];	/* current URI, password redacted */
	size_t		 server_index;
	size_t		 nservers;
	uint64_t	 state_since_ms; /* monotonic */
	uint64_t	 connects;	/* successful logons */
	uint64_t	 failures;	/* failed attempts and disconnects */
	uint64_t	 sent_seq;	/* highest sequence sent upstream */
	uint64_t	 persisted_seq;	/* highest persisted ack seen */
	uint64_t	 logon_seq;	/* s of the last logon ack */
	uint64_t	 frames_in;
	uint64_t	 frames_out;
	uint64_t	 reconnects;	/* connection attempts after a failure */
	uint64_t	 pub_sent;	/* publishes sent upstream */
	uint64_t	 pub_replayed;	/* ... that had been sent before */
	uint64_t	 renumbered;	/* never-sent messages renumbered above
					   the server's sequence at logon */
	uint64_t	 seq_assumed;	/* unpersisted messages taken as
					   persisted by a server sequence that
					   did not come from this store */
	uint64_t	 server_lost;	/* logons where the server was behind
					   what it had persisted (lost log) */
	uint64_t	 damaged;	/* stored messages that failed their
					   checksum (quarantined, not sent) */
	char		 last_error[256];
	int		 down_why;	/* enum errmap_conn: why not up */
	uint32_t	 errcode;	/* its AMPS exception kind (errmap) */
};

/* Upcalls into the daemon core (the publish path). */
struct conn_events {
	/* AMPS persisted everything <= seq (after pubstore_discard_upto). */
	void	(*persisted)(struct conn *, uint64_t seq, void *);
	/* AMPS refused seq (after pubstore_fail). */
	void	(*failed)(struct conn *, uint64_t seq, const char *reason,
		    void *);
	/* The state changed. */
	void	(*state)(struct conn *, enum conn_state, void *);
	/*
	 * At logon, before any persisted upcall: every stored message
	 * with seq > after now has seq + delta (never sent, renumbered
	 * above the server's sequence; pubstore_logon()).  May be NULL.
	 */
	void	(*renumbered)(struct conn *, uint64_t after, uint64_t delta,
		    void *);
	void	*arg;		/* of persisted, failed, state, renumbered */
	/* Any other frame (deliveries, acks of commands); may be NULL. */
	void	(*frame)(struct conn *, const struct amps_hdr *,
		    const char *data, size_t len, void *);
	void	*frame_arg;
};

struct conn	*conn_create(const struct conf_conn *, uint32_t id,
		    struct pubstore *, const struct conn_events *, char **);
struct conn	*conn_create_session(const struct conf_conn *, uint32_t id,
		    const char *suffix, struct pubstore *,
		    const struct conn_events *, char **);
void		 conn_start(struct conn *);
void		 conn_stop(struct conn *);
void		 conn_restart(struct conn *);
void		 conn_reconnect_now(struct conn *, const char *);
void		 conn_free(struct conn *);
void		 conn_pump(struct conn *);
void		 conn_flush_output(struct conn *);
void		 conn_flush_upto(struct conn *, uint64_t);
enum conn_state	 conn_state(const struct conn *);
const char	*conn_state_name(enum conn_state);
uint32_t	 conn_wire_state(enum conn_state);
const char	*conn_name(const struct conn *);
uint32_t	 conn_id(const struct conn *);
uint64_t	 conn_sent_seq(const struct conn *);
void		 conn_get_status(const struct conn *, struct conn_status *);
int		 conn_send_raw(struct conn *, const void *, size_t);

/* conn-reload.c: a configuration reload, in two steps. */
struct conn_reload;
struct conn_reload *conn_reload_prepare(struct conn *,
		    const struct conf_conn *, unsigned, char **);
void		 conn_reload_commit(struct conn *, struct conn_reload *);
void		 conn_reload_abort(struct conn_reload *);

/* conn-tls.c */
struct ssl_ctx_st;
struct ssl_st;
struct ssl_ctx_st *conn_tls_ctx(const struct conf_conn *, char **);
struct ssl_st	*conn_tls_new(struct ssl_ctx_st *, int fd, const char *host,
		    const char *server_name, char **);
const char	*conn_tls_error(void);

#endif /* AMPSD_CONN_H */
