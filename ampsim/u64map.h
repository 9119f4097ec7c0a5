/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * u64map.h: a u64 -> u64 hash map that grows incrementally (u64map.c).
 * Pure logic; a zeroed struct is an empty map.
 */

#ifndef AMPSIM_U64MAP_H
#define AMPSIM_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64tab {
	uint64_t	*keys;
	uint64_t	*vals;
	uint8_t		*used;
	size_t		 cap;
};

struct u64map {
	struct u64tab	 t;		/* where new keys go */
	struct u64tab	 old;		/* being moved into t, or empty */
	size_t		 opos;		/* old slots before opos are moved */
	size_t		 n;		/* keys in both */
};

void	 u64map_put(struct u64map *, uint64_t, uint64_t);
int	 u64map_get(const struct u64map *, uint64_t, uint64_t *);
void	 u64map_free(struct u64map *);

#endif /* AMPSIM_U64MAP_H */
