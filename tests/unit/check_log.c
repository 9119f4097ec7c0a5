/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for the log module: trace category and level names and
 * edits (log-trace.c), the length-bounded escaper, and the file target
 * of log.c: line format, append, reopen after a rename (logrotate), and
 * a failed open that leaves the old destination in place; and the
 * password redaction of the wire trace (conn-trace.c).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn-int.h"
#include "log.h"
#include "testutil.h"

/* Edits apply in order; a bad word changes nothing. */
START_TEST(test_trace_edit)
{
	unsigned	m = 0;
	char		err[128], names[64];

	ck_assert_int_eq(log_trace_edit(&m, "+wire", err, sizeof err), 0);
	ck_assert_uint_eq(m, TRACE_WIRE);
	ck_assert_int_eq(log_trace_edit(&m, "all -wire,-ipc", err,
	    sizeof err), 0);
	ck_assert_uint_eq(m, TRACE_CONN | TRACE_STORE);
	log_trace_names(m, names, sizeof names);
	ck_assert_str_eq(names, "connection,store");
	ck_assert_int_eq(log_trace_edit(&m, "store -all wire", err,
	    sizeof err), 0);
	ck_assert_uint_eq(m, TRACE_WIRE);
	ck_assert_int_eq(log_trace_edit(&m, "+ipc +bogus", err, sizeof err),
	    -1);
	ck_assert_uint_eq(m, TRACE_WIRE);
	ck_assert_str_eq(err, "unknown trace category \"bogus\" (connection, "
	    "ipc, store, wire, all)");
	ck_assert_int_eq(log_trace_edit(&m, "-", err, sizeof err), -1);
	ck_assert_int_eq(log_trace_edit(&m, "", err, sizeof err), 0);
	ck_assert_uint_eq(m, TRACE_WIRE);
	log_trace_names(0, names, sizeof names);
	ck_assert_str_eq(names, "none");
	log_trace_names(TRACE_ALL, names, sizeof names);
	ck_assert_str_eq(names, "connection,ipc,store,wire");
	m = 0;
	ck_assert_int_eq(log_trace_edit(&m, names, err, sizeof err), 0);
	ck_assert_uint_eq(m, TRACE_ALL);
	log_trace_names(TRACE_ALL, names, 8);
	ck_assert_uint_lt(strlen(names), 8);
}
END_TEST

/* Level names and digits. */
START_TEST(test_levels)
{
	ck_assert_int_eq(log_level_parse("info"), 0);
	ck_assert_int_eq(log_level_parse("debug"), 1);
	ck_assert_int_eq(log_level_parse("2"), 2);
	ck_assert_int_eq(log_level_parse("3"), -1);
	ck_assert_int_eq(log_level_parse("loud"), -1);
	ck_assert_int_eq(log_level_parse(""), -1);
	ck_assert_str_eq(log_level_name(0), "info");
	ck_assert_str_eq(log_level_name(5), "trace");
}
END_TEST

/* log_safe_n stops at len, not at NUL, and escapes. */
START_TEST(test_safe_n)
{
	static const char	frame[] = "{\"c\":\"p\"}\0x\n\\";

	ck_assert_str_eq(log_safe_n(frame, sizeof frame - 1, 100),
	    "{\"c\":\"p\"}\\x00x\\x0a\\\\");
	ck_assert_str_eq(log_safe_n(frame, sizeof frame - 1, 4),
	    "{\"c\"...");
	ck_assert_str_eq(log_safe_n(frame, 4, 4), "{\"c\"");
	ck_assert_str_eq(log_safe("ab\001", 10), "ab\\x01");
}
END_TEST

/* Read a whole small file into a static buffer. */
static const char *
slurp(const char *path)
{
	static char	buf[8192];
	FILE		*f;
	size_t		 n;

	buf[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

/*
 * The file target: "timestamp ampsd[pid]: priority: text" lines,
 * appended; reopen after a rename starts a new file; a failed open keeps
 * the old one (invariant 5 of log.c).
 */
START_TEST(test_file)
{
	char		 dir[] = "/tmp/check_log.XXXXXX", path[128], rot[128];
	char		*cause = NULL;
	const char	*got;
	struct stat	 st;
	regex_t		 re;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/ampsd.log", dir);
	snprintf(rot, sizeof rot, "%s/ampsd.log.1", dir);
	log_init(1, 0, 0);
	umask(022);
	ck_assert_int_eq(log_open(LOG_TO_FILE, path, 0, &cause), 0);
	ck_assert_int_eq(log_target(), LOG_TO_FILE);
	log_warnx("first %d", 1);
	log_debug("not shown at level 0");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	got = slurp(path);
	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{3}[+-][0-9]{4} ampsd\\[[0-9]+\\]: "
	    "warning: first 1\n$", REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, got, 0, NULL, 0) == 0, "line: %s", got);
	regfree(&re);

	ck_assert_int_eq(rename(path, rot), 0);
	log_info("after the rename");
	ck_assert_int_eq(log_reopen(), 1);
	log_info("after the reopen");
	ck_assert_ptr_nonnull(strstr(slurp(rot), "info: after the rename\n"));
	ck_assert_ptr_null(strstr(slurp(rot), "after the reopen"));
	ck_assert_ptr_nonnull(strstr(slurp(path), "info: after the reopen\n"));

	/* The directory goes away: reopen fails, the old file stays. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(rot), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(log_reopen(), -1);
	ck_assert_int_eq(log_target(), LOG_TO_FILE);
	ck_assert_int_eq(log_open(LOG_TO_FILE, path, 0, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "No such file or directory"));
	free(cause);
	ck_assert_int_eq(log_target(), LOG_TO_FILE);

	ck_assert_int_eq(log_open(LOG_TO_STDERR, NULL, 0, NULL), 0);
	ck_assert_int_eq(log_reopen(), 0);
}
END_TEST

/* $JOURNAL_STREAM "DEV:INO" matches only that device and inode. */
START_TEST(test_journal_stream)
{
	ck_assert_int_eq(log_journal_stream("8:1234", 8, 1234), 1);
	ck_assert_int_eq(log_journal_stream("8:1234", 8, 1235), 0);
	ck_assert_int_eq(log_journal_stream("9:1234", 8, 1234), 0);
	ck_assert_int_eq(log_journal_stream(NULL, 8, 1234), 0);
	ck_assert_int_eq(log_journal_stream("", 0, 0), 0);
	ck_assert_int_eq(log_journal_stream("8:", 8, 0), 0);
	ck_assert_int_eq(log_journal_stream(":1", 0, 1), 0);
	ck_assert_int_eq(log_journal_stream("8:1234x", 8, 1234), 0);
	ck_assert_int_eq(log_journal_stream("-8:1234", 8, 1234), 0);
	ck_assert_int_eq(log_journal_stream("99999999999999999999:1", 0, 1),
	    0);
}
END_TEST

/*
 * stderr: "<N>ampsd: text" when it is the journal's stream, else the
 * timestamped line of the file target.
 */
START_TEST(test_stderr)
{
	char		 path[] = "/tmp/check_log_err.XXXXXX", env[64];
	const char	*got;
	struct stat	 st;
	regex_t		 re;
	int		 fd;

	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_ne(dup2(fd, STDERR_FILENO), -1);
	ck_assert_int_eq(fstat(fd, &st), 0);
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init(1, 0, 0);
	log_warnx("to the journal");
	ck_assert_str_eq(slurp(path), "<4>ampsd: to the journal\n");
	/* Another stream (the variable was inherited): timestamps. */
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", env, 1);
	ck_assert_int_eq(ftruncate(fd, 0), 0);
	ck_assert_int_eq(lseek(STDERR_FILENO, 0, SEEK_SET), 0);
	log_init(1, 0, 0);
	log_info("to a terminal");
	got = slurp(path);
	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{3}[+-][0-9]{4} ampsd\\[[0-9]+\\]: "
	    "info: to a terminal\n$", REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, got, 0, NULL, 0) == 0, "line: %s", got);
	regfree(&re);
	unsetenv("JOURNAL_STREAM");
	unlink(path);
	close(fd);
}
END_TEST

/* Redact a header into a static buffer and return it as a string. */
static const char *
redact(const char *hdr)
{
	static char	out[512];
	size_t		n;

	n = conn_trace_redact(hdr, strlen(hdr), out, sizeof out - 1);
	out[n] = '\0';
	return (out);
}

/* The wire trace never shows a "pw" value (conn-trace.c invariant 1). */
START_TEST(test_redact)
{
	ck_assert_str_eq(redact("{\"c\":\"logon\",\"user_id\":\"u\","
	    "\"pw\":\"s3cr\\\"et\",\"a\":\"processed\"}"),
	    "{\"c\":\"logon\",\"user_id\":\"u\",\"pw\":\"***\","
	    "\"a\":\"processed\"}");
	ck_assert_str_eq(redact("{\"pw\" : \"\",\"pw\":\"x\"}"),
	    "{\"pw\" : \"***\",\"pw\":\"***\"}");
	ck_assert_str_eq(redact("{\"c\":\"p\",\"t\":\"pw\"}"),
	    "{\"c\":\"p\",\"t\":\"pw\"}");
	/* Cut inside the value: nothing of it shows. */
	ck_assert_str_eq(redact("{\"pw\":\"secret"), "{\"pw\":\"***\"");
	ck_assert_str_eq(redact("\"pw\""), "\"pw\"");
}
END_TEST

/* The test cases of this file. */
static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("log");

	tcase_add_test(tc, test_trace_edit);
	tcase_add_test(tc, test_levels);
	tcase_add_test(tc, test_safe_n);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_journal_stream);
	tcase_add_test(tc, test_stderr);
	tcase_add_test(tc, test_redact);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; exit status says whether every test passed. */
int
main(void)
{
	return (check_main(log_suite()));
}
