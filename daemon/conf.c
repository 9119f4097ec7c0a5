/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsd configuration: defaults, semantic checks, dump and cleanup of a
 * struct conf (the syntax is in conf-parse.c).  Pure logic: no sockets,
 * no stores, no event loop.
 *
 * Invariants:
 *   (1) conf_new() returns a complete configuration of defaults; parsing
 *       only overrides.  A conf that passed conf_check() has exactly one
 *       default connection, every connection has a client name (unique
 *       across connections) and at least one valid server URI.
 *   (2) Server URIs may hold passwords: they are printed only through
 *       amps_uri_redact().
 *   (3) Every error message has the form "file:line: message" (or
 *       "file: message" for whole-file problems).
 *   (4) conf_user() and conf_group() are the only places the daemon
 *       looks up local user and group names (allow rules, socket group),
 *       so `ampsd -t`, a reload and the daemon's startup agree on them.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <regex.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "amps.h"
#include "conf.h"
#include "xmalloc.h"

#ifndef AMPSD_SOCK
#define AMPSD_SOCK "/run/ampsd/ampsd.sock"
#endif

/* A configuration holding only defaults. */
struct conf *
conf_new(void)
{
	struct conf	*c;

	c = xcalloc(1, sizeof *c);
	c->socket_path = xstrdup(AMPSD_SOCK);
	c->socket_mode = 0660;
	c->state_dir = xstrdup(CONF_DEFAULT_STATEDIR);
	c->log_target = CONF_LOG_SYSLOG;
	c->log_facility = xstrdup("daemon");
	c->shutdown_ms = CONF_DEFAULT_SHUTDOWN_MS;
	return (c);
}

/* A connection block with defaults; name is copied. */
struct conf_conn *
conf_conn_new(const char *name, int line)
{
	struct conf_conn	*cc;

	cc = xcalloc(1, sizeof *cc);
	cc->name = xstrdup(name);
	cc->line = line;
	cc->heartbeat_ms = 10000;
	cc->timeout_ms = 0;
	cc->logon_timeout_ms = 0;		/* conf_conn_logon_timeout() */
	connha_default_policy(&cc->reconnect);
	cc->tls.verify = 1;
	cc->durability = CONF_DURABILITY_FULL;
	cc->memory_limit = CONF_MEMORY_LIMIT_DEFAULT;
	cc->ack_batch = 1;
	cc->ack_timeout_ms = 1000;
	return (cc);
}

/* Free a connection block (NULL is fine). */
void
conf_conn_free(struct conf_conn *cc)
{
	size_t	i;

	if (cc == NULL)
		return;
	for (i = 0; i < cc->nservers; i++)
		free(cc->servers[i].uri);
	free(cc->servers);
	for (i = 0; i < cc->nallows; i++) {
		free(cc->allows[i].name);
		free(cc->allows[i].topic);
	}
	free(cc->allows);
	free(cc->tls.ca);
	free(cc->tls.cert);
	free(cc->tls.key);
	free(cc->tls.server_name);
	free(cc->client_name);
	free(cc->name);
	free(cc);
}

/* Free a configuration (NULL is fine). */
void
conf_free(struct conf *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nconns; i++)
		conf_conn_free(c->conns[i]);
	free(c->conns);
	free(c->file);
	free(c->socket_path);
	free(c->socket_group);
	free(c->state_dir);
	free(c->log_facility);
	free(c->metrics.listen);
	free(c->log_file);
	free(c);
}

/* Append "file:line: message" (line 0: "file: message") to errs. */
void
conf_errs_add(struct conf_errs *errs, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *full;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (line > 0)
		xasprintf(&full, "%s:%d: %s", file, line, msg ? msg : "?");
	else
		xasprintf(&full, "%s: %s", file, msg ? msg : "?");
	free(msg);
	errs->v = xreallocarray(errs->v, errs->n + 1, sizeof *errs->v);
	errs->v[errs->n++] = full;
}

/* Print every message, one per line. */
void
conf_errs_print(const struct conf_errs *errs, FILE *f)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		fprintf(f, "%s\n", errs->v[i]);
}

/* Free the messages; errs can be reused afterwards. */
void
conf_errs_free(struct conf_errs *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		free(errs->v[i]);
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

/* Find a connection by name, or NULL. */
struct conf_conn *
conf_find_conn(const struct conf *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nconns; i++)
		if (strcmp(c->conns[i]->name, name) == 0)
			return (c->conns[i]);
	return (NULL);
}

/* The default connection (valid after conf_check), or NULL. */
struct conf_conn *
conf_default_conn(const struct conf *c)
{
	size_t	i;

	for (i = 0; i < c->nconns; i++)
		if (c->conns[i]->is_default)
			return (c->conns[i]);
	return (NULL);
}

/* The effective idle timeout: configured, else twice the heartbeat. */
uint64_t
conf_conn_timeout(const struct conf_conn *cc)
{
	if (cc->timeout_ms != 0)
		return (cc->timeout_ms);
	return (cc->heartbeat_ms * 2);
}

/*
 * The effective logon timeout (connect + TLS + logon): configured, else
 * the heartbeat timeout capped at CONF_LOGON_TIMEOUT_MAX (10 s), or that
 * cap with heartbeats off.  A server that does not answer a logon within
 * the time an established link may stay silent is taken as hung.
 */
uint64_t
conf_conn_logon_timeout(const struct conf_conn *cc)
{
	uint64_t	t;

	if (cc->logon_timeout_ms != 0)
		return (cc->logon_timeout_ms);
	if (cc->heartbeat_ms == 0)
		return (CONF_LOGON_TIMEOUT_MAX);
	t = conf_conn_timeout(cc);
	return (t < CONF_LOGON_TIMEOUT_MAX ? t : CONF_LOGON_TIMEOUT_MAX);
}

/* Map a syslog facility name to its value, or -1. */
int
conf_facility(const char *name)
{
	static const struct {
		const char	*name;
		int		 value;
	} tab[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t	i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(tab[i].name, name) == 0)
			return (tab[i].value);
	return (-1);
}

/* True when s holds a control byte or a square bracket (PROTOCOL.md §4.1.1). */
static int
bad_client_name(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '[' ||
		    *s == ']')
			return (1);
	return (0);
}

/*
 * True when a connection name is usable in file names (the publish store
 * is <statedir>/pub-<name>.db): [A-Za-z0-9._-], 1..64, no leading dot.
 */
static int
good_conn_name(const char *s)
{
	size_t	i;

	if (s[0] == '\0' || s[0] == '.' || strlen(s) > 64)
		return (0);
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("._-", s[i]) == NULL)
			return (0);
	return (1);
}

/* Semantic checks of one connection block. */
static void
conf_check_conn(struct conf *c, struct conf_conn *cc, struct conf_errs *errs)
{
	const char	*f = c->file ? c->file : "ampsd.conf";
	struct amps_uri	 u;
	char		 err[256], red[512];
	const char	*why;
	regex_t		 re;
	size_t		 i;
	int		 tls_used = 0;

	if (!good_conn_name(cc->name))
		conf_errs_add(errs, f, cc->line, "connection \"%s\": name must "
		    "be 1 to 64 letters, digits, '.', '_' or '-' (not starting "
		    "with '.')", cc->name);
	if (cc->client_name == NULL)
		conf_errs_add(errs, f, cc->line, "connection \"%s\": "
		    "client-name missing", cc->name);
	else if (cc->client_name[0] == '\0' || bad_client_name(cc->client_name))
		conf_errs_add(errs, f, cc->line, "connection \"%s\": "
		    "client-name must be non-empty, without control characters "
		    "or brackets", cc->name);
	if (cc->nservers == 0)
		conf_errs_add(errs, f, cc->line, "connection \"%s\": no server",
		    cc->name);
	for (i = 0; i < cc->nservers; i++) {
		if (amps_uri_parse(cc->servers[i].uri, &u, err,
		    sizeof err) != 0) {
			if (amps_uri_redact(cc->servers[i].uri, red,
			    sizeof red) < 0)
				snprintf(red, sizeof red, "(unprintable)");
			conf_errs_add(errs, f, cc->servers[i].line,
			    "connection \"%s\": server \"%.200s\": %s",
			    cc->name, red, err);
			continue;
		}
		if (u.transport == AMPS_TRANSPORT_TCPS)
			tls_used = 1;
		if (strcmp(u.protocol, "amps") != 0) {
			/* ampsd writes only the amps protocol's JSON-style
			 * headers (docs/PROTOCOL.md §1.1, §2). */
			if (amps_uri_redact(cc->servers[i].uri, red,
			    sizeof red) < 0)
				snprintf(red, sizeof red, "(unprintable)");
			conf_errs_add(errs, f, cc->servers[i].line,
			    "connection \"%s\": server \"%.200s\": protocol "
			    "\"%s\" is a legacy header protocol ampsd cannot "
			    "speak; use /amps/<message type> (e.g. "
			    "/amps/%s)", cc->name, red, u.protocol,
			    strcmp(u.protocol, "nvfix") == 0 ? "nvfix" :
			    strcmp(u.protocol, "xml") == 0 ? "xml" : "fix");
		}
		amps_uri_free(&u);
	}
	if (cc->heartbeat_ms % 1000 != 0)
		conf_errs_add(errs, f, cc->line, "connection \"%s\": heartbeat "
		    "must be whole seconds", cc->name);
	if (cc->heartbeat_ms != 0 && cc->timeout_ms != 0 &&
	    cc->timeout_ms <= cc->heartbeat_ms)
		conf_errs_add(errs, f, cc->line, "connection \"%s\": heartbeat "
		    "timeout must be longer than the interval", cc->name);
	if (cc->logon_timeout_set && cc->logon_timeout_ms == 0)
		conf_errs_add(errs, f, cc->line, "connection \"%s\": "
		    "logon-timeout must not be 0", cc->name);
	if ((why = connha_policy_check(&cc->reconnect)) != NULL)
		conf_errs_add(errs, f, cc->line, "connection \"%s\": "
		    "reconnect: %s", cc->name, why);
	if (cc->tls.line != 0) {
		if ((cc->tls.cert == NULL) != (cc->tls.key == NULL))
			conf_errs_add(errs, f, cc->tls.line, "connection "
			    "\"%s\": tls cert and key go together", cc->name);
		if (!tls_used)
			conf_errs_add(errs, f, cc->tls.line, "connection "
			    "\"%s\": tls settings but no tcps:// server",
			    cc->name);
	}
	for (i = 0; i < cc->nallows; i++) {
		if (regcomp(&re, cc->allows[i].topic,
		    REG_EXTENDED | REG_NOSUB) != 0) {
			conf_errs_add(errs, f, cc->allows[i].line, "connection "
			    "\"%s\": allow: bad topic regular expression",
			    cc->name);
			continue;
		}
		regfree(&re);
	}
}

/*
 * Check the meaning of a parsed configuration; messages go to errs.  A
 * single connection without "default" becomes the default.  Returns 0 or
 * -1.
 */
int
conf_check(struct conf *c, struct conf_errs *errs)
{
	const char		*f = c->file ? c->file : "ampsd.conf";
	struct conf_conn	*cc, *def = NULL;
	size_t			 n0 = errs->n, i, j;

	if (c->nconns == 0)
		conf_errs_add(errs, f, 0, "no connection defined");
	if (c->socket_path == NULL || c->socket_path[0] != '/')
		conf_errs_add(errs, f, 0, "socket path must be absolute");
	if (c->state_dir == NULL || c->state_dir[0] != '/')
		conf_errs_add(errs, f, 0, "state-directory must be absolute");
	if (c->log_target == CONF_LOG_FILE &&
	    (c->log_file == NULL || c->log_file[0] != '/'))
		conf_errs_add(errs, f, 0, "log file must be an absolute path");
	if (c->nconns == 1)
		c->conns[0]->is_default = 1;
	for (i = 0; i < c->nconns; i++) {
		cc = c->conns[i];
		conf_check_conn(c, cc, errs);
		if (cc->is_default) {
			if (def != NULL)
				conf_errs_add(errs, f, cc->line, "connection "
				    "\"%s\": more than one default connection "
				    "(\"%s\" is one already)", cc->name,
				    def->name);
			else
				def = cc;
		}
		if (cc->client_name == NULL)
			continue;
		for (j = 0; j < i; j++) {
			if (c->conns[j]->client_name != NULL &&
			    strcmp(c->conns[j]->client_name,
			    cc->client_name) == 0)
				conf_errs_add(errs, f, cc->line, "connection "
				    "\"%s\": client-name also used by "
				    "connection \"%s\"", cc->name,
				    c->conns[j]->name);
		}
	}
	if (c->nconns > 1 && def == NULL)
		conf_errs_add(errs, f, 0, "no default connection (put "
		    "\"default;\" in one connection block)");
	conf_metrics_check(c, errs);
	return (errs->n == n0 ? 0 : -1);
}

/* Check one file named by the configuration; what is "tls ca" etc. */
static void
conf_check_file(const struct conf *c, const struct conf_conn *cc,
    const char *what, const char *path, int secret, struct conf_errs *errs)
{
	const char	*f = c->file ? c->file : "ampsd.conf";
	struct stat	 st;

	if (path == NULL)
		return;
	if (stat(path, &st) == -1 || access(path, R_OK) == -1) {
		conf_errs_add(errs, f, cc->tls.line, "connection \"%s\": %s "
		    "\"%s\": %s", cc->name, what, path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_errs_add(errs, f, cc->tls.line, "connection \"%s\": %s "
		    "\"%s\": not a regular file", cc->name, what, path);
		return;
	}
	if (secret && (st.st_mode & 077) != 0)
		conf_errs_add(errs, f, cc->tls.line, "connection \"%s\": %s "
		    "\"%s\" is accessible by group or others (mode %04o); "
		    "chmod 600 it", cc->name, what, path,
		    (unsigned)(st.st_mode & 07777));
	if (secret && st.st_uid != 0 && st.st_uid != geteuid())
		conf_errs_add(errs, f, cc->tls.line, "connection \"%s\": %s "
		    "\"%s\" is owned by uid %u (must be root or uid %u)",
		    cc->name, what, path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
}

/*
 * Check the files the configuration names (TLS CA, certificate, key):
 * they exist and are readable, and the key is private.  Separate from
 * conf_check() because it looks at the file system.  Returns 0 or -1.
 */
int
conf_check_files(const struct conf *c, struct conf_errs *errs)
{
	const struct conf_conn	*cc;
	size_t			 i, n0 = errs->n;

	for (i = 0; i < c->nconns; i++) {
		cc = c->conns[i];
		conf_check_file(c, cc, "tls ca", cc->tls.ca, 0, errs);
		conf_check_file(c, cc, "tls cert", cc->tls.cert, 0, errs);
		conf_check_file(c, cc, "tls key", cc->tls.key, 1, errs);
	}
	return (errs->n == n0 ? 0 : -1);
}

/*
 * Look up the local user name; "*" is not a name (callers treat it as
 * anyone).  Returns 0 with *uid, or -1 if there is no such user.
 */
int
conf_user(const char *name, uid_t *uid)
{
	struct passwd	*pw;

	if ((pw = getpwnam(name)) == NULL)
		return (-1);
	*uid = pw->pw_uid;
	return (0);
}

/*
 * Look up the local group name: *gid, and when members is not NULL an
 * allocated array of the uids of its listed members that exist (free
 * it; never NULL) in *members / *nmembers.  Returns 0, or -1 if there
 * is no such group (nothing allocated).
 */
int
conf_group(const char *name, gid_t *gid, uid_t **members, size_t *nmembers)
{
	struct group	*gr;
	char		**names;
	uid_t		*v, uid;
	size_t		 i, n;

	if ((gr = getgrnam(name)) == NULL)
		return (-1);
	*gid = gr->gr_gid;
	if (members == NULL)
		return (0);
	for (n = 0; gr->gr_mem[n] != NULL; n++)
		continue;
	/* getpwnam() may reuse getgrnam()'s static buffer: copy first. */
	names = xcalloc(n ? n : 1, sizeof *names);
	for (i = 0; i < n; i++)
		names[i] = xstrdup(gr->gr_mem[i]);
	v = xcalloc(n ? n : 1, sizeof *v);
	*nmembers = 0;
	for (i = 0; i < n; i++) {
		if (conf_user(names[i], &uid) == 0)
			v[(*nmembers)++] = uid;
		free(names[i]);
	}
	free(names);
	*members = v;
	return (0);
}

/*
 * Check that the user and group names the configuration uses exist
 * (allow rules, socket group).  Separate from conf_check() because it
 * asks the system's user database.  Returns 0 or -1.
 */
int
conf_check_names(const struct conf *c, struct conf_errs *errs)
{
	const char		*f = c->file ? c->file : "ampsd.conf";
	const struct conf_conn	*cc;
	const struct conf_allow	*a;
	size_t			 i, j, n0 = errs->n;
	uid_t			 uid;
	gid_t			 gid;

	if (c->socket_group != NULL &&
	    conf_group(c->socket_group, &gid, NULL, NULL) == -1)
		conf_errs_add(errs, f, c->socket_group_line, "no such group "
		    "\"%s\" (socket group)", c->socket_group);
	for (i = 0; i < c->nconns; i++) {
		cc = c->conns[i];
		for (j = 0; j < cc->nallows; j++) {
			a = &cc->allows[j];
			if (strcmp(a->name, "*") == 0)
				continue;
			if (a->is_group && conf_group(a->name, &gid, NULL,
			    NULL) == -1)
				conf_errs_add(errs, f, a->line, "no such group "
				    "\"%s\"", a->name);
			else if (!a->is_group && conf_user(a->name, &uid) == -1)
				conf_errs_add(errs, f, a->line, "no such user "
				    "\"%s\"", a->name);
		}
	}
	return (errs->n == n0 ? 0 : -1);
}

/* Print s as a quoted string the parser reads back (\" and \\). */
static void
dump_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* Print the effective configuration (passwords redacted). */
void
conf_dump(const struct conf *c, FILE *out)
{
	const struct conf_conn	*cc;
	const char		*what;
	char			 red[4096];
	size_t			 i, j;

	fprintf(out, "socket ");
	dump_str(out, c->socket_path);
	fprintf(out, " mode %04o", (unsigned)c->socket_mode);
	if (c->socket_group != NULL) {
		fprintf(out, " group ");
		dump_str(out, c->socket_group);
	}
	fprintf(out, ";\nstate-directory ");
	dump_str(out, c->state_dir);
	fprintf(out, ";\n");
	if (c->log_target == CONF_LOG_SYSLOG)
		fprintf(out, "log syslog facility %s;\n", c->log_facility);
	else if (c->log_target == CONF_LOG_FILE) {
		fprintf(out, "log file ");
		dump_str(out, c->log_file);
		fprintf(out, ";\n");
	} else
		fprintf(out, "log stderr;\n");
	conf_metrics_dump(c, out);
	fprintf(out, "shutdown-timeout %llums;\n",
	    (unsigned long long)c->shutdown_ms);
	for (i = 0; i < c->nconns; i++) {
		cc = c->conns[i];
		fprintf(out, "connection ");
		dump_str(out, cc->name);
		fprintf(out, " {\n");
		if (cc->is_default)
			fprintf(out, "\tdefault;\n");
		fprintf(out, "\tclient-name ");
		dump_str(out, cc->client_name ? cc->client_name : "");
		fprintf(out, ";\n");
		for (j = 0; j < cc->nservers; j++) {
			if (amps_uri_redact(cc->servers[j].uri, red,
			    sizeof red) < 0)
				snprintf(red, sizeof red, "(invalid)");
			fprintf(out, "\tserver ");
			dump_str(out, red);
			fprintf(out, ";\n");
		}
		if (cc->heartbeat_ms == 0)
			fprintf(out, "\theartbeat off;\n");
		else
			fprintf(out, "\theartbeat %llums timeout %llums;\n",
			    (unsigned long long)cc->heartbeat_ms,
			    (unsigned long long)conf_conn_timeout(cc));
		if (cc->reconnect.kind == CONNHA_FIXED)
			fprintf(out, "\treconnect fixed %llums",
			    (unsigned long long)cc->reconnect.initial_ms);
		else
			fprintf(out, "\treconnect exponential initial %llums "
			    "max %llums factor %g",
			    (unsigned long long)cc->reconnect.initial_ms,
			    (unsigned long long)cc->reconnect.max_ms,
			    cc->reconnect.factor);
		fprintf(out, " give-up %llums jitter %s;\n",
		    (unsigned long long)cc->reconnect.giveup_ms,
		    cc->reconnect.jitter ? "yes" : "no");
		fprintf(out, "\tlogon-timeout %llums;\n",
		    (unsigned long long)conf_conn_logon_timeout(cc));
		if (cc->tls.line != 0) {
			fprintf(out, "\ttls {");
			if (cc->tls.ca != NULL) {
				fprintf(out, " ca ");
				dump_str(out, cc->tls.ca);
				fprintf(out, ";");
			}
			if (cc->tls.cert != NULL) {
				fprintf(out, " cert ");
				dump_str(out, cc->tls.cert);
				fprintf(out, "; key ");
				dump_str(out, cc->tls.key);
				fprintf(out, ";");
			}
			if (cc->tls.server_name != NULL) {
				fprintf(out, " server-name ");
				dump_str(out, cc->tls.server_name);
				fprintf(out, ";");
			}
			fprintf(out, " verify %s; }\n",
			    cc->tls.verify ? "yes" : "no");
		}
		if (cc->durability == CONF_DURABILITY_MEMORY)
			fprintf(out, "\tdurability memory limit %llu;\n",
			    (unsigned long long)cc->memory_limit);
		else
			fprintf(out, "\tdurability %s;\n",
			    conf_durability_name(cc->durability));
		fprintf(out, "\tqueue-ack batch %u timeout %llums;\n",
		    cc->ack_batch, (unsigned long long)cc->ack_timeout_ms);
		for (j = 0; j < cc->nallows; j++) {
			if (cc->allows[j].what == CONF_ALLOW_PUBLISH)
				what = "publish";
			else if (cc->allows[j].what == CONF_ALLOW_SUBSCRIBE)
				what = "subscribe";
			else
				what = "all";
			fprintf(out, "\tallow %s %s ", what,
			    cc->allows[j].is_group ? "group" : "user");
			dump_str(out, cc->allows[j].name);
			fprintf(out, " topic ");
			dump_str(out, cc->allows[j].topic);
			fprintf(out, ";\n");
		}
		fprintf(out, "}\n");
	}
}
