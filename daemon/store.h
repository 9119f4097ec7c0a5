/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * store.h: SQLite plumbing shared by the publish store (pubstore.c) and
 * the bookmark store (bookmarkstore.c).  Nothing outside store.c,
 * pubstore.c and bookmarkstore.c includes <sqlite3.h>; other modules see
 * only the opaque struct store and the flush/health calls below.
 *
 * Life of a store, seen from the event loop (DESIGN.md §5 rule 2):
 *
 *	open ──> OK ──(first write of a pass: store_begin)──> OK, txn open
 *	          ^                                               │
 *	          │ store_commit()/store_flush() succeeded         │
 *	          └───────────────────────────────────────────────┘
 *	OK ──(SQLITE_FULL / SQLITE_IOERR / commit failed)──> DEGRADED
 *	DEGRADED ──(store_probe() or a later commit succeeds)──> OK
 *
 * While DEGRADED, store_begin() refuses (so appends fail with a clear
 * error) until store_probe() has managed a durable commit again.
 *
 * Error reporting: setup calls return -1/NULL and an allocated message in
 * *cause (the caller frees it).  Runtime calls return -1 and keep the
 * message in the store, readable with store_error() until the next call
 * that fails.  Library code never prints.
 */

#ifndef AMPSD_STORE_H
#define AMPSD_STORE_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3_stmt;
struct store;
struct store_set;

/*
 * synchronous=FULL (default: every commit is an fdatasync) or NORMAL; or
 * MEMORY: a private in-memory database (nothing on disk, lost when the
 * store is closed), path being only its name in messages.
 */
enum store_durability {
	STORE_SYNC_FULL = 0,
	STORE_SYNC_NORMAL = 1,
	STORE_MEMORY = 2,
};

enum store_state {
	STORE_OK = 0,
	STORE_DEGRADED = 1,	/* last write or commit failed (disk full, I/O) */
};

/* Flags for store_open(), pubstore_open(), bookmarkstore_open(). */
#define STORE_CREATE		0x01	/* create the file if it is missing */
#define STORE_CREATE_FRESH_DIR	0x02	/* ... only if its directory has no *.db */
#define STORE_CKPT_THREAD	0x04	/* WAL checkpoints on a thread of the
					   store's own (store.c invariant 10) */

/*
 * One schema: the application_id that marks a file as ours, and the
 * migration steps.  migrations[i] upgrades user_version i to i+1 (SQL run
 * in one transaction); the current version is nmigrations.  A file with a
 * different application_id, or a newer user_version, is refused.
 */
struct store_schema {
	const char		*kind;		/* "publish store", for messages */
	int32_t			 application_id;
	const char *const	*migrations;
	int			 nmigrations;
};

/*
 * Open (or, with STORE_CREATE, create) the store at path.
 *
 * Checks, in order: the file exists (else created only if flags allow it
 * and no leftover "-wal"/"-journal"/"-commits" file shows a lost store);
 * it is a SQLite database (header); PRAGMA quick_check passes;
 * application_id matches (or the file is brand new and empty);
 * user_version is not newer than the schema; no committed transaction
 * was lost (the commit counter file "<path>-commits" does not count more
 * commits than the database: store.c invariant 7).  Then sets WAL,
 * synchronous, foreign_keys=OFF, secure_delete=OFF, and runs pending
 * migrations.  No file is modified when a check fails.
 *
 * Returns the store, or NULL with *cause set (caller frees).
 */
struct store	*store_open(const char *path, const struct store_schema *,
		    enum store_durability, int flags, char **cause);

/*
 * Roll back any open transaction (nothing uncommitted is kept, by
 * design), finalize statements and close.  Accepts NULL.
 */
void		 store_close(struct store *);

/*
 * Prepare a statement that lives as long as the store
 * (SQLITE_PREPARE_PERSISTENT); store_close() finalizes it.  Returns 0, or
 * -1 with *cause set.  Only called by pubstore.c / bookmarkstore.c at open.
 */
int		 store_prepare(struct store *, const char *sql,
		    struct sqlite3_stmt **, char **cause);

/*
 * Open the batched write transaction of this loop pass if none is open
 * (BEGIN IMMEDIATE).  Returns 0, or -1 if the store is degraded or BEGIN
 * failed (store_error() says why).
 */
int		 store_begin(struct store *);

/*
 * Step a prepared write or single-row statement and reset it.  Returns
 * the SQLite result (SQLITE_DONE or SQLITE_ROW) or -1 on error: on
 * SQLITE_FULL, SQLITE_IOERR*, SQLITE_CORRUPT or SQLITE_NOTADB the open
 * transaction is rolled back, the store becomes DEGRADED and the
 * transaction is marked lost, so the next store_commit() returns -1.
 * Bindings are cleared after the reset.
 */
int		 store_exec(struct store *, struct sqlite3_stmt *);

/*
 * Same as store_exec() for a read cursor: step once.  Returns SQLITE_ROW,
 * SQLITE_DONE (statement reset), or -1 (statement reset, error kept).
 */
int		 store_step(struct store *, struct sqlite3_stmt *);

/*
 * Commit the open transaction, if any.  Returns 0 when everything written
 * since the last commit is durable (or nothing was written), -1 when it
 * is not: the commit failed, or an earlier write in the transaction
 * failed and it was rolled back.  Callers must treat every row written
 * since the last successful commit as lost.  Success leaves DEGRADED.
 */
int		 store_commit(struct store *);

/* Roll back the open transaction (if any); the rows are gone. */
void		 store_rollback(struct store *);

/*
 * Try to leave DEGRADED: in one transaction, write and delete a probe
 * row that needs fresh pages (so a full disk or quota still fails), run
 * the precommit hook, and commit.  The daemon calls it from a timer
 * (e.g. every second) while store_state() is STORE_DEGRADED.  Returns 0
 * if the store is OK afterwards, -1 if still degraded.
 */
int		 store_probe(struct store *);

/*
 * Hooks of the store's owner (pubstore, bookmarkstore), all optional:
 *   precommit(arg)   runs inside the open transaction just before COMMIT
 *                    (pubstore applies its deferred deletes and persists
 *                    its sequence floor); returns 0 or -1 (abort: the
 *                    transaction is rolled back and reported lost);
 *   postcommit(arg, ok) after COMMIT (ok=1) or after the transaction was
 *                    lost (ok=0), so the owner can clear or keep its
 *                    deferred work;
 *   needtxn(arg)     whether the owner has deferred work that deserves a
 *                    transaction of its own at flush time when nothing
 *                    else was written in the pass.
 */
struct store_hooks {
	int	(*precommit)(void *);
	void	(*postcommit)(void *, int);
	int	(*needtxn)(void *);
	void	*arg;
};
void		 store_set_hooks(struct store *, const struct store_hooks *);

/* Current health; the message of the last failure (or ""). */
enum store_state store_state(const struct store *);
const char	*store_error(const struct store *);
/* Rows changed by the last write statement (sqlite3_changes()). */
int		 store_changes(const struct store *);
/* Whether a write transaction is open. */
int		 store_in_txn(const struct store *);
/*
 * Rows the last successful commit wrote, by statement kind (counted by
 * store_exec() from sqlite3_changes(); the probe's rows count too).
 */
struct store_rows {
	uint64_t	inserted;
	uint64_t	deleted;
	uint64_t	updated;
};
void		 store_last_rows(const struct store *, struct store_rows *);
/* Successful commits since open (a generation counter). */
uint64_t	 store_commits(const struct store *);
/* The schema's kind ("publish store", "bookmark store"). */
const char	*store_kind(const struct store *);
/* The file name given to store_open(). */
const char	*store_path(const struct store *);
/*
 * Something found at open that the owner should log as a warning (lost
 * commits under synchronous=NORMAL, a missing commit counter file), or
 * "".  Set by store_open() only.
 */
const char	*store_notice(const struct store *);
/* Commits in the file's life (the commit counter, store.c inv. 7). */
uint64_t	 store_commit_count(const struct store *);
/* Checkpoints run by the store's checkpoint thread since it was opened
 * (0 without STORE_CKPT_THREAD).  Any thread. */
uint64_t	 store_checkpoints(struct store *);

/*
 * Record checksums (CRC-32C) as the owners compute them: extend crc with
 * an integer (8 bytes, big-endian) or a blob (its length as 4 bytes
 * big-endian, then its bytes).  The SQL function ampsd_crc32c(a, b, ...)
 * available on every store computes the same over its arguments
 * (integers as integers, anything else as a blob), starting from 0.
 */
uint32_t	 store_crc_int(uint32_t crc, int64_t);
uint32_t	 store_crc_blob(uint32_t crc, const void *, size_t);

/*
 * Cap the database size (PRAGMA max_page_count); 0 removes the cap.
 * Writes beyond it fail like a full disk (used by tests to simulate one,
 * and available as a configurable quota).  Returns 0 or -1.
 */
int		 store_set_size_limit(struct store *, uint64_t bytes);

/*
 * A caller-owned set of stores committed together after each loop pass:
 * the loop calls store_flush(set) once per pass, then releases the
 * "stored" replies of stores whose commit succeeded (compare
 * store_commits() or use pubstore_durable_seq()).  No global state.
 */
struct store_set *store_set_create(void);
void		 store_set_free(struct store_set *);	/* not the stores */
int		 store_set_add(struct store_set *, struct store *);
void		 store_set_remove(struct store_set *, struct store *);

/*
 * Observer of the set's commits (metrics): after every commit that
 * store_flush() attempted, fn(arg, store, seconds, ok) with the time the
 * commit took on the monotonic clock.  Stores with nothing to commit are
 * not reported.
 */
typedef void	(*store_observe_fn)(void *, struct store *, double, int);
void		 store_set_observe(struct store_set *, store_observe_fn,
		    void *);

/*
 * Commit every store of the set that has an open transaction or deferred
 * work.  Returns 0 if all succeeded, else the number of stores whose
 * commit failed (those are DEGRADED; their uncommitted rows are lost).
 */
int		 store_flush(struct store_set *);

#endif /* AMPSD_STORE_H */
