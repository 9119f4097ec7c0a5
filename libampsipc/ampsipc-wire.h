/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The IPC wire format between libampsipc and ampsd (docs/IPC.md is the
 * prose version of this file).  Shared by the daemon and the library;
 * never installed.  The codec in ipcwire.c is pure: no I/O, libc only.
 *
 * A frame is a 16-byte header followed by a body.  All integers are
 * little-endian and fixed-width; they are read and written byte by byte,
 * so nothing depends on alignment or on the host's byte order.
 *
 *	offset	size	field
 *	0	4	len	whole frame, header included
 *	4	2	type	enum ampsipc_type
 *	6	2	flags	AMPSIPC_F_*; unknown bits are an error
 *	8	4	reqid	request id; echoed in the reply; 0 = unsolicited
 *	12	4	reserved	zero; anything else is an error
 *
 * Bodies are a list of tagged fields (TLV): uint16 tag, uint32 length,
 * then length bytes.  Each tag has one kind: STR (bytes with exactly one
 * NUL, at the end), U32 (4 bytes), U64 (8 bytes) or BYTES (anything).
 * A tag appears at most once.  Unknown tags are an error.  Two bodies
 * start with a fixed prefix before their fields, so that every future
 * version can read them: HELLO (uint32 version, uint32 pid) and
 * VERSION_BAD (uint32 server version).
 *
 * Bump AMPSIPC_PROTO_VERSION when anything below changes meaning.
 * Never renumber or reuse a type, a tag or an error code: retire it
 * with a comment instead.
 */

#ifndef AMPSIPC_WIRE_H
#define AMPSIPC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ampsipc.h"		/* enum ampsipc_error: the wire error codes */

#define AMPSIPC_PROTO_VERSION	1
#define AMPSIPC_HDR_LEN		16
#define AMPSIPC_TLV_LEN		6		/* tag + length */
#define AMPSIPC_MAX_FRAME	(16U * 1024 * 1024)	/* header included */

/* In-memory form of the header; the wire form is built byte by byte. */
struct ampsipc_hdr {
	uint32_t	len;
	uint16_t	type;
	uint16_t	flags;
#define AMPSIPC_F_FATAL		0x0001	/* ERROR: the daemon closes after it */
#define AMPSIPC_F_ALL		0x0001
	uint32_t	reqid;
	uint32_t	reserved;
};
_Static_assert(sizeof(struct ampsipc_hdr) == AMPSIPC_HDR_LEN,
    "ampsipc_hdr is 16 bytes");

/*
 * Message types: X(name, number, direction).  Direction C is program to
 * daemon, S is daemon to program.  Families: 1-99 session, 100s publish,
 * 200s subscribe/query, 300s admin/status.
 */
#define AMPSIPC_TYPES(X)						\
	/* session: 1-99 */						\
	X(HELLO,		  1, C)	/* u32 version, u32 pid, fields */ \
	X(WELCOME,		  2, S)	/* PROTO_VERSION MAX_FRAME ... */ \
	X(VERSION_BAD,		  3, S)	/* u32 server version, REASON */ \
	X(ERROR,		  4, S)	/* ERRCODE REASON; reqid or 0 */ \
	X(PING,			  5, C)	/* (no fields) */		\
	X(PONG,			  6, S)	/* reply to PING */		\
	X(BYE,			  7, C)	/* orderly close */		\
	X(CONN_STATE,		  8, S)	/* CONN CONN_ID STATE SERVER */	\
	X(OK,			  9, S)	/* generic success reply */	\
	/* publish: 100s */						\
	X(PUBLISH,		100, C)	/* TOPIC DATA [CORRELATION_ID ...] */ \
	X(DELTA_PUBLISH,	101, C)	/* as PUBLISH */		\
	X(STORED,		102, S)	/* CONN_ID SEQ: committed locally */ \
	X(PERSISTED,		103, S)	/* CONN_ID SEQ: AMPS has all <= SEQ */ \
	X(PUBLISH_FAILED,	104, S)	/* CONN_ID SEQ ERRCODE REASON */ \
	X(PUBLISH_FLUSH,	105, C)	/* [CONN] [TIMEOUT_MS] */	\
	X(FLUSHED,		106, S)	/* reply: all earlier persisted */ \
	/* subscribe and query: 200s */					\
	X(COMMAND,		200, C)	/* CMD + any AMPS header field */ \
	X(ACK,			201, S)	/* CMD ACK_TYPES STATUS ... */	\
	X(MESSAGE,		202, S)	/* CMD TOPIC SUB_ID BOOKMARK DATA ... */ \
	X(DISCARD,		203, C)	/* SUB_ID BOOKMARK (durable) */	\
	X(QUEUE_ACK,		204, C)	/* TOPIC BOOKMARK [OPTIONS cancel] */ \
	X(STREAM_END,		205, S)	/* reqid's stream is over; ERRCODE */ \
	/* admin and status: 300s */					\
	X(STATUS,		300, C)	/* [CONN] */			\
	X(STATUS_REPLY,		301, S)	/* DATA: text, see docs/IPC.md */ \
	X(ADMIN,		302, C)	/* OPTIONS: "reload", "trace ..." */ \
	X(ADMIN_REPLY,		303, S)	/* STATUS DATA: result text */

enum ampsipc_type {
#define AMPSIPC_TYPE_ENUM(name, num, dir)	AMPSIPC_##name = num,
	AMPSIPC_TYPES(AMPSIPC_TYPE_ENUM)
#undef AMPSIPC_TYPE_ENUM
};

/* Field kinds. */
#define AMPSIPC_K_STR		1
#define AMPSIPC_K_U32		2
#define AMPSIPC_K_U64		3
#define AMPSIPC_K_BYTES		4

/*
 * Tagged fields: X(name, tag, kind).  Tags are below 64 so that a
 * uint64_t can record which are present.  The AMPS header each field
 * carries is given in docs/IPC.md.
 */
#define AMPSIPC_FIELDS(X)						\
	X(CMD,			 1, U32)	/* enum ampsipc_cmd */	\
	X(TOPIC,		 2, STR)	/* t */			\
	X(DATA,			 3, BYTES)	/* payload */		\
	X(CORRELATION_ID,	 4, STR)	/* x */			\
	X(SOW_KEY,		 5, STR)	/* k */			\
	X(EXPIRATION,		 6, U32)	/* e, seconds */	\
	X(CONN,			 7, STR)	/* target connection name */ \
	X(FILTER,		 8, STR)	/* f */			\
	X(OPTIONS,		 9, STR)	/* o */			\
	X(SUB_ID,		10, STR)	/* sub_id */		\
	X(SUB_IDS,		11, STR)	/* sids */		\
	X(QUERY_ID,		12, STR)	/* query_id */		\
	X(BOOKMARK,		13, STR)	/* bm */		\
	X(BATCH_SIZE,		14, U32)	/* bs */		\
	X(TOP_N,		15, U32)	/* top_n */		\
	X(ORDER_BY,		16, STR)	/* orderby */		\
	X(SOW_KEYS,		17, STR)	/* sow_keys */		\
	X(ACK_TYPES,		18, U32)	/* a, AMPSIPC_ACK_* bits */ \
	X(TIMEOUT_MS,		19, U32)	/* how long to wait */	\
	X(DURABLE_NAME,		20, STR)	/* durable subscription */ \
	X(SEQ,			21, U64)	/* s */			\
	X(STATUS,		22, U32)	/* AMPSIPC_STATUS_* */	\
	X(REASON,		23, STR)	/* reason */		\
	X(ERRCODE,		24, U32)	/* enum ampsipc_error */ \
	X(MATCHES,		25, U64)	/* matches */		\
	X(TOPIC_MATCHES,	26, U64)	/* topic_matches */	\
	X(RECORDS_RETURNED,	27, U64)	/* records_returned */	\
	X(RECORDS_INSERTED,	28, U64)	/* records_inserted */	\
	X(RECORDS_UPDATED,	29, U64)	/* records_updated */	\
	X(RECORDS_DELETED,	30, U64)	/* records_deleted */	\
	X(TIMESTAMP,		31, STR)	/* ts */		\
	X(LEASE_PERIOD,		32, STR)	/* lp */		\
	X(USER_ID,		33, STR)	/* user_id */		\
	X(CONN_ID,		34, U32)	/* daemon's connection index */ \
	X(CMD_FLAGS,		35, U32)	/* AMPSIPC_CF_* */	\
	X(PROTO_VERSION,	36, U32)				\
	X(MAX_FRAME,		37, U32)				\
	X(CLIENT_NAME,		38, STR)	/* program's own label */ \
	X(LIB_VERSION,		39, STR)				\
	X(DAEMON_VERSION,	40, STR)				\
	X(SERVER,		41, STR)	/* current server, no credentials */ \
	X(STATE,		42, U32)	/* AMPSIPC_STATE_* */	\
	X(COUNT,		43, U64)	/* a count, e.g. unpersisted */ \
	X(CLIENT_ID,		44, U64)	/* daemon's id for this program */ \
	X(SKIP_N,		45, U32)	/* skip_n (sent as option) */ \
	X(MAX_BACKLOG,		46, U32)	/* queue backlog granted */ \
	X(GROUP_SEQ,		47, U64)	/* order within a SOW group */ \
	X(HEADERS,		48, BYTES)	/* more AMPS header fields */

enum ampsipc_tag {
#define AMPSIPC_TAG_ENUM(name, num, kind)	AMPSIPC_T_##name = num,
	AMPSIPC_FIELDS(AMPSIPC_TAG_ENUM)
#undef AMPSIPC_TAG_ENUM
	AMPSIPC_T_LIMIT = 64
};

/* The AMPS command a COMMAND, ACK or MESSAGE is about (field CMD). */
#define AMPSIPC_CMDS(X)							\
	X(PUBLISH,		 1, "p")				\
	X(DELTA_PUBLISH,	 2, "delta_publish")			\
	X(SUBSCRIBE,		 3, "subscribe")			\
	X(DELTA_SUBSCRIBE,	 4, "delta_subscribe")			\
	X(SOW,			 5, "sow")				\
	X(SOW_AND_SUBSCRIBE,	 6, "sow_and_subscribe")		\
	X(SOW_AND_DELTA_SUBSCRIBE, 7, "sow_and_delta_subscribe")	\
	X(SOW_DELETE,		 8, "sow_delete")			\
	X(UNSUBSCRIBE,		 9, "unsubscribe")			\
	X(FLUSH,		10, "flush")				\
	X(ACK,			11, "ack")	/* S>C only */		\
	X(OOF,			12, "oof")	/* S>C only */		\
	X(GROUP_BEGIN,		13, "group_begin") /* S>C only */	\
	X(GROUP_END,		14, "group_end")   /* S>C only */

enum ampsipc_cmd {
#define AMPSIPC_CMD_ENUM(name, num, wire)	AMPSIPC_CMD_##name = num,
	AMPSIPC_CMDS(AMPSIPC_CMD_ENUM)
#undef AMPSIPC_CMD_ENUM
};

/* ACK_TYPES bits: the AMPS client's values (PROTOCOL.md §6.1). */
#define AMPSIPC_ACK_RECEIVED	0x01
#define AMPSIPC_ACK_PARSED	0x02
#define AMPSIPC_ACK_PROCESSED	0x04
#define AMPSIPC_ACK_PERSISTED	0x08
#define AMPSIPC_ACK_COMPLETED	0x10
#define AMPSIPC_ACK_STATS	0x20

/* STATUS values on ACK. */
#define AMPSIPC_STATUS_SUCCESS	0
#define AMPSIPC_STATUS_FAILURE	1

/* CMD_FLAGS bits on COMMAND. */
#define AMPSIPC_CF_DURABLE	0x01	/* bookmark store + discard */
#define AMPSIPC_CF_AUTO_ACK	0x02	/* queue: daemon acks on delivery */
#define AMPSIPC_CF_STREAM	0x04	/* synchronous stream: not resubscribed */

/* STATE values on CONN_STATE and in status text. */
#define AMPSIPC_STATES(X)						\
	X(DISCONNECTED,	0, "disconnected")				\
	X(CONNECTING,	1, "connecting")				\
	X(LOGGING_ON,	2, "logging-on")				\
	X(RECOVERING,	3, "recovering")	/* replaying the store */ \
	X(CONNECTED,	4, "connected")					\
	X(BACKOFF,	5, "backoff")					\
	X(STOPPED,	6, "stopped")		/* gave up */

enum ampsipc_state {
#define AMPSIPC_STATE_ENUM(name, num, text)	AMPSIPC_STATE_##name = num,
	AMPSIPC_STATES(AMPSIPC_STATE_ENUM)
#undef AMPSIPC_STATE_ENUM
};

/*
 * A decoded frame.  Every pointer points into the frame buffer given to
 * ipcwire_decode() and is valid as long as that buffer is.  A STR field
 * is a NUL-terminated string of length len - 1.
 */
struct ipcwire_field {
	const uint8_t	*ptr;
	uint32_t	 len;
};

struct ipcwire_msg {
	struct ampsipc_hdr	 hdr;
	uint32_t		 version;	/* HELLO, VERSION_BAD prefix */
	uint32_t		 pid;		/* HELLO prefix */
	uint64_t		 present;	/* bit (1 << tag) per field */
	struct ipcwire_field	 f[AMPSIPC_T_LIMIT];
};

/*
 * Encoder state.  With buf == NULL the encoder only counts, so a caller
 * can size its buffer with the same calls it then encodes with.
 */
struct ipcwire_enc {
	uint8_t		*buf;
	size_t		 cap;
	size_t		 off;
	int		 overflow;
};

/* ipcwire.c */
const char	*ipcwire_type_name(uint32_t);
const char	*ipcwire_tag_name(uint32_t);
const char	*ipcwire_cmd_name(uint32_t);
const char	*ipcwire_state_name(uint32_t);
const char	*ipcwire_error_text(uint32_t);
int		 ipcwire_type_from_client(uint32_t);
int		 ipcwire_type_known(uint32_t);
int		 ipcwire_type_fields(uint32_t, uint64_t *, uint64_t *);
int		 ipcwire_tag_kind(uint32_t);

void		 ipcwire_begin(struct ipcwire_enc *, void *, size_t, uint16_t,
		     uint16_t, uint32_t);
void		 ipcwire_put_raw32(struct ipcwire_enc *, uint32_t);
void		 ipcwire_put_str(struct ipcwire_enc *, uint16_t, const char *);
void		 ipcwire_put_u32(struct ipcwire_enc *, uint16_t, uint32_t);
void		 ipcwire_put_u64(struct ipcwire_enc *, uint16_t, uint64_t);
void		 ipcwire_put_bytes(struct ipcwire_enc *, uint16_t, const void *,
		     size_t);
int		 ipcwire_end(struct ipcwire_enc *, size_t *);

int		 ipcwire_frame_len(const void *, size_t, uint32_t, uint32_t *);
int		 ipcwire_decode(const void *, size_t, int, struct ipcwire_msg *,
		     const char **);
int		 ipcwire_has(const struct ipcwire_msg *, unsigned int);
const char	*ipcwire_str(const struct ipcwire_msg *, unsigned int);
uint64_t	 ipcwire_num(const struct ipcwire_msg *, unsigned int, uint64_t);
const void	*ipcwire_bytes(const struct ipcwire_msg *, unsigned int,
		     size_t *);

/* Who sent a frame, for ipcwire_decode(). */
#define IPCWIRE_FROM_CLIENT	1
#define IPCWIRE_FROM_DAEMON	0

#endif /* AMPSIPC_WIRE_H */
