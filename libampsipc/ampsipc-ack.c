/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsipc-ack.c: what a program tells the daemon about messages it
 * received: queue acks (ack, cancel, expire), durable discards, and the
 * receive-side handlers (last chance, exception listener, failed
 * write).  The routing itself is in ampsipc-sub.c.
 *
 * Invariants:
 *  1. Acks and discards are queued, never waited for (no reply exists);
 *     they are written with the handle's other output, or at once when
 *     more than AMPSIPC_OUT_EAGER bytes are queued.
 *  2. A message without a lease (not from a queue) or without a
 *     bookmark is never acked or discarded: those calls return 0.
 */

#include "config.h"

#include <errno.h>
#include <string.h>

#include "ampsipc-int.h"

struct sub_ack_arg {
	const char	*topic;
	const char	*bm;
	const char	*sub_id;
	const char	*options;
};

/* Fill: QUEUE_ACK. */
static void
sub_fill_qack(struct ipcwire_enc *e, void *buf, size_t cap,
    uint32_t reqid, const void *arg)
{
	const struct sub_ack_arg	*a = arg;

	ipcwire_begin(e, buf, cap, AMPSIPC_QUEUE_ACK, 0, reqid);
	ipcwire_put_str(e, AMPSIPC_T_TOPIC, a->topic);
	ipcwire_put_str(e, AMPSIPC_T_OPTIONS, a->options);
	if (a->sub_id != NULL && *a->sub_id != '\0')
		ipcwire_put_str(e, AMPSIPC_T_SUB_ID, a->sub_id);
	ipcwire_put_str(e, AMPSIPC_T_BOOKMARK, a->bm);
}

/* Ack (or cancel/expire) a queue message by topic and bookmark. */
int
ampsipc_ack_bookmark(struct ampsipc *h, const char *topic, const char *bm,
    const char *sub_id, const char *options)
{
	struct sub_ack_arg	a;

	if (topic == NULL || *topic == '\0' || bm == NULL || *bm == '\0')
		return (ipclib_fail(h, AMPSIPC_E_USAGE, EINVAL,
		    "a queue ack needs a topic and a bookmark"));
	if (h->fd == -1)
		return (ipclib_fail(h, AMPSIPC_E_USAGE, ENOTCONN,
		    "not connected"));
	a.topic = topic;
	a.bm = bm;
	a.sub_id = sub_id;
	a.options = options != NULL && *options != '\0' ? options : NULL;
	if (ipclib_queue(h, 0, sub_fill_qack, &a) == -1)
		return (-1);
	if (h->outlen - h->outoff > AMPSIPC_OUT_EAGER)
		(void)ampsipc_write(h);
	return (0);
}

/* Ack a queue message; no-op for others. */
int
ampsipc_ack(struct ampsipc *h, const struct ampsipc_message *m,
    const char *options)
{
	if (m->lease_period[0] == '\0' || m->bookmark[0] == '\0')
		return (0);
	return (ampsipc_ack_bookmark(h, m->topic, m->bookmark, m->sub_id,
	    options));
}

/* Fill: DISCARD. */
static void
sub_fill_discard(struct ipcwire_enc *e, void *buf, size_t cap,
    uint32_t reqid, const void *arg)
{
	const struct ampsipc_message	*m = arg;

	ipcwire_begin(e, buf, cap, AMPSIPC_DISCARD, 0, reqid);
	ipcwire_put_str(e, AMPSIPC_T_SUB_ID, m->sub_id);
	ipcwire_put_str(e, AMPSIPC_T_BOOKMARK, m->bookmark);
}

/* A durable subscription processed m. */
int
ampsipc_discard(struct ampsipc *h, const struct ampsipc_message *m)
{
	if (m->bookmark[0] == '\0' || m->sub_id[0] == '\0')
		return (0);
	if (h->fd == -1)
		return (ipclib_fail(h, AMPSIPC_E_USAGE, ENOTCONN,
		    "not connected"));
	if (ipclib_queue(h, 0, sub_fill_discard, m) == -1)
		return (-1);
	if (h->outlen - h->outoff > AMPSIPC_OUT_EAGER)
		(void)ampsipc_write(h);
	return (0);
}

/* Install the last-chance handler. */
void
ampsipc_set_last_chance_handler(struct ampsipc *h, ampsipc_msg_handler fn,
    void *arg)
{
	h->lastchance_cb = fn;
	h->lastchance_arg = arg;
}

/* Install the handler told when a route's arg is no longer used. */
void
ampsipc_set_release_handler(struct ampsipc *h, ampsipc_release_handler fn)
{
	h->release_cb = fn;
}

/* Install the exception listener. */
void
ampsipc_set_exception_listener(struct ampsipc *h,
    ampsipc_exception_handler fn, void *arg)
{
	h->exc_cb = fn;
	h->exc_arg = arg;
}

/* Install the failed-write handler. */
void
ampsipc_set_failed_write_handler(struct ampsipc *h, ampsipc_pub_handler fn,
    void *arg)
{
	h->failed_cb = fn;
	h->failed_arg = arg;
}
