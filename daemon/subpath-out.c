/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subpath-out.c: what leaves the receive path, and the lookups every
 * part of it needs.  The bottom layer of the receive path: it calls
 * nothing in the other subpath files.
 *
 *   sp_send_up      an upstream command (struct sp_up) written by the
 *                   codec and queued on its connection
 *   sp_send_msg     a MESSAGE or ACK (struct sp_msg) to one program
 *   sp_stream_end   STREAM_END to one program, in order or urgent
 *   sp_ack_down     the processed ack of a command kept while its
 *                   session is down (sp_ack_pending: a subscription's
 *                   "accepted"); sp_down_text says why it is down
 *   sp_conn_of      the connection a request names
 *   sp_store_owner  the uid that owns a durable name in a bookmark store
 *   sp_durable_may  whether a program's uid may use a durable name
 *
 * The layers above, each calling only those below it:
 *   subpath-sub.c      one subscription's life upstream, DISCARD and
 *                      QUEUE_ACK
 *   subpath-deliver.c  frames from AMPS to programs
 *   subpath-admin.c    durable names removed by name, status lines
 *   subpath.c          IPC COMMAND, program exit, connection states
 *
 * Invariant: nothing from a program reaches AMPS except through
 * sp_send_up, which drops it while the connection is not logged on.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amps.h"
#include "ampsipc-wire.h"
#include "bmtrack.h"
#include "bookmarkstore.h"
#include "cmdhdr.h"
#include "conn.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "subpath.h"
#include "subpath-int.h"
#include "xmalloc.h"

/* Build an upstream frame and queue it on connection connid. */
void
sp_send_up(struct subpath *sp, uint32_t connid, const struct sp_up *u)
{
	struct amps_wr	 w;
	char		 acks[96];
	long long	 n;
	int		 tries;

	if (connid >= sp->nsess || !sp->conns[connid].up)
		return;
	if (u->acks != 0)
		amps_ack_format(acks, sizeof acks, u->acks);
	for (tries = 0; tries < 2; tries++) {
		amps_wr_begin(&w, sp->wbuf, sp->wcap);
#define WS(f, v)	do { if ((v) != NULL) amps_wr_cstr(&w, f, v); } while (0)
		WS(AMPS_F_C, u->c);
		WS(AMPS_F_CID, u->cid);
		WS(AMPS_F_T, u->t);
		WS(AMPS_F_SUB_ID, u->sub_id);
		WS(AMPS_F_QUERY_ID, u->query_id);
		WS(AMPS_F_F, u->f);
		WS(AMPS_F_O, u->o);
		WS(AMPS_F_BM, u->bm);
		WS(AMPS_F_ORDERBY, u->orderby);
		WS(AMPS_F_SOW_KEYS, u->sow_keys);
		WS(AMPS_F_K, u->k);
		WS(AMPS_F_X, u->x);
#undef WS
		if (u->bs != 0)
			amps_wr_u64(&w, AMPS_F_BS, u->bs);
		if (u->top_n != 0)
			amps_wr_u64(&w, AMPS_F_TOP_N, u->top_n);
		if (u->acks != 0)
			amps_wr_cstr(&w, AMPS_F_A, acks);
		cmdhdr_write(&w, u->hdrs, u->hlen);
		n = amps_wr_finish(&w, u->data, u->len);
		if (n < 0)
			return;
		if ((size_t)n <= sp->wcap)
			break;
		free(sp->wbuf);
		sp->wcap = (size_t)n + 4096;
		sp->wbuf = xmalloc(sp->wcap);
	}
	log_trace(TRACE_CONN, "connection %s: -> %s %s",
	    sp->conns[connid].name, u->c, u->cid != NULL ? u->cid : "");
	(void)conn_send_raw(sp->conns[connid].conn, sp->wbuf, (size_t)n);
}

/* Find the connection a request names; -1 if unknown. */
int
sp_conn_of(struct subpath *sp, const struct ipcwire_msg *m)
{
	const char	*name = ipcwire_str(m, AMPSIPC_T_CONN);
	size_t		 i;

	if (name == NULL || *name == '\0')
		return ((int)sp->def);
	for (i = 0; i < sp->nconns; i++)
		if (strcmp(sp->conns[i].name, name) == 0)
			return ((int)i);
	return (-1);
}

/*
 * Why session sess is not up, for a program: "connection main is in
 * backoff for 1200 ms (last error: connect: Connection refused)".  The
 * texts come from conn.c and carry no credentials.
 */
void
sp_down_text(struct subpath *sp, uint32_t sess, char *buf, size_t cap)
{
	struct conn_status	st;

	conn_get_status(sp->conns[sess].conn, &st);
	snprintf(buf, cap, "connection %s%s is %s for %llu ms%s%s%s",
	    sp->conns[sess].name, sess >= sp->nconns ? " (delta session)" :
	    "", st.state_name, (unsigned long long)(loop_now_ms() -
	    st.state_since_ms), st.last_error[0] != '\0' ?
	    " (last error: " : "", st.last_error,
	    st.last_error[0] != '\0' ? ")" : "");
}

/*
 * Answer a command (cmd, reqid) that the daemon keeps while its session
 * sess is down (docs/IPC.md §5): a processed ack, success, whose reason
 * says what (e.g. "accepted; entered") happens when the session is up
 * and why it is down; then STREAM_END when the command has no stream of
 * its own (transient).
 */
void
sp_ack_down(struct subpath *sp, struct ipc_client *cl, uint32_t reqid,
    uint32_t cmd, const char *local_id, uint32_t sess, int transient,
    const char *what)
{
	struct sp_msg	m;
	char		why[400], reason[480];

	sp_down_text(sp, sess, why, sizeof why);
	snprintf(reason, sizeof reason, "%s when the connection is up "
	    "again: %s", what, why);
	memset(&m, 0, sizeof m);
	m.type = AMPSIPC_ACK;
	m.cmd = cmd;
	m.ack = AMPSIPC_ACK_PROCESSED;
	m.status = AMPSIPC_STATUS_SUCCESS;
	m.reason = reason;
	m.sub_id = local_id;
	m.connid = SP_CONF(sp, sess);
	sp_send_msg(sp, cl, reqid, &m);
	if (transient)
		sp_stream_end(sp, cl, reqid, 0, NULL);
}

/*
 * sp_ack_down() for a subscription command kept while its session is
 * down: it is entered when the session is up; STREAM_END when it only
 * changed a kept subscription (replace, pause, resume).
 */
void
sp_ack_pending(struct subpath *sp, struct ipc_client *cl, uint32_t reqid,
    uint32_t cmd, const char *local_id, uint32_t sess, int transient)
{
	sp_ack_down(sp, cl, reqid, cmd, local_id, sess, transient,
	    "accepted; entered");
}

/* Fill an IPC frame for m (counting when buf is NULL). */
static void
sp_fill_msg(struct ipcwire_enc *e, void *buf, size_t cap, uint32_t reqid,
    const struct sp_msg *m)
{
	static const uint16_t	stats_tags[6] = { AMPSIPC_T_MATCHES,
	    AMPSIPC_T_TOPIC_MATCHES, AMPSIPC_T_RECORDS_RETURNED,
	    AMPSIPC_T_RECORDS_INSERTED, AMPSIPC_T_RECORDS_UPDATED,
	    AMPSIPC_T_RECORDS_DELETED };
	int			i;

	ipcwire_begin(e, buf, cap, m->type, 0, reqid);
	ipcwire_put_u32(e, AMPSIPC_T_CMD, m->cmd);
	if (m->topic != NULL)
		ipcwire_put_str(e, AMPSIPC_T_TOPIC, m->topic);
	if (m->type == AMPSIPC_MESSAGE)
		ipcwire_put_bytes(e, AMPSIPC_T_DATA, m->data, m->len);
	if (m->type == AMPSIPC_MESSAGE && m->x != NULL)
		ipcwire_put_str(e, AMPSIPC_T_CORRELATION_ID, m->x);
	if (m->type == AMPSIPC_MESSAGE && m->k != NULL)
		ipcwire_put_str(e, AMPSIPC_T_SOW_KEY, m->k);
	if (m->type == AMPSIPC_ACK && m->options != NULL)
		ipcwire_put_str(e, AMPSIPC_T_OPTIONS, m->options);
	if (m->sub_id != NULL)
		ipcwire_put_str(e, AMPSIPC_T_SUB_ID, m->sub_id);
	if (m->query_id != NULL)
		ipcwire_put_str(e, AMPSIPC_T_QUERY_ID, m->query_id);
	if (m->bm != NULL)
		ipcwire_put_str(e, AMPSIPC_T_BOOKMARK, m->bm);
	if (m->type == AMPSIPC_ACK) {
		ipcwire_put_u32(e, AMPSIPC_T_ACK_TYPES, m->ack);
		ipcwire_put_u32(e, AMPSIPC_T_STATUS, m->status);
	}
	if (m->has_seq)
		ipcwire_put_u64(e, AMPSIPC_T_SEQ, m->seq);
	if (m->reason != NULL)
		ipcwire_put_str(e, AMPSIPC_T_REASON, m->reason);
	if (m->type == AMPSIPC_ACK && m->errcode != 0)
		ipcwire_put_u32(e, AMPSIPC_T_ERRCODE, m->errcode);
	for (i = 0; m->type == AMPSIPC_ACK && i < 6; i++)
		if (m->has_stats & (1U << i))
			ipcwire_put_u64(e, stats_tags[i], m->stats[i]);
	if (m->type == AMPSIPC_MESSAGE) {
		if (m->ts != NULL)
			ipcwire_put_str(e, AMPSIPC_T_TIMESTAMP, m->ts);
		if (m->lp != NULL)
			ipcwire_put_str(e, AMPSIPC_T_LEASE_PERIOD, m->lp);
		if (m->user_id != NULL)
			ipcwire_put_str(e, AMPSIPC_T_USER_ID, m->user_id);
	}
	ipcwire_put_u32(e, AMPSIPC_T_CONN_ID, m->connid);
	if (m->type == AMPSIPC_ACK && m->backlog != 0)
		ipcwire_put_u32(e, AMPSIPC_T_MAX_BACKLOG, m->backlog);
	if (m->type == AMPSIPC_MESSAGE && m->has_gseq)
		ipcwire_put_u64(e, AMPSIPC_T_GROUP_SEQ, m->gseq);
}

/* Encode m and queue it on the program's output. */
void
sp_send_msg(struct subpath *sp, struct ipc_client *cl, uint32_t reqid,
    const struct sp_msg *m)
{
	struct ipcwire_enc	e;
	size_t			len;

	if (cl == NULL)
		return;
	sp_fill_msg(&e, NULL, 0, reqid, m);
	if (ipcwire_end(&e, &len) == -1 || len > AMPSIPC_MAX_FRAME) {
		log_warnx("subscription: message too large for IPC (%zu "
		    "bytes of data); dropped", m->len);
		return;
	}
	if (len > sp->ecap) {
		free(sp->ebuf);
		sp->ecap = len < 65536 ? 65536 : len;
		sp->ebuf = xmalloc(sp->ecap);
	}
	sp_fill_msg(&e, sp->ebuf, sp->ecap, reqid, m);
	if (ipcwire_end(&e, &len) == -1)
		return;
	loop_frames_out++;
	(void)ipc_client_send_frame(cl, sp->ebuf, len);
}

/* STREAM_END(code, reason) for reqid; urgent: ahead of the backlog. */
void
sp_stream_end_q(struct ipc_client *cl, uint32_t reqid, uint32_t code,
    const char *reason, int urgent)
{
	struct ipcwire_enc	e;
	uint8_t			buf[1024];
	size_t			len;

	if (cl == NULL)
		return;
	ipcwire_begin(&e, buf, sizeof buf, AMPSIPC_STREAM_END, 0, reqid);
	if (code != 0)
		ipcwire_put_u32(&e, AMPSIPC_T_ERRCODE, code);
	if (reason != NULL)
		ipcwire_put_str(&e, AMPSIPC_T_REASON, reason);
	if (ipcwire_end(&e, &len) != 0)
		return;
	if (urgent)
		(void)ipc_client_send_urgent(cl, buf, len);
	else
		(void)ipc_client_send_frame(cl, buf, len);
}

/* STREAM_END(code, reason) for reqid. */
void
sp_stream_end(struct subpath *sp, struct ipc_client *cl, uint32_t reqid,
    uint32_t code, const char *reason)
{
	(void)sp;
	sp_stream_end_q(cl, reqid, code, reason, 0);
}

/* Whether connection i's bookmark store defines name. */
int
sp_store_has(struct subpath *sp, size_t i, const char *name)
{
	return (sp->conns[i].bs != NULL && bmtrack_get(
	    bookmarkstore_tracker(sp->conns[i].bs), name) != NULL);
}

struct sp_owner_arg {
	const char	*name;
	int64_t		 owner;
};

/* bookmarkstore_foreach callback: the owner of one name. */
static int
sp_owner_cb(const struct bookmarkstore_sub *d, void *arg)
{
	struct sp_owner_arg	*a = arg;

	if (strcmp(d->sub_id, a->name) != 0)
		return (0);
	a->owner = d->owner;
	return (1);
}

/* The stored owner uid of name on connection i (-1 unknown). */
int64_t
sp_store_owner(struct subpath *sp, size_t i, const char *name)
{
	struct sp_owner_arg	a = { name, -1 };

	(void)bookmarkstore_foreach(sp->conns[i].bs, sp_owner_cb, &a);
	return (a.owner);
}

/*
 * The owner of durable name: the uid the first bookmark store that
 * defines it records, -1 if that store records none (a name defined by
 * an older ampsd), -2 if no store defines the name.
 */
int64_t
sp_durable_owner(struct subpath *sp, const char *name)
{
	size_t	i;

	for (i = 0; i < sp->nconns; i++)
		if (sp_store_has(sp, i, name))
			return (sp_store_owner(sp, i, name));
	return (-2);
}

/*
 * May uid attach, discard for or remove durable name on connection conn
 * (every connection when conn is -1)?  A name belongs to the uid that
 * defined it: root and the daemon's own uid may always, another uid only
 * if every store defining the name records it as the owner, and anyone
 * may take a name no store defines.  Returns 1, or 0 after replying
 * NOT_PERMITTED to (cl, reqid) with a reason naming the owner.
 */
int
sp_durable_may(struct subpath *sp, struct ipc_client *cl, uint32_t reqid,
    const char *name, int conn)
{
	uid_t	uid = ipc_client_uid(cl);
	char	text[300];
	int64_t	owner;
	size_t	i;

	if (uid == 0 || uid == geteuid())
		return (1);
	for (i = 0; i < sp->nconns; i++) {
		if ((conn >= 0 && i != (size_t)conn) ||
		    !sp_store_has(sp, i, name))
			continue;
		owner = sp_store_owner(sp, i, name);
		if (owner >= 0 && (uid_t)owner == uid)
			continue;
		if (owner < 0)
			snprintf(text, sizeof text, "durable subscription "
			    "\"%s\" has no recorded owner; only root or the "
			    "daemon's user may use or remove it",
			    log_safe(name, 100));
		else
			snprintf(text, sizeof text, "durable subscription "
			    "\"%s\" belongs to uid %lld; only it, root or the "
			    "daemon's user may use or remove it",
			    log_safe(name, 100), (long long)owner);
		log_info("durable subscription %s: refused to uid %lu "
		    "(owner %lld)", log_safe(name, 100), (unsigned long)uid,
		    (long long)owner);
		ipc_client_reply_error(cl, reqid, AMPSIPC_E_NOT_PERMITTED,
		    text);
		return (0);
	}
	return (1);
}
