/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsipc-stream.c: the message queue of a synchronous stream, pure
 * logic (no I/O): deep copies of messages, a FIFO ring, and client-side
 * conflation by sow key (PROTOCOL.md §9.9).
 *
 * It owns: struct ipclib_sq and the struct ipclib_qmsg copies in it.
 *
 * Invariants:
 *  1. A queued message is one allocation: the struct, then every string
 *     and the data; no pointer of a queued message points outside it.
 *  2. Order is arrival order, except that with conflation a message
 *     whose non-empty sow key equals that of a queued one replaces it in
 *     place (the older copy is freed); messages without a sow key, and
 *     acks, group markers and OOFs, are never conflated.
 *  3. Every string of a copy is non-NULL ("" when absent).
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc-int.h"

/* Length of a string member, counting its NUL. */
static size_t
qm_len(const char *s)
{
	return (s != NULL ? strlen(s) + 1 : 1);
}

/* Copy a string member into the block at *pp; returns the copy. */
static const char *
qm_put(char **pp, const char *s)
{
	char	*d = *pp;
	size_t	 n = qm_len(s);

	if (s != NULL)
		memcpy(d, s, n);
	else
		*d = '\0';
	*pp += n;
	return (d);
}

/* Deep copy m (tagged with reqid) into one allocation; NULL on ENOMEM. */
struct ipclib_qmsg *
ipclib_qmsg_copy(const struct ampsipc_message *m, uint32_t reqid)
{
	struct ipclib_qmsg	*q;
	size_t			 need;
	char			*p;

	need = sizeof *q + m->len + 1 + qm_len(m->topic) + qm_len(m->sub_id) +
	    qm_len(m->sub_ids) + qm_len(m->query_id) + qm_len(m->bookmark) +
	    qm_len(m->sow_key) + qm_len(m->correlation_id) +
	    qm_len(m->timestamp) + qm_len(m->lease_period) +
	    qm_len(m->user_id) + qm_len(m->reason) + qm_len(m->options) +
	    qm_len(m->command_id);
	if ((q = malloc(need)) == NULL)
		return (NULL);
	q->m = *m;
	q->reqid = reqid;
	p = (char *)(q + 1);
	if (m->len > 0)
		memcpy(p, m->data, m->len);
	p[m->len] = '\0';
	q->m.data = p;
	p += m->len + 1;
	q->m.topic = qm_put(&p, m->topic);
	q->m.sub_id = qm_put(&p, m->sub_id);
	q->m.sub_ids = qm_put(&p, m->sub_ids);
	q->m.query_id = qm_put(&p, m->query_id);
	q->m.bookmark = qm_put(&p, m->bookmark);
	q->m.sow_key = qm_put(&p, m->sow_key);
	q->m.correlation_id = qm_put(&p, m->correlation_id);
	q->m.timestamp = qm_put(&p, m->timestamp);
	q->m.lease_period = qm_put(&p, m->lease_period);
	q->m.user_id = qm_put(&p, m->user_id);
	q->m.reason = qm_put(&p, m->reason);
	q->m.options = qm_put(&p, m->options);
	q->m.command_id = qm_put(&p, m->command_id);
	return (q);
}

/* Whether a message may be conflated (invariant 2). */
static int
qm_conflatable(const struct ampsipc_message *m)
{
	return ((m->command == AMPSIPC_C_PUBLISH ||
	    m->command == AMPSIPC_C_SOW ||
	    m->command == AMPSIPC_C_DELTA_PUBLISH) && m->sow_key[0] != '\0');
}

/*
 * Append q (taking ownership), or with conflate replace a queued message
 * with the same sow key.  Returns 0, 1 when it conflated, -1 on ENOMEM
 * (q is not taken).
 */
int
ipclib_sq_push(struct ipclib_sq *sq, struct ipclib_qmsg *q, int conflate)
{
	struct ipclib_qmsg	**nq, *old;
	size_t			  i, n, idx;

	if (conflate && qm_conflatable(&q->m)) {
		for (i = 0; i < sq->count; i++) {
			idx = (sq->head + i) % sq->cap;
			old = sq->q[idx];
			if (qm_conflatable(&old->m) &&
			    strcmp(old->m.sow_key, q->m.sow_key) == 0) {
				sq->q[idx] = q;
				free(old);
				sq->conflated++;
				return (1);
			}
		}
	}
	if (sq->count == sq->cap) {
		n = sq->cap ? sq->cap * 2 : 64;
		if ((nq = calloc(n, sizeof *nq)) == NULL)
			return (-1);
		for (i = 0; i < sq->count; i++)
			nq[i] = sq->q[(sq->head + i) % sq->cap];
		free(sq->q);
		sq->q = nq;
		sq->cap = n;
		sq->head = 0;
	}
	sq->q[(sq->head + sq->count) % sq->cap] = q;
	sq->count++;
	return (0);
}

/* Remove and return the oldest message (caller frees), or NULL. */
struct ipclib_qmsg *
ipclib_sq_pop(struct ipclib_sq *sq)
{
	struct ipclib_qmsg	*q;

	if (sq->count == 0)
		return (NULL);
	q = sq->q[sq->head];
	sq->q[sq->head] = NULL;
	sq->head = (sq->head + 1) % sq->cap;
	sq->count--;
	return (q);
}

/* Free every queued message and the ring. */
void
ipclib_sq_clear(struct ipclib_sq *sq)
{
	struct ipclib_qmsg	*q;

	while ((q = ipclib_sq_pop(sq)) != NULL)
		free(q);
	free(sq->q);
	memset(sq, 0, sizeof *sq);
}
