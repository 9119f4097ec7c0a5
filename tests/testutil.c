/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * testutil.c: the helpers of testutil.h, shared by the Check programs
 * of tests/unit, tests/ampsim and tests/reliability.
 *
 * Invariants:
 *  1. With the same seed the generator yields the same numbers on every
 *     machine (no libc generator), and the seed in use is printed before
 *     the first number is drawn.
 *  2. Nothing here asserts on behalf of a test except what it documents
 *     (a socket that cannot be made, a path that does not fit).
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static uint64_t	tu_rng_state = 1;

int
check_main(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

void
test_rng_seed(const char *what, uint64_t dflt)
{
	const char	*e = getenv("AMPS_TEST_SEED");
	uint64_t	 seed = dflt;

	if (e != NULL && *e != '\0')
		seed = strtoull(e, NULL, 0);
	printf("%s: seed 0x%llx\n", what, (unsigned long long)seed);
	fflush(stdout);
	tu_rng_state = seed != 0 ? seed : 1;
}

/* xorshift64*: small, deterministic, good enough for test data. */
uint64_t
test_rng_next(void)
{
	tu_rng_state ^= tu_rng_state >> 12;
	tu_rng_state ^= tu_rng_state << 25;
	tu_rng_state ^= tu_rng_state >> 27;
	return (tu_rng_state * 0x2545f4914f6cdd1dULL);
}

size_t
test_rng_below(size_t n)
{
	return ((size_t)(test_rng_next() % n));
}

size_t
test_hex2bin(const char *hex, char *out, size_t cap)
{
	size_t		 n = 0;
	unsigned	 v;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		ck_assert_int_eq(sscanf(hex, "%2x", &v), 1);
		ck_assert_uint_lt(n, cap);
		out[n++] = (char)v;
		hex += 2;
	}
	return (n);
}

int
test_unix_socket(const char *path, struct sockaddr_un *sun)
{
	int	fd;

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	ck_assert_msg(strlen(path) < sizeof sun->sun_path,
	    "socket path too long: %s", path);
	memcpy(sun->sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
	return (fd);
}
