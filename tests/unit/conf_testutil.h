/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * conf_testutil.h: helpers shared by the configuration unit tests
 * (check_conf, check_confmetrics, check_confdiff): parse and check a
 * text the way ampsd reads a file, collecting every message, and
 * conf_dump() into a string.
 */

#ifndef CONF_TESTUTIL_H
#define CONF_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define CT_UNUSED	__attribute__((__unused__))

/*
 * Parse text as "t.conf" and, if it parses, check it; return every
 * message joined by '\n' ("" for none; caller frees).  The
 * configuration goes to *out if out is not NULL (caller frees), else it
 * is freed.
 */
static CT_UNUSED char *
ct_run(const char *text, struct conf **out)
{
	struct conf		*c = conf_new();
	struct conf_errs	 errs = { NULL, 0 };
	char			*all = NULL;
	size_t			 len = 0, i;
	FILE			*f;

	if (conf_parse_buffer(c, "t.conf", text, strlen(text), &errs) == 0)
		conf_check(c, &errs);
	f = open_memstream(&all, &len);
	for (i = 0; i < errs.n; i++)
		fprintf(f, "%s%s", i ? "\n" : "", errs.v[i]);
	fclose(f);
	conf_errs_free(&errs);
	if (out != NULL)
		*out = c;
	else
		conf_free(c);
	return (all);
}

/* conf_dump(c) as a string; caller frees. */
static CT_UNUSED char *
ct_dump(const struct conf *c)
{
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&out, &len);
	conf_dump(c, f);
	fclose(f);
	return (out);
}

#endif /* CONF_TESTUTIL_H */
