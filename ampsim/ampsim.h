/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsim: an AMPS-compatible message server for the tests and the quick
 * start.  One internal header with a section per file.  The wire facts
 * are in docs/PROTOCOL.md (section numbers "§n" below refer to it).
 *
 *   ampsim.c    main: options, event loop, signals, shutdown
 *   passtime.c  runs the loop; AMPSIM_SLOW_PASS_US times its passes
 *   simconf.c   configuration: defaults, config file, topic lookup
 *   simutil.c   logging, growable buffers, clock helpers
 *   listener.c  TCP / TLS / unix listeners, accept
 *   session.c   one client connection: read loop, ordered output queue,
 *               slow-client limit, state machine, command dispatch
 *   logon.c     logon (§4.1), name table, heartbeats (§14)
 *   publish.c   publish / delta_publish / sow_delete sequencing,
 *               duplicate detection, persisted acks (§6.6, §7)
 *   txlog.c     the transaction log (a file), bookmarks, replay index (§8)
 *   bmindex.c   its bookmark index: per publisher, sorted blocks (pure)
 *   subs.c      subscriptions, fan-out, conflation, pagination (§4.5)
 *   subindex.c  all subscriptions, indexed by literal topic for fan-out
 *   replay.c    bookmark subscriptions: replay, ranges, rates (§8.4)
 *   sowcmd.c    sow, sow_and_subscribe, history, expiry (§9) over sowstore
 *   sowdelete.c sow_delete in its forms (§4.10)
 *   queuecmd.c  queues (§10) over queuestore
 *   admin.c     fault injection (§17.3) and the admin control channel
 *   replica.c   the replicated pair (--repl-port, --peer, --repl-sync)
 */

#ifndef AMPSIM_H
#define AMPSIM_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "amps.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#define AMPSIM_VERSION		"5.3.5.0.ampsim"

struct sess;
struct sub;
struct simtopic;
struct simqueue;
struct filter;
struct topicmatch;
struct jdoc_select;
struct jdoc_orderby;

/* ------------------------------------------------------------ simutil.c */

#define LOG_ERR		0
#define LOG_WARN	1
#define LOG_INFO	2
#define LOG_DEBUG	3

void	 sim_log(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 sim_fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
extern int sim_verbose;

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*sim_escape_log(const char *, size_t, char *, size_t);

uint64_t sim_mono_ms(void);
int64_t	 sim_wall_usec(void);

/* A growable byte buffer. */
struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};
void	 sbuf_reserve(struct sbuf *, size_t);
void	 sbuf_add(struct sbuf *, const void *, size_t);
void	 sbuf_free(struct sbuf *);

/*
 * A header buffer: on the stack when small, else on the heap.  Size it
 * with HBUF_NEED: JSON escaping at most sextuples a string (\u00XX).
 */
struct hbuf {
	char	*p;
	size_t	 cap;
	char	 stack[2048];
};
#define HBUF_NEED(strlens)	(512 + 6 * (size_t)(strlens))
char	*hbuf_get(struct hbuf *, size_t);
void	 hbuf_free(struct hbuf *);
size_t	 slen(const char *);


/* Parse "250ms", "1s", "2m", "1000" (ms) into milliseconds; -1 on error. */
long long sim_parse_interval_ms(const char *, size_t);

/* ------------------------------------------------------------ simconf.c */

enum qsem { QSEM_AT_LEAST_ONCE, QSEM_AT_MOST_ONCE };

/* A configured SOW topic. */
struct simtopic {
	TAILQ_ENTRY(simtopic)	 entry;
	char			*name;
	char			**keys;		/* key paths, e.g. "/id" */
	size_t			 nkeys;
	int			 user_keys;	/* keys come in `k` */
	int			 expiration;	/* honour `e` */
	int			 history;	/* historical queries (§9.6) */
	void			*store;		/* struct sowstore * */
};

/* A transaction-logged topic pattern. */
struct simtxpat {
	TAILQ_ENTRY(simtxpat)	 entry;
	char			*pattern;
	struct topicmatch	*tm;
};

/* A configured queue. */
struct simqueue {
	TAILQ_ENTRY(simqueue)	 entry;
	char			*name;
	char			**topics;	/* underlying topics */
	size_t			 ntopics;
	enum qsem		 sem;
	unsigned		 lease_ms;
	unsigned		 max_backlog;
	unsigned		 max_deliveries;	/* 0 = unlimited */
	unsigned		 max_cancels;		/* 0 = unlimited */
	void			*store;		/* struct queuestore * */
	uint64_t		 rr;		/* round-robin cursor */
};

enum dupack { DUPACK_SUCCESS, DUPACK_FAILURE };
enum bmnf { BMNF_NOW, BMNF_EPOCH, BMNF_FAIL };

struct simconf {
	/* Listeners. */
	char		*addr;
	int		 port;		/* -1: no TCP listener */
	char		*port_file;
	char		*unix_path;
	int		 tls_port;	/* -1: none */
	char		*tls_cert;
	char		*tls_key;
	char		*admin_path;	/* unix admin socket */
	int		 admin_port;	/* -1: none */

	/* Storage. */
	char		*dir;		/* transaction log directory or NULL */
	int		 fsync;		/* 0 never, 1 on every flush */
	unsigned	 fsync_interval_ms;	/* >0: fsync on a timer */
	char		*config_file;

	/* Behaviour. */
	unsigned	 ack_conflation_ms;	/* 0: immediate acks with cid */
	unsigned	 hb_multiple;
	size_t		 out_limit;	/* bytes queued before disconnect */
	char		*auth_user;	/* require user_id/pw */
	char		*auth_pw;
	unsigned	 logon_retry;	/* retry rounds before success */
	enum dupack	 dupack;
	int		 sids;		/* deliver with sids */
	enum bmnf	 bmnf_default;
	unsigned	 bm_persisted_ms;	/* bookmark sub persisted acks */
	int		 logon_required_close;	/* close instead of failure ack */
	int		 no_logon_reason;	/* omit "authentication disabled" */
	uint32_t	 frame_max;
	char		*instance;	/* name for the server publisher id */
	char		*peer;		/* replication peer host:port */
	int		 repl_port;	/* replication listener, -1 = off */
	int		 repl_sync;	/* persisted acks wait for the peer */

	/* Topics. */
	TAILQ_HEAD(, simtopic)	 topics;
	TAILQ_HEAD(, simtxpat)	 txpats;
	TAILQ_HEAD(, simqueue)	 queues;
};

extern struct simconf	 conf;

void		 conf_init(void);
int		 conf_load_file(const char *, char *, size_t);
void		 conf_load_defaults(void);
int		 conf_add_line(const char *, char *, size_t);
struct simtopic	*conf_sow_topic(const char *, size_t);
struct simqueue	*conf_queue(const char *, size_t);
int		 conf_txlogged(const char *, size_t);
void		 conf_dump(void);

/* ------------------------------------------------------------- ampsim.c */

extern struct event_base *sim_base;
/* Event priorities: everything runs at the default, SIM_PRIO_NORMAL;
 * SIM_PRIO_IDLE runs only when nothing else is active (txlog_idle_cb). */
#define SIM_NPRIO		3
#define SIM_PRIO_NORMAL		1	/* libevent's default: SIM_NPRIO / 2 */
#define SIM_PRIO_IDLE		2
extern uint64_t		  sim_pubid;	/* server publisher id */

/* ----------------------------------------------------------- passtime.c */

/* Frames dispatched / queued since start (session.c counts them). */
extern uint64_t		  sim_frames_in;
extern uint64_t		  sim_frames_out;
/* Run the loop; AMPSIM_SLOW_PASS_US=N times its passes. */
void	 passtime_run(struct event_base *);

/* ----------------------------------------------------------- listener.c */

int	 listener_start(char *, size_t);
void	 listener_stop(void);


/* ------------------------------------------------------------ session.c */

#define SESS_STATES(X)		\
	X(NEW)			\
	X(LOGON_RETRY)		\
	X(READY)		\
	X(CLOSING)		\
	X(DEAD)
#define SESS_STATE_ENUM(e)	SESS_##e,
enum sess_state { SESS_STATES(SESS_STATE_ENUM) };
#undef SESS_STATE_ENUM

enum sess_kind { SESS_TCP, SESS_UNIX, SESS_TLS };

struct sess {
	TAILQ_ENTRY(sess)	 entry;
	uint64_t		 id;
	int			 fd;
	enum sess_kind		 kind;
	SSL			*ssl;
	enum sess_state		 state;
	char			 peer[64];
	char			 label[128];	/* for logs */

	struct event		*ev_read;
	struct event		*ev_write;
	int			 write_armed;
	struct event		*ev_batch;	/* write_batch fault timer */
	struct amps_reader	 rd;
	struct sbuf		 out;
	size_t			 out_off;
	uint64_t		 frames_in;
	uint64_t		 frames_out;

	/* Logon. */
	char			*name;
	uint64_t		 namehash;
	char			*user;
	unsigned		 retries;

	/* Heartbeats (§14.2). */
	unsigned		 hb_interval;	/* seconds, 0 = off */
	struct event		*ev_hb;
	struct event		*ev_watchdog;

	/* Persisted ack conflation (§6.6). */
	unsigned		 ack_conflation_ms;
	int			 pa_have;
	uint64_t		 pa_seq;
	struct event		*ev_pa;

	/* Subscriptions owned by this connection. */
	TAILQ_HEAD(, sub)	 subs;
};

TAILQ_HEAD(sesslist, sess);
extern struct sesslist	 sessions;

struct sess	*sess_create(int, enum sess_kind, SSL *, const char *);
void		 sess_set_state(struct sess *, enum sess_state);
void		 sess_kill(struct sess *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 sess_send(struct sess *, const char *, size_t);
void		 sess_send_wr(struct sess *, struct amps_wr *,
		    const void *, size_t);
struct sess	*sess_find_name(const char *);
struct sess	*sess_find_id(uint64_t);
void		 sess_close_after_flush(struct sess *, const char *);
void		 sess_close_all(void);
const char	*sess_state_name(enum sess_state);

/*
 * A decoded inbound command, valid during its dispatch only.  Strings are
 * unescaped copies (NUL-terminated) or NULL when absent.
 */
struct cmd {
	struct amps_hdr	 h;
	enum amps_cmd	 c;
	const char	*cname;		/* command name as sent */
	const char	*payload;
	size_t		 plen;
	unsigned	 acks;		/* requested AMPS_ACK_* */
	char		*cid;
	char		*topic;
	char		*filter;
	char		*opts;
	char		*sub_id;
	char		*query_id;
	char		*bm;
	char		*x;
	char		*k;
	char		*sow_keys;
	char		*orderby;
	char		*client_name;
	char		*user_id;
	char		*pw;
	int		 has_seq;
	uint64_t	 seq;
	int		 has_bs;
	uint64_t	 bs;
	int		 has_top_n;
	uint64_t	 top_n;
	int		 has_e;
	uint64_t	 e;
	const char	*forced;	/* fault: fail with this reason */
};

/* Send an ack: type bit, status, reason (may be NULL); cid from cmd. */
void	 ack_send(struct sess *, const struct cmd *, unsigned,
	    const char *, const char *);
/* Ack with extra fields written by a callback. */
typedef void (*ack_extra_fn)(struct amps_wr *, void *);
void	 ack_send_ex(struct sess *, const struct cmd *, unsigned,
	    const char *, const char *, ack_extra_fn, void *);
/* Whether an option is present in the command's options. */
int	 cmd_opt(const struct cmd *, const char *, char *, size_t);
/* Write a number field honouring the "quote numbers" fault. */
void	 wr_num(struct amps_wr *, enum amps_field, uint64_t);

/* -------------------------------------------------------------- logon.c */

void	 logon_cmd(struct sess *, struct cmd *);
void	 heartbeat_cmd(struct sess *, struct cmd *);
void	 hb_activity(struct sess *);
void	 hb_stop(struct sess *);
/* Heartbeat counters since start (admin "stats"). */
struct hb_counts {
	uint64_t	 timer;		/* heartbeats sent by the interval timer */
	uint64_t	 answers;	/* heartbeats sent to answer a beat */
	uint64_t	 beats;		/* beats received from clients */
};
extern struct hb_counts hb_counts;
/* Highest sequence accepted from a publisher hash (0 if none). */
uint64_t names_last_seq(uint64_t);

/* ------------------------------------------------------------ publish.c */

void	 publish_cmd(struct sess *, struct cmd *);
long long publish_apply(struct cmd *, int, uint64_t, uint64_t, int,
	    const char **);
/* Persisted-ack bookkeeping for state-changing commands (publish family). */
void	 pack_success(struct sess *, const struct cmd *);
void	 pack_failure(struct sess *, const struct cmd *, const char *);
void	 pack_flush(struct sess *);
void	 flush_cmd(struct sess *, struct cmd *);
/* Assign (pub, seq) for a state-changing command; 1 = duplicate. */
int	 publish_identity(struct sess *, const struct cmd *, uint64_t *,
	    uint64_t *);

/* -------------------------------------------------------------- txlog.c */

/*
 * A view of one logged message, read back from the log (txlog_get()):
 * valid until the next txlog_get().
 */
struct txrec {
	uint64_t	 pub;
	uint64_t	 seq;
	int64_t		 ts;		/* wall clock, usec */
	uint8_t		 type;		/* TXREC_* */
	uint8_t		 logged;	/* topic is transaction-logged */
	uint8_t		 from_peer;	/* received by replication (memory) */
	const char	*topic;		/* "" when none */
	const char	*x;		/* NULL when none */
	const char	*k;		/* NULL when none */
	const char	*data;		/* NUL after dlen bytes */
	size_t		 dlen;
};
/*
 * The largest --frame-max: a log record's u32 length covers its fixed
 * part plus the frame's topic, x, k and data, which together are never
 * longer than the frame, so any accepted publish fits the log.
 */
#define TXLOG_FRAME_MAX	(0xffffffffLL - 256 * 1024)
#define TXREC_PUBLISH	1
#define TXREC_DELETE	2
#define TXREC_SEQ	3	/* sequence only (topic not logged) */

int		 txlog_open(const char *, char *, size_t);
void		 txlog_close(void);
/* Append; returns the record index. */
size_t		 txlog_append(uint8_t, uint64_t, uint64_t, const char *,
		    const char *, const char *, const char *, size_t, int);
void		 txlog_flush(void);
size_t		 txlog_count(void);
void		 txlog_mark_peer(size_t);
int		 txlog_from_peer(size_t);
void		 txlog_start_timer(void);
const struct txrec *txlog_get(size_t);
/* Index of the record with bookmark (pub, seq), or -1. */
long long	 txlog_find(uint64_t, uint64_t);
/* First index with ts >= usec. */
size_t		 txlog_find_ts(int64_t);
/* Highest seq recorded for a publisher (0 if none). */
uint64_t	 txlog_pub_max(uint64_t);
int		 txlog_bm(const struct txrec *, char *, size_t);
/* Replay callback on startup (e.g. to rebuild the SOW). */
typedef void (*txlog_load_fn)(const struct txrec *);
void		 txlog_each(txlog_load_fn);

/* --------------------------------------------------------------- subs.c */

struct sub {
	TAILQ_ENTRY(sub)	 sentry;	/* in sess->subs */
	TAILQ_ENTRY(sub)	 gentry;	/* in all_subs */
	TAILQ_ENTRY(sub)	 ientry;	/* in its index list */
	struct subtopic		*itopic;	/* that list's topic, or NULL */
	uint64_t		 order;		/* place in all_subs */
	int			 linked;	/* in all_subs */
	struct sess		*s;
	char			*sub_id;
	char			*cid;
	char			*topic;
	struct topicmatch	*tm;
	struct filter		*flt;
	enum amps_cmd		 cmd;
	int			 delta;
	int			 oof;
	int			 paused;
	int			 timestamp;
	int			 no_empties;
	int			 no_sowkey;
	int			 bm_opt;	/* option `bookmark` */
	struct jdoc_select	*sel;
	unsigned		 acks;

	/* Bookmark (replay) subscription. */
	int			 bm_sub;
	int			 fully_durable;	/* only durable records, §8.4 */
	int			 replaying;
	size_t			 replay_pos;	/* next txlog index */
	size_t			 replay_end;	/* completed at this index */
	uint64_t		 top_n;		/* 0 = unlimited */
	uint64_t		 sent;
	double			 rate;		/* msgs/s, 0 = unlimited */
	double			 rate_bytes;	/* bytes/s (rate=NKB) */
	double			 rate_x;	/* multiple of the original */
	unsigned		 rate_max_gap_ms;
	uint64_t		 x_t0;		/* mono ms when pacing began */
	int64_t			 x_ts0;		/* log time at x_t0 */
	double			 bytes_credit;	/* rate=NKB allowance */
	uint64_t		 bytes_t;	/* mono ms of the last refill */
	double			 msg_credit;	/* rate=N allowance */
	uint64_t		 msg_t;		/* mono ms of the last refill */
	struct event		*ev_replay;
	struct event		*ev_persisted;

	/* Paginated sow_and_subscribe (§9.4): the window's keys. */
	int			 paged;
	struct simtopic		*page_st;
	struct jdoc_orderby	*page_ob;
	size_t			 page_top;
	size_t			 page_skip;
	json_t			*page_keys;	/* key -> true */

	/* Ranges (§8.3) and queue replays. */
	int			 range;
	int			 ended;		/* range complete */
	size_t			 rend_idx;	/* stop before, or -1 */
	int64_t			 rend_ts;	/* stop after/at, 0 = none */
	int			 rend_incl;
	int			 rend_known;
	struct simqueue		*replay_q;

	/* Conflation. */
	unsigned		 conf_ms;
	struct event		*ev_conf;
	json_t			*conf_pending;	/* key -> [topic, k, data, bm,
						   x, ts, oof reason] */
	json_t			*conf_sent;	/* k -> data last delivered */
	char			**conf_keys;
	size_t			 nconf_keys;

	/* Queue subscription. */
	struct simqueue		*q;
	uint64_t		 qid;
	unsigned		 backlog;
	unsigned		 leased;
};

TAILQ_HEAD(sublist, sub);
extern struct sublist	 all_subs;

/* subindex.c: all_subs and its index by topic for the fan-out. */
struct subtopic;
struct subindex_iter {
	struct sub	*a;		/* the topic's list */
	struct sub	*b;		/* the wild list */
};
void		 subindex_link(struct sub *);
void		 subindex_unlink(struct sub *);
void		 subindex_refile(struct sub *);
void		 subindex_begin(struct subindex_iter *, const char *);
struct sub	*subindex_next(struct subindex_iter *);

/* A message being fanned out. */
struct msg {
	const char		*topic;
	const char		*data;
	size_t			 dlen;
	const char		*x;
	const char		*k;		/* SowKey or NULL */
	char			 bm[48];	/* bookmark or "" */
	int64_t			 ts;
	json_t			*doc;		/* parsed lazily */
	int			 doc_tried;
	int			 doc_owned;	/* doc is ours to decref */
	/* SOW context for OOF and delta subscribers. */
	const json_t		*old_doc;	/* previous record or NULL */
	const struct simtopic	*st;
	int			 sow_deleted;	/* record removed */
	const char		*oof_reason;
	const char		*old_data;
	size_t			 old_dlen;
};

json_t	*msg_doc(struct msg *);
void	 subscribe_cmd(struct sess *, struct cmd *);
void	 unsubscribe_cmd(struct sess *, struct cmd *);
/* Create a subscription from a command; NULL and a failure ack sent. */
struct sub *sub_create(struct sess *, struct cmd *, int);
void	 sub_free(struct sub *);
struct sub *sub_find(struct sess *, const char *);
void	 subs_fanout(struct msg *);
void	 subs_sess_closed(struct sess *);
void	 sub_deliver(struct sub *, struct msg *, const char *);
void	 sub_deliver_queue(struct sub *, struct msg *, const char *,
	    const char *);
void	 sub_oof(struct sub *, struct msg *, const char *, const char *,
	    size_t);
void	 subs_oof_removed(struct msg *, const char *);
/* Start a paginated subscription's window (after its query ran). */
void	 sub_page_init(struct sub *);

/* ------------------------------------------------------------- replay.c */

/* Extras for subscription acks: sub_id, bm, o (each may be NULL). */
struct sub_ack_extra {
	const char	*sub_id;
	const char	*bm;
	const char	*o;
};
void	 sub_ack_extra_cb(struct amps_wr *, void *);
int	 sub_start_bookmark(struct sess *, struct cmd *, struct sub *);
void	 sub_replay_schedule(struct sub *, int);
int	 replay_parse_rate(struct sub *, const char *);
/* New durable log records: wake fully_durable subscriptions. */
void	 replay_durable_kick(void);
/* A bookmark (single or list) as a log position; < 0 with *reason. */
long long bm_resolve(const char *, enum bmnf, const char **);
int	 sub_range_live_over(struct sub *, int64_t);

/* ------------------------------------------------------------- sowcmd.c */

void	 sow_init(void);
void	 sow_cmd(struct sess *, struct cmd *);
void	 sow_and_subscribe_cmd(struct sess *, struct cmd *);
void	 sow_delete_cmd(struct sess *, struct cmd *);
struct sow_record;
/*
 * Apply a publish / delta_publish to the SOW of st with bookmark bm.  On
 * success returns 0 with referenced records *cur and *prev (prev NULL on
 * insert); on failure -1 and *reason.
 */
int	 sow_publish(struct simtopic *, const struct cmd *, int,
	    const char *, struct sow_record **, struct sow_record **,
	    const char **);
void	 sow_load_txrec(const struct txrec *);
char	**keys_split(const char *, size_t *);
void	 keys_free(char **, size_t);
struct sow_stats;
/* Extras of completed / stats acks (query_id, sub_id, statistics). */
struct qack_extra {
	const char		*qid;
	const char		*sub_id;
	const struct sow_stats	*st;
	int			 deleted;
};
void	 qack_extra_cb(struct amps_wr *, void *);

/* ----------------------------------------------------------- queuecmd.c */

void	 queue_init(void);
int	 queue_subscribe(struct sess *, struct cmd *, struct sub *,
	    struct sub *);
void	 queue_publish(struct msg *);
int	 queue_is_underlying(const char *);
int	 queue_feeds_topic(const struct simqueue *, const char *);
void	 queue_dispatch_all(struct simqueue *);
void	 queue_sow(struct sess *, struct cmd *, struct simqueue *);
int	 queue_ack_cmd(struct sess *, struct cmd *, struct simqueue *);
void	 queue_ack_stats(char *, size_t);
void	 queue_sub_gone(struct sub *);

/* ------------------------------------------------------------ replica.c */

int	 repl_start(char *, size_t);
void	 repl_stop(void);
/* Push new log records to the peer (call after processing input). */
void	 repl_kick(void);
/* Synchronous replication: hold the persisted ack; 1 if held. */
int	 repl_defer_ack(struct sess *, const struct cmd *, size_t);
int	 repl_defer_flush(struct sess *, const struct cmd *);
/* Set the peer at run time ("host:port"). */
int	 repl_set_peer(const char *, char *, size_t);
int	 repl_bound_port(void);
/* Log records durable everywhere they must be (local, and the peer). */
size_t	 repl_durable_count(void);
void	 sow_deleted_keys(const char *, const char *, uint64_t, uint64_t);

/* -------------------------------------------------------------- admin.c */

struct faults {
	uint64_t	 drop_after_frames;	/* 0: off */
	char		*drop_on_cmd;		/* command name */
	int		 no_heartbeats;
	int		 ignore_beats;
	int		 answer_beats;		/* heartbeat for every beat */
	unsigned	 deny_acks;		/* AMPS_ACK_* never sent */
	unsigned	 delay_acks;		/* AMPS_ACK_* delayed */
	unsigned	 delay_ms;
	char		*fail_cmd;		/* next command with this name */
	char		*fail_reason;
	int		 write_bytewise;
	unsigned	 write_batch;		/* frames per write */
	int		 quote_numbers;
	int		 bm_not_found;
	int		 acks_paused;
};
extern struct faults	 faults;

int	 admin_start(char *, size_t);
int	 admin_bound_port(void);
void	 admin_stop(void);
/* Apply "name=value" (command line --fault or admin "fault"). */
int	 faults_set(const char *, char *, size_t);
/* True (and consumes it) if the next command c must fail. */
const char *faults_take_failure(const char *);
/* Hold an ack frame while acks are paused. */
void	 admin_hold_ack(uint64_t, const char *, size_t);

#endif /* AMPSIM_H */
