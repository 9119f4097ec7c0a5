/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * crc32c.c: CRC-32C (Castagnoli), as used by iSCSI, ext4 metadata and
 * Kafka record batches.  Two implementations of the same function:
 *
 *  - slicing-by-8 over eight 256-entry tables (portable C), and
 *  - the SSE4.2 crc32 instruction on x86-64 CPUs that have it (chosen
 *    once, at load time).
 *
 * Invariants:
 *  1. Both give the same result for every input (tests/unit/check_crc32c
 *     compares them on random buffers and checks the standard vector
 *     crc32c("123456789") = 0xe3069283).
 *  2. The tables and the CPU choice are filled by a constructor before
 *     main() runs and never change afterwards, so any thread may call
 *     crc32c_update().
 */

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crc32c.h"

#define CRC32C_POLY	0x82f63b78u

static uint32_t	crc32c_tab[8][256];
static int	crc32c_hw;

/* Fill the tables and pick the implementation (invariant 2). */
static void __attribute__((__constructor__))
crc32c_init(void)
{
	uint32_t	c;
	int		i, j, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc32c_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = crc32c_tab[0][i];
		for (k = 1; k < 8; k++) {
			c = crc32c_tab[0][c & 0xff] ^ (c >> 8);
			crc32c_tab[k][i] = c;
		}
	}
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	crc32c_hw = __builtin_cpu_supports("sse4.2");
#endif
}

/* Portable slicing-by-8 (on the pre- and post-inverted register). */
static uint32_t
crc32c_sw(uint32_t c, const unsigned char *p, size_t n)
{
	uint32_t	lo, hi;

	while (n > 0 && ((uintptr_t)p & 7) != 0) {
		c = crc32c_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		n--;
	}
	while (n >= 8) {
		lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		c = crc32c_tab[7][lo & 0xff] ^ crc32c_tab[6][(lo >> 8) & 0xff] ^
		    crc32c_tab[5][(lo >> 16) & 0xff] ^ crc32c_tab[4][lo >> 24] ^
		    crc32c_tab[3][hi & 0xff] ^ crc32c_tab[2][(hi >> 8) & 0xff] ^
		    crc32c_tab[1][(hi >> 16) & 0xff] ^ crc32c_tab[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		c = crc32c_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return (c);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The SSE4.2 instruction, 8 bytes at a time. */
static uint32_t __attribute__((__target__("sse4.2")))
crc32c_x86(uint32_t c, const unsigned char *p, size_t n)
{
	uint64_t	c64, v;

	while (n > 0 && ((uintptr_t)p & 7) != 0) {
		c = __builtin_ia32_crc32qi(c, *p++);
		n--;
	}
	c64 = c;
	while (n >= 8) {
		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
		p += 8;
		n -= 8;
	}
	c = (uint32_t)c64;
	while (n-- > 0)
		c = __builtin_ia32_crc32qi(c, *p++);
	return (c);
}
#endif

/* Extend crc (0 to start) over len bytes at p. */
uint32_t
crc32c_update(uint32_t crc, const void *p, size_t len)
{
	uint32_t	c = ~crc;

	if (len == 0)
		return (crc);
#if defined(__x86_64__) && defined(__GNUC__)
	if (crc32c_hw)
		return (~crc32c_x86(c, p, len));
#endif
	return (~crc32c_sw(c, p, len));
}

/* Whether the hardware path is in use. */
int
crc32c_hardware(void)
{
	return (crc32c_hw);
}

/* For the unit test: the portable path whatever the CPU (invariant 1). */
uint32_t	crc32c_update_sw(uint32_t, const void *, size_t);
uint32_t
crc32c_update_sw(uint32_t crc, const void *p, size_t len)
{
	if (len == 0)
		return (crc);
	return (~crc32c_sw(~crc, p, len));
}
