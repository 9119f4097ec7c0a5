/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubstore-peek.c: read-only looks at publish store files that no
 * ampsd has open.  pubstore_peek() counts what one file holds (the
 * startup warning about stores no configured connection uses, in
 * server.c); pubstore_census() does it for every publish store of a
 * state directory (`ampsd --count-unpersisted DIR`, which the Debian
 * package runs before a purge may delete /var/lib/ampsd).
 *
 * Invariants:
 *
 *  1. Nothing is written, created, locked or renamed: files are opened
 *     read-only and immutable (SQLite creates no -wal or -shm and takes
 *     no lock), the directory is only listed.
 *
 *  2. A count is given only when it is exact: a "-wal" or "-journal"
 *     file next to the store (an ampsd runs on it, or was killed with
 *     it open: an immutable open would not see the rows in it), a file
 *     that fails store-file.c's checks (SQLite header, page size,
 *     truncation) or a query, or anything but a regular file make the
 *     answer "cannot tell", never 0.  Only an empty file or an SQLite
 *     file of another kind (application_id) is "not a publish store".
 *
 *  3. pubstore_census() returns 0 ("nothing unsent") only when the
 *     directory was listed and every "pub-*.db" file in it was read and
 *     is either not a publish store or holds no row in pub and none in
 *     quarantine.
 */

#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "pubstore.h"
#include "store-file.h"

static int __attribute__((__format__(printf, 2, 3)))
peek_why(struct pubstore_peek *pk, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(pk->why, sizeof pk->why, fmt, ap);
	va_end(ap);
	return (-1);
}

/* Does "<path><suffix>" exist (or can that not be told)?  Sets why. */
static int
peek_sibling(const char *path, const char *suffix, struct pubstore_peek *pk)
{
	struct stat	 sb;
	char		*p;
	int		 r = 0;

	if (asprintf(&p, "%s%s", path, suffix) == -1)
		return (peek_why(pk, "out of memory"));
	if (lstat(p, &sb) == 0)
		r = peek_why(pk, "a %s file is next to it: an ampsd has it "
		    "open, or was stopped without closing it", suffix);
	else if (errno != ENOENT)
		r = peek_why(pk, "%s%s: %s", path, suffix, strerror(errno));
	free(p);
	return (r);
}

/* One count(*) query into *n; -1 with why. */
static int
peek_count(sqlite3 *db, const char *sql, uint64_t *n,
    struct pubstore_peek *pk)
{
	sqlite3_stmt	*st = NULL;
	int		 rc = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		rc = peek_why(pk, "%s", sqlite3_errmsg(db));
	else
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (rc);
}

/* See pubstore.h.  The path is percent-encoded into a file: URI. */
int
pubstore_peek(const char *path, struct pubstore_peek *pk)
{
	static const char	 hex[] = "0123456789ABCDEF";
	struct stat		 sb;
	sqlite3			*db = NULL;
	char			*uri, *u, *cause = NULL;
	const char		*p;
	uint64_t		 appid = 0, qtable = 0;
	int			 rc = -1;

	memset(pk, 0, sizeof *pk);
	if (lstat(path, &sb) == -1)
		return (peek_why(pk, "%s", strerror(errno)));
	if (!S_ISREG(sb.st_mode))
		return (peek_why(pk, "not a regular file"));
	if (peek_sibling(path, "-wal", pk) == -1 ||
	    peek_sibling(path, "-journal", pk) == -1)
		return (-1);
	switch (store_file_check(path, &cause)) {
	case 1:
		return (1);		/* empty: never initialised */
	case -1:
		p = cause;
		if (strncmp(p, path, strlen(path)) == 0 &&
		    strncmp(p + strlen(path), ": ", 2) == 0)
			p += strlen(path) + 2;
		peek_why(pk, "%s", p);
		free(cause);
		return (-1);
	}
	if ((uri = malloc(strlen(path) * 3 + sizeof "file:?mode=ro&"
	    "immutable=1")) == NULL)
		return (peek_why(pk, "out of memory"));
	u = uri + strlen(strcpy(uri, "file:"));
	for (p = path; *p != '\0'; p++) {
		if (*p == '%' || *p == '?' || *p == '#') {
			*u++ = '%';
			*u++ = hex[(unsigned char)*p >> 4];
			*u++ = hex[(unsigned char)*p & 0xf];
		} else
			*u++ = *p;
	}
	strcpy(u, "?mode=ro&immutable=1");
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		peek_why(pk, "%s", db != NULL ? sqlite3_errmsg(db) :
		    "out of memory");
		goto out;
	}
	if (peek_count(db, "PRAGMA application_id", &appid, pk) == -1)
		goto out;
	if ((uint32_t)appid != PUBSTORE_APPID) {
		rc = 1;
		goto out;
	}
	/* Schema version 1 (before its migration) has no quarantine. */
	if (peek_count(db, "SELECT count(*) FROM pub", &pk->rows, pk) == -1 ||
	    peek_count(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'quarantine'", &qtable, pk) == -1 ||
	    (qtable != 0 && peek_count(db, "SELECT count(*) FROM quarantine",
	    &pk->quarantined, pk) == -1))
		goto out;
	rc = 0;
out:
	sqlite3_close(db);
	free(uri);
	return (rc);
}

/* See pubstore.h. */
int
pubstore_peek_count(const char *path, uint64_t *n)
{
	struct pubstore_peek	pk;

	if (pubstore_peek(path, &pk) != 0)
		return (-1);
	*n = pk.rows;
	return (0);
}

/* scandir() filter: the names a publish store may have, pub-*.db. */
static int
census_name(const struct dirent *de)
{
	size_t	len = strlen(de->d_name);

	return (len > 7 && strncmp(de->d_name, "pub-", 4) == 0 &&
	    strcmp(de->d_name + len - 3, ".db") == 0);
}

/* See pubstore.h. */
int
pubstore_census(const char *dir, FILE *out, FILE *err)
{
	struct pubstore_peek	  pk;
	struct dirent		**v;
	char			 *path;
	int			  i, nv, rc = 0;

	if ((nv = scandir(dir, &v, census_name, alphasort)) == -1) {
		fprintf(err, "ampsd: %s: %s\n", dir, strerror(errno));
		return (1);
	}
	for (i = 0; i < nv; i++) {
		if (asprintf(&path, "%s/%s", dir, v[i]->d_name) == -1) {
			fprintf(err, "ampsd: out of memory\n");
			rc = 1;
			break;
		}
		switch (pubstore_peek(path, &pk)) {
		case 0:
			fprintf(out, "%s: %llu unpersisted message(s)", path,
			    (unsigned long long)pk.rows);
			if (pk.quarantined > 0)
				fprintf(out, ", %llu quarantined (damaged, "
				    "never sent)",
				    (unsigned long long)pk.quarantined);
			fputc('\n', out);
			if (pk.rows > 0 || pk.quarantined > 0)
				rc = 1;
			break;
		case 1:
			break;		/* not a publish store */
		default:
			fprintf(out, "%s: cannot tell (%s)\n", path, pk.why);
			rc = 1;
			break;
		}
		free(path);
	}
	for (i = 0; i < nv; i++)
		free(v[i]);
	free(v);
	if (fflush(out) == EOF || ferror(out))
		rc = 1;
	return (rc);
}
