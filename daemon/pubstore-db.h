/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubstore-db.h: the SQLite file of a durable publish store
 * (pubstore-db.c), private to pubstore-sqlite.c, which keeps the rows in
 * memory until they are committed and sent, and commits them in
 * batches.  A batch is applied by pubdb_apply() in one transaction, on
 * the commit thread or inline; nothing else touches the file while a
 * batch is being applied (pubstore-sqlite.c's hand-off rule).
 */

#ifndef AMPSD_PUBSTORE_DB_H
#define AMPSD_PUBSTORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "pubstore.h"
#include "store.h"

struct pubdb;
struct pubqueue_rec;

/* What one group commit writes, and what came of it. */
struct pubdb_batch {
	/* Built on the loop's thread, read-only while applied. */
	struct pubqueue_rec	**recs;		/* INSERT each, seq order */
	size_t			 nrecs;
	uint64_t		 discard;	/* DELETE seq <= discard; 0 */
	uint64_t		*fails;		/* DELETE seq = each */
	size_t			 nfails;
	uint64_t		 floor;		/* meta.next_seq; 0: unchanged */
	uint64_t		 acked;		/* meta.acked; 0: unchanged */
	uint64_t		 sent;		/* meta.sent; 0: unchanged */
	uint64_t		 renum_after;	/* first: rows > renum_after */
	uint64_t		 renum_delta;	/* ... move by this; 0: none */
	/* Written by pubdb_apply(). */
	int			 ok;		/* committed */
	uint64_t		 deleted;	/* rows the discard removed */
	uint64_t		 renumbered;	/* rows the renumbering moved */
	double			 secs;		/* monotonic, begin to commit */
};

/* What the file holds at open. */
struct pubdb_info {
	uint64_t	 next;		/* max(meta.next_seq, max(seq) + 1) */
	uint64_t	 next_disk;	/* meta.next_seq */
	uint64_t	 max;		/* highest seq of a row, 0: none */
	uint64_t	 acked;		/* meta.acked (clamped below next) */
	uint64_t	 sent;		/* meta.sent: the transmit horizon */
};

struct pubdb	*pubdb_open(const char *path, enum store_durability, int flags,
		    struct pubdb_info *, char **cause);
void		 pubdb_close(struct pubdb *);
/*
 * One transaction: renumbering, inserts, discard, fails, meta rows,
 * commit.
 */
void		 pubdb_apply(struct pubdb *, struct pubdb_batch *);
/* Move row seq to quarantine and write the floor; commits.  0 or -1. */
int		 pubdb_quarantine(struct pubdb *, uint64_t seq, uint64_t floor,
		    const char *why);
/*
 * Call cb for the rows with after < seq <= upto, ascending, skipping the
 * seqs in skip[0..nskip) (sorted), at most limit (0: all); cb returns
 * non-zero to stop.  A row whose checksum fails is passed with damaged
 * set and ends the read, its seq in *bad (else 0).  Returns the rows
 * passed, or -1.
 */
int64_t		 pubdb_read(struct pubdb *, uint64_t after, uint64_t upto,
		    const uint64_t *skip, size_t nskip, size_t limit,
		    pubstore_replay_cb, void *, uint64_t *bad);
/* Rows with after < seq <= upto; -1 on error. */
int		 pubdb_count(struct pubdb *, uint64_t after, uint64_t upto,
		    uint64_t *);
/* The lowest seq of a row above after (0: none); -1 on error. */
int		 pubdb_min_above(struct pubdb *, uint64_t after, uint64_t *);
struct store	*pubdb_store(struct pubdb *);

#endif /* AMPSD_PUBSTORE_DB_H */
