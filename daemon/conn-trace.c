/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The wire trace (trace category "wire"): every frame sent to or read
 * from an AMPS server, one log line each, the role the AMPS client's
 * transport filter plays for its users (PROTOCOL.md §E.7, "Transport filter").
 * conn.c calls in just before a frame is queued for writing and just after it
 * was read, with TLS already removed:
 *
 *	connection main: wire -> 71 bytes: {"c":"p","t":"orders",...}{"id":1}
 *	connection main: wire <- 92 bytes: {"c":"ack","a":"persisted",...}
 *
 * The length counts header and payload (not the 4-byte prefix).  The
 * header is shown up to 1024 bytes, the payload up to 256, both escaped
 * by log_safe_n().
 *
 * Invariants:
 *   (1) A password never reaches the log: the value of every "pw" header
 *       field (logon, logon retry) is replaced by "***".
 *   (2) Nothing is formatted unless TRACE_WIRE is on.
 *   (3) Only the bytes given are read (no NUL is assumed).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "conf.h"
#include "conn-int.h"
#include "log.h"

#define CONN_TRACE_HDR		1024
#define CONN_TRACE_BODY		256

/*
 * Copy the header hdr (len bytes) to out (cap bytes; at least 2 x len +
 * 8) with the value of every "pw" field replaced by "***" (invariant 1).
 * Returns the length written.
 */
size_t
conn_trace_redact(const char *hdr, size_t len, char *out, size_t cap)
{
	static const char	 key[] = "\"pw\"";
	size_t			 i = 0, o = 0, j;

	while (i < len && o + 8 < cap) {
		if (len - i < sizeof key - 1 ||
		    memcmp(hdr + i, key, sizeof key - 1) != 0) {
			out[o++] = hdr[i++];
			continue;
		}
		memcpy(out + o, key, sizeof key - 1);
		o += sizeof key - 1;
		i += sizeof key - 1;
		/* Copy up to the opening quote of the value. */
		while (i < len && hdr[i] != '"' && o + 8 < cap) {
			if (hdr[i] != ':' && hdr[i] != ' ')
				break;
			out[o++] = hdr[i++];
		}
		if (i >= len || hdr[i] != '"')
			continue;
		/* Skip the value, honouring backslash escapes. */
		for (j = i + 1; j < len && hdr[j] != '"'; j++)
			if (hdr[j] == '\\')
				j++;
		memcpy(out + o, "\"***\"", 5);
		o += 5;
		i = j < len ? j + 1 : len;
	}
	return (o);
}

/*
 * Log one frame of c: out is 1 for sent, 0 for received.  The header is
 * h1 (l1 bytes) followed by h2 (l2 bytes, may be 0), then body (blen).
 */
void
conn_trace_parts(const struct conn *c, int out, const char *h1, size_t l1,
    const char *h2, size_t l2, const char *body, size_t blen)
{
	char	hdr[CONN_TRACE_HDR], red[2 * CONN_TRACE_HDR + 8];
	size_t	hlen = 0, n, rlen;

	if (!(log_tracemask & TRACE_WIRE))
		return;
	n = l1 < sizeof hdr ? l1 : sizeof hdr;
	memcpy(hdr, h1, n);
	hlen = n;
	if (l2 > 0 && hlen < sizeof hdr) {
		n = l2 < sizeof hdr - hlen ? l2 : sizeof hdr - hlen;
		memcpy(hdr + hlen, h2, n);
		hlen += n;
	}
	rlen = conn_trace_redact(hdr, hlen, red, sizeof red);
	log_trace0("connection %s: wire %s %zu bytes: %s%s%s", c->name,
	    out ? "->" : "<-", l1 + l2 + blen,
	    log_safe_n(red, rlen, rlen), l1 + l2 > hlen ? "..." : "",
	    log_safe_n(body != NULL ? body : "", blen, CONN_TRACE_BODY));
}

/*
 * Log one whole frame (header and payload, no prefix) of len bytes;
 * hdr_len splits it, or is 0 to find the split by parsing the header.
 */
void
conn_trace_frame(const struct conn *c, int out, const char *frame,
    size_t len, size_t hdr_len)
{
	struct amps_hdr	h;

	if (!(log_tracemask & TRACE_WIRE))
		return;
	if (hdr_len == 0 || hdr_len > len)
		hdr_len = amps_hdr_parse(frame, len, &h) == 0 ? h.hdr_len : len;
	conn_trace_parts(c, out, frame, hdr_len, NULL, 0, frame + hdr_len,
	    len - hdr_len);
}
