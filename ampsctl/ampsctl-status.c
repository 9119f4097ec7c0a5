/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * `ampsctl status` output: the daemon's STATUS text (docs/IPC.md §7:
 * one record per line, a keyword then key=value pairs without spaces)
 * shown as a table for people (default), as JSON (-json) or as it came
 * (-raw).  Pure: text in, text out; libc only, like the rest of ampsctl.
 *
 * JSON shape: {"ampsd":{...},"connections":[...],"stores":[...],
 * "commit":{...}|null,"programs":[...],"subscriptions":[...],
 * "durable":[...]} ("subscriptions" from the "sub" lines, "durable" from
 * the "durable" lines).  A value "-" is null; values of the keys in
 * ctl_status_strkeys (and, in "sub" and "durable" records, in
 * ctl_status_substrkeys: sub ids and names are the programs' own text)
 * are strings; other values that are JSON numbers are numbers;
 * everything else is a string.  In the free-text values of
 * ctl_status_textkeys (last_error) the daemon writes a space as '_'
 * (docs/IPC.md §7); the table and the JSON show spaces again.
 *
 * ctl_status_conns() is ampsctl ping's view: one line per connection
 * and how many are up.
 *
 * Invariants:
 *   (1) The JSON is valid whatever the text holds: every string goes
 *       through ctl_json_text() (quotes, backslashes and control
 *       characters escaped, UTF-8 kept, other bytes U+FFFD), every
 *       number is checked by ctl_json_number() first.
 *   (2) Unknown keywords and keys are skipped (table) or passed through
 *       (JSON, keys of known records), so an older ampsctl still works
 *       with a newer daemon.
 *   (3) At most CTL_MAXKV pairs per line and CTL_MAXREC lines are read;
 *       the rest is ignored.
 */

#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsctl.h"

#define CTL_MAXKV	64
#define CTL_MAXREC	4096

/* One status line: its keyword and pairs (pointers into a copy). */
struct ctl_rec {
	char		*kw;
	size_t		 n;
	char		*k[CTL_MAXKV];
	char		*v[CTL_MAXKV];
};

struct ctl_status {
	char		*buf;
	struct ctl_rec	*r;
	size_t		 n;
};

/* Keys whose values are always strings in JSON. */
static const char *const ctl_status_strkeys[] = {
	"version", "name", "state", "server", "client_name", "store",
	"detail", "last_error", "kind", "server_index",
};

/* ... and in "sub" and "durable" records. */
static const char *const ctl_status_substrkeys[] = {
	"id", "conn", "topic",
};

/* Free text: '_' stands for a space. */
static const char *const ctl_status_textkeys[] = {
	"last_error",
};

#define NELEM(a)	(sizeof (a) / sizeof (a)[0])

/* Whether key is one of the n words of list. */
static int
ctl_in(const char *const *list, size_t n, const char *key)
{
	size_t	j;

	for (j = 0; j < n; j++)
		if (strcmp(key, list[j]) == 0)
			return (1);
	return (0);
}

/* Whether key's value is free text (ctl_status_textkeys). */
static int
ctl_textkey(const char *key)
{
	return (ctl_in(ctl_status_textkeys, NELEM(ctl_status_textkeys), key));
}

/* Write free text with its '_' shown as spaces. */
static void
ctl_put_text(FILE *f, const char *v)
{
	for (; *v != '\0'; v++)
		fputc(*v == '_' ? ' ' : *v, f);
}

/* Whether key's value is always a JSON string in records like r. */
static int
ctl_strkey(const struct ctl_rec *r, const char *key)
{
	if (ctl_in(ctl_status_strkeys, NELEM(ctl_status_strkeys), key))
		return (1);
	if (strcmp(r->kw, "sub") != 0 && strcmp(r->kw, "durable") != 0)
		return (0);
	return (ctl_in(ctl_status_substrkeys, NELEM(ctl_status_substrkeys),
	    key));
}

/* Split text into records (invariant 3).  Returns 0 or -1 (memory). */
static int
ctl_status_parse(const char *text, struct ctl_status *st)
{
	struct ctl_rec	*r;
	char		*line, *save, *tok, *save2, *eq;
	size_t		 nlines = 1;
	const char	*p;

	memset(st, 0, sizeof *st);
	for (p = text; *p != '\0'; p++)
		nlines += *p == '\n';
	if (nlines > CTL_MAXREC)
		nlines = CTL_MAXREC;
	if ((st->buf = strdup(text)) == NULL ||
	    (st->r = calloc(nlines, sizeof *st->r)) == NULL) {
		free(st->buf);
		return (-1);
	}
	for (line = strtok_r(st->buf, "\n", &save); line != NULL &&
	    st->n < nlines; line = strtok_r(NULL, "\n", &save)) {
		if ((tok = strtok_r(line, " ", &save2)) == NULL)
			continue;
		r = &st->r[st->n++];
		r->kw = tok;
		while ((tok = strtok_r(NULL, " ", &save2)) != NULL &&
		    r->n < CTL_MAXKV) {
			if ((eq = strchr(tok, '=')) == NULL)
				continue;
			*eq = '\0';
			r->k[r->n] = tok;
			r->v[r->n++] = eq + 1;
		}
	}
	return (0);
}

/* The value of key in r, or NULL. */
static const char *
ctl_get(const struct ctl_rec *r, const char *key)
{
	size_t	i;

	if (r == NULL)
		return (NULL);
	for (i = 0; i < r->n; i++)
		if (strcmp(r->k[i], key) == 0)
			return (r->v[i]);
	return (NULL);
}

/* The value of key in r, or "?". */
static const char *
ctl_val(const struct ctl_rec *r, const char *key)
{
	const char	*v = ctl_get(r, key);

	return (v != NULL ? v : "?");
}

/* The first record with keyword kw, or NULL. */
static const struct ctl_rec *
ctl_first(const struct ctl_status *st, const char *kw)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->r[i].kw, kw) == 0)
			return (&st->r[i]);
	return (NULL);
}

/* Whether s is a JSON number (invariant 1). */
static int
ctl_json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return (0);
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return (0);
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return (0);
		while (isdigit((unsigned char)*s))
			s++;
	}
	return (*s == '\0');
}

/*
 * Length of the well-formed UTF-8 sequence of two to four bytes at p, or
 * 0 (overlong, surrogate, above U+10FFFF, cut short, not a lead byte).
 */
static size_t
ctl_utf8_len(const unsigned char *p)
{
	size_t		n, i;
	unsigned long	cp;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2, cp = *p & 0x1f;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3, cp = *p & 0x0f;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4, cp = *p & 0x07;
	else
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return (0);
	return (n);
}

/*
 * Write s as a JSON string (invariant 1): quotes, backslashes and
 * control characters escaped, UTF-8 passed through, a byte that is not
 * UTF-8 written as U+FFFD; with text, '_' is a space
 * (ctl_status_textkeys).
 */
static void
ctl_json_text(FILE *f, const char *s, int text)
{
	const unsigned char	*p;
	size_t			 n;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p >= 0x80 && (n = ctl_utf8_len(p)) != 0) {
			fwrite(p, 1, n, f);
			p += n - 1;
		} else if (*p >= 0x80)
			fputs("\\ufffd", f);
		else if (*p == '_' && text)
			fputc(' ', f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
ctl_json_str(FILE *f, const char *s)
{
	ctl_json_text(f, s, 0);
}

/* Write one record as a JSON object. */
static void
ctl_json_rec(FILE *f, const struct ctl_rec *r)
{
	size_t	i;
	int	str;

	fputc('{', f);
	for (i = 0; i < r->n; i++) {
		if (i > 0)
			fputc(',', f);
		ctl_json_str(f, r->k[i]);
		fputc(':', f);
		str = ctl_strkey(r, r->k[i]);
		if (strcmp(r->v[i], "-") == 0)
			fputs("null", f);
		else if (!str && ctl_json_number(r->v[i]))
			fputs(r->v[i], f);
		else
			ctl_json_text(f, r->v[i], ctl_textkey(r->k[i]));
	}
	fputc('}', f);
}

/* Write every record with keyword kw as a JSON array named name. */
static void
ctl_json_array(FILE *f, const struct ctl_status *st, const char *kw,
    const char *name)
{
	size_t	i;
	int	first = 1;

	fprintf(f, ",\n  \"%s\": [", name);
	for (i = 0; i < st->n; i++) {
		if (strcmp(st->r[i].kw, kw) != 0)
			continue;
		fputs(first ? "\n    " : ",\n    ", f);
		ctl_json_rec(f, &st->r[i]);
		first = 0;
	}
	fputs(first ? "]" : "\n  ]", f);
}

/* -json */
static void
ctl_status_json(FILE *f, const struct ctl_status *st)
{
	const struct ctl_rec	*r;

	fputs("{\n  \"ampsd\": ", f);
	if ((r = ctl_first(st, "ampsd")) != NULL)
		ctl_json_rec(f, r);
	else
		fputs("null", f);
	ctl_json_array(f, st, "conn", "connections");
	ctl_json_array(f, st, "store", "stores");
	fputs(",\n  \"commit\": ", f);
	if ((r = ctl_first(st, "commit")) != NULL)
		ctl_json_rec(f, r);
	else
		fputs("null", f);
	ctl_json_array(f, st, "prog", "programs");
	ctl_json_array(f, st, "sub", "subscriptions");
	ctl_json_array(f, st, "durable", "durable");
	fputs("\n}\n", f);
}

/* A table column: header, status key, right-aligned (numbers). */
struct ctl_col {
	const char	*head;
	const char	*key;
	int		 right;
};

/*
 * Print the records with keyword kw as a table of cols; in the "conn"
 * table the default connection's name gets a '*'.
 */
static void
ctl_table(FILE *f, const struct ctl_status *st, const char *kw,
    const struct ctl_col *cols, size_t ncols)
{
	const char	*v, *d;
	char		 name[160];
	size_t		 w[16], i, j, len;
	int		 mark = strcmp(kw, "conn") == 0, last;

	if (ncols > sizeof w / sizeof w[0])
		ncols = sizeof w / sizeof w[0];
	for (j = 0; j < ncols; j++)
		w[j] = strlen(cols[j].head);
	for (i = 0; i < st->n; i++) {
		if (strcmp(st->r[i].kw, kw) != 0)
			continue;
		for (j = 0; j < ncols; j++) {
			v = ctl_get(&st->r[i], cols[j].key);
			len = strlen(v != NULL ? v : "-") + (j == 0 && mark);
			if (w[j] < len)
				w[j] = len;
		}
	}
	for (j = 0; j < ncols; j++) {
		last = j + 1 == ncols;
		fprintf(f, "%s%*s", j ? "  " : "", cols[j].right ? (int)w[j] :
		    last ? 0 : -(int)w[j], cols[j].head);
	}
	fputc('\n', f);
	for (i = 0; i < st->n; i++) {
		if (strcmp(st->r[i].kw, kw) != 0)
			continue;
		for (j = 0; j < ncols; j++) {
			last = j + 1 == ncols;
			if ((v = ctl_get(&st->r[i], cols[j].key)) == NULL)
				v = "-";
			if (j == 0 && mark) {
				d = ctl_get(&st->r[i], "default");
				snprintf(name, sizeof name, "%s%s", v,
				    d != NULL && strcmp(d, "1") == 0 ? "*" : "");
				v = name;
			}
			fprintf(f, "%s%*s", j ? "  " : "", cols[j].right ?
			    (int)w[j] : last ? 0 : -(int)w[j], v);
		}
		fputc('\n', f);
	}
}

/* "1d02h03m04s" from seconds (as text); s itself if not a number. */
static const char *
ctl_uptime(const char *s, char *buf, size_t len)
{
	unsigned long long	v;
	char			*end;

	if (s == NULL)
		return ("-");
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0')
		return (s);
	if (v >= 86400)
		snprintf(buf, len, "%llud%02lluh%02llum%02llus", v / 86400,
		    v / 3600 % 24, v / 60 % 60, v % 60);
	else if (v >= 3600)
		snprintf(buf, len, "%lluh%02llum%02llus", v / 3600,
		    v / 60 % 60, v % 60);
	else if (v >= 60)
		snprintf(buf, len, "%llum%02llus", v / 60, v % 60);
	else
		snprintf(buf, len, "%llus", v);
	return (buf);
}

/*
 * Print the upper bound (ms) of the histogram bucket holding quantile q
 * of the "commit" record, from its cumulative le_* keys.
 */
static void
ctl_quantile(FILE *f, const struct ctl_rec *r, double q)
{
	const char	*c = ctl_get(r, "count");
	double		 count = c != NULL ? strtod(c, NULL) : 0, prev = -1;
	size_t		 i;

	for (i = 0; i < r->n; i++) {
		if (strncmp(r->k[i], "le_", 3) != 0)
			continue;
		if (strtod(r->v[i], NULL) >= q * count) {
			if (strcmp(r->k[i], "le_inf") != 0)
				fprintf(f, " <= %g ms",
				    strtod(r->k[i] + 3, NULL) * 1000);
			else if (prev >= 0)
				fprintf(f, " > %g ms", prev * 1000);
			else
				fputs(" ?", f);
			return;
		}
		if (strcmp(r->k[i], "le_inf") != 0)
			prev = strtod(r->k[i] + 3, NULL);
	}
	fputs(" ?", f);
}

/* The daemon header lines of the table. */
static void
ctl_status_head(FILE *f, const struct ctl_status *st)
{
	const struct ctl_rec	*a = ctl_first(st, "ampsd"), *c;
	const char		*v;
	char			 up[64];
	double			 n, sum;
	size_t			 i;
	int			 first = 1;

	if (a != NULL) {
		fprintf(f, "ampsd %s, pid %s, up %s, %s client(s), %s "
		    "subscription(s)", ctl_val(a, "version"), ctl_val(a, "pid"),
		    ctl_uptime(ctl_get(a, "uptime_s"), up, sizeof up),
		    ctl_val(a, "clients"), ctl_val(a, "subscriptions"));
		if ((v = ctl_get(a, "durable_subscriptions")) != NULL)
			fprintf(f, " (%s durable)", v);
		fputc('\n', f);
	}
	for (i = 0; i < st->n; i++) {
		if (strcmp(st->r[i].kw, "store") != 0)
			continue;
		fprintf(f, "%s%s %s (%s failed)", first ? "store commits: " :
		    ", ", ctl_val(&st->r[i], "kind"),
		    ctl_val(&st->r[i], "commits"),
		    ctl_val(&st->r[i], "failures"));
		first = 0;
	}
	if (!first)
		fputc('\n', f);
	if ((c = ctl_first(st, "commit")) != NULL) {
		n = strtod(ctl_val(c, "count"), NULL);
		sum = strtod(ctl_val(c, "sum_s"), NULL);
		if (n <= 0)
			fputs("commit time: no commits yet\n", f);
		else {
			fprintf(f, "commit time: %.0f commits, mean %.3f ms, "
			    "p50", n, sum / n * 1000);
			ctl_quantile(f, c, 0.5);
			fputs(", p99", f);
			ctl_quantile(f, c, 0.99);
			fputc('\n', f);
		}
	}
}

/* The table (default). */
static void
ctl_status_table(FILE *f, const struct ctl_status *st)
{
	static const struct ctl_col conn[] = {
		{ "CONNECTION", "name", 0 },
		{ "STATE", "state", 0 },
		{ "UNPERSISTED", "unpersisted", 1 },
		{ "PERSISTED_SEQ", "persisted_seq", 1 },
		{ "PUBLISHED", "published", 1 },
		{ "ACKED", "acked", 1 },
		{ "WRITE_ERRORS", "failed_writes", 1 },
		{ "REFUSED", "refused", 1 },
		{ "SENT", "sent", 1 },
		{ "REPLAYED", "replayed", 1 },
		{ "RECONNECTS", "reconnects", 1 },
		{ "STORE", "store", 0 },
		{ "SERVER", "server", 0 },
	};
	static const struct ctl_col prog[] = {
		{ "PROGRAM", "name", 0 },
		{ "UID", "uid", 1 },
		{ "CLIENTS", "clients", 1 },
		{ "SUBSCRIPTIONS", "subscriptions", 1 },
		{ "PENDING", "pending", 1 },
		{ "QUEUED_BYTES", "queued_bytes", 1 },
	};
	static const struct ctl_col sub[] = {
		{ "SUBSCRIPTION", "id", 0 },
		{ "KIND", "kind", 0 },
		{ "CONN", "conn", 0 },
		{ "CLIENT", "client", 1 },
		{ "PID", "pid", 1 },
		{ "UID", "uid", 1 },
		{ "NAME", "name", 0 },
		{ "DELIVERED", "delivered", 1 },
		{ "QUEUED_BYTES", "queued_bytes", 1 },
		{ "LEASES", "leases", 1 },
		{ "TOPIC", "topic", 0 },
	};
	static const struct ctl_col dur[] = {
		{ "DURABLE", "name", 0 },
		{ "CONN", "conn", 0 },
		{ "OWNER_UID", "owner_uid", 1 },
		{ "ATTACHED", "attached", 1 },
		{ "PID", "pid", 1 },
		{ "STATE", "state", 0 },
		{ "TOPIC", "topic", 0 },
	};
	const char	*v;
	size_t		 i;

	ctl_status_head(f, st);
	if (ctl_first(st, "conn") != NULL) {
		fputc('\n', f);
		ctl_table(f, st, "conn", conn, sizeof conn / sizeof conn[0]);
		fputs("(* the default connection)\n", f);
		for (i = 0; i < st->n; i++) {
			if (strcmp(st->r[i].kw, "conn") != 0 ||
			    (v = ctl_get(&st->r[i], "last_error")) == NULL ||
			    strcmp(v, "-") == 0)
				continue;
			fprintf(f, "%s: last error: ", ctl_val(&st->r[i],
			    "name"));
			ctl_put_text(f, v);
			fputc('\n', f);
		}
	}
	if (ctl_first(st, "prog") != NULL) {
		fputc('\n', f);
		ctl_table(f, st, "prog", prog, sizeof prog / sizeof prog[0]);
	}
	if (ctl_first(st, "sub") != NULL) {
		fputc('\n', f);
		ctl_table(f, st, "sub", sub, sizeof sub / sizeof sub[0]);
	}
	if (ctl_first(st, "durable") != NULL) {
		fputc('\n', f);
		ctl_table(f, st, "durable", dur, sizeof dur / sizeof dur[0]);
	}
}

/*
 * Print the status text on f: mode 0 a table, 1 JSON, 2 the text as it
 * came (with a final newline).  Returns 0, or -1 if out of memory.
 */
int
ctl_status_print(const char *text, int mode, FILE *f)
{
	struct ctl_status	st;

	if (mode == 2) {
		fputs(text, f);
		if (*text != '\0' && text[strlen(text) - 1] != '\n')
			fputc('\n', f);
		return (0);
	}
	if (ctl_status_parse(text, &st) == -1)
		return (-1);
	if (mode == 1)
		ctl_status_json(f, &st);
	else
		ctl_status_table(f, &st);
	free(st.r);
	free(st.buf);
	return (0);
}

/*
 * ampsctl ping: one line per connection of the status text ("NAME:
 * STATE SERVER", and the last error of one that is not up) on f; *up
 * and *total count the connections, connected or recovering ones being
 * up.  Returns 0, or -1 if out of memory.
 */
int
ctl_status_conns(const char *text, FILE *f, int *up, int *total)
{
	struct ctl_status	 st;
	const struct ctl_rec	*r;
	const char		*state, *v;
	size_t			 i;
	int			 ok;

	*up = *total = 0;
	if (ctl_status_parse(text, &st) == -1)
		return (-1);
	for (i = 0; i < st.n; i++) {
		r = &st.r[i];
		if (strcmp(r->kw, "conn") != 0)
			continue;
		state = ctl_val(r, "state");
		ok = strcmp(state, "connected") == 0 ||
		    strcmp(state, "recovering") == 0;
		(*total)++;
		*up += ok;
		fprintf(f, "%s: %s", ctl_val(r, "name"), state);
		if ((v = ctl_get(r, "server")) != NULL && strcmp(v, "-") != 0)
			fprintf(f, " %s", v);
		if (!ok && (v = ctl_get(r, "last_error")) != NULL &&
		    strcmp(v, "-") != 0) {
			fputs(", last error: ", f);
			ctl_put_text(f, v);
		}
		fputc('\n', f);
	}
	free(st.r);
	free(st.buf);
	return (0);
}
