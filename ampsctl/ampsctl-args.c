/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsctl's command line: the commands, their options and help, and the
 * parser.  Options are spark's single-dash long flags (-topic T); the
 * GNU forms --topic T and -topic=T work too, and so do unambiguous
 * prefixes (-sub for -subid), as getopt_long_only(3) allows.
 *
 * Every option of every command is known to the parser, so an option
 * that a command does not use is named as such ("-topic is not used by
 * this command"), an unknown one as unknown, and a bad value with what is
 * expected; each error is one line in the caller's buffer, and the
 * caller exits 2.  -server is refused: in spark it is an AMPS server,
 * while ampsctl only talks to the local ampsd (-socket).
 *
 * trace takes words that look like options (-wire switches wire off):
 * its arguments are split by hand, and everything but -h/--help,
 * --version, -socket and -timeout is a word for the daemon.
 *
 * Invariants:
 *   (1) Pure: no output but to the FILE given to ctl_help/ctl_usage, no
 *       exit, no allocation; getopt's state is reset on every call.
 *   (2) A parse that returns 0 has every value checked: numbers in
 *       range, -wait one of its words, the options each command needs.
 *   (3) Pointers in struct ctl_args point into argv.
 */

#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsctl.h"

enum ctl_opt_id {
	O_TOPIC, O_DATA, O_FILE, O_DELTA, O_N, O_RATE, O_CONN, O_CORRELATION,
	O_SOWKEY, O_EXPIRATION, O_WAIT, O_TIMEOUT, O_SOCKET, O_SERVER, O_JSON,
	O_RAW, O_DAEMON, O_FILTER, O_SUBID, O_BOOKMARK, O_DURABLE, O_DISCARD,
	O_BACKLOG, O_ACK, O_OPTIONS, O_ORDERBY, O_TOPN, O_SKIPN, O_BATCHSIZE,
	O_KEYS, O_FORMAT, O_STATS, O_NAME, O_FORCE, O_HELP, O_VERSION,
	O__COUNT
};

#define B(o)		(UINT64_C(1) << (o))
#define COMMON		(B(O_SOCKET) | B(O_TIMEOUT) | B(O_HELP) | B(O_VERSION))

struct ctl_opt {
	const char	*name;
	const char	*arg;		/* NULL: a flag without a value */
	const char	*help;
};

static const struct ctl_opt ctl_opts[O__COUNT] = {
	[O_TOPIC] = { "topic", "T", "topic (subscriptions: or regex)" },
	[O_DATA] = { "data", "D", "message data (sow_delete: the message)" },
	[O_FILE] = { "file", "F", "publish the whole file as one message" },
	[O_DELTA] = { "delta", NULL, "delta publish / delta subscription" },
	[O_N] = { "n", "N", "publish: send N times; receive: stop after N "
	    "messages (exit 1 if fewer arrive before -timeout)" },
	[O_RATE] = { "rate", "R", "at most R messages per second" },
	[O_CONN] = { "conn", "C", "the daemon's connection (default: its "
	    "default one)" },
	[O_CORRELATION] = { "correlation", "X", "correlation id" },
	[O_SOWKEY] = { "sowkey", "K", "SOW key" },
	[O_EXPIRATION] = { "expiration", "S", "expiration in seconds" },
	[O_WAIT] = { "wait", "W", "stored (default): the daemon has it; "
	    "persisted: AMPS has it; none" },
	[O_TIMEOUT] = { "timeout", "MS", "milliseconds to wait, -1 forever "
	    "(subscribe: without a message)" },
	[O_SOCKET] = { "socket", "P", "ampsd's socket (default $AMPSD_SOCKET, "
	    "else " AMPSD_SOCK ")" },
	[O_SERVER] = { "server", "H", NULL },
	[O_JSON] = { "json", NULL, "print JSON" },
	[O_RAW] = { "raw", NULL, "print the daemon's status text as it is" },
	[O_DAEMON] = { "daemon", NULL, "check the daemon only, not the "
	    "connections" },
	[O_FILTER] = { "filter", "F", "content filter" },
	[O_SUBID] = { "subid", "ID", "subscription id (-durable: its name)" },
	[O_BOOKMARK] = { "bookmark", "BM", "bookmark, timestamp, 0 (all) "
	    "or recent" },
	[O_DURABLE] = { "durable", NULL, "durable subscription (resumes "
	    "after what was printed)" },
	[O_DISCARD] = { "discard", NULL, "discard each printed message" },
	[O_BACKLOG] = { "backlog", "N", "queue backlog" },
	[O_ACK] = { "ack", NULL, "acknowledge each printed queue message" },
	[O_OPTIONS] = { "options", "O", "AMPS options" },
	[O_ORDERBY] = { "orderby", "O", "order by, e.g. \"/qty DESC\"" },
	[O_TOPN] = { "topn", "N", "at most N records" },
	[O_SKIPN] = { "skipn", "N", "skip N records" },
	[O_BATCHSIZE] = { "batchsize", "N", "records per batch" },
	[O_KEYS] = { "keys", "K", "SOW keys, comma-separated" },
	[O_FORMAT] = { "format", "FMT", "output per message: {data} {topic} "
	    "{command} {bookmark} {sowkey} {subid} {correlation_id} "
	    "{timestamp} {lease} {reason} {queryid}" },
	[O_STATS] = { "stats", NULL, "print the stats ack on stderr" },
	[O_NAME] = { "name", "NAME", "the durable subscription's name" },
	[O_FORCE] = { "force", NULL, "end the subscription of the program "
	    "attached to it" },
	[O_HELP] = { "help", NULL, "this help (also -h, --help)" },
	[O_VERSION] = { "version", NULL, "print the version" },
};

#define W_NONE	0
#define W_ONE	1	/* exactly one word (verbose) */
#define W_ANY	2	/* any words, split by hand (trace) */
#define W_TOPIC	3	/* at most one command name (help) */

struct ctl_cmd {
	const char	*name;
	enum ctl_cmd_id	 id;
	uint64_t	 opts;
	int		 words;
	const char	*synopsis;	/* after "ampsctl NAME " */
	const char	*summary;
};

#define RECV_OPTS	(COMMON | B(O_TOPIC) | B(O_FILTER) | B(O_SUBID) | \
	B(O_BOOKMARK) | B(O_DURABLE) | B(O_DISCARD) | B(O_DELTA) | \
	B(O_BACKLOG) | B(O_ACK) | B(O_OPTIONS) | B(O_ORDERBY) | B(O_TOPN) | \
	B(O_BATCHSIZE) | B(O_FORMAT) | B(O_N) | B(O_CONN))

static const struct ctl_cmd ctl_cmds[] = {
	{ "publish", CTL_C_PUBLISH, COMMON | B(O_TOPIC) | B(O_DATA) |
	    B(O_FILE) | B(O_DELTA) | B(O_N) | B(O_RATE) | B(O_CONN) |
	    B(O_CORRELATION) | B(O_SOWKEY) | B(O_EXPIRATION) | B(O_WAIT),
	    W_NONE, "-topic T [-data D | -file F] [-delta] [-n N] [-rate R]"
	    "\n\t[-conn C] [-correlation X] [-sowkey K] [-expiration S]\n\t"
	    "[-wait stored|persisted|none]",
	    "publish messages (one per line of stdin without -data or "
	    "-file)" },
	{ "flush", CTL_C_FLUSH, COMMON | B(O_CONN), W_NONE, "[-conn C]",
	    "wait until AMPS has persisted what this program published" },
	{ "ping", CTL_C_PING, COMMON | B(O_DAEMON), W_NONE, "[-daemon]",
	    "check the daemon and the state of its connections (exit 1 if "
	    "one is down)" },
	{ "status", CTL_C_STATUS, COMMON | B(O_JSON) | B(O_RAW) | B(O_CONN),
	    W_NONE, "[-json | -raw] [-conn C]",
	    "connections, stores, programs and subscriptions (others: "
	    "their own view)" },
	{ "subscribe", CTL_C_SUBSCRIBE, RECV_OPTS, W_NONE,
	    "-topic T [-filter F] [-subid ID] [-bookmark BM]\n\t[-durable] "
	    "[-discard] [-delta] [-backlog N] [-ack] [-options O]\n\t"
	    "[-format FMT] [-n N] [-conn C]",
	    "subscribe and print each message" },
	{ "sow_and_subscribe", CTL_C_SOW_AND_SUBSCRIBE, RECV_OPTS, W_NONE,
	    "-topic T [-filter F] [-subid ID]\n\t[-bookmark BM] [-delta] "
	    "[-orderby O] [-topn N] [-batchsize N]\n\t[-options O] "
	    "[-format FMT] [-n N] [-conn C]",
	    "query the SOW, then subscribe; print each message" },
	{ "sow", CTL_C_SOW, COMMON | B(O_TOPIC) | B(O_FILTER) | B(O_ORDERBY) |
	    B(O_TOPN) | B(O_SKIPN) | B(O_BATCHSIZE) | B(O_KEYS) |
	    B(O_BOOKMARK) | B(O_FORMAT) | B(O_STATS) | B(O_N) | B(O_CONN),
	    W_NONE, "-topic T [-filter F] [-orderby O] [-topn N] [-skipn N]"
	    "\n\t[-batchsize N] [-keys K] [-bookmark BM] [-format FMT] "
	    "[-stats] [-n N]\n\t[-conn C]",
	    "query the state of the world and print each record" },
	{ "sow_delete", CTL_C_SOW_DELETE, COMMON | B(O_TOPIC) | B(O_FILTER) |
	    B(O_KEYS) | B(O_DATA) | B(O_CONN), W_NONE,
	    "-topic T (-filter F | -keys K | -data D) [-conn C]",
	    "delete SOW records; prints records_deleted and matches" },
	{ "unsubscribe", CTL_C_UNSUBSCRIBE, COMMON | B(O_NAME) | B(O_SUBID) |
	    B(O_FORCE) | B(O_CONN), W_NONE, "-name NAME [-force] [-conn C]",
	    "remove a durable subscription (its owner, root or the "
	    "daemon's user)" },
	{ "subscriptions", CTL_C_SUBSCRIPTIONS, COMMON | B(O_CONN), W_NONE,
	    "[-conn C]", "list subscriptions and durable names" },
	{ "reload", CTL_C_RELOAD, COMMON, W_NONE, "",
	    "read the configuration again, print what changed" },
	{ "trace", CTL_C_TRACE, COMMON, W_ANY,
	    "[[+|-]connection|ipc|store|wire|all ...]",
	    "show or switch the daemon's trace categories" },
	{ "verbose", CTL_C_VERBOSE, COMMON, W_ONE, "info|debug|trace",
	    "set the daemon's log level" },
	{ "help", CTL_C_HELP, B(O_HELP), W_TOPIC, "[COMMAND]",
	    "this list, or a command's options" },
};
#define NCMDS	(sizeof ctl_cmds / sizeof ctl_cmds[0])

/* The command called name, or NULL. */
const struct ctl_cmd *
ctl_cmd_find(const char *name)
{
	size_t	i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return (&ctl_cmds[i]);
	return (NULL);
}

const char *
ctl_cmd_name(const struct ctl_cmd *c)
{
	return (c->name);
}

enum ctl_cmd_id
ctl_cmd_id(const struct ctl_cmd *c)
{
	return (c->id);
}

/* Format one error line into err; returns -1. */
static int __attribute__((__format__(printf, 4, 5)))
ctl_err(const struct ctl_cmd *c, char *err, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(err, len, "%s: ", c->name);
	if (n < 0 || (size_t)n >= len)
		return (-1);
	va_start(ap, fmt);
	vsnprintf(err + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return (-1);
}

/* A whole number in [min, max]; 0 or -1. */
static int
ctl_num(const char *v, long long min, long long max, long long *out)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
		return (-1);
	*out = n;
	return (0);
}

/* Store option o's value; -1 with err on a bad value. */
static int
ctl_set(const struct ctl_cmd *c, struct ctl_args *a, int o, const char *v,
    char *err, size_t len)
{
	const char	*what = NULL;
	char		*end;
	long long	 l = 0;

	switch (o) {
	case O_TOPIC: a->topic = v; break;
	case O_DATA: a->data = v; break;
	case O_FILE: a->file = v; break;
	case O_DELTA: a->delta = 1; break;
	case O_CONN: a->conn = v; break;
	case O_CORRELATION: a->correlation = v; break;
	case O_SOWKEY: a->sowkey = v; break;
	case O_SOCKET: a->sock = v; break;
	case O_JSON: a->format = 1; break;
	case O_RAW: a->format = 2; break;
	case O_DAEMON: a->daemon_only = 1; break;
	case O_FILTER: a->filter = v; break;
	case O_SUBID: a->subid = v; break;
	case O_BOOKMARK: a->bookmark = v; break;
	case O_DURABLE: a->durable = 1; break;
	case O_DISCARD: a->discard = 1; break;
	case O_ACK: a->ack = 1; break;
	case O_OPTIONS: a->options = v; break;
	case O_ORDERBY: a->orderby = v; break;
	case O_KEYS: a->keys = v; break;
	case O_FORMAT: a->fmt = v; break;
	case O_STATS: a->stats = 1; break;
	case O_NAME: a->name = v; break;
	case O_FORCE: a->force = 1; break;
	case O_HELP: a->help = 1; break;
	case O_VERSION: a->version = 1; break;
	case O_WAIT:
		if (strcmp(v, "stored") != 0 && strcmp(v, "persisted") != 0 &&
		    strcmp(v, "none") != 0)
			what = "stored, persisted or none";
		a->wait = v;
		break;
	case O_RATE:
		errno = 0;
		a->rate = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || errno != 0 ||
		    !isfinite(a->rate) || a->rate < 0)
			what = "messages per second, a number >= 0";
		break;
	case O_EXPIRATION:
		if (ctl_num(v, 0, UINT32_MAX, &l) == -1)
			what = "seconds, 0 to 4294967295";
		a->expiration = (uint32_t)l;
		a->has_expiration = 1;
		break;
	case O_TIMEOUT:
		if (ctl_num(v, -1, INT_MAX, &l) == -1)
			what = "milliseconds, -1 (forever) or more";
		a->timeout = (long)l;
		a->has_timeout = 1;
		break;
	case O_N:
		if (ctl_num(v, 0, LONG_MAX, &l) == -1)
			what = "a whole number >= 0";
		a->n = (long)l;
		break;
	case O_TOPN:
	case O_SKIPN:
	case O_BATCHSIZE:
	case O_BACKLOG:
		if (ctl_num(v, 0, UINT32_MAX, &l) == -1)
			what = "a whole number, 0 to 4294967295";
		*(o == O_TOPN ? &a->topn : o == O_SKIPN ? &a->skipn :
		    o == O_BATCHSIZE ? &a->batchsize : &a->backlog) =
		    (uint32_t)l;
		break;
	}
	if (what != NULL)
		return (ctl_err(c, err, len, "bad value \"%s\" for -%s (%s)", v,
		    ctl_opts[o].name, what));
	return (0);
}

/* The option whose name starts with the word in el ("-top", "--top=x"). */
static int
ctl_match(const char *el, char *list, size_t len)
{
	size_t	n, i, used = 0;
	int	found = -1, count = 0;

	while (*el == '-')
		el++;
	n = strcspn(el, "=");
	list[0] = '\0';
	for (i = 0; i < O__COUNT; i++) {
		if (strncmp(ctl_opts[i].name, el, n) != 0)
			continue;
		if (strlen(ctl_opts[i].name) == n)
			return ((int)i);
		found = (int)i;
		count++;
		if (used < len)
			used += (size_t)snprintf(list + used, len - used,
			    "%s-%s", count > 1 ? ", " : "", ctl_opts[i].name);
	}
	return (count == 1 ? found : count > 1 ? -2 : -1);
}

/* The error for argv element el that getopt did not take. */
static int
ctl_bad_option(const struct ctl_cmd *c, const char *el, int missing,
    char *err, size_t len)
{
	char	list[512];
	int	o = ctl_match(el, list, sizeof list);

	if (o == -2)
		return (ctl_err(c, err, len, "ambiguous option %s (%s)", el,
		    list));
	if (o == O_SERVER)
		return (ctl_err(c, err, len, "-server is not supported: "
		    "ampsctl talks to the local ampsd, not to an AMPS "
		    "server; use -socket PATH (or AMPSD_SOCKET) to name "
		    "ampsd's socket"));
	if (o >= 0 && missing)
		return (ctl_err(c, err, len, "option -%s needs a value (-%s "
		    "%s)", ctl_opts[o].name, ctl_opts[o].name,
		    ctl_opts[o].arg));
	return (ctl_err(c, err, len, "unknown option %s", el));
}

/*
 * trace: split by hand (see the top of the file).  Only -h/--help,
 * --version, -socket, -timeout and -server are options; every other
 * argument, "-wire" included, is a word of the request.
 */
static int
ctl_parse_words(const struct ctl_cmd *c, int argc, char **argv,
    struct ctl_args *a, char *err, size_t len)
{
	const char	*w, *v;
	int		 i, o;
	char		 list[512];

	for (i = 1; i < argc; i++) {
		w = argv[i];
		o = w[0] == '-' ? ctl_match(w, list, sizeof list) : -1;
		if (o == O_HELP || o == O_VERSION) {
			(void)ctl_set(c, a, o, NULL, err, len);
			continue;
		}
		if (o != O_SOCKET && o != O_TIMEOUT && o != O_SERVER) {
			if (a->nwords == CTL_MAXWORDS)
				return (ctl_err(c, err, len, "more than %d "
				    "words", CTL_MAXWORDS));
			a->words[a->nwords++] = w;
			continue;
		}
		if ((v = strchr(w, '=')) != NULL)
			v++;
		else if (i + 1 < argc)
			v = argv[++i];
		else
			return (ctl_bad_option(c, w, 1, err, len));
		if (o == O_SERVER)
			return (ctl_bad_option(c, w, 0, err, len));
		if (ctl_set(c, a, o, v, err, len) == -1)
			return (-1);
	}
	return (0);
}

/* What each command needs beyond single values (invariant 2). */
static int
ctl_check(const struct ctl_cmd *c, struct ctl_args *a, char *err, size_t len)
{
	switch (c->id) {
	case CTL_C_PUBLISH:
		if (a->data != NULL && a->file != NULL)
			return (ctl_err(c, err, len, "-data and -file exclude "
			    "each other"));
		if (a->n == 0)
			return (ctl_err(c, err, len, "-n must be at least 1"));
		break;
	case CTL_C_STATUS:
		break;
	case CTL_C_SOW_DELETE:
		if (a->filter == NULL && a->keys == NULL && a->data == NULL)
			return (ctl_err(c, err, len, "one of -filter, -keys "
			    "or -data is needed"));
		break;
	case CTL_C_SUBSCRIBE:
	case CTL_C_SOW_AND_SUBSCRIBE:
		if ((a->durable || a->discard) && a->subid == NULL)
			return (ctl_err(c, err, len, "-%s needs -subid NAME",
			    a->durable ? "durable" : "discard"));
		break;
	case CTL_C_UNSUBSCRIBE:
		if (a->name == NULL && a->subid == NULL)
			return (ctl_err(c, err, len, "-name NAME of a durable "
			    "subscription is needed (a program's own "
			    "subscriptions end with it)"));
		break;
	case CTL_C_VERBOSE:
		if (a->nwords != 1)
			return (ctl_err(c, err, len, "one level is needed: "
			    "info, debug or trace"));
		break;
	default:
		break;
	}
	if ((c->opts & B(O_TOPIC)) && a->topic == NULL)
		return (ctl_err(c, err, len, "-topic T is needed"));
	return (0);
}

/*
 * Parse the arguments of command c: argv[0] is the command's name.
 * Returns 0 (a->help or a->version may be set: the caller prints and
 * exits 0), or -1 with one line in err (the caller exits 2).
 */
int
ctl_args_parse(const struct ctl_cmd *c, int argc, char **argv,
    struct ctl_args *a, char *err, size_t len)
{
	struct option	lo[O__COUNT + 1];
	size_t		i;
	int		ch, o, idx;

	memset(a, 0, sizeof *a);
	a->cmd = c;
	a->n = -1;
	a->wait = "stored";
	err[0] = '\0';
	if (c->words == W_ANY) {
		if (ctl_parse_words(c, argc, argv, a, err, len) == -1)
			return (-1);
		return (0);
	}
	for (i = 0; i < O__COUNT; i++) {
		lo[i].name = ctl_opts[i].name;
		lo[i].has_arg = ctl_opts[i].arg != NULL ? required_argument :
		    no_argument;
		lo[i].flag = NULL;
		lo[i].val = 256 + (int)i;
	}
	memset(&lo[O__COUNT], 0, sizeof lo[O__COUNT]);
	optind = 0;		/* a full reset (glibc) */
	opterr = 0;
	while ((ch = getopt_long_only(argc, argv, "-:h", lo, &idx)) != -1) {
		switch (ch) {
		case 1:
			if ((c->words == W_ONE || c->words == W_TOPIC) &&
			    a->nwords == 0) {
				a->words[a->nwords++] = optarg;
				break;
			}
			return (ctl_err(c, err, len, "unexpected argument "
			    "\"%s\"", optarg));
		case 'h':
			a->help = 1;
			break;
		case ':':
		case '?':
			if (optopt != 0 && optopt < 256 && ch == '?')
				return (ctl_err(c, err, len, "unknown option "
				    "-%c", optopt));
			if (optopt >= 256 && ch == '?')
				return (ctl_err(c, err, len, "-%s takes no "
				    "value", ctl_opts[optopt - 256].name));
			return (ctl_bad_option(c, argv[optind - 1], ch == ':',
			    err, len));
		default:
			o = ch - 256;
			if (o < 0 || o >= O__COUNT)
				return (ctl_err(c, err, len, "bad option"));
			if (o == O_SERVER)
				return (ctl_bad_option(c, "-server", 0, err,
				    len));
			if (!(c->opts & B(o)))
				return (ctl_err(c, err, len, "-%s is not used "
				    "by this command (ampsctl help %s)",
				    ctl_opts[o].name, c->name));
			if (ctl_set(c, a, o, optarg, err, len) == -1)
				return (-1);
			break;
		}
	}
	if (a->help || a->version)
		return (0);
	return (ctl_check(c, a, err, len));
}

/* Write text from column col, wrapped at 78 columns, indented to col. */
static void
ctl_wrap(FILE *f, const char *text, size_t col)
{
	const char	*p = text, *sp;
	size_t		 at = col, n;

	while (*p != '\0') {
		n = strcspn(p, " ");
		if (at > col && at + 1 + n > 78) {
			fprintf(f, "\n%*s", (int)col, "");
			at = col;
		} else if (at > col) {
			fputc(' ', f);
			at++;
		}
		fwrite(p, 1, n, f);
		at += n;
		sp = p + n;
		p = *sp == ' ' ? sp + 1 : sp;
	}
	fputc('\n', f);
}

/* The options part of a command's help. */
static void
ctl_help_opts(FILE *f, uint64_t mask)
{
	char	left[64];
	size_t	i;

	for (i = 0; i < O__COUNT; i++) {
		if (!(mask & B(i)) || ctl_opts[i].help == NULL)
			continue;
		snprintf(left, sizeof left, "%s%s%s%s", i == O_VERSION ? "--" :
		    "-", ctl_opts[i].name, ctl_opts[i].arg != NULL ? " " : "",
		    ctl_opts[i].arg != NULL ? ctl_opts[i].arg : "");
		fprintf(f, "  %-16s ", left);
		ctl_wrap(f, ctl_opts[i].help, 19);
	}
}

/* Help for command c (NULL: every command), for stdout. */
void
ctl_help(FILE *f, const struct ctl_cmd *c)
{
	const char	*last;
	size_t		 i, col;

	if (c == NULL) {
		fprintf(f, "usage: ampsctl COMMAND [options]\n"
		    "       ampsctl help COMMAND | COMMAND -h\n"
		    "       ampsctl --version\n\ncommands:\n");
		for (i = 0; i < NCMDS; i++)
			fprintf(f, "  %-18s %s\n", ctl_cmds[i].name,
			    ctl_cmds[i].summary);
		fprintf(f, "\nOptions are single-dash words as in spark "
		    "(-topic T); --topic T and -topic=T work too.\n"
		    "Every command takes -socket P, -timeout MS, -h and "
		    "--version.\nExit status: 0 done, 1 failed, 2 usage.  "
		    "See ampsctl(1).\n");
		return;
	}
	fprintf(f, "usage: ampsctl %s%s%s", c->name, *c->synopsis != '\0' ?
	    " " : "", c->synopsis);
	/* The common options on the last line if they fit in 72 columns. */
	last = strrchr(c->synopsis, '\t');
	col = last != NULL ? 8 + strlen(last + 1) : 15 + strlen(c->name) +
	    strlen(c->synopsis);
	if (c->opts & B(O_SOCKET))
		fprintf(f, "%s[-socket P] [-timeout MS]",
		    col + 26 > 72 ? "\n\t" : " ");
	fprintf(f, "\n\n%s.\n", c->summary);
	if (c->id == CTL_C_TRACE)
		fprintf(f, "Each word switches a category on (CAT or +CAT) "
		    "or off (-CAT); without words, the\ncurrent ones are "
		    "printed.\n");
	if (c->opts & ~B(O_HELP)) {
		fprintf(f, "\noptions:\n");
		ctl_help_opts(f, c->opts);
	}
}

/* The short usage for a bad command line, for stderr. */
void
ctl_usage(FILE *f)
{
	size_t	i, col;

	fprintf(f, "usage: ampsctl COMMAND [options]\ncommands:");
	col = 9;
	for (i = 0; i < NCMDS; i++) {
		if (col + 1 + strlen(ctl_cmds[i].name) > 72) {
			fprintf(f, "\n         ");
			col = 9;
		}
		col += (size_t)fprintf(f, " %s", ctl_cmds[i].name);
	}
	fprintf(f, "\n(ampsctl help COMMAND shows a command's options)\n");
}
