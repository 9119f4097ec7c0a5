/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Allow rules (architecture promise 4): which local users and groups may
 * connect, publish and subscribe, per connection and topic.  Names are
 * resolved and topic expressions compiled at startup and again at every
 * reload (pubpath-reload.c swaps the compiled rules in); the IPC
 * listener calls pubpath_acl() at accept and before every request, so
 * new requests follow the rules in force when they arrive.
 *
 * Rules:
 *   (1) root and the daemon's own uid are always allowed.
 *   (2) Admin requests (STATUS) are for them only.
 *   (3) Anyone else may connect if any rule of any connection names them
 *       (by uid, primary gid, or group membership), and may publish or
 *       subscribe on a connection when a rule of that connection with
 *       that operation names them and its topic expression matches.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "pubpath-int.h"
#include "xmalloc.h"

/*
 * Compile the allow rules of block cc into *rulesp / *np (free with
 * pubpath_acl_free).  User and group names are looked up now, by
 * conf_user()/conf_group() as `ampsd -t` does (a reload looks them up
 * again).  Returns 0, or -1 with *cause and nothing
 * allocated.
 */
int
pubpath_acl_build(const struct conf_conn *cc, struct pp_allow **rulesp,
    size_t *np, char **cause)
{
	const struct conf_allow	*a;
	struct pp_allow		*rules, *r;
	size_t			 i, n = 0;

	rules = xcalloc(cc->nallows ? cc->nallows : 1, sizeof *rules);
	for (i = 0; i < cc->nallows; i++) {
		a = &cc->allows[i];
		r = &rules[i];
		r->what = a->what;
		r->is_group = a->is_group;
		if (strcmp(a->name, "*") == 0)
			r->any = 1;
		else if (!a->is_group) {
			if (conf_user(a->name, &r->uid) == -1) {
				xasprintf(cause, "connection %s: allow: no "
				    "such user \"%s\"", cc->name, a->name);
				goto fail;
			}
		} else if (conf_group(a->name, &r->gid, &r->members,
		    &r->nmembers) == -1) {
			xasprintf(cause, "connection %s: allow: no such group "
			    "\"%s\"", cc->name, a->name);
			goto fail;
		}
		if (regcomp(&r->re, a->topic, REG_EXTENDED | REG_NOSUB) != 0) {
			xasprintf(cause, "connection %s: allow: bad topic "
			    "expression", cc->name);
			goto fail;
		}
		n = i + 1;
	}
	*rulesp = rules;
	*np = n;
	return (0);

fail:
	free(rules[i].members);
	pubpath_acl_free(rules, n);
	return (-1);
}

/* Free compiled rules (NULL is fine). */
void
pubpath_acl_free(struct pp_allow *rules, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		regfree(&rules[i].re);
		free(rules[i].members);
	}
	free(rules);
}

/* Compile the allow rules of one connection; -1 with *cause on error. */
int
pubpath_acl_compile(struct pp_conn *pc, char **cause)
{
	return (pubpath_acl_build(pc->cc, &pc->allows, &pc->nallows, cause));
}

/* Does rule r cover uid/gid? */
static int
pp_allow_who(const struct pp_allow *r, uid_t uid, gid_t gid)
{
	size_t	i;

	if (r->any)
		return (1);
	if (!r->is_group)
		return (r->uid == uid);
	if (r->gid == gid)
		return (1);
	for (i = 0; i < r->nmembers; i++)
		if (r->members[i] == uid)
			return (1);
	return (0);
}

/* The ACL hook for ipc.c (architecture promise 4). */
int
pubpath_acl(void *arg, uid_t uid, gid_t gid, const char *conn,
    const char *topic, enum ipc_op op)
{
	struct pubpath	*pp = arg;
	struct pp_conn	*pc;
	size_t		 i, j;
	int		 want;

	if (uid == 0 || uid == pp->self)
		return (1);
	if (op == IPC_OP_ADMIN)
		return (0);
	if (op == IPC_OP_CONNECT) {
		for (i = 0; i < pp->nconns; i++)
			for (j = 0; j < pp->conns[i].nallows; j++)
				if (pp_allow_who(&pp->conns[i].allows[j], uid,
				    gid))
					return (1);
		return (0);
	}
	if ((pc = pubpath_find(pp, conn)) == NULL)
		return (0);
	want = op == IPC_OP_PUBLISH ? CONF_ALLOW_PUBLISH :
	    CONF_ALLOW_SUBSCRIBE;
	for (j = 0; j < pc->nallows; j++) {
		if (!(pc->allows[j].what & want) ||
		    !pp_allow_who(&pc->allows[j], uid, gid))
			continue;
		if (topic == NULL ||
		    regexec(&pc->allows[j].re, topic, 0, NULL, 0) == 0)
			return (1);
	}
	return (0);
}
