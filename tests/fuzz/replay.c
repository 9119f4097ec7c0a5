/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Corpus replay for the fuzz targets, so make check exercises them
 * without clang or libFuzzer.  Built once per target with
 * -DFUZZ_NAME="frame" (etc.) and linked with tests/fuzz/fuzz-NAME.c.
 *
 * With no arguments it feeds every regular file of
 * $top_srcdir/tests/fuzz/corpus/FUZZ_NAME (top_srcdir from the
 * environment, "." if unset), in name order, to LLVMFuzzerTestOneInput.
 * With arguments it replays just those files (to reproduce a crash).
 *
 * Invariants:
 *  1. Each input is passed in a heap buffer of exactly its size, so an
 *     over-read is caught by AddressSanitizer builds.
 *  2. A missing or empty corpus is a failure (exit 1), never a silent
 *     pass; a target that finds a violation aborts, failing the test.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_NAME
#error FUZZ_NAME must be defined
#endif

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Read the file at path and feed it to the target.  Returns 0, or -1
 * (with a message) when the file cannot be read.
 */
static int
replay_file(const char *path)
{
	struct stat	 st;
	FILE		*f;
	uint8_t		*buf;
	size_t		 n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		fclose(f);
		return (-1);
	}
	n = (size_t)st.st_size;
	if ((buf = malloc(n > 0 ? n : 1)) == NULL ||
	    fread(buf, 1, n, f) != n) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		fclose(f);
		return (-1);
	}
	fclose(f);
	/* An empty input is passed with its own zero-size allocation. */
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return (0);
}

/*
 * Keep regular, non-hidden entries only.
 */
static int
replay_filter(const struct dirent *d)
{
	return (d->d_name[0] != '.');
}

/* Replay the named files, or the whole corpus of FUZZ_NAME. */
int
main(int argc, char **argv)
{
	struct dirent	**names;
	struct stat	  st;
	const char	 *top;
	char		 *dir, *path;
	size_t		  len;
	int		  i, n, count = 0, failed = 0;

	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			if (replay_file(argv[i]) != 0)
				failed = 1;
			else
				count++;
		}
		printf("replay-%s: replayed %d input(s)\n", FUZZ_NAME, count);
		return (failed);
	}

	if ((top = getenv("top_srcdir")) == NULL || *top == '\0')
		top = ".";
	len = strlen(top) + sizeof "/tests/fuzz/corpus/" + strlen(FUZZ_NAME);
	if ((dir = malloc(len)) == NULL)
		return (1);
	snprintf(dir, len, "%s/tests/fuzz/corpus/%s", top, FUZZ_NAME);

	if ((n = scandir(dir, &names, replay_filter, alphasort)) < 0) {
		fprintf(stderr, "replay-%s: %s: %s\n", FUZZ_NAME, dir,
		    strerror(errno));
		free(dir);
		return (1);
	}
	for (i = 0; i < n; i++) {
		len = strlen(dir) + 1 + strlen(names[i]->d_name) + 1;
		if ((path = malloc(len)) == NULL)
			return (1);
		snprintf(path, len, "%s/%s", dir, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) != 0)
				failed = 1;
			else
				count++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	printf("replay-%s: replayed %d input(s) from %s\n", FUZZ_NAME, count,
	    dir);
	if (count == 0) {
		fprintf(stderr, "replay-%s: no inputs in %s\n", FUZZ_NAME, dir);
		failed = 1;
	}
	free(dir);
	return (failed);
}
