/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsim_testutil.h: helpers shared by the unit tests of ampsim's stores
 * (check_sowstore, check_queuestore).
 */

#ifndef AMPSIM_TESTUTIL_H
#define AMPSIM_TESTUTIL_H

#include <check.h>
#include <string.h>

#include "filter.h"

/* Compile a filter or fail the test with the compiler's message. */
static inline struct filter *
at_mkfilter(const char *text)
{
	struct filter	*f;
	char		 err[128];

	f = filter_compile(text, strlen(text), err, sizeof err);
	ck_assert_msg(f != NULL, "filter %s: %s", text, err);
	return (f);
}

#endif /* AMPSIM_TESTUTIL_H */
