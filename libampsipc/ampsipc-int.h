/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * libampsipc internals shared by its files: ampsipc-conn.c (connection,
 * I/O, dispatch, blocking waits, errors), ampsipc-reconnect.c
 * (reconnecting to a restarted ampsd), ampsipc-pub.c (publishing and its
 * bookkeeping), ampsipc-cmd.c (command objects, publish and flush
 * commands), ampsipc-sub.c (commands and their routing),
 * ampsipc-stream.c (the queue of a synchronous stream) and ampsipc-ack.c
 * (acks, discards, handlers); tests/unit/check_substream.c tests the
 * stream queue through it.  Not installed.  Internal names use the prefix
 * ipclib_ (and ipcwire_ for the codec) so that the export list,
 * ^ampsipc_, never picks them up; the library is also built with
 * -fvisibility=hidden.
 */

#ifndef AMPSIPC_INT_H
#define AMPSIPC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ampsipc.h"
#include "ampsipc-wire.h"

#define AMPSIPC_OUT_LIMIT	(4U * 1024 * 1024)	/* non-blocking publish
							 * fails above */
#define AMPSIPC_OUT_BLOCK	(96U * 1024)		/* blocking publish waits
							 * above (socket full) */
#define AMPSIPC_OUT_EAGER	(64U * 1024)		/* publish writes above,
							 * then every 64 KiB more
							 * while the socket is
							 * full */
#define AMPSIPC_IN_INITIAL	(64U * 1024)
/*
 * First sizes of the output queue and of the ring of unpersisted
 * publishes: enough for a blocking publisher's queue (above) and for a
 * short-lived program's publishes, so that neither grows (a grown
 * buffer is a copy, and a page-in of every page of the copy).  Only
 * the pages used are paged in, and glibc maps blocks this big on their
 * own, so that they grow by remapping, not copying.
 */
#define AMPSIPC_OUT_INITIAL	(128U * 1024)
#define AMPSIPC_PEND_INITIAL	4096

/* One publish this handle sent whose fate is not known yet. */
struct ampsipc_pend {
	uint32_t	reqid;
	uint32_t	conn_id;
	uint64_t	seq;
	uint8_t		*frame;		/* reconnect on: the frame, until
					   STORED (sent again after an
					   ampsd restart) */
	size_t		flen;
	int		state;
#define PEND_SENT	0	/* waiting for STORED */
#define PEND_STORED	1	/* waiting for PERSISTED */
#define PEND_DONE	2	/* persisted or failed; dropped at the head */
};

/*
 * After an ampsd restart: the daemon is asked to wait for the publishes
 * of the earlier session that it had stored on connection conn_id, up
 * to seq (a PUBLISH_FLUSH with CONN_ID and SEQ); its answer settles them.
 */
struct ipclib_adopt {
	uint32_t	reqid;
	uint32_t	conn_id;
	uint64_t	seq;
};

/* The one synchronous request a blocking helper may wait for. */
struct ampsipc_wait {
	uint32_t	 reqid;		/* 0: nothing awaited */
	int		 done;
	uint16_t	 type;		/* reply type */
	int		 code;		/* ERROR code, else 0 */
	uint32_t	 status;	/* ADMIN_REPLY STATUS */
	char		*text;		/* STATUS_REPLY, ADMIN_REPLY body */
};

struct ampsipc {
	int			 fd;
	int			 flags;
#define AMPSIPC_WELCOMED	0x01	/* handshake done */
#define AMPSIPC_BROKEN		0x02	/* fatal error seen; only close */
#define AMPSIPC_NONBLOCK	0x04	/* publish fails with EAGAIN */
#define AMPSIPC_DISPATCHING	0x08	/* inside ampsipc_dispatch() */
#define AMPSIPC_LOST		0x10	/* ampsd went away: reconnect */
#define AMPSIPC_RECONNECTING	0x20	/* ipclib_reconnect() runs */
	uint32_t		 next_reqid;
	uint32_t		 max_frame;

	uint8_t			*in;		/* frames from inoff to inlen */
	size_t			 inoff;
	size_t			 inlen;
	size_t			 incap;
	uint8_t			*out;		/* output from outoff to outlen */
	size_t			 outoff;
	size_t			 outlen;
	size_t			 outcap;
	size_t			 eager_at;	/* publish writes at this outq */

	char			 daemon_version[64];
	char			 default_conn[128];
	char			*path;		/* the socket, for reconnects */
	char			*name;		/* HELLO's CLIENT_NAME */
	int			 reconnect_ms;	/* 0: off */
	uint64_t		 reconnects;	/* ampsd restarts survived */
	int			 err;
	char			 errmsg[256];

	struct ampsipc_pend	*pend;		/* ring of pcap entries */
	size_t			 phead;
	size_t			 pcount;
	size_t			 pcap;
	uint64_t		 unstored;
	uint64_t		 unpersisted;
	uint64_t		 failed;

	struct ampsipc_wait	 wait;
	struct ipclib_adopt	*adopt;		/* after an ampsd restart */
	size_t			 nadopt;

	ampsipc_pub_handler	 pub_cb;
	void			*pub_arg;
	ampsipc_conn_handler	 conn_cb;
	void			*conn_arg;
	ampsipc_conn_event_handler connev_cb;
	void			*connev_arg;

	/* Receive path (ampsipc-sub.c). */
	struct ampsipc_route	*routes;	/* commands with a handler */
	struct ampsipc_route	*last_route;	/* lookup cache */
	ampsipc_msg_handler	 lastchance_cb;
	void			*lastchance_arg;
	ampsipc_exception_handler exc_cb;
	void			*exc_arg;
	ampsipc_pub_handler	 failed_cb;
	void			*failed_arg;
	ampsipc_release_handler	 release_cb;
	size_t			 nfull;		/* streams at their max depth:
						   reading is held */
	ampsipc_wait_check	 check_cb;	/* between slices of a wait */
	void			*check_arg;
};

/*
 * A queued copy of one message (streams): the struct, then its strings
 * and data in the same allocation.
 */
struct ipclib_qmsg {
	struct ampsipc_message	 m;
	uint32_t		 reqid;
};

/* A stream's queue of copied messages (ampsipc-stream.c, pure). */
struct ipclib_sq {
	struct ipclib_qmsg	**q;	/* ring */
	size_t			  head;
	size_t			  count;
	size_t			  cap;
	uint64_t		  conflated;
};

/* A command being built (ampsipc-cmd.c). */
struct ampsipc_command {
	int		 cmd;
	int		 flags;
	int64_t		 send_timeout;	/* TIMEOUT_MS sent; -1 none */
	uint64_t	 nums_set;		/* bit per tag */
	uint64_t	 nums[AMPSIPC_T_LIMIT];
	char		*strs[AMPSIPC_T_LIMIT];
	void		*data;
	size_t		 len;
	int		 has_data;
	char		*cmd_id;	/* the program's command id */
	char		*hdrs;		/* more header fields: name\0value\0 */
	size_t		 hlen;
};

/* Where the messages of one command go. */
struct ampsipc_route {
	uint32_t		 reqid;
	int			 cmd;		/* AMPSIPC_C_* */
	int			 flags;		/* AMPSIPC_CMDF_* */
	int			 user_acks;	/* acks the program asked for */
	char			*cmd_id;	/* given to its acks */
	char			*sub_id;
	ampsipc_msg_handler	 fn;
	void			*arg;
	struct ampsipc_stream	*stream;
	int			 acked;		/* processed ack / error seen */
	int			 ended;		/* STREAM_END or failure */
	int			 code;		/* error that ended it */
	char			*text;
	int			 dead;		/* unlinked at the next sweep */
	int			 pinned;	/* execute waits on it: keep */
	/* An async subscription as the program left it, for its re-entry
	 * after an ampsd restart (ampsipc-reconnect.c). */
	struct ampsipc_command	*def;
	char			*last_bm;	/* last bookmark delivered */
	int			 paused;
	int			 resub;		/* re-entered: its processed ack
						   is not delivered again */
	struct ampsipc_route	*next;
};

struct ampsipc_stream {
	struct ampsipc		*h;
	struct ampsipc_route	*rt;
	struct ipclib_sq	 sq;
	struct ipclib_qmsg	*cur;		/* last returned */
	int			 conflate;
	size_t			 max_depth;	/* 0: no bound */
	int			 full;		/* counted in h->nfull */
};

/* Fills an encoder with one frame; called twice (count, then encode). */
typedef void (*ipclib_fill)(struct ipcwire_enc *, void *, size_t, uint32_t,
    const void *);

/* ampsipc-conn.c */
int		 ipclib_fail(struct ampsipc *, int, int, const char *, ...)
		    __attribute__((__format__(printf, 4, 5)));
uint32_t	 ipclib_reqid(struct ampsipc *);
int		 ipclib_queue(struct ampsipc *, uint32_t, ipclib_fill,
		    const void *);
int		 ipclib_wait_until(struct ampsipc *, int,
		    int (*)(struct ampsipc *, void *), void *);
int		 ipclib_request(struct ampsipc *, int, ipclib_fill,
		    const void *);
int		 ipclib_queue_raw(struct ampsipc *, const void *, size_t);
int64_t		 ipclib_now(void);

/* ampsipc-reconnect.c */
void		 ipclib_sub_record(struct ampsipc *, struct ampsipc_route *,
		    const struct ampsipc_command *);
void		 ipclib_sub_note_bm(struct ampsipc_route *,
		    const struct ampsipc_message *);
int		 ipclib_reconnect(struct ampsipc *);
int		 ipclib_handshake(struct ampsipc *, int);

/* ampsipc-cmd.c */
struct ampsipc_command *ipclib_cmd_dup(const struct ampsipc_command *);
void		 ipclib_cmd_pub_done(struct ampsipc *, uint32_t, int, int,
		    const char *, uint32_t, uint64_t);
int		 ipclib_cmd_flush_done(struct ampsipc *, uint32_t, int,
		    const char *);
int		 ipclib_cmd_send(struct ampsipc *, struct ampsipc_command *,
		    struct ampsipc_route *);

/* ampsipc-sub.c */
int		 ipclib_is_subscribe(int);
struct ampsipc_route *ipclib_route_find(struct ampsipc *, uint32_t);
void		 ipclib_route_end(struct ampsipc *, struct ampsipc_route *, int,
		    const char *);
int		 ipclib_route_deliver(struct ampsipc *, struct ampsipc_route *,
		    const struct ampsipc_message *);
int		 ipclib_route_acked(struct ampsipc *, void *);
void		 ipclib_route_free(struct ampsipc *, struct ampsipc_route *);
void		 ipclib_sub_fill(struct ipcwire_enc *, void *, size_t, uint32_t,
		    const void *);
int		 ipclib_sub_frame(struct ampsipc *, const struct ipcwire_msg *);
int		 ipclib_sub_error(struct ampsipc *, uint32_t, int,
		    const char *);
void		 ipclib_sub_sweep(struct ampsipc *);
void		 ipclib_sub_free(struct ampsipc *);
void		 ipclib_msg_from_wire(struct ampsipc_message *,
		    const struct ipcwire_msg *);

/* ampsipc-stream.c */
struct ipclib_qmsg *ipclib_qmsg_copy(const struct ampsipc_message *,
		    uint32_t);
int		 ipclib_sq_push(struct ipclib_sq *, struct ipclib_qmsg *, int);
struct ipclib_qmsg *ipclib_sq_pop(struct ipclib_sq *);
void		 ipclib_sq_clear(struct ipclib_sq *);

/* ampsipc-pub.c */
void		 ipclib_pub_stored(struct ampsipc *,
		    const struct ipcwire_msg *);
void		 ipclib_pub_persisted(struct ampsipc *,
		    const struct ipcwire_msg *);
int		 ipclib_pub_failed(struct ampsipc *, uint32_t, uint32_t,
		    uint64_t, int, const char *);
int		 ipclib_pub_failed_adopted(struct ampsipc *,
		    const struct ipcwire_msg *, int, const char *);
int		 ipclib_publish_req(struct ampsipc *, uint16_t, const char *,
		    const void *, size_t, const struct ampsipc_pubopts *,
		    const void *, size_t, uint32_t);
void		 ipclib_pub_reconnected(struct ampsipc *);
int		 ipclib_kept_across(struct ampsipc *, uint32_t);
int		 ipclib_pub_adopted(struct ampsipc *, const struct ipcwire_msg *);
void		 ipclib_pend_free_frames(struct ampsipc *);

#endif /* AMPSIPC_INT_H */
