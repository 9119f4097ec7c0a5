/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for codec/amps-header.c: the field dictionary, the header
 * parser, unescaping, the writer, re-encoding and command names.
 *
 * Every frame of PROTOCOL.md Appendix A is typed in below (hex dumps as hex,
 * header-only frames as text; A.8's batch in appendix_a8.h) and must
 * decode to the listed fields and re-encode byte for byte.  The random tests use a fixed seed (printed);
 * set AMPS_TEST_SEED to try another one.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amps.h"
#include "appendix_a8.h"
#include "testutil.h"

#define TEST_TIMEOUT	30	/* seconds per test */
#define DEFAULT_SEED	0x5eed0002u

/* ------------------------------------------------------------- helpers */

/*
 * Parse a copy of buf[0..len) in a heap block of exactly len bytes, so
 * valgrind or ASan notice any read past the end.  The views point into
 * the copy, so the last few copies are kept (freed in turn, and at exit
 * of the per-test child).
 */
static int
parse_exact(const char *buf, size_t len, struct amps_hdr *h)
{
	static char	*keep[4];
	static int	 next;
	char		*copy = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, buf, len);
	free(keep[next]);
	keep[next] = copy;
	next = (next + 1) % 4;
	return (amps_hdr_parse(copy, len, h));
}

/*
 * Check that h holds exactly the fields in exp, in order: lines of
 * key=value (any spelling; value compared after unescaping).
 */
static void
check_fields(const struct amps_hdr *h, const char *exp)
{
	char	 line[512], *eq;
	const char *p = exp, *nl;
	int	 f, n = 0;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		ck_assert_uint_lt((size_t)(nl - p), sizeof line);
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		eq = strchr(line, '=');
		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		f = amps_field_lookup(line, strlen(line));
		ck_assert_msg(f >= 0, "unknown key %s", line);
		ck_assert_msg(amps_hdr_eq(h, f, eq + 1), "%s != %s", line,
		    eq + 1);
		ck_assert_int_lt(n, h->norder);
		ck_assert_int_eq(h->order[n], f);
		n++;
		p = *nl == '\n' ? nl + 1 : nl;
	}
	ck_assert_int_eq(n, h->norder);
}

/* ------------------------------------------------------------ Appendix A */

/* A frame given as a hex dump. */
struct hexframe {
	const char	*name;
	uint32_t	 len;		/* the "len" PROTOCOL.md prints */
	const char	*pfx;		/* the prefix bytes it prints */
	uint32_t	 hdr;		/* header bytes (0: the whole body) */
	const char	*hex;
	const char	*fields;
};

static const struct hexframe hexframes[] = {
	{ "A.1 logon", 130, "00 00 00 82", 0,
	    "00 00 00 82 7b 22 63 22 3a 22 6c 6f 67 6f 6e 22"
	    "2c 22 63 69 64 22 3a 22 30 22 2c 22 63 6c 69 65"
	    "6e 74 5f 6e 61 6d 65 22 3a 22 64 61 65 6d 6f 6e"
	    "2d 61 22 2c 22 61 22 3a 22 70 72 6f 63 65 73 73"
	    "65 64 22 2c 22 76 65 72 73 69 6f 6e 22 3a 22 35"
	    "2e 33 2e 34 2e 30 2e 31 3a 63 22 2c 22 75 73 65"
	    "72 5f 69 64 22 3a 22 73 76 63 22 2c 22 70 77 22"
	    "3a 22 73 33 63 72 65 74 22 2c 22 6d 74 22 3a 22"
	    "6a 73 6f 6e 22 7d",
	    "c=logon\ncid=0\nclient_name=daemon-a\na=processed\n"
	    "version=5.3.4.0.1:c\nuser_id=svc\npw=s3cret\nmt=json" },
	{ "A.2 logon ack", 139, "00 00 00 8b", 0,
	    "00 00 00 8b 7b 22 63 22 3a 22 61 63 6b 22 2c 22"
	    "63 69 64 22 3a 22 30 22 2c 22 61 22 3a 22 70 72"
	    "6f 63 65 73 73 65 64 22 2c 22 73 74 61 74 75 73"
	    "22 3a 22 73 75 63 63 65 73 73 22 2c 22 73 22 3a"
	    "34 31 2c 22 62 6d 22 3a 22 39 35 31 38 33 32 39"
	    "31 32 38 34 31 33 33 38 31 32 34 35 7c 34 31 7c"
	    "22 2c 22 63 6c 69 65 6e 74 5f 6e 61 6d 65 22 3a"
	    "22 64 61 65 6d 6f 6e 2d 61 22 2c 22 76 65 72 73"
	    "69 6f 6e 22 3a 22 35 2e 33 2e 35 2e 30 22 7d",
	    "c=ack\ncid=0\na=processed\nstatus=success\ns=41\n"
	    "bm=9518329128413381245|41|\nclient_name=daemon-a\n"
	    "version=5.3.5.0" },
	{ "A.3 heartbeat start", 41, "00 00 00 29", 0,
	    "00 00 00 29 7b 22 63 22 3a 22 68 65 61 72 74 62"
	    "65 61 74 22 2c 22 63 69 64 22 3a 22 31 22 2c 22"
	    "6f 22 3a 22 73 74 61 72 74 2c 35 22 7d",
	    "c=heartbeat\ncid=1\no=start,5" },
	{ "A.3 server heartbeat", 17, "00 00 00 11", 0,
	    "00 00 00 11 7b 22 63 22 3a 22 68 65 61 72 74 62"
	    "65 61 74 22 7d",
	    "c=heartbeat" },
	{ "A.3 client beat", 28, "00 00 00 1c", 0,
	    "00 00 00 1c 7b 22 63 22 3a 22 68 65 61 72 74 62"
	    "65 61 74 22 2c 22 6f 22 3a 22 62 65 61 74 22 7d",
	    "c=heartbeat\no=beat" },
	{ "A.4 publish", 73, "00 00 00 49", 55,
	    "00 00 00 49 7b 22 63 22 3a 22 70 22 2c 22 63 69"
	    "64 22 3a 22 32 22 2c 22 74 22 3a 22 6f 72 64 65"
	    "72 73 22 2c 22 61 22 3a 22 70 65 72 73 69 73 74"
	    "65 64 22 2c 22 73 22 3a 34 32 7d 7b 22 69 64 22"
	    "3a 37 2c 22 71 74 79 22 3a 31 30 30 7d",
	    "c=p\ncid=2\nt=orders\na=persisted\ns=42" },
	{ "A.5 NVFIX publish", 27, "00 00 00 1b", 20,
	    "00 00 00 1b 7b 22 63 22 3a 22 70 22 2c 22 74 22"
	    "3a 22 74 65 73 74 22 7d 44 61 74 61 3d 30 01",
	    "c=p\nt=test" },
	{ "A.7 delivery", 111, "00 00 00 6f", 93,
	    "00 00 00 6f 7b 22 63 22 3a 22 70 22 2c 22 74 22"
	    "3a 22 6f 72 64 65 72 73 22 2c 22 73 75 62 5f 69"
	    "64 22 3a 22 33 22 2c 22 62 6d 22 3a 22 39 35 31"
	    "38 33 32 39 31 32 38 34 31 33 33 38 31 32 34 35"
	    "7c 34 32 7c 22 2c 22 6b 22 3a 22 31 32 30 38 31"
	    "37 34 39 33 32 35 31 36 33 30 39 38 30 31 31 22"
	    "7d 7b 22 69 64 22 3a 37 2c 22 71 74 79 22 3a 31"
	    "30 30 7d",
	    "c=p\nt=orders\nsub_id=3\nbm=9518329128413381245|42|\n"
	    "k=12081749325163098011" },
	{ "A.8 sow batch (outer header)", 177, "00 00 00 b1", 46,
	    A8_BATCH_HEX,
	    "c=sow\nt=orders\nquery_id=4\nbs=2" },
	{ "A.9 oof", 98, "00 00 00 62", 81,
	    "00 00 00 62 7b 22 63 22 3a 22 6f 6f 66 22 2c 22"
	    "74 22 3a 22 6f 72 64 65 72 73 22 2c 22 73 75 62"
	    "5f 69 64 22 3a 22 33 22 2c 22 6b 22 3a 22 31 32"
	    "30 38 31 37 34 39 33 32 35 31 36 33 30 39 38 30"
	    "31 31 22 2c 22 72 65 61 73 6f 6e 22 3a 22 6d 61"
	    "74 63 68 22 7d 7b 22 69 64 22 3a 37 2c 22 71 74"
	    "79 22 3a 31 30 7d",
	    "c=oof\nt=orders\nsub_id=3\nk=12081749325163098011\n"
	    "reason=match" },
};

/* A frame given as header text (+ payload). */
struct textframe {
	const char	*name;
	uint32_t	 len;
	const char	*pfx;
	const char	*hdr;
	const char	*payload;
	const char	*fields;
};

static const struct textframe textframes[] = {
	{ "A.2 [T] logon", 117, "00 00 00 75",
	    "{\"c\":\"logon\",\"cid\":\"0\",\"client_name\":\"pubber\","
	    "\"mt\":\"nvfix\",\"a\":\"processed\","
	    "\"version\":\"5.2.1.1.ff11e5c.358302:python\"}", "",
	    "c=logon\ncid=0\nclient_name=pubber\nmt=nvfix\na=processed\n"
	    "version=5.2.1.1.ff11e5c.358302:python" },
	{ "A.2 [T] logon ack", 186, "00 00 00 ba",
	    "{\"c\":\"ack\",\"cid\":\"0\",\"s\":0,"
	    "\"bm\":\"7094790850998930143|0|\",\"client_name\":\"pubber\","
	    "\"a\":\"processed\",\"status\":\"success\","
	    "\"reason\":\"authentication disabled\","
	    "\"version\":\"5.2.1.17.717892.e742467\"}", "",
	    "c=ack\ncid=0\ns=0\nbm=7094790850998930143|0|\n"
	    "client_name=pubber\na=processed\nstatus=success\n"
	    "reason=authentication disabled\nversion=5.2.1.17.717892.e742467" },
	{ "A.4 conflated persisted ack", 53, "00 00 00 35",
	    "{\"c\":\"ack\",\"a\":\"persisted\",\"status\":\"success\","
	    "\"s\":42}", "",
	    "c=ack\na=persisted\nstatus=success\ns=42" },
	{ "A.4 persisted failure", 77, "00 00 00 4d",
	    "{\"c\":\"ack\",\"a\":\"persisted\",\"status\":\"failure\","
	    "\"s\":45,\"reason\":\"not entitled\"}", "",
	    "c=ack\na=persisted\nstatus=failure\ns=45\nreason=not entitled" },
	{ "A.6 subscribe", 85, "00 00 00 55",
	    "{\"c\":\"subscribe\",\"cid\":\"3\",\"t\":\"orders\","
	    "\"sub_id\":\"3\",\"a\":\"processed\",\"f\":\"/qty > 50\"}", "",
	    "c=subscribe\ncid=3\nt=orders\nsub_id=3\na=processed\n"
	    "f=/qty > 50" },
	{ "A.6 processed ack", 56, "00 00 00 38",
	    "{\"c\":\"ack\",\"cid\":\"3\",\"a\":\"processed\","
	    "\"status\":\"success\"}", "",
	    "c=ack\ncid=3\na=processed\nstatus=success" },
	{ "A.6 failure ack", 78, "00 00 00 4e",
	    "{\"c\":\"ack\",\"cid\":\"5\",\"a\":\"processed\","
	    "\"status\":\"failure\",\"reason\":\"bad filter\"}", "",
	    "c=ack\ncid=5\na=processed\nstatus=failure\nreason=bad filter" },
	{ "A.8 sow command", 98, "00 00 00 62",
	    "{\"c\":\"sow\",\"cid\":\"4\",\"t\":\"orders\",\"query_id\":\"4\","
	    "\"a\":\"processed,completed\",\"bs\":10,\"f\":\"/qty > 0\"}", "",
	    "c=sow\ncid=4\nt=orders\nquery_id=4\na=processed,completed\n"
	    "bs=10\nf=/qty > 0" },
	{ "A.8 processed ack", 56, "00 00 00 38",
	    "{\"c\":\"ack\",\"cid\":\"4\",\"a\":\"processed\","
	    "\"status\":\"success\"}", "",
	    "c=ack\ncid=4\na=processed\nstatus=success" },
	{ "A.8 group_begin", 34, "00 00 00 22",
	    "{\"c\":\"group_begin\",\"query_id\":\"4\"}", "",
	    "c=group_begin\nquery_id=4" },
	{ "A.8 group_end", 32, "00 00 00 20",
	    "{\"c\":\"group_end\",\"query_id\":\"4\"}", "",
	    "c=group_end\nquery_id=4" },
	{ "A.8 completed ack", 71, "00 00 00 47",
	    "{\"c\":\"ack\",\"cid\":\"4\",\"a\":\"completed\","
	    "\"status\":\"success\",\"query_id\":\"4\"}", "",
	    "c=ack\ncid=4\na=completed\nstatus=success\nquery_id=4" },
	{ "A.10 sow_and_subscribe", 113, "00 00 00 71",
	    "{\"c\":\"sow_and_subscribe\",\"cid\":\"12\",\"t\":\"orders\","
	    "\"sub_id\":\"12\",\"query_id\":\"12\",\"a\":\"processed\","
	    "\"bs\":10,\"o\":\"oof\"}", "",
	    "c=sow_and_subscribe\ncid=12\nt=orders\nsub_id=12\nquery_id=12\n"
	    "a=processed\nbs=10\no=oof" },
	{ "A.10 bookmark subscribe", 158, "00 00 00 9e",
	    "{\"c\":\"subscribe\",\"cid\":\"13\",\"t\":\"orders\","
	    "\"sub_id\":\"audit-1\",\"bm\":\"9518329128413381245|40|\","
	    "\"a\":\"processed,completed,persisted\","
	    "\"o\":\"bookmark_not_found=epoch\"}", "",
	    "c=subscribe\ncid=13\nt=orders\nsub_id=audit-1\n"
	    "bm=9518329128413381245|40|\na=processed,completed,persisted\n"
	    "o=bookmark_not_found=epoch" },
	{ "A.10 subscription persisted ack", 107, "00 00 00 6b",
	    "{\"c\":\"ack\",\"cid\":\"13\",\"sub_id\":\"audit-1\","
	    "\"a\":\"persisted\",\"status\":\"success\","
	    "\"bm\":\"9518329128413381245|57|\"}", "",
	    "c=ack\ncid=13\nsub_id=audit-1\na=persisted\nstatus=success\n"
	    "bm=9518329128413381245|57|" },
	{ "A.10 delta_publish", 86, "00 00 00 56",
	    "{\"c\":\"delta_publish\",\"cid\":\"14\",\"t\":\"orders\","
	    "\"a\":\"persisted\",\"s\":43}", "{\"id\":7,\"qty\":150}",
	    "c=delta_publish\ncid=14\nt=orders\na=persisted\ns=43" },
	{ "A.10 sow_delete stats ack", 104, "00 00 00 68",
	    "{\"c\":\"ack\",\"cid\":\"6\",\"a\":\"stats\",\"status\":\"success\","
	    "\"matches\":3,\"records_deleted\":3,\"topic_matches\":120}", "",
	    "c=ack\ncid=6\na=stats\nstatus=success\nmatches=3\n"
	    "records_deleted=3\ntopic_matches=120" },
	{ "A.10 queue subscribe ack", 76, "00 00 00 4c",
	    "{\"c\":\"ack\",\"cid\":\"7\",\"a\":\"processed\","
	    "\"status\":\"success\",\"o\":\"max_backlog=5\"}", "",
	    "c=ack\ncid=7\na=processed\nstatus=success\no=max_backlog=5" },
	{ "A.10 queue delivery", 103, "00 00 00 67",
	    "{\"c\":\"p\",\"t\":\"work\",\"sub_id\":\"7\","
	    "\"bm\":\"9518329128413381245|7|\","
	    "\"lp\":\"20240321T220957.535075Z\"}", "{\"job\":1}",
	    "c=p\nt=work\nsub_id=7\nbm=9518329128413381245|7|\n"
	    "lp=20240321T220957.535075Z" },
	{ "A.10 queue ack", 92, "00 00 00 5c",
	    "{\"c\":\"sow_delete\",\"cid\":\"9\",\"t\":\"work\","
	    "\"bm\":\"9518329128413381245|7|,9518329128413381245|8|\"}", "",
	    "c=sow_delete\ncid=9\nt=work\n"
	    "bm=9518329128413381245|7|,9518329128413381245|8|" },
	{ "A.10 unsubscribe", 43, "00 00 00 2b",
	    "{\"c\":\"unsubscribe\",\"cid\":\"10\",\"sub_id\":\"3\"}", "",
	    "c=unsubscribe\ncid=10\nsub_id=3" },
	{ "A.10 flush", 40, "00 00 00 28",
	    "{\"c\":\"flush\",\"cid\":\"11\",\"a\":\"processed\"}", "",
	    "c=flush\ncid=11\na=processed" },
	{ "A.10 logon retry ack", 89, "00 00 00 59",
	    "{\"c\":\"ack\",\"cid\":\"0\",\"a\":\"processed\","
	    "\"status\":\"retry\",\"reason\":\"<server challenge text>\"}", "",
	    "c=ack\ncid=0\na=processed\nstatus=retry\n"
	    "reason=<server challenge text>" },
};

#define NHEX	(sizeof hexframes / sizeof hexframes[0])
#define NTEXT	(sizeof textframes / sizeof textframes[0])

/*
 * Decode frame[0..n) (prefix included), check the prefix against the
 * documented len and bytes, the header against fields, and re-encode it byte
 * for byte.  hdr is the expected header length (0: the whole body).
 */
static void
check_frame_bytes(const char *name, const char *frame, size_t n,
    uint32_t len, const char *pfxhex, uint32_t hdr, const char *fields)
{
	struct amps_hdr	 h;
	char		 pfx[4], out[1024];
	const char	*body;
	uint32_t	 blen;
	size_t		 used;
	long long	 total;

	ck_assert_msg(n == (size_t)len + 4, "%s: %zu bytes, PROTOCOL.md len %u",
	    name, n, len);
	ck_assert_uint_eq(test_hex2bin(pfxhex, pfx, sizeof pfx), 4);
	ck_assert_msg(memcmp(frame, pfx, 4) == 0, "%s: prefix", name);
	amps_frame_put_len(out, len);
	ck_assert(memcmp(out, pfx, 4) == 0);

	ck_assert_int_eq(amps_frame_next(frame, n, AMPS_FRAME_MAX_DEFAULT,
	    &body, &blen, &used), 1);
	ck_assert_uint_eq(blen, len);
	ck_assert_uint_eq(used, n);
	ck_assert_msg(parse_exact(body, blen, &h) == 0, "%s: parse", name);
	ck_assert_uint_eq(h.hdr_len, hdr != 0 ? hdr : len);
	check_fields(&h, fields);

	/* Re-encode with the parsed payload: the same bytes. */
	total = amps_hdr_write(&h, 1, body + h.hdr_len, blen - h.hdr_len,
	    out, sizeof out);
	ck_assert_msg(total == (long long)n, "%s: re-encoded %lld bytes",
	    name, total);
	ck_assert_msg(memcmp(out, frame, n) == 0, "%s: re-encoded bytes",
	    name);

	/* And the bare header alone. */
	total = amps_hdr_write(&h, 0, NULL, 0, out, sizeof out);
	ck_assert_int_eq(total, h.hdr_len);
	ck_assert(memcmp(out, body, h.hdr_len) == 0);
}

/* Appendix A frames given as hex dumps: decode, prefix, re-encode. */
START_TEST(test_appendix_hex)
{
	const struct hexframe	*f = &hexframes[_i];
	char			 frame[512];
	size_t			 n;

	n = test_hex2bin(f->hex, frame, sizeof frame);
	check_frame_bytes(f->name, frame, n, f->len, f->pfx, f->hdr,
	    f->fields);
}
END_TEST

/* Appendix A frames given as header text: decode, prefix, re-encode. */
START_TEST(test_appendix_text)
{
	const struct textframe	*f = &textframes[_i];
	char			 frame[512];
	size_t			 hl = strlen(f->hdr), pl = strlen(f->payload);

	ck_assert_uint_lt(4 + hl + pl, sizeof frame);
	amps_frame_put_len(frame, (uint32_t)(hl + pl));
	memcpy(frame + 4, f->hdr, hl);
	memcpy(frame + 4 + hl, f->payload, pl);
	check_frame_bytes(f->name, frame, 4 + hl + pl, f->len, f->pfx,
	    pl > 0 ? (uint32_t)hl : 0, f->fields);
}
END_TEST

/* Typed values from Appendix A frames (numbers, bookmarks, SOH payload). */
START_TEST(test_appendix_values)
{
	struct amps_hdr	 h;
	char		 frame[512], s[64];
	uint64_t	 x;
	size_t		 n;

	/* A.2: the logon ack's s is the last persisted sequence. */
	n = test_hex2bin(hexframes[1].hex, frame, sizeof frame);
	ck_assert_int_eq(amps_hdr_parse(frame + 4, n - 4, &h), 0);
	ck_assert_int_eq(amps_hdr_u64(&h, AMPS_F_S, &x), 0);
	ck_assert_uint_eq(x, 41);
	ck_assert_int_eq(amps_hdr_cmd(&h), AMPS_CMD_ACK);
	ck_assert_int_eq(amps_hdr_str(&h, AMPS_F_BM, s, sizeof s), 23);
	ck_assert_str_eq(s, "9518329128413381245|41|");

	/* A.5: the payload ends with the SOH byte. */
	n = test_hex2bin(hexframes[6].hex, frame, sizeof frame);
	ck_assert_int_eq(amps_hdr_parse(frame + 4, n - 4, &h), 0);
	ck_assert_uint_eq(n - 4 - h.hdr_len, 7);
	ck_assert(memcmp(frame + 4 + h.hdr_len, "Data=0\001", 7) == 0);
	ck_assert_int_eq(amps_hdr_cmd(&h), AMPS_CMD_PUBLISH);

	/* A.10 stats ack numbers. */
	ck_assert_int_eq(amps_hdr_parse(textframes[16].hdr,
	    strlen(textframes[16].hdr), &h), 0);
	ck_assert_int_eq(amps_hdr_u64(&h, AMPS_F_TOPIC_MATCHES, &x), 0);
	ck_assert_uint_eq(x, 120);
}
END_TEST

/* ----------------------------------------------------------- dictionary */

/* One X-macro row, as the tests see it. */
struct fdef {
	int		 e;
	const char	*send;
	const char	*alt;
	int		 num;
};

#define FDEF(e, s, alt, num)	{ AMPS_F_##e, s, alt, num },
static const struct fdef fdefs[] = {
	AMPS_FIELDS(FDEF)
};
#undef FDEF

/* Every spelling of AMPS_FIELDS maps to its field; near misses do not. */
START_TEST(test_dictionary)
{
	const struct fdef	*d;
	const char		*a, *bar;
	size_t			 i, n;
	int			 spellings = 0;

	ck_assert_uint_eq(sizeof fdefs / sizeof fdefs[0], AMPS_F__COUNT);
	ck_assert_uint_le(AMPS_F__COUNT, 64);	/* fits h->present */
	for (i = 0; i < AMPS_F__COUNT; i++) {
		d = &fdefs[i];
		ck_assert_int_eq(d->e, (int)i);
		ck_assert_str_eq(amps_field_name(d->e), d->send);
		ck_assert_int_eq(amps_field_numeric(d->e), d->num);
		ck_assert_msg(amps_field_lookup(d->send, strlen(d->send)) ==
		    d->e, "send spelling %s", d->send);
		spellings++;
		for (a = d->alt; *a != '\0'; a = *bar == '|' ? bar + 1 : bar) {
			bar = strchr(a, '|');
			if (bar == NULL)
				bar = a + strlen(a);
			n = (size_t)(bar - a);
			ck_assert_msg(amps_field_lookup(a, n) == d->e,
			    "spelling %.*s", (int)n, a);
			spellings++;
		}
	}
	ck_assert_int_eq(spellings, 69);

	/* The parser's one-byte fast path agrees with amps_field_lookup. */
	for (i = 0; i < 256; i++) {
		struct amps_hdr	h;
		char		in[16];
		int		f;

		if (i == '"' || i == '\\' || i < 0x20)
			continue;
		snprintf(in, sizeof in, "{\"%c\":1}", (int)i);
		ck_assert_int_eq(amps_hdr_parse(in, 8, &h), 0);
		f = amps_field_lookup(in + 2, 1);
		if (f < 0)
			ck_assert_uint_eq(h.present, 0);
		else
			ck_assert_uint_eq(h.present, (uint64_t)1 << f);
	}

	/* Near misses are unknown. */
	ck_assert_int_eq(amps_field_lookup("", 0), -1);
	ck_assert_int_eq(amps_field_lookup("C", 1), -1);
	ck_assert_int_eq(amps_field_lookup("z", 1), -1);
	ck_assert_int_eq(amps_field_lookup("cm", 2), -1);
	ck_assert_int_eq(amps_field_lookup("cmdx", 4), -1);
	ck_assert_int_eq(amps_field_lookup("topiC", 5), -1);
	ck_assert_int_eq(amps_field_lookup("lease-period", 12), -1);
	ck_assert_int_eq(amps_field_lookup("group_sequence_numbers", 22), -1);
	ck_assert_int_eq(amps_field_lookup("cid", 2), -1);	/* "ci" */
	ck_assert_ptr_null(amps_field_name(AMPS_F__COUNT));
	ck_assert_ptr_null(amps_field_name((enum amps_field)-1));
	ck_assert_int_eq(amps_field_numeric(AMPS_F__COUNT), 0);
}
END_TEST

/* Long spellings land in the same fields as short ones, re-encode short. */
START_TEST(test_spellings)
{
	static const char *const longs =
	    "{\"cmd\":\"publish\",\"topic\":\"orders\",\"opts\":\"oof\","
	    "\"bookmark\":\"0|1|\",\"order_by\":\"/a DESC\","
	    "\"lease_period\":\"L1\",\"seq\":\"17\",\"cmd_id\":\"9\","
	    "\"ack_type\":\"stats\",\"batch_size\":\"5\","
	    "\"correlation_id\":\"QQ==\",\"expiration\":60,"
	    "\"filter\":\"/x=1\",\"sow_key\":\"k1\",\"password\":\"pw\","
	    "\"v\":\"1.0\",\"message_type\":\"json\",\"msg_len\":3,"
	    "\"timestamp\":\"20240101T000000Z\","
	    "\"group_sequence_number\":\"8\",\"maximum_messages\":2}";
	static const char *const shorts =
	    "{\"c\":\"p\",\"t\":\"orders\",\"o\":\"oof\",\"bm\":\"0|1|\","
	    "\"orderby\":\"/a DESC\",\"lp\":\"L1\",\"s\":17,\"cid\":\"9\","
	    "\"a\":\"stats\",\"bs\":5,\"x\":\"QQ==\",\"e\":60,"
	    "\"f\":\"/x=1\",\"k\":\"k1\",\"pw\":\"pw\",\"version\":\"1.0\","
	    "\"mt\":\"json\",\"l\":3,\"ts\":\"20240101T000000Z\","
	    "\"gseq\":8,\"max_msgs\":2}";
	struct amps_hdr	 h, h2;
	char		 out[1024];
	uint64_t	 x;
	long long	 n;

	ck_assert_int_eq(parse_exact(longs, strlen(longs), &h), 0);
	ck_assert_int_eq(h.norder, 21);
	ck_assert(amps_hdr_eq(&h, AMPS_F_T, "orders"));
	ck_assert(amps_hdr_eq(&h, AMPS_F_O, "oof"));
	ck_assert(amps_hdr_eq(&h, AMPS_F_BM, "0|1|"));
	ck_assert(amps_hdr_eq(&h, AMPS_F_ORDERBY, "/a DESC"));
	ck_assert(amps_hdr_eq(&h, AMPS_F_LP, "L1"));
	ck_assert_int_eq(amps_hdr_cmd(&h), AMPS_CMD_PUBLISH);
	ck_assert_int_eq(amps_hdr_u64(&h, AMPS_F_S, &x), 0);
	ck_assert_uint_eq(x, 17);
	ck_assert_int_eq(amps_hdr_u64(&h, AMPS_F_BS, &x), 0);
	ck_assert_uint_eq(x, 5);
	ck_assert_int_eq(amps_hdr_u64(&h, AMPS_F_GSEQ, &x), 0);
	ck_assert_uint_eq(x, 8);

	/* Re-encoding uses the send spellings, numbers bare ("c" value is
	 * kept: re-encoding never rewrites values). */
	n = amps_hdr_write(&h, 0, NULL, 0, out, sizeof out);
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, (long long)sizeof out);
	out[n] = '\0';
	ck_assert_int_eq(parse_exact(shorts, strlen(shorts), &h2), 0);
	ck_assert_int_eq(h2.norder, 21);
	ck_assert_str_eq(out + 15, shorts + 9);	/* past the c values */
	ck_assert(strncmp(out, "{\"c\":\"publish\",", 15) == 0);

	/* leaseperiod (no underscore) is the same field. */
	ck_assert_int_eq(parse_exact("{\"leaseperiod\":\"x\"}", 19, &h), 0);
	ck_assert(amps_hdr_eq(&h, AMPS_F_LP, "x"));
}
END_TEST

/* --------------------------------------------------------------- parser */

/* JSON whitespace is allowed between tokens and counted in hdr_len. */
START_TEST(test_whitespace)
{
	static const char	 in[] = " \r\n\t{ \"c\" :\t\"p\" ,\n\"s\"\r: 42 ,"
	    " \"t\" : \"x\"\t}PAYLOAD";
	struct amps_hdr		 h;
	uint64_t		 x;

	ck_assert_int_eq(parse_exact(in, sizeof in - 1, &h), 0);
	ck_assert_uint_eq(h.hdr_len, sizeof in - 1 - 7);
	ck_assert_int_eq(memcmp(in + h.hdr_len, "PAYLOAD", 7), 0);
	check_fields(&h, "c=p\ns=42\nt=x");
	ck_assert_int_eq(amps_hdr_u64(&h, AMPS_F_S, &x), 0);
	ck_assert_uint_eq(x, 42);

	ck_assert_int_eq(parse_exact("{}", 2, &h), 0);
	ck_assert_uint_eq(h.hdr_len, 2);
	ck_assert_int_eq(h.norder, 0);
	ck_assert_uint_eq(h.present, 0);
	ck_assert_int_eq(parse_exact("  { }x", 6, &h), 0);
	ck_assert_uint_eq(h.hdr_len, 5);
}
END_TEST

/* Unknown keys with any scalar value are skipped. */
START_TEST(test_unknown_keys)
{
	static const char	 in[] = "{\"zz\":\"a\\\"b\",\"c\":\"p\","
	    "\"n1\":-12.5e+3,\"n2\":0,\"n3\":1E9,\"b1\":true,\"b2\":false,"
	    "\"nl\":null,\"u\\u00e9\":\"x\",\"t\":\"T\",\"n4\":-0.0}";
	struct amps_hdr		 h;

	ck_assert_int_eq(parse_exact(in, sizeof in - 1, &h), 0);
	check_fields(&h, "c=p\nt=T");
	ck_assert_uint_eq(h.hdr_len, sizeof in - 1);
}
END_TEST

/* A repeated key keeps its first position and its last value. */
START_TEST(test_repeated_key)
{
	static const char	 in[] = "{\"t\":\"first\",\"c\":\"p\","
	    "\"topic\":\"second\",\"s\":1,\"t\":\"last\"}";
	struct amps_hdr		 h;
	char			 out[128];

	ck_assert_int_eq(parse_exact(in, sizeof in - 1, &h), 0);
	check_fields(&h, "t=last\nc=p\ns=1");
	ck_assert_int_eq(amps_hdr_write(&h, 0, NULL, 0, out, sizeof out), 26);
	out[26] = '\0';
	ck_assert_str_eq(out, "{\"c\":\"p\",\"t\":\"last\",\"s\":1}");
}
END_TEST

/* amps_hdr_u64: bare and quoted digits, overflow and non-numbers. */
START_TEST(test_numbers)
{
	struct amps_hdr	 h;
	uint64_t	 x;
	static const struct {
		const char	*in;
		int		 rc;
		uint64_t	 v;
	} t[] = {
		{ "{\"s\":0}", 0, 0 },
		{ "{\"s\":\"0\"}", 0, 0 },
		{ "{\"s\":\"007\"}", 0, 7 },
		{ "{\"s\":18446744073709551615}", 0, UINT64_MAX },
		{ "{\"s\":\"18446744073709551615\"}", 0, UINT64_MAX },
		{ "{\"s\":18446744073709551616}", AMPS_E_RANGE, 0 },
		{ "{\"s\":\"18446744073709551616\"}", AMPS_E_RANGE, 0 },
		{ "{\"s\":99999999999999999999}", AMPS_E_RANGE, 0 },
		{ "{\"s\":-1}", AMPS_E_RANGE, 0 },
		{ "{\"s\":1.5}", AMPS_E_RANGE, 0 },
		{ "{\"s\":1e3}", AMPS_E_RANGE, 0 },
		{ "{\"s\":\"\"}", AMPS_E_RANGE, 0 },
		{ "{\"s\":\" 1\"}", AMPS_E_RANGE, 0 },
		{ "{\"s\":\"1x\"}", AMPS_E_RANGE, 0 },
		{ "{\"s\":\"\\u0031\"}", AMPS_E_RANGE, 0 },
		{ "{\"s\":true}", AMPS_E_RANGE, 0 },
		{ "{\"c\":\"p\"}", AMPS_E_ABSENT, 0 },
	};
	size_t		 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		ck_assert_int_eq(parse_exact(t[i].in, strlen(t[i].in), &h), 0);
		x = 12345;
		ck_assert_msg(amps_hdr_u64(&h, AMPS_F_S, &x) == t[i].rc,
		    "%s", t[i].in);
		if (t[i].rc == 0)
			ck_assert_uint_eq(x, t[i].v);
		else
			ck_assert_uint_eq(x, 12345);
	}
}
END_TEST

/* Escapes, \\u sequences and surrogate pairs decode to UTF-8. */
START_TEST(test_escapes)
{
	static const char	 in[] = "{\"c\":\"p\",\"f\":\"/a = \\\"q\\\" AND "
	    "\\\\b\\/\\b\\f\\n\\r\\t\",\"t\":\"\\u00e9\\u20AC\\ud83d\\ude00"
	    "\\u0000z\",\"\\u0063md\":\"oof\"}";
	struct amps_hdr		 h;
	char			 s[64], small[4];

	ck_assert_int_eq(parse_exact(in, sizeof in - 1, &h), 0);
	ck_assert_int_eq(amps_hdr_cmd(&h), AMPS_CMD_OOF);	/* last wins */
	ck_assert_int_eq(amps_hdr_str(&h, AMPS_F_F, s, sizeof s), 21);
	ck_assert_str_eq(s, "/a = \"q\" AND \\b/\b\f\n\r\t");
	ck_assert(amps_hdr_eq(&h, AMPS_F_F, "/a = \"q\" AND \\b/\b\f\n\r\t"));
	ck_assert(!amps_hdr_eq(&h, AMPS_F_F, "/a = \"q\" AND \\b/\b\f\n\r"));
	ck_assert(!amps_hdr_eq(&h, AMPS_F_F, "/a = \"q\" AND \\b/\b\f\n\r\tx"));
	ck_assert(!amps_hdr_eq(&h, AMPS_F_F, "/a = 'q'"));
	ck_assert_int_eq(h.v[AMPS_F_F].esc, 1);
	ck_assert_int_eq(h.v[AMPS_F_F].quoted, 1);
	ck_assert_int_eq(amps_hdr_str(&h, AMPS_F_T, s, sizeof s), 11);
	ck_assert(memcmp(s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z\0",
	    12) == 0);
	ck_assert_int_eq(amps_hdr_str(&h, AMPS_F_F, small, sizeof small),
	    AMPS_E_NOSPACE);
	ck_assert_int_eq(amps_hdr_str(&h, AMPS_F_C, small, 3),
	    AMPS_E_NOSPACE);
	ck_assert_int_eq(amps_hdr_str(&h, AMPS_F_C, small, 4), 3);
	ck_assert_int_eq(amps_hdr_str(&h, AMPS_F_S, s, sizeof s),
	    AMPS_E_ABSENT);
	ck_assert(!amps_hdr_eq(&h, AMPS_F_S, ""));
	ck_assert_ptr_null(amps_hdr_view(&h, AMPS_F_S));
	ck_assert_ptr_null(amps_hdr_view(&h, AMPS_F__COUNT));
	ck_assert_ptr_nonnull(amps_hdr_view(&h, AMPS_F_T));

	/* amps_unescape directly. */
	ck_assert_int_eq(amps_unescape("a\\u0041\\\\", 9, s, sizeof s), 3);
	ck_assert_str_eq(s, "aA\\");
	ck_assert_int_eq(amps_unescape("", 0, s, 1), 0);
	ck_assert_int_eq(amps_unescape("", 0, s, 0), AMPS_E_NOSPACE);
	ck_assert_int_eq(amps_unescape("ab", 2, s, 2), AMPS_E_NOSPACE);
	ck_assert_int_eq(amps_unescape("\\x", 2, s, sizeof s), AMPS_E_ESCAPE);
	ck_assert_int_eq(amps_unescape("\\u12", 4, s, sizeof s),
	    AMPS_E_ESCAPE);
	ck_assert_int_eq(amps_unescape("\\ud800", 6, s, sizeof s),
	    AMPS_E_ESCAPE);
	ck_assert_int_eq(amps_unescape("x\\", 2, s, sizeof s), AMPS_E_ESCAPE);
}
END_TEST

/* One malformed input and the error it must give. */
struct bad {
	const char	*in;
	int		 rc;
	size_t		 len;		/* 0: strlen(in) */
};

static const struct bad bads[] = {
	{ "", AMPS_E_TRUNCATED, 0 },
	{ " \n ", AMPS_E_TRUNCATED, 0 },
	{ "[1]", AMPS_E_NOT_OBJECT, 0 },
	{ "\"c\":\"p\"", AMPS_E_NOT_OBJECT, 0 },
	{ "x{\"c\":\"p\"}", AMPS_E_NOT_OBJECT, 0 },
	{ "\0{}", AMPS_E_NOT_OBJECT, 3 },
	{ "{", AMPS_E_TRUNCATED, 0 },
	{ "{ ", AMPS_E_TRUNCATED, 0 },
	{ "{\"c", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\"", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":\"p", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":\"p\\\"}", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":\"p\"", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":\"p\",", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":\"p\", ", AMPS_E_TRUNCATED, 0 },
	{ "{\"s\":42", AMPS_E_TRUNCATED, 0 },
	{ "{\"s\":-", AMPS_E_TRUNCATED, 0 },
	{ "{\"s\":1.", AMPS_E_TRUNCATED, 0 },
	{ "{\"s\":1e", AMPS_E_TRUNCATED, 0 },
	{ "{\"s\":1e+", AMPS_E_TRUNCATED, 0 },
	{ "{\"s\":tru", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":\"\\", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":\"\\u12", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":\"\\ud83d", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":\"\\ud83d\\", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":\"\\ud83d\\ude0", AMPS_E_TRUNCATED, 0 },
	{ "{\"c\":\"\\x\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\a\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\U0041\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\u12\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\u12g4\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\ud800\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\udbff\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\udc00\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\udfffx\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\ud800x\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\ud800\\n\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\ud800\\u0041\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":\"\\ud800\\ud800\"}", AMPS_E_ESCAPE, 0 },
	{ "{\"\\q\":1}", AMPS_E_ESCAPE, 0 },
	{ "{\"c\":{\"a\":1}}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":[1]}", AMPS_E_SYNTAX, 0 },
	{ "{\"zz\":{}}", AMPS_E_SYNTAX, 0 },
	{ "{\"zz\":[]}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\" \"p\"}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\"=\"p\"}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\"::\"p\"}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":\"p\" x}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":\"p\"x}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":\"p\"\"t\":\"x\"}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":\"p\",}", AMPS_E_SYNTAX, 0 },
	{ "{,\"c\":\"p\"}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":\"p\",,\"t\":\"x\"}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":,\"t\":\"x\"}", AMPS_E_SYNTAX, 0 },
	{ "{c:\"p\"}", AMPS_E_SYNTAX, 0 },
	{ "{'c':'p'}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":'p'}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":42x}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":01}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":+1}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":-}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":-a}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":1.}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":.5}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":1e}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":0x10}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":tru}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":True}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":nul}", AMPS_E_SYNTAX, 0 },
	{ "{\"s\":nulll}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":\"a\001b\"}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":\"a\nb\"}", AMPS_E_SYNTAX, 0 },
	{ "{\"c\":\"p\"}}", 0, 0 },	/* the second '}' is payload */
};

/* Each malformed header gives its error (one loop index per input). */
START_TEST(test_malformed)
{
	const struct bad	*b = &bads[_i];
	struct amps_hdr		 h;
	size_t			 len = b->len != 0 ? b->len : strlen(b->in);

	ck_assert_msg(parse_exact(b->in, len, &h) == b->rc,
	    "input %s: got %d (%s), want %d", b->in,
	    parse_exact(b->in, len, &h),
	    amps_strerror(parse_exact(b->in, len, &h)), b->rc);
}
END_TEST

/* Every proper prefix of a valid header is AMPS_E_TRUNCATED. */
static void
check_prefixes(const char *hdr, size_t len)
{
	struct amps_hdr	h;
	size_t		i;
	int		rc;

	ck_assert_int_eq(parse_exact(hdr, len, &h), 0);
	ck_assert_uint_eq(h.hdr_len, len);
	for (i = 0; i < len; i++) {
		rc = parse_exact(hdr, i, &h);
		ck_assert_msg(rc == AMPS_E_TRUNCATED,
		    "prefix %zu of %.*s: %d", i, (int)len, hdr, rc);
	}
}

/* Every proper prefix of a valid header is AMPS_E_TRUNCATED. */
START_TEST(test_truncation)
{
	static const char	 esc[] = "{ \"c\" : \"\\ud83d\\ude00\\n\\u00e9\" ,"
	    " \"zz\" : -1.5e-3 , \"b\" : true , \"n\" : null , \"f\" : false }";
	char			 frame[512];
	size_t			 i, n;

	check_prefixes(esc, sizeof esc - 1);
	for (i = 0; i < NTEXT; i++)
		check_prefixes(textframes[i].hdr, strlen(textframes[i].hdr));
	for (i = 0; i < NHEX; i++) {
		n = test_hex2bin(hexframes[i].hex, frame, sizeof frame);
		check_prefixes(frame + 4,
		    hexframes[i].hdr != 0 ? hexframes[i].hdr : n - 4);
	}
}
END_TEST

/*
 * Random mutations of valid headers never crash; whatever parses obeys
 * the view invariants and re-encodes to something that parses to the
 * same values.
 */
START_TEST(test_mutations)
{
	static const char	 pool[] = "\"\\{}[]:, u0dD8\t\001\377a1-e.tfn";
	struct amps_hdr		 h, h2;
	char			 buf[512], out[2048], s1[512], s2[512];
	const char		*src;
	size_t			 len, i, k;
	long long		 n;
	int			 rc, iter, ok = 0, r1, r2;

	test_rng_seed("mutations", DEFAULT_SEED);
	for (iter = 0; iter < 20000; iter++) {
		src = textframes[test_rng_below(NTEXT)].hdr;
		len = strlen(src);
		memcpy(buf, src, len);
		for (k = 1 + test_rng_below(3); k > 0; k--) {
			i = test_rng_below(len);
			buf[i] = test_rng_below(4) == 0 ?
			    (char)test_rng_next() :
			    pool[test_rng_below(sizeof pool - 1)];
		}
		if (test_rng_below(8) == 0)
			len = test_rng_below(len + 1);
		rc = parse_exact(buf, len, &h);
		ck_assert(rc == 0 || rc == AMPS_E_TRUNCATED ||
		    rc == AMPS_E_SYNTAX || rc == AMPS_E_NOT_OBJECT ||
		    rc == AMPS_E_ESCAPE);
		if (rc != 0)
			continue;
		ok++;
		ck_assert_uint_le(h.hdr_len, len);
		n = amps_hdr_write(&h, 0, NULL, 0, out, sizeof out);
		ck_assert_int_gt(n, 0);
		ck_assert_int_lt(n, (long long)sizeof out);
		ck_assert_int_eq(parse_exact(out, (size_t)n, &h2), 0);
		ck_assert_int_eq(h2.hdr_len, n);
		ck_assert_uint_eq(h2.present, h.present);
		for (i = 0; i < AMPS_F__COUNT; i++) {
			if (!amps_hdr_has(&h, i))
				continue;
			r1 = amps_hdr_str(&h, i, s1, sizeof s1);
			r2 = amps_hdr_str(&h2, i, s2, sizeof s2);
			ck_assert_int_ge(r1, 0);	/* never ESCAPE */
			ck_assert_int_eq(r1, r2);
			ck_assert(memcmp(s1, s2, (size_t)r1) == 0);
		}
	}
	printf("mutations: %d of 20000 still parsed\n", ok);
}
END_TEST

/* --------------------------------------------------------------- writer */

/* amps_escape: the escape table and snprintf-style counting. */
START_TEST(test_escape)
{
	char		 out[512], all[32];
	size_t		 n, i;
	static const char *const want =
	    "\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
	    "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
	    "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
	    "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f";

	for (i = 0; i < 32; i++)
		all[i] = (char)i;
	n = amps_escape(all, 32, out, sizeof out);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_str_eq(out, want);

	n = amps_escape("a\"b\\c/\x7f\xc3\xa9\xf0\x9f\x98\x80", 13, out,
	    sizeof out);
	ck_assert_uint_eq(n, 15);
	ck_assert_str_eq(out, "a\\\"b\\\\c/\x7f\xc3\xa9\xf0\x9f\x98\x80");

	/* snprintf style: count past cap, never write past it. */
	memset(out, 'Z', sizeof out);
	n = amps_escape("\"\"\"", 3, out, 4);
	ck_assert_uint_eq(n, 6);
	ck_assert(memcmp(out, "\\\"\\\"Z", 5) == 0);
	n = amps_escape("ab", 2, out, 3);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(out, "ab");
	ck_assert_uint_eq(amps_escape("ab", 2, NULL, 0), 2);
}
END_TEST

/* The writer: spellings, bare numbers, overflow counting, views. */
START_TEST(test_writer)
{
	struct amps_wr	 w;
	char		 buf[256], small[40];
	long long	 n, m;
	static const char want[] = "{\"c\":\"p\",\"t\":\"or\\\"d\\u0001\","
	    "\"s\":42,\"bs\":\"042\",\"top_n\":0,\"e\":18446744073709551615,"
	    "\"k\":\"42\",\"l\":7}";

	amps_wr_begin(&w, buf, sizeof buf);
	amps_wr_cstr(&w, AMPS_F_C, "p");
	amps_wr_str(&w, AMPS_F_T, "or\"d\001", 5);
	amps_wr_str(&w, AMPS_F_S, "42", 2);		/* numeric: bare */
	amps_wr_cstr(&w, AMPS_F_BS, "042");		/* not canonical */
	amps_wr_u64(&w, AMPS_F_TOP_N, 0);
	amps_wr_u64(&w, AMPS_F_E, UINT64_MAX);
	amps_wr_cstr(&w, AMPS_F_K, "42");		/* string field */
	amps_wr_u64(&w, AMPS_F__COUNT, 1);		/* ignored */
	amps_wr_cstr(&w, AMPS_F__COUNT, "x");		/* ignored */
	amps_wr_u64(&w, AMPS_F_L, 7);
	n = amps_wr_finish(&w, "PAYLOAD", 7);
	ck_assert_int_eq(n, 4 + (long long)sizeof want - 1 + 7);
	ck_assert(memcmp(buf, "\0\0\0", 3) == 0);
	ck_assert_int_eq((unsigned char)buf[3], n - 4);
	ck_assert(memcmp(buf + 4, want, sizeof want - 1) == 0);
	ck_assert(memcmp(buf + 4 + sizeof want - 1, "PAYLOAD", 7) == 0);

	/* Overflow: the same count, nothing written past cap. */
	memset(small, 'Z', sizeof small);
	amps_wr_begin(&w, small, 30);
	amps_wr_cstr(&w, AMPS_F_C, "p");
	amps_wr_str(&w, AMPS_F_T, "or\"d\001", 5);
	amps_wr_str(&w, AMPS_F_S, "42", 2);
	amps_wr_cstr(&w, AMPS_F_BS, "042");
	amps_wr_u64(&w, AMPS_F_TOP_N, 0);
	amps_wr_u64(&w, AMPS_F_E, UINT64_MAX);
	amps_wr_cstr(&w, AMPS_F_K, "42");
	amps_wr_u64(&w, AMPS_F_L, 7);
	m = amps_wr_finish(&w, "PAYLOAD", 7);
	ck_assert_int_eq(m, n);
	ck_assert(memcmp(small + 4, buf + 4, 26) == 0);
	ck_assert_int_eq(small[30], 'Z');

	/* A cap below the prefix size. */
	amps_wr_begin(&w, small, 2);
	amps_wr_cstr(&w, AMPS_F_C, "heartbeat");
	ck_assert_int_eq(amps_wr_finish(&w, NULL, 0), 21);
	ck_assert_int_eq(small[2], 'Z');

	/* Bare: no prefix; views copied as they were. */
	amps_wr_begin_bare(&w, buf, sizeof buf);
	ck_assert_int_eq(amps_wr_finish(&w, NULL, 0), 2);
	ck_assert(memcmp(buf, "{}", 2) == 0);
	{
		struct amps_hdr	h;
		static const char in[] = "{\"t\":\"a\\u0041\",\"s\":\"9\","
		    "\"x\":null,\"bs\":\"09\"}";

		ck_assert_int_eq(amps_hdr_parse(in, sizeof in - 1, &h), 0);
		amps_wr_begin_bare(&w, buf, sizeof buf);
		amps_wr_view(&w, AMPS_F_T, &h.v[AMPS_F_T]);
		amps_wr_view(&w, AMPS_F_S, &h.v[AMPS_F_S]);
		amps_wr_view(&w, AMPS_F_X, &h.v[AMPS_F_X]);
		amps_wr_view(&w, AMPS_F_BS, &h.v[AMPS_F_BS]);
		n = amps_wr_finish(&w, NULL, 0);
		ck_assert_int_eq(n, 40);
		ck_assert(memcmp(buf, "{\"t\":\"a\\u0041\",\"s\":9,\"x\":null,"
		    "\"bs\":\"09\"}", 40) == 0);
	}
}
END_TEST

/* amps_hdr_write: c first, send spellings, canonical escapes. */
START_TEST(test_hdr_write)
{
	static const struct {
		const char	*in;
		const char	*out;
	} t[] = {
		/* c first, quoted digits bare, long spellings short. */
		{ "{\"topic\":\"x\",\"seq\":\"42\",\"cmd\":\"p\"}",
		  "{\"c\":\"p\",\"t\":\"x\",\"s\":42}" },
		{ "{\"opts\":\"a\",\"lease_period\":\"l\",\"bs\":\"007\"}",
		  "{\"o\":\"a\",\"lp\":\"l\",\"bs\":\"007\"}" },
		/* Escapes re-encoded canonically. */
		{ "{\"c\":\"\\u0070\",\"f\":\"\\/\\u0041\\u00e9\\u001F\\n\\\"\"}",
		  "{\"c\":\"p\",\"f\":\"/A\xc3\xa9\\u001f\\n\\\"\"}" },
		/* Without escapes the raw view is copied as is. */
		{ "{ \"c\" : \"p\" , \"t\" : \"\xc3\xa9\" , \"zz\" : 1 }",
		  "{\"c\":\"p\",\"t\":\"\xc3\xa9\"}" },
		/* Bare non-numbers stay bare; numbers keep their text. */
		{ "{\"send_empty\":true,\"s\":-1,\"e\":1.5}",
		  "{\"send_empty\":true,\"s\":-1,\"e\":1.5}" },
		{ "{}", "{}" },
	};
	struct amps_hdr	 h;
	char		 out[256];
	long long	 n;
	size_t		 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		ck_assert_int_eq(parse_exact(t[i].in, strlen(t[i].in), &h), 0);
		n = amps_hdr_write(&h, 0, NULL, 0, out, sizeof out);
		ck_assert_int_ge(n, 0);
		ck_assert_int_lt(n, (long long)sizeof out);
		out[n] = '\0';
		ck_assert_str_eq(out, t[i].out);
		/* Prefixed: 4 more bytes and a prefix. */
		n = amps_hdr_write(&h, 1, "P", 1, out, sizeof out);
		ck_assert_int_eq(n, (long long)strlen(t[i].out) + 5);
		ck_assert_int_eq((unsigned char)out[3], n - 4);
		ck_assert_int_eq(out[n - 1], 'P');
		/* Too small: the same count. */
		ck_assert_int_eq(amps_hdr_write(&h, 1, "P", 1, out, 3), n);
	}
}
END_TEST

/* Bytes the random strings are made of: specials, controls, UTF-8. */
static size_t
gen_string(char *out, size_t cap)
{
	static const char *const utf8[] = {
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe6\x97\xa5",
		"\xc2\xa0", "\xef\xbf\xbf",
	};
	size_t	n = 0, want = test_rng_below(test_rng_below(5) == 0 ?
	    200 : 24);
	const char *u;

	while (n < want && n + 4 < cap) {
		switch (test_rng_below(10)) {
		case 0:
			out[n++] = test_rng_below(2) ? '"' : '\\';
			break;
		case 1:
			out[n++] = (char)test_rng_below(32);
			break;
		case 2:
			u = utf8[test_rng_below(sizeof utf8 / sizeof utf8[0])];
			memcpy(out + n, u, strlen(u));
			n += strlen(u);
			break;
		case 3:
			out[n++] = (char)(0x7f + test_rng_below(0x81));
			break;
		default:
			out[n++] = (char)(0x20 + test_rng_below(0x5f));
			break;
		}
	}
	return (n);
}

/* A random number of varying magnitude. */
static uint64_t
gen_number(void)
{
	return (test_rng_next() >> test_rng_below(64));
}

/* Random headers: write, parse, compare every field, re-write identically. */
START_TEST(test_roundtrip)
{
	static char	 vals[AMPS_F__COUNT][256];
	static size_t	 vlen[AMPS_F__COUNT];
	static uint64_t	 nums[AMPS_F__COUNT];
	static char	 buf[16384], out[16384], s[512], payload[64];
	struct amps_wr	 w;
	struct amps_hdr	 h;
	const char	*body;
	uint32_t	 blen;
	size_t		 used, plen, i, j, nf;
	uint8_t		 order[AMPS_F__COUNT], tmp;
	long long	 total, again;
	uint64_t	 x;
	int		 iter, r;

	test_rng_seed("roundtrip", DEFAULT_SEED);
	for (iter = 0; iter < 4000; iter++) {
		/* A random subset of fields in a random order, c first. */
		nf = 0;
		for (i = 0; i < AMPS_F__COUNT; i++)
			if (test_rng_below(3) == 0)
				order[nf++] = (uint8_t)i;
		for (i = nf; i > 1; i--) {
			j = test_rng_below(i);
			tmp = order[i - 1];
			order[i - 1] = order[j];
			order[j] = tmp;
		}
		for (i = 0; i < nf; i++)
			if (order[i] == AMPS_F_C) {
				order[i] = order[0];
				order[0] = AMPS_F_C;
			}
		plen = test_rng_below(sizeof payload);
		for (i = 0; i < plen; i++)
			payload[i] = (char)test_rng_next();

		amps_wr_begin(&w, buf, sizeof buf);
		for (i = 0; i < nf; i++) {
			j = order[i];
			if (amps_field_numeric(j)) {
				nums[j] = gen_number();
				if (test_rng_below(4) == 0) {
					r = snprintf(s, sizeof s, "%llu",
					    (unsigned long long)nums[j]);
					amps_wr_str(&w, j, s, (size_t)r);
				} else
					amps_wr_u64(&w, j, nums[j]);
			} else {
				vlen[j] = gen_string(vals[j], sizeof vals[j]);
				amps_wr_str(&w, j, vals[j], vlen[j]);
			}
		}
		total = amps_wr_finish(&w, payload, plen);
		ck_assert_int_gt(total, 0);
		ck_assert_int_le(total, (long long)sizeof buf);

		/* Parse and compare every field. */
		ck_assert_int_eq(amps_frame_next(buf, (size_t)total,
		    AMPS_FRAME_MAX_DEFAULT, &body, &blen, &used), 1);
		ck_assert_uint_eq(used, (size_t)total);
		ck_assert_int_eq(parse_exact(body, blen, &h), 0);
		ck_assert_uint_eq(h.hdr_len, blen - plen);
		ck_assert_int_eq(h.norder, nf);
		for (i = 0; i < nf; i++) {
			j = order[i];
			ck_assert_int_eq(h.order[i], j);
			if (amps_field_numeric(j)) {
				ck_assert_int_eq(amps_hdr_u64(&h, j, &x), 0);
				ck_assert_uint_eq(x, nums[j]);
				ck_assert_int_eq(h.v[j].quoted, 0);
				continue;
			}
			r = amps_hdr_str(&h, j, s, sizeof s);
			ck_assert_int_eq(r, vlen[j]);
			ck_assert(memcmp(s, vals[j], vlen[j]) == 0);
			if (memchr(vals[j], '\0', vlen[j]) == NULL)
				ck_assert(amps_hdr_eq(&h, j, s));
		}

		/* Re-encode: identical bytes. */
		again = amps_hdr_write(&h, 1, body + h.hdr_len, plen, out,
		    sizeof out);
		ck_assert_int_eq(again, total);
		ck_assert(memcmp(out, buf, (size_t)total) == 0);
	}
}
END_TEST

/* ------------------------------------------------------ commands, errors */

/* Command names parse both ways; "publish" is PUBLISH. */
START_TEST(test_commands)
{
	struct amps_hdr	 h;
	const char	*name;
	int		 c;

	for (c = 1; c < AMPS_CMD__COUNT; c++) {
		name = amps_cmd_name(c);
		ck_assert_int_gt(strlen(name), 0);
		ck_assert_int_eq(amps_cmd_parse(name, strlen(name)), c);
	}
	ck_assert_str_eq(amps_cmd_name(AMPS_CMD_PUBLISH), "p");
	ck_assert_str_eq(amps_cmd_name(AMPS_CMD_UNKNOWN), "");
	ck_assert_str_eq(amps_cmd_name(AMPS_CMD__COUNT), "");
	ck_assert_int_eq(amps_cmd_parse("publish", 7), AMPS_CMD_PUBLISH);
	ck_assert_int_eq(amps_cmd_parse("", 0), AMPS_CMD_UNKNOWN);
	ck_assert_int_eq(amps_cmd_parse("P", 1), AMPS_CMD_UNKNOWN);
	ck_assert_int_eq(amps_cmd_parse("sowx", 4), AMPS_CMD_UNKNOWN);
	ck_assert_int_eq(amps_cmd_parse("logoff", 6), AMPS_CMD_UNKNOWN);

	ck_assert_int_eq(amps_hdr_parse("{\"t\":\"x\"}", 9, &h), 0);
	ck_assert_int_eq(amps_hdr_cmd(&h), AMPS_CMD_UNKNOWN);
	ck_assert_int_eq(amps_hdr_parse("{\"cmd\":\"\\u0061ck\"}", 18, &h), 0);
	ck_assert_int_eq(amps_hdr_cmd(&h), AMPS_CMD_ACK);
	ck_assert_int_eq(amps_hdr_parse("{\"c\":\"group_begin\"}", 19, &h), 0);
	ck_assert_int_eq(amps_hdr_cmd(&h), AMPS_CMD_GROUP_BEGIN);
}
END_TEST

/* Every AMPS_E_* code has its own message. */
START_TEST(test_strerror)
{
	const char	*seen[16];
	int		 e, i;

	ck_assert_str_eq(amps_strerror(0), "success");
	ck_assert_str_eq(amps_strerror(-99), "unknown error");
	ck_assert_str_eq(amps_strerror(1), "unknown error");
	for (e = -1; e >= AMPS_E_ACKTYPE; e--) {
		seen[-e] = amps_strerror(e);
		ck_assert_str_ne(seen[-e], "unknown error");
		for (i = 1; i < -e; i++)
			ck_assert_str_ne(seen[i], seen[-e]);
	}
}
END_TEST

/* The header test suite. */
static Suite *
header_suite(void)
{
	Suite	*s = suite_create("header");
	TCase	*spec = tcase_create("appendix");
	TCase	*dict = tcase_create("dictionary");
	TCase	*parse = tcase_create("parse");
	TCase	*write = tcase_create("write");

	tcase_set_timeout(spec, TEST_TIMEOUT);
	tcase_set_timeout(dict, TEST_TIMEOUT);
	tcase_set_timeout(parse, TEST_TIMEOUT);
	tcase_set_timeout(write, TEST_TIMEOUT);

	tcase_add_loop_test(spec, test_appendix_hex, 0, NHEX);
	tcase_add_loop_test(spec, test_appendix_text, 0, NTEXT);
	tcase_add_test(spec, test_appendix_values);

	tcase_add_test(dict, test_dictionary);
	tcase_add_test(dict, test_spellings);
	tcase_add_test(dict, test_commands);
	tcase_add_test(dict, test_strerror);

	tcase_add_test(parse, test_whitespace);
	tcase_add_test(parse, test_unknown_keys);
	tcase_add_test(parse, test_repeated_key);
	tcase_add_test(parse, test_numbers);
	tcase_add_test(parse, test_escapes);
	tcase_add_loop_test(parse, test_malformed, 0,
	    sizeof bads / sizeof bads[0]);
	tcase_add_test(parse, test_truncation);
	tcase_add_test(parse, test_mutations);

	tcase_add_test(write, test_escape);
	tcase_add_test(write, test_writer);
	tcase_add_test(write, test_hdr_write);
	tcase_add_test(write, test_roundtrip);

	suite_add_tcase(s, spec);
	suite_add_tcase(s, dict);
	suite_add_tcase(s, parse);
	suite_add_tcase(s, write);
	return (s);
}

/* Run the suite; exit non-zero when a test failed. */
int
main(void)
{
	return (check_main(header_suite()));
}
