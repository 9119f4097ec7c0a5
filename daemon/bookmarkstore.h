/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bookmarkstore.h: durable bookmark subscriptions (DESIGN.md §3
 * "Subscription", PROTOCOL.md §8.5-§8.6).  One SQLite file per upstream
 * connection, e.g. <statedir>/<connection>.bm.db; with `durability
 * memory` (STORE_MEMORY) the same schema in a private in-memory SQLite
 * database instead: everything survives program restarts and upstream
 * failover, not a daemon crash or restart, like an AMPS HA client's
 * memory bookmark store.  Every bookmark state the store tracks is in
 * memory (bmtrack) in both cases; SQLite only keeps what must outlive it.
 *
 * It keeps, per durable subscription (sub_id): its definition (topic,
 * filter, options, start bookmark) and what bmtrack needs to resume
 * after a kill -9: the resume point, the per-publisher maxima of the
 * discarded prefix, and the bookmarks discarded out of order.  Logged
 * but undiscarded bookmarks are not written: after a restart the
 * subscription resumes before them and they are delivered again
 * (at-least-once, promise 2).  Writes join the store's transaction of
 * the loop pass and are durable after bookmarkstore_commit() (or
 * store_flush()).
 */

#ifndef AMPSD_BOOKMARKSTORE_H
#define AMPSD_BOOKMARKSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "bmtrack.h"
#include "store.h"

struct bookmarkstore;

/* A durable subscription's definition.  Strings NUL-terminated; NULL = "". */
struct bookmarkstore_sub {
	const char	*sub_id;
	const char	*topic;
	const char	*filter;
	const char	*options;
	const char	*start;		/* start bookmark as given (may be "recent") */
	int64_t		 owner;		/* uid of the defining program, -1 = ? */
};

#define BOOKMARKSTORE_MAX_FIELD	(64 * 1024)	/* per definition string */

/*
 * Open or create the bookmark store at path (checks and flags as for
 * store_open()) and load every subscription into memory.  NULL with
 * *cause set (caller frees) on any failure; the file is left untouched.
 */
struct bookmarkstore *bookmarkstore_open(const char *path,
		    enum store_durability, int flags, char **cause);
/* Roll back anything uncommitted and close.  Accepts NULL. */
void		 bookmarkstore_close(struct bookmarkstore *);

/*
 * Define (or redefine) a durable subscription.  A new sub_id starts with
 * no progress; an existing one keeps its progress and gets the new
 * topic/filter/options (its start bookmark is kept).  Returns 0 or -1.
 */
int		 bookmarkstore_define(struct bookmarkstore *,
		    const struct bookmarkstore_sub *);

/* Delete sub_id and its progress (next MOST_RECENT is EPOCH). 0 / -1. */
int		 bookmarkstore_purge(struct bookmarkstore *, const char *sub_id);

/*
 * Call cb for every stored subscription (for resubscription at startup);
 * strings valid during the call.  cb returns non-zero to stop.  Returns
 * the number visited.
 */
typedef int	 (*bookmarkstore_cb)(const struct bookmarkstore_sub *, void *);
int		 bookmarkstore_foreach(struct bookmarkstore *, bookmarkstore_cb,
		    void *arg);

/*
 * Log a bookmark arriving for sub_id (see bmtrack_log()).  Memory only.
 * Returns BMTRACK_NEW / BMTRACK_DUPLICATE / BMTRACK_REDELIVERY, or -1 if
 * sub_id is not defined or tracking failed (deliver anyway).
 */
int		 bookmarkstore_log(struct bookmarkstore *, const char *sub_id,
		    const char *bm, size_t len);

/*
 * The application discarded bm on sub_id; the progress is written in this
 * pass's transaction.  Returns 1 (resume point advanced), 0 (recorded),
 * -1 (unknown sub_id or bookmark, or store error: bookmarkstore_error()).
 */
int		 bookmarkstore_discard(struct bookmarkstore *,
		    const char *sub_id, const char *bm, size_t len);

/* A persisted ack with bm for sub_id (see bmtrack_persisted()). */
int		 bookmarkstore_persisted(struct bookmarkstore *,
		    const char *sub_id, const char *bm, size_t len);

/*
 * The replay of sub_id is over (on = 1, `completed` ack) or starting
 * (on = 0, just (re)subscribed with a bookmark); see bmtrack_live().
 * Returns 0, or -1 if sub_id is not defined.
 */
int		 bookmarkstore_live(struct bookmarkstore *, const char *sub_id,
		    int on);

/* MOST_RECENT for sub_id, like bmtrack_most_recent(). */
int		 bookmarkstore_most_recent(struct bookmarkstore *,
		    const char *sub_id, int flags, char *out, size_t cap);

/* Commit this pass's writes: 0 durable, -1 lost (store DEGRADED). */
int		 bookmarkstore_commit(struct bookmarkstore *);

/* The in-memory tracker (read-only use), health, error, store. */
struct bmtrack	*bookmarkstore_tracker(struct bookmarkstore *);
enum store_state bookmarkstore_state(const struct bookmarkstore *);
const char	*bookmarkstore_error(const struct bookmarkstore *);
struct store	*bookmarkstore_store(struct bookmarkstore *);

#endif /* AMPSD_BOOKMARKSTORE_H */
