/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Allow rules (DESIGN.md §4 promise 4): which local users and groups may
 * connect, publish and subscribe, per connection and topic.  Names are
 * resolved and topic expressions compiled at startup and again at every
 * reload (server-reload.c swaps the compiled rules in and bumps
 * srv->acl_gen); the IPC listener calls server_acl() at accept and
 * before every request, and the receive path calls server_acl_deliver()
 * for what it delivers, so both follow the rules in force.
 *
 * Rules:
 *   (1) root and the daemon's own uid are always allowed.
 *   (2) Admin requests (ADMIN) and the admin connection reserve are
 *       for them only.  Anyone connected may ask for STATUS (the
 *       handler shows each uid its own view, server-status.c) and
 *       PUBLISH_FLUSH (it waits for the program's own publishes).
 *   (3) Anyone else may connect if any rule of any connection names them
 *       (by uid, primary gid, or group membership), and may publish or
 *       subscribe on a connection when a rule of that connection with
 *       that operation names them and its topic expression matches.
 *   (4) A topic expression matches the WHOLE topic (it is compiled as
 *       ^(EXPR)$): "orders" allows orders, not payroll-orders-secret.
 *   (5) A user is unrestricted on a connection when one of its rules for
 *       the operation matches every topic (topic_pattern_is_all: ".*").
 *       Else it is restricted, and:
 *       - a publish topic, and the topic of a DISCARD or QUEUE_ACK, is
 *         a concrete topic and must match (publishes are never regular
 *         expressions, PROTOCOL.md §12.8);
 *       - a subscribe or sow topic without regex characters must match;
 *         one with regex characters (AMPS may read it as a regular
 *         expression matching any topic) is accepted when some subscribe
 *         rule names the user, and what it brings is filtered;
 *       - a sow_delete topic must match and hold no regex character
 *         (a regular expression could delete other topics' records);
 *       - every message, SOW record, OOF and queue message delivered to
 *         the program must carry a concrete topic its subscribe rules
 *         match (server_acl_deliver, called by subpath-acl.c); others
 *         are dropped there.  The delivery check is what enforces (3)
 *         for subscriptions: the request checks only spare the program
 *         a subscription that could never deliver.
 *       An unrestricted user pays no check per message.
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
#include "topic.h"
#include "xmalloc.h"

/*
 * Compile topic expression expr to match whole topics only (rule 4).
 * The expression must compile on its own first, so its parentheses are
 * balanced and wrapping it cannot change its meaning.  Returns 0 or -1.
 */
static int
srv_acl_regcomp(regex_t *re, const char *expr)
{
	char	*whole;
	int	 rc;

	if (regcomp(re, expr, REG_EXTENDED | REG_NOSUB) != 0)
		return (-1);
	regfree(re);
	xasprintf(&whole, "^(%s)$", expr);
	rc = regcomp(re, whole, REG_EXTENDED | REG_NOSUB);
	free(whole);
	return (rc == 0 ? 0 : -1);
}

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
		if (srv_acl_regcomp(&r->re, a->topic) == -1) {
			xasprintf(cause, "connection %s: allow: bad topic "
			    "expression", cc->name);
			goto fail;
		}
		r->all = topic_pattern_is_all(a->topic);
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

/*
 * Of sc's rules for operation want (CONF_ALLOW_*) that name uid/gid:
 * how many there are (*n), whether one matches every topic (returned as
 * 2), or whether one matches topic (1; topic NULL: never).
 */
static int
srv_acl_rules(const struct server_conn *sc, int want, uid_t uid, gid_t gid,
    const char *topic, size_t *n)
{
	const struct server_allow	*r;
	size_t				 j;
	int				 match = 0;

	*n = 0;
	for (j = 0; j < sc->nallows; j++) {
		r = &sc->allows[j];
		if (!(r->what & want) || !srv_allow_who(r, uid, gid))
			continue;
		(*n)++;
		if (r->all)
			return (2);
		if (topic != NULL && !match &&
		    regexec(&r->re, topic, 0, NULL, 0) == 0)
			match = 1;
	}
	return (match);
}

/* The ACL hook for ipc.c (DESIGN.md §4 promise 4; rules above). */
int
server_acl(void *arg, uid_t uid, gid_t gid, const char *conn,
    const char *topic, enum ipc_op op, const char **why)
{
	struct server		*srv = arg;
	struct server_conn	*sc;
	size_t			 i, j, n;
	int			 want, m;

	if (uid == 0 || uid == srv->self)
		return (1);
	if (op == IPC_OP_ADMIN)
		return (0);
	/* A flush waits for the program's own publishes only; STATUS shows
	 * each uid what it may see (server-status.c). */
	if (op == IPC_OP_FLUSH || op == IPC_OP_STATUS)
		return (1);
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
	m = srv_acl_rules(sc, want, uid, gid, topic, &n);
	if (n == 0) {
		*why = want == CONF_ALLOW_PUBLISH ? "not permitted: no allow "
		    "rule of this connection lets this user publish" : "not "
		    "permitted: no allow rule of this connection lets this "
		    "user subscribe";
		return (0);
	}
	if (m == 2 || topic == NULL)
		return (1);
	if (op == IPC_OP_DELETE && topic_is_regex(topic)) {
		*why = "not permitted: sow_delete with regular-expression "
		    "characters in the topic needs an allow rule for every "
		    "topic";
		return (0);
	}
	if (op == IPC_OP_SUBSCRIBE && topic_is_regex(topic))
		return (1);	/* filtered at delivery (rule 5) */
	if (!m)
		*why = "not permitted: topic not allowed by the allow rules";
	return (m);
}

/*
 * The delivery check for the receive path (rule 5): may uid/gid receive
 * a message of topic from connection connid?  With topic NULL: may it
 * receive every topic (no check per message needed)?
 */
int
server_acl_deliver(void *arg, uid_t uid, gid_t gid, uint32_t connid,
    const char *topic)
{
	struct server	*srv = arg;
	size_t		 n;

	if (uid == 0 || uid == srv->self)
		return (1);
	if (connid >= srv->nconns)
		return (0);
	return (srv_acl_rules(&srv->conns[connid], CONF_ALLOW_SUBSCRIBE, uid,
	    gid, topic, &n) != 0);
}
