/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Topic matching for subscriptions and queries (PROTOCOL.md §12.8): a topic
 * with regex characters (. * + ? ^ $ [ ] ( ) { } | \) is an unanchored PCRE2
 * pattern, otherwise an exact name; option non_regex_topic forces exact.
 */
#ifndef AMPSIM_TOPICMATCH_H
#define AMPSIM_TOPICMATCH_H

#include <stddef.h>

struct topicmatch;

/* NULL on a malformed regex ("bad regex topic"), message in err. */
struct topicmatch *topicmatch_new(const char *topic, size_t len,
		    int non_regex, char *err, size_t errlen);
int		 topicmatch_is_regex(const struct topicmatch *);
int		 topicmatch_match(const struct topicmatch *, const char *topic,
		    size_t len);
void		 topicmatch_free(struct topicmatch *);

#endif /* AMPSIM_TOPICMATCH_H */
