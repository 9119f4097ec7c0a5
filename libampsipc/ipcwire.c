/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ipcwire.c: the pure encoder and decoder of the IPC wire format
 * (ampsipc-wire.h, docs/IPC.md).  Linked into libampsipc and into the
 * daemon.  No I/O, no allocation, libc only.
 *
 * It owns: the byte layout of the header and of tagged fields, the
 * per-type table of which fields a message must and may carry, and the
 * names of types, tags, commands, states and errors.
 *
 * Invariants:
 *  1. No byte of input is read before the length that covers it has
 *     been checked against what the caller said it has.
 *  2. ipcwire_decode() either fills a struct ipcwire_msg whose every
 *     present field lies inside the frame and has the kind its tag
 *     demands, or returns -1 with a static reason; it never crashes on
 *     any input.
 *  3. Every string field handed out has exactly one NUL, its last byte;
 *     ipcwire_str() is the only way to read one.
 *  4. The encoder never writes beyond cap; an overflow is remembered and
 *     reported by ipcwire_end().
 *  5. Type, tag and error numbers come from the X-macro lists only.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "ampsipc-wire.h"

_Static_assert(AMPSIPC_STATE_CONNECTED == AMPSIPC_CONN_CONNECTED &&
    AMPSIPC_STATE_STOPPED == AMPSIPC_CONN_STOPPED &&
    AMPSIPC_STATE_DISCONNECTED == AMPSIPC_CONN_DISCONNECTED,
    "wire states match the public AMPSIPC_CONN_* values");
_Static_assert(sizeof(struct ipcwire_field) <= 16, "ipcwire_field size");

#define B(t)	(UINT64_C(1) << AMPSIPC_T_##t)

/* Fields a publish carries. */
#define PUB_ALLOWED	(B(TOPIC) | B(DATA) | B(CORRELATION_ID) |	\
	B(SOW_KEY) | B(EXPIRATION) | B(CONN) | B(CMD_FLAGS) | B(HEADERS))

/* Fields a generic command may carry: every AMPS command header. */
#define CMD_ALLOWED	(PUB_ALLOWED | B(CMD) | B(FILTER) | B(OPTIONS) |	\
	B(SUB_ID) | B(QUERY_ID) | B(BOOKMARK) | B(BATCH_SIZE) | B(TOP_N) | \
	B(ORDER_BY) | B(SOW_KEYS) | B(ACK_TYPES) | B(TIMEOUT_MS) |	\
	B(DURABLE_NAME) | B(SKIP_N) | B(MAX_BACKLOG))

/* Fields an ack may carry. */
#define ACK_ALLOWED	(B(CMD) | B(ACK_TYPES) | B(STATUS) | B(REASON) |	\
	B(ERRCODE) | B(SUB_ID) | B(QUERY_ID) | B(BOOKMARK) | B(SEQ) |	\
	B(MATCHES) | B(TOPIC_MATCHES) | B(RECORDS_RETURNED) |		\
	B(RECORDS_INSERTED) | B(RECORDS_UPDATED) | B(RECORDS_DELETED) |	\
	B(OPTIONS) | B(MAX_BACKLOG) | B(CONN_ID) | B(TOPIC))

/* Fields a delivered message may carry. */
#define MSG_ALLOWED	(B(CMD) | B(TOPIC) | B(DATA) | B(SUB_ID) |	\
	B(SUB_IDS) | B(QUERY_ID) | B(BOOKMARK) | B(SOW_KEY) |		\
	B(CORRELATION_ID) | B(TIMESTAMP) | B(LEASE_PERIOD) | B(USER_ID) | \
	B(SEQ) | B(REASON) | B(BATCH_SIZE) | B(GROUP_SEQ) | B(CONN_ID))

struct ipcwire_rule {
	uint16_t	type;
	uint8_t		from_client;
	uint8_t		prefix;		/* fixed bytes before the fields */
	uint64_t	required;
	uint64_t	allowed;
};

static const struct ipcwire_rule ipcwire_rules[] = {
	{ AMPSIPC_HELLO, 1, 8, 0, B(CLIENT_NAME) | B(LIB_VERSION) },
	{ AMPSIPC_WELCOME, 0, 0, B(PROTO_VERSION) | B(MAX_FRAME),
	  B(PROTO_VERSION) | B(MAX_FRAME) | B(DAEMON_VERSION) | B(CONN) |
	  B(CLIENT_ID) },
	{ AMPSIPC_VERSION_BAD, 0, 4, 0, B(REASON) },
	{ AMPSIPC_ERROR, 0, 0, B(ERRCODE), B(ERRCODE) | B(REASON) },
	{ AMPSIPC_PING, 1, 0, 0, 0 },
	{ AMPSIPC_PONG, 0, 0, 0, 0 },
	{ AMPSIPC_BYE, 1, 0, 0, 0 },
	{ AMPSIPC_CONN_STATE, 0, 0, B(CONN) | B(CONN_ID) | B(STATE),
	  B(CONN) | B(CONN_ID) | B(STATE) | B(SERVER) | B(ERRCODE) |
	  B(REASON) },
	{ AMPSIPC_OK, 0, 0, 0, 0 },
	{ AMPSIPC_PUBLISH, 1, 0, B(TOPIC), PUB_ALLOWED },
	{ AMPSIPC_DELTA_PUBLISH, 1, 0, B(TOPIC), PUB_ALLOWED },
	{ AMPSIPC_STORED, 0, 0, B(CONN_ID) | B(SEQ), B(CONN_ID) | B(SEQ) },
	{ AMPSIPC_PERSISTED, 0, 0, B(CONN_ID) | B(SEQ), B(CONN_ID) | B(SEQ) },
	{ AMPSIPC_PUBLISH_FAILED, 0, 0, B(CONN_ID) | B(SEQ) | B(ERRCODE),
	  B(CONN_ID) | B(SEQ) | B(ERRCODE) | B(REASON) },
	{ AMPSIPC_PUBLISH_FLUSH, 1, 0, 0, B(CONN) | B(TIMEOUT_MS) |
	  B(CONN_ID) | B(SEQ) },
	{ AMPSIPC_FLUSHED, 0, 0, 0, 0 },
	{ AMPSIPC_COMMAND, 1, 0, B(CMD), CMD_ALLOWED },
	{ AMPSIPC_ACK, 0, 0, B(ACK_TYPES) | B(STATUS), ACK_ALLOWED },
	{ AMPSIPC_MESSAGE, 0, 0, B(CMD), MSG_ALLOWED },
	{ AMPSIPC_DISCARD, 1, 0, B(SUB_ID) | B(BOOKMARK),
	  B(SUB_ID) | B(BOOKMARK) | B(CONN) },
	{ AMPSIPC_QUEUE_ACK, 1, 0, B(TOPIC) | B(BOOKMARK),
	  B(TOPIC) | B(BOOKMARK) | B(OPTIONS) | B(CONN) | B(SUB_ID) },
	{ AMPSIPC_STREAM_END, 0, 0, 0, B(ERRCODE) | B(REASON) },
	{ AMPSIPC_STATUS, 1, 0, 0, B(CONN) },
	{ AMPSIPC_STATUS_REPLY, 0, 0, B(DATA), B(DATA) },
	{ AMPSIPC_ADMIN, 1, 0, B(OPTIONS), B(OPTIONS) },
	{ AMPSIPC_ADMIN_REPLY, 0, 0, B(STATUS) | B(DATA), B(STATUS) | B(DATA) },
};

/* Find the rule for a type; NULL if the type is unknown. */
static const struct ipcwire_rule *
ipcwire_rule(uint32_t type)
{
	size_t	i;

	for (i = 0; i < sizeof ipcwire_rules / sizeof ipcwire_rules[0]; i++) {
		if (ipcwire_rules[i].type == type)
			return (&ipcwire_rules[i]);
	}
	return (NULL);
}

/* Kind of a tag (AMPSIPC_K_*), or 0 if the tag is unknown. */
int
ipcwire_tag_kind(uint32_t tag)
{
	switch (tag) {
#define KIND_CASE(name, num, kind)	case num: return (AMPSIPC_K_##kind);
	AMPSIPC_FIELDS(KIND_CASE)
#undef KIND_CASE
	}
	return (0);
}

/* Name of a message type, "unknown" if none. */
const char *
ipcwire_type_name(uint32_t type)
{
	switch (type) {
#define NAME_CASE(name, num, dir)	case num: return (#name);
	AMPSIPC_TYPES(NAME_CASE)
#undef NAME_CASE
	}
	return ("unknown");
}

/* Name of a field tag, "unknown" if none. */
const char *
ipcwire_tag_name(uint32_t tag)
{
	switch (tag) {
#define NAME_CASE(name, num, kind)	case num: return (#name);
	AMPSIPC_FIELDS(NAME_CASE)
#undef NAME_CASE
	}
	return ("unknown");
}

/* AMPS wire spelling of a command kind, "unknown" if none. */
const char *
ipcwire_cmd_name(uint32_t cmd)
{
	switch (cmd) {
#define NAME_CASE(name, num, wire)	case num: return (wire);
	AMPSIPC_CMDS(NAME_CASE)
#undef NAME_CASE
	}
	return ("unknown");
}

/* Text of a connection state, "unknown" if none. */
const char *
ipcwire_state_name(uint32_t state)
{
	switch (state) {
#define NAME_CASE(name, num, text)	case num: return (text);
	AMPSIPC_STATES(NAME_CASE)
#undef NAME_CASE
	}
	return ("unknown");
}

/* Static text of an error code, "unknown error code" if none. */
const char *
ipcwire_error_text(uint32_t code)
{
	switch (code) {
#define TEXT_CASE(name, num, text)	case num: return (text);
	AMPSIPC_ERRORS(TEXT_CASE)
#undef TEXT_CASE
	}
	return ("unknown error code");
}

/* 1 if type is known, else 0. */
int
ipcwire_type_known(uint32_t type)
{
	return (ipcwire_rule(type) != NULL);
}

/*
 * The fields type must carry (*required) and may carry (*allowed), as
 * bit masks of (1 << tag).  Returns -1 if the type is unknown.
 */
int
ipcwire_type_fields(uint32_t type, uint64_t *required, uint64_t *allowed)
{
	const struct ipcwire_rule	*r = ipcwire_rule(type);

	if (r == NULL)
		return (-1);
	*required = r->required;
	*allowed = r->allowed;
	return (0);
}

/* 1 if type is sent by programs, 0 if by the daemon, -1 if unknown. */
int
ipcwire_type_from_client(uint32_t type)
{
	const struct ipcwire_rule	*r = ipcwire_rule(type);

	if (r == NULL)
		return (-1);
	return (r->from_client);
}

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] | (p[1] << 8)));
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	    ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

static uint64_t
get64(const uint8_t *p)
{
	return ((uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32));
}

static void
set16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void
set32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

static void
set64(uint8_t *p, uint64_t v)
{
	set32(p, (uint32_t)v);
	set32(p + 4, (uint32_t)(v >> 32));
}

/* Reserve n bytes in the encoder; NULL when counting or on overflow. */
static uint8_t *
ipcwire_reserve(struct ipcwire_enc *e, size_t n)
{
	uint8_t	*p;

	if (e->overflow)
		return (NULL);
	if (n > SIZE_MAX - e->off) {
		e->overflow = 1;
		return (NULL);
	}
	if (e->buf == NULL) {
		e->off += n;
		return (NULL);
	}
	if (n > e->cap - e->off) {
		e->overflow = 1;
		return (NULL);
	}
	p = e->buf + e->off;
	e->off += n;
	return (p);
}

/*
 * Start a frame of the given type, flags and request id in buf (cap
 * bytes).  buf may be NULL: then the encoder only counts, and
 * ipcwire_end() reports the length the frame would have.
 */
void
ipcwire_begin(struct ipcwire_enc *e, void *buf, size_t cap, uint16_t type,
    uint16_t flags, uint32_t reqid)
{
	uint8_t	*p;

	e->buf = buf;
	e->cap = buf == NULL ? 0 : cap;
	e->off = 0;
	e->overflow = 0;
	if ((p = ipcwire_reserve(e, AMPSIPC_HDR_LEN)) == NULL)
		return;
	set32(p, 0);		/* patched by ipcwire_end() */
	set16(p + 4, type);
	set16(p + 6, flags);
	set32(p + 8, reqid);
	set32(p + 12, 0);
}

/* Append a raw 32-bit value: the fixed prefix of HELLO and VERSION_BAD. */
void
ipcwire_put_raw32(struct ipcwire_enc *e, uint32_t v)
{
	uint8_t	*p;

	if ((p = ipcwire_reserve(e, 4)) != NULL)
		set32(p, v);
}

/* Append a field header, checking the value length fits in 32 bits. */
static uint8_t *
ipcwire_put_tlv(struct ipcwire_enc *e, uint16_t tag, size_t len)
{
	uint8_t	*p;

	if (len > UINT32_MAX - AMPSIPC_TLV_LEN) {
		e->overflow = 1;
		return (NULL);
	}
	if ((p = ipcwire_reserve(e, AMPSIPC_TLV_LEN + len)) == NULL)
		return (NULL);
	set16(p, tag);
	set32(p + 2, (uint32_t)len);
	return (p + AMPSIPC_TLV_LEN);
}

/* Append a string field, NUL included; a NULL string is left out. */
void
ipcwire_put_str(struct ipcwire_enc *e, uint16_t tag, const char *s)
{
	uint8_t	*p;
	size_t	 len;

	if (s == NULL)
		return;
	len = strlen(s) + 1;
	if ((p = ipcwire_put_tlv(e, tag, len)) != NULL)
		memcpy(p, s, len);
}

/* Append a 32-bit field. */
void
ipcwire_put_u32(struct ipcwire_enc *e, uint16_t tag, uint32_t v)
{
	uint8_t	*p;

	if ((p = ipcwire_put_tlv(e, tag, 4)) != NULL)
		set32(p, v);
}

/* Append a 64-bit field. */
void
ipcwire_put_u64(struct ipcwire_enc *e, uint16_t tag, uint64_t v)
{
	uint8_t	*p;

	if ((p = ipcwire_put_tlv(e, tag, 8)) != NULL)
		set64(p, v);
}

/* Append a byte field; data may be NULL only when len is 0. */
void
ipcwire_put_bytes(struct ipcwire_enc *e, uint16_t tag, const void *data,
    size_t len)
{
	uint8_t	*p;

	if (data == NULL && len != 0) {
		e->overflow = 1;
		return;
	}
	if ((p = ipcwire_put_tlv(e, tag, len)) != NULL && len != 0)
		memcpy(p, data, len);
}

/*
 * Finish the frame: patch its length into the header.  Returns 0 and
 * the frame length in *lenp (if not NULL), or -1 if the buffer was too
 * small, a value could not be encoded, or the frame is longer than any
 * frame may be (AMPSIPC_MAX_FRAME).
 */
int
ipcwire_end(struct ipcwire_enc *e, size_t *lenp)
{
	if (e->overflow || e->off < AMPSIPC_HDR_LEN ||
	    e->off > AMPSIPC_MAX_FRAME)
		return (-1);
	if (e->buf != NULL)
		set32(e->buf, (uint32_t)e->off);
	if (lenp != NULL)
		*lenp = e->off;
	return (0);
}

/*
 * Look at the start of buf (have bytes) for a frame length.  Returns 0
 * if fewer than 4 bytes are there, -1 if the length is below the header
 * size or above max (0: AMPSIPC_MAX_FRAME), else 1 with *lenp set.  The
 * caller has a complete frame once it holds *lenp bytes.
 */
int
ipcwire_frame_len(const void *buf, size_t have, uint32_t max, uint32_t *lenp)
{
	uint32_t	len;

	if (max == 0 || max > AMPSIPC_MAX_FRAME)
		max = AMPSIPC_MAX_FRAME;
	if (have < 4)
		return (0);
	len = get32(buf);
	if (len < AMPSIPC_HDR_LEN || len > max)
		return (-1);
	*lenp = len;
	return (1);
}

#define BAD(s)	do { *why = (s); return (-1); } while (0)

/* Check one field's value against its kind. */
static int
ipcwire_check_kind(int kind, const uint8_t *v, uint32_t len,
    const char **why)
{
	switch (kind) {
	case AMPSIPC_K_STR:
		if (len == 0 || v[len - 1] != '\0')
			BAD("string without NUL");
		if (memchr(v, '\0', len) != v + len - 1)
			BAD("string with embedded NUL");
		return (0);
	case AMPSIPC_K_U32:
		if (len != 4)
			BAD("32-bit field of wrong size");
		return (0);
	case AMPSIPC_K_U64:
		if (len != 8)
			BAD("64-bit field of wrong size");
		return (0);
	case AMPSIPC_K_BYTES:
		return (0);
	}
	BAD("unknown tag");
}

/* Check values that have a closed range. */
static int
ipcwire_check_values(const struct ipcwire_msg *m, const char **why)
{
	uint64_t	cmd;

	if (ipcwire_has(m, AMPSIPC_T_CMD)) {
		cmd = ipcwire_num(m, AMPSIPC_T_CMD, 0);
		if (m->hdr.type == AMPSIPC_COMMAND &&
		    (cmd < AMPSIPC_CMD_PUBLISH || cmd > AMPSIPC_CMD_FLUSH))
			BAD("bad command kind");
		if (cmd < AMPSIPC_CMD_PUBLISH || cmd > AMPSIPC_CMD_GROUP_END)
			BAD("bad command kind");
	}
	if (ipcwire_has(m, AMPSIPC_T_STATE) &&
	    ipcwire_num(m, AMPSIPC_T_STATE, 0) > AMPSIPC_STATE_STOPPED)
		BAD("bad connection state");
	if (ipcwire_has(m, AMPSIPC_T_STATUS) &&
	    ipcwire_num(m, AMPSIPC_T_STATUS, 0) > AMPSIPC_STATUS_FAILURE)
		BAD("bad ack status");
	return (0);
}

/*
 * Decode one complete frame of len bytes (len as ipcwire_frame_len()
 * gave it).  from_client says who sent it (IPCWIRE_FROM_CLIENT or
 * IPCWIRE_FROM_DAEMON); a type sent the other way is an error.  Returns 0
 * with *m filled (pointers into frame), or -1 with *why set to a static
 * text naming the fault.
 */
int
ipcwire_decode(const void *frame, size_t len, int from_client,
    struct ipcwire_msg *m, const char **why)
{
	const uint8_t			*p = frame, *end;
	const struct ipcwire_rule	*r;
	uint32_t			 tag, vlen;
	const char			*dummy;

	if (why == NULL)
		why = &dummy;
	memset(m, 0, sizeof *m);
	if (frame == NULL || len < AMPSIPC_HDR_LEN)
		BAD("frame shorter than header");
	m->hdr.len = get32(p);
	m->hdr.type = get16(p + 4);
	m->hdr.flags = get16(p + 6);
	m->hdr.reqid = get32(p + 8);
	m->hdr.reserved = get32(p + 12);
	if (m->hdr.len != len)
		BAD("frame length mismatch");
	if (len > AMPSIPC_MAX_FRAME)
		BAD("frame too long");
	if (m->hdr.reserved != 0)
		BAD("reserved header field not zero");
	if (m->hdr.flags & ~AMPSIPC_F_ALL)
		BAD("unknown flags");
	if ((r = ipcwire_rule(m->hdr.type)) == NULL)
		BAD("unknown message type");
	if ((r->from_client != 0) != (from_client != 0))
		BAD("message type sent in the wrong direction");
	if ((m->hdr.flags & AMPSIPC_F_FATAL) && m->hdr.type != AMPSIPC_ERROR)
		BAD("fatal flag on a message other than ERROR");

	p += AMPSIPC_HDR_LEN;
	end = (const uint8_t *)frame + len;
	if ((size_t)(end - p) < r->prefix)
		BAD("body shorter than its fixed part");
	if (r->prefix >= 4)
		m->version = get32(p);
	if (r->prefix >= 8)
		m->pid = get32(p + 4);
	p += r->prefix;

	while (p != end) {
		if ((size_t)(end - p) < AMPSIPC_TLV_LEN)
			BAD("truncated field header");
		tag = get16(p);
		vlen = get32(p + 2);
		p += AMPSIPC_TLV_LEN;
		if (vlen > (size_t)(end - p))
			BAD("field longer than frame");
		if (tag >= AMPSIPC_T_LIMIT || ipcwire_tag_kind(tag) == 0)
			BAD("unknown tag");
		if (m->present & (UINT64_C(1) << tag))
			BAD("duplicate tag");
		if ((r->allowed & (UINT64_C(1) << tag)) == 0)
			BAD("tag not allowed in this message type");
		if (ipcwire_check_kind(ipcwire_tag_kind(tag), p, vlen, why) != 0)
			return (-1);
		m->present |= UINT64_C(1) << tag;
		m->f[tag].ptr = p;
		m->f[tag].len = vlen;
		p += vlen;
	}
	if ((m->present & r->required) != r->required)
		BAD("required field missing");
	return (ipcwire_check_values(m, why));
}

/* 1 if the decoded message has field tag. */
int
ipcwire_has(const struct ipcwire_msg *m, unsigned int tag)
{
	if (tag >= AMPSIPC_T_LIMIT)
		return (0);
	return ((m->present & (UINT64_C(1) << tag)) != 0);
}

/*
 * The bounded string getter: the string in field tag, or NULL if absent
 * or not a string field.  The decoder has checked its single NUL.
 */
const char *
ipcwire_str(const struct ipcwire_msg *m, unsigned int tag)
{
	if (!ipcwire_has(m, tag) || ipcwire_tag_kind(tag) != AMPSIPC_K_STR)
		return (NULL);
	if (m->f[tag].len == 0 || m->f[tag].ptr[m->f[tag].len - 1] != '\0')
		return (NULL);
	return ((const char *)m->f[tag].ptr);
}

/* The integer in field tag, or def if absent. */
uint64_t
ipcwire_num(const struct ipcwire_msg *m, unsigned int tag, uint64_t def)
{
	if (!ipcwire_has(m, tag))
		return (def);
	if (ipcwire_tag_kind(tag) != AMPSIPC_K_U32 &&
	    ipcwire_tag_kind(tag) != AMPSIPC_K_U64)
		return (def);
	if (m->f[tag].len == 4)
		return (get32(m->f[tag].ptr));
	if (m->f[tag].len == 8)
		return (get64(m->f[tag].ptr));
	return (def);
}

/* The bytes of field tag and their length, or NULL (length 0) if absent. */
const void *
ipcwire_bytes(const struct ipcwire_msg *m, unsigned int tag, size_t *lenp)
{
	*lenp = 0;
	if (!ipcwire_has(m, tag))
		return (NULL);
	*lenp = m->f[tag].len;
	return (m->f[tag].ptr);
}
