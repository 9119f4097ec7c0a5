/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The STATUS reply of the publish path (docs/IPC.md §7): one "ampsd"
 * line, then one "conn" line per connection, key=value pairs without
 * spaces.  Server URIs are shown with the password redacted.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "pubpath-int.h"
#include "pubstore.h"
#include "subpath.h"

/* Print s as a status value: no spaces, printable (docs/IPC.md §7). */
static void
pp_status_val(FILE *f, const char *s)
{
	const char	*p;

	if (s == NULL || *s == '\0') {
		fputc('-', f);
		return;
	}
	for (p = log_safe(s, 400); *p != '\0'; p++)
		fputc(*p == ' ' ? '_' : *p, f);
}

/*
 * IPC STATUS (docs/IPC.md §7): an "ampsd" line, then one "conn" line per
 * connection (or only the one named in CONN).  Extra keys beyond the
 * documented ones are allowed by the format.
 */
int
pubpath_status_h(struct ipc_client *cl, const struct ipc_cmd *m, void *arg)
{
	struct pubpath		*pp = arg;
	struct pp_conn		*pc;
	struct conn_status	 st;
	const char		*want = ipcwire_str(m, AMPSIPC_T_CONN);
	const char		*store;
	char			*text = NULL;
	size_t			 len = 0, i;
	FILE			*f;
	uint64_t		 now = loop_now_ms();

	if (want != NULL && *want != '\0' && pubpath_find(pp, want) == NULL)
		return (AMPSIPC_E_NO_SUCH_CONNECTION);
	if ((f = open_memstream(&text, &len)) == NULL)
		return (AMPSIPC_E_NO_RESOURCES);
	fprintf(f, "ampsd version=%s pid=%ld uptime_s=%llu clients=%u "
	    "passes=%llu subscriptions=%zu\n", PACKAGE_VERSION,
	    (long)getpid(), (unsigned long long)((now - pp->started) / 1000),
	    pp->ipc ? ipc_nclients(pp->ipc) : 0,
	    (unsigned long long)loop_passes(),
	    pp->sp != NULL ? subpath_nsubs(pp->sp) : (size_t)0);
	for (i = 0; i < pp->nconns; i++) {
		pc = &pp->conns[i];
		if (want != NULL && *want != '\0' &&
		    strcmp(want, pc->cc->name) != 0)
			continue;
		conn_get_status(pc->conn, &st);
		if (pubstore_state(pc->ps) == STORE_OK)
			store = "ok";
		else if (pubpath_store_err(pc) == AMPSIPC_E_DISK_FULL)
			store = "full";
		else
			store = "degraded";
		fprintf(f, "conn name=%s id=%u default=%d state=%s server=",
		    pc->cc->name, pc->id, pc == pp->def,
		    ipcwire_state_name(st.wire_state));
		pp_status_val(f, st.state == CONN_IDLE ||
		    st.state == CONN_GAVE_UP || st.state == CONN_STOPPED ?
		    NULL : st.server);
		fprintf(f, " client_name=");
		pp_status_val(f, st.client_name);
		fprintf(f, " next_seq=%llu persisted_seq=%llu unpersisted=%llu "
		    "store=%s detail=%s since_ms=%llu server_index=%zu/%zu "
		    "sent_seq=%llu logon_seq=%llu connects=%llu failures=%llu "
		    "last_error=",
		    (unsigned long long)pubstore_last_seq(pc->ps) + 1,
		    (unsigned long long)pubstore_discarded_seq(pc->ps),
		    (unsigned long long)pubstore_unpersisted(pc->ps), store,
		    st.state_name,
		    (unsigned long long)(now - st.state_since_ms),
		    st.server_index + 1, st.nservers,
		    (unsigned long long)st.sent_seq,
		    (unsigned long long)st.logon_seq,
		    (unsigned long long)st.connects,
		    (unsigned long long)st.failures);
		pp_status_val(f, st.last_error);
		fputc('\n', f);
	}
	fclose(f);
	ipc_client_reply_status(cl, m->hdr.reqid, text);
	free(text);
	return (0);
}
