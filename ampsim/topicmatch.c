/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * topicmatch.c: topic matching for subscriptions and queries (PROTOCOL.md
 * §12.8).  A topic containing any of . * + ? ^ $ [ ] ( ) { } | \ is an
 * unanchored PCRE2 pattern (so "trade.info" matches "every/trade/info");
 * any other topic, or any topic with non_regex set, matches exactly.
 * Owns the topic copy, the compiled pattern and its match data.
 *
 * Invariants:
 * 1. re != NULL exactly when the matcher is a regex.
 * 2. name holds len bytes (plus a NUL); matching compares lengths first.
 * 3. The match data is reused between calls, so one matcher must not be
 *    used from two threads at once (ampsim is single-threaded).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "topicmatch.h"

struct topicmatch {
	char			*name;
	size_t			 len;
	pcre2_code		*re;
	pcre2_match_data	*md;
};

/* Does topic contain a regex metacharacter? */
static int
topicmatch_has_meta(const char *topic, size_t len)
{
	static const char	 meta[] = ".*+?^$[](){}|\\";
	size_t			 i;

	for (i = 0; i < len; i++)
		if (topic[i] != '\0' && strchr(meta, topic[i]) != NULL)
			return (1);
	return (0);
}

/*
 * Create a matcher for topic[0..len).  Returns NULL on a malformed regex
 * (err gets "bad regex topic: ...") or when out of memory.
 */
struct topicmatch *
topicmatch_new(const char *topic, size_t len, int non_regex, char *err,
    size_t errlen)
{
	struct topicmatch	*tm;
	PCRE2_UCHAR		 msg[128];
	PCRE2_SIZE		 eoff;
	int			 ecode;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (topic == NULL)
		topic = "";
	if ((tm = calloc(1, sizeof *tm)) == NULL ||
	    (tm->name = malloc(len + 1)) == NULL) {
		free(tm);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	memcpy(tm->name, topic, len);
	tm->name[len] = '\0';
	tm->len = len;
	if (non_regex || !topicmatch_has_meta(topic, len))
		return (tm);
	tm->re = pcre2_compile((PCRE2_SPTR)topic, len, 0, &ecode, &eoff,
	    NULL);
	if (tm->re == NULL) {
		pcre2_get_error_message(ecode, msg, sizeof msg);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "bad regex topic: %s at offset "
			    "%zu", (const char *)msg, (size_t)eoff);
		topicmatch_free(tm);
		return (NULL);
	}
	if ((tm->md = pcre2_match_data_create(1, NULL)) == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory");
		topicmatch_free(tm);
		return (NULL);
	}
	return (tm);
}

/* 1 when the matcher is a regular expression. */
int
topicmatch_is_regex(const struct topicmatch *tm)
{
	return (tm != NULL && tm->re != NULL);
}

/* 1 when topic[0..len) matches. */
int
topicmatch_match(const struct topicmatch *tm, const char *topic, size_t len)
{
	if (tm == NULL || (topic == NULL && len > 0))
		return (0);
	if (topic == NULL)
		topic = "";
	if (tm->re == NULL)
		return (len == tm->len && memcmp(topic, tm->name, len) == 0);
	return (pcre2_match(tm->re, (PCRE2_SPTR)topic, len, 0, 0, tm->md,
	    NULL) >= 0);
}

/* Free a matcher; NULL is allowed. */
void
topicmatch_free(struct topicmatch *tm)
{
	if (tm == NULL)
		return;
	if (tm->md != NULL)
		pcre2_match_data_free(tm->md);
	if (tm->re != NULL)
		pcre2_code_free(tm->re);
	free(tm->name);
	free(tm);
}
