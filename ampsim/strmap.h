/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Small intrusive indexes shared by the ampsim stores: a string-keyed hash
 * map and a min-heap ordered by (when, tie).  The caller embeds the node
 * in its own struct and gets back to it with STRMAP_ENTRY.  Pure logic.
 */
#ifndef AMPSIM_STRMAP_H
#define AMPSIM_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#define STRMAP_ENTRY(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct strmap_node {
	struct strmap_node	*next;
	const char		*key;	/* borrowed from the owner */
	uint64_t		 hash;
};

struct strmap {
	struct strmap_node	**b;
	size_t			  nb;	/* power of two, or 0 */
	size_t			  n;
};

void		 strmap_init(struct strmap *);
void		 strmap_free(struct strmap *);
struct strmap_node *strmap_find(const struct strmap *, const char *key);
void		 strmap_insert(struct strmap *, struct strmap_node *,
		    const char *key);
void		 strmap_remove(struct strmap *, struct strmap_node *);

#define THEAP_NONE	((size_t)-1)

struct theap_node {
	uint64_t	 when;
	uint64_t	 tie;
	size_t		 idx;	/* position in the heap, THEAP_NONE if out */
};

struct theap {
	struct theap_node	**v;
	size_t			  n;
	size_t			  cap;
};

void		 theap_init(struct theap *);
void		 theap_free(struct theap *);
void		 theap_insert(struct theap *, struct theap_node *);
void		 theap_remove(struct theap *, struct theap_node *);
struct theap_node *theap_min(const struct theap *);

#endif /* AMPSIM_STRMAP_H */
