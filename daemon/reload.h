/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Configuration reload (SIGHUP, `ampsctl reload`), the run-time log
 * switches (`ampsctl trace`, `ampsctl verbose`) and the SIGTERM drain:
 * the operations side of the daemon.  See reload.c, control.c, drain.c.
 */

#ifndef AMPSD_RELOAD_H
#define AMPSD_RELOAD_H

struct conf;
struct ipc;
struct ipc_client;
struct ipcwire_msg;
struct server;

/* reload.c */
void	 reload_init(struct conf *, const char *file, int fg, int cmd_verbose,
	    struct server *);
void	 reload_stop(void);
int	 reload_log_to(const struct conf *, int fg);
void	 reload_log_levels(const struct conf *, int cmd_verbose, unsigned);
int	 reload_run(const char *who, char **text);
void	 reload_hup(void *);

/* control.c */
int	 control_admin_h(struct ipc_client *, const struct ipcwire_msg *,
	    void *);

/* drain.c */
void	 drain_init(struct server *, struct ipc *, const struct conf *);
void	 drain_start(void *);
int	 drain_active(void);
void	 drain_report(void);

#endif /* AMPSD_RELOAD_H */
