/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsipc-cmd.c: command objects (the AMPS client's Command), and the
 * commands that are not subscriptions or queries: publish,
 * delta_publish and flush executed through a command.  Subscriptions,
 * queries and their routing are in ampsipc-sub.c.
 *
 * It owns: struct ampsipc_command, its extra header fields, and the
 * routes of publish and flush commands (which ampsipc-pub.c and
 * ampsipc-conn.c end).
 *
 * A publish command is a publish (ampsipc-pub.c: stored, sequenced,
 * replayed by the daemon); its route hears how it ended: a persisted
 * ack when AMPS persisted it (if the program asked for persisted acks),
 * a failure ack (always) when it was refused.  A flush command is
 * PUBLISH_FLUSH; its route gets a processed ack (and completed and
 * persisted, if asked) when the daemon answers FLUSHED, a failure ack
 * when it answers an error.
 *
 * Invariants:
 *  1. Extra header fields are kept as "name\0value\0" pairs, each name
 *     at most once; names that have a field of their own are set as
 *     that field instead (ampsipc_cmd_set_header).
 *  2. A publish or flush route ends exactly once, with its last ack.
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ampsipc-int.h"

/* Kind of a settable field: 'S' string, 'N' number, 0 not settable. */
static int
cmd_field_kind(int field)
{
	switch (field) {
	case AMPSIPC_FIELD_TOPIC:
	case AMPSIPC_FIELD_CORRELATION_ID:
	case AMPSIPC_FIELD_SOW_KEY:
	case AMPSIPC_FIELD_CONN:
	case AMPSIPC_FIELD_FILTER:
	case AMPSIPC_FIELD_OPTIONS:
	case AMPSIPC_FIELD_SUB_ID:
	case AMPSIPC_FIELD_QUERY_ID:
	case AMPSIPC_FIELD_BOOKMARK:
	case AMPSIPC_FIELD_ORDER_BY:
	case AMPSIPC_FIELD_SOW_KEYS:
	case AMPSIPC_FIELD_COMMAND_ID:
		return ('S');
	case AMPSIPC_FIELD_EXPIRATION:
	case AMPSIPC_FIELD_BATCH_SIZE:
	case AMPSIPC_FIELD_TOP_N:
	case AMPSIPC_FIELD_ACK_TYPES:
	case AMPSIPC_FIELD_TIMEOUT:
	case AMPSIPC_FIELD_SKIP_N:
	case AMPSIPC_FIELD_MAX_BACKLOG:
		return ('N');
	default:
		return (0);
	}
}

/* A new command object. */
struct ampsipc_command *
ampsipc_cmd_new(int command)
{
	struct ampsipc_command	*c;

	if (command < AMPSIPC_C_PUBLISH || command > AMPSIPC_C_FLUSH) {
		errno = EINVAL;
		return (NULL);
	}
	if ((c = calloc(1, sizeof *c)) == NULL)
		return (NULL);
	c->cmd = command;
	return (c);
}

/* Free a command object. */
void
ampsipc_cmd_free(struct ampsipc_command *c)
{
	int	i;

	if (c == NULL)
		return;
	for (i = 0; i < AMPSIPC_T_LIMIT; i++)
		free(c->strs[i]);
	free(c->data);
	free(c->cmd_id);
	free(c->hdrs);
	free(c);
}

/* A deep copy of c, or NULL (ENOMEM). */
struct ampsipc_command *
ipclib_cmd_dup(const struct ampsipc_command *c)
{
	struct ampsipc_command	*d;
	int			 i;

	if ((d = calloc(1, sizeof *d)) == NULL)
		return (NULL);
	*d = *c;
	d->data = NULL;
	d->cmd_id = NULL;
	d->hdrs = NULL;
	for (i = 0; i < AMPSIPC_T_LIMIT; i++)
		d->strs[i] = NULL;
	for (i = 0; i < AMPSIPC_T_LIMIT; i++)
		if (c->strs[i] != NULL && (d->strs[i] = strdup(c->strs[i])) ==
		    NULL)
			goto fail;
	if (c->has_data && (d->data = malloc(c->len + 1)) == NULL)
		goto fail;
	if (c->has_data && c->len > 0)
		memcpy(d->data, c->data, c->len);
	if (c->cmd_id != NULL && (d->cmd_id = strdup(c->cmd_id)) == NULL)
		goto fail;
	if (c->hlen > 0 && (d->hdrs = malloc(c->hlen)) == NULL)
		goto fail;
	if (c->hlen > 0)
		memcpy(d->hdrs, c->hdrs, c->hlen);
	return (d);
fail:
	ampsipc_cmd_free(d);
	return (NULL);
}

/* Set or clear a string field. */
int
ampsipc_cmd_set_str(struct ampsipc_command *c, int field, const char *v)
{
	char	*d = NULL;

	if (field < 0 || field >= AMPSIPC_T_LIMIT ||
	    cmd_field_kind(field) != 'S') {
		errno = EINVAL;
		return (-1);
	}
	if (v != NULL && (d = strdup(v)) == NULL)
		return (-1);
	if (field == AMPSIPC_FIELD_COMMAND_ID) {	/* never on the wire */
		free(c->cmd_id);
		c->cmd_id = d;
		return (0);
	}
	free(c->strs[field]);
	c->strs[field] = d;
	return (0);
}

/* Set a numeric field. */
int
ampsipc_cmd_set_num(struct ampsipc_command *c, int field, uint64_t v)
{
	if (field < 0 || field >= AMPSIPC_T_LIMIT ||
	    cmd_field_kind(field) != 'N' || v > UINT32_MAX) {
		errno = EINVAL;
		return (-1);
	}
	c->nums[field] = v;
	c->nums_set |= UINT64_C(1) << field;
	return (0);
}

/* Set the payload. */
int
ampsipc_cmd_set_data(struct ampsipc_command *c, const void *data, size_t len)
{
	void	*d;

	if ((d = malloc(len + 1)) == NULL)
		return (-1);
	if (len > 0)
		memcpy(d, data, len);
	free(c->data);
	c->data = d;
	c->len = len;
	c->has_data = 1;
	return (0);
}

/* Set AMPSIPC_CMDF_* flags. */
int
ampsipc_cmd_set_flags(struct ampsipc_command *c, int flags)
{
	c->flags = flags;
	return (0);
}

/* The sub_id of the command ("" if none). */
const char *
ampsipc_cmd_sub_id(const struct ampsipc_command *c)
{
	return (c->strs[AMPSIPC_T_SUB_ID] != NULL ?
	    c->strs[AMPSIPC_T_SUB_ID] : "");
}

/* Ack type bits of a comma list of AMPS ack names; -1 if one is bad. */
static int64_t
cmd_ack_bits(const char *v)
{
	static const char *const names[] = { "received", "parsed",
	    "processed", "persisted", "completed", "stats" };
	const char	*p = v, *e;
	size_t		 i, n;
	int64_t		 bits = 0;

	while (*p != '\0') {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strlen(names[i]) == n && strncmp(p, names[i],
			    n) == 0)
				break;
		if (n > 0 && i == sizeof names / sizeof names[0] &&
		    !(n == 4 && strncmp(p, "none", 4) == 0))
			return (-1);
		if (i < sizeof names / sizeof names[0])
			bits |= INT64_C(1) << i;
		p += n;
		if (*p == ',')
			p++;
	}
	return (bits);
}

/* Drop header name from c's extra fields, if there. */
static void
cmd_hdr_remove(struct ampsipc_command *c, const char *name)
{
	size_t	off = 0, nl, vl, l;

	while (off < c->hlen) {
		nl = strlen(c->hdrs + off);
		vl = strlen(c->hdrs + off + nl + 1);
		l = nl + vl + 2;
		if (strcmp(c->hdrs + off, name) == 0) {
			memmove(c->hdrs + off, c->hdrs + off + l,
			    c->hlen - off - l);
			c->hlen -= l;
			return;
		}
		off += l;
	}
}

/*
 * Set any AMPS header field on the command (the AMPS client's
 * Command.set...).  Names with a field of their own set that field
 * ("topic"/"t", "filter"/"f", "options"/"o", "bookmark"/"bm",
 * "correlation_id"/"x", "sow_key"/"k", "sow_keys", "sub_id",
 * "query_id", "orderby", "top_n", "batch_size"/"bs", "skip_n",
 * "expiration"/"e", "ack_type"/"a", "cid"/"command_id"); others are
 * passed to the daemon, which writes the ones it knows (docs/IPC.md §5)
 * and refuses the others.  value NULL removes the field.
 */
int
ampsipc_cmd_set_header(struct ampsipc_command *c, const char *name,
    const char *value)
{
	static const struct {
		const char	*name;
		int		 field;
	} map[] = {
		{ "t", AMPSIPC_FIELD_TOPIC }, { "topic", AMPSIPC_FIELD_TOPIC },
		{ "f", AMPSIPC_FIELD_FILTER },
		{ "filter", AMPSIPC_FIELD_FILTER },
		{ "o", AMPSIPC_FIELD_OPTIONS }, { "opts", AMPSIPC_FIELD_OPTIONS },
		{ "options", AMPSIPC_FIELD_OPTIONS },
		{ "bm", AMPSIPC_FIELD_BOOKMARK },
		{ "bookmark", AMPSIPC_FIELD_BOOKMARK },
		{ "x", AMPSIPC_FIELD_CORRELATION_ID },
		{ "correlation_id", AMPSIPC_FIELD_CORRELATION_ID },
		{ "k", AMPSIPC_FIELD_SOW_KEY },
		{ "sow_key", AMPSIPC_FIELD_SOW_KEY },
		{ "sow_keys", AMPSIPC_FIELD_SOW_KEYS },
		{ "sub_id", AMPSIPC_FIELD_SUB_ID },
		{ "query_id", AMPSIPC_FIELD_QUERY_ID },
		{ "orderby", AMPSIPC_FIELD_ORDER_BY },
		{ "order_by", AMPSIPC_FIELD_ORDER_BY },
		{ "cid", AMPSIPC_FIELD_COMMAND_ID },
		{ "command_id", AMPSIPC_FIELD_COMMAND_ID },
		{ "top_n", AMPSIPC_FIELD_TOP_N },
		{ "bs", AMPSIPC_FIELD_BATCH_SIZE },
		{ "batch_size", AMPSIPC_FIELD_BATCH_SIZE },
		{ "skip_n", AMPSIPC_FIELD_SKIP_N },
		{ "e", AMPSIPC_FIELD_EXPIRATION },
		{ "expiration", AMPSIPC_FIELD_EXPIRATION },
		{ "a", AMPSIPC_FIELD_ACK_TYPES },
		{ "ack_type", AMPSIPC_FIELD_ACK_TYPES },
	};
	char	*end, *p;
	size_t	 i, nl, vl;
	int64_t	 bits;
	unsigned long long v;

	if (name == NULL || *name == '\0' || strlen(name) > 64 ||
	    strcmp(name, "c") == 0 || strcmp(name, "cmd") == 0) {
		errno = EINVAL;	/* the command is ampsipc_cmd_new()'s */
		return (-1);
	}
	for (i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (strcmp(map[i].name, name) != 0)
			continue;
		if (cmd_field_kind(map[i].field) == 'S')
			return (ampsipc_cmd_set_str(c, map[i].field, value));
		if (value == NULL) {
			c->nums_set &= ~(UINT64_C(1) << map[i].field);
			return (0);
		}
		if (map[i].field == AMPSIPC_FIELD_ACK_TYPES) {
			if ((bits = cmd_ack_bits(value)) < 0) {
				errno = EINVAL;
				return (-1);
			}
			return (ampsipc_cmd_set_num(c, map[i].field,
			    (uint64_t)bits));
		}
		errno = 0;
		v = strtoull(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno != 0) {
			errno = EINVAL;
			return (-1);
		}
		return (ampsipc_cmd_set_num(c, map[i].field, v));
	}
	cmd_hdr_remove(c, name);
	if (value == NULL)
		return (0);
	nl = strlen(name);
	vl = strlen(value);
	if ((p = realloc(c->hdrs, c->hlen + nl + vl + 2)) == NULL)
		return (-1);
	c->hdrs = p;
	memcpy(c->hdrs + c->hlen, name, nl + 1);
	memcpy(c->hdrs + c->hlen + nl + 1, value, vl + 1);
	c->hlen += nl + vl + 2;
	return (0);
}

/* An ack message for a publish or flush route, delivered to it. */
static void
cmd_route_ack(struct ampsipc *h, struct ampsipc_route *rt, int ack,
    int code, const char *reason, uint32_t conn_id, uint64_t seq)
{
	struct ampsipc_message	m;

	memset(&m, 0, sizeof m);
	m.command = AMPSIPC_C_ACK;
	m.topic = m.sub_id = m.sub_ids = m.query_id = m.bookmark = "";
	m.sow_key = m.correlation_id = m.timestamp = m.lease_period = "";
	m.user_id = m.options = "";
	m.data = "";
	m.reason = reason != NULL ? reason : "";
	m.ack_type = ack;
	m.status = code == 0 ? AMPSIPC_STATUS_SUCCESS : AMPSIPC_STATUS_FAILURE;
	m.error = code;
	m.conn_id = conn_id;
	m.seq = seq;
	m.command_id = rt->cmd_id != NULL ? rt->cmd_id : "";
	(void)ipclib_route_deliver(h, rt, &m);
}

/*
 * A publish made by a command ended (ampsipc-pub.c): tell its route, if
 * any, and end it.  kind is AMPSIPC_PUB_PERSISTED or _FAILED.
 */
void
ipclib_cmd_pub_done(struct ampsipc *h, uint32_t reqid, int kind, int code,
    const char *reason, uint32_t conn_id, uint64_t seq)
{
	struct ampsipc_route	*rt;

	if ((rt = ipclib_route_find(h, reqid)) == NULL ||
	    (rt->cmd != AMPSIPC_C_PUBLISH && rt->cmd != AMPSIPC_C_DELTA_PUBLISH))
		return;
	if (kind == AMPSIPC_PUB_FAILED)
		cmd_route_ack(h, rt, AMPSIPC_ACK_PERSISTED, code != 0 ? code :
		    AMPSIPC_E_COMMAND, reason, conn_id, seq);
	else if (rt->user_acks & AMPSIPC_ACK_PERSISTED)
		cmd_route_ack(h, rt, AMPSIPC_ACK_PERSISTED, 0, NULL, conn_id,
		    seq);
	ipclib_route_end(h, rt, 0, NULL);
}

/*
 * The daemon answered a flush command: FLUSHED (code 0) or an error.
 * Returns 1 if a flush route took it.
 */
int
ipclib_cmd_flush_done(struct ampsipc *h, uint32_t reqid, int code,
    const char *reason)
{
	struct ampsipc_route	*rt;
	int			 ack;

	if ((rt = ipclib_route_find(h, reqid)) == NULL ||
	    rt->cmd != AMPSIPC_C_FLUSH)
		return (0);
	if (code != 0)
		cmd_route_ack(h, rt, AMPSIPC_ACK_PROCESSED, code, reason, 0, 0);
	else
		for (ack = AMPSIPC_ACK_PROCESSED; ack <= AMPSIPC_ACK_COMPLETED;
		    ack <<= 1)
			if (ack == AMPSIPC_ACK_PROCESSED ||
			    (rt->user_acks & ack))
				cmd_route_ack(h, rt, ack, 0, NULL, 0, 0);
	rt->acked = 1;
	ipclib_route_end(h, rt, code, reason);
	return (1);
}

/* Fill: PUBLISH_FLUSH for a flush command. */
static void
cmd_fill_flush(struct ipcwire_enc *e, void *buf, size_t cap, uint32_t reqid,
    const void *arg)
{
	const struct ampsipc_command	*c = arg;

	ipcwire_begin(e, buf, cap, AMPSIPC_PUBLISH_FLUSH, 0, reqid);
	ipcwire_put_str(e, AMPSIPC_T_CONN, c->strs[AMPSIPC_T_CONN]);
	if (c->send_timeout >= 0)
		ipcwire_put_u32(e, AMPSIPC_T_TIMEOUT_MS,
		    (uint32_t)c->send_timeout);
}

/*
 * Send a publish, delta_publish or flush command; its route (reqid
 * given, fn/arg/st set by the caller) is in *rtp.  Returns 0 or -1.
 */
int
ipclib_cmd_send(struct ampsipc *h, struct ampsipc_command *c,
    struct ampsipc_route *rt)
{
	struct ampsipc_pubopts	o;
	const char		*topic = c->strs[AMPSIPC_T_TOPIC];

	if (c->cmd == AMPSIPC_C_FLUSH)
		return (ipclib_queue(h, rt->reqid, cmd_fill_flush, c));
	memset(&o, 0, sizeof o);
	o.correlation_id = c->strs[AMPSIPC_T_CORRELATION_ID];
	o.sow_key = c->strs[AMPSIPC_T_SOW_KEY];
	o.conn = c->strs[AMPSIPC_T_CONN];
	if (c->nums_set & (UINT64_C(1) << AMPSIPC_T_EXPIRATION)) {
		o.expiration = (uint32_t)c->nums[AMPSIPC_T_EXPIRATION];
		o.flags |= AMPSIPC_PUB_EXPIRATION;
	}
	return (ipclib_publish_req(h, c->cmd == AMPSIPC_C_DELTA_PUBLISH ?
	    AMPSIPC_DELTA_PUBLISH : AMPSIPC_PUBLISH, topic, c->data, c->len,
	    &o, c->hdrs, c->hlen, rt->reqid));
}
