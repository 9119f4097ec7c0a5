/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Fuzz target for the configuration reader (daemon/conf-parse.c,
 * conf-parse-conn.c, conf.c).
 *
 * The input is parsed with conf_parse_buffer() and, if that succeeds,
 * checked with conf_check().  Invariants (abort() on violation):
 *  1. Every error message starts with the file name given ("fuzz.conf").
 *  2. Success means no error was recorded.
 *  3. A configuration that passed conf_check() is printed by conf_dump()
 *     in a form that parses and checks again (round trip).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Parse and check buf; returns 0 when both succeed. */
static int
load(const char *buf, size_t len, struct conf **cp, struct conf_errs *errs)
{
	size_t	i;
	int	rc;

	*cp = conf_new();
	rc = conf_parse_buffer(*cp, "fuzz.conf", buf, len, errs);
	if (rc == 0)
		rc = conf_check(*cp, errs);
	for (i = 0; i < errs->n; i++)
		if (strncmp(errs->v[i], "fuzz.conf", 9) != 0)
			abort();
	if (rc == 0 && errs->n != 0)
		abort();
	return (rc);
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errs	 errs = { NULL, 0 };
	struct conf		*c, *c2;
	char			*out = NULL;
	size_t			 len = 0;
	FILE			*f;

	if (load((const char *)data, size, &c, &errs) == 0) {
		if ((f = open_memstream(&out, &len)) == NULL)
			abort();
		conf_dump(c, f);
		fclose(f);
		if (load(out, len, &c2, &errs) != 0) {
			fprintf(stderr, "round trip failed:\n%s\n", out);
			abort();
		}
		conf_free(c2);
		free(out);
	}
	conf_errs_free(&errs);
	conf_free(c);
	return (0);
}
