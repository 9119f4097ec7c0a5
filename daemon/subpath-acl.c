/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subpath-acl.c: the allow rules applied to what the receive path
 * delivers (server-acl.c, rule 5).  AMPS reads a subscription or query
 * topic with regex characters as a regular expression (PROTOCOL.md
 * §12.8), so a topic string that passed the request check can still
 * bring other topics.  Every message, OOF, SOW record and queue message
 * for a restricted program is therefore checked here against the
 * concrete topic it carries; subpath-deliver.c drops what is refused.
 * Sits at the bottom of the receive path with subpath-out.c: it calls
 * no other subpath file.
 *
 * Invariants:
 *  1. A delivery without a concrete topic, or with one the program's
 *     subscribe rules do not match, is refused, counted (on the
 *     subscription or query, and on the connection) and logged once per
 *     subscription or query.
 *  2. A verdict is reused only while the rules keep the generation it
 *     was made for (a reload bumps it), and only for the same topic.
 *  3. A program whose rules match every topic (root, the daemon's user,
 *     topic ".*") costs one comparison per delivery: no lookup.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "log.h"
#include "subpath.h"
#include "subpath-int.h"
#include "xmalloc.h"

/* Set the delivery check (server.c); without one everything passes. */
void
subpath_set_acl(struct subpath *sp, subpath_acl_fn fn, void *arg,
    const uint64_t *gen)
{
	sp->acl = fn;
	sp->acl_arg = arg;
	sp->acl_gen = gen;
}

/*
 * May program cl receive a delivery of topic (NULL: none given) from
 * session sess (a connection or its delta session: the connection's
 * rules), for the subscription or query whose verdicts a keeps?
 * Returns 1, or 0 after counting the refusal (invariant 1).
 */
int
sp_acl_allow(struct subpath *sp, struct ipc_client *cl, uint32_t sess,
    struct submgr_acl *a, const char *topic)
{
	uint32_t	connid = SP_CONF(sp, sess);
	uid_t		uid;
	gid_t		gid;

	if (sp->acl == NULL || cl == NULL)
		return (1);
	if (a->gen == *sp->acl_gen && a->open)
		return (1);
	uid = ipc_client_uid(cl);
	gid = ipc_client_gid(cl);
	if (a->gen != *sp->acl_gen) {
		a->gen = *sp->acl_gen;
		free(a->topic);
		a->topic = NULL;
		if ((a->open = sp->acl(sp->acl_arg, uid, gid, connid, NULL)))
			return (1);
	}
	if (topic == NULL)
		a->ok = 0;
	else if (a->topic == NULL || strcmp(a->topic, topic) != 0) {
		free(a->topic);
		a->topic = xstrdup(topic);
		a->ok = sp->acl(sp->acl_arg, uid, gid, connid, topic);
	}
	if (a->ok)
		return (1);
	if (a->dropped++ == 0)
		log_info("connection %s: program pid %ld (uid %lu) may not "
		    "receive topic %s; its deliveries of topics the allow "
		    "rules do not allow are dropped (acl_dropped in status)",
		    sp->conns[connid].name, (long)ipc_client_pid(cl),
		    (unsigned long)uid, topic != NULL ? log_safe(topic, 100) :
		    "(none)");
	sp->conns[connid].acl_dropped++;
	return (0);
}

/* Deliveries the allow rules refused on connection i (status, metrics). */
uint64_t
subpath_acl_dropped(const struct subpath *sp, size_t i)
{
	return (i < sp->nconns ? sp->conns[i].acl_dropped : 0);
}
