/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The daemon core for publishing: one publish store and one upstream
 * connection per configured connection, the IPC handlers for publish,
 * flush and status, the ACL, and the flush phase run after every loop
 * pass.  See pubpath.c.
 */

#ifndef AMPSD_PUBPATH_H
#define AMPSD_PUBPATH_H

#include <stdint.h>
#include <stdio.h>

struct conf;
struct ipc;
struct ipc_handlers;
struct ipc_config;
struct pubpath;

struct pubpath	*pubpath_create(struct conf *, char **);
void		 pubpath_handlers(struct pubpath *, struct ipc_handlers *,
		    struct ipc_config *);
void		 pubpath_set_ipc(struct pubpath *, struct ipc *);
void		 pubpath_start(struct pubpath *);
void		 pubpath_flush(void *);
void		 pubpath_stop(struct pubpath *);
void		 pubpath_free(struct pubpath *);

/* pubpath-metrics.c: the /metrics text (a metrics_text_fn). */
int		 pubpath_metrics_text(void *, FILE *);
void		 pubpath_sd_status(void *, char *, size_t);

/* pubpath-reload.c: a configuration reload, in two steps. */
struct conf_diff;
struct pubpath_reload;
struct pubpath_reload *pubpath_reload_prepare(struct pubpath *,
		    const struct conf *, const struct conf_diff *, char **);
void		 pubpath_reload_commit(struct pubpath *,
		    struct pubpath_reload *);
void		 pubpath_reload_abort(struct pubpath_reload *);
void		 pubpath_restart_gave_up(struct pubpath *);

/* pubpath-drain.c: the SIGTERM drain (drain.c). */
void		 pubpath_drain_begin(struct pubpath *);
int		 pubpath_drain_left(struct pubpath *, uint64_t *);
void		 pubpath_drain_end(struct pubpath *);
void		 pubpath_drain_report(struct pubpath *);

#endif /* AMPSD_PUBPATH_H */
