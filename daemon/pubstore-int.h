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
	void		 (*set_online)(struct pubstore *, int);
	int		 (*online)(const struct pubstore *);
	uint64_t	 (*sendable_seq)(const struct pubstore *);
	uint64_t	 (*sent_horizon)(const struct pubstore *);
	uint64_t	 (*quarantined)(const struct pubstore *);
	uint64_t	 (*renumbered)(const struct pubstore *);
	uint64_t	 (*acked_seq)(const struct pubstore *);
	const char	*(*notice)(const struct pubstore *);
	int		 (*probe)(struct pubstore *);
	uint64_t	 (*unpersisted)(struct pubstore *);
	uint64_t	 (*acked)(const struct pubstore *);
	uint64_t	 (*last_seq)(const struct pubstore *);
	uint64_t	 (*durable_seq)(const struct pubstore *);
	uint64_t	 (*discarded_seq)(const struct pubstore *);
	size_t		 (*pending_commit)(const struct pubstore *);
	enum store_state (*state)(const struct pubstore *);
	const char	*(*error)(const struct pubstore *);
	struct store	*(*store)(struct pubstore *);
	void		 (*memory)(const struct pubstore *,
			    struct pubstore_memory *);
};

/* The head of every backend's handle. */
struct pubstore {
	const struct pubstore_ops	*ops;
	char				 err[512];	/* pubstore.c's checks */
};

#endif /* AMPSD_PUBSTORE_INT_H */
