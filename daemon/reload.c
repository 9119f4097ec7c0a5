/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Configuration reload: SIGHUP and `ampsctl reload` (control.c).  The
 * file named at startup is read and checked again exactly as at startup
 * (conf_parse_file, conf_check, conf_check_files); conf-diff.c decides
 * what changes and what needs a restart; this module applies it:
 *
 *	read + check	broken: log every error (file:line) at warning
 *			level, change nothing, answer "rejected"
 *	diff		conf_diff(running, next)
 *	prepare		server_reload_prepare (servers, TLS files, allow
 *			rules: can fail -> rejected, nothing changed)
 *	log target	log_open (can fail -> rejected, nothing changed)
 *	commit		server_reload_commit, conf_diff_apply, log level
 *			and trace, restart connections that gave up
 *	report		each setting that needs a restart at warning level
 *			("... requires a restart; keeping the old value"),
 *			then one summary line at info level
 *
 * Choice: a reload with settings that need a restart is applied in part
 * (the rest takes effect, those keep their old value and are named in
 * the log and the reply) rather than refused whole, so that fixing an
 * allow rule does not wait for a restart because the same edit also
 * touched the socket mode.  The reply's status says "not everything is
 * in effect" in that case (`ampsctl reload` exits 1).
 *
 * systemd (Type=notify) hears RELOADING=1 before and READY=1 after.
 *
 * Invariants:
 *   (1) A rejected reload changes nothing: no store, socket, connection,
 *       rule or log setting is touched.
 *   (2) The running struct conf and its connection blocks are never
 *       replaced, only updated in place (conf-diff.c invariant 3), so no
 *       other module's pointer goes stale.
 *   (3) Level and trace switches made at run time (`ampsctl verbose`,
 *       `ampsctl trace`, SIGUSR2) stay until the file's own "log level"
 *       or "log trace" line changes.
 *   (4) No reload runs once the daemon is shutting down.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "conf-diff.h"
#include "log.h"
#include "server.h"
#include "reload.h"
#include "sdnotify.h"
#include "xmalloc.h"

static struct conf	*reload_conf;		/* the running configuration */
static char		*reload_file;
static int		 reload_fg;		/* -f */
static int		 reload_cmd_verbose;	/* -v count */
static struct server	*reload_pp;
static int		 reload_stopping;

/*
 * Remember what a reload needs: the running configuration (updated in
 * place by reloads), the file it came from, the -f flag, the -v count
 * and the publish path.
 */
void
reload_init(struct conf *conf, const char *file, int fg, int cmd_verbose,
    struct server *srv)
{
	reload_conf = conf;
	free(reload_file);
	reload_file = xstrdup(file);
	reload_fg = fg;
	reload_cmd_verbose = cmd_verbose;
	reload_pp = srv;
	reload_stopping = 0;
}

/* The daemon is shutting down: refuse reloads from now on. */
void
reload_stop(void)
{
	reload_stopping = 1;
}

/*
 * Where log lines go for configuration c: the file of "log file"; else
 * stderr with -f, under systemd (JOURNAL_STREAM) or with "log stderr";
 * else syslog.
 */
int
reload_log_to(const struct conf *c, int fg)
{
	if (c->log_target == CONF_LOG_FILE)
		return (LOG_TO_FILE);
	if (fg || c->log_target == CONF_LOG_STDERR ||
	    getenv("JOURNAL_STREAM") != NULL)
		return (LOG_TO_STDERR);
	return (LOG_TO_SYSLOG);
}

/* Apply "log level" (with -v) and/or "log trace" of c; which: CONF_CH_*. */
void
reload_log_levels(const struct conf *c, int cmd_verbose, unsigned which)
{
	int	v = cmd_verbose > c->log_verbose ? cmd_verbose : c->log_verbose;

	if (which & CONF_CH_LOG_LEVEL)
		log_set_verbose(v);
	if (which & CONF_CH_LOG_TRACE)
		log_tracemask = c->log_trace;
	if (v >= 2 && log_tracemask == 0)
		log_tracemask = TRACE_CONN | TRACE_IPC | TRACE_STORE;
}

/* Tell systemd a reload starts (with the monotonic time it wants). */
static void
reload_notify_start(void)
{
	struct timespec	ts;
	char		msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	sdnotify(msg);
}

/* Join the errors into one text (one per line) for the reply. */
static char *
reload_errors_text(const struct conf_errs *errs)
{
	char	*s, *t;
	size_t	 i;

	xasprintf(&s, "reload rejected, the running configuration is kept: "
	    "%zu error(s)", errs->n);
	for (i = 0; i < errs->n; i++) {
		xasprintf(&t, "%s\n%s", s, errs->v[i]);
		free(s);
		s = t;
	}
	return (s);
}

/*
 * Read the configuration file again and apply it (see above).  who
 * names the trigger for the log ("SIGHUP", "ampsctl").  Returns 0 when
 * everything in the file is now in effect, 1 when settings that need a
 * restart kept their old value, -1 when the reload was rejected; *text
 * (allocated, the caller frees it) says which.
 */
int
reload_run(const char *who, char **text)
{
	struct conf		*next;
	struct conf_errs	 errs = { NULL, 0 };
	struct conf_diff	 d;
	struct server_reload	*prl;
	char			*cause = NULL, *sum;
	size_t			 i;
	int			 to, rc;

	if (reload_stopping) {
		*text = xstrdup("reload refused: the daemon is shutting down");
		log_warnx("reload (%s): refused: shutting down", who);
		return (-1);
	}
	log_info("reload (%s): reading %s", who, reload_file);
	reload_notify_start();
	next = conf_new();
	if (conf_parse_file(next, reload_file, &errs) == 0 &&
	    conf_check(next, &errs) == 0) {
		conf_check_files(next, &errs);
		conf_check_names(next, &errs);
	}
	if (errs.n > 0) {
		for (i = 0; i < errs.n; i++)
			log_warnx("reload: %s", errs.v[i]);
		log_warnx("reload (%s): %zu error(s); keeping the running "
		    "configuration", who, errs.n);
		*text = reload_errors_text(&errs);
		conf_errs_free(&errs);
		conf_free(next);
		sdnotify("READY=1");
		return (-1);
	}

	conf_diff(reload_conf, next, &d);
	if ((prl = server_reload_prepare(reload_pp, next, &d,
	    &cause)) == NULL)
		goto reject;
	/*
	 * A new destination, file or facility (the same effective target
	 * with a changed "log" line can only mean one of the last two; -f
	 * or systemd keep stderr whatever the file says).
	 */
	to = reload_log_to(next, reload_fg);
	if ((d.top & CONF_CH_LOG_TARGET) &&
	    (to != reload_log_to(reload_conf, reload_fg) ||
	    to != LOG_TO_STDERR)) {
		log_info("reload: log lines go to %s%s from now on",
		    to == LOG_TO_FILE ? next->log_file :
		    to == LOG_TO_SYSLOG ? "syslog facility " : "stderr",
		    to == LOG_TO_SYSLOG ? next->log_facility : "");
		if (log_open(to, next->log_file, conf_facility(
		    next->log_facility), &cause) == -1) {
			server_reload_abort(prl);
			goto reject;
		}
	}

	server_reload_commit(reload_pp, prl);
	conf_diff_apply(reload_conf, next, &d);
	reload_log_levels(reload_conf, reload_cmd_verbose,
	    d.top & (CONF_CH_LOG_LEVEL | CONF_CH_LOG_TRACE));
	server_restart_gave_up(reload_pp);

	for (i = 0; i < d.n; i++)
		if (!d.v[i].live)
			log_warnx("reload: %s requires a restart; keeping the "
			    "old value", d.v[i].text);
	sum = conf_diff_summary(&d);
	log_info("reload (%s): %s", who, sum);
	xasprintf(text, "reload: %s", sum);
	free(sum);
	rc = d.nrefused > 0 ? 1 : 0;
	conf_diff_free(&d);
	conf_free(next);
	sdnotify("READY=1");
	return (rc);

reject:
	log_warnx("reload: %s", cause != NULL ? cause : "out of memory");
	log_warnx("reload (%s): keeping the running configuration", who);
	xasprintf(text, "reload rejected, the running configuration is kept: "
	    "%s", cause != NULL ? cause : "out of memory");
	free(cause);
	conf_diff_free(&d);
	conf_free(next);
	sdnotify("READY=1");
	return (-1);
}

/* The loop's SIGHUP hook. */
void
reload_hup(void *arg)
{
	char	*text = NULL;

	(void)reload_run("SIGHUP", &text);
	free(text);
}
