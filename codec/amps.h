/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The AMPS wire codec: a pure library (no I/O, no libevent, no global
 * state) shared by ampsd, ampsim, the tests and the fuzzers.  The wire
 * facts it relies on are in docs/PROTOCOL.md; section numbers (§n) below
 * refer to it.
 *
 *   amps-frame.c     4-byte big-endian length prefix, streaming reader (§2.1)
 *   amps-header.c    flat JSON header: field dictionary, parser, writer (§2.2, §3)
 *   amps-sow.c       SOW batch splitter (§2.4)
 *   amps-uri.c       connection strings (§1.1)
 *   amps-bookmark.c  bookmarks, timestamps, comma lists, client-name hash (§8)
 *   amps-options.c   options splitter (§13), ack-type lists (§6.1)
 *
 * Conventions:
 *   - Functions that can fail return 0 (or a count) on success and a
 *     negative AMPS_E_* code on failure; amps_strerror() names it.
 *   - Parsed values are views into the caller's buffer (struct amps_view);
 *     they are valid while that buffer is.  Nothing on the parse hot path
 *     allocates.
 *   - Every length from the wire is checked before use.
 */

#ifndef AMPS_H
#define AMPS_H

#include <stddef.h>
#include <stdint.h>

/* Errors. */
#define AMPS_E_TRUNCATED	-1	/* input ended inside a token */
#define AMPS_E_SYNTAX		-2	/* not the reduced JSON of §2.2 */
#define AMPS_E_NOT_OBJECT	-3	/* header does not start with '{' */
#define AMPS_E_ESCAPE		-4	/* bad backslash escape or \u sequence */
#define AMPS_E_TOOBIG		-5	/* length prefix above the maximum */
#define AMPS_E_RANGE		-6	/* number missing, not a number, or overflow */
#define AMPS_E_NOSPACE		-7	/* output buffer too small */
#define AMPS_E_URI		-8	/* InvalidURI */
#define AMPS_E_TRANSPORT_OPT	-9	/* InvalidTransportOptions */
#define AMPS_E_TRANSPORT_TYPE	-10	/* TransportType (unknown scheme) */
#define AMPS_E_SOW_RECORD	-11	/* SOW record without l, or l beyond frame */
#define AMPS_E_ABSENT		-12	/* field not present */
#define AMPS_E_BOOKMARK		-13	/* not a bookmark of the requested form */
#define AMPS_E_OPTIONS		-14	/* unbalanced brackets in an options string */
#define AMPS_E_ACKTYPE		-15	/* unknown ack type name */

const char	*amps_strerror(int);

/* Default maximum frame length (PROTOCOL.md §1.4: 200 MB + header slack). */
#define AMPS_FRAME_MAX_DEFAULT	(200u * 1024 * 1024 + 64 * 1024)

/* A view into a buffer.  esc is set when the raw JSON string held a '\'. */
struct amps_view {
	const char	*p;
	uint32_t	 len;
	uint8_t		 esc;
	uint8_t		 quoted;	/* value was a JSON string */
};

/* ---------------------------------------------------------------- frames */

/*
 * amps_frame_next: find the next frame in buf[0..len).
 *
 * Returns 1 and sets *body and *body_len (the bytes after the prefix) and
 * *consumed (prefix + body) when a whole frame is there; 0 when more bytes
 * are needed (*consumed may still be > 0: zero-length frames are skipped and
 * must be dropped by the caller); AMPS_E_TOOBIG when the prefix exceeds max.
 */
int	amps_frame_next(const char *buf, size_t len, uint32_t max,
	    const char **body, uint32_t *body_len, size_t *consumed);

/* Write a 4-byte big-endian prefix for a body of len bytes. */
void	amps_frame_put_len(char *out4, uint32_t len);

/*
 * A streaming reader with its own growable buffer, for a socket loop:
 *
 *	amps_reader_space(r, want, &p, &n); n = read(fd, p, n);
 *	amps_reader_commit(r, n);
 *	while ((rc = amps_reader_next(r, &body, &blen)) == 1) ...;
 *	if (rc < 0) ... close the connection ...
 *
 * Frames returned by amps_reader_next stay valid until the next call of
 * amps_reader_space (which may move or compact the buffer).
 */
struct amps_reader {
	char		*buf;
	size_t		 cap;
	size_t		 start;		/* first unconsumed byte */
	size_t		 end;		/* one past the last byte read */
	uint32_t	 max;		/* maximum body length */
	int		 error;		/* sticky AMPS_E_* once failed */
};

void	amps_reader_init(struct amps_reader *, uint32_t max);
void	amps_reader_free(struct amps_reader *);
/* Make room for at least want bytes; returns 0 or -1 (ENOMEM). */
int	amps_reader_space(struct amps_reader *, size_t want, char **p,
	    size_t *n);
void	amps_reader_commit(struct amps_reader *, size_t n);
int	amps_reader_next(struct amps_reader *, const char **body,
	    uint32_t *body_len);
/* Bytes buffered but not yet returned as frames. */
size_t	amps_reader_pending(const struct amps_reader *);

/* --------------------------------------------------------------- header */

/*
 * The header field dictionary (§3): X(ENUM, send spelling, other spellings
 * separated by '|' or "", numeric).  Numeric fields are written as bare
 * integers and accepted bare or quoted.  The macro parameter is XF, not X,
 * because X (correlation id) is itself a field name.
 */
#define AMPS_FIELDS(XF)							\
	XF(C,			"c",		"cmd",			0) \
	XF(CID,			"cid",		"cmd_id",		0) \
	XF(T,			"t",		"topic",		0) \
	XF(A,			"a",		"ack_type",		0) \
	XF(BM,			"bm",		"bookmark",		0) \
	XF(BS,			"bs",		"batch_size",		1) \
	XF(X,			"x",		"correlation_id",	0) \
	XF(E,			"e",		"expiration",		1) \
	XF(F,			"f",		"filter",		0) \
	XF(O,			"o",		"opts",			0) \
	XF(S,			"s",		"seq",			1) \
	XF(K,			"k",		"sow_key",		0) \
	XF(SOW_KEYS,		"sow_keys",	"",			0) \
	XF(PW,			"pw",		"password",		0) \
	XF(USER_ID,		"user_id",	"",			0) \
	XF(CLIENT_NAME,		"client_name",	"",			0) \
	XF(VERSION,		"version",	"v",			0) \
	XF(MT,			"mt",		"message_type",		0) \
	XF(SUB_ID,		"sub_id",	"",			0) \
	XF(SIDS,			"sids",		"",			0) \
	XF(QUERY_ID,		"query_id",	"",			0) \
	XF(TOP_N,		"top_n",	"",			1) \
	XF(ORDERBY,		"orderby",	"order_by",		0) \
	XF(STATUS,		"status",	"",			0) \
	XF(REASON,		"reason",	"",			0) \
	XF(MATCHES,		"matches",	"",			1) \
	XF(TOPIC_MATCHES,	"topic_matches", "",			1) \
	XF(RECORDS_RETURNED,	"records_returned", "",			1) \
	XF(RECORDS_INSERTED,	"records_inserted", "",			1) \
	XF(RECORDS_UPDATED,	"records_updated", "",			1) \
	XF(RECORDS_DELETED,	"records_deleted", "",			1) \
	XF(L,			"l",		"msg_len",		1) \
	XF(TS,			"ts",		"timestamp",		0) \
	XF(LP,			"lp",		"leaseperiod|lease_period", 0) \
	XF(GSEQ,			"gseq",		"group_sequence_number", 1) \
	XF(DATA_ONLY,		"data_only",	"",			0) \
	XF(SEND_EMPTY,		"send_empty",	"",			0) \
	XF(SEND_KEYS,		"send_keys",	"",			0) \
	XF(SEND_OOF,		"send_oof",	"",			0) \
	XF(SEND_MATCHING_IDS,	"send_matching_ids", "",		0) \
	XF(HEARTBEAT,		"heartbeat",	"",			0) \
	XF(TIMEOUT_INTERVAL,	"timeout_interval", "",			1) \
	XF(GRACE_PERIOD,		"grace_period",	"",			1) \
	XF(MAX_MSGS,		"max_msgs",	"maximum_messages",	1) \
	XF(SRC,			"src",		"",			0) \
	XF(USE_NS,		"use_ns",	"",			0) \
	XF(SKIP_N,		"skip_n",	"",			1)

#define AMPS_FIELD_ENUM(e, s, alt, num)	AMPS_F_##e,
enum amps_field {
	AMPS_FIELDS(AMPS_FIELD_ENUM)
	AMPS_F__COUNT
};
#undef AMPS_FIELD_ENUM

/* Send spelling of a field, and whether it is numeric. */
const char	*amps_field_name(enum amps_field);
int		 amps_field_numeric(enum amps_field);
/* Look a key up by any spelling; returns -1 for an unknown key. */
int		 amps_field_lookup(const char *key, size_t len);

/*
 * A parsed header.  Only views whose bit is set in present are valid;
 * order lists the fields in the order they appeared (a repeated key keeps
 * its first position and its last value).
 */
struct amps_hdr {
	uint64_t	 present;
	uint32_t	 hdr_len;	/* bytes from '{' to '}' inclusive,
					   plus leading whitespace */
	uint8_t		 norder;
	uint8_t		 order[AMPS_F__COUNT];
	struct amps_view v[AMPS_F__COUNT];
};

/*
 * Parse the header at the start of buf[0..len).  On success returns 0 and
 * fills h; the payload is buf + h->hdr_len.  Unknown keys are skipped;
 * whitespace between tokens is allowed.  Escapes are validated but not
 * decoded (see amps_hdr_str).
 */
int	amps_hdr_parse(const char *buf, size_t len, struct amps_hdr *h);

static inline int
amps_hdr_has(const struct amps_hdr *h, enum amps_field f)
{
	return ((h->present >> f) & 1);
}

/* The raw view of a field, or NULL when absent. */
const struct amps_view *amps_hdr_view(const struct amps_hdr *,
	    enum amps_field);

/*
 * Copy a field's unescaped value to out (NUL-terminated).  Returns its
 * length, AMPS_E_ABSENT, AMPS_E_NOSPACE or AMPS_E_ESCAPE.
 */
int	amps_hdr_str(const struct amps_hdr *, enum amps_field, char *out,
	    size_t cap);

/* A field as an unsigned 64-bit number (bare or quoted digits). */
int	amps_hdr_u64(const struct amps_hdr *, enum amps_field, uint64_t *);

/* True when a field is present and equal to the NUL-terminated s. */
int	amps_hdr_eq(const struct amps_hdr *, enum amps_field, const char *s);

/* Unescape a raw JSON string body; returns length or AMPS_E_*. */
int	amps_unescape(const char *in, size_t len, char *out, size_t cap);

/*
 * Overlay: dst = outer with every field present in rec replacing it (record
 * fields win).  Used for SOW batch records (§2.4).
 */
void	amps_hdr_overlay(struct amps_hdr *dst, const struct amps_hdr *outer,
	    const struct amps_hdr *rec);

/*
 * Writer.  Writes into a caller-supplied buffer; if it overflows it keeps
 * counting, so amps_wr_finish() reports the size needed (snprintf style).
 * Frame layout: 4-byte prefix, header, payload.  Use amps_wr_begin for a
 * whole frame, amps_wr_begin_bare for just a header (SOW record headers).
 */
struct amps_wr {
	char		*buf;
	size_t		 cap;
	size_t		 len;
	size_t		 start;		/* where the header starts */
	int		 nfields;
	int		 prefixed;
};

void	amps_wr_begin(struct amps_wr *, char *buf, size_t cap);
void	amps_wr_begin_bare(struct amps_wr *, char *buf, size_t cap);
/*
 * A list of fields with no braces ("k":"v","k2":1), kept apart and later
 * spliced into a header with amps_wr_fields (the publish store keeps the
 * optional fields of each message this way).  w->len is its length; it
 * is complete when w->len <= cap.
 */
void	amps_wr_begin_fields(struct amps_wr *, char *buf, size_t cap);
/* Append a list made by amps_wr_begin_fields (len 0: nothing). */
void	amps_wr_fields(struct amps_wr *, const char *fields, size_t len);
/* Append "key":"escaped value" using the field's send spelling. */
void	amps_wr_str(struct amps_wr *, enum amps_field, const char *s,
	    size_t len);
void	amps_wr_cstr(struct amps_wr *, enum amps_field, const char *s);
/* Append "key":digits. */
void	amps_wr_u64(struct amps_wr *, enum amps_field, uint64_t);
/* Append a raw, already-escaped JSON string body (a view from a parse). */
void	amps_wr_view(struct amps_wr *, enum amps_field,
	    const struct amps_view *);
/*
 * Close the header, append the payload, patch the prefix.  Returns the
 * total bytes (prefix included) needed; the frame is complete only when
 * that is <= cap.  Returns AMPS_E_TOOBIG when the frame would not fit a
 * 32-bit length.
 */
long long amps_wr_finish(struct amps_wr *, const void *payload, size_t len);
/*
 * Close a prefixed header for a payload of len bytes that the caller sends
 * after it (no copy).  Returns the header's size, prefix included; same
 * conventions as amps_wr_finish.
 */
long long amps_wr_finish_head(struct amps_wr *, size_t len);

/*
 * Re-encode a parsed header with the send spellings: `c` first, then the
 * other fields in their parsed order; numeric fields bare.  Same return
 * convention as amps_wr_finish (prefix included when prefixed != 0).
 */
long long amps_hdr_write(const struct amps_hdr *, int prefixed,
	    const void *payload, size_t len, char *buf, size_t cap);

/* Escape s as a JSON string body into out; returns bytes needed. */
size_t	amps_escape(const char *s, size_t len, char *out, size_t cap);

/* -------------------------------------------------------------- commands */

#define AMPS_CMDS(X)					\
	X(UNKNOWN,		"")			\
	X(LOGON,		"logon")		\
	X(HEARTBEAT,		"heartbeat")		\
	X(PUBLISH,		"p")			\
	X(DELTA_PUBLISH,	"delta_publish")	\
	X(SUBSCRIBE,		"subscribe")		\
	X(DELTA_SUBSCRIBE,	"delta_subscribe")	\
	X(SOW,			"sow")			\
	X(SOW_AND_SUBSCRIBE,	"sow_and_subscribe")	\
	X(SOW_AND_DELTA_SUBSCRIBE, "sow_and_delta_subscribe") \
	X(SOW_DELETE,		"sow_delete")		\
	X(UNSUBSCRIBE,		"unsubscribe")		\
	X(FLUSH,		"flush")		\
	X(START_TIMER,		"start_timer")		\
	X(STOP_TIMER,		"stop_timer")		\
	X(ACK,			"ack")			\
	X(OOF,			"oof")			\
	X(GROUP_BEGIN,		"group_begin")		\
	X(GROUP_END,		"group_end")

#define AMPS_CMD_ENUM(e, s)	AMPS_CMD_##e,
enum amps_cmd {
	AMPS_CMDS(AMPS_CMD_ENUM)
	AMPS_CMD__COUNT
};
#undef AMPS_CMD_ENUM

/* "p" and "publish" both give AMPS_CMD_PUBLISH. */
enum amps_cmd	 amps_cmd_parse(const char *s, size_t len);
enum amps_cmd	 amps_hdr_cmd(const struct amps_hdr *);
const char	*amps_cmd_name(enum amps_cmd);

/* ------------------------------------------------------------ SOW batches */

/*
 * Split a `sow` frame (§2.4): after the outer header come records, each a
 * header holding `l` followed by l bytes of data.  amps_sow_next returns 1
 * with the record's header overlaid on the outer one, 0 at the end, or
 * AMPS_E_* (a missing `l`, or `l` beyond the frame, is AMPS_E_SOW_RECORD).
 */
struct amps_sow_iter {
	const char		*p;
	size_t			 len;
	size_t			 off;
	const struct amps_hdr	*outer;
};

void	amps_sow_begin(struct amps_sow_iter *, const struct amps_hdr *outer,
	    const char *body, size_t body_len);
int	amps_sow_next(struct amps_sow_iter *, struct amps_hdr *merged,
	    const char **data, size_t *data_len);

/* ------------------------------------------------------------------ URIs */

enum amps_transport {
	AMPS_TRANSPORT_TCP,
	AMPS_TRANSPORT_TCPS,
	AMPS_TRANSPORT_UNIX,
};

#define AMPS_URI_NODELAY	0x01
#define AMPS_URI_SNDBUF		0x02
#define AMPS_URI_RCVBUF		0x04
#define AMPS_URI_LINGER		0x08
#define AMPS_URI_KEEPALIVE	0x10

/* A parsed connection string (§1.1).  Strings are owned, NUL-terminated. */
struct amps_uri {
	enum amps_transport	 transport;
	char			*user;		/* percent-decoded, or NULL */
	char			*password;	/* percent-decoded, or NULL */
	char			*host;		/* brackets removed for IPv6 */
	uint16_t		 port;
	char			*protocol;	/* "amps", "fix", ... */
	char			*message_type;	/* "json", ... or NULL */
	char			*path;		/* unix: socket file */
	unsigned		 set;		/* AMPS_URI_* given explicitly */
	int			 tcp_nodelay;	/* default 0 */
	int			 tcp_sndbuf;	/* bytes, 0 = OS default */
	int			 tcp_rcvbuf;
	int			 tcp_linger;	/* seconds; default 10 */
	int			 tcp_keepalive;	/* default 1 */
};

/*
 * Parse s.  On failure returns AMPS_E_URI, AMPS_E_TRANSPORT_OPT or
 * AMPS_E_TRANSPORT_TYPE and writes a message to err (if errlen > 0);
 * u is then left empty.  Free with amps_uri_free.
 */
int	amps_uri_parse(const char *s, struct amps_uri *u, char *err,
	    size_t errlen);
void	amps_uri_free(struct amps_uri *);
/* The URI again with the password replaced by "****" (for logs). */
int	amps_uri_redact(const char *s, char *out, size_t cap);

/* ------------------------------------------------------------- bookmarks */

#define AMPS_BOOKMARK_EPOCH		"0"
#define AMPS_BOOKMARK_NOW		"0|1|"
#define AMPS_BOOKMARK_MOST_RECENT	"recent"

enum amps_bm_kind {
	AMPS_BM_INVALID,
	AMPS_BM_EPOCH,		/* "0" */
	AMPS_BM_NOW,		/* "0|1|" */
	AMPS_BM_MOST_RECENT,	/* "recent" (client side only) */
	AMPS_BM_ID,		/* "<publisher>|<seq>|" */
	AMPS_BM_TIMESTAMP,	/* YYYYmmddTHHMMSS[.ffffff][Z] */
	AMPS_BM_LIST,		/* comma list of the above */
	AMPS_BM_RANGE,		/* [a:b) and friends (§8.3) */
};

enum amps_bm_kind amps_bm_classify(const char *s, size_t len);
/* Parse exactly "<pub>|<seq>|"; returns 0 or AMPS_E_BOOKMARK. */
int	amps_bm_parse(const char *s, size_t len, uint64_t *pub,
	    uint64_t *seq);
/* Format "<pub>|<seq>|"; returns length (or needed length). */
int	amps_bm_format(char *out, size_t cap, uint64_t pub, uint64_t seq);
/*
 * Timestamps: parse YYYYmmddTHHMMSS with optional .fraction (up to 9
 * digits) and optional Z, UTC, into microseconds since the Unix epoch;
 * format as YYYYmmddTHHMMSS.ffffffZ (23 bytes + NUL).
 */
int	amps_ts_parse(const char *s, size_t len, int64_t *usec);
int	amps_ts_format(char *out, size_t cap, int64_t usec);
/* 64-bit FNV-1a of a client name: the publisher field of its bookmarks. */
uint64_t amps_name_hash(const char *name, size_t len);

/*
 * Comma lists: iterate items of s[0..len), trimming spaces; empty items
 * are skipped.  Returns 1 per item, 0 at the end.
 */
struct amps_list_iter {
	const char	*p;
	const char	*end;
};
void	amps_list_begin(struct amps_list_iter *, const char *s, size_t len);
int	amps_list_next(struct amps_list_iter *, const char **item,
	    size_t *len);

/* --------------------------------------------------------------- options */

/*
 * Options (§13): comma-separated `name` or `name=value` tokens; commas
 * inside [...] do not split; spaces around tokens are trimmed.  value is
 * NULL for a bare name.
 */
struct amps_opt {
	const char	*name;
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
};

struct amps_opts_iter {
	const char	*p;
	const char	*end;
};

void	amps_opts_begin(struct amps_opts_iter *, const char *s, size_t len);
/* Returns 1 per option, 0 at the end, AMPS_E_OPTIONS on bad brackets. */
int	amps_opts_next(struct amps_opts_iter *, struct amps_opt *);
/* Find option name; returns 1 and fills *out, 0 if absent, or AMPS_E_*. */
int	amps_opts_find(const char *s, size_t len, const char *name,
	    struct amps_opt *out);

/* Ack types (§6.1): bit values as in the AMPS clients. */
#define AMPS_ACK_NONE		0x00
#define AMPS_ACK_RECEIVED	0x01
#define AMPS_ACK_PARSED		0x02
#define AMPS_ACK_PROCESSED	0x04
#define AMPS_ACK_PERSISTED	0x08
#define AMPS_ACK_COMPLETED	0x10
#define AMPS_ACK_STATS		0x20
#define AMPS_ACK_ALL		0x3f

/* Parse "processed,completed" (or "none"); AMPS_E_ACKTYPE on unknown. */
int	amps_ack_parse(const char *s, size_t len, unsigned *mask);
/* Format in bit order, comma-separated; returns length needed. */
int	amps_ack_format(char *out, size_t cap, unsigned mask);
/* Name of a single ack bit, or NULL. */
const char *amps_ack_name(unsigned bit);

#endif /* AMPS_H */
