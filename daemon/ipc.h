/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The daemon side of the IPC protocol (docs/IPC.md): ipc.c is the
 * listener (socket creation, peer credentials, ACL at accept, per-uid
 * caps, descriptor reserve), ipc-client.c is one connected program (own
 * read buffer on a raw libevent event, bounded output, mechanical
 * validation, dispatch to the handlers below, replies by request id).
 *
 * Threading: everything runs on the daemon's one event-loop thread.
 *
 * Lifetime of a struct ipc_client: created at accept, destroyed after
 * the handlers' closed() callback has run.  After closed() returns the
 * daemon core must drop every pointer it holds to that client; the memory
 * itself is freed on a later loop pass, so calls made during closed() or
 * earlier in the same callback chain stay safe.  Reply functions on a
 * client that is closing do nothing and return -1.
 */

#ifndef AMPSD_IPC_H
#define AMPSD_IPC_H

#include <sys/types.h>

#include <stdint.h>

#include "ampsipc-wire.h"

struct event_base;
struct ipc;
struct ipc_client;

/* What the ACL hook is asked about. */
enum ipc_op {
	IPC_OP_CONNECT,		/* at accept: conn and topic are NULL */
	IPC_OP_PUBLISH,		/* PUBLISH, DELTA_PUBLISH */
	IPC_OP_DELETE,		/* sow_delete (stored or not) */
	IPC_OP_SUBSCRIBE,	/* subscribe family, sow, unsubscribe */
	IPC_OP_ACK,		/* DISCARD, QUEUE_ACK */
	IPC_OP_FLUSH,		/* PUBLISH_FLUSH: the program's own publishes */
	IPC_OP_STATUS,		/* STATUS: the handler shows what uid may see */
	IPC_OP_ADMIN,		/* ADMIN (300s); at accept: may this uid use
				 * the admin reserve? */
};

/*
 * ACL hook: return 1 to allow, 0 to deny (and then *why may be set to a
 * static reason for the program's ERROR; it starts NULL).  conn is the
 * target connection name as the program sent it (NULL = the default
 * connection); topic may be NULL (e.g. unsubscribe) and has passed
 * topic_check() when it is not.  Called at accept (IPC_OP_CONNECT, then
 * IPC_OP_ADMIN for the caps) and for every command before its handler.
 */
typedef int (*ipc_acl_fn)(void *arg, uid_t uid, gid_t gid, const char *conn,
    const char *topic, enum ipc_op op, const char **why);

/*
 * Log hook: level is a syslog priority (LOG_WARNING, LOG_INFO, LOG_DEBUG),
 * or IPC_LOG_TRACE for a trace line (only sent while the trace switch is
 * on, see ipc_config.trace).
 */
typedef void (*ipc_log_fn)(void *arg, int level, const char *msg);
#define IPC_LOG_TRACE	(-1)

/*
 * Listener configuration; copied by ipc_listen(), strings included.
 *
 * fd adopts an already listening AF_UNIX stream socket (systemd socket
 * activation, daemon/sdlisten.c): the listener then neither probes,
 * unlinks, binds, chmods nor chowns path, and ipc_close() never unlinks
 * it; path is only compared with the socket's own name (a mismatch is
 * logged).  Set -1 for none.  0 is also taken as none, so a zeroed
 * config keeps creating its socket (standard input is never adopted).
 */
struct ipc_config {
	const char	*path;		/* socket path, required */
	int		 fd;		/* inherited listening socket; -1 = none */
	mode_t		 mode;		/* socket mode; 0 = 0660 */
	gid_t		 group;		/* socket group; (gid_t)-1 = leave */
	/*
	 * Connection caps.  An admin uid (the ACL hook allows it
	 * IPC_OP_ADMIN; root and the daemon's own uid when there is no
	 * hook) is never refused by the per-uid cap, and the last
	 * admin_reserve connections above max_clients are for it alone.
	 */
	unsigned int	 max_per_uid;	/* connections per uid; 0 = 64 */
	unsigned int	 max_clients;	/* all clients; 0 = 1024 */
	unsigned int	 admin_reserve;	/* beyond max_clients; 0 = 16 */
	unsigned int	 budget;	/* frames per read callback; 0 = 32 */
	unsigned int	 pass_max;	/* frames per loop pass, all clients
					   together; 0 = 2048 */
	uint32_t	 max_frame;	/* 0 = AMPSIPC_MAX_FRAME */
	size_t		 out_high;	/* stop reading above; 0 = 4 MiB */
	size_t		 out_max;	/* kill "too far behind"; 0 = 64 MiB */
	const char	*daemon_version; /* sent in WELCOME; may be NULL */
	const char	*default_conn;	/* sent in WELCOME; may be NULL */
	ipc_acl_fn	 acl;		/* NULL = allow everything */
	void		*acl_arg;
	ipc_log_fn	 log;		/* NULL = silent */
	void		*log_arg;
	/*
	 * Trace switch, read before each trace line (so it can change at
	 * run time): trace lines are built only while *trace & trace_bit.
	 * NULL = never trace.
	 */
	const unsigned int *trace;
	unsigned int	 trace_bit;
};

/*
 * Handlers the daemon core registers.  Each request handler gets the
 * client, the decoded request (m->hdr.reqid is the request id to reply
 * to, m->hdr.type the message type) and arg.  It returns:
 *	0	accepted: the handler replied or will reply later by reqid
 *	> 0	an enum ampsipc_error: ipc-client sends ERROR(code) for it
 *	-1	protocol violation: the client is killed
 * A NULL handler makes that request answer ERROR NOT_SUPPORTED.
 * The ACL hook has already allowed the request when a handler runs.
 */
/* One request handler and its argument. */
struct ipc_handler {
	int	(*fn)(struct ipc_client *, const struct ipcwire_msg *, void *);
	void	*arg;
};

/*
 * What the core does with each request; a handler with no fn answers
 * NOT_SUPPORTED.  Each has its own argument, so a request goes straight
 * to the module that serves it.
 */
struct ipc_handlers {
	/* PUBLISH and DELTA_PUBLISH: store, then ipc_client_reply_stored(). */
	struct ipc_handler	 publish;
	/* PUBLISH_FLUSH: reply FLUSHED when everything stored is persisted. */
	struct ipc_handler	 flush;
	/* COMMAND: subscribe, sow, sow_delete, unsubscribe, ... */
	struct ipc_handler	 command;
	/* DISCARD: durable subscription bookmark discard. */
	struct ipc_handler	 discard;
	/* QUEUE_ACK: ack or cancel leased queue messages. */
	struct ipc_handler	 queue_ack;
	/* STATUS: ipc_client_reply_status() with the text of docs/IPC.md. */
	struct ipc_handler	 status;
	/* ADMIN: reload, trace, verbose; ipc_client_reply_admin(). */
	struct ipc_handler	 admin;
	/* Optional: a client finished its handshake. */
	void	(*hello)(struct ipc_client *, void *);
	/* A client is going away: drop every reference to it. */
	void	(*closed)(struct ipc_client *, void *);
	void	*arg;			/* of hello and closed */
};

/* ipc.c */
struct ipc	*ipc_listen(struct event_base *, const struct ipc_config *,
		    const struct ipc_handlers *, char **);
void		 ipc_stop_accepting(struct ipc *);
void		 ipc_close(struct ipc *);
unsigned int	 ipc_nclients(const struct ipc *);
uint64_t	 ipc_yields(const struct ipc *);
void		 ipc_release(struct ipc *);
void		 ipc_foreach(struct ipc *, void (*)(struct ipc_client *, void *),
		    void *);
size_t		 ipc_client_queued(const struct ipc_client *);

/* ipc-client.c: identity and per-client data for the core */
uint64_t	 ipc_client_id(const struct ipc_client *);
uid_t		 ipc_client_uid(const struct ipc_client *);
gid_t		 ipc_client_gid(const struct ipc_client *);
pid_t		 ipc_client_pid(const struct ipc_client *);
const char	*ipc_client_name(const struct ipc_client *);
int		 ipc_client_alive(const struct ipc_client *);
void		 ipc_client_set_data(struct ipc_client *, void *);
void		*ipc_client_data(const struct ipc_client *);

/*
 * ipc-client.c: replies and notifications.  Each queues one frame on the
 * client's bounded output and returns 0, or -1 if the client is closing
 * (or, for unsolicited frames, was just killed for being too far behind).
 * Strings are copied; NULL strings are left out of the frame.
 * A program that has not finished its handshake (no WELCOME yet) gets no
 * unsolicited frame: CONN_STATE, PERSISTED, PUBLISH_FAILED and frames
 * queued with ipc_client_send_frame() are dropped for it (the call
 * returns 0), so callers may broadcast to every client.
 */
/* STORED: request reqid is committed as sequence seq of connection connid. */
int	 ipc_client_reply_stored(struct ipc_client *, uint32_t reqid,
	     uint32_t connid, uint64_t seq);
/* PERSISTED: AMPS has everything up to seq on connid (conflated). */
int	 ipc_client_send_persisted(struct ipc_client *, uint32_t connid,
	     uint64_t seq);
/* PUBLISH_FAILED: AMPS refused stored message seq (reqid 0 if unknown). */
int	 ipc_client_send_publish_failed(struct ipc_client *, uint32_t reqid,
	     uint32_t connid, uint64_t seq, uint32_t code, const char *reason);
/* FLUSHED: the PUBLISH_FLUSH reqid is done. */
int	 ipc_client_reply_flushed(struct ipc_client *, uint32_t reqid);
/* OK: generic success for reqid. */
int	 ipc_client_reply_ok(struct ipc_client *, uint32_t reqid);
/* ERROR for reqid (0: about the connection); code is enum ampsipc_error. */
int	 ipc_client_reply_error(struct ipc_client *, uint32_t reqid,
	     uint32_t code, const char *text);
/* STATUS_REPLY with the status text (docs/IPC.md, "Status"). */
int	 ipc_client_reply_status(struct ipc_client *, uint32_t reqid,
	     const char *text);
/* ADMIN_REPLY: status 0 done, 1 refused or partly done; text says what. */
int	 ipc_client_reply_admin(struct ipc_client *, uint32_t reqid,
	     uint32_t status, const char *text);
/*
 * CONN_STATE: connection conn (index connid) is now in state, on server;
 * code (0: none) and reason say why it is not up.
 */
int	 ipc_client_send_conn_state(struct ipc_client *, const char *conn,
	     uint32_t connid, uint32_t state, const char *server,
	     uint32_t code, const char *reason);
/* Queue a frame the core encoded with ipcwire_* (ACK, MESSAGE, ...). */
int	 ipc_client_send_frame(struct ipc_client *, const void *, size_t);
/*
 * Queue a frame ahead of all output not yet started (e.g. STREAM_END of
 * a subscription ended for its backlog).  0, or -1 if closing.
 */
int	 ipc_client_send_urgent(struct ipc_client *, const void *, size_t);
/* Bytes of MESSAGE frames with request id reqid queued, not yet written. */
size_t	 ipc_client_queued_req(const struct ipc_client *, uint32_t reqid);
/* Drop the queued MESSAGE frames of reqid not yet started; how many. */
size_t	 ipc_client_drop_queued(struct ipc_client *, uint32_t reqid);
/*
 * Send ERROR(code, text) flagged fatal, stop reading, close once flushed.
 * For TOO_FAR_BEHIND and NO_RESOURCES the queued MESSAGE frames are
 * dropped first, so the ERROR comes right after the queued replies.
 */
void	 ipc_client_kill(struct ipc_client *, uint32_t code, const char *text);
/* The same for the daemon's shutdown: SHUTTING_DOWN, logged at debug. */
void	 ipc_client_shutdown(struct ipc_client *, const char *text);

#endif /* AMPSD_IPC_H */
