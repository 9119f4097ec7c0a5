/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The ADMIN request (docs/IPC.md, "Admin"): operations a local operator
 * runs with ampsctl.  The request text is a command word and its
 * arguments, separated by spaces:
 *
 *	reload			reload.c, as SIGHUP
 *	trace [[+|-]CAT ...]	show or switch trace categories (log-trace.c)
 *	verbose LEVEL		info, debug or trace (0, 1, 2)
 *
 * Every reply is ADMIN_REPLY with STATUS 0 (done) or 1 (refused or done
 * in part) and a text; the trace and verbose replies read
 * "level=debug trace=connection,wire".
 *
 * Invariants:
 *   (1) Only root and the daemon's own uid get here: the IPC layer asks
 *       the ACL hook with IPC_OP_ADMIN first (server-acl.c rule 2).
 *   (2) Every change is logged at info level with the uid and pid that
 *       asked for it.
 *   (3) The request text reaches a log line only through log_safe().
 *   (4) While the daemon drains (drain.c) every request is answered
 *       ERROR SHUTTING_DOWN.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "log.h"
#include "reload.h"

/* The current level and categories as "level=L trace=CATS". */
static void
control_levels(char *buf, size_t len)
{
	char	names[64];

	log_trace_names(log_tracemask, names, sizeof names);
	snprintf(buf, len, "level=%s trace=%s",
	    log_level_name(log_get_verbose()), names);
}

/* Split off the first word of *p (modified in place); NULL if none. */
static char *
control_word(char **p)
{
	char	*w;

	*p += strspn(*p, " \t");
	if (**p == '\0')
		return (NULL);
	w = *p;
	*p += strcspn(*p, " \t");
	if (**p != '\0')
		*(*p)++ = '\0';
	return (w);
}

/* IPC ADMIN handler (ipc.h); arg is unused. */
int
control_admin_h(struct ipc_client *cl, const struct ipcwire_msg *m,
    void *arg)
{
	const char	*req;
	char		 buf[1024], reply[256], err[160], *p, *cmd, *word;
	char		*text = NULL;
	unsigned	 mask;
	int		 rc, v;

	if (drain_active())
		return (AMPSIPC_E_SHUTTING_DOWN);
	if ((req = ipcwire_str(m, AMPSIPC_T_OPTIONS)) == NULL)
		return (-1);
	snprintf(buf, sizeof buf, "%s", req);
	p = buf;
	if ((cmd = control_word(&p)) == NULL)
		cmd = "";
	log_info("control: uid %lu pid %ld: %s", (unsigned long)
	    ipc_client_uid(cl), (long)ipc_client_pid(cl), log_safe(req, 200));

	if (strcmp(cmd, "reload") == 0 && control_word(&p) == NULL) {
		rc = reload_run("ampsctl", &text);
		ipc_client_reply_admin(cl, m->hdr.reqid, rc == 0 ? 0 : 1, text);
		free(text);
		return (0);
	}
	if (strcmp(cmd, "trace") == 0) {
		mask = log_tracemask;
		if (log_trace_edit(&mask, p, err, sizeof err) == -1) {
			ipc_client_reply_admin(cl, m->hdr.reqid, 1, err);
			return (0);
		}
		if (mask != log_tracemask) {
			log_tracemask = mask;
			log_trace_names(mask, err, sizeof err);
			log_info("control: trace categories now %s", err);
		}
		control_levels(reply, sizeof reply);
		ipc_client_reply_admin(cl, m->hdr.reqid, 0, reply);
		return (0);
	}
	if (strcmp(cmd, "verbose") == 0 && (word = control_word(&p)) != NULL &&
	    control_word(&p) == NULL) {
		if ((v = log_level_parse(word)) == -1) {
			snprintf(reply, sizeof reply, "unknown level \"%s\" "
			    "(info, debug, trace)", log_safe(word, 32));
			ipc_client_reply_admin(cl, m->hdr.reqid, 1, reply);
			return (0);
		}
		log_set_verbose(v);
		if (v >= 2 && log_tracemask == 0)
			log_tracemask = TRACE_CONN | TRACE_IPC | TRACE_STORE;
		log_info("control: log level now %s", log_level_name(v));
		control_levels(reply, sizeof reply);
		ipc_client_reply_admin(cl, m->hdr.reqid, 0, reply);
		return (0);
	}
	snprintf(reply, sizeof reply, "unknown request \"%s\" (reload, "
	    "trace [[+|-]CAT ...], verbose LEVEL)", log_safe(req, 64));
	ipc_client_reply_admin(cl, m->hdr.reqid, 1, reply);
	return (0);
}
