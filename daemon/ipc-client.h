/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Private interface between ipc.c (the listener) and ipc-client.c (one
 * connected program).  Nothing outside daemon/ipc*.c includes this; the
 * daemon core uses daemon/ipc.h.
 */

#ifndef AMPSD_IPC_CLIENT_H
#define AMPSD_IPC_CLIENT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>

#include "ipc.h"
#include "outq.h"

struct event;

TAILQ_HEAD(ipc_clients, ipc_client);

/* The listener and everything it shares with its clients. */
struct ipc {
	struct event_base	*base;
	struct ipc_config	 cfg;		/* strings point at copies below */
	char			*path;
	char			*daemon_version;
	char			*default_conn;
	struct ipc_handlers	 h;

	int			 fd;		/* listening socket */
	int			 adopted;	/* fd inherited: never unlink */
	dev_t			 sock_dev;	/* to unlink only our socket */
	ino_t			 sock_ino;
	int			 reserve_fd;	/* spare descriptor for EMFILE */
	struct event		*ev_accept;
	struct event		*ev_resume;	/* re-enable accept after EMFILE */
	int			 accept_paused;
	int			 stopped;	/* ipc_stop_accepting() ran */
	struct event		*ev_reap;	/* frees the graveyard */

	struct ipc_clients	 clients;	/* live clients */
	struct ipc_clients	 graveyard;	/* closed, freed on next pass */
	unsigned int		 nclients;
	uint64_t		 next_id;
	uint64_t		 yields;	/* pass_max reached, all clients */
	unsigned int		 pass_in;	/* frames of the pass, all */
	int			 reaping;	/* in ipc_client_reap() */
};

/* One connected program. */
struct ipc_client {
	TAILQ_ENTRY(ipc_client)	 entry;		/* ipc->clients or graveyard */
	struct ipc		*ipc;
	uint64_t		 id;
	int			 fd;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	char			*name;		/* from HELLO, or NULL */
	void			*data;		/* the core's */

	int			 flags;
#define IPC_CLIENT_GREETED	0x01	/* HELLO accepted */
#define IPC_CLIENT_DEAD		0x02	/* no more input; close once flushed */
#define IPC_CLIENT_CLOSED	0x04	/* closed() ran; in the graveyard */
#define IPC_CLIENT_PAUSED	0x08	/* reading paused: output too big */
#define IPC_CLIENT_HOLD		0x10	/* output from the hold point waits */
#define IPC_CLIENT_BEHIND	0x20	/* DEAD for its backlog: long linger */

	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_linger;	/* DEAD clients: close anyway */
	struct event		*ev_yield;	/* 0 s timer: read on next pass */

	uint8_t			*in;		/* read buffer */
	size_t			 inlen;
	size_t			 incap;
	struct outq		 out;		/* output (frames), hold point */
	int			 wr_armed;	/* a write is due (ev_write active
						   or waiting) */
	int			 wr_waiting;	/* ev_write added: send blocked */

	unsigned int		 pass_frames;	/* since it last ran dry */
	uint64_t		 yields;	/* pass_max reached */
	uint64_t		 early_drops;	/* unsolicited before WELCOME */
};

/* ipc.c */
/* Trace line, formatted only when the trace switch is on (cheap off). */
#define ipc_tracing(ipc)						\
	((ipc)->cfg.trace != NULL && (*(ipc)->cfg.trace & (ipc)->cfg.trace_bit))
#define ipc_trace(ipc, ...) do {					\
	if (ipc_tracing(ipc))						\
		ipc_log((ipc), IPC_LOG_TRACE, __VA_ARGS__);		\
} while (0)
void	ipc_log(struct ipc *, int, const char *, ...)
	    __attribute__((__format__(printf, 3, 4)));
void	ipc_client_gone(struct ipc *);
int	ipc_count_uid(const struct ipc *, uid_t);

/* ipc-client.c */
struct ipc_client *ipc_client_create(struct ipc *, int, uid_t, gid_t, pid_t);
void	ipc_client_close(struct ipc_client *);
void	ipc_client_free(struct ipc_client *);
void	ipc_client_release(struct ipc_client *, void *);
int	ipc_client_reap(struct ipc_client *);

#endif /* AMPSD_IPC_CLIENT_H */
