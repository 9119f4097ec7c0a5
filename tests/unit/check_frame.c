/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for codec/amps-frame.c: the 4-byte big-endian prefix, the
 * stateless splitter amps_frame_next() and the streaming amps_reader.
 *
 * The random tests use a fixed seed (printed) so a failure can be
 * replayed; set AMPS_TEST_SEED to try another one.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"
#include "testutil.h"

#define TEST_TIMEOUT	20	/* seconds per test */
#define DEFAULT_SEED	0x5eed0001u

/* A byte stream of frames, and the bodies it must decode to. */
struct stream {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	char	*bodies[64];
	uint32_t blens[64];
	int	 nbodies;
};

/* Append raw bytes to a stream. */
static void
stream_put(struct stream *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->buf = realloc(s->buf, s->cap);
		ck_assert_ptr_nonnull(s->buf);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

/* Append a frame with body b[0..n); zero-length frames are not expected. */
static void
stream_frame(struct stream *s, const void *b, uint32_t n)
{
	char	pfx[4];

	amps_frame_put_len(pfx, n);
	stream_put(s, pfx, 4);
	stream_put(s, b, n);
	if (n > 0) {
		ck_assert_int_lt(s->nbodies, 64);
		s->bodies[s->nbodies] = malloc(n);
		ck_assert_ptr_nonnull(s->bodies[s->nbodies]);
		memcpy(s->bodies[s->nbodies], b, n);
		s->blens[s->nbodies++] = n;
	}
}

/* Free a stream. */
static void
stream_free(struct stream *s)
{
	int	i;

	for (i = 0; i < s->nbodies; i++)
		free(s->bodies[i]);
	free(s->buf);
	memset(s, 0, sizeof *s);
}

/*
 * Build the test stream: Appendix A frames, zero-length frames in between,
 * a frame with binary bytes, and one large frame that forces growth.
 */
static void
stream_build(struct stream *s)
{
	static const char	 a5[] = "{\"c\":\"p\",\"t\":\"test\"}Data=0\001";
	static const char	 a3[] = "{\"c\":\"heartbeat\"}";
	static const char	 a7[] = "{\"c\":\"p\",\"t\":\"orders\",\"sub_id\":"
	    "\"3\",\"bm\":\"9518329128413381245|42|\",\"k\":"
	    "\"12081749325163098011\"}{\"id\":7,\"qty\":100}";
	char			*big;
	size_t			 i;

	memset(s, 0, sizeof *s);
	stream_put(s, "\0\0\0\0", 4);		/* leading zero-length */
	stream_frame(s, a5, sizeof a5 - 1);
	stream_frame(s, a3, sizeof a3 - 1);
	stream_put(s, "\0\0\0\0\0\0\0\0", 8);	/* two zero-length */
	stream_frame(s, a7, sizeof a7 - 1);
	stream_frame(s, "\0\377\0\n", 4);	/* binary body */
	big = malloc(300000);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < 300000; i++)
		big[i] = (char)(i * 7 + 3);
	stream_frame(s, big, 300000);
	free(big);
	stream_frame(s, a3, sizeof a3 - 1);
	stream_put(s, "\0\0\0\0", 4);		/* trailing zero-length */
}

/*
 * Feed the stream to a reader in pieces chosen by mode (0: whole, 1: one
 * byte, 2: random sizes) and check every frame comes out once, in order.
 */
static void
feed_and_check(const struct stream *s, int mode)
{
	struct amps_reader	 r;
	const char		*body;
	uint32_t		 blen;
	size_t			 off = 0, n, room;
	char			*p;
	int			 got = 0, rc;

	amps_reader_init(&r, AMPS_FRAME_MAX_DEFAULT);
	while (off < s->len) {
		if (mode == 0)
			n = s->len - off;
		else if (mode == 1)
			n = 1;
		else {
			n = 1 + test_rng_below(test_rng_below(4) == 0 ?
			    70000 : 40);
			if (n > s->len - off)
				n = s->len - off;
		}
		ck_assert_int_eq(amps_reader_space(&r, n, &p, &room), 0);
		ck_assert_uint_ge(room, n);
		memcpy(p, s->buf + off, n);
		amps_reader_commit(&r, n);
		off += n;
		while ((rc = amps_reader_next(&r, &body, &blen)) == 1) {
			ck_assert_int_lt(got, s->nbodies);
			ck_assert_uint_eq(blen, s->blens[got]);
			ck_assert(memcmp(body, s->bodies[got], blen) == 0);
			got++;
		}
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_le(r.start, r.end);
		ck_assert_uint_le(r.end, r.cap);
	}
	ck_assert_int_eq(got, s->nbodies);
	ck_assert_uint_eq(amps_reader_pending(&r), 0);
	amps_reader_free(&r);
}

/* The prefix is big-endian and counts only the body. */
START_TEST(test_put_len)
{
	char		b[4];
	const char	*body;
	uint32_t	blen;
	size_t		used;
	static const struct {
		uint32_t	v;
		unsigned char	b[4];
	} t[] = {
		{ 0, { 0, 0, 0, 0 } },
		{ 0x82, { 0, 0, 0, 0x82 } },		/* A.1 */
		{ 177, { 0, 0, 0, 0xb1 } },		/* A.8 */
		{ 0x01020304, { 1, 2, 3, 4 } },
		{ 0xffffffffu, { 0xff, 0xff, 0xff, 0xff } },
	};
	size_t		i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		amps_frame_put_len(b, t[i].v);
		ck_assert(memcmp(b, t[i].b, 4) == 0);
	}
	/* A prefix of 0xffffffff with max 0xffffffff needs more bytes. */
	ck_assert_int_eq(amps_frame_next(b, 4, UINT32_MAX, &body, &blen,
	    &used), 0);
	ck_assert_uint_eq(used, 0);
}
END_TEST

/*
 * Partial prefixes and bodies need more bytes; several frames in one
 * buffer split one by one.
 */
START_TEST(test_next_partial)
{
	static const char	 f[] = "\0\0\0\005hello\0\0\0\002hi";
	const char		*body = NULL;
	uint32_t		 blen = 0;
	size_t			 used, i;

	/* Every strict prefix of the first frame needs more bytes. */
	for (i = 0; i < 9; i++) {
		used = 99;
		ck_assert_int_eq(amps_frame_next(f, i, 100, &body, &blen,
		    &used), 0);
		ck_assert_uint_eq(used, 0);
	}
	ck_assert_int_eq(amps_frame_next(f, 9, 100, &body, &blen, &used), 1);
	ck_assert_uint_eq(blen, 5);
	ck_assert_uint_eq(used, 9);
	ck_assert(memcmp(body, "hello", 5) == 0);

	/* Many frames in one buffer. */
	ck_assert_int_eq(amps_frame_next(f, sizeof f - 1, 100, &body, &blen,
	    &used), 1);
	ck_assert_uint_eq(used, 9);
	ck_assert_int_eq(amps_frame_next(f + used, sizeof f - 1 - used, 100,
	    &body, &blen, &used), 1);
	ck_assert_uint_eq(blen, 2);
	ck_assert(memcmp(body, "hi", 2) == 0);
}
END_TEST

/* Zero-length frames are consumed and skipped. */
START_TEST(test_next_zero_length)
{
	static const char	 z[] = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
	static const char	 zf[] = "\0\0\0\0\0\0\0\0\0\0\0\001x";
	const char		*body;
	uint32_t		 blen;
	size_t			 used;

	/* Three zero-length frames and half a prefix: consumed, no frame. */
	ck_assert_int_eq(amps_frame_next(z, 14, 100, &body, &blen, &used), 0);
	ck_assert_uint_eq(used, 12);
	/* Zero-length frames before a real one are skipped. */
	ck_assert_int_eq(amps_frame_next(zf, 13, 100, &body, &blen, &used), 1);
	ck_assert_uint_eq(used, 13);
	ck_assert_uint_eq(blen, 1);
	ck_assert_int_eq(body[0], 'x');
}
END_TEST

/* A prefix above the maximum is AMPS_E_TOOBIG; one at the maximum is fine. */
START_TEST(test_next_toobig)
{
	static const char	 f[] = "\0\0\0\0\0\0\001\001";	/* 257 */
	const char		*body;
	uint32_t		 blen;
	size_t			 used;

	ck_assert_int_eq(amps_frame_next(f, 8, 256, &body, &blen, &used),
	    AMPS_E_TOOBIG);
	ck_assert_uint_eq(used, 4);
	/* At the maximum is fine (needs more bytes here). */
	ck_assert_int_eq(amps_frame_next(f, 8, 257, &body, &blen, &used), 0);
	ck_assert_uint_eq(used, 4);
	/* The default maximum rejects a 4 GB prefix. */
	ck_assert_int_eq(amps_frame_next("\377\377\377\377", 4,
	    AMPS_FRAME_MAX_DEFAULT, &body, &blen, &used), AMPS_E_TOOBIG);
	ck_assert_str_eq(amps_strerror(AMPS_E_TOOBIG),
	    "frame length above the maximum");
}
END_TEST

/* The reader fed the whole stream at once. */
START_TEST(test_reader_whole)
{
	struct stream	s;

	stream_build(&s);
	feed_and_check(&s, 0);
	stream_free(&s);
}
END_TEST

/* The reader fed one byte at a time. */
START_TEST(test_reader_bytes)
{
	struct stream	s;

	stream_build(&s);
	feed_and_check(&s, 1);
	stream_free(&s);
}
END_TEST

/* The reader fed random piece sizes (seeded). */
START_TEST(test_reader_random)
{
	struct stream	s;
	int		round;

	test_rng_seed("reader_random", DEFAULT_SEED);
	stream_build(&s);
	for (round = 0; round < 50; round++)
		feed_and_check(&s, 2);
	stream_free(&s);
}
END_TEST

/* An oversized prefix is an error that sticks. */
START_TEST(test_reader_toobig_sticky)
{
	struct amps_reader	 r;
	const char		*body;
	uint32_t		 blen;
	char			*p;
	size_t			 n;

	amps_reader_init(&r, 16);
	ck_assert_int_eq(amps_reader_space(&r, 32, &p, &n), 0);
	memcpy(p, "\0\0\0\002ok\0\0\0\021", 10);		/* 2, then 17 */
	amps_reader_commit(&r, 10);
	ck_assert_int_eq(amps_reader_next(&r, &body, &blen), 1);
	ck_assert_uint_eq(blen, 2);
	ck_assert_int_eq(amps_reader_next(&r, &body, &blen), AMPS_E_TOOBIG);
	ck_assert_int_eq(amps_reader_next(&r, &body, &blen), AMPS_E_TOOBIG);
	ck_assert_int_eq(r.error, AMPS_E_TOOBIG);
	amps_reader_free(&r);
}
END_TEST

/*
 * Bodies stay valid until the next amps_reader_space; compaction moves
 * leftovers to the front.
 */
START_TEST(test_reader_validity_and_compaction)
{
	struct amps_reader	 r;
	const char		*bodies[100];
	uint32_t		 blen;
	char			*p, frame[16];
	size_t			 n, i;
	int			 rc;

	/* 100 frames in one read: all bodies valid until the next space. */
	amps_reader_init(&r, 1024);
	ck_assert_uint_eq(amps_reader_pending(&r), 0);
	ck_assert_int_eq(amps_reader_next(&r, &bodies[0], &blen), 0);
	ck_assert_int_eq(amps_reader_space(&r, 1200, &p, &n), 0);
	for (i = 0; i < 100; i++) {
		amps_frame_put_len(frame, 8);
		snprintf(frame + 4, 9, "frame%03zu", i);
		memcpy(p + i * 12, frame, 12);
	}
	amps_reader_commit(&r, 1200);
	for (i = 0; i < 100; i++) {
		rc = amps_reader_next(&r, &bodies[i], &blen);
		ck_assert_int_eq(rc, 1);
		ck_assert_uint_eq(blen, 8);
	}
	for (i = 0; i < 100; i++) {
		snprintf(frame, sizeof frame, "frame%03zu", i);
		ck_assert(memcmp(bodies[i], frame, 8) == 0);
	}
	ck_assert_uint_eq(amps_reader_pending(&r), 0);

	/* Empty buffer: the next space starts again at the front. */
	ck_assert_int_eq(amps_reader_space(&r, 10, &p, &n), 0);
	ck_assert_ptr_eq(p, r.buf);

	/* Half a frame left behind past the middle is moved to the front. */
	r.start = r.cap / 2 + 1;
	r.end = r.start + 3;
	memcpy(r.buf + r.start, "\0\0\0", 3);
	ck_assert_int_eq(amps_reader_space(&r, 1, &p, &n), 0);
	ck_assert_uint_eq(r.start, 0);
	ck_assert_uint_eq(r.end, 3);
	ck_assert_uint_eq(amps_reader_pending(&r), 3);
	p[0] = '\001';
	p[1] = 'z';
	amps_reader_commit(&r, 2);
	ck_assert_int_eq(amps_reader_next(&r, &bodies[0], &blen), 1);
	ck_assert_uint_eq(blen, 1);
	ck_assert_int_eq(bodies[0][0], 'z');

	/* Committing more than the room given is clamped to the buffer. */
	ck_assert_int_eq(amps_reader_space(&r, 1, &p, &n), 0);
	amps_reader_commit(&r, n + 1000);
	ck_assert_uint_eq(r.end, r.cap);
	amps_reader_free(&r);
	amps_reader_free(&r);		/* freeing twice is harmless */
}
END_TEST

/* Random bytes never crash the reader. */
START_TEST(test_reader_random_bytes)
{
	struct amps_reader	 r;
	const char		*body;
	uint32_t		 blen;
	char			*p;
	size_t			 n, i, k;
	int			 rc, round;

	/* Arbitrary bytes never crash the reader; it ends in 0 or an error. */
	test_rng_seed("reader_random_bytes", DEFAULT_SEED);
	for (round = 0; round < 200; round++) {
		amps_reader_init(&r, (uint32_t)test_rng_below(5000));
		for (k = 0; k < 20; k++) {
			n = 1 + test_rng_below(600);
			ck_assert_int_eq(amps_reader_space(&r, n, &p, &n), 0);
			n = 1 + test_rng_below(n < 600 ? n : 600);
			for (i = 0; i < n; i++)
				p[i] = (char)(test_rng_below(8) == 0 ?
				    test_rng_next() : test_rng_below(3));
			amps_reader_commit(&r, n);
			while ((rc = amps_reader_next(&r, &body, &blen)) == 1)
				ck_assert_uint_le(blen, r.max);
			ck_assert(rc == 0 || rc == AMPS_E_TOOBIG);
			if (rc < 0)
				break;
		}
		amps_reader_free(&r);
	}
}
END_TEST

/* The frame test suite. */
static Suite *
frame_suite(void)
{
	Suite	*s = suite_create("frame");
	TCase	*next = tcase_create("next");
	TCase	*reader = tcase_create("reader");

	tcase_set_timeout(next, TEST_TIMEOUT);
	tcase_set_timeout(reader, TEST_TIMEOUT);
	tcase_add_test(next, test_put_len);
	tcase_add_test(next, test_next_partial);
	tcase_add_test(next, test_next_zero_length);
	tcase_add_test(next, test_next_toobig);
	tcase_add_test(reader, test_reader_whole);
	tcase_add_test(reader, test_reader_bytes);
	tcase_add_test(reader, test_reader_random);
	tcase_add_test(reader, test_reader_toobig_sticky);
	tcase_add_test(reader, test_reader_validity_and_compaction);
	tcase_add_test(reader, test_reader_random_bytes);
	suite_add_tcase(s, next);
	suite_add_tcase(s, reader);
	return (s);
}

/* Run the suite; exit non-zero when a test failed. */
int
main(void)
{
	return (check_main(frame_suite()));
}
