/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * pubqueue.h: an in-memory queue of publish records ordered by sequence
 * number (pubqueue.c): the rows of the memory publish store
 * (pubstore-mem.c).  Pure: no I/O, no SQLite, no event loop.
 *
 * Records are appended with strictly increasing sequence numbers (gaps
 * allowed), copied into large blocks, and leave from the front (a
 * persisted ack covers a prefix) or one by one in the middle (a failure
 * ack), which only marks them dead until the front passes them.
 */

#ifndef AMPSD_PUBQUEUE_H
#define AMPSD_PUBQUEUE_H

#include <stddef.h>
#include <stdint.h>

/* One record as stored: the bytes follow the header in the block. */
struct pubqueue_rec {
	uint64_t	 seq;
	uint32_t	 topic_len;
	uint32_t	 hdr_len;
	uint32_t	 data_len;
	uint8_t		 kind;
	uint8_t		 dead;		/* removed by pubqueue_remove() */
	/* topic, hdr, data follow, in that order */
};

/* The parts of a record (pointers into its block). */
#define PUBQUEUE_TOPIC(r)	((const char *)((r) + 1))
#define PUBQUEUE_HDR(r)		(PUBQUEUE_TOPIC(r) + (r)->topic_len)
#define PUBQUEUE_DATA(r)	(PUBQUEUE_HDR(r) + (r)->hdr_len)

struct pubqueue_blk;

struct pubqueue {
	struct pubqueue_rec	**ring;		/* live and dead, by seq */
	size_t			 cap;		/* power of two */
	size_t			 head;
	size_t			 n;
	size_t			 live;		/* not dead */
	struct pubqueue_blk	*first;		/* oldest block */
	struct pubqueue_blk	*last;		/* block being filled */
	struct pubqueue_blk	*spare;		/* an emptied block, kept */
	uint64_t		 bytes;		/* blocks and ring, allocated */
	uint64_t		 rec_bytes;	/* live records' sizes */
};

/* Bytes a record of these lengths takes in a block. */
size_t		 pubqueue_rec_size(size_t topic_len, size_t hdr_len,
		    size_t data_len);

void		 pubqueue_init(struct pubqueue *);
void		 pubqueue_free(struct pubqueue *);

/*
 * Append a copy of a record with seq above every seq in the queue.
 * Returns the record, or NULL when memory runs out or seq does not
 * increase (nothing changed).
 */
struct pubqueue_rec *pubqueue_push(struct pubqueue *, uint64_t seq,
		    int kind, const void *topic, size_t topic_len,
		    const void *hdr, size_t hdr_len, const void *data,
		    size_t data_len);

/*
 * Drop every record with seq <= upto from the front.  Returns how many
 * live (not dead) records went.
 */
size_t		 pubqueue_pop_upto(struct pubqueue *, uint64_t upto);

/* Mark record seq dead.  Returns 1 if a live record was marked, else 0. */
int		 pubqueue_remove(struct pubqueue *, uint64_t seq);

/*
 * Position of the first record with seq > after (n when none), for
 * pubqueue_at().  Binary search.
 */
size_t		 pubqueue_find_after(const struct pubqueue *, uint64_t after);
/* The i-th record from the front (i < n), dead ones included. */
struct pubqueue_rec *pubqueue_at(const struct pubqueue *, size_t i);

/* Highest seq in the queue, 0 when empty. */
uint64_t	 pubqueue_last_seq(const struct pubqueue *);

#endif /* AMPSD_PUBQUEUE_H */
