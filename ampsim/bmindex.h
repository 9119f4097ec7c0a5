/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bmindex.h: ampsim's bookmark index, (publisher, sequence) -> record
 * index in sorted per-publisher blocks (bmindex.c).  Pure logic; a
 * zeroed struct is an empty index.
 */

#ifndef AMPSIM_BMINDEX_H
#define AMPSIM_BMINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "u64map.h"

/* One block of a publisher's sorted (seq, record index) entries. */
struct bment {
	uint64_t	 seq;
	uint64_t	 idx;
};
struct bmblk {
	size_t		 n;
	size_t		 cap;
	struct bment	 e[];
};

/* One publisher: blocks in seq order, plus the rare out-of-order ones. */
struct bmpub {
	struct bmblk	**blk;
	size_t		 nblk;
	size_t		 capblk;
	size_t		 n;		/* entries in blk */
	struct bment	*ooo;		/* sorted, seqs below the blocks' last */
	size_t		 nooo;
	size_t		 capooo;
	struct bmblk	*next;		/* made ahead by bmindex_prefault() */
	size_t		 next_touched;	/* bytes of next's entries touched */
};

/* The index: publisher id -> struct bmpub. */
struct bmindex {
	struct u64map	 map;		/* pub -> position in pubs */
	struct bmpub	**pubs;
	size_t		 npubs;
	size_t		 cappubs;
	size_t		 n;		/* distinct (pub, seq) entries */
	struct bmpub	*hot;		/* publisher of the last append */
};

/* Record that (pub, seq) is held by record idx (the latest one wins). */
void	 bmindex_put(struct bmindex *, uint64_t pub, uint64_t seq,
	    uint64_t idx);
/* The record of (pub, seq): 1 and *idx, or 0. */
int	 bmindex_get(const struct bmindex *, uint64_t pub, uint64_t seq,
	    uint64_t *idx);
/* Highest seq of pub, 0 when none. */
uint64_t bmindex_max(const struct bmindex *, uint64_t pub);
/*
 * Make the block that the last appending publisher will need next and
 * touch its pages, at most *budget bytes (decreased): 1 while there is
 * more to touch.  Only an optimisation: puts never depend on it.
 */
int	 bmindex_prefault(struct bmindex *, size_t *budget);
void	 bmindex_free(struct bmindex *);

#endif /* AMPSIM_BMINDEX_H */
