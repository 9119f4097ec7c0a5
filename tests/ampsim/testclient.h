/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * A small blocking AMPS test client on the codec, plus helpers to run a
 * real ampsim process in a temporary directory.  Used by the ampsim
 * conformance tests and the ampsim benchmark.  Every wait has a deadline;
 * nothing sleeps to make an assertion true.
 */
#ifndef AMPSIM_TESTCLIENT_H
#define AMPSIM_TESTCLIENT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "amps.h"

/* A running ampsim. */
struct tc_srv {
	pid_t		 pid;
	int		 port;
	int		 admin_port;
	int		 repl_port;	/* -1 when not listening */
	char		 dir[256];	/* temporary directory (removed) */
	char		 logdir[300];	/* transaction log directory */
	char		 args[16][256];	/* extra arguments */
	int		 nargs;
	int		 memory;	/* no -d: the log in a memory file */
};

/*
 * Start ampsim (path from $AMPSIM, else $top_builddir/ampsim/ampsim)
 * with "-p 0 --port-file --admin-port 0 -d <dir>/log -q" and the extra
 * arguments (NULL-terminated).  Waits up to 10 s for the port file.
 * Returns 0 or -1.
 */
int	tc_srv_start(struct tc_srv *, const char *const *args);
/* The same, without -d: ampsim keeps its log in memory only. */
int	tc_srv_start_memory(struct tc_srv *, const char *const *args);
/* Stop (SIGTERM, then SIGKILL after 5 s) and wait; keep the directory. */
void	tc_srv_stop(struct tc_srv *);
/* Start again with the same directory and arguments. */
int	tc_srv_restart(struct tc_srv *);
/* Stop and remove the directory. */
void	tc_srv_destroy(struct tc_srv *);
/* Send one admin line and read the one-line reply; returns 0 if "ok". */
int	tc_admin(struct tc_srv *, const char *line, char *reply, size_t cap);

/* A client connection. */
struct tc {
	int			 fd;
	struct amps_reader	 rd;
	char			*frame;		/* last frame (copy) */
	size_t			 flen;
	struct amps_hdr		 h;		/* parsed header of frame */
	const char		*payload;
	size_t			 plen;
	int			 skip_hb;	/* ignore server heartbeats */
	int			 closed;
	uint64_t		 heartbeats;	/* heartbeats seen */
};

struct tc	*tc_connect(int port);
struct tc	*tc_connect_unix(const char *path);
void		 tc_close(struct tc *);
/* Send a frame: header JSON text and optional payload. */
int		 tc_send(struct tc *, const char *hdr, const char *payload);
int		 tc_send_raw(struct tc *, const void *, size_t);
/* printf-style header, payload separate. */
int		 tc_sendf(struct tc *, const char *payload, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
/* Receive one frame: 1, 0 on timeout, -1 when closed or bad. */
int		 tc_recv(struct tc *, int timeout_ms);
/* Receive until command c arrives (others skipped): 1, 0, -1. */
int		 tc_recv_cmd(struct tc *, const char *c, int timeout_ms);
/* Wait for the server to close the connection: 1 closed, 0 timeout. */
int		 tc_wait_closed(struct tc *, int timeout_ms);
/* Field of the last frame as a string ("" when absent). */
const char	*tc_str(struct tc *, enum amps_field);
/* Field as a number (0 when absent). */
uint64_t	 tc_num(struct tc *, enum amps_field);
int		 tc_has(struct tc *, enum amps_field);
/* Is the last frame command c (and, if a != NULL, ack type a)? */
int		 tc_is(struct tc *, const char *c, const char *a);
/* Payload of the last frame as a NUL-terminated string (static copy). */
const char	*tc_payload(struct tc *);
/* Log on; returns 0 on success and sets *seq (may be NULL). */
int		 tc_logon(struct tc *, const char *name, uint64_t *seq);

#endif /* AMPSIM_TESTCLIENT_H */
