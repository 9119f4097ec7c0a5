/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubstore-int.h: the publish store's backends, private to pubstore.c
 * (the interface of pubstore.h, argument checks, dispatch),
 * pubstore-sqlite.c (the durable SQLite store) and pubstore-mem.c (the
 * memory store).  Nothing else includes it.
 *
 * A backend's handle starts with a struct pubstore (its first member), so
 * pubstore.c can hand the same pointer back to the backend's operations.
 * pubstore.c has checked the record (lengths, kind) before append().
 */

#ifndef AMPSD_PUBSTORE_INT_H
#define AMPSD_PUBSTORE_INT_H

#include "pubstore.h"

struct pubqueue;

/* Highest sequence a store hands out (SQLite integers are signed). */
#define PUBSTORE_SEQ_MAX	((uint64_t)INT64_MAX - 1)

struct pubstore_ops {
	const char	*medium;	/* "sqlite", "memory" */
	void		 (*close)(struct pubstore *);
	int		 (*append)(struct pubstore *,
			    const struct pubstore_rec *, uint64_t *);
	void		 (*discard_upto)(struct pubstore *, uint64_t);
	int		 (*fail)(struct pubstore *, uint64_t);
	void		 (*seed)(struct pubstore *, uint64_t);
	int64_t		 (*replay)(struct pubstore *, uint64_t, size_t,
			    pubstore_replay_cb, void *);
	int		 (*commit)(struct pubstore *);
	int		 (*flush)(struct pubstore *);
	int		 (*seq_state)(const struct pubstore *, uint64_t);
	void		 (*set_committer)(struct pubstore *,
			    struct committer *, pubstore_commit_fn, void *);
	int		 (*logon)(struct pubstore *, uint64_t,
			    struct pubstore_logon *);
	uint64_t	 (*acked_seq)(const struct pubstore *);
	const char	*(*notice)(const struct pubstore *);
	int		 (*probe)(struct pubstore *);
	uint64_t	 (*unpersisted)(struct pubstore *);
	size_t		 (*pending_commit)(const struct pubstore *);
	enum store_state (*state)(const struct pubstore *);
	const char	*(*error)(const struct pubstore *);
	struct store	*(*store)(struct pubstore *);
	void		 (*memory)(const struct pubstore *,
			    struct pubstore_memory *);
};

/*
 * The head of every backend's handle: the marks both backends keep,
 * read by pubstore.c's getters, written by the backend.
 */
struct pubstore {
	const struct pubstore_ops	*ops;
	char				 err[512];	/* pubstore.c's checks */
	uint64_t			 next;		/* next seq to hand out */
	uint64_t			 durable;	/* highest committed */
	uint64_t			 discarded;	/* persisted point asked */
	uint64_t			 acked;		/* rows discards removed */
	uint64_t			 horizon;	/* transmit horizon */
	int				 online;	/* appends/commits raise it */
	uint64_t			 renumbered;	/* rows moved by logons */
	uint64_t			 quarantined;	/* damaged rows found */
};

/*
 * pubstore.c: pass the live rows of q above after to cb, in order, until
 * cb stops or n (counting the n already passed) reaches limit (0: no
 * limit).  Returns n.
 */
int64_t		 pubstore_replay_queue(const struct pubqueue *, uint64_t,
		    size_t, int64_t, pubstore_replay_cb, void *);

/*
 * pubstore.c: move the persisted point ps->discarded up to seq, clamped
 * to the last seq handed out.  0 when it does not move (nothing to do),
 * else 1 with *seq the new point.
 */
int		 pubstore_discard_mark(struct pubstore *, uint64_t *);

#endif /* AMPSD_PUBSTORE_INT_H */
