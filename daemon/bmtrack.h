/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bmtrack.h: bookmark bookkeeping per subscription (PROTOCOL.md §8.6), pure
 * logic: no I/O, no SQLite, no global state.  bookmarkstore.c makes it
 * durable; tests drive it directly.
 *
 * Per sub_id: a queue of logged bookmarks in arrival order, each either
 * discarded or not; the fully discarded prefix is popped, its last
 * bookmark becoming the resume point and its per-publisher maxima the
 * duplicate filter (and the option-B list).
 */

#ifndef AMPSD_BMTRACK_H
#define AMPSD_BMTRACK_H

#include <stddef.h>
#include <stdint.h>

struct bmtrack;		/* every tracked subscription */
struct bmsub;		/* one subscription (sub_id) */

/* Results of bmtrack_log(). */
#define BMTRACK_NEW		0	/* deliver; queued */
#define BMTRACK_DUPLICATE	1	/* already discarded: drop it */
#define BMTRACK_REDELIVERY	2	/* logged, not discarded: deliver again */

/* Flags for bmtrack_most_recent(). */
#define BMTRACK_SINGLE		0x00	/* option A: one bookmark */
#define BMTRACK_LIST		0x01	/* option B: "P|max|" per publisher */

/* Longest bookmark accepted (longer ones make bmtrack_log() fail). */
#define BMTRACK_MAX_BM		1024

struct bmtrack	*bmtrack_create(void);
/* Free everything.  Accepts NULL. */
void		 bmtrack_free(struct bmtrack *);

/*
 * Find the subscription sub_id (NUL-terminated), or NULL.  The pointer is
 * valid until bmtrack_purge() of that sub_id or bmtrack_free().
 */
struct bmsub	*bmtrack_get(struct bmtrack *, const char *sub_id);

/*
 * Find or create sub_id.  start is the literal start bookmark of the
 * subscription (used by most_recent while nothing is popped); NULL,
 * "recent" or "" mean EPOCH.  An existing subscription keeps its state
 * and start.  Returns NULL on allocation failure or a bad length.
 */
struct bmsub	*bmtrack_add(struct bmtrack *, const char *sub_id,
		    const char *start);

/* Forget sub_id: its next most_recent is EPOCH.  Unknown: no-op. */
void		 bmtrack_purge(struct bmtrack *, const char *sub_id);

/*
 * Log a bookmark arriving on the subscription before delivery.  Returns
 * BMTRACK_NEW, BMTRACK_DUPLICATE, BMTRACK_REDELIVERY, or -1 (allocation
 * failure or len 0 / above BMTRACK_MAX_BM: deliver, nothing tracked).
 * Bookmarks that are not "<pub>|<seq>|" are never duplicates but queue.
 */
int		 bmtrack_log(struct bmsub *, const char *bm, size_t len);

/*
 * Called for every entry popped off the head of the queue, in order
 * (bm is borrowed for the call); deferred is 1 when the entry had been
 * discarded while not at the head (it was kept as an out-of-order
 * discard).  bookmarkstore uses it to delete persisted discards.
 */
typedef void	 (*bmtrack_pop_cb)(const char *bm, size_t len, int deferred,
		    void *arg);

/*
 * The application has processed bm.  Returns 1 if the resume point
 * advanced (entries popped, cb called for each), 0 if the entry was
 * marked discarded but is behind an undiscarded one (out of order), 2 if
 * it had already been discarded (or popped, or restored as discarded),
 * -1 if bm was never logged.  cb may be NULL.
 */
int		 bmtrack_discard(struct bmsub *, const char *bm, size_t len,
		    bmtrack_pop_cb cb, void *arg);

/*
 * Pop whatever discarded entries sit at the head of the queue (cb as for
 * bmtrack_discard()).  Needed after bmtrack_log() returned
 * BMTRACK_DUPLICATE for a bookmark restored with
 * bmsub_restore_discarded(): it is queued as discarded and, if nothing
 * undiscarded precedes it, can be popped at once.  Returns 1 if the
 * resume point advanced, 0 if not, -1 if memory ran out.
 */
int		 bmtrack_settle(struct bmsub *, bmtrack_pop_cb cb, void *arg);

/*
 * A persisted ack carried bm.  If the subscription is live (see
 * bmtrack_live()) and nothing is outstanding in the queue, the resume
 * point moves to bm (and its publisher maximum rises).  Otherwise bm is
 * only remembered (for a NOW start).  Returns 1 if it moved, 0 if not,
 * -1 on a bad length.
 */
int		 bmtrack_persisted(struct bmsub *, const char *bm, size_t len);

/*
 * Whether the subscription's replay is over (on = 1: the `completed` ack
 * arrived) or running (on = 0: a subscribe with a bookmark was just
 * sent).  While replaying, the queue can be momentarily empty with
 * undelivered messages still ahead in the log, so persisted acks must
 * not move the resume point (PROTOCOL.md §8.6 rule 4 would open a gap there).
 * New and restored subscriptions start not live.
 */
void		 bmtrack_live(struct bmsub *, int on);

/*
 * The bookmark to resubscribe with for MOST_RECENT, written to out
 * (NUL-terminated) like snprintf: returns the length it needs.  Unknown
 * sub_id: "0" (EPOCH).  Nothing popped yet: the start bookmark ("0" if
 * that was MOST_RECENT), or, for a NOW start, the last persisted ack
 * bookmark if any.  BMTRACK_LIST: the comma list of "P|max|" over the
 * popped publishers (single bookmark if the resume point is not a
 * <pub>|<seq>| one).
 */
int		 bmtrack_most_recent(struct bmtrack *, const char *sub_id,
		    int flags, char *out, size_t cap);
int		 bmsub_most_recent(const struct bmsub *, int flags, char *out,
		    size_t cap);

/* ---- state exported and restored by bookmarkstore.c ---- */

/* The resume point ("" if none), the start bookmark, the sub_id. */
const char	*bmsub_resume(const struct bmsub *);
const char	*bmsub_start(const struct bmsub *);
const char	*bmsub_id(const struct bmsub *);
/* Entries in the queue (logged, not yet popped). */
size_t		 bmsub_queued(const struct bmsub *);
/*
 * The popped per-publisher maxima as "P|max|,P|max|" (same as the
 * BMTRACK_LIST form); snprintf-like.
 */
int		 bmsub_popped_list(const struct bmsub *, char *out,
		    size_t cap);

/*
 * Restore after a restart: the resume point and the popped list (the
 * bmsub_popped_list() form; unparsable items are ignored), and each
 * bookmark that had been discarded out of order.  Such a bookmark, when
 * it is logged again, is queued as already discarded and reported
 * BMTRACK_DUPLICATE.  bmsub_restore() returns 0 or -1 (allocation,
 * length); bmsub_restore_discarded() returns 0 (kept), 1 (already covered
 * by the popped prefix: the caller may delete its copy) or -1.
 */
int		 bmsub_restore(struct bmsub *, const char *resume,
		    const char *popped_list);
int		 bmsub_restore_discarded(struct bmsub *, const char *bm,
		    size_t len);

/* Iterate the subscriptions (order unspecified); NULL at the end. */
struct bmsub	*bmtrack_first(struct bmtrack *);
struct bmsub	*bmtrack_next(struct bmtrack *, struct bmsub *);

#endif /* AMPSD_BMTRACK_H */
