/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pyamps.h: shared declarations of the AMPS._amps extension module, the
 * C half of the Python binding over libampsipc (docs/PYTHON.md).
 *
 * Threads and locks (the invariants every file here keeps):
 *  1. One struct pycore per Client: the libampsipc handle, a recursive
 *     mutex guarding it (libampsipc handles are one-thread-at-a-time)
 *     and the receive thread.  The core is reference counted (the
 *     Client, the receive thread, every Message and MessageStream that
 *     may act on it) and outlives the Client object when needed.
 *  2. Lock order is mutex, then GIL.  A thread holding the GIL only
 *     try-locks the mutex; when that fails it releases the GIL, locks,
 *     and takes the GIL back.  The receive thread polls and locks with
 *     the GIL released and takes the GIL only to call Python.
 *  3. Python callables run with the GIL held, on the receive thread or
 *     on a thread blocked in a call of the same client (libampsipc
 *     dispatches inside its blocking helpers).
 *  4. Nothing touches a core from a process other than the one that
 *     created it (fork): every entry point checks core->pid.
 */

#ifndef PYAMPS_H
#define PYAMPS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "ampsipc.h"

#define PYAMPS_SLICE_MS		200	/* blocking waits check signals */
#define PYAMPS_FLUSH_GAP_US	250	/* receive thread: writes at most */

extern pid_t	 pyamps_pid;		/* getpid(), kept by a fork handler */

struct pyroute;

struct pycore {
	pthread_mutex_t	 mu;		/* recursive; guards h and below */
	pthread_t	 owner;		/* holder of mu when depth > 0 */
	int		 depth;
	struct ampsipc	*h;		/* NULL once closed */
	char		*conn;		/* daemon connection, NULL: default */
	int		 wake[2];	/* pipe waking the receive thread */
	int		 kicked;	/* a wake byte is pending */
	int		 fd;		/* the handle's socket */
	int		 out_pending;	/* receive thread: output left */
	int64_t		 flush_due;	/* receive thread: write then (us) */
	int64_t		 last_flush;	/* receive thread: last write (us) */
	pthread_t	 rx;
	int		 rx_running;
	int		 stop;		/* receive thread: leave the loop */
	int		 rx_closes;	/* receive thread closes h at exit */
	int		 rx_gil;	/* receive thread holds the GIL */
	PyGILState_STATE rx_gstate;
	int		 broken;	/* connection to ampsd lost */
	int		 rx_held;	/* receive thread: a full stream
					   holds reading (max_depth) */
	int		 resume;	/* dispatch what the hold kept */
	int		 close_pending;	/* close() from inside a dispatch */
	int		 closing;	/* core_close() is running */
	pid_t		 pid;
	long		 refs;		/* atomic */
	int		 auto_ack;
	int		 reconnect_ms;	/* ampsipc_set_reconnect; 0: off */
	uint64_t	 reconnects;	/* receive thread: restarts told */

	/* Python callables (owned references; GIL to change). */
	PyObject	*exc_listener;
	PyObject	*last_chance;
	PyObject	*failed_write;
	PyObject	*disconnect_handler;
	PyObject	*state_listeners;	/* list */
	PyObject	*last_event;	/* dict: last upstream state change */
	PyObject	*pending_exc;	/* a handler's exception, for exc_cb */
	PyObject	*msg_cache;	/* a Message reused by handlers */
};

/* A route's argument: the Python handler of one execute_async. */
struct pyroute {
	struct pycore	*core;
	PyObject	*handler;
};

typedef struct {
	PyObject_HEAD
	struct pycore	*core;
	PyObject	*name;
	PyObject	*uri;
	PyObject	*weakrefs;
} ClientObject;

typedef struct {
	PyObject_HEAD
	struct pycore			*core;	/* for ack/discard; may be NULL */
	const struct ampsipc_message	*m;	/* borrowed or &own */
	struct ampsipc_message		 own;	/* detached copy */
	char				*buf;	/* holds own's strings */
} MessageObject;

typedef struct {
	PyObject_HEAD
	struct pycore		*core;
	struct ampsipc_stream	*st;
	int			 timeout_ms;	/* 0: wait for ever */
	long			 max_depth;	/* 0: no bound */
	int			 done;
} StreamObject;

/* Command fields kept by the Command type (command.c). */
#define CMD_NSTR	18
typedef struct {
	PyObject_HEAD
	int		 cmd;		/* AMPSIPC_C_*, or one of CMD_* */
	PyObject	*strs[CMD_NSTR];
	uint64_t	 nums[CMD_NSTR];
	uint32_t	 nums_set;
	PyObject	*data;		/* bytes or NULL */
	int		 flags;		/* AMPSIPC_CMDF_* */
	int		 durable_set;
} CommandObject;
#define CMD_FLUSH	100		/* not libampsipc commands */
#define CMD_HEARTBEAT	101

extern PyTypeObject	 Client_Type;
extern PyTypeObject	 Message_Type;
extern PyTypeObject	 Stream_Type;
extern PyTypeObject	 Command_Type;

/* ampsmodule.c */
PyObject	*pyamps_error(int code, const char *text);
PyObject	*pyamps_error_obj(int code, const char *text);
PyObject	*pyamps_raise_handle(struct ampsipc *, const char *what);
int		 pyamps_gil_take(struct pycore *, PyGILState_STATE *);
void		 pyamps_gil_give(struct pycore *, PyGILState_STATE, int);

/* client.c */
int		 core_lock(struct pycore *);
void		 core_unlock(struct pycore *);
int		 core_usable(struct pycore *);
void		 core_ref(struct pycore *);
void		 core_unref(struct pycore *);
void		 core_kick(struct pycore *);
void		 core_resume(struct pycore *, int was_held);
int		 core_in_dispatch(struct pycore *);
int		 core_wait(struct pycore *, int (*)(struct ampsipc *, int),
		    int timeout_ms, const char *what);
int		 core_do(struct pycore *, const char *,
		    int (*)(struct ampsipc *, void *), void *);

/* client-conn.c */
extern PyMethodDef	 client_conn_methods[];
void		 core_tell_state(struct pycore *, int);
void		 core_restarted(struct pycore *);
void		 client_conn_cb(struct ampsipc *,
		    const struct ampsipc_conn_event *, void *);

/* client-pub.c */
extern PyMethodDef	 client_pub_methods[];

/* client-sub.c */
extern PyMethodDef	 client_sub_methods[];
int		 pyamps_route_cb(struct ampsipc *,
		    const struct ampsipc_message *, void *);
void		 pyamps_release_cb(struct ampsipc *, void *);
void		 pyamps_report(struct pycore *, PyObject *exc);

/* message.c */
PyObject	*message_wrap(struct pycore *, const struct ampsipc_message *);
void		 message_done(struct pycore *, PyObject *);
PyObject	*message_copy(struct pycore *,
		    const struct ampsipc_message *);
const char	*pyamps_cmd_name(int);
const char	*pyamps_ack_name(int);

/* command.c */
int		 command_build(CommandObject *, struct ampsipc_command **);
int		 pyamps_parse_ack_types(PyObject *, uint64_t *);

/* stream.c */
PyObject	*stream_new(struct pycore *, struct ampsipc_stream *);

/* format.c */
int		 pyamps_format_init(PyObject *module);

#endif /* PYAMPS_H */
