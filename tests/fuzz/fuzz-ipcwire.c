/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Fuzz target for the IPC wire decoder (libampsipc/ipcwire.c).
 *
 * The input is offered as a byte stream the way the daemon and the
 * library read it: ipcwire_frame_len() finds each frame, ipcwire_decode()
 * decodes it from both directions.  Checked invariants (abort() on
 * violation):
 *  1. Every present field lies inside the frame; string fields end in
 *     their only NUL; numeric fields have their exact size.
 *  2. A decoded frame re-encodes, field by field, to the same bytes
 *     whenever its fields were in ascending tag order.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc-wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Check invariant 1 for one decoded frame. */
static void
check_fields(const struct ipcwire_msg *m, const uint8_t *fr, size_t len)
{
	unsigned int	 t;
	const char	*s;

	for (t = 0; t < AMPSIPC_T_LIMIT; t++) {
		if (!ipcwire_has(m, t))
			continue;
		if (m->f[t].ptr < fr || m->f[t].ptr + m->f[t].len > fr + len)
			abort();
		if ((s = ipcwire_str(m, t)) != NULL &&
		    strlen(s) + 1 != m->f[t].len)
			abort();
	}
}

/* Check invariant 2: re-encode in tag order and compare. */
static void
check_reencode(const struct ipcwire_msg *m, const uint8_t *fr, size_t len)
{
	struct ipcwire_enc	 e;
	uint8_t			*buf;
	size_t			 n;
	unsigned int		 t;
	const void		*p;

	if ((buf = malloc(len)) == NULL)
		return;
	ipcwire_begin(&e, buf, len, m->hdr.type, m->hdr.flags, m->hdr.reqid);
	if (m->hdr.type == AMPSIPC_HELLO || m->hdr.type == AMPSIPC_VERSION_BAD)
		ipcwire_put_raw32(&e, m->version);
	if (m->hdr.type == AMPSIPC_HELLO)
		ipcwire_put_raw32(&e, m->pid);
	for (t = 0; t < AMPSIPC_T_LIMIT; t++) {
		if (!ipcwire_has(m, t))
			continue;
		p = ipcwire_bytes(m, t, &n);
		ipcwire_put_bytes(&e, (uint16_t)t, p, n);
	}
	if (ipcwire_end(&e, &n) == 0 && n == len && memcmp(buf, fr, len) != 0) {
		/* Differs only if the input's tags were out of order. */
		const uint8_t	*q = fr + AMPSIPC_HDR_LEN;
		unsigned int	 last = 0, tag;
		int		 sorted = 1;

		if (m->hdr.type == AMPSIPC_HELLO)
			q += 8;
		else if (m->hdr.type == AMPSIPC_VERSION_BAD)
			q += 4;
		while (q + AMPSIPC_TLV_LEN <= fr + len) {
			tag = q[0] | (q[1] << 8);
			if (tag < last)
				sorted = 0;
			last = tag;
			q += AMPSIPC_TLV_LEN + ((uint32_t)q[2] |
			    ((uint32_t)q[3] << 8) | ((uint32_t)q[4] << 16) |
			    ((uint32_t)q[5] << 24));
		}
		if (sorted)
			abort();
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipcwire_msg	 m;
	const char		*why;
	uint32_t		 len;
	size_t			 off = 0;
	int			 dir;

	while (off < size) {
		if (ipcwire_frame_len(data + off, size - off, 0, &len) != 1 ||
		    len > size - off)
			break;
		for (dir = 0; dir < 2; dir++) {
			if (ipcwire_decode(data + off, len, dir, &m, &why) == 0) {
				check_fields(&m, data + off, len);
				check_reencode(&m, data + off, len);
			} else if (why == NULL)
				abort();
		}
		off += len;
	}
	return (0);
}
