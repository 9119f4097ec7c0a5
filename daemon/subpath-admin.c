/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subpath-admin.c: what an operator does to subscriptions
 * (`ampsctl unsubscribe -name`, `ampsctl subscriptions`).  Calls
 * subpath-sub.c and subpath-out.c below it.
 *
 *   COMMAND unsubscribe + DURABLE_NAME [OPTIONS force] [CONN]
 *	-> the durable subscription NAME is deleted: its definition and
 *	   progress leave the bookmark store(s) (committed in the flush
 *	   phase).  The daemon keeps no upstream subscription for a name
 *	   no program is attached to (a program's close unsubscribes it),
 *	   so there is nothing to remove upstream then.  If a program is
 *	   attached the request is refused (SUB_EXISTS, naming the
 *	   program), unless `force`: the program's subscription then ends
 *	   with STREAM_END(COMMAND, "unsubscribed by an operator ...") and
 *	   is unsubscribed upstream before the state is deleted.
 *	   Allowed to root, the daemon's own uid, and the uid that defined
 *	   the subscription (stored with it; unknown for subscriptions
 *	   defined by an older daemon: root or the daemon's uid only).
 *   status lines (docs/IPC.md §7): one "sub" line per live subscription
 *	and one "durable" line per durable name in the bookmark stores.
 *
 * Invariants:
 *  1. A refused request changes nothing.
 *  2. After a successful one no submgr record and no bookmark store row
 *     carries the name (in the connections the request covered).
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc-wire.h"
#include "bmtrack.h"
#include "bookmarkstore.h"
#include "ipc.h"
#include "log.h"
#include "subpath.h"
#include "subpath-int.h"

/* Write a status value: "-" when empty, no spaces or control bytes. */
static void
sp_status_val(FILE *f, const char *s)
{
	const char	*p;

	if (s == NULL || *s == '\0') {
		fputc('-', f);
		return;
	}
	for (p = log_safe(s, 200); *p != '\0'; p++)
		fputc(*p == ' ' ? '_' : *p, f);
}

/*
 * COMMAND unsubscribe with DURABLE_NAME (see above).  conn is the
 * connection the request named, or -1 for all.  Returns 0 (replied).
 */
int
sp_unsub_durable(struct subpath *sp, struct ipc_client *cl,
    const struct ipcwire_msg *m, const char *name, int conn)
{
	struct submgr_sub	*s;
	const char		*opts = ipcwire_str(m, AMPSIPC_T_OPTIONS);
	char			 text[512];
	uid_t			 uid = ipc_client_uid(cl);
	size_t			 i, found = 0;
	int			 force = submgr_opts_has(opts, "force");

	s = submgr_sub_durable(sp->sm, name);
	if (s != NULL && conn >= 0 && s->connid != (uint32_t)conn)
		s = NULL;
	if (!sp_durable_may(sp, cl, m->hdr.reqid, name, conn))
		return (0);
	for (i = 0; i < sp->nconns; i++)
		if ((conn < 0 || i == (size_t)conn) &&
		    sp_store_has(sp, i, name))
			found++;
	if (found == 0 && s == NULL) {
		snprintf(text, sizeof text, "no durable subscription \"%s\"",
		    log_safe(name, 100));
		ipc_client_reply_error(cl, m->hdr.reqid, AMPSIPC_E_COMMAND,
		    text);
		return (0);
	}
	if (s != NULL) {
		if (!force) {
			snprintf(text, sizeof text, "durable subscription "
			    "\"%s\" is attached to program pid %ld (%s); end "
			    "it there, or use force", log_safe(name, 100),
			    (long)ipc_client_pid(s->client),
			    *ipc_client_name(s->client) != '\0' ?
			    ipc_client_name(s->client) : "no name");
			ipc_client_reply_error(cl, m->hdr.reqid,
			    AMPSIPC_E_SUB_EXISTS, text);
			return (0);
		}
		log_info("durable subscription %s: detached from program pid "
		    "%ld by uid %lu (forced unsubscribe)", log_safe(name, 100),
		    (long)ipc_client_pid(s->client), (unsigned long)uid);
		sp_drop_sub(sp, s, AMPSIPC_E_COMMAND, "unsubscribed by an "
		    "operator (ampsctl unsubscribe -force)", 1);
	}
	for (i = 0; i < sp->nconns; i++) {
		if ((conn >= 0 && i != (size_t)conn) ||
		    !sp_store_has(sp, i, name))
			continue;
		if (bookmarkstore_purge(sp->conns[i].bs, name) == -1) {
			snprintf(text, sizeof text, "bookmark store: %s",
			    bookmarkstore_error(sp->conns[i].bs));
			ipc_client_reply_error(cl, m->hdr.reqid,
			    AMPSIPC_E_STORE_UNAVAILABLE, text);
			return (0);
		}
		log_info("durable subscription %s: removed from connection "
		    "%s by uid %lu", log_safe(name, 100), sp->conns[i].name,
		    (unsigned long)uid);
	}
	ipc_client_reply_ok(cl, m->hdr.reqid);
	return (0);
}

/* What kind of subscription s is, for status. */
static const char *
sp_kind(const struct submgr_sub *s)
{
	if (s->durable != NULL)
		return ("durable");
	if (s->flags & SUBMGR_QUEUE || s->max_backlog != 0)
		return ("queue");
	if (s->flags & SUBMGR_STREAM)
		return ("stream");
	return ("plain");
}

struct sp_status_arg {
	struct subpath	*sp;
	FILE		*f;
	size_t		 conn;
	int64_t		 owner;		/* only names of this uid; -1 all */
};

/* bookmarkstore_foreach callback: one "durable" line. */
static int
sp_status_durable(const struct bookmarkstore_sub *d, void *arg)
{
	struct sp_status_arg	*a = arg;
	struct submgr_sub	*s = submgr_sub_durable(a->sp->sm, d->sub_id);

	if (a->owner >= 0 && d->owner != a->owner)
		return (0);
	fprintf(a->f, "durable name=");
	sp_status_val(a->f, d->sub_id);
	fprintf(a->f, " conn=%s owner_uid=", a->sp->conns[a->conn].name);
	if (d->owner < 0)
		fputc('-', a->f);
	else
		fprintf(a->f, "%lld", (long long)d->owner);
	fprintf(a->f, " attached=%d pid=", s != NULL);
	if (s != NULL)
		fprintf(a->f, "%ld", (long)ipc_client_pid(s->client));
	else
		fputc('-', a->f);
	fprintf(a->f, " state=%s topic=", s == NULL ? "idle" :
	    (s->flags & SUBMGR_DETACHED) ? "detached" : "live");
	sp_status_val(a->f, d->topic);
	fputc('\n', a->f);
	return (0);
}

/*
 * Status lines: "sub" per live subscription, "durable" per stored name
 * (of connection want, or all when want is -1); with only, just that
 * program's subscriptions and the names its uid owns.
 */
void
subpath_status(struct subpath *sp, FILE *f, int want,
    const struct ipc_client *only)
{
	struct sp_status_arg	 a;
	struct submgr_sub	*s;
	size_t			 i;

	for (s = submgr_sub_first(sp->sm); s != NULL; s = s->next) {
		if (want >= 0 && s->connid != (uint32_t)want)
			continue;
		if (only != NULL && s->client != only)
			continue;
		fprintf(f, "sub id=");
		sp_status_val(f, s->local_id);
		fprintf(f, " kind=%s conn=%s client=%llu pid=%ld uid=%lu "
		    "name=", sp_kind(s), sp->conns[s->connid].name,
		    (unsigned long long)s->client_id,
		    (long)ipc_client_pid(s->client),
		    (unsigned long)ipc_client_uid(s->client));
		sp_status_val(f, s->durable);
		fprintf(f, " delivered=%llu queued_bytes=%zu leases=%zu "
		    "acl_dropped=%llu topic=", (unsigned long long)s->delivered,
		    ipc_client_queued_req(s->client, s->reqid), s->nleases,
		    (unsigned long long)s->acl.dropped);
		sp_status_val(f, s->topic);
		fputc('\n', f);
	}
	a.sp = sp;
	a.f = f;
	a.owner = only != NULL ? (int64_t)ipc_client_uid(only) : -1;
	for (i = 0; i < sp->nconns; i++) {
		if ((want >= 0 && i != (size_t)want) || sp->conns[i].bs == NULL)
			continue;
		a.conn = i;
		(void)bookmarkstore_foreach(sp->conns[i].bs, sp_status_durable,
		    &a);
	}
}
