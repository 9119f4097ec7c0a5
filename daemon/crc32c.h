/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * crc32c.h: CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the
 * checksum of every stored record (pubstore.c, bookmarkstore.c) and of
 * the commit-counter file (store.c).  Pure: no I/O, no global state
 * beyond a constant table.
 *
 * Incremental use: crc = crc32c_update(0, a, alen);
 * crc = crc32c_update(crc, b, blen) equals crc32c_update(0, ab, alen + blen).
 */

#ifndef AMPSD_CRC32C_H
#define AMPSD_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t	crc32c_update(uint32_t crc, const void *, size_t);

/* Whether crc32c_update() uses the CPU's crc32 instructions. */
int		crc32c_hardware(void);

#endif /* AMPSD_CRC32C_H */
