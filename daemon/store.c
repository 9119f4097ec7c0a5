/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * store.c: SQLite plumbing for ampsd's durable stores.
 *
 * This module owns the sqlite3 handle of each store file: opening it with
 * its checks and pragmas, the schema version (PRAGMA user_version) and its
 * migrations, the persistent prepared statements, the batched write
 * transaction of an event-loop pass, and the store's health.  pubstore.c
 * (with pubstore-peek.c, its read-only looks at closed files) and
 * bookmarkstore.c own their tables and SQL; nothing else in the daemon
 * includes <sqlite3.h>.  It never prints and keeps no global state.
 *
 * Invariants:
 *
 *  1. A file that exists is never recreated, truncated or reset.  It is
 *     opened only if store-file.c accepts it (SQLite header, size agrees
 *     with the header), PRAGMA quick_check says "ok", its application_id
 *     is the schema's (or the file is empty of tables), and its
 *     user_version is not newer than ours.  All of that is checked before
 *     the first write (journal_mode=WAL), and closing a refused store does
 *     not checkpoint (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE), so a refused
 *     file and its -wal are left byte-for-byte intact.
 *
 *  2. A missing file is created only when the caller allows it, and never
 *     when a "-wal" or "-journal" file next to it shows that a store was
 *     there (store_file_precheck()).
 *
 *  3. At most one write transaction is open (in_txn).  It is opened by the
 *     first write of a pass (store_begin) and ended only by store_commit,
 *     store_rollback, or an I/O-class error in store_exec.
 *
 *  4. If any statement of a transaction failed with an I/O-class error
 *     (FULL, IOERR, CORRUPT, NOTADB, CANTOPEN, NOMEM), the transaction is
 *     rolled back at once, txn_lost is set, and the next store_commit()
 *     returns -1: a caller never sees success for a row that is gone.
 *
 *  5. state is DEGRADED from such an error (or a failed COMMIT) until a
 *     COMMIT succeeds again; while DEGRADED, store_begin() refuses, so new
 *     writes fail with a clear message.  Only store_probe() opens a
 *     transaction in that state.
 *
 *  6. Every statement is prepared once with SQLITE_PREPARE_PERSISTENT,
 *     reset after use, and finalized by store_close().
 *
 *  7. Commit counter (lost-WAL detection).  Every commit, the
 *     migrations' and the probe's included, adds one to the row of the
 *     store_commits table inside its own transaction, and after COMMIT
 *     returns the new value is written to "<path>-commits" (16 bytes:
 *     "AMPC", the count big-endian, a CRC-32C of both; pwrite, no fsync).
 *     So the file never counts a commit that SQLite has not durably
 *     committed (with synchronous=FULL the WAL was fsynced first), and
 *     after a process crash (kill -9) it holds the last commit.  At open,
 *     before anything is written, a file count above the database's
 *     means committed transactions were lost (e.g. WAL recovery stopped
 *     at a damaged frame): with synchronous=FULL the store is refused;
 *     with NORMAL, where a power loss may legitimately lose the last
 *     commits, the open succeeds with a notice (store_notice()).  The
 *     file is also the marker that a store existed (store-file.c).  A
 *     missing file next to a store that has counted commits is recreated
 *     with a notice.
 *
 *  8. Every connection has the SQL function ampsd_crc32c(...) (see
 *     store_crc_int()/store_crc_blob()), so owners' migrations can
 *     compute the checksum of rows written before checksums existed.
 *
 *  9. A store file is created mode 0600 whatever the process umask (the
 *     stores hold message payloads), and so is its "-commits" file;
 *     existing files are made private by ampsd.c before any store is
 *     opened.
 *
 * 10. Checkpoints.  Without STORE_CKPT_THREAD, SQLite checkpoints the WAL
 *     inside the commit that takes it past 1000 pages (its default), on
 *     the committing thread: with synchronous=NORMAL that commit pays
 *     the fsyncs of everything the commits before it skipped, 7-8.5 ms
 *     on the benchmark VM against 40-140 us for the others, and every
 *     publish (or, for a bookmark store, the whole event loop) waits
 *     for it (docs/BENCHMARKS.md, "The durable path").  With the flag,
 *     once the checks have passed, the store opens a second connection
 *     of its own to the file (same synchronous setting, so a checkpoint
 *     syncs exactly as SQLite's own would) and a thread, "ampsd-ckpt", that
 *     only runs PASSIVE checkpoints on it; the WAL hook of the main
 *     connection, which replaces SQLite's automatic checkpoint, wakes
 *     the thread after a commit that leaves STORE_CKPT_PAGES or more in
 *     the WAL.  A PASSIVE checkpoint never blocks or fails a writer, so
 *     commits go on while it syncs; the writer restarts the WAL after a
 *     complete one as before.  Under commits without a pause the thread's
 *     checkpoints never catch up with the WAL's end, so the WAL would
 *     never restart: past STORE_CKPT_INLINE pages (64 MB, the size the
 *     WAL is cut back to) the commit waits for the thread's checkpoint
 *     to end and does one itself, as SQLite's own would, which bounds
 *     the WAL (and stalls that commit only when the disk cannot keep
 *     up anyway).  The thread touches only its connection
 *     and the ck_* fields under ck_mtx; store_close() stops and joins it
 *     and closes its connection before the main one, which then
 *     checkpoints at close as before.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "crc32c.h"
#include "store-file.h"
#include "store.h"

#define STORE_ERRLEN		512
#define STORE_BUSY_MS		2000
#define STORE_WAL_LIMIT		(64 * 1024 * 1024)	/* journal_size_limit */
#define STORE_PROBE_BYTES	16384
#define STORE_CKPT_PAGES	1000	/* WAL pages that wake the thread */
#define STORE_CKPT_INLINE	16384	/* ... that make the commit do one */

struct store {
	sqlite3			*db;
	char			*path;
	const struct store_schema *schema;
	enum store_state	 state;
	int			 in_txn;
	int			 txn_lost;
	uint64_t		 commits;
	struct store_hooks	 hooks;
	struct store_rows	 txn_rows;	/* written in the open txn */
	struct store_rows	 last_rows;	/* ... in the last commit */
	enum store_durability	 dur;
	uint64_t		 ncommits;	/* store_commits.n, committed */
	int			 cfd;		/* "<path>-commits", or -1 */
	char			*cpath;

	sqlite3_stmt		*st_begin;
	sqlite3_stmt		*st_commit;
	sqlite3_stmt		*st_rollback;
	sqlite3_stmt		*st_probe_ins;
	sqlite3_stmt		*st_probe_del;
	sqlite3_stmt		*st_count;	/* store_commits.n = ?1 */

	sqlite3_stmt		**stmts;	/* all of them, for finalize */
	size_t			 nstmts;
	size_t			 capstmts;

	char			 err[STORE_ERRLEN];
	char			 notice[STORE_ERRLEN];

	/* The checkpoint thread (invariant 10). */
	sqlite3			*ckdb;		/* its connection */
	pthread_t		 ck_thread;
	pthread_mutex_t		 ck_mtx;
	pthread_cond_t		 ck_cond;
	int			 ck_started;
	int			 ck_want;	/* the WAL hook asked */
	int			 ck_busy;	/* the thread is checkpointing */
	int			 ck_stop;
	uint64_t		 ck_runs;	/* checkpoints done by the thread */
};

static int	store_ckpt_start(struct store *, char **);

struct store_set {
	struct store		**v;
	size_t			 n;
	size_t			 cap;
	store_observe_fn	 observe;	/* told about each commit */
	void			*observe_arg;
};

/* Format an allocated message into *cause (if cause is not NULL). */
static void __attribute__((__format__(printf, 2, 3)))
store_cause(char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*m;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) == -1)
		m = NULL;
	va_end(ap);
	*cause = m;
}

/* Record the current error of the store. */
static void __attribute__((__format__(printf, 2, 3)))
store_seterr(struct store *s, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
}

/* Whether an SQLite result code means the file or the disk is in trouble. */
static int
store_rc_fatal(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CANTOPEN:
	case SQLITE_NOMEM:
	case SQLITE_READONLY:
		return (1);
	}
	return (0);
}

/* Run setup SQL (not used on hot paths).  Returns 0 or -1 with *cause. */
static int
store_setup_exec(struct store *s, const char *sql, char **cause)
{
	char	*msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_cause(cause, "%s: %s: %s", s->path, sql,
		    msg != NULL ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return (-1);
	}
	return (0);
}

/* Read one integer or text pragma.  Returns 0 or -1 with *cause. */
static int
store_pragma(struct store *s, const char *sql, int64_t *iv, char *tv,
    size_t tcap, char **cause)
{
	sqlite3_stmt	*st;
	const unsigned char *t;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_cause(cause, "%s: %s: %s", s->path, sql,
		    sqlite3_errmsg(s->db));
		return (-1);
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		store_cause(cause, "%s: %s: %s", s->path, sql,
		    rc == SQLITE_DONE ? "no result" : sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return (-1);
	}
	if (iv != NULL)
		*iv = sqlite3_column_int64(st, 0);
	if (tv != NULL) {
		t = sqlite3_column_text(st, 0);
		snprintf(tv, tcap, "%s", t != NULL ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	return (0);
}

/* Extend crc with a 64-bit integer, big-endian (invariant 8). */
uint32_t
store_crc_int(uint32_t crc, int64_t v)
{
	unsigned char	 b[8];
	uint64_t	 u = (uint64_t)v;
	int		 i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
	return (crc32c_update(crc, b, sizeof b));
}

/* Extend crc with a blob: its length (4 bytes, big-endian), its bytes. */
uint32_t
store_crc_blob(uint32_t crc, const void *p, size_t len)
{
	unsigned char	 b[4];

	b[0] = (unsigned char)(len >> 24);
	b[1] = (unsigned char)(len >> 16);
	b[2] = (unsigned char)(len >> 8);
	b[3] = (unsigned char)len;
	crc = crc32c_update(crc, b, sizeof b);
	return (len == 0 ? crc : crc32c_update(crc, p, len));
}

/* SQL ampsd_crc32c(arg, ...): integers and blobs as above (invariant 8). */
static void
store_sql_crc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	uint32_t	 crc = 0;
	int		 i;

	for (i = 0; i < argc; i++) {
		if (sqlite3_value_type(argv[i]) == SQLITE_INTEGER)
			crc = store_crc_int(crc, sqlite3_value_int64(argv[i]));
		else
			crc = store_crc_blob(crc, sqlite3_value_blob(argv[i]),
			    (size_t)sqlite3_value_bytes(argv[i]));
	}
	sqlite3_result_int64(ctx, (sqlite3_int64)crc);
}

/* Write the counter after a successful COMMIT (invariant 7). */
static void
store_cc_write(struct store *s)
{
	unsigned char	 b[STORE_CC_LEN];

	if (s->cfd == -1)
		return;
	store_cc_encode(b, s->ncommits);
	if (pwrite(s->cfd, b, sizeof b, 0) != (ssize_t)sizeof b)
		snprintf(s->notice, sizeof s->notice, "%s: cannot write the "
		    "commit counter: %s", s->cpath, strerror(errno));
}

/*
 * The counter check of invariant 7, before anything is written.  has:
 * whether the database has the store_commits table.
 */
static int
store_cc_check(struct store *s, char **cause)
{
	sqlite3_stmt	*st;
	int64_t		 ndb = 0;
	uint64_t	 nfile = 0;
	int		 has = 0, r;

	if (sqlite3_prepare_v2(s->db, "SELECT n FROM store_commits WHERE "
	    "k = 0", -1, &st, NULL) == SQLITE_OK) {
		has = 1;
		if (sqlite3_step(st) == SQLITE_ROW)
			ndb = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	s->ncommits = ndb < 0 ? 0 : (uint64_t)ndb;
	if ((r = store_cc_read(s->cpath, &nfile, cause)) == -1)
		return (-1);
	if (r == 0) {
		if (has && s->ncommits > 0)
			snprintf(s->notice, sizeof s->notice, "%s: commit "
			    "counter file missing (the store counts %llu "
			    "commits); lost-transaction detection restarts "
			    "from here", s->cpath,
			    (unsigned long long)s->ncommits);
		return (0);
	}
	if (nfile <= s->ncommits)
		return (0);
	if (s->dur == STORE_SYNC_FULL) {
		store_cause(cause, "%s: %llu committed transaction(s) lost: "
		    "the store holds %llu commits, %s says %llu (a damaged or "
		    "removed -wal file?); refusing to use it.  Keep every "
		    "file for inspection; to accept the store as it is, remove "
		    "%s", s->path, (unsigned long long)(nfile - s->ncommits),
		    (unsigned long long)s->ncommits, s->cpath,
		    (unsigned long long)nfile, s->cpath);
		return (-1);
	}
	snprintf(s->notice, sizeof s->notice, "%s: %llu committed "
	    "transaction(s) lost (the store holds %llu commits, %s says "
	    "%llu); with synchronous=NORMAL a power loss may do that, so the "
	    "store is used as it is", s->path,
	    (unsigned long long)(nfile - s->ncommits),
	    (unsigned long long)s->ncommits, s->cpath,
	    (unsigned long long)nfile);
	return (0);
}

/*
 * Check an existing database's contents (invariant 1).  Sets *fresh when
 * it holds nothing at all (a file created but never initialised).
 */
static int
store_check_db(struct store *s, int *fresh, char **cause)
{
	const struct store_schema *sc = s->schema;
	char		 qc[256];
	int64_t		 appid, version, ntables;

	if (store_pragma(s, "PRAGMA quick_check(1)", NULL, qc, sizeof qc,
	    cause) != 0)
		return (-1);
	if (strcmp(qc, "ok") != 0) {
		store_cause(cause, "%s: corrupt database (quick_check: %s); "
		    "refusing to use or replace it", s->path, qc);
		return (-1);
	}
	if (store_pragma(s, "PRAGMA application_id", &appid, NULL, 0,
	    cause) != 0 ||
	    store_pragma(s, "PRAGMA user_version", &version, NULL, 0,
	    cause) != 0 ||
	    store_pragma(s, "SELECT count(*) FROM sqlite_master", &ntables,
	    NULL, 0, cause) != 0)
		return (-1);
	*fresh = (appid == 0 && version == 0 && ntables == 0);
	if (*fresh)
		return (0);
	if (appid != sc->application_id) {
		store_cause(cause, "%s: not an ampsd %s (application_id "
		    "0x%08llx, expected 0x%08x); refusing to use it", s->path,
		    sc->kind, (unsigned long long)(uint32_t)appid,
		    (unsigned)sc->application_id);
		return (-1);
	}
	if (version > sc->nmigrations) {
		store_cause(cause, "%s: %s schema version %lld is newer than "
		    "this ampsd supports (%d); refusing to use it", s->path,
		    sc->kind, (long long)version, sc->nmigrations);
		return (-1);
	}
	if (version < 1) {
		store_cause(cause, "%s: %s has no schema version; refusing to "
		    "use it", s->path, sc->kind);
		return (-1);
	}
	return (0);
}

/* Bring the schema to the current version in one transaction. */
static int
store_migrate(struct store *s, int fresh, char **cause)
{
	const struct store_schema *sc = s->schema;
	char		 sql[128];
	int64_t		 version;
	int		 v;

	if (store_setup_exec(s, "BEGIN IMMEDIATE", cause) != 0)
		return (-1);
	if (store_pragma(s, "PRAGMA user_version", &version, NULL, 0,
	    cause) != 0)
		goto fail;
	if (fresh && store_setup_exec(s, "CREATE TABLE store_probe "
	    "(b BLOB NOT NULL)", cause) != 0)
		goto fail;
	if (store_setup_exec(s, "CREATE TABLE IF NOT EXISTS store_commits "
	    "(k INTEGER PRIMARY KEY CHECK (k = 0), n INTEGER NOT NULL); "
	    "INSERT OR IGNORE INTO store_commits (k, n) VALUES (0, 0)",
	    cause) != 0)
		goto fail;
	for (v = (int)version; v < sc->nmigrations; v++) {
		if (store_setup_exec(s, sc->migrations[v], cause) != 0)
			goto fail;
	}
	snprintf(sql, sizeof sql, "UPDATE store_commits SET n = %llu",
	    (unsigned long long)s->ncommits + 1);
	if (store_setup_exec(s, sql, cause) != 0)
		goto fail;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", sc->nmigrations);
	if (store_setup_exec(s, sql, cause) != 0)
		goto fail;
	snprintf(sql, sizeof sql, "PRAGMA application_id = %d",
	    (int)sc->application_id);
	if (store_setup_exec(s, sql, cause) != 0)
		goto fail;
	if (store_setup_exec(s, "COMMIT", cause) != 0)
		goto fail;
	s->ncommits++;
	store_cc_write(s);
	return (0);
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/* Prepare the statements every store has (transaction, probe). */
static int
store_prepare_own(struct store *s, char **cause)
{
	if (store_prepare(s, "BEGIN IMMEDIATE", &s->st_begin, cause) != 0 ||
	    store_prepare(s, "COMMIT", &s->st_commit, cause) != 0 ||
	    store_prepare(s, "ROLLBACK", &s->st_rollback, cause) != 0 ||
	    store_prepare(s, "INSERT INTO store_probe (b) VALUES "
	    "(zeroblob(?1))", &s->st_probe_ins, cause) != 0 ||
	    store_prepare(s, "DELETE FROM store_probe", &s->st_probe_del,
	    cause) != 0 ||
	    store_prepare(s, "UPDATE store_commits SET n = ?1 WHERE k = 0",
	    &s->st_count, cause) != 0)
		return (-1);
	return (0);
}

/*
 * A store in a private in-memory database (STORE_MEMORY): the same
 * schema and statements, nothing on disk, so none of the file checks of
 * invariants 1 and 2 apply; name is only used in messages.
 */
static struct store *
store_open_memory(const char *name, const struct store_schema *sc,
    char **cause)
{
	struct store	*s;

	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->path = strdup(name)) == NULL) {
		free(s);
		store_cause(cause, "%s: out of memory", name);
		return (NULL);
	}
	s->schema = sc;
	s->dur = STORE_MEMORY;
	s->cfd = -1;			/* no commit counter file */
	if (sqlite3_open_v2(":memory:", &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_cause(cause, "%s: %s", name, s->db != NULL ?
		    sqlite3_errmsg(s->db) : "cannot open a memory database");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_create_function(s->db, "ampsd_crc32c", -1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, NULL, store_sql_crc, NULL, NULL) !=
	    SQLITE_OK) {
		store_cause(cause, "%s: %s", name, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (store_setup_exec(s, "PRAGMA synchronous = OFF; "
	    "PRAGMA secure_delete = OFF; PRAGMA foreign_keys = OFF",
	    cause) != 0 || store_migrate(s, 1, cause) != 0 ||
	    store_prepare_own(s, cause) != 0)
		goto fail;
	return (s);
fail:
	store_close(s);
	return (NULL);
}

/*
 * Open the store at path.  See store.h for the contract; invariants 1
 * and 2 above are enforced here.
 */
struct store *
store_open(const char *path, const struct store_schema *sc,
    enum store_durability dur, int flags, char **cause)
{
	struct store	*s;
	struct stat	 sb;
	char		 mode[32], sql[96], *wal = NULL;
	mode_t		 mask;
	int		 oflags, rc, fresh = 0, create = 0, had_wal;

	assert(path != NULL && sc != NULL && sc->nmigrations >= 1);
	if (cause != NULL)
		*cause = NULL;

	if (dur == STORE_MEMORY)
		return (store_open_memory(path, sc, cause));
	if (store_file_precheck(path, sc->kind, flags, &create, cause) != 0)
		return (NULL);

	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		store_cause(cause, "%s: out of memory", path);
		return (NULL);
	}
	/* Whether a -wal was there: SQLite creates one when it reads. */
	if (asprintf(&wal, "%s-wal", path) == -1)
		wal = NULL;
	had_wal = wal == NULL || lstat(wal, &sb) == 0;
	s->schema = sc;
	s->dur = dur;
	s->cfd = -1;
	if (asprintf(&s->cpath, "%s-commits", path) == -1) {
		s->cpath = NULL;
		store_cause(cause, "%s: out of memory", path);
		goto fail;
	}
	oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (create)
		oflags |= SQLITE_OPEN_CREATE;
	/* A new file is 0600 whatever the umask; SQLite gives its -wal,
	 * -shm and -journal files the mode of the database (invariant 9). */
	mask = umask(077);
	rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
	umask(mask);
	if (rc != SQLITE_OK) {
		store_cause(cause, "%s: %s", path, s->db != NULL ?
		    sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	/* Until the checks pass, closing must not checkpoint (invariant 1). */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
	    (int *)NULL);
	if (sqlite3_create_function(s->db, "ampsd_crc32c", -1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, NULL, store_sql_crc, NULL, NULL) !=
	    SQLITE_OK) {
		store_cause(cause, "%s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}

	if (create)
		fresh = 1;
	else if (store_check_db(s, &fresh, cause) != 0)
		goto fail;
	if (store_cc_check(s, cause) != 0)
		goto fail;

	/* The checks passed: from here on the file may be written. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0,
	    (int *)NULL);
	if (store_pragma(s, "PRAGMA journal_mode = WAL", NULL, mode,
	    sizeof mode, cause) != 0)
		goto fail;
	if (strcmp(mode, "wal") != 0) {
		store_cause(cause, "%s: cannot switch to WAL mode (got %s)",
		    path, mode);
		goto fail;
	}
	snprintf(sql, sizeof sql, "PRAGMA synchronous = %s; PRAGMA "
	    "journal_size_limit = %d", dur == STORE_SYNC_NORMAL ? "NORMAL" :
	    "FULL", STORE_WAL_LIMIT);
	if (store_setup_exec(s, sql, cause) != 0 ||
	    store_setup_exec(s, "PRAGMA secure_delete = OFF; "
	    "PRAGMA foreign_keys = OFF", cause) != 0)
		goto fail;
	if ((s->cfd = open(s->cpath, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1) {
		store_cause(cause, "%s: %s", s->cpath, strerror(errno));
		goto fail;
	}
	if (store_migrate(s, fresh, cause) != 0)
		goto fail;

	if (store_prepare_own(s, cause) != 0)
		goto fail;
	if ((flags & STORE_CKPT_THREAD) && store_ckpt_start(s, cause) != 0)
		goto fail;
	free(wal);
	return (s);
fail:
	store_close(s);
	/* Leave a refused store as it was: no empty -wal of our making. */
	if (!had_wal && lstat(wal, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size == 0)
		unlink(wal);
	free(wal);
	return (NULL);
}

/*
 * The main connection's WAL hook (invariant 10): runs on the committing
 * thread after each commit, with the pages now in the WAL.
 */
static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int npages)
{
	struct store	*s = arg;

	(void)name;
	if (npages < STORE_CKPT_PAGES)
		return (SQLITE_OK);
	pthread_mutex_lock(&s->ck_mtx);
	if (npages >= STORE_CKPT_INLINE) {
		/* The thread is not keeping up (commits without a pause):
		 * wait for its checkpoint to end, then do one here, which
		 * with no other writer and the thread held off completes,
		 * so the next transaction restarts the WAL. */
		while (s->ck_busy)
			pthread_cond_wait(&s->ck_cond, &s->ck_mtx);
		(void)sqlite3_wal_checkpoint_v2(db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (!s->ck_want) {
		s->ck_want = 1;
		pthread_cond_broadcast(&s->ck_cond);
	}
	pthread_mutex_unlock(&s->ck_mtx);
	return (SQLITE_OK);
}

/* The checkpoint thread: a PASSIVE checkpoint each time it is woken. */
static void *
store_ckpt_main(void *arg)
{
	struct store	*s = arg;

	(void)pthread_setname_np(pthread_self(), "ampsd-ckpt");
	pthread_mutex_lock(&s->ck_mtx);
	for (;;) {
		while (!s->ck_want && !s->ck_stop)
			pthread_cond_wait(&s->ck_cond, &s->ck_mtx);
		if (s->ck_stop)
			break;
		s->ck_want = 0;
		s->ck_busy = 1;
		pthread_mutex_unlock(&s->ck_mtx);
		/* A failure (disk full, I/O) leaves the WAL longer, as a
		 * failed automatic checkpoint would; the next commit past
		 * the mark wakes us again. */
		(void)sqlite3_wal_checkpoint_v2(s->ckdb, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&s->ck_mtx);
		s->ck_busy = 0;
		s->ck_runs++;
		pthread_cond_broadcast(&s->ck_cond);
	}
	pthread_mutex_unlock(&s->ck_mtx);
	return (NULL);
}

/*
 * Open the checkpoint connection and start its thread (invariant 10);
 * called once the store's checks have passed.  0, or -1 with *cause.
 */
static int
store_ckpt_start(struct store *s, char **cause)
{
	char	sql[64];
	int	rc;

	if (sqlite3_open_v2(s->path, &s->ckdb, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_cause(cause, "%s: checkpoint connection: %s", s->path,
		    s->ckdb != NULL ? sqlite3_errmsg(s->ckdb) : "cannot open");
		return (-1);
	}
	sqlite3_db_config(s->ckdb, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
	    (int *)NULL);
	snprintf(sql, sizeof sql, "PRAGMA synchronous = %s",
	    s->dur == STORE_SYNC_NORMAL ? "NORMAL" : "FULL");
	if (sqlite3_exec(s->ckdb, sql, NULL, NULL, NULL) != SQLITE_OK) {
		store_cause(cause, "%s: checkpoint connection: %s", s->path,
		    sqlite3_errmsg(s->ckdb));
		return (-1);
	}
	if ((rc = pthread_mutex_init(&s->ck_mtx, NULL)) != 0)
		goto nothread;
	if ((rc = pthread_cond_init(&s->ck_cond, NULL)) != 0) {
		pthread_mutex_destroy(&s->ck_mtx);
		goto nothread;
	}
	if ((rc = pthread_create(&s->ck_thread, NULL, store_ckpt_main, s))
	    != 0) {
		pthread_cond_destroy(&s->ck_cond);
		pthread_mutex_destroy(&s->ck_mtx);
		goto nothread;
	}
	s->ck_started = 1;
	/* Replaces SQLite's automatic checkpoint on the main connection. */
	sqlite3_wal_hook(s->db, store_wal_hook, s);
	return (0);
nothread:
	store_cause(cause, "%s: checkpoint thread: %s", s->path,
	    strerror(rc));
	return (-1);
}

/* Stop and join the checkpoint thread, close its connection. */
static void
store_ckpt_stop(struct store *s)
{
	if (s->ck_started) {
		sqlite3_wal_hook(s->db, NULL, NULL);
		pthread_mutex_lock(&s->ck_mtx);
		s->ck_stop = 1;
		pthread_cond_broadcast(&s->ck_cond);
		pthread_mutex_unlock(&s->ck_mtx);
		pthread_join(s->ck_thread, NULL);
		pthread_cond_destroy(&s->ck_cond);
		pthread_mutex_destroy(&s->ck_mtx);
		s->ck_started = 0;
	}
	if (s->ckdb != NULL)
		sqlite3_close(s->ckdb);
	s->ckdb = NULL;
}

uint64_t
store_checkpoints(struct store *s)
{
	uint64_t	n;

	if (!s->ck_started)
		return (0);
	pthread_mutex_lock(&s->ck_mtx);
	n = s->ck_runs;
	pthread_mutex_unlock(&s->ck_mtx);
	return (n);
}

/*
 * Close the store: roll back what is uncommitted, stop the checkpoint
 * thread, finalize every statement, close the handle.  Accepts NULL.
 */
void
store_close(struct store *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	if (s->db != NULL && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	store_ckpt_stop(s);
	for (i = 0; i < s->nstmts; i++)
		sqlite3_finalize(s->stmts[i]);
	free(s->stmts);
	if (s->db != NULL)
		sqlite3_close(s->db);
	if (s->cfd != -1)
		close(s->cfd);
	free(s->cpath);
	free(s->path);
	free(s);
}

/*
 * Prepare a persistent statement owned by the store (invariant 6).
 * Returns 0, or -1 with *cause set.
 */
int
store_prepare(struct store *s, const char *sql, sqlite3_stmt **stp,
    char **cause)
{
	sqlite3_stmt	**nv;
	size_t		 ncap;

	assert(s != NULL && sql != NULL && stp != NULL);
	if (s->nstmts == s->capstmts) {
		ncap = s->capstmts == 0 ? 16 : s->capstmts * 2;
		if ((nv = reallocarray(s->stmts, ncap, sizeof *nv)) == NULL) {
			store_cause(cause, "%s: out of memory", s->path);
			return (-1);
		}
		s->stmts = nv;
		s->capstmts = ncap;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    stp, NULL) != SQLITE_OK) {
		store_cause(cause, "%s: preparing \"%s\": %s", s->path, sql,
		    sqlite3_errmsg(s->db));
		*stp = NULL;
		return (-1);
	}
	s->stmts[s->nstmts++] = *stp;
	return (0);
}

/* Enter DEGRADED after an I/O-class failure (invariants 4 and 5). */
static void
store_fail_txn(struct store *s, const char *what, int rc)
{
	store_seterr(s, "%s: %s: %s (%s); store degraded, writes refused",
	    s->path, what, sqlite3_errstr(rc), sqlite3_errmsg(s->db));
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_reset(s->st_rollback);
		sqlite3_step(s->st_rollback);
		sqlite3_reset(s->st_rollback);
	}
	if (s->in_txn)
		s->txn_lost = 1;
	s->in_txn = 0;
	s->state = STORE_DEGRADED;
}

/*
 * Open the pass's write transaction unless one is open.  Refused while
 * DEGRADED or after a failure in this pass.  Returns 0 or -1.
 */
int
store_begin(struct store *s)
{
	int	 rc;

	assert(s != NULL);
	if (s->in_txn)
		return (0);
	if (s->state == STORE_DEGRADED) {
		if (s->err[0] == '\0')
			store_seterr(s, "%s: store degraded", s->path);
		return (-1);
	}
	rc = sqlite3_step(s->st_begin);
	sqlite3_reset(s->st_begin);
	if (rc != SQLITE_DONE) {
		if (store_rc_fatal(rc))
			store_fail_txn(s, "BEGIN", rc);
		else
			store_seterr(s, "%s: BEGIN: %s", s->path,
			    sqlite3_errmsg(s->db));
		return (-1);
	}
	s->in_txn = 1;
	memset(&s->txn_rows, 0, sizeof s->txn_rows);
	return (0);
}

/*
 * Count the rows a write statement just changed, by the statement's
 * first word (INSERT/REPLACE, DELETE, UPDATE).
 */
static void
store_count_rows(struct store *s, sqlite3_stmt *st)
{
	const char	*sql;
	uint64_t	 n;

	if (sqlite3_stmt_readonly(st) || (sql = sqlite3_sql(st)) == NULL)
		return;
	n = (uint64_t)sqlite3_changes(s->db);
	while (*sql == ' ' || *sql == '\t' || *sql == '\n')
		sql++;
	if (strncasecmp(sql, "INSERT", 6) == 0 ||
	    strncasecmp(sql, "REPLACE", 7) == 0)
		s->txn_rows.inserted += n;
	else if (strncasecmp(sql, "DELETE", 6) == 0)
		s->txn_rows.deleted += n;
	else if (strncasecmp(sql, "UPDATE", 6) == 0)
		s->txn_rows.updated += n;
}

/*
 * Step a write statement once, then reset it and clear its bindings.
 * Returns SQLITE_DONE/SQLITE_ROW or -1 (see store.h).
 */
int
store_exec(struct store *s, sqlite3_stmt *st)
{
	int	 rc;

	assert(s != NULL && st != NULL);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		store_count_rows(s, st);
		return (rc);
	}
	if (store_rc_fatal(rc))
		store_fail_txn(s, sqlite3_sql(st), rc);
	else
		store_seterr(s, "%s: %s: %s", s->path, sqlite3_sql(st),
		    sqlite3_errmsg(s->db));
	return (-1);
}

/* Step a read cursor once; resets it at the end or on error. */
int
store_step(struct store *s, sqlite3_stmt *st)
{
	int	 rc;

	assert(s != NULL && st != NULL);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return (rc);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return (rc);
	if (store_rc_fatal(rc))
		store_fail_txn(s, sqlite3_sql(st), rc);
	else
		store_seterr(s, "%s: %s: %s", s->path, sqlite3_sql(st),
		    sqlite3_errmsg(s->db));
	return (-1);
}

/* Run COMMIT for an open transaction (precommit hook first). */
static int
store_do_commit(struct store *s)
{
	int	 rc;

	if (s->hooks.precommit != NULL && s->hooks.precommit(s->hooks.arg)
	    != 0) {
		if (s->in_txn)
			store_fail_txn(s, "pre-commit", SQLITE_ABORT);
		s->txn_lost = 0;
		return (-1);
	}
	if (!s->in_txn) {		/* the hook hit an I/O error */
		s->txn_lost = 0;
		return (-1);
	}
	/* Invariant 7; not counted in txn_rows (it is not the owner's). */
	sqlite3_bind_int64(s->st_count, 1, (sqlite3_int64)s->ncommits + 1);
	rc = sqlite3_step(s->st_count);
	sqlite3_reset(s->st_count);
	if (rc != SQLITE_DONE) {
		store_fail_txn(s, "commit counter", rc);
		s->txn_lost = 0;
		return (-1);
	}
	rc = sqlite3_step(s->st_commit);
	sqlite3_reset(s->st_commit);
	if (rc != SQLITE_DONE) {
		store_fail_txn(s, "COMMIT", rc);
		s->state = STORE_DEGRADED;
		s->txn_lost = 0;
		return (-1);
	}
	s->in_txn = 0;
	s->commits++;
	s->ncommits++;
	store_cc_write(s);
	s->last_rows = s->txn_rows;
	s->state = STORE_OK;
	s->err[0] = '\0';
	return (0);
}

/*
 * Commit the pass's transaction (invariants 3-5).  Returns 0 if all that
 * was written since the last commit is durable, -1 if it was lost.
 */
int
store_commit(struct store *s)
{
	int	 r;

	assert(s != NULL);
	if (s->txn_lost) {
		s->txn_lost = 0;
		if (s->hooks.postcommit != NULL)
			s->hooks.postcommit(s->hooks.arg, 0);
		return (-1);
	}
	if (!s->in_txn) {
		if (s->state != STORE_OK || s->hooks.needtxn == NULL ||
		    !s->hooks.needtxn(s->hooks.arg))
			return (0);
		if (store_begin(s) != 0)
			return (0);	/* nothing of the caller's was lost */
	}
	r = store_do_commit(s);
	if (s->hooks.postcommit != NULL)
		s->hooks.postcommit(s->hooks.arg, r == 0);
	return (r);
}

/* Roll back the open transaction, if any. */
void
store_rollback(struct store *s)
{
	assert(s != NULL);
	if (s->in_txn && !sqlite3_get_autocommit(s->db)) {
		sqlite3_step(s->st_rollback);
		sqlite3_reset(s->st_rollback);
	}
	s->in_txn = 0;
	s->txn_lost = 0;
	if (s->hooks.postcommit != NULL)
		s->hooks.postcommit(s->hooks.arg, 0);
}

/*
 * Try to leave DEGRADED with a transaction that must allocate pages
 * (invariant 5).  Returns 0 if the store is OK afterwards.
 */
int
store_probe(struct store *s)
{
	int	 r, rc;

	assert(s != NULL);
	if (s->state == STORE_OK)
		return (0);
	if (s->in_txn)
		store_rollback(s);
	s->txn_lost = 0;
	rc = sqlite3_step(s->st_begin);
	sqlite3_reset(s->st_begin);
	if (rc != SQLITE_DONE) {
		store_seterr(s, "%s: probe BEGIN: %s; store still degraded",
		    s->path, sqlite3_errstr(rc));
		return (-1);
	}
	s->in_txn = 1;
	memset(&s->txn_rows, 0, sizeof s->txn_rows);
	sqlite3_bind_int(s->st_probe_ins, 1, STORE_PROBE_BYTES);
	if (store_exec(s, s->st_probe_ins) == -1 ||
	    store_exec(s, s->st_probe_del) == -1) {
		if (s->in_txn)
			store_rollback(s);
		s->txn_lost = 0;
		return (-1);
	}
	r = store_do_commit(s);
	if (s->hooks.postcommit != NULL)
		s->hooks.postcommit(s->hooks.arg, r == 0);
	return (r);
}

/* Install the owner's hooks (copied). */
void
store_set_hooks(struct store *s, const struct store_hooks *h)
{
	assert(s != NULL && h != NULL);
	s->hooks = *h;
}

/* Health of the store. */
enum store_state
store_state(const struct store *s)
{
	return (s->state);
}

/* The last failure's message, or "". */
const char *
store_error(const struct store *s)
{
	return (s->err);
}

/* Rows changed by the last write statement. */
int
store_changes(const struct store *s)
{
	return (sqlite3_changes(s->db));
}

/* Whether a write transaction is open. */
int
store_in_txn(const struct store *s)
{
	return (s->in_txn);
}

/* The schema's kind, e.g. "publish store". */
const char *
store_kind(const struct store *s)
{
	return (s->schema->kind);
}

/* Rows written by the last successful commit. */
void
store_last_rows(const struct store *s, struct store_rows *r)
{
	*r = s->last_rows;
}

/* Successful commits since open. */
uint64_t
store_commits(const struct store *s)
{
	return (s->commits);
}

/* A condition found at open that the owner should log, or "". */
const char *
store_notice(const struct store *s)
{
	return (s->notice);
}

/* The commit counter (invariant 7): commits in the file's life. */
uint64_t
store_commit_count(const struct store *s)
{
	return (s->ncommits);
}

/* The path given to store_open(). */
const char *
store_path(const struct store *s)
{
	return (s->path);
}

/*
 * Cap the file at bytes (rounded down to pages; never below the pages in
 * use, which SQLite enforces), 0 for no cap.  Returns 0 or -1.
 */
int
store_set_size_limit(struct store *s, uint64_t bytes)
{
	char	 sql[64], *cause = NULL;
	int64_t	 pagesize, got;
	uint64_t pages;

	if (store_pragma(s, "PRAGMA page_size", &pagesize, NULL, 0,
	    &cause) != 0 || pagesize <= 0) {
		store_seterr(s, "%s", cause != NULL ? cause : "page_size");
		free(cause);
		return (-1);
	}
	pages = bytes == 0 ? 0xfffffffeULL : bytes / (uint64_t)pagesize;
	if (pages == 0)
		pages = 1;
	snprintf(sql, sizeof sql, "PRAGMA max_page_count = %llu",
	    (unsigned long long)pages);
	if (store_pragma(s, sql, &got, NULL, 0, &cause) != 0) {
		store_seterr(s, "%s", cause != NULL ? cause : "max_page_count");
		free(cause);
		return (-1);
	}
	return (0);
}

/* A new, empty set of stores. */
struct store_set *
store_set_create(void)
{
	return (calloc(1, sizeof(struct store_set)));
}

/* Free the set (not its stores).  Accepts NULL. */
void
store_set_free(struct store_set *set)
{
	if (set == NULL)
		return;
	free(set->v);
	free(set);
}

/* Add a store to the set.  Returns 0 or -1 (out of memory). */
int
store_set_add(struct store_set *set, struct store *s)
{
	struct store	**nv;
	size_t		 ncap;

	if (set->n == set->cap) {
		ncap = set->cap == 0 ? 8 : set->cap * 2;
		if ((nv = reallocarray(set->v, ncap, sizeof *nv)) == NULL)
			return (-1);
		set->v = nv;
		set->cap = ncap;
	}
	set->v[set->n++] = s;
	return (0);
}

/* Remove a store from the set, if present. */
void
store_set_remove(struct store_set *set, struct store *s)
{
	size_t	 i;

	for (i = 0; i < set->n; i++) {
		if (set->v[i] == s) {
			memmove(&set->v[i], &set->v[i + 1],
			    (set->n - i - 1) * sizeof *set->v);
			set->n--;
			return;
		}
	}
}

/* Tell fn about every commit store_flush() makes (NULL: nobody). */
void
store_set_observe(struct store_set *set, store_observe_fn fn, void *arg)
{
	set->observe = fn;
	set->observe_arg = arg;
}

/*
 * The flush phase of a loop pass (DESIGN.md §5 rule 2): commit every store of
 * the set, timing each commit on the monotonic clock for the observer.  Returns
 * the number of stores whose commit failed (0: all durable).
 */
int
store_flush(struct store_set *set)
{
	struct timespec	 t0, t1;
	struct store	*s;
	uint64_t	 before;
	size_t		 i;
	int		 failed = 0, r;

	for (i = 0; i < set->n; i++) {
		s = set->v[i];
		before = s->commits;
		if (set->observe != NULL)
			clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((r = store_commit(s)) != 0)
			failed++;
		if (set->observe == NULL || (r == 0 && s->commits == before))
			continue;		/* nothing was committed */
		clock_gettime(CLOCK_MONOTONIC, &t1);
		set->observe(set->observe_arg, s,
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, r == 0);
	}
	return (failed);
}
