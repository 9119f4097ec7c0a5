/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * qack.h: pending queue acknowledgements and the batching policy of
 * `queue-ack batch N timeout DUR` (docs/CONFIG.md).  Pure: no I/O, no
 * libevent; the caller passes the monotonic time in milliseconds and
 * sends what qack_take() emits.  See qack.c.
 */

#ifndef AMPSD_QACK_H
#define AMPSD_QACK_H

#include <stddef.h>
#include <stdint.h>

struct qack;

/* One connection's `queue-ack` statement. */
struct qack_policy {
	uint32_t	 batch;		/* acks per sow_delete; 0 = 1 */
	uint64_t	 timeout_ms;	/* oldest pending ack waits at most */
};

/*
 * Called once per sow_delete to send: list is n comma-joined bookmarks,
 * opt "" (an ack), "cancel" or "expire"; owners[i] is the owner given
 * to qack_add() for the i-th bookmark (may be NULL).
 */
typedef void	(*qack_emit_fn)(uint32_t connid, const char *topic,
		    const char *opt, const char *list, size_t n,
		    void *const *owners, void *arg);

struct qack	*qack_create(void);
void		 qack_free(struct qack *);

/*
 * Add bm (one bookmark or a comma list) to the batch of (connid, topic,
 * opt) at time now.  cap is the owner's granted backlog (0: unknown);
 * a batch's chunks never exceed the smallest cap given to it.  Returns
 * the number of bookmarks added.
 */
size_t		 qack_add(struct qack *, uint32_t connid, const char *topic,
		    const char *opt, const char *bm, const struct qack_policy *,
		    uint32_t cap, void *owner, uint64_t now);
/* Send every batch holding an ack of owner whole at the next take. */
void		 qack_urge(struct qack *, const void *owner);
/* Send every batch of connection connid whole at the next take. */
void		 qack_urge_conn(struct qack *, uint32_t connid);
/* Forget owner (its acks stay pending, owned by nobody). */
void		 qack_forget(struct qack *, const void *owner);
/*
 * Emit what is due at now (see qack.c for the rules); returns the
 * number of chunks emitted.
 */
size_t		 qack_take(struct qack *, uint64_t now, qack_emit_fn, void *);
/* Earliest time a pending ack falls due: 1 and *when, 0 if none. */
int		 qack_deadline(const struct qack *, uint64_t *when);
/* Drop the pending acks of a connection (it went down). */
void		 qack_drop_conn(struct qack *, uint32_t connid);
/* Bookmarks pending in all batches. */
size_t		 qack_pending(const struct qack *);

#endif /* AMPSD_QACK_H */
