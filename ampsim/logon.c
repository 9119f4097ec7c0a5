/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * logon.c: the logon command (§4.1), client-name rules (§4.1.4) and the
 * server side of heartbeats (§14.2).
 *
 * Invariants:
 *  1. A session reaches READY only through a successful logon; a second
 *     logon on a READY session is refused and changes nothing.
 *  2. Name in use: same user -> the old connection is dropped ("name in
 *     use") and the new one proceeds; different user -> the new logon
 *     fails with "name in use".
 *  3. The logon ack's `s` is the highest sequence ever accepted from this
 *     client name (kept in the transaction log, so it survives restarts);
 *     `bm` is "<namehash>|<s>|".
 *  4. Heartbeat timers exist only while the client has started them; the
 *     watchdog is k*N seconds (conf.hb_multiple) and any inbound frame
 *     re-arms it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsim.h"

/* Highest sequence accepted from publisher hash h. */
uint64_t
names_last_seq(uint64_t h)
{
	return (txlog_pub_max(h));
}

/* Extra fields of the logon ack. */
struct logon_extra {
	struct sess	*s;
	uint64_t	 seq;
	const char	*retry_user;
	const char	*retry_pw;
};

/* Write s, bm, client_name, version (and retry credentials). */
static void
logon_extra_cb(struct amps_wr *w, void *arg)
{
	struct logon_extra	*e = arg;
	char			 bm[48];

	if (e->retry_pw != NULL) {
		if (e->retry_user != NULL)
			amps_wr_cstr(w, AMPS_F_USER_ID, e->retry_user);
		amps_wr_cstr(w, AMPS_F_PW, e->retry_pw);
		return;
	}
	wr_num(w, AMPS_F_S, e->seq);
	amps_bm_format(bm, sizeof bm, e->s->namehash, e->seq);
	amps_wr_cstr(w, AMPS_F_BM, bm);
	amps_wr_cstr(w, AMPS_F_CLIENT_NAME, e->s->name);
	amps_wr_cstr(w, AMPS_F_VERSION, AMPSIM_VERSION);
}

/* Compare two possibly-NULL strings. */
static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Handle logon. */
void
logon_cmd(struct sess *s, struct cmd *c)
{
	struct logon_extra	 e;
	struct sess		*old;
	char			 token[64], challenge[64], val[32], esc[128];
	long long		 ms;

	if (s->state == SESS_READY) {
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
		    "already logged on");
		return;
	}
	memset(&e, 0, sizeof e);
	e.s = s;

	/* Authentication (optional). */
	if (conf.auth_user != NULL) {
		if (!same_str(c->user_id, conf.auth_user) ||
		    (s->retries == 0 && !same_str(c->pw, conf.auth_pw))) {
			sim_log(LOG_INFO, "logon: %s: auth failure for user %s",
			    s->label, c->user_id ? sim_escape_log(c->user_id,
			    strlen(c->user_id), esc, sizeof esc) : "(none)");
			ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
			    "auth failure");
			sess_close_after_flush(s, "auth failure");
			return;
		}
	}
	/* Challenge/response rounds (§4.1.3 retry). */
	if (s->retries > 0) {
		snprintf(token, sizeof token, "ampsim-token-%u", s->retries);
		if (!same_str(c->pw, token)) {
			ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
			    "auth failure");
			sess_close_after_flush(s, "retry token mismatch");
			return;
		}
	}
	if (s->retries < conf.logon_retry) {
		s->retries++;
		snprintf(challenge, sizeof challenge, "ampsim-challenge-%u",
		    s->retries);
		snprintf(token, sizeof token, "ampsim-token-%u", s->retries);
		e.retry_user = c->user_id;
		e.retry_pw = token;
		sess_set_state(s, SESS_LOGON_RETRY);
		ack_send_ex(s, c, AMPS_ACK_PROCESSED, "retry", challenge,
		    logon_extra_cb, &e);
		return;
	}

	/* Client name. */
	free(s->name);
	if (c->client_name != NULL && c->client_name[0] != '\0')
		s->name = xstrdup(c->client_name);
	else {
		snprintf(token, sizeof token, "ampsim-anonymous-%llu",
		    (unsigned long long)s->id);
		s->name = xstrdup(token);
	}
	free(s->user);
	s->user = c->user_id ? xstrdup(c->user_id) : NULL;
	if ((old = sess_find_name(s->name)) != NULL && old != s) {
		if (!same_str(old->user, s->user)) {
			sim_log(LOG_INFO, "logon: %s: name %s in use by %s",
			    s->label, s->name, old->label);
			ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
			    "name in use");
			free(s->name);
			s->name = NULL;
			sess_close_after_flush(s, "name in use");
			return;
		}
		sess_kill(old, "name in use (replaced by %s)", s->label);
	}
	s->namehash = amps_name_hash(s->name, strlen(s->name));
	snprintf(s->label, sizeof s->label, "conn %llu (%s, %s)",
	    (unsigned long long)s->id, sim_escape_log(s->name,
	    strlen(s->name), esc, 64), s->peer);

	/* Logon options. */
	if (cmd_opt(c, "ack_conflation", val, sizeof val)) {
		ms = sim_parse_interval_ms(val, strlen(val));
		if (ms < 0) {
			ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
			    "invalid options");
			sess_close_after_flush(s, "bad ack_conflation");
			return;
		}
		s->ack_conflation_ms = (unsigned)ms;
	}
	e.seq = names_last_seq(s->namehash);
	sess_set_state(s, SESS_READY);
	sim_log(LOG_INFO, "logon: %s: logged on, last seq %llu, "
	    "ack conflation %ums", s->label, (unsigned long long)e.seq,
	    s->ack_conflation_ms);
	ack_send_ex(s, c, AMPS_ACK_PROCESSED, "success",
	    conf.auth_user == NULL && !conf.no_logon_reason ?
	    "authentication disabled" : NULL, logon_extra_cb, &e);
}

struct hb_counts	hb_counts;

/*
 * Heartbeat timer (fd != -1 or ev != 0) or the answer to a beat: send
 * {"c":"heartbeat"} unless the fault stops it.
 */
static void
hb_send_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sess	*s = arg;
	struct amps_wr	 w;
	char		 buf[64];
	long long	 n;

	if (faults.no_heartbeats)
		return;
	if (ev != 0)
		hb_counts.timer++;
	else
		hb_counts.answers++;
	amps_wr_begin(&w, buf, sizeof buf);
	amps_wr_cstr(&w, AMPS_F_C, "heartbeat");
	n = amps_wr_finish(&w, NULL, 0);
	if (n > 0 && (size_t)n <= sizeof buf)
		sess_send(s, buf, (size_t)n);
}

/* Watchdog expired: nothing heard for k*N seconds. */
static void
hb_watchdog_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sess	*s = arg;

	sess_kill(s, "heartbeat: nothing received for %u s",
	    s->hb_interval * conf.hb_multiple);
}

/* Any inbound frame: re-arm the watchdog. */
void
hb_activity(struct sess *s)
{
	struct timeval	tv;

	if (s->ev_watchdog == NULL)
		return;
	tv.tv_sec = (time_t)s->hb_interval * conf.hb_multiple;
	tv.tv_usec = 0;
	event_add(s->ev_watchdog, &tv);
}

/* Cancel heartbeat timers. */
void
hb_stop(struct sess *s)
{
	if (s->ev_hb != NULL)
		event_free(s->ev_hb);
	if (s->ev_watchdog != NULL)
		event_free(s->ev_watchdog);
	s->ev_hb = s->ev_watchdog = NULL;
	s->hb_interval = 0;
}

/* Handle heartbeat: start,N / beat / stop (in `o` or legacy header). */
void
heartbeat_cmd(struct sess *s, struct cmd *c)
{
	struct amps_list_iter	 it;
	struct timeval		 tv;
	const char		*src, *item;
	size_t			 ilen;
	char			 word[16], num[16];
	unsigned long		 n;

	src = c->opts;
	if (src == NULL && amps_hdr_has(&c->h, AMPS_F_HEARTBEAT)) {
		const struct amps_view *v = amps_hdr_view(&c->h,
		    AMPS_F_HEARTBEAT);
		snprintf(word, sizeof word, "%.*s", (int)v->len, v->p);
		src = word;
	}
	if (src == NULL) {
		ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
		    "invalid options");
		return;
	}
	amps_list_begin(&it, src, strlen(src));
	if (amps_list_next(&it, &item, &ilen) != 1)
		ilen = 0;
	if (ilen == 5 && strncmp(item, "start", 5) == 0) {
		n = 0;
		if (amps_list_next(&it, &item, &ilen) == 1 && ilen > 0 &&
		    ilen < sizeof num) {
			memcpy(num, item, ilen);
			num[ilen] = '\0';
			n = strtoul(num, NULL, 10);
		}
		if (n == 0 && amps_hdr_has(&c->h, AMPS_F_TIMEOUT_INTERVAL)) {
			uint64_t ti;
			if (amps_hdr_u64(&c->h, AMPS_F_TIMEOUT_INTERVAL,
			    &ti) == 0)
				n = (unsigned long)ti;
		}
		if (n == 0 || n > 86400) {
			if (c->acks & AMPS_ACK_PROCESSED)
				ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
				    "invalid options");
			return;
		}
		hb_stop(s);
		s->hb_interval = (unsigned)n;
		s->ev_hb = event_new(sim_base, -1, EV_PERSIST, hb_send_cb, s);
		s->ev_watchdog = event_new(sim_base, -1, 0, hb_watchdog_cb, s);
		tv.tv_sec = (time_t)n;
		tv.tv_usec = 0;
		event_add(s->ev_hb, &tv);
		hb_activity(s);
		sim_log(LOG_DEBUG, "heartbeat: %s: started, %lu s", s->label,
		    n);
	} else if (ilen == 4 && strncmp(item, "beat", 4) == 0) {
		/* The watchdog was fed in the dispatcher.  A server may
		 * answer a beat (PROTOCOL.md §14): --answer-beats does. */
		hb_counts.beats++;
		if (faults.answer_beats && s->hb_interval != 0)
			hb_send_cb(-1, 0, s);
	} else if (ilen == 4 && strncmp(item, "stop", 4) == 0) {
		hb_stop(s);
	} else {
		if (c->acks & AMPS_ACK_PROCESSED)
			ack_send(s, c, AMPS_ACK_PROCESSED, "failure",
			    "invalid options");
		return;
	}
	if (c->acks & AMPS_ACK_PROCESSED)
		ack_send(s, c, AMPS_ACK_PROCESSED, "success", NULL);
}
