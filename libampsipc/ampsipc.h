/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * libampsipc: talk to ampsd, the local AMPS sidecar daemon.
 *
 * A program creates a handle, connects it to the daemon's unix socket,
 * and publishes.  The daemon stores each publish durably, answers
 * "stored" with its sequence, sends it to AMPS and later reports it
 * "persisted" by AMPS.  A program may exit as soon as its publishes are
 * stored: the daemon delivers them, across its own restarts and AMPS
 * failover.
 *
 * Rules for every function below:
 * - The library never exits, never prints, never installs signal
 *   handlers and keeps no global state; handles are independent.  A
 *   handle must be used by one thread at a time.
 * - Functions that can fail return -1 (or NULL) and set errno; the
 *   handle also records an enum ampsipc_error code and a message text,
 *   read with ampsipc_error() and ampsipc_errmsg().
 * - The descriptor is non-blocking and close-on-exec.  Programs with
 *   their own poll loop watch ampsipc_fd() and call ampsipc_read(),
 *   ampsipc_dispatch() and ampsipc_write(); the blocking helpers
 *   (ampsipc_connect, ampsipc_wait_stored, ampsipc_publish_flush,
 *   ampsipc_ping, ampsipc_status, ampsipc_admin, ampsipc_poll) run the
 *   same steps
 *   internally with a timeout.
 * - Handlers are called only from inside ampsipc_dispatch(),
 *   ampsipc_poll() and the blocking helpers.  A handler may publish but
 *   must not call ampsipc_close() or a blocking helper.
 * - Pointers handed to a handler are valid until the handler returns.
 * - Timeouts are in milliseconds; a negative timeout waits forever.
 */

#ifndef AMPSIPC_H
#define AMPSIPC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AMPSIPC_API	__attribute__((__visibility__("default")))

/*
 * Error codes: X(name, number, text).  The numbers travel in the IPC
 * protocol and are never renumbered.  1-49 are the AMPS client's
 * exception kinds, 50-99 the daemon's own, 100 and up arise inside the
 * library.
 */
#define AMPSIPC_ERRORS(X)						\
	X(OK,			  0, "success")				\
	X(PROTOCOL,		  1, "IPC protocol error")		\
	X(VERSION,		  2, "IPC protocol version mismatch")	\
	X(AUTHENTICATION,	  3, "authentication failed")		\
	X(BAD_FILTER,		  4, "bad filter")			\
	X(BAD_REGEX_TOPIC,	  5, "bad regex topic")			\
	X(INVALID_TOPIC,	  6, "invalid topic")			\
	X(NOT_ENTITLED,		  7, "not entitled")			\
	X(NAME_IN_USE,		  8, "name in use")			\
	X(SUB_EXISTS,		  9, "subscription already exists")	\
	X(TIMED_OUT,		 10, "timed out")			\
	X(DISCONNECTED,		 11, "disconnected from AMPS")		\
	X(COMMAND,		 12, "command failed")			\
	X(INVALID_URI,		 13, "invalid URI")			\
	X(CONNECTION_REFUSED,	 14, "connection refused")		\
	X(TRANSPORT_OPTIONS,	 15, "invalid transport options")	\
	X(TRANSPORT_TYPE,	 16, "unknown transport type")		\
	X(MESSAGE_TYPE,		 17, "message type error")		\
	X(RETRY,		 18, "operation may be retried")	\
	X(STREAM,		 19, "corrupt data from AMPS")		\
	X(UNKNOWN,		 20, "unknown error")			\
	X(CONNECTION,		 21, "connection error")		\
	X(NOT_PERMITTED,	 50, "not permitted by ACL")		\
	X(STORE_UNAVAILABLE,	 51, "store unavailable")		\
	X(DISK_FULL,		 52, "disk full")			\
	X(TOO_FAR_BEHIND,	 53, "too far behind")			\
	X(NOT_SUPPORTED,	 54, "not supported by daemon")		\
	X(NO_SUCH_CONNECTION,	 55, "no such connection")		\
	X(TOO_BIG,		 56, "message too large")		\
	X(LIMIT,		 57, "daemon connection limit reached")	\
	X(SHUTTING_DOWN,	 58, "daemon shutting down")		\
	X(NO_RESOURCES,		 59, "daemon out of resources")		\
	X(SYSTEM,		100, "system error")			\
	X(USAGE,		101, "invalid argument or state")	\
	X(CLOSED,		102, "connection to ampsd closed")

enum ampsipc_error {
#define AMPSIPC_ERROR_ENUM(name, num, text)	AMPSIPC_E_##name = num,
	AMPSIPC_ERRORS(AMPSIPC_ERROR_ENUM)
#undef AMPSIPC_ERROR_ENUM
};

struct ampsipc;		/* one connection to ampsd; opaque */

/*
 * Create an unconnected handle.  Returns NULL with errno ENOMEM on
 * failure.  Free it with ampsipc_close().
 */
AMPSIPC_API struct ampsipc *ampsipc_create(void);

/*
 * Connect to ampsd and do the version handshake, waiting at most
 * timeout_ms.  path is the socket; NULL means $AMPSD_SOCKET if set, else
 * the built-in default.  name is a label for the daemon's logs and
 * status (may be NULL).  Returns 0, or -1 with errno and the handle's
 * error set: ENOENT/ECONNREFUSED (no daemon; AMPSIPC_E_SYSTEM),
 * EPROTONOSUPPORT (AMPSIPC_E_VERSION; the message reads "client
 * protocol N, server M"), EACCES (AMPSIPC_E_NOT_PERMITTED), ETIMEDOUT,
 * EISCONN if already connected.
 */
AMPSIPC_API int		 ampsipc_connect(struct ampsipc *, const char *path,
			    const char *name, int timeout_ms);

/*
 * Close the connection and free the handle (NULL is allowed).  Output
 * the socket can take at once is written; nothing is waited for: call
 * ampsipc_wait_stored() first to be sure the daemon holds every publish.
 */
AMPSIPC_API void	 ampsipc_close(struct ampsipc *);

/* The socket descriptor to poll, or -1 when not connected. */
AMPSIPC_API int		 ampsipc_fd(const struct ampsipc *);

/* Bytes queued for the daemon; poll for POLLOUT while this is not 0. */
AMPSIPC_API size_t	 ampsipc_outq(const struct ampsipc *);

/*
 * Write queued output without blocking.  Returns 0 when everything is
 * written, 1 when output remains, -1 on error (EPIPE/ECONNRESET:
 * AMPSIPC_E_CLOSED).
 */
AMPSIPC_API int		 ampsipc_write(struct ampsipc *);

/*
 * Read what the socket has, without blocking, into the handle's buffer.
 * Returns the number of bytes read (0 if none was ready), or -1 on error
 * or when the daemon closed the connection (AMPSIPC_E_CLOSED).
 */
AMPSIPC_API int		 ampsipc_read(struct ampsipc *);

/*
 * Handle every complete frame read so far: update publish bookkeeping
 * and call the handlers.  Returns the number of frames handled, or -1 on
 * a protocol error or a fatal ERROR from the daemon (the handle's error
 * says which); the connection is then unusable.
 */
AMPSIPC_API int		 ampsipc_dispatch(struct ampsipc *);

/*
 * One turn of a loop for programs without their own: wait up to
 * timeout_ms for the socket, then write, read and dispatch.  Returns the
 * number of frames handled (0 on timeout), or -1 as ampsipc_dispatch().
 */
AMPSIPC_API int		 ampsipc_poll(struct ampsipc *, int timeout_ms);

/*
 * Choose what ampsipc_publish() does when the socket is full: block
 * once 96 KiB are queued until the daemon has taken half (0, the
 * default), or queue up to 4 MiB and then fail with EAGAIN (1).
 * Returns the previous setting.
 */
AMPSIPC_API int		 ampsipc_set_nonblock(struct ampsipc *, int);

/* Options for ampsipc_publish(); every member may be left zero/NULL. */
struct ampsipc_pubopts {
	const char	*correlation_id;	/* AMPS x (Base64 alphabet) */
	const char	*sow_key;		/* AMPS k, user-keyed SOW topics */
	const char	*conn;			/* daemon connection; NULL = default */
	uint32_t	 expiration;		/* AMPS e, seconds, if flag below */
	unsigned int	 flags;
#define AMPSIPC_PUB_EXPIRATION	0x1		/* expiration is set */
};

/*
 * Queue a publish of len bytes of data to topic (a literal topic).
 * opts may be NULL.  If reqidp is not NULL it receives the request id
 * that later STORED/PERSISTED/FAILED events carry.  The call returns
 * once the frame is queued (and written if the socket takes it); it does
 * not wait for the daemon.  Returns 0, or -1: EINVAL (NULL topic, empty
 * topic), EMSGSIZE (frame above the daemon's limit; AMPSIPC_E_TOO_BIG),
 * ENOTCONN, EAGAIN (non-blocking mode and the output limit reached),
 * ENOMEM.
 */
AMPSIPC_API int		 ampsipc_publish(struct ampsipc *, const char *topic,
			    const void *data, size_t len,
			    const struct ampsipc_pubopts *opts,
			    uint32_t *reqidp);

/* As ampsipc_publish(), as an AMPS delta_publish (merged into the SOW). */
AMPSIPC_API int		 ampsipc_delta_publish(struct ampsipc *,
			    const char *topic, const void *data, size_t len,
			    const struct ampsipc_pubopts *opts,
			    uint32_t *reqidp);

/* What happened to one publish. */
struct ampsipc_pubevent {
	int		 kind;
#define AMPSIPC_PUB_STORED	1	/* committed to the daemon's store */
#define AMPSIPC_PUB_PERSISTED	2	/* AMPS has persisted it */
#define AMPSIPC_PUB_FAILED	3	/* refused; will not be retried */
	uint32_t	 reqid;		/* from ampsipc_publish() */
	uint32_t	 conn_id;	/* daemon's index of the connection */
	uint64_t	 seq;		/* AMPS sequence on that connection */
	int		 error;		/* FAILED: enum ampsipc_error */
	const char	*reason;	/* FAILED: text; never NULL */
};

typedef void (*ampsipc_pub_handler)(struct ampsipc *,
    const struct ampsipc_pubevent *, void *arg);

/*
 * Install (or with NULL remove) the handler for publish events: one
 * call per publish for STORED, PERSISTED and FAILED.
 */
AMPSIPC_API void	 ampsipc_set_pub_handler(struct ampsipc *,
			    ampsipc_pub_handler, void *arg);

/*
 * Block until every publish queued so far is stored by the daemon (or
 * failed), at most timeout_ms.  After it returns 0 the program may exit:
 * the daemon delivers the stored messages.  Returns 0, or -1 with
 * ETIMEDOUT (AMPSIPC_E_TIMED_OUT), or the error that ended the
 * connection.  Failed publishes do not make it fail; count them with a
 * handler or ampsipc_failed().
 */
AMPSIPC_API int		 ampsipc_wait_stored(struct ampsipc *, int timeout_ms);

/*
 * Block until AMPS has persisted every publish this handle sent, on
 * every connection it published on (the AMPS publish_flush), at most
 * timeout_ms.  The daemon is always asked: it sends AMPS a flush, so
 * the wait does not depend on the server's ack conflation, and it
 * answers once everything this program stored is persisted or refused.
 * Returns 0, or -1 with ETIMEDOUT (AMPSIPC_E_TIMED_OUT; the message
 * names the connection still waiting and its state; the messages stay
 * in the daemon's store and are still delivered), or the error that
 * ended the connection.  timeout_ms 0 asks without waiting.
 */
AMPSIPC_API int		 ampsipc_publish_flush(struct ampsipc *,
			    int timeout_ms);

/*
 * As ampsipc_publish_flush(), for the publishes made on connection conn
 * only (NULL: every connection).  AMPSIPC_E_NO_SUCH_CONNECTION for a
 * name the daemon does not know.
 */
AMPSIPC_API int		 ampsipc_publish_flush_conn(struct ampsipc *,
			    const char *conn, int timeout_ms);

/* Publishes sent on this handle that are neither persisted nor failed. */
AMPSIPC_API uint64_t	 ampsipc_unpersisted(const struct ampsipc *);

/* Publishes sent on this handle that the daemon has not yet stored. */
AMPSIPC_API uint64_t	 ampsipc_unstored(const struct ampsipc *);

/* Publishes on this handle that failed (PUBLISH_FAILED) so far. */
AMPSIPC_API uint64_t	 ampsipc_failed(const struct ampsipc *);

typedef void (*ampsipc_conn_handler)(struct ampsipc *, const char *conn,
    uint32_t conn_id, int state, const char *server, void *arg);

/*
 * Install (or with NULL remove) the handler for changes of an upstream
 * connection's state.  state is one of AMPSIPC_CONN_*; server is the
 * current server without credentials, or "" if none.
 */
AMPSIPC_API void	 ampsipc_set_conn_handler(struct ampsipc *,
			    ampsipc_conn_handler, void *arg);

/* A change of an upstream connection's state, with why it is not up. */
struct ampsipc_conn_event {
	const char	*conn;		/* connection name */
	uint32_t	 conn_id;
	int		 state;		/* AMPSIPC_CONN_* */
	const char	*server;	/* current server, no credentials; "" */
	int		 error;		/* why not up: enum ampsipc_error, 0 */
	const char	*reason;	/* its text; "" if none */
};

typedef void (*ampsipc_conn_event_handler)(struct ampsipc *,
    const struct ampsipc_conn_event *, void *arg);

/*
 * Install (or with NULL remove) a handler for connection state changes
 * that also hears why a connection is not up: error is the AMPS
 * client's exception kind of the last failure (AMPSIPC_E_AUTHENTICATION
 * for "auth failure", _NAME_IN_USE, _CONNECTION_REFUSED, _CONNECTION for
 * a TLS failure, _DISCONNECTED for a lost connection, _TIMED_OUT for a
 * timeout or giving up, ...; docs/IPC.md §4), 0 once it is up.  It is
 * called after the handler of ampsipc_set_conn_handler(), if any.
 */
AMPSIPC_API void	 ampsipc_set_conn_event_handler(struct ampsipc *,
			    ampsipc_conn_event_handler, void *arg);
#define AMPSIPC_CONN_DISCONNECTED	0
#define AMPSIPC_CONN_CONNECTING		1
#define AMPSIPC_CONN_LOGGING_ON		2
#define AMPSIPC_CONN_RECOVERING		3
#define AMPSIPC_CONN_CONNECTED		4
#define AMPSIPC_CONN_BACKOFF		5
#define AMPSIPC_CONN_STOPPED		6

/*
 * Outlive an ampsd restart (timeout_ms > 0; 0, the default, turns it
 * off): when the connection to ampsd is lost after the handshake (the
 * daemon stopped or restarted), the call that notices connects again to
 * the same socket, trying for up to timeout_ms before it fails.  It
 * never happens inside a handler.  Then publishes the daemon had not
 * stored are sent again, those it had stored are waited for by the new
 * daemon, and every asynchronous subscription is entered again as the
 * program left it (replaced, paused or resumed; durable ones from the
 * daemon's bookmark store, bookmark ones after the last bookmark
 * delivered); streams, queries and flush commands end with
 * AMPSIPC_E_DISCONNECTED.  A publish sent in the moment ampsd was
 * killed (not stopped) may reach AMPS twice.  docs/IPC.md §11.
 * Returns the previous setting.
 */
AMPSIPC_API int		 ampsipc_set_reconnect(struct ampsipc *,
			    int timeout_ms);
/* How many times this handle connected again after ampsd went away. */
AMPSIPC_API uint64_t	 ampsipc_reconnects(const struct ampsipc *);

/*
 * Install (or with NULL remove) a check run by every blocking call
 * while it waits (ampsipc_connect and a reconnect to a restarted ampsd
 * included): at least every AMPSIPC_CHECK_MS and whenever a signal
 * interrupts its poll.  When fn returns non-zero the call stops and
 * fails with errno EINTR (AMPSIPC_E_SYSTEM, "interrupted"), as after a
 * timeout: a command waiting for its processed ack is taken back.  For
 * programs that must answer signals during a wait (a language binding
 * checking for Ctrl-C).  fn must not call into the handle.
 */
typedef int (*ampsipc_wait_check)(struct ampsipc *, void *arg);
#define AMPSIPC_CHECK_MS	200
AMPSIPC_API void	 ampsipc_set_wait_check(struct ampsipc *,
			    ampsipc_wait_check, void *arg);

/* Round trip to the daemon.  Returns 0, or -1 (ETIMEDOUT, ...). */
AMPSIPC_API int		 ampsipc_ping(struct ampsipc *, int timeout_ms);

/*
 * Ask the daemon for its status (format: docs/IPC.md, "Status"), for
 * connection conn or all (NULL).  On success *textp is a NUL-terminated
 * string the caller frees with free().  Returns 0, or -1 (ENOTSUP if the
 * daemon does not implement it: AMPSIPC_E_NOT_SUPPORTED; ETIMEDOUT).
 */
AMPSIPC_API int		 ampsipc_status(struct ampsipc *, const char *conn,
			    char **textp, int timeout_ms);

/*
 * An administrative request (root or the daemon's own user only;
 * docs/IPC.md, "Admin"): "reload", "trace [+|-]CAT...", "verbose LEVEL".
 * On a reply *textp is the daemon's result text, which the caller frees
 * with free().  Returns 0 when the daemon did what was asked, 1 when it
 * refused or did only part of it (a broken configuration; settings that
 * need a restart; a bad argument): *textp says why.  Returns -1 on error
 * with *textp NULL (EACCES: not permitted; ENOTSUP: a daemon without
 * admin requests; ETIMEDOUT).
 */
AMPSIPC_API int		 ampsipc_admin(struct ampsipc *, const char *request,
			    char **textp, int timeout_ms);

/*
 * The daemon's version string and default connection name from the
 * handshake ("" before it).  Valid until ampsipc_close().
 */
AMPSIPC_API const char	*ampsipc_daemon_version(const struct ampsipc *);
AMPSIPC_API const char	*ampsipc_default_conn(const struct ampsipc *);

/* The last error on this handle (AMPSIPC_E_OK if none). */
AMPSIPC_API int		 ampsipc_error(const struct ampsipc *);

/*
 * The last error's message, with detail (e.g. "client protocol 1,
 * server 2", or the daemon's reason text); "" if none.  Valid until the
 * next call on the handle.
 */
AMPSIPC_API const char	*ampsipc_errmsg(const struct ampsipc *);

/* Static text for an enum ampsipc_error ("unknown error code" if unknown). */
AMPSIPC_API const char	*ampsipc_strerror(int);


/* ------------------------------------------------------------------
 * Receiving: subscriptions, SOW queries, queues, durable subscriptions.
 *
 * A command object carries one AMPS command and any of its header
 * fields.  Run it either asynchronously (ampsipc_execute_async: every
 * message goes to a handler called from ampsipc_dispatch(),
 * ampsipc_poll() or a blocking helper) or synchronously
 * (ampsipc_execute: a stream the program reads with a timeout).
 * Asynchronous subscriptions are kept by the daemon across upstream
 * failover (re-entered; sow_and_subscribe re-runs its query and the
 * program sees a new group_begin..group_end).  Synchronous ones end
 * (AMPSIPC_E_DISCONNECTED) when the upstream connection drops.
 */

/* Commands (field command of a command and of a message). */
#define AMPSIPC_C_PUBLISH		 1	/* message: a publish ("p") */
#define AMPSIPC_C_DELTA_PUBLISH		 2
#define AMPSIPC_C_SUBSCRIBE		 3
#define AMPSIPC_C_DELTA_SUBSCRIBE	 4
#define AMPSIPC_C_SOW			 5	/* also a SOW record */
#define AMPSIPC_C_SOW_AND_SUBSCRIBE	 6
#define AMPSIPC_C_SOW_AND_DELTA_SUBSCRIBE 7
#define AMPSIPC_C_SOW_DELETE		 8
#define AMPSIPC_C_UNSUBSCRIBE		 9
#define AMPSIPC_C_FLUSH			10	/* command: publish_flush */
#define AMPSIPC_C_ACK			11	/* message: an ack */
#define AMPSIPC_C_OOF			12	/* message: out of focus */
#define AMPSIPC_C_GROUP_BEGIN		13
#define AMPSIPC_C_GROUP_END		14
/*
 * Message only, never sent: the daemon ended this subscription (a
 * handler's last message; error and reason say why, e.g.
 * AMPSIPC_E_TOO_FAR_BEHIND or AMPSIPC_E_DISCONNECTED).  Streams end
 * with that error instead (ampsipc_stream_next returns -1).
 */
#define AMPSIPC_C_END			15

/* Ack types (bits of ampsipc_cmd_ack_types and of message ack_type). */
#define AMPSIPC_ACK_RECEIVED	0x01
#define AMPSIPC_ACK_PARSED	0x02
#define AMPSIPC_ACK_PROCESSED	0x04
#define AMPSIPC_ACK_PERSISTED	0x08
#define AMPSIPC_ACK_COMPLETED	0x10
#define AMPSIPC_ACK_STATS	0x20

/* Command fields for ampsipc_cmd_set_str / ampsipc_cmd_set_num. */
#define AMPSIPC_FIELD_TOPIC		 2	/* str: t */
#define AMPSIPC_FIELD_CORRELATION_ID	 4	/* str: x */
#define AMPSIPC_FIELD_SOW_KEY		 5	/* str: k */
#define AMPSIPC_FIELD_EXPIRATION	 6	/* num: e, seconds (publish) */
#define AMPSIPC_FIELD_CONN		 7	/* str: daemon connection */
#define AMPSIPC_FIELD_FILTER		 8	/* str: f */
#define AMPSIPC_FIELD_OPTIONS		 9	/* str: o */
#define AMPSIPC_FIELD_SUB_ID		10	/* str: sub_id (or a list) */
#define AMPSIPC_FIELD_QUERY_ID		12	/* str: query_id */
#define AMPSIPC_FIELD_BOOKMARK		13	/* str: bm, or "recent" */
#define AMPSIPC_FIELD_BATCH_SIZE	14	/* num: bs */
#define AMPSIPC_FIELD_TOP_N		15	/* num: top_n */
#define AMPSIPC_FIELD_ORDER_BY		16	/* str: orderby */
#define AMPSIPC_FIELD_SOW_KEYS		17	/* str: sow_keys */
#define AMPSIPC_FIELD_ACK_TYPES		18	/* num: AMPSIPC_ACK_* bits */
#define AMPSIPC_FIELD_TIMEOUT		19	/* num: ms to wait for acks */
#define AMPSIPC_FIELD_SKIP_N		45	/* num: skip_n */
#define AMPSIPC_FIELD_MAX_BACKLOG	46	/* num: queue max_backlog */
/* str: the AMPS command id (cid): kept by the library, given back in
 * the command's acks (message command_id); ampsd sets the cid AMPS sees */
#define AMPSIPC_FIELD_COMMAND_ID	63

/* Bookmark constants (PROTOCOL.md §8.2). */
#define AMPSIPC_BOOKMARK_EPOCH		"0"
#define AMPSIPC_BOOKMARK_NOW		"0|1|"
#define AMPSIPC_BOOKMARK_MOST_RECENT	"recent"

struct ampsipc_command;		/* one command being built; opaque */
struct ampsipc_stream;		/* a synchronous message stream; opaque */

/* One message, ack or SOW record; strings are "" when absent. */
struct ampsipc_message {
	int		 command;	/* AMPSIPC_C_* */
	const char	*topic;
	const void	*data;
	size_t		 len;
	const char	*sub_id;	/* the program's id */
	const char	*sub_ids;	/* sids, if the server sent a list */
	const char	*query_id;
	const char	*bookmark;
	const char	*sow_key;
	const char	*correlation_id;
	const char	*timestamp;
	const char	*lease_period;	/* set: a queue message to ack */
	const char	*user_id;
	const char	*reason;	/* oof reason, or ack failure text */
	const char	*options;	/* ack: e.g. max_backlog=N */
	int		 ack_type;	/* ack: one AMPSIPC_ACK_* bit */
	int		 status;	/* ack: 0 success, 1 failure */
	int		 error;		/* ack failure: enum ampsipc_error */
	uint32_t	 conn_id;
	uint32_t	 max_backlog;	/* queue subscribe ack: granted */
	uint64_t	 seq;
	uint64_t	 group_seq;
	uint64_t	 matches;
	uint64_t	 topic_matches;
	uint64_t	 records_returned;
	uint64_t	 records_inserted;
	uint64_t	 records_updated;
	uint64_t	 records_deleted;
	const char	*command_id;	/* the command's AMPSIPC_FIELD_COMMAND_ID */
};

/*
 * A message handler.  Return 0 when the message is processed; anything
 * else counts as a failure: the exception listener is told, and with
 * auto-ack a queue message is cancelled (returned to the queue) instead
 * of acked.
 */
typedef int (*ampsipc_msg_handler)(struct ampsipc *,
    const struct ampsipc_message *, void *arg);

/*
 * A new command (AMPSIPC_C_PUBLISH .. AMPSIPC_C_FLUSH); NULL with errno
 * ENOMEM/EINVAL.  publish and delta_publish executed this way are
 * publishes (stored by the daemon, like ampsipc_publish()); their
 * handler or stream gets a persisted ack when AMPS persisted them (if
 * the command asks for persisted acks) and a failure ack when it
 * refused them.  flush is ampsipc_publish_flush_conn() for the
 * command's CONN and TIMEOUT: a processed ack (and completed and
 * persisted, if asked) once everything the program published is
 * persisted, else a failure ack.
 */
AMPSIPC_API struct ampsipc_command *ampsipc_cmd_new(int command);
AMPSIPC_API void	 ampsipc_cmd_free(struct ampsipc_command *);
/* Set a string field (NULL clears it).  0, or -1 EINVAL/ENOMEM. */
AMPSIPC_API int		 ampsipc_cmd_set_str(struct ampsipc_command *, int field,
			    const char *);
/* Set a numeric field.  0, or -1 EINVAL. */
AMPSIPC_API int		 ampsipc_cmd_set_num(struct ampsipc_command *, int field,
			    uint64_t);
/*
 * Set any AMPS header field by its name (the AMPS client's Command
 * setters): a name with a field of its own sets that field ("topic" or
 * "t", "filter" or "f", "options" or "o", "bookmark" or "bm",
 * "correlation_id" or "x", "sow_key" or "k", "sow_keys", "sub_id",
 * "query_id", "orderby", "top_n", "batch_size" or "bs", "skip_n",
 * "expiration" or "e", "ack_type" or "a" (a comma list of ack names),
 * "cid" or "command_id"); any other name is passed on, and ampsd writes
 * it into the AMPS command if it is a header field AMPS defines that
 * ampsd does not set itself (docs/IPC.md §5; else the command fails
 * with AMPSIPC_E_COMMAND).  NULL value removes it.  0, or -1 EINVAL
 * ("c", or a bad number) or ENOMEM.
 */
AMPSIPC_API int		 ampsipc_cmd_set_header(struct ampsipc_command *,
			    const char *name, const char *value);
/* The payload (publish, delta_publish, sow_delete by data).  0, or -1. */
AMPSIPC_API int		 ampsipc_cmd_set_data(struct ampsipc_command *,
			    const void *, size_t);
/* Flags for ampsipc_cmd_set_flags. */
#define AMPSIPC_CMDF_DURABLE	 0x01	/* bookmark store keyed by sub_id */
#define AMPSIPC_CMDF_AUTO_ACK	 0x02	/* queue: ack after the handler */
#define AMPSIPC_CMDF_AUTO_DISCARD 0x04	/* durable: discard after handler */
#define AMPSIPC_CMDF_CONFLATE	 0x08	/* stream: keep latest per sow key */
AMPSIPC_API int		 ampsipc_cmd_set_flags(struct ampsipc_command *, int);
/* The sub_id the command uses (set, or chosen by execute). */
AMPSIPC_API const char	*ampsipc_cmd_sub_id(const struct ampsipc_command *);

/*
 * Send cmd; its messages go to fn.  When the command's timeout (field
 * TIMEOUT, default 10 s) is not 0 and this is not called from a handler,
 * wait for the processed ack and fail as it does (-1 with the mapped
 * error: AMPSIPC_E_BAD_FILTER, _INVALID_TOPIC, _SUB_EXISTS, ...).
 * Otherwise return at once and the ack goes to fn.  The command object
 * may be freed or reused afterwards.  Returns 0 or -1.
 */
AMPSIPC_API int		 ampsipc_execute_async(struct ampsipc *,
			    struct ampsipc_command *, ampsipc_msg_handler,
			    void *arg);

/*
 * Send cmd and return a stream of its messages, after its processed ack
 * (waiting at most the command's timeout).  NULL with the error set.
 */
AMPSIPC_API struct ampsipc_stream *ampsipc_execute(struct ampsipc *,
			    struct ampsipc_command *);

/*
 * Next message of a stream, waiting at most timeout_ms.  Returns 1 with
 * *mp set (valid until the next call or ampsipc_stream_close), 0 on
 * timeout, -1 when the stream is over (errno 0 and AMPSIPC_E_OK for a
 * normal end, e.g. a finished SOW query or an unsubscribe; otherwise the
 * error that ended it).  With auto-ack/auto-discard the previous message
 * is acked/discarded first.
 */
AMPSIPC_API int		 ampsipc_stream_next(struct ampsipc_stream *,
			    const struct ampsipc_message **mp, int timeout_ms);
/* Conflate by sow key from now on (PROTOCOL.md §9.9). */
AMPSIPC_API void	 ampsipc_stream_conflate(struct ampsipc_stream *);
/* Messages waiting in the stream. */
AMPSIPC_API size_t	 ampsipc_stream_pending(const struct ampsipc_stream *);
/*
 * Hold at most n unread messages in the stream (0, the default: no
 * bound).  While it holds n, the handle stops taking frames from ampsd:
 * ampsipc_read() reads nothing and ampsipc_dispatch() leaves the frames
 * already read, so the daemon's flow control toward a slow program
 * applies.  Replies and other routes' messages wait too: a blocking
 * call other than ampsipc_stream_next() on this stream waits until the
 * stream is drained below n (or times out).  ampsipc_stream_next() and
 * the other blocking calls dispatch what was held once there is room; a
 * program with its own poll loop checks ampsipc_held() before polling
 * for input and calls ampsipc_dispatch() after taking a message.
 */
AMPSIPC_API void	 ampsipc_stream_max_depth(struct ampsipc_stream *,
			    size_t n);
/* 1 while a stream at its max depth holds reading (see above), else 0. */
AMPSIPC_API int		 ampsipc_held(const struct ampsipc *);
/* Unsubscribe (if still running) and free the stream. */
AMPSIPC_API void	 ampsipc_stream_close(struct ampsipc_stream *);

/*
 * Unsubscribe one sub_id, a comma list, or "all".  Local routes end at
 * once.  Returns 0, or -1.
 */
AMPSIPC_API int		 ampsipc_unsubscribe(struct ampsipc *,
			    const char *sub_id, int timeout_ms);

/*
 * An operator's request: remove the durable subscription name (its
 * bookmark store state) on connection conn (NULL: every connection that
 * has it).  Refused with AMPSIPC_E_SUB_EXISTS while a program is
 * attached, unless force, which ends that program's subscription
 * (AMPSIPC_E_COMMAND, "unsubscribed by an operator").  Allowed to the
 * uid that defined it, root and the daemon's uid (else
 * AMPSIPC_E_NOT_PERMITTED).  Returns 0, or -1.
 */
AMPSIPC_API int		 ampsipc_unsubscribe_durable(struct ampsipc *,
			    const char *name, const char *conn, int force,
			    int timeout_ms);

/*
 * Queue messages: acknowledge (remove) it, or with options "cancel"
 * return it to the queue or "expire" expire it.  The daemon batches
 * acks upstream.  ampsipc_ack() is a no-op (0) for non-queue messages.
 */
AMPSIPC_API int		 ampsipc_ack(struct ampsipc *,
			    const struct ampsipc_message *, const char *options);
AMPSIPC_API int		 ampsipc_ack_bookmark(struct ampsipc *,
			    const char *topic, const char *bookmark,
			    const char *sub_id, const char *options);

/*
 * Durable subscriptions: the message is processed; the daemon moves the
 * subscription's resume point.  No-op (0) without a bookmark.
 */
AMPSIPC_API int		 ampsipc_discard(struct ampsipc *,
			    const struct ampsipc_message *);

/*
 * Handlers for what no route claims: the last-chance handler gets
 * messages for no known command; the exception listener gets errors on
 * the receive side (a handler that failed, a stream or subscription
 * ended by an error) as code and text; the failed-write handler gets
 * publishes AMPS refused.
 */
typedef void (*ampsipc_exception_handler)(struct ampsipc *, int code,
    const char *text, void *arg);
AMPSIPC_API void	 ampsipc_set_last_chance_handler(struct ampsipc *,
			    ampsipc_msg_handler, void *arg);
AMPSIPC_API void	 ampsipc_set_exception_listener(struct ampsipc *,
			    ampsipc_exception_handler, void *arg);
AMPSIPC_API void	 ampsipc_set_failed_write_handler(struct ampsipc *,
			    ampsipc_pub_handler, void *arg);

/*
 * Install (or with NULL remove) the handler told when the library no
 * longer uses the arg given to ampsipc_execute_async() with a handler:
 * called exactly once per such call, when its route is dropped (ended,
 * unsubscribed, a failed execute, ampsipc_close()), after the handler's
 * last call.  For programs whose arg holds a reference that must be
 * released (a language binding's callable).  It is called from the
 * same places as the message handlers and from ampsipc_close(); it
 * must not call back into the handle.
 */
typedef void (*ampsipc_release_handler)(struct ampsipc *, void *arg);
AMPSIPC_API void	 ampsipc_set_release_handler(struct ampsipc *,
			    ampsipc_release_handler);

#ifdef __cplusplus
}
#endif
#endif /* AMPSIPC_H */
