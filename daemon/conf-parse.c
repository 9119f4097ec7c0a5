/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The ampsd.conf reader: a hand-written tokenizer and a recursive-descent
 * parser that fill a fresh struct conf.  The grammar (keywords in quotes,
 * STR is a "quoted string" or a bare word, DUR a duration with a unit):
 *
 *   file      = { stmt }
 *   stmt      = "socket" STR { "mode" OCTAL | "group" STR } ";"
 *             | "state-directory" STR ";"
 *             | "log" ( "stderr" | "syslog" [ "facility" WORD ]
 *                     | "file" STR
 *                     | "level" ( "info" | "debug" | "trace" )
 *                     | "trace" WORD... ) ";"
 *             | "shutdown-timeout" DUR ";"
 *             | "connection" STR "{" { cstmt } "}"
 *             | "metrics" "listen" STR [ "allow-remote" ( "yes" | "no" ) ] ";"
 *   cstmt     = "default" ";" | "client-name" STR ";" | "server" STR... ";"
 *             | "heartbeat" ( DUR [ "timeout" DUR ] | "off" ) ";"
 *             | "logon-timeout" DUR ";"
 *             | "reconnect" "fixed" DUR { ropt } ";"
 *             | "reconnect" "exponential" { "initial" DUR | "max" DUR
 *                     | "factor" NUMBER | ropt } ";"
 *             | "tls" "{" { "ca" STR ";" | "cert" STR ";" | "key" STR ";"
 *                     | "verify" ( "yes" | "no" ) ";"
 *                     | "server-name" STR ";" } "}"
 *             | "durability" ( "full" | "normal" ) ";"
 *             | "durability" "memory" [ "limit" SIZE ] ";"
 *             | "queue-ack" { "batch" NUMBER | "timeout" DUR } ";"
 *             | "allow" WHAT ( "user" | "group" ) STR "topic" STR ";"
 *   ropt      = "give-up" ( DUR | "never" ) | "jitter" ( "yes" | "no" )
 *   WHAT      = "publish" | "subscribe" | "all", comma-separated
 *
 * '#' starts a comment to the end of the line.  Strings take \" and \\
 * escapes and may span any length: tokens live in a growable buffer, so
 * there is no line-length limit.
 *
 * Invariants:
 *   (1) Every error is recorded as "file:line: message" and parsing goes
 *       on after skipping to the end of the statement, so one run reports
 *       several errors.
 *   (2) Text from the file appears in messages only through conf_vis()
 *       (escaped, truncated).
 *   (3) Nothing here opens anything but the configuration file itself.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "amps.h"
#include "conf-int.h"
#include "log.h"
#include "xmalloc.h"

/* Escape s for an error message (control bytes, quotes; at most 64). */
const char *
conf_vis(struct lex *lx, const char *s)
{
	size_t	o = 0, i;

	for (i = 0; s[i] != '\0' && o + 6 < sizeof lx->vis; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 64) {
			memcpy(lx->vis + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
			lx->vis[o++] = '\\';
			if (c == '"' || c == '\\')
				lx->vis[o++] = (char)c;
			else {
				static const char hex[] = "0123456789abcdef";

				lx->vis[o++] = 'x';
				lx->vis[o++] = hex[c >> 4];
				lx->vis[o++] = hex[c & 15];
			}
		} else
			lx->vis[o++] = (char)c;
	}
	lx->vis[o] = '\0';
	return (lx->vis);
}

/* Append one byte to the token buffer. */
static void
lex_put(struct lex *lx, char c)
{
	if (lx->len + 1 >= lx->cap) {
		lx->cap = lx->cap ? lx->cap * 2 : 256;
		lx->text = xreallocarray(lx->text, lx->cap, 1);
	}
	lx->text[lx->len++] = c;
	lx->text[lx->len] = '\0';
}

/* True for bytes that end a bare word. */
static int
lex_wordend(char c)
{
	return (isspace((unsigned char)c) || c == '{' || c == '}' ||
	    c == ';' || c == '"' || c == '#');
}

/* Read the next token into lx->tok / lx->text. */
enum tok
conf_lex_next(struct lex *lx)
{
	char	c;

	if (lx->peeked) {
		lx->peeked = 0;
		return (lx->tok);
	}
	lx->len = 0;
	if (lx->text != NULL)
		lx->text[0] = '\0';
	for (;;) {
		if (lx->p >= lx->end) {
			lx->tokline = lx->line;
			return (lx->tok = T_EOF);
		}
		c = *lx->p;
		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (isspace((unsigned char)c))
			lx->p++;
		else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else
			break;
	}
	lx->tokline = lx->line;
	c = *lx->p++;
	switch (c) {
	case '{':
		lex_put(lx, c);
		return (lx->tok = T_LBRACE);
	case '}':
		lex_put(lx, c);
		return (lx->tok = T_RBRACE);
	case ';':
		lex_put(lx, c);
		return (lx->tok = T_SEMI);
	case '"':
		lex_put(lx, '\0');
		lx->len = 0;
		for (;;) {
			if (lx->p >= lx->end) {
				PERR(lx, lx->tokline, "unterminated string");
				return (lx->tok = T_BAD);
			}
			c = *lx->p++;
			if (c == '"')
				return (lx->tok = T_STRING);
			if (c == '\n')
				lx->line++;
			if (c == '\0') {
				PERR(lx, lx->line, "NUL byte in string");
				return (lx->tok = T_BAD);
			}
			if (c == '\\' && lx->p < lx->end &&
			    (*lx->p == '"' || *lx->p == '\\'))
				c = *lx->p++;
			lex_put(lx, c);
		}
	default:
		lx->p--;
		while (lx->p < lx->end && !lex_wordend(*lx->p)) {
			if (*lx->p == '\0') {
				PERR(lx, lx->line, "NUL byte in file");
				lx->p++;
				return (lx->tok = T_BAD);
			}
			lex_put(lx, *lx->p++);
		}
		return (lx->tok = T_WORD);
	}
}

/* Push the current token back. */
void
conf_lex_unget(struct lex *lx)
{
	lx->peeked = 1;
}

/* Describe the current token for "expected X, got Y". */
const char *
conf_lex_desc(struct lex *lx)
{
	static char	buf[200];

	switch (lx->tok) {
	case T_EOF:
		return ("end of file");
	case T_STRING:
	case T_WORD:
		snprintf(buf, sizeof buf, "\"%s\"", conf_vis(lx, lx->text));
		return (buf);
	case T_BAD:
		return ("bad token");
	default:
		snprintf(buf, sizeof buf, "\"%s\"", lx->text);
		return (buf);
	}
}

/*
 * Skip to the end of the current statement after an error: past the next
 * ';' at this nesting level, or up to (not past) a closing '}'.
 */
void
conf_lex_recover(struct lex *lx)
{
	int	depth = 0;

	for (;;) {
		if (lx->tok == T_EOF)
			return;
		if (lx->tok == T_SEMI && depth == 0)
			return;
		if (lx->tok == T_LBRACE)
			depth++;
		if (lx->tok == T_RBRACE) {
			if (depth == 0) {
				conf_lex_unget(lx);
				return;
			}
			if (--depth == 0)
				return;
		}
		conf_lex_next(lx);
	}
}

/* Read a string argument (quoted or bare); NULL and an error if none. */
char *
conf_p_str(struct lex *lx, const char *what)
{
	conf_lex_next(lx);
	if (lx->tok != T_STRING && lx->tok != T_WORD) {
		if (lx->tok != T_BAD)
			PERR(lx, lx->tokline, "%s: expected a value, got %s",
			    what, conf_lex_desc(lx));
		return (NULL);
	}
	return (xstrndup(lx->text, lx->len));
}

/* Expect the ';' ending a statement. */
int
conf_p_semi(struct lex *lx, const char *what)
{
	conf_lex_next(lx);
	if (lx->tok == T_SEMI)
		return (0);
	if (lx->tok != T_BAD)
		PERR(lx, lx->tokline, "%s: expected \";\", got %s", what,
		    conf_lex_desc(lx));
	return (-1);
}

/* True when the current token is the word w. */
int
conf_is(struct lex *lx, const char *w)
{
	return (lx->tok == T_WORD && strcmp(lx->text, w) == 0);
}

/* A unit suffix and its multiplier, for conf_parse_scaled(). */
struct conf_unit {
	const char	*suffix;
	uint64_t	 mul;
};

/*
 * Parse digits followed by one of the units' suffixes (compared without
 * case when nocase), into *out = value * multiplier, at most max.
 * Returns 0, or -1.
 */
static int
conf_parse_scaled(const char *s, const struct conf_unit *u, size_t nu,
    int nocase, uint64_t max, uint64_t *out)
{
	unsigned long long	 v;
	char			*ep;
	size_t			 i;

	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	v = strtoull(s, &ep, 10);
	if (errno != 0)
		return (-1);
	for (i = 0; i < nu; i++)
		if ((nocase ? strcasecmp(ep, u[i].suffix) :
		    strcmp(ep, u[i].suffix)) == 0)
			break;
	if (i == nu || v > UINT64_MAX / u[i].mul || v * u[i].mul > max)
		return (-1);
	*out = v * u[i].mul;
	return (0);
}

/*
 * Parse a duration: digits followed by ms, s, m or h.  Returns 0 and the
 * value in milliseconds, or -1.
 */
int
conf_parse_duration(const char *s, uint64_t *ms)
{
	static const struct conf_unit	 u[] = { { "ms", 1 }, { "s", 1000 },
	    { "m", 60 * 1000 }, { "h", 3600 * 1000 } };

	return (conf_parse_scaled(s, u, sizeof u / sizeof u[0], 0,
	    365ULL * 86400 * 1000, ms));
}

/*
 * Parse a size: digits, optionally followed by K, M or G (powers of
 * 1024; k, m, g too).  Returns 0 and the value in bytes, or -1.
 */
int
conf_parse_size(const char *s, uint64_t *bytes)
{
	static const struct conf_unit	 u[] = { { "", 1 }, { "k", 1024 },
	    { "m", 1024 * 1024 }, { "g", 1024 * 1024 * 1024 } };

	return (conf_parse_scaled(s, u, sizeof u / sizeof u[0], 1,
	    UINT64_MAX, bytes));
}

/* The keyword of a durability. */
const char *
conf_durability_name(enum conf_durability d)
{
	switch (d) {
	case CONF_DURABILITY_NORMAL:
		return ("normal");
	case CONF_DURABILITY_MEMORY:
		return ("memory");
	default:
		return ("full");
	}
}

/* Read a duration argument. */
int
conf_p_dur(struct lex *lx, const char *what, uint64_t *ms)
{
	conf_lex_next(lx);
	if (lx->tok != T_WORD && lx->tok != T_STRING) {
		if (lx->tok != T_BAD)
			PERR(lx, lx->tokline, "%s: expected a duration, got %s",
			    what, conf_lex_desc(lx));
		return (-1);
	}
	if (conf_parse_duration(lx->text, ms) == -1) {
		PERR(lx, lx->tokline, "%s: invalid duration \"%s\" (use a "
		    "number with ms, s, m or h)", what, conf_vis(lx, lx->text));
		return (-1);
	}
	return (0);
}

/* Read yes/no. */
int
conf_p_bool(struct lex *lx, const char *what, int *v)
{
	conf_lex_next(lx);
	if (conf_is(lx, "yes"))
		*v = 1;
	else if (conf_is(lx, "no"))
		*v = 0;
	else {
		if (lx->tok != T_BAD)
			PERR(lx, lx->tokline, "%s: expected yes or no, got %s",
			    what, conf_lex_desc(lx));
		return (-1);
	}
	return (0);
}

/* Replace *dst with v, complaining if it was already set. */
void
conf_set_once(struct lex *lx, char **dst, char *v, int line, const char *what)
{
	if (*dst != NULL) {
		PERR(lx, line, "%s given twice", what);
		free(v);
		return;
	}
	*dst = v;
}

/* socket STR { mode OCTAL | group STR } ; */
static int
p_socket(struct lex *lx)
{
	struct conf	*c = lx->conf;
	char		*s, *ep;
	unsigned long	 m;

	if ((s = conf_p_str(lx, "socket")) == NULL)
		return (-1);
	free(c->socket_path);
	c->socket_path = s;
	for (;;) {
		conf_lex_next(lx);
		if (lx->tok == T_SEMI)
			return (0);
		if (conf_is(lx, "mode")) {
			conf_lex_next(lx);
			errno = 0;
			m = strtoul(lx->text, &ep, 8);
			if (lx->tok != T_WORD || *ep != '\0' || errno != 0 ||
			    m > 0777) {
				PERR(lx, lx->tokline, "socket mode: expected "
				    "an octal mode like 0660, got %s",
				    conf_lex_desc(lx));
				return (-1);
			}
			c->socket_mode = (mode_t)m;
		} else if (conf_is(lx, "group")) {
			c->socket_group_line = lx->tokline;
			if ((s = conf_p_str(lx, "socket group")) == NULL)
				return (-1);
			free(c->socket_group);
			c->socket_group = s;
		} else {
			PERR(lx, lx->tokline, "socket: expected mode, group or "
			    "\";\", got %s", conf_lex_desc(lx));
			return (-1);
		}
	}
}

/* The category list of "log trace", up to (not including) the ';'. */
static int
p_log_trace(struct lex *lx)
{
	char		*w, *save, *tok;
	unsigned	 bit;

	for (;;) {
		conf_lex_next(lx);
		if (lx->tok == T_SEMI) {
			conf_lex_unget(lx);
			return (0);
		}
		if (lx->tok != T_WORD) {
			PERR(lx, lx->tokline, "log trace: expected a category, "
			    "got %s", conf_lex_desc(lx));
			return (-1);
		}
		w = xstrdup(lx->text);
		for (tok = strtok_r(w, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			if ((bit = log_trace_bit(tok)) == 0) {
				PERR(lx, lx->tokline, "log trace: unknown "
				    "category \"%s\" (connection, ipc, store, "
				    "wire, all)", conf_vis(lx, tok));
				free(w);
				return (-1);
			}
			lx->conf->log_trace |= bit;
		}
		free(w);
	}
}

/* log stderr | syslog [facility F] | file PATH | level L | trace CAT,... ; */
static int
p_log(struct lex *lx)
{
	struct conf	*c = lx->conf;
	char		*s;

	conf_lex_next(lx);
	if (conf_is(lx, "stderr"))
		c->log_target = CONF_LOG_STDERR;
	else if (conf_is(lx, "file")) {
		if ((s = conf_p_str(lx, "log file")) == NULL)
			return (-1);
		free(c->log_file);
		c->log_file = s;
		c->log_target = CONF_LOG_FILE;
	} else if (conf_is(lx, "syslog")) {
		c->log_target = CONF_LOG_SYSLOG;
		conf_lex_next(lx);
		if (!conf_is(lx, "facility")) {
			conf_lex_unget(lx);
			return (conf_p_semi(lx, "log syslog"));
		}
		conf_lex_next(lx);
		if (lx->tok != T_WORD || conf_facility(lx->text) == -1) {
			PERR(lx, lx->tokline, "log: unknown syslog facility %s",
			    conf_lex_desc(lx));
			return (-1);
		}
		free(c->log_facility);
		c->log_facility = xstrdup(lx->text);
	} else if (conf_is(lx, "level")) {
		conf_lex_next(lx);
		if (conf_is(lx, "info"))
			c->log_verbose = 0;
		else if (conf_is(lx, "debug"))
			c->log_verbose = 1;
		else if (conf_is(lx, "trace"))
			c->log_verbose = 2;
		else {
			PERR(lx, lx->tokline, "log level: expected info, debug "
			    "or trace, got %s", conf_lex_desc(lx));
			return (-1);
		}
	} else if (conf_is(lx, "trace")) {
		if (p_log_trace(lx) == -1)
			return (-1);
	} else {
		PERR(lx, lx->tokline, "log: expected stderr, syslog, file, "
		    "level or trace, got %s", conf_lex_desc(lx));
		return (-1);
	}
	return (conf_p_semi(lx, "log"));
}

/* One top-level statement; -1 means "recover to the statement end". */
static int
p_stmt(struct lex *lx)
{
	struct conf	*c = lx->conf;
	char		*s;

	if (conf_is(lx, "socket"))
		return (p_socket(lx));
	if (conf_is(lx, "state-directory")) {
		if ((s = conf_p_str(lx, "state-directory")) == NULL)
			return (-1);
		free(c->state_dir);
		c->state_dir = s;
		return (conf_p_semi(lx, "state-directory"));
	}
	if (conf_is(lx, "log"))
		return (p_log(lx));
	if (conf_is(lx, "shutdown-timeout")) {
		if (conf_p_dur(lx, "shutdown-timeout", &c->shutdown_ms) == -1)
			return (-1);
		return (conf_p_semi(lx, "shutdown-timeout"));
	}
	if (conf_is(lx, "connection"))
		return (conf_p_connection(lx));
	if (conf_is(lx, "metrics"))
		return (conf_p_metrics(lx));
	if (lx->tok == T_RBRACE) {
		PERR(lx, lx->tokline, "unexpected \"}\"");
		return (0);
	}
	if (lx->tok == T_WORD)
		PERR(lx, lx->tokline, "unknown keyword %s", conf_lex_desc(lx));
	else if (lx->tok != T_BAD)
		PERR(lx, lx->tokline, "syntax error at %s", conf_lex_desc(lx));
	return (-1);
}

/*
 * Parse len bytes of buf (not NUL-terminated) into conf; name is used in
 * messages.  Errors are appended to errs.  Returns 0 when this buffer
 * added no error, else -1.  conf should be fresh from conf_new().
 */
int
conf_parse_buffer(struct conf *conf, const char *name, const char *buf,
    size_t len, struct conf_errs *errs)
{
	struct lex	lx;

	memset(&lx, 0, sizeof lx);
	lx.file = name;
	lx.p = buf;
	lx.end = buf + len;
	lx.line = 1;
	lx.conf = conf;
	lx.errs = errs;
	lx.nerr0 = errs->n;
	if (conf->file == NULL)
		conf->file = xstrdup(name);
	for (;;) {
		conf_lex_next(&lx);
		if (lx.tok == T_EOF)
			break;
		if (lx.tok == T_SEMI)
			continue;
		if (p_stmt(&lx) == -1)
			conf_lex_recover(&lx);
	}
	free(lx.text);
	return (errs->n == lx.nerr0 ? 0 : -1);
}

/*
 * Read and parse the file at path.  A file that holds credentials
 * (passwords in server URIs) must not be readable or writable by group or
 * others, and must belong to root or to us.  Returns 0 or -1 (errors in
 * errs).
 */
int
conf_parse_file(struct conf *conf, const char *path, struct conf_errs *errs)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	int		 fd, rv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		conf_errs_add(errs, path, 0, "%s", strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		conf_errs_add(errs, path, 0, "not a regular file");
		close(fd);
		return (-1);
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536 * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			conf_errs_add(errs, path, 0, "read: %s",
			    strerror(errno));
			free(buf);
			close(fd);
			return (-1);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rv = conf_parse_buffer(conf, path, buf, len, errs);
	free(buf);
	if (conf->has_secrets) {
		if (st.st_mode & 077) {
			conf_errs_add(errs, path, 0, "holds credentials but is "
			    "accessible by group or others (mode %04o); "
			    "chmod 600 it", (unsigned)(st.st_mode & 07777));
			rv = -1;
		}
		if (st.st_uid != 0 && st.st_uid != geteuid()) {
			conf_errs_add(errs, path, 0, "holds credentials but is "
			    "owned by uid %u (must be root or uid %u)",
			    (unsigned)st.st_uid, (unsigned)geteuid());
			rv = -1;
		}
	}
	return (rv);
}
