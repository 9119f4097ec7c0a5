/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Allow rules (DESIGN.md §4 promise 4): which local users and groups may
 * connect, publish and subscribe, per connection and topic.  Names are
 * resolved and topic expressions compiled at startup and again at every
 * reload (server-reload.c swaps the compiled rules in); the IPC
 * listener calls server_acl() at accept and before every request, so
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
#include "server-int.h"
#include "xmalloc.h"

/*
 * Compile the allow rules of block cc into *rulesp / *np (free with
 * server_acl_free).  User and group names are looked up now, by
 * conf_user()/conf_group() as `ampsd -t` does (a reload looks them up
 * again).  Returns 0, or -1 with *cause and nothing
 * allocated.
 */
int
server_acl_build(const struct conf_conn *cc, struct server_allow **rulesp,
    size_t *np, char **cause)
{
	const struct conf_allow	*a;
	struct server_allow		*rules, *r;
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
	server_acl_free(rules, n);
	return (-1);
}

/* Free compiled rules (NULL is fine). */
void
server_acl_free(struct server_allow *rules, size_t n)
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
server_acl_compile(struct server_conn *sc, char **cause)
{
	return (server_acl_build(sc->cc, &sc->allows, &sc->nallows, cause));
}

/* Does rule r cover uid/gid? */
static int
srv_allow_who(const struct server_allow *r, uid_t uid, gid_t gid)
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

/* The ACL hook for ipc.c (DESIGN.md §4 promise 4). */
int
server_acl(void *arg, uid_t uid, gid_t gid, const char *conn,
    const char *topic, enum ipc_op op, const char **why)
{
	struct server	*srv = arg;
	struct server_conn	*sc;
	size_t		 i, j;
	int		 want;

	if (uid == 0 || uid == srv->self)
		return (1);
	if (op == IPC_OP_ADMIN)
		return (0);
	if (op == IPC_OP_CONNECT) {
		for (i = 0; i < srv->nconns; i++)
			for (j = 0; j < srv->conns[i].nallows; j++)
				if (srv_allow_who(&srv->conns[i].allows[j], uid,
				    gid))
					return (1);
		return (0);
	}
	if ((sc = server_find(srv, conn)) == NULL)
		return (0);
	want = op == IPC_OP_PUBLISH || op == IPC_OP_DELETE ?
	    CONF_ALLOW_PUBLISH : CONF_ALLOW_SUBSCRIBE;
	for (j = 0; j < sc->nallows; j++) {
		if (!(sc->allows[j].what & want) ||
		    !srv_allow_who(&sc->allows[j], uid, gid))
			continue;
		if (topic == NULL ||
		    regexec(&sc->allows[j].re, topic, 0, NULL, 0) == 0)
			return (1);
	}
	*why = "not permitted: topic not allowed by the allow rules";
	return (0);
}
