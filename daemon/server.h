/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The daemon core for publishing: one publish store and one upstream
 * connection per configured connection, the IPC handlers for publish,
 * flush and status, the ACL, and the flush phase run after every loop
 * pass.  See server.c.
 */

#ifndef AMPSD_SERVER_H
#define AMPSD_SERVER_H

#include <stdint.h>
#include <stdio.h>

struct conf;
struct ipc;
struct ipc_handlers;
struct ipc_config;
struct server;

struct server	*server_create(struct conf *, char **);
void		 server_handlers(struct server *, struct ipc_handlers *,
		    struct ipc_config *);
void		 server_set_ipc(struct server *, struct ipc *);
void		 server_start(struct server *);
void		 server_flush(void *);
void		 server_stop(struct server *);
void		 server_free(struct server *);

/* server-metrics.c: the /metrics text (a metrics_text_fn). */
int		 server_metrics_text(void *, FILE *);
void		 server_sd_status(void *, char *, size_t);

/* server-reload.c: a configuration reload, in two steps. */
struct conf_diff;
struct server_reload;
struct server_reload *server_reload_prepare(struct server *,
		    const struct conf *, const struct conf_diff *, char **);
void		 server_reload_commit(struct server *,
		    struct server_reload *);
void		 server_reload_abort(struct server_reload *);
void		 server_restart_gave_up(struct server *);

/* server-drain.c: the SIGTERM drain (drain.c). */
void		 server_drain_begin(struct server *);
int		 server_drain_left(struct server *, uint64_t *);
void		 server_drain_end(struct server *);
void		 server_drain_report(struct server *);

#endif /* AMPSD_SERVER_H */
