/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * topic.h: the rules every topic a program sends must follow, and how
 * AMPS reads a topic (docs/PROTOCOL.md §12.8).  Pure functions, no I/O.
 */

#ifndef AMPSD_TOPIC_H
#define AMPSD_TOPIC_H

#include <stddef.h>

/* The longest topic in bytes (the publish store's limit too). */
#define TOPIC_MAX_LEN	(64 * 1024)

/*
 * Check topic[0..len): 1 to TOPIC_MAX_LEN bytes of valid UTF-8 (no
 * overlong form, no surrogate, nothing above U+10FFFF) without a control
 * character (U+0000-U+001F, U+007F-U+009F).  Returns 0, or -1 with a
 * reason written to why (cap bytes, NUL-terminated; why may be NULL).
 */
int	topic_check(const char *topic, size_t len, char *why, size_t cap);

/*
 * 1 if AMPS may read topic as a regular expression in a subscription or
 * query: it holds one of . * + ? ^ $ [ ] ( ) { } | \ (PROTOCOL.md §12.8).
 */
int	topic_is_regex(const char *topic);

/*
 * 1 if an allow-rule pattern matches every topic (".*", "^.*$", ...),
 * so the users it names need no check per message.
 */
int	topic_pattern_is_all(const char *pattern);

#endif /* AMPSD_TOPIC_H */
