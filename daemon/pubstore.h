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
 *				(pubstore-sqlite.c over pubstore-db.c); the
 *				rows wait in memory until a group commit,
 *				on the commit thread (committer.c) or inline
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
 *	flush:  for each append, pubstore_seq_state(): 1 reply "stored"
 *	        (send upstream with s, up to pubstore_sendable_seq()), -1
 *	        reply an error (lost), 0 wait for a later flush; then
 *	        pubstore_flush() starts the next group commit.
 *	        (Inline, pubstore_commit() -> 0: everything is durable;
 *	        -> -1: every append since the last good commit is lost.)
 *	logon:  pubstore_logon(s) (renumbers what was never sent, takes
 *	        rows <= s as persisted, seeds, goes online, commits), then
 *	        pubstore_replay(after s) up to pubstore_sendable_seq()
 *	        before any new publish is sent.
 *	down:   pubstore_set_online(0): rows appended from now on count as
 *	        never sent until the next pubstore_logon().
 *
 * Promises: committed sequence numbers are strictly increasing for the
 * life of the file, across close/reopen, crashes and the deletion of
 * every row.  A number handed out by pubstore_append() is never handed
 * out again by this process, even if its transaction was lost; after a
 * crash the numbers of a lost (never committed, so never sent)
 * transaction may be reused.  Nothing is durable before the commit, so
 * nothing may be sent upstream or acknowledged before it.
 *
 * The store knows which rows were never handed to a socket: those above
 * its transmit horizon (pubstore_sent_horizon(), raised by the commits
 * made while online).  Only those may be renumbered, and only by
 * pubstore_logon(), which moves all of them by one delta so their order
 * is kept.  Every row carries a CRC-32C checked when it is read back
 * from the file; a damaged row is reported (damaged = 1), quarantined
 * and never sent.  A memory store keeps the same horizon in memory.
 */

#ifndef AMPSD_PUBSTORE_H
#define AMPSD_PUBSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

struct committer;
struct pubstore;

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
	int			 damaged;	/* replay only: checksum
						   mismatch; do not send */
};

/* "AMPB": the application_id of publish store files. */
#define PUBSTORE_APPID		0x414d5042

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
 *
 * A row read back from the SQLite file that fails its checksum is
 * passed with damaged = 1 (its fields are not to be trusted: log its
 * seq, never send it), then the replay stops and the row is moved to the
 * store's quarantine table in a transaction of its own; pubstore_error()
 * describes it and pubstore_quarantined() counts it.  (Rows still held
 * in memory since their append were never written and read back.)
 */
typedef int	 (*pubstore_replay_cb)(const struct pubstore_rec *, void *);
int64_t		 pubstore_replay(struct pubstore *, uint64_t after_seq,
		    size_t limit, pubstore_replay_cb, void *arg);

/*
 * Logon with the server's sequence s for our client name (logon ack).
 * In one transaction committed before it returns: rows above the
 * transmit horizon that would fall at or below s (never sent, so the
 * server cannot have them) are renumbered from s + 1 by one delta,
 * keeping their order; rows <= s are taken as persisted
 * (pubstore_discard_upto(s)); the counter is seeded (pubstore_seed(s));
 * and the store goes online, so this and later commits raise the
 * horizon.  Returns 0 with *lo filled, or -1 (store degraded, commit
 * failed: nothing was renumbered, the store stays offline; retry at the
 * next logon).
 */
struct pubstore_logon {
	uint64_t	 horizon;	/* transmit horizon before the logon */
	uint64_t	 renumbered;	/* rows moved (0: none) */
	uint64_t	 after;		/* rows with seq > after moved ... */
	uint64_t	 delta;		/* ... by + delta */
	uint64_t	 first, last;	/* old numbers of the first and last */
	uint64_t	 assumed;	/* unpersisted rows <= horizon taken as
					   persisted although s > horizon:
					   the server's number is not ours */
};
int		 pubstore_logon(struct pubstore *, uint64_t s,
		    struct pubstore_logon *);
/* The link went down (0) or, from tests, up (1) without a logon. */
void		 pubstore_set_online(struct pubstore *, int);
int		 pubstore_online(const struct pubstore *);
/* The highest seq that may be sent: min(durable, committed horizon). */
uint64_t	 pubstore_sendable_seq(const struct pubstore *);
/* The committed transmit horizon: no row above it was ever sent. */
uint64_t	 pubstore_sent_horizon(const struct pubstore *);
/* Damaged rows found on replay and quarantined, since open. */
uint64_t	 pubstore_quarantined(const struct pubstore *);
/* Rows renumbered by pubstore_logon(), since open. */
uint64_t	 pubstore_renumbered(const struct pubstore *);
/* The persisted point: from the store at open, then from the acks. */
uint64_t	 pubstore_acked_seq(const struct pubstore *);

/*
 * Commit now, inline (waiting first for a batch in flight): the appends,
 * discards, failures and seed since the last commit, in one transaction.
 * Returns 0 when all appends since the last good commit are durable, -1
 * when they are lost (store now DEGRADED).  Tests, and shutdown.
 */
int		 pubstore_commit(struct pubstore *);

/*
 * The flush phase of a loop pass (DESIGN.md §5 rule 2).  Inline (no
 * committer): the same as pubstore_commit().  With a committer: hand
 * what the passes wrote since the last batch to the commit thread,
 * unless a batch is still in flight (then this waits for the next
 * flush), and return 0 at once; the batch's outcome shows in
 * pubstore_durable_seq() and pubstore_seq_state() once the committer
 * has reaped it.  A memory store has nothing to do.  Returns -1 only
 * when an inline commit failed.
 */
int		 pubstore_flush(struct pubstore *);

/*
 * What became of seq (handed out by pubstore_append()): 1 durable (its
 * commit succeeded: reply STORED, send it), -1 lost with a failed
 * commit (reply an error), 0 not decided yet (wait).
 */
int		 pubstore_seq_state(const struct pubstore *, uint64_t seq);

/*
 * Commit on committer cm's thread from now on (NULL: inline; ignored by
 * a memory store, and when SQLite is built without thread support), and
 * tell fn(arg, ps, seconds, ok) about every commit on the loop's thread
 * (fn may be NULL).
 */
typedef void	 (*pubstore_commit_fn)(void *, struct pubstore *, double,
		    int);
void		 pubstore_set_committer(struct pubstore *, struct committer *,
		    pubstore_commit_fn, void *);

/*
 * SQLite store: keep at most bytes of committed rows in memory for
 * sending (default 32 MiB; rows beyond are read back from the file when
 * needed).  Tests.
 */
void		 pubstore_set_cache(struct pubstore *, uint64_t bytes);

/*
 * Read-only looks at store files no daemon has open (pubstore-peek.c).
 * pubstore_peek(): 0 when path is a publish store, with its counts; 1
 * when it is a readable SQLite file that is not one (a bookmark store,
 * an empty file); -1 when it cannot tell, with the reason in why: a
 * "-wal" or "-journal" file next to it (an ampsd has it open, or did
 * not close it: an immutable open would not see those rows), a damaged
 * file (store_file_check(), or a failing query), a missing file.
 * Opened read-only and immutable: no lock, no -wal/-shm created,
 * nothing written.
 */
struct pubstore_peek {
	uint64_t	 rows;		/* messages AMPS has not persisted */
	uint64_t	 quarantined;	/* damaged rows kept, never sent */
	char		 why[160];	/* -1: why the file was not counted */
};
int		 pubstore_peek(const char *path, struct pubstore_peek *);
/* The rows of pubstore_peek(): 0 with *n, or -1 for 1 and -1 above. */
int		 pubstore_peek_count(const char *path, uint64_t *n);
/*
 * ampsd --count-unpersisted DIR: one line on out per publish store of
 * the state directory dir ("pub-*.db" files that are publish stores):
 * "PATH: N unpersisted message(s)" (", Q quarantined" when damaged rows
 * are kept), or "PATH: cannot tell (WHY)".  A directory that cannot be
 * read is reported on err.  Returns 0 only when every such store was
 * read and holds no message, else 1.
 */
int		 pubstore_census(const char *dir, FILE *out, FILE *err);

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
/* Appends not committed yet (a batch in flight included). */
size_t		 pubstore_pending_commit(const struct pubstore *);
/* Health, error message, and the underlying store (NULL in memory). */
enum store_state pubstore_state(const struct pubstore *);
const char	*pubstore_error(const struct pubstore *);
struct store	*pubstore_store(struct pubstore *);
/* "sqlite" or "memory". */
const char	*pubstore_medium(const struct pubstore *);
/* What the open found that should be logged as a warning, or "". */
const char	*pubstore_notice(const struct pubstore *);

/*
 * Try to leave STORE_DEGRADED (store_probe() on the SQLite store; a
 * memory store is never degraded).  Returns 0 when the store is OK.
 */
int		 pubstore_probe(struct pubstore *);

/*
 * Bytes of messages held in memory: a memory store's and its limit, or
 * an SQLite store's rows not yet sent or persisted (limit 0).
 */
struct pubstore_memory {
	uint64_t	 used;
	uint64_t	 limit;
};
void		 pubstore_memory(const struct pubstore *,
		    struct pubstore_memory *);

#endif /* AMPSD_PUBSTORE_H */
