/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubstore.h: the publish store of one upstream connection (PROTOCOL.md
 * §7.2-§7.5, DESIGN.md §3 "Publish"): every message handed over and not
 * yet persisted by AMPS, with its sequence number.  Two backends behind
 * this one interface (pubstore.c dispatches):
 *
 *	pubstore_open()		durable: one SQLite file per configured
 *				connection, <statedir>/pub-<connection>.db
 *				(pubstore-sqlite.c)
 *	pubstore_open_memory()	`durability memory`: the rows live in the
 *				daemon's memory, up to a byte limit
 *				(pubstore-mem.c); they survive program
 *				restarts and upstream failover, not a daemon
 *				crash or restart, like an AMPS HA client's
 *				memory publish store.  A commit is immediate.
 *
 * Use from the event loop:
 *
 *	pass:   pubstore_append() for each publish read this pass
 *	        pubstore_discard_upto() for each persisted ack
 *	flush:  pubstore_commit() (or store_flush() on a set holding
 *	        pubstore_store()) -> 0: reply "stored", send upstream with s;
 *	                          -> -1: reply an error for every append since
 *	                             the last good commit (they are lost).
 *	logon:  pubstore_discard_upto(s); pubstore_seed(s);
 *	        pubstore_replay(after s) before any new publish is sent.
 *
 * Promises: committed sequence numbers are strictly increasing for the
 * life of the file, across close/reopen, crashes and the deletion of
 * every row.  A number handed out by pubstore_append() is never handed
 * out again by this process, even if its transaction was lost; after a
 * crash the numbers of a lost (never committed, so never sent)
 * transaction may be reused.  Nothing is durable before the commit, so
 * nothing may be sent upstream or acknowledged before it.
 */

#ifndef AMPSD_PUBSTORE_H
#define AMPSD_PUBSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct pubstore;
struct store_set;

/* Stored command kinds (stable on disk: never renumber). */
enum pubstore_kind {
	PUBSTORE_PUBLISH = 1,
	PUBSTORE_DELTA_PUBLISH = 2,
	PUBSTORE_SOW_DELETE = 3,
};

/*
 * One stored command.  hdr is opaque to the store: the caller's encoding
 * of every header field needed to rebuild the frame except c, s and cid
 * (e.g. the JSON fragment `"k":"...","x":"corr","e":30`).  Pointers are
 * borrowed: on append they are copied before the call returns; in a
 * replay callback they are valid until the callback returns.
 */
struct pubstore_rec {
	uint64_t		 seq;		/* set by the store */
	enum pubstore_kind	 kind;
	const char		*topic;
	size_t			 topic_len;
	const void		*hdr;
	size_t			 hdr_len;
	const void		*data;
	size_t			 data_len;
};

/* Limits checked by pubstore_append() (returns -1 beyond them). */
#define PUBSTORE_MAX_TOPIC	(64 * 1024)
#define PUBSTORE_MAX_HDR	(1024 * 1024)
#define PUBSTORE_MAX_DATA	(256u * 1024 * 1024)

/*
 * Open or create the publish store at path (see store_open() for the
 * checks and flags).  Returns NULL with *cause set (caller frees) when
 * the file is missing and may not be created, is not a SQLite database,
 * is corrupt, belongs to something else, or has a newer schema.  The
 * file is left untouched in all those cases.
 */
struct pubstore	*pubstore_open(const char *path, enum store_durability,
		    int flags, char **cause);

/*
 * Open a memory publish store holding at most limit bytes (rows and
 * their index; 0: no limit).  Its first sequence number is the wall
 * clock in microseconds, so a restarted daemon's numbers stay above
 * those AMPS keeps for the client name from an earlier run as long as
 * that run published fewer than one message per microsecond on average.
 * Returns NULL with *cause set (caller frees) when memory runs out.
 */
struct pubstore	*pubstore_open_memory(uint64_t limit, char **cause);

/* Roll back anything uncommitted and close.  Accepts NULL. */
void		 pubstore_close(struct pubstore *);

/*
 * Append one command; its sequence (the next one, strictly increasing)
 * is returned in *seq and in rec->seq is ignored.  The row joins the
 * transaction of this loop pass and is durable only when
 * pubstore_commit() returns 0: the caller must not acknowledge it or
 * send it upstream before that.  Returns 0, or -1 (store degraded, a
 * length above the limits, a memory store full, or SQLite failed;
 * pubstore_error() says why).
 */
int		 pubstore_append(struct pubstore *,
		    const struct pubstore_rec *, uint64_t *seq);

/*
 * The server has persisted everything up to seq (success persisted ack,
 * or logon ack s).  Rows <= seq are deleted inside the next write
 * transaction (the one of this pass, at commit), not in one of their
 * own.  Until then they are already hidden from pubstore_replay() and
 * pubstore_unpersisted().  Never fails; seq beyond pubstore_last_seq()
 * is clamped.
 */
void		 pubstore_discard_upto(struct pubstore *, uint64_t seq);

/*
 * Remove the single entry seq (failure persisted ack; it will not be
 * retried) in this pass's transaction.  Returns 1 if it was present, 0 if
 * not, -1 on error.
 */
int		 pubstore_fail(struct pubstore *, uint64_t seq);

/*
 * Seed the counter from the logon ack: next = max(next, s + 1).  The new
 * floor is persisted with the next commit (pubstore_commit() opens a
 * transaction for it if needed).
 */
void		 pubstore_seed(struct pubstore *, uint64_t s);

/*
 * Call cb for each stored row with seq > after_seq (and above the last
 * discard), in ascending order, at most limit rows (0: no limit).  The
 * callback returns 0 to continue or non-zero to stop; it must not call
 * other pubstore functions on this store.  Rows appended but not yet
 * committed are included (same connection).  Returns the number of rows
 * passed to cb, or -1 on error.  To replay in slices, call again with
 * after_seq = the last seq seen.
 */
typedef int	 (*pubstore_replay_cb)(const struct pubstore_rec *, void *);
int64_t		 pubstore_replay(struct pubstore *, uint64_t after_seq,
		    size_t limit, pubstore_replay_cb, void *arg);

/*
 * Commit the open transaction of this pass (applying deferred discards
 * and the sequence floor first).  Returns 0 when all appends since the
 * last good commit are durable, -1 when they are lost (store now
 * DEGRADED).  Same as store_commit(pubstore_store(ps)).
 */
int		 pubstore_commit(struct pubstore *);

/*
 * Count the rows of the publish store file at path without a pubstore:
 * for a file no connection opens.  Opened read-only and immutable (no
 * lock, no -wal/-shm created, nothing written); refuses (-1) when a
 * "<path>-wal" exists, whose rows an immutable open would not see, or
 * when the file is not a publish store.  Returns 0 with *n, or -1.
 */
int		 pubstore_peek_count(const char *path, uint64_t *n);

/* Rows not yet discarded (an SQL count: for status, not per message). */
uint64_t	 pubstore_unpersisted(struct pubstore *);
/* Rows removed because AMPS persisted them (committed), since open. */
uint64_t	 pubstore_acked(const struct pubstore *);
/* Last sequence handed out (0 if none ever). */
uint64_t	 pubstore_last_seq(const struct pubstore *);
/* Highest sequence known durable (committed). */
uint64_t	 pubstore_durable_seq(const struct pubstore *);
/* Highest seq passed to pubstore_discard_upto() (persisted point). */
uint64_t	 pubstore_discarded_seq(const struct pubstore *);
/* Appends waiting in the open transaction. */
size_t		 pubstore_pending_commit(const struct pubstore *);
/* Health, error message, and the underlying store (NULL in memory). */
enum store_state pubstore_state(const struct pubstore *);
const char	*pubstore_error(const struct pubstore *);
struct store	*pubstore_store(struct pubstore *);
/* "sqlite" or "memory". */
const char	*pubstore_medium(const struct pubstore *);

/*
 * Join (leave) the caller's set of stores committed together after each
 * loop pass; a memory store has nothing to commit and joins no set.
 * Join returns 0 or -1 (out of memory).
 */
int		 pubstore_join(struct pubstore *, struct store_set *);
void		 pubstore_leave(struct pubstore *, struct store_set *);

/*
 * Try to leave STORE_DEGRADED (store_probe() on the SQLite store; a
 * memory store is never degraded).  Returns 0 when the store is OK.
 */
int		 pubstore_probe(struct pubstore *);

/* A memory store's bytes in use and its limit (both 0 for SQLite). */
struct pubstore_memory {
	uint64_t	 used;
	uint64_t	 limit;
};
void		 pubstore_memory(const struct pubstore *,
		    struct pubstore_memory *);

#endif /* AMPSD_PUBSTORE_H */
