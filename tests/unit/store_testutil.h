/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * store_testutil.h: helpers shared by the store unit tests: a temporary
 * directory per test (created in a checked fixture, so inside Check's
 * per-test child), removed afterwards, test cases with that fixture, and
 * small file helpers.
 */

#ifndef STORE_TESTUTIL_H
#define STORE_TESTUTIL_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TU_UNUSED	__attribute__((__unused__))

static char	 tu_dir[256];

/* nftw callback: remove one entry. */
static int
tu_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return (remove(path));
}

/* Checked fixture: a fresh temporary directory in tu_dir. */
static void
tu_setup(void)
{
	const char	*t = getenv("TMPDIR");

	snprintf(tu_dir, sizeof tu_dir, "%s/ampsd-store-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tu_dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

/* Checked fixture: remove the directory. */
static void
tu_teardown(void)
{
	if (tu_dir[0] != '\0')
		nftw(tu_dir, tu_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	tu_dir[0] = '\0';
}

/* A test case with the fixture above and a timeout in seconds. */
static TU_UNUSED TCase *
tu_tcase(const char *name, int timeout)
{
	TCase	*tc = tcase_create(name);

	tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
	tcase_set_timeout(tc, timeout);
	return (tc);
}

/* tu_dir/name into buf (static, overwritten by the next call). */
static TU_UNUSED const char *
tu_path(const char *name)
{
	static char	 buf[2][512];
	static int	 i;

	i = !i;
	snprintf(buf[i], sizeof buf[i], "%s/%s", tu_dir, name);
	return (buf[i]);
}

/* Read a whole file; *len set; caller frees.  NULL on error. */
static TU_UNUSED unsigned char *
tu_read(const char *path, size_t *len)
{
	FILE		*f;
	unsigned char	*p;
	long		 n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (p = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return (NULL);
	}
	if (fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	*len = (size_t)n;
	return (p);
}

/* Write len bytes to path (created or truncated).  0 or -1. */
static TU_UNUSED int
tu_write(const char *path, const void *p, size_t len)
{
	FILE	*f;
	int	 r = 0;

	if ((f = fopen(path, "wb")) == NULL)
		return (-1);
	if (len > 0 && fwrite(p, 1, len, f) != len)
		r = -1;
	if (fclose(f) != 0)
		r = -1;
	return (r);
}

/* Whether path exists. */
static TU_UNUSED int
tu_exists(const char *path)
{
	struct stat	 sb;

	return (stat(path, &sb) == 0);
}

#endif /* STORE_TESTUTIL_H */
