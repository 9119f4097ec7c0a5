/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * testutil.h: what the Check programs of every test folder share
 * (tests/libtestutil.a, libc and Check only): the body of their main(),
 * the seeded generator of the randomized tests, a hex decoder for frames
 * typed in as hex dumps, and unix socket plumbing.  A test's own
 * assertions stay in the test.
 */

#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Run every test of s (CK_VERBOSITY chooses the output, CK_RUN_SUITE,
 * CK_RUN_CASE and CK_FORK work as Check documents), free the runner and
 * return EXIT_SUCCESS if every test passed, else EXIT_FAILURE.
 */
int		 check_main(Suite *);

/*
 * Seed the generator with AMPS_TEST_SEED if set, else dflt, and print
 * "what: seed 0x..." so that a failure can be replayed.  The generator
 * (xorshift64*) is one per process; Check forks a child per test, so
 * each test that draws numbers seeds it first.
 */
void		 test_rng_seed(const char *, uint64_t);
uint64_t	 test_rng_next(void);
size_t		 test_rng_below(size_t);	/* in [0, n), n > 0 */

/*
 * Decode "00 0a ff ..." (pairs of hex digits, spaces between them
 * ignored) into out; returns the byte count.  The test fails on a bad
 * digit or if out[cap] is too small.
 */
size_t		 test_hex2bin(const char *, char *, size_t);

/*
 * A unix stream socket and the address of path in *sun (the test fails
 * if path does not fit).  The caller binds or connects.
 */
int		 test_unix_socket(const char *, struct sockaddr_un *);

#endif /* TESTUTIL_H */
