/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Fuzz target for ampsim's content filter (PROTOCOL.md §12):
 * filter_compile / filter_match / filter_free (ampsim/filter*.c).
 *
 * The input is the filter text (not NUL-terminated: filter_compile gets
 * the exact length, so an over-read is an ASan error).  When it compiles,
 * it is evaluated against a few fixed JSON documents (nested objects,
 * arrays, empty strings, INT64 extremes, NaN-free doubles,
 * unicode).  Checked invariants (abort() on violation):
 *  1. Failure returns NULL with a NUL-terminated message starting with
 *     "bad filter"; success leaves no requirement on err.
 *  2. filter_match returns 0 or 1, and the same answer twice in a row
 *     (evaluation has no hidden state).
 *  3. Compiling the same text again gives the same answers (the compiler
 *     is deterministic).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "filter.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const docs_text[] = {
	"{}",
	"{\"sender\":\"mom\",\"status\":\"ACTIVE\",\"id\":42,"
	    "\"A\":50,\"data\":\"zebra\",\"client\":{\"country\":\"US\"}}",
	"{\"Order\":{\"Instrument\":{\"Symbol\":\"IBM\"},\"Px\":90.5,"
	    "\"Qty\":-3},\"id\":\"64\",\"optionalField\":\"\","
	    "\"a\":[1,2,3],\"C\":[{\"C1\":\"x\"},{\"C1\":\"y\"}]}",
	"{\"big\":9223372036854775807,\"neg\":-9223372036854775808,"
	    "\"f\":1e308,\"z\":0,\"s\":\"2.000\",\"t\":true,\"n\":null,"
	    "\"u\":\"\\u00e9t\\u00e9\",\"odd name\":7,\"e\":[],"
	    "\"deep\":{\"a\":{\"b\":{\"c\":[[1],[2,[3]]]}}}}",
};
#define NDOCS	(sizeof docs_text / sizeof docs_text[0])

static json_t	*docs[NDOCS];

/* Parse the fixed documents once. */
static void
docs_init(void)
{
	size_t	i;

	if (docs[0] != NULL)
		return;
	for (i = 0; i < NDOCS; i++)
		if ((docs[i] = json_loads(docs_text[i], 0, NULL)) == NULL)
			abort();
}

/* Evaluate f on every document; bit i of the result is doc i's answer. */
static unsigned
eval_all(const struct filter *f)
{
	unsigned	bits = 0;
	size_t		i;
	int		r, r2;

	for (i = 0; i < NDOCS; i++) {
		r = filter_match(f, docs[i]);
		r2 = filter_match(f, docs[i]);
		if ((r != 0 && r != 1) || r != r2)
			abort();
		bits |= (unsigned)r << i;
	}
	return (bits);
}

/* Compile, check, evaluate and recompile the input as a filter. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter	*f, *g;
	char		 err[256];
	unsigned	 a, b;

	docs_init();
	memset(err, 'X', sizeof err);
	f = filter_compile((const char *)data, size, err, sizeof err);
	if (f == NULL) {
		if (memchr(err, '\0', sizeof err) == NULL ||
		    strncmp(err, "bad filter", 10) != 0)
			abort();
		return (0);
	}
	a = eval_all(f);
	filter_free(f);
	if ((g = filter_compile((const char *)data, size, err,
	    sizeof err)) == NULL)
		abort();
	b = eval_all(g);
	filter_free(g);
	if (a != b)
		abort();
	return (0);
}
