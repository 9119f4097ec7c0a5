/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for the IPC wire codec (libampsipc/ipcwire.c): round trips
 * of every message type with every field it may carry, random round
 * trips from a fixed printed seed, and malformed input of every kind.
 */

#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc-wire.h"
#include "testutil.h"

#define SEED	20260412u

static const uint32_t types[] = {
#define T(name, num, dir)	num,
	AMPSIPC_TYPES(T)
#undef T
};
#define NTYPES	(sizeof types / sizeof types[0])

/* Small deterministic generator, so failures reproduce from the seed. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return (*s);
}

/* One field value as the test encoded it. */
struct val {
	int		 set;
	uint64_t	 num;
	char		 str[64];
	uint8_t		 bytes[64];
	size_t		 len;
};

/* Pick a value for tag that the decoder's range checks accept. */
static void
pick(struct val *v, unsigned int tag, uint32_t *s)
{
	size_t	i;

	v->set = 1;
	switch (ipcwire_tag_kind(tag)) {
	case AMPSIPC_K_U32:
		v->num = rnd(s);
		if (tag == AMPSIPC_T_CMD)
			v->num = 1 + v->num % AMPSIPC_CMD_FLUSH;
		if (tag == AMPSIPC_T_STATE)
			v->num %= 7;
		if (tag == AMPSIPC_T_STATUS)
			v->num %= 2;
		break;
	case AMPSIPC_K_U64:
		v->num = ((uint64_t)rnd(s) << 32) | rnd(s);
		break;
	case AMPSIPC_K_STR:
		v->len = rnd(s) % (sizeof v->str - 1);
		for (i = 0; i < v->len; i++)
			v->str[i] = (char)(1 + rnd(s) % 255);
		v->str[v->len] = '\0';
		break;
	default:
		v->len = rnd(s) % sizeof v->bytes;
		for (i = 0; i < v->len; i++)
			v->bytes[i] = (uint8_t)rnd(s);
		break;
	}
}

/* Encode type with the fields in vals; returns the frame length. */
static size_t
encode(uint8_t *buf, size_t cap, uint32_t type, uint16_t flags,
    uint32_t reqid, const struct val *vals)
{
	struct ipcwire_enc	e;
	size_t			len, clen;
	unsigned int		t;
	int			pass;

	for (pass = 0; pass < 2; pass++) {
		ipcwire_begin(&e, pass ? buf : NULL, cap, (uint16_t)type, flags,
		    reqid);
		if (type == AMPSIPC_HELLO || type == AMPSIPC_VERSION_BAD)
			ipcwire_put_raw32(&e, AMPSIPC_PROTO_VERSION);
		if (type == AMPSIPC_HELLO)
			ipcwire_put_raw32(&e, 4242);
		for (t = 0; t < AMPSIPC_T_LIMIT; t++) {
			if (!vals[t].set)
				continue;
			switch (ipcwire_tag_kind(t)) {
			case AMPSIPC_K_U32:
				ipcwire_put_u32(&e, (uint16_t)t,
				    (uint32_t)vals[t].num);
				break;
			case AMPSIPC_K_U64:
				ipcwire_put_u64(&e, (uint16_t)t, vals[t].num);
				break;
			case AMPSIPC_K_STR:
				ipcwire_put_str(&e, (uint16_t)t, vals[t].str);
				break;
			default:
				ipcwire_put_bytes(&e, (uint16_t)t,
				    vals[t].bytes, vals[t].len);
				break;
			}
		}
		ck_assert_int_eq(ipcwire_end(&e, pass ? &len : &clen), 0);
	}
	ck_assert_uint_eq(len, clen);	/* counting pass agrees */
	return (len);
}

/* Decode and compare with what was encoded. */
static void
check_decoded(const uint8_t *buf, size_t len, uint32_t type, uint16_t flags,
    uint32_t reqid, const struct val *vals)
{
	struct ipcwire_msg	 m;
	const char		*why = NULL;
	unsigned int		 t;
	size_t			 n;
	const void		*p;
	uint32_t		 flen;

	ck_assert_int_eq(ipcwire_frame_len(buf, len, 0, &flen), 1);
	ck_assert_uint_eq(flen, len);
	if (ipcwire_decode(buf, len, ipcwire_type_from_client(type), &m,
	    &why) != 0)
		ck_abort_msg("type %s: %s", ipcwire_type_name(type), why);
	ck_assert_uint_eq(m.hdr.type, type);
	ck_assert_uint_eq(m.hdr.flags, flags);
	ck_assert_uint_eq(m.hdr.reqid, reqid);
	if (type == AMPSIPC_HELLO) {
		ck_assert_uint_eq(m.version, AMPSIPC_PROTO_VERSION);
		ck_assert_uint_eq(m.pid, 4242);
	}
	for (t = 0; t < AMPSIPC_T_LIMIT; t++) {
		ck_assert_int_eq(ipcwire_has(&m, t), vals[t].set);
		if (!vals[t].set)
			continue;
		switch (ipcwire_tag_kind(t)) {
		case AMPSIPC_K_U32:
		case AMPSIPC_K_U64:
			ck_assert_uint_eq(ipcwire_num(&m, t, 0), vals[t].num);
			break;
		case AMPSIPC_K_STR:
			ck_assert_str_eq(ipcwire_str(&m, t), vals[t].str);
			break;
		default:
			p = ipcwire_bytes(&m, t, &n);
			ck_assert_uint_eq(n, vals[t].len);
			ck_assert(n == 0 || memcmp(p, vals[t].bytes, n) == 0);
			break;
		}
	}
}

START_TEST(test_every_type_all_fields)
{
	static uint8_t	buf[65536];
	struct val	vals[AMPSIPC_T_LIMIT];
	uint64_t	req, allowed;
	uint32_t	s = SEED;
	unsigned int	t;
	size_t		i, len;
	uint16_t	flags;

	for (i = 0; i < NTYPES; i++) {
		ck_assert_int_eq(ipcwire_type_fields(types[i], &req, &allowed),
		    0);
		ck_assert_str_ne(ipcwire_type_name(types[i]), "unknown");
		memset(vals, 0, sizeof vals);
		for (t = 0; t < AMPSIPC_T_LIMIT; t++) {
			if (allowed & (UINT64_C(1) << t))
				pick(&vals[t], t, &s);
		}
		flags = types[i] == AMPSIPC_ERROR ? AMPSIPC_F_FATAL : 0;
		len = encode(buf, sizeof buf, types[i], flags, 77, vals);
		check_decoded(buf, len, types[i], flags, 77, vals);

		/* And with only the required fields. */
		memset(vals, 0, sizeof vals);
		for (t = 0; t < AMPSIPC_T_LIMIT; t++) {
			if (req & (UINT64_C(1) << t))
				pick(&vals[t], t, &s);
		}
		len = encode(buf, sizeof buf, types[i], 0, 0, vals);
		check_decoded(buf, len, types[i], 0, 0, vals);
	}
}
END_TEST

START_TEST(test_random_roundtrips)
{
	static uint8_t	buf[65536];
	struct val	vals[AMPSIPC_T_LIMIT];
	uint64_t	req, allowed;
	uint32_t	s = SEED, type, reqid;
	unsigned int	t, round;
	size_t		len;

	printf("check_ipcwire: random round trips, seed %u\n", SEED);
	for (round = 0; round < 5000; round++) {
		type = types[rnd(&s) % NTYPES];
		ipcwire_type_fields(type, &req, &allowed);
		memset(vals, 0, sizeof vals);
		for (t = 0; t < AMPSIPC_T_LIMIT; t++) {
			if ((req & (UINT64_C(1) << t)) ||
			    ((allowed & (UINT64_C(1) << t)) && rnd(&s) % 2))
				pick(&vals[t], t, &s);
		}
		reqid = rnd(&s);
		len = encode(buf, sizeof buf, type, 0, reqid, vals);
		check_decoded(buf, len, type, 0, reqid, vals);
	}
}
END_TEST

/* Build a raw frame: header then body bytes. */
static size_t
raw(uint8_t *buf, uint32_t len, uint16_t type, uint16_t flags,
    uint32_t reserved, const void *body, size_t blen)
{
	buf[0] = len & 0xff;
	buf[1] = (len >> 8) & 0xff;
	buf[2] = (len >> 16) & 0xff;
	buf[3] = len >> 24;
	buf[4] = type & 0xff;
	buf[5] = type >> 8;
	buf[6] = flags & 0xff;
	buf[7] = flags >> 8;
	memset(buf + 8, 0, 8);
	buf[8] = 1;
	buf[12] = reserved & 0xff;
	if (blen != 0)
		memcpy(buf + 16, body, blen);
	return (16 + blen);
}

/* Expect decode to fail with a reason. */
static void
bad(const uint8_t *buf, size_t len, int from_client)
{
	struct ipcwire_msg	 m;
	const char		*why = NULL;

	ck_assert_int_eq(ipcwire_decode(buf, len, from_client, &m, &why), -1);
	ck_assert_ptr_nonnull(why);
}

START_TEST(test_malformed)
{
	uint8_t		buf[256] = { 0 };
	uint32_t	len;
	size_t		n;
	/* TOPIC "ab" without NUL */
	static const uint8_t nonul[] = { 2, 0, 2, 0, 0, 0, 'a', 'b' };
	/* TOPIC claims 200 bytes, has 3 */
	static const uint8_t longf[] = { 2, 0, 200, 0, 0, 0, 'a', 'b', 0 };
	static const uint8_t dup[] = { 2, 0, 2, 0, 0, 0, 'a', 0,
	    2, 0, 2, 0, 0, 0, 'b', 0 };
	static const uint8_t embnul[] = { 2, 0, 3, 0, 0, 0, 'a', 0, 0 };
	static const uint8_t unktag[] = { 2, 0, 2, 0, 0, 0, 'a', 0,
	    60, 0, 0, 0, 0, 0 };
	static const uint8_t wrongsz[] = { 2, 0, 2, 0, 0, 0, 'a', 0,
	    6, 0, 2, 0, 0, 0, 1, 0 };
	static const uint8_t trunc[] = { 2, 0, 2, 0, 0, 0, 'a', 0, 3, 0 };
	static const uint8_t topic[] = { 2, 0, 2, 0, 0, 0, 'a', 0 };
	static const uint8_t filter[] = { 2, 0, 2, 0, 0, 0, 'a', 0,
	    8, 0, 2, 0, 0, 0, 'x', 0 };

	/* Short: not even a length; then shorter than a header. */
	ck_assert_int_eq(ipcwire_frame_len(buf, 3, 0, &len), 0);
	raw(buf, 10, AMPSIPC_PING, 0, 0, NULL, 0);
	ck_assert_int_eq(ipcwire_frame_len(buf, 16, 0, &len), -1);
	bad(buf, 10, 1);
	/* Oversized length. */
	raw(buf, AMPSIPC_MAX_FRAME + 1, AMPSIPC_PING, 0, 0, NULL, 0);
	ck_assert_int_eq(ipcwire_frame_len(buf, 16, 0, &len), -1);
	raw(buf, 5000, AMPSIPC_PING, 0, 0, NULL, 0);
	ck_assert_int_eq(ipcwire_frame_len(buf, 16, 4096, &len), -1);
	ck_assert_int_eq(ipcwire_frame_len(buf, 16, 0, &len), 1);
	/* Length not matching the buffer. */
	n = raw(buf, 17, AMPSIPC_PING, 0, 0, NULL, 0);
	bad(buf, n, 1);
	/* Bad and unknown types, wrong direction. */
	n = raw(buf, 16, 0, 0, 0, NULL, 0);
	bad(buf, n, 1);
	n = raw(buf, 16, 99, 0, 0, NULL, 0);
	bad(buf, n, 1);
	n = raw(buf, 16, AMPSIPC_PONG, 0, 0, NULL, 0);
	bad(buf, n, 1);
	n = raw(buf, 16, AMPSIPC_PING, 0, 0, NULL, 0);
	bad(buf, n, 0);
	/* Reserved, flags. */
	n = raw(buf, 16, AMPSIPC_PING, 0, 1, NULL, 0);
	bad(buf, n, 1);
	n = raw(buf, 16, AMPSIPC_PING, 0x8000, 0, NULL, 0);
	bad(buf, n, 1);
	n = raw(buf, 16, AMPSIPC_PING, AMPSIPC_F_FATAL, 0, NULL, 0);
	bad(buf, n, 1);
	/* Missing NUL, field past the frame, duplicates, unknown tags. */
	n = raw(buf, 16 + sizeof nonul, AMPSIPC_PUBLISH, 0, 0, nonul,
	    sizeof nonul);
	bad(buf, n, 1);
	n = raw(buf, 16 + sizeof longf, AMPSIPC_PUBLISH, 0, 0, longf,
	    sizeof longf);
	bad(buf, n, 1);
	n = raw(buf, 16 + sizeof dup, AMPSIPC_PUBLISH, 0, 0, dup, sizeof dup);
	bad(buf, n, 1);
	n = raw(buf, 16 + sizeof embnul, AMPSIPC_PUBLISH, 0, 0, embnul,
	    sizeof embnul);
	bad(buf, n, 1);
	n = raw(buf, 16 + sizeof unktag, AMPSIPC_PUBLISH, 0, 0, unktag,
	    sizeof unktag);
	bad(buf, n, 1);
	n = raw(buf, 16 + sizeof wrongsz, AMPSIPC_PUBLISH, 0, 0, wrongsz,
	    sizeof wrongsz);
	bad(buf, n, 1);
	n = raw(buf, 16 + sizeof trunc, AMPSIPC_PUBLISH, 0, 0, trunc,
	    sizeof trunc);
	bad(buf, n, 1);
	/* Missing required field; field not allowed for the type. */
	n = raw(buf, 16, AMPSIPC_PUBLISH, 0, 0, NULL, 0);
	bad(buf, n, 1);
	n = raw(buf, 16 + sizeof filter, AMPSIPC_PUBLISH, 0, 0, filter,
	    sizeof filter);
	bad(buf, n, 1);
	/* HELLO without its fixed prefix. */
	n = raw(buf, 20, AMPSIPC_HELLO, 0, 0, "\1\0\0\0", 4);
	bad(buf, n, 1);
	/* And the valid one for contrast. */
	n = raw(buf, 16 + sizeof topic, AMPSIPC_PUBLISH, 0, 0, topic,
	    sizeof topic);
	{
		struct ipcwire_msg	m;

		ck_assert_int_eq(ipcwire_decode(buf, n, 1, &m, NULL), 0);
		ck_assert_str_eq(ipcwire_str(&m, AMPSIPC_T_TOPIC), "a");
		ck_assert_ptr_null(ipcwire_str(&m, AMPSIPC_T_DATA));
	}
}
END_TEST

START_TEST(test_bad_values)
{
	uint8_t			buf[128];
	struct ipcwire_enc	e;
	size_t			len;

	ipcwire_begin(&e, buf, sizeof buf, AMPSIPC_COMMAND, 0, 1);
	ipcwire_put_u32(&e, AMPSIPC_T_CMD, AMPSIPC_CMD_OOF);	/* S>C only */
	ck_assert_int_eq(ipcwire_end(&e, &len), 0);
	bad(buf, len, 1);
	ipcwire_begin(&e, buf, sizeof buf, AMPSIPC_CONN_STATE, 0, 0);
	ipcwire_put_str(&e, AMPSIPC_T_CONN, "c");
	ipcwire_put_u32(&e, AMPSIPC_T_CONN_ID, 0);
	ipcwire_put_u32(&e, AMPSIPC_T_STATE, 99);
	ck_assert_int_eq(ipcwire_end(&e, &len), 0);
	bad(buf, len, 0);
}
END_TEST

START_TEST(test_encoder_overflow)
{
	uint8_t			buf[24];
	struct ipcwire_enc	e;
	size_t			len;

	ipcwire_begin(&e, buf, sizeof buf, AMPSIPC_PUBLISH, 0, 1);
	ipcwire_put_str(&e, AMPSIPC_T_TOPIC, "a topic longer than 8");
	ck_assert_int_eq(ipcwire_end(&e, &len), -1);
	ipcwire_begin(&e, buf, 8, AMPSIPC_PING, 0, 1);
	ck_assert_int_eq(ipcwire_end(&e, &len), -1);
	ipcwire_begin(&e, NULL, 0, AMPSIPC_PUBLISH, 0, 1);
	ipcwire_put_bytes(&e, AMPSIPC_T_DATA, NULL, 3);
	ck_assert_int_eq(ipcwire_end(&e, &len), -1);
}
END_TEST

START_TEST(test_mutations_never_crash)
{
	static uint8_t		buf[4096], mut[4096];
	struct val		vals[AMPSIPC_T_LIMIT];
	struct ipcwire_msg	m;
	uint64_t		req, allowed;
	uint32_t		s = SEED + 1, type, flen;
	unsigned int		t, round, k;
	size_t			len, i;

	for (round = 0; round < 20000; round++) {
		type = types[rnd(&s) % NTYPES];
		ipcwire_type_fields(type, &req, &allowed);
		memset(vals, 0, sizeof vals);
		for (t = 0; t < AMPSIPC_T_LIMIT; t++) {
			if (allowed & (UINT64_C(1) << t))
				pick(&vals[t], t, &s);
		}
		len = encode(buf, sizeof buf, type, 0, 1, vals);
		memcpy(mut, buf, len);
		for (k = 0; k < 1 + rnd(&s) % 4; k++)
			mut[rnd(&s) % len] = (uint8_t)rnd(&s);
		if (rnd(&s) % 4 == 0)
			len = rnd(&s) % (len + 1);
		if (ipcwire_frame_len(mut, len, 0, &flen) == 1 && flen <= len &&
		    ipcwire_decode(mut, flen, rnd(&s) % 2, &m, NULL) == 0) {
			for (i = 0; i < AMPSIPC_T_LIMIT; i++) {
				if (!ipcwire_has(&m, (unsigned int)i))
					continue;
				ck_assert(m.f[i].ptr >= mut && m.f[i].ptr +
				    m.f[i].len <= mut + flen);
			}
		}
	}
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(ipcwire_type_name(AMPSIPC_PUBLISH), "PUBLISH");
	ck_assert_str_eq(ipcwire_type_name(12345), "unknown");
	ck_assert_str_eq(ipcwire_tag_name(AMPSIPC_T_TOPIC), "TOPIC");
	ck_assert_str_eq(ipcwire_cmd_name(AMPSIPC_CMD_SOW_AND_SUBSCRIBE),
	    "sow_and_subscribe");
	ck_assert_str_eq(ipcwire_state_name(AMPSIPC_STATE_CONNECTED),
	    "connected");
	ck_assert_str_eq(ipcwire_error_text(AMPSIPC_E_NOT_PERMITTED),
	    "not permitted by ACL");
	ck_assert_str_eq(ipcwire_error_text(9999), "unknown error code");
	ck_assert_int_eq(ipcwire_type_from_client(AMPSIPC_HELLO), 1);
	ck_assert_int_eq(ipcwire_type_from_client(AMPSIPC_WELCOME), 0);
	ck_assert_int_eq(ipcwire_type_from_client(77), -1);
}
END_TEST

static Suite *
ipcwire_suite(void)
{
	Suite	*s = suite_create("ipcwire");
	TCase	*tc = tcase_create("codec");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_every_type_all_fields);
	tcase_add_test(tc, test_random_roundtrips);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_encoder_overflow);
	tcase_add_test(tc, test_mutations_never_crash);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(ipcwire_suite()));
}
