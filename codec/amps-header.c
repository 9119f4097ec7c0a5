/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * AMPS JSON headers (PROTOCOL.md §2.2, §2.3, §3): the field dictionary, the
 * parser, string unescaping, the writer, header re-encoding, the command
 * names and amps_strerror() for every AMPS_E_* code.
 *
 * The parser is on the hot path of every delivery.  It accepts a flat JSON
 * object whose values are strings or scalars, records a view (pointer and
 * length into the caller's buffer) for every known key and skips unknown
 * ones.  Escapes are checked while scanning but decoded only on demand
 * (amps_hdr_str, amps_hdr_eq, amps_unescape).  Speed comes from three
 * things: string values are scanned eight bytes at a time
 * (find_special), keys (short) byte by byte; one-byte keys are a table
 * lookup and the others a switch on length and first byte; and nothing
 * but present/norder is reset per parse.
 *
 * Invariants:
 *   (1) The parser never allocates, never writes outside *h, and never
 *       reads outside buf[0..len).  It resets only h->present and
 *       h->norder; h->v[f] and h->hdr_len mean something only for fields
 *       whose bit is set in present (hdr_len: after success).
 *   (2) A quoted view that the parser accepted is the body of a valid JSON
 *       string: every '\' starts a valid escape (surrogates paired), and
 *       there are no raw '"' or control bytes (< 0x20).  So copying a view
 *       with esc == 0 between quotes is already canonical output.
 *   (3) A bare view is a JSON number (RFC 8259 grammar) or true, false or
 *       null; nested objects and arrays are rejected (AMPS_E_SYNTAX).
 *   (4) Each known field appears at most once in h->order; a repeated key
 *       keeps its first position and takes the last value.
 *   (5) The writer never writes past cap; it keeps counting instead, so
 *       the return value of amps_wr_finish() is the size needed.
 *   (6) Writers emit the first ("send") spelling of a field, escape '"',
 *       '\' and bytes below 0x20, pass other bytes (UTF-8) through, and
 *       write numeric fields as bare integers when the value is canonical
 *       decimal digits.
 */

#include <limits.h>
#include <string.h>

#include "amps.h"

/* ------------------------------------------------------------ dictionary */

#define FIELD_NAME(e, s, alt, num)	s,
static const char *const field_names[AMPS_F__COUNT] = {
	AMPS_FIELDS(FIELD_NAME)
};
#undef FIELD_NAME

#define FIELD_NUM(e, s, alt, num)	num,
static const uint8_t field_numeric[AMPS_F__COUNT] = {
	AMPS_FIELDS(FIELD_NUM)
};
#undef FIELD_NUM

/*
 * The send spelling as the writer emits it, with the comma before and the
 * quote after: ,"name":"  (wr_key copies the part it needs in one go).
 */
struct wr_key {
	const char	*s;
	size_t		 len;
};
#define KEY_TEXT(s)			",\"" s "\":\""
#define FIELD_KEY(e, s, alt, num)	{ KEY_TEXT(s), sizeof(KEY_TEXT(s)) - 1 },
static const struct wr_key field_keys[AMPS_F__COUNT] = {
	AMPS_FIELDS(FIELD_KEY)
};
#undef FIELD_KEY
#undef KEY_TEXT

/* Send spelling of a field, or NULL for a value outside the enum. */
const char *
amps_field_name(enum amps_field f)
{
	if ((unsigned)f >= AMPS_F__COUNT)
		return (NULL);
	return (field_names[f]);
}

/* Whether a field is numeric (written bare). */
int
amps_field_numeric(enum amps_field f)
{
	if ((unsigned)f >= AMPS_F__COUNT)
		return (0);
	return (field_numeric[f]);
}

/* One-byte spellings, for the parser's fast path: field + 1, or 0. */
static const uint8_t key1[256] = {
	['a'] = AMPS_F_A + 1,
	['c'] = AMPS_F_C + 1,
	['e'] = AMPS_F_E + 1,
	['f'] = AMPS_F_F + 1,
	['k'] = AMPS_F_K + 1,
	['l'] = AMPS_F_L + 1,
	['o'] = AMPS_F_O + 1,
	['s'] = AMPS_F_S + 1,
	['t'] = AMPS_F_T + 1,
	['v'] = AMPS_F_VERSION + 1,
	['x'] = AMPS_F_X + 1,
};

/* Compare key k (of the length of the current case) with a literal. */
#define KEY(lit, f) do {						\
	if (memcmp(k, lit, sizeof(lit) - 1) == 0)			\
		return (AMPS_F_##f);					\
} while (0)

/*
 * Look a key up by any spelling (§3).  Dispatches on the length and then on
 * the first byte, so a lookup is at most a couple of fixed-size compares.
 * The unit tests check this against every spelling of AMPS_FIELDS.
 */
int
amps_field_lookup(const char *k, size_t len)
{
	switch (len) {
	case 1:
		switch (k[0]) {
		case 'a':
			return (AMPS_F_A);
		case 'c':
			return (AMPS_F_C);
		case 'e':
			return (AMPS_F_E);
		case 'f':
			return (AMPS_F_F);
		case 'k':
			return (AMPS_F_K);
		case 'l':
			return (AMPS_F_L);
		case 'o':
			return (AMPS_F_O);
		case 's':
			return (AMPS_F_S);
		case 't':
			return (AMPS_F_T);
		case 'v':
			return (AMPS_F_VERSION);
		case 'x':
			return (AMPS_F_X);
		}
		break;
	case 2:
		switch (k[0]) {
		case 'b':
			if (k[1] == 'm')
				return (AMPS_F_BM);
			if (k[1] == 's')
				return (AMPS_F_BS);
			break;
		case 'l':
			KEY("lp", LP);
			break;
		case 'm':
			KEY("mt", MT);
			break;
		case 'p':
			KEY("pw", PW);
			break;
		case 't':
			KEY("ts", TS);
			break;
		}
		break;
	case 3:
		switch (k[0]) {
		case 'c':
			KEY("cid", CID);
			KEY("cmd", C);
			break;
		case 's':
			KEY("seq", S);
			KEY("src", SRC);
			break;
		}
		break;
	case 4:
		switch (k[0]) {
		case 'g':
			KEY("gseq", GSEQ);
			break;
		case 'o':
			KEY("opts", O);
			break;
		case 's':
			KEY("sids", SIDS);
			break;
		}
		break;
	case 5:
		KEY("topic", T);
		KEY("top_n", TOP_N);
		break;
	case 6:
		switch (k[0]) {
		case 'c':
			KEY("cmd_id", CID);
			break;
		case 'f':
			KEY("filter", F);
			break;
		case 'r':
			KEY("reason", REASON);
			break;
		case 's':
			KEY("sub_id", SUB_ID);
			KEY("status", STATUS);
			KEY("skip_n", SKIP_N);
			break;
		case 'u':
			KEY("use_ns", USE_NS);
			break;
		}
		break;
	case 7:
		switch (k[0]) {
		case 'm':
			KEY("matches", MATCHES);
			KEY("msg_len", L);
			break;
		case 'o':
			KEY("orderby", ORDERBY);
			break;
		case 's':
			KEY("sow_key", K);
			break;
		case 'u':
			KEY("user_id", USER_ID);
			break;
		case 'v':
			KEY("version", VERSION);
			break;
		}
		break;
	case 8:
		switch (k[0]) {
		case 'a':
			KEY("ack_type", A);
			break;
		case 'b':
			KEY("bookmark", BM);
			break;
		case 'm':
			KEY("max_msgs", MAX_MSGS);
			break;
		case 'o':
			KEY("order_by", ORDERBY);
			break;
		case 'p':
			KEY("password", PW);
			break;
		case 'q':
			KEY("query_id", QUERY_ID);
			break;
		case 's':
			KEY("send_oof", SEND_OOF);
			KEY("sow_keys", SOW_KEYS);
			break;
		}
		break;
	case 9:
		switch (k[0]) {
		case 'd':
			KEY("data_only", DATA_ONLY);
			break;
		case 'h':
			KEY("heartbeat", HEARTBEAT);
			break;
		case 's':
			KEY("send_keys", SEND_KEYS);
			break;
		case 't':
			KEY("timestamp", TS);
			break;
		}
		break;
	case 10:
		KEY("batch_size", BS);
		KEY("expiration", E);
		KEY("send_empty", SEND_EMPTY);
		break;
	case 11:
		KEY("client_name", CLIENT_NAME);
		KEY("leaseperiod", LP);
		break;
	case 12:
		KEY("grace_period", GRACE_PERIOD);
		KEY("lease_period", LP);
		KEY("message_type", MT);
		break;
	case 13:
		KEY("topic_matches", TOPIC_MATCHES);
		break;
	case 14:
		KEY("correlation_id", X);
		break;
	case 15:
		KEY("records_deleted", RECORDS_DELETED);
		KEY("records_updated", RECORDS_UPDATED);
		break;
	case 16:
		KEY("maximum_messages", MAX_MSGS);
		KEY("records_inserted", RECORDS_INSERTED);
		KEY("records_returned", RECORDS_RETURNED);
		KEY("timeout_interval", TIMEOUT_INTERVAL);
		break;
	case 17:
		KEY("send_matching_ids", SEND_MATCHING_IDS);
		break;
	case 21:
		KEY("group_sequence_number", GSEQ);
		break;
	}
	return (-1);
}
#undef KEY

/* ----------------------------------------------------- character classes */

#define CL_QUOTE	1	/* '"' ends a string */
#define CL_BSLASH	2	/* '\' starts an escape */
#define CL_CTRL		3	/* raw control byte: not allowed in a string */

/* How the string scanner treats each byte; 0 means "part of the string". */
static const uint8_t str_class[256] = {
	CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL,
	CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL,
	CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL,
	CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL, CL_CTRL,
	['"'] = CL_QUOTE,
	['\\'] = CL_BSLASH,
};

/*
 * What the writer emits for each byte: 0 to copy it, 'u' for \u00XX, or
 * the letter that follows the backslash.
 */
static const char esc_class[256] = {
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	['"'] = '"',
	['\\'] = '\\',
};

static const char hexdigits[] = "0123456789abcdef";

/*
 * Find the first byte in [p, end) that is '"', '\' or below 0x20: the
 * bytes that end a plain run, both for the string scanner (str_class) and
 * for the escaper (esc_class).  On little-endian machines this looks at
 * eight bytes at a time: each term below sets the top bit of a byte that
 * matches (and, through borrows, possibly of bytes above a match, never
 * below one), so the lowest set bit marks the first match.
 */
static inline const unsigned char *
find_special(const unsigned char *p, const unsigned char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    defined(__GNUC__)
	const uint64_t	ones = 0x0101010101010101ULL;
	const uint64_t	highs = 0x8080808080808080ULL;
	uint64_t	v, q, b, m;

	while (end - p >= 8) {
		memcpy(&v, p, 8);
		q = v ^ (ones * '"');
		b = v ^ (ones * '\\');
		m = ((q - ones) | (b - ones) | (v - ones * 0x20)) & ~v & highs;
		if (m != 0)
			return (p + (__builtin_ctzll(m) >> 3));
		p += 8;
	}
#endif
	while (p < end && str_class[*p] == 0)
		p++;
	return (p);
}

/* JSON whitespace. */
static inline int
is_ws(char c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

/* Skip JSON whitespace. */
static inline const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && is_ws(*p))
		p++;
	return (p);
}

/* Value of a hex digit, or -1. */
static inline int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Read the four hex digits after "\u" at p (p points at the 'u').  Returns
 * the code unit, AMPS_E_TRUNCATED if the input ends first or AMPS_E_ESCAPE.
 */
static int
read_u4(const char *p, const char *end)
{
	int	i, d, cu = 0;

	for (i = 1; i <= 4; i++) {
		if (end - p <= i)
			return (AMPS_E_TRUNCATED);
		if ((d = hexval(p[i])) < 0)
			return (AMPS_E_ESCAPE);
		cu = (cu << 4) | d;
	}
	return (cu);
}

/*
 * Decode the escape at *pp (which points at a '\') into a code point;
 * advance *pp past it.  Returns the code point (>= 0), AMPS_E_TRUNCATED
 * when the input ends inside it, or AMPS_E_ESCAPE.  Surrogates must come
 * as a high-low pair.
 */
static int
decode_escape(const char **pp, const char *end)
{
	const char	*p = *pp;
	int		 hi, lo;

	if (end - p < 2)
		return (AMPS_E_TRUNCATED);
	switch (p[1]) {
	case '"':
	case '\\':
	case '/':
		*pp = p + 2;
		return ((unsigned char)p[1]);
	case 'b':
		*pp = p + 2;
		return ('\b');
	case 'f':
		*pp = p + 2;
		return ('\f');
	case 'n':
		*pp = p + 2;
		return ('\n');
	case 'r':
		*pp = p + 2;
		return ('\r');
	case 't':
		*pp = p + 2;
		return ('\t');
	case 'u':
		break;
	default:
		return (AMPS_E_ESCAPE);
	}
	if ((hi = read_u4(p + 1, end)) < 0)
		return (hi);
	p += 6;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return (AMPS_E_ESCAPE);		/* lone low surrogate */
	if (hi < 0xd800 || hi > 0xdbff) {
		*pp = p;
		return (hi);
	}
	if (end - p < 2)
		return (AMPS_E_TRUNCATED);
	if (p[0] != '\\' || p[1] != 'u')
		return (AMPS_E_ESCAPE);		/* lone high surrogate */
	if ((lo = read_u4(p + 1, end)) < 0)
		return (lo);
	if (lo < 0xdc00 || lo > 0xdfff)
		return (AMPS_E_ESCAPE);
	*pp = p + 6;
	return (0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
}

/* Encode code point cp (<= 0x10ffff) as UTF-8 into out; returns bytes. */
static int
put_utf8(char *out, int cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return (1);
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return (2);
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return (3);
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return (4);
}

/*
 * Decode the next piece of a raw string body at *pp: either a run of plain
 * bytes (returned as a pointer into the input through *run) or one escape
 * (decoded into tmp, at most 4 bytes).  Returns the number of bytes in the
 * piece, 0 at the end, or AMPS_E_ESCAPE.
 */
static int
next_piece(const char **pp, const char *end, const char **run, char *tmp)
{
	const char	*p = *pp, *q;
	int		 cp;

	if (p >= end)
		return (0);
	if (*p != '\\') {
		q = memchr(p, '\\', (size_t)(end - p));
		if (q == NULL)
			q = end;
		if (q - p > INT_MAX)
			q = p + INT_MAX;
		*run = p;
		*pp = q;
		return ((int)(q - p));
	}
	if ((cp = decode_escape(pp, end)) < 0)
		return (AMPS_E_ESCAPE);
	*run = tmp;
	return (put_utf8(tmp, cp));
}

/* ---------------------------------------------------------------- parser */

/*
 * Scan a string body starting at *pp (just after the opening quote) up to
 * the closing quote, checking every escape.  On success *pp points at the
 * closing quote and *esc says whether a '\' was seen.
 */
static inline int
scan_string(const char **pp, const char *end, uint8_t *esc)
{
	const unsigned char	*p = (const unsigned char *)*pp;
	const unsigned char	*e = (const unsigned char *)end;
	const char		*q;
	int			 rc;

	*esc = 0;
	for (;;) {
		p = find_special(p, e);
		if (p == e)
			return (AMPS_E_TRUNCATED);
		switch (str_class[*p]) {
		case CL_QUOTE:
			*pp = (const char *)p;
			return (0);
		case CL_CTRL:
			return (AMPS_E_SYNTAX);
		default:
			*esc = 1;
			q = (const char *)p;
			if ((rc = decode_escape(&q, end)) < 0)
				return (rc);
			p = (const unsigned char *)q;
			break;
		}
	}
}

/* Whether c is an ASCII digit. */
static inline int
is_digit(char c)
{
	return (c >= '0' && c <= '9');
}

/*
 * Scan a bare value at *pp: a JSON number, true, false or null.  On
 * success *pp points just past it.  The caller checks what follows.
 */
static int
scan_bare(const char **pp, const char *end)
{
	const char	*p = *pp, *lit;
	size_t		 n;

	if (*p == '-' || is_digit(*p)) {
		if (*p == '-' && ++p == end)
			return (AMPS_E_TRUNCATED);
		if (*p == '0')
			p++;
		else if (is_digit(*p)) {
			while (p < end && is_digit(*p))
				p++;
		} else
			return (AMPS_E_SYNTAX);
		if (p < end && *p == '.') {
			if (++p == end)
				return (AMPS_E_TRUNCATED);
			if (!is_digit(*p))
				return (AMPS_E_SYNTAX);
			while (p < end && is_digit(*p))
				p++;
		}
		if (p < end && (*p == 'e' || *p == 'E')) {
			if (++p < end && (*p == '+' || *p == '-'))
				p++;
			if (p == end)
				return (AMPS_E_TRUNCATED);
			if (!is_digit(*p))
				return (AMPS_E_SYNTAX);
			while (p < end && is_digit(*p))
				p++;
		}
		*pp = p;
		return (0);
	}

	switch (*p) {
	case 't':
		lit = "true";
		break;
	case 'f':
		lit = "false";
		break;
	case 'n':
		lit = "null";
		break;
	default:
		return (AMPS_E_SYNTAX);		/* includes '{' and '[' */
	}
	n = strlen(lit);
	if ((size_t)(end - p) < n) {
		if (memcmp(p, lit, (size_t)(end - p)) == 0)
			return (AMPS_E_TRUNCATED);
		return (AMPS_E_SYNTAX);
	}
	if (memcmp(p, lit, n) != 0)
		return (AMPS_E_SYNTAX);
	*pp = p + n;
	return (0);
}

/* Look up a key that held escapes by its decoded spelling. */
static int
lookup_escaped(const char *k, size_t len)
{
	char	tmp[32];
	int	n;

	if ((n = amps_unescape(k, len, tmp, sizeof tmp)) < 0)
		return (-1);		/* too long for any spelling */
	return (amps_field_lookup(tmp, (size_t)n));
}

/*
 * Parse the header at the start of buf[0..len) into h (see amps.h and the
 * invariants above).  Returns 0, or AMPS_E_NOT_OBJECT (first token is not
 * '{'), AMPS_E_TRUNCATED (input ended inside the header), AMPS_E_ESCAPE or
 * AMPS_E_SYNTAX.  An empty input is AMPS_E_TRUNCATED.
 */
int
amps_hdr_parse(const char *buf, size_t len, struct amps_hdr *h)
{
	const char	*p = buf, *end, *k, *vs;
	size_t		 klen;
	uint8_t		 kesc, vesc, quoted;
	uint64_t	 bit;
	int		 f, rc;

	if (len > UINT32_MAX)
		len = UINT32_MAX;	/* a header never exceeds a frame */
	end = buf + len;
	h->present = 0;
	h->norder = 0;

	p = skip_ws(p, end);
	if (p == end)
		return (AMPS_E_TRUNCATED);
	if (*p != '{')
		return (AMPS_E_NOT_OBJECT);
	p = skip_ws(p + 1, end);
	if (p == end)
		return (AMPS_E_TRUNCATED);
	if (*p == '}')
		goto done;

	for (;;) {
		/* Key. */
		if (*p != '"')
			return (AMPS_E_SYNTAX);
		k = ++p;
		/* Keys are short: a plain byte loop beats find_special. */
		while (p < end && str_class[(unsigned char)*p] == 0)
			p++;
		kesc = 0;
		if ((p == end || *p != '"') &&
		    (rc = scan_string(&p, end, &kesc)) != 0)
			return (rc);
		klen = (size_t)(p - k);
		p++;
		if (kesc)
			f = lookup_escaped(k, klen);
		else if (klen == 1)
			f = key1[(unsigned char)*k] - 1;
		else
			f = amps_field_lookup(k, klen);

		/* Colon. */
		if (p < end && *p != ':')
			p = skip_ws(p, end);
		if (p == end)
			return (AMPS_E_TRUNCATED);
		if (*p != ':')
			return (AMPS_E_SYNTAX);
		p++;
		if (p < end && is_ws(*p))
			p = skip_ws(p, end);
		if (p == end)
			return (AMPS_E_TRUNCATED);

		/* Value. */
		if (*p == '"') {
			vs = ++p;
			if ((rc = scan_string(&p, end, &vesc)) != 0)
				return (rc);
			quoted = 1;
		} else {
			vs = p;
			if ((rc = scan_bare(&p, end)) != 0)
				return (rc);
			vesc = 0;
			quoted = 0;
		}
		if (f >= 0) {
			bit = (uint64_t)1 << f;
			if ((h->present & bit) == 0) {
				h->present |= bit;
				h->order[h->norder++] = (uint8_t)f;
			}
			h->v[f].p = vs;
			h->v[f].len = (uint32_t)(p - vs);
			h->v[f].esc = vesc;
			h->v[f].quoted = quoted;
		}
		if (quoted)
			p++;

		/* Separator. */
		if (p < end && is_ws(*p))
			p = skip_ws(p, end);
		if (p == end)
			return (AMPS_E_TRUNCATED);
		if (*p == '}')
			break;
		if (*p != ',')
			return (AMPS_E_SYNTAX);
		p++;
		if (p < end && is_ws(*p))
			p = skip_ws(p, end);
		if (p == end)
			return (AMPS_E_TRUNCATED);
	}

done:
	h->hdr_len = (uint32_t)(p + 1 - buf);
	return (0);
}

/* ------------------------------------------------------------- accessors */

/* The raw view of a field, or NULL when absent or out of range. */
const struct amps_view *
amps_hdr_view(const struct amps_hdr *h, enum amps_field f)
{
	if ((unsigned)f >= AMPS_F__COUNT || !amps_hdr_has(h, f))
		return (NULL);
	return (&h->v[f]);
}

/*
 * Unescape the raw JSON string body in[0..len) into out, NUL-terminated.
 * Returns the decoded length, AMPS_E_NOSPACE when out (cap bytes, NUL
 * included) is too small, or AMPS_E_ESCAPE for a bad or cut escape.
 */
int
amps_unescape(const char *in, size_t len, char *out, size_t cap)
{
	const char	*p = in, *end = in + len, *run;
	char		 tmp[4];
	size_t		 n = 0;
	int		 rc;

	while ((rc = next_piece(&p, end, &run, tmp)) > 0) {
		if (cap == 0 || (size_t)rc >= cap - n ||
		    (size_t)rc > (size_t)INT_MAX - 1 - n)
			return (AMPS_E_NOSPACE);
		memcpy(out + n, run, (size_t)rc);
		n += (size_t)rc;
	}
	if (rc < 0)
		return (rc);
	if (cap == 0)
		return (AMPS_E_NOSPACE);
	out[n] = '\0';
	return ((int)n);
}

/*
 * Copy a field's unescaped value to out (NUL-terminated).  Returns its
 * length, AMPS_E_ABSENT, AMPS_E_NOSPACE or AMPS_E_ESCAPE.  A bare value is
 * copied as it was written.
 */
int
amps_hdr_str(const struct amps_hdr *h, enum amps_field f, char *out,
    size_t cap)
{
	const struct amps_view	*v;

	if ((v = amps_hdr_view(h, f)) == NULL)
		return (AMPS_E_ABSENT);
	if (v->esc)
		return (amps_unescape(v->p, v->len, out, cap));
	if (v->len >= cap || v->len > INT_MAX - 1)
		return (AMPS_E_NOSPACE);
	memcpy(out, v->p, v->len);
	out[v->len] = '\0';
	return ((int)v->len);
}

/*
 * A field as an unsigned 64-bit number: decimal digits only, bare or
 * quoted.  AMPS_E_ABSENT when absent; AMPS_E_RANGE when empty, not digits
 * (a sign, a fraction, an escape) or above UINT64_MAX.
 */
int
amps_hdr_u64(const struct amps_hdr *h, enum amps_field f, uint64_t *out)
{
	const struct amps_view	*v;
	uint64_t		 x = 0;
	uint32_t		 i;
	unsigned		 d;

	if ((v = amps_hdr_view(h, f)) == NULL)
		return (AMPS_E_ABSENT);
	if (v->len == 0 || v->esc)
		return (AMPS_E_RANGE);
	for (i = 0; i < v->len; i++) {
		if (!is_digit(v->p[i]))
			return (AMPS_E_RANGE);
		d = (unsigned)(v->p[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return (AMPS_E_RANGE);
		x = x * 10 + d;
	}
	*out = x;
	return (0);
}

/* True when a field is present and its unescaped value equals s. */
int
amps_hdr_eq(const struct amps_hdr *h, enum amps_field f, const char *s)
{
	const struct amps_view	*v;
	const char		*p, *end, *run;
	char			 tmp[4];
	size_t			 slen, off = 0;
	int			 rc;

	if ((v = amps_hdr_view(h, f)) == NULL)
		return (0);
	slen = strlen(s);
	if (!v->esc)
		return (v->len == slen && memcmp(v->p, s, slen) == 0);
	p = v->p;
	end = v->p + v->len;
	while ((rc = next_piece(&p, end, &run, tmp)) > 0) {
		if ((size_t)rc > slen - off ||
		    memcmp(s + off, run, (size_t)rc) != 0)
			return (0);
		off += (size_t)rc;
	}
	return (rc == 0 && off == slen);
}

/* Overlay rec on outer into dst (see amps.h); dst->hdr_len = rec's. */
void
amps_hdr_overlay(struct amps_hdr *dst, const struct amps_hdr *outer,
    const struct amps_hdr *rec)
{
	struct amps_hdr	 tmp;
	uint64_t	 bit;
	unsigned	 i, f;

	if (dst == rec) {
		tmp = *rec;
		rec = &tmp;
	}
	if (dst != outer) {
		dst->present = outer->present;
		dst->norder = outer->norder;
		for (i = 0; i < outer->norder; i++) {
			f = outer->order[i];
			dst->order[i] = (uint8_t)f;
			dst->v[f] = outer->v[f];
		}
	}
	for (i = 0; i < rec->norder; i++) {
		f = rec->order[i];
		bit = (uint64_t)1 << f;
		if ((dst->present & bit) == 0) {
			dst->present |= bit;
			dst->order[dst->norder++] = (uint8_t)f;
		}
		dst->v[f] = rec->v[f];
	}
	dst->hdr_len = rec->hdr_len;
}

/* ---------------------------------------------------------------- writer */

/* Append n bytes, or just count them once the buffer is full. */
static inline void
wr_put(struct amps_wr *w, const void *s, size_t n)
{
	if (w->len <= w->cap && n <= w->cap - w->len)
		memcpy(w->buf + w->len, s, n);
	else if (w->len < w->cap)
		memcpy(w->buf + w->len, s, w->cap - w->len);
	w->len += n;
}

/* Append one byte. */
static inline void
wr_byte(struct amps_wr *w, char c)
{
	if (w->len < w->cap)
		w->buf[w->len] = c;
	w->len++;
}

/* Append s[0..len) JSON-escaped (invariant 6). */
static void
wr_escape(struct amps_wr *w, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*end = p + len, *run;
	char			 e[6];
	char			 c;

	while (p < end) {
		run = p;
		p = find_special(p, end);
		if (p > run)
			wr_put(w, run, (size_t)(p - run));
		if (p == end)
			break;
		c = esc_class[*p];
		e[0] = '\\';
		if (c == 'u') {
			e[1] = 'u';
			e[2] = '0';
			e[3] = '0';
			e[4] = hexdigits[*p >> 4];
			e[5] = hexdigits[*p & 0xf];
			wr_put(w, e, 6);
		} else {
			e[1] = c;
			wr_put(w, e, 2);
		}
		p++;
	}
}

/*
 * Append the comma (unless first), "key": and, when quote is set, the
 * opening quote of a string value, for field f.
 */
static inline void
wr_key(struct amps_wr *w, enum amps_field f, int quote)
{
	size_t	skip = w->nfields++ == 0;

	wr_put(w, field_keys[f].s + skip, field_keys[f].len - skip -
	    (quote ? 0 : 1));
}

/* True when s[0..len) is a canonical unsigned decimal (no leading 0). */
static int
canonical_digits(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
		return (0);
	for (i = 0; i < len; i++)
		if (!is_digit(s[i]))
			return (0);
	return (1);
}

/* Start a prefixed frame in buf[0..cap): reserve the prefix, open '{'. */
void
amps_wr_begin(struct amps_wr *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 4;
	w->start = 4;
	w->nfields = 0;
	w->prefixed = 1;
	wr_byte(w, '{');
}

/* Start a bare header (no prefix) in buf[0..cap). */
void
amps_wr_begin_bare(struct amps_wr *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->start = 0;
	w->nfields = 0;
	w->prefixed = 0;
	wr_byte(w, '{');
}

/* Start a brace-less list of fields in buf[0..cap). */
void
amps_wr_begin_fields(struct amps_wr *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->start = 0;
	w->nfields = 0;
	w->prefixed = 0;
}

/* Splice a brace-less list of fields (amps_wr_begin_fields) into w. */
void
amps_wr_fields(struct amps_wr *w, const char *fields, size_t len)
{
	if (len == 0)
		return;
	if (w->nfields++ > 0)
		wr_byte(w, ',');
	wr_put(w, fields, len);
}

/*
 * Append "key":"escaped s".  A numeric field whose value is canonical
 * digits is written bare.  An out-of-range field is ignored.
 */
void
amps_wr_str(struct amps_wr *w, enum amps_field f, const char *s,
    size_t len)
{
	if ((unsigned)f >= AMPS_F__COUNT)
		return;
	if (field_numeric[f] && canonical_digits(s, len)) {
		wr_key(w, f, 0);
		wr_put(w, s, len);
		return;
	}
	wr_key(w, f, 1);
	wr_escape(w, s, len);
	wr_byte(w, '"');
}

/* Append "key":"escaped s" for a NUL-terminated s. */
void
amps_wr_cstr(struct amps_wr *w, enum amps_field f, const char *s)
{
	amps_wr_str(w, f, s, strlen(s));
}

/* Append "key":digits. */
void
amps_wr_u64(struct amps_wr *w, enum amps_field f, uint64_t x)
{
	char	d[20];
	size_t	i = sizeof d;

	if ((unsigned)f >= AMPS_F__COUNT)
		return;
	do {
		d[--i] = (char)('0' + x % 10);
		x /= 10;
	} while (x != 0);
	wr_key(w, f, 0);
	wr_put(w, d + i, sizeof d - i);
}

/*
 * Append a view from a parse as it was: a quoted view between quotes (its
 * body is already valid JSON, invariant 2), a bare one bare.  Quoted
 * canonical digits of a numeric field are written bare.
 */
void
amps_wr_view(struct amps_wr *w, enum amps_field f, const struct amps_view *v)
{
	if ((unsigned)f >= AMPS_F__COUNT)
		return;
	if (!v->quoted ||
	    (field_numeric[f] && canonical_digits(v->p, v->len))) {
		wr_key(w, f, 0);
		wr_put(w, v->p, v->len);
		return;
	}
	wr_key(w, f, 1);
	wr_put(w, v->p, v->len);
	wr_byte(w, '"');
}

/*
 * Append a view canonically: like amps_wr_view, but a string with escapes
 * is decoded and escaped again the way the writer escapes.
 */
static void
wr_view_canon(struct amps_wr *w, enum amps_field f, const struct amps_view *v)
{
	const char	*p, *end, *run;
	char		 tmp[4];
	int		 rc;

	if (!v->esc) {
		amps_wr_view(w, f, v);
		return;
	}
	wr_key(w, f, 1);
	p = v->p;
	end = v->p + v->len;
	while ((rc = next_piece(&p, end, &run, tmp)) > 0)
		wr_escape(w, run, (size_t)rc);
	wr_byte(w, '"');
}

/*
 * Close the header, append the payload and patch the prefix.  Returns the
 * total size needed (prefix included when prefixed); the frame is complete
 * only when that is <= cap.  AMPS_E_TOOBIG when the body would not fit the
 * 32-bit prefix.
 */
long long
amps_wr_finish(struct amps_wr *w, const void *payload, size_t len)
{
	size_t	body;

	wr_byte(w, '}');
	if (len > 0)
		wr_put(w, payload, len);
	if (w->prefixed) {
		body = w->len - 4;
		if (body > UINT32_MAX || len > UINT32_MAX)
			return (AMPS_E_TOOBIG);
		if (w->len <= w->cap)
			amps_frame_put_len(w->buf, (uint32_t)body);
	}
	if (w->len > (unsigned long long)LLONG_MAX)
		return (AMPS_E_TOOBIG);
	return ((long long)w->len);
}

/*
 * Close the header of a prefixed frame whose len-byte payload the caller
 * sends separately.  Returns the header's size (prefix included).
 */
long long
amps_wr_finish_head(struct amps_wr *w, size_t len)
{
	size_t	body;

	wr_byte(w, '}');
	body = w->len - 4 + len;
	if (!w->prefixed || body > UINT32_MAX || len > UINT32_MAX ||
	    body < len)
		return (AMPS_E_TOOBIG);
	if (w->len <= w->cap)
		amps_frame_put_len(w->buf, (uint32_t)body);
	return ((long long)w->len);
}

/*
 * Re-encode a parsed header with send spellings: `c` first, the others in
 * parsed order, numeric fields bare when canonical, escaped strings
 * re-escaped canonically.  Same return convention as amps_wr_finish.
 */
long long
amps_hdr_write(const struct amps_hdr *h, int prefixed, const void *payload,
    size_t len, char *buf, size_t cap)
{
	struct amps_wr	w;
	unsigned	i, f;

	if (prefixed)
		amps_wr_begin(&w, buf, cap);
	else
		amps_wr_begin_bare(&w, buf, cap);
	if (amps_hdr_has(h, AMPS_F_C))
		wr_view_canon(&w, AMPS_F_C, &h->v[AMPS_F_C]);
	for (i = 0; i < h->norder; i++) {
		f = h->order[i];
		if (f != AMPS_F_C)
			wr_view_canon(&w, (enum amps_field)f, &h->v[f]);
	}
	return (amps_wr_finish(&w, payload, len));
}

/*
 * Escape s[0..len) as a JSON string body into out.  Returns the bytes
 * needed (without a NUL); like snprintf, out is NUL-terminated when that
 * is < cap.
 */
size_t
amps_escape(const char *s, size_t len, char *out, size_t cap)
{
	struct amps_wr	w;

	w.buf = out;
	w.cap = cap;
	w.len = 0;
	w.start = 0;
	w.nfields = 0;
	w.prefixed = 0;
	wr_escape(&w, s, len);
	if (w.len < cap)
		out[w.len] = '\0';
	return (w.len);
}

/* -------------------------------------------------------------- commands */

#define CMD_NAME(e, s)	s,
static const char *const cmd_names[AMPS_CMD__COUNT] = {
	AMPS_CMDS(CMD_NAME)
};
#undef CMD_NAME

/* Compare s (of the length of the current case) with a literal. */
#define CMD(lit, c) do {						\
	if (memcmp(s, lit, sizeof(lit) - 1) == 0)			\
		return (AMPS_CMD_##c);					\
} while (0)

/*
 * Command by name ("p" and "publish" are both AMPS_CMD_PUBLISH);
 * AMPS_CMD_UNKNOWN for anything else.
 */
enum amps_cmd
amps_cmd_parse(const char *s, size_t len)
{
	switch (len) {
	case 1:
		if (s[0] == 'p')
			return (AMPS_CMD_PUBLISH);
		break;
	case 3:
		CMD("sow", SOW);
		CMD("ack", ACK);
		CMD("oof", OOF);
		break;
	case 5:
		CMD("logon", LOGON);
		CMD("flush", FLUSH);
		break;
	case 7:
		CMD("publish", PUBLISH);
		break;
	case 9:
		CMD("heartbeat", HEARTBEAT);
		CMD("subscribe", SUBSCRIBE);
		CMD("group_end", GROUP_END);
		break;
	case 10:
		CMD("sow_delete", SOW_DELETE);
		CMD("stop_timer", STOP_TIMER);
		break;
	case 11:
		CMD("unsubscribe", UNSUBSCRIBE);
		CMD("group_begin", GROUP_BEGIN);
		CMD("start_timer", START_TIMER);
		break;
	case 13:
		CMD("delta_publish", DELTA_PUBLISH);
		break;
	case 15:
		CMD("delta_subscribe", DELTA_SUBSCRIBE);
		break;
	case 17:
		CMD("sow_and_subscribe", SOW_AND_SUBSCRIBE);
		break;
	case 23:
		CMD("sow_and_delta_subscribe", SOW_AND_DELTA_SUBSCRIBE);
		break;
	}
	return (AMPS_CMD_UNKNOWN);
}
#undef CMD

/* The command of a parsed header; AMPS_CMD_UNKNOWN when absent. */
enum amps_cmd
amps_hdr_cmd(const struct amps_hdr *h)
{
	const struct amps_view	*v;
	char			 tmp[32];
	int			 n;

	if ((v = amps_hdr_view(h, AMPS_F_C)) == NULL)
		return (AMPS_CMD_UNKNOWN);
	if (!v->esc)
		return (amps_cmd_parse(v->p, v->len));
	if ((n = amps_unescape(v->p, v->len, tmp, sizeof tmp)) < 0)
		return (AMPS_CMD_UNKNOWN);
	return (amps_cmd_parse(tmp, (size_t)n));
}

/* Wire name of a command ("" for UNKNOWN or out of range). */
const char *
amps_cmd_name(enum amps_cmd c)
{
	if ((unsigned)c >= AMPS_CMD__COUNT)
		return ("");
	return (cmd_names[c]);
}

/* ---------------------------------------------------------------- errors */

/* A short message for an AMPS_E_* code. */
const char *
amps_strerror(int e)
{
	switch (e) {
	case 0:
		return ("success");
	case AMPS_E_TRUNCATED:
		return ("input ended inside a token");
	case AMPS_E_SYNTAX:
		return ("header is not valid flat JSON");
	case AMPS_E_NOT_OBJECT:
		return ("header does not start with '{'");
	case AMPS_E_ESCAPE:
		return ("bad escape in a JSON string");
	case AMPS_E_TOOBIG:
		return ("frame length above the maximum");
	case AMPS_E_RANGE:
		return ("number missing, malformed or out of range");
	case AMPS_E_NOSPACE:
		return ("output buffer too small");
	case AMPS_E_URI:
		return ("invalid URI");
	case AMPS_E_TRANSPORT_OPT:
		return ("invalid transport options");
	case AMPS_E_TRANSPORT_TYPE:
		return ("unknown transport type");
	case AMPS_E_SOW_RECORD:
		return ("SOW record without l, or l beyond the frame");
	case AMPS_E_ABSENT:
		return ("field not present");
	case AMPS_E_BOOKMARK:
		return ("malformed bookmark");
	case AMPS_E_OPTIONS:
		return ("unbalanced brackets in options");
	case AMPS_E_ACKTYPE:
		return ("unknown ack type");
	}
	return ("unknown error");
}
