/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Logging with the OpenBSD vocabulary plus trace categories.  Lines go to
 * stderr in the foreground or under systemd: with sd-daemon priority
 * prefixes ("<3>...") when stderr is the journal's stream
 * ($JOURNAL_STREAM), else with a timestamp and the priority name; to
 * syslog otherwise; or to a file ("log file", lines with a timestamp and
 * the priority name; SIGUSR1 reopens it).  Every function saves errno.
 */

#ifndef AMPSD_LOG_H
#define AMPSD_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_PRINTF(f, a)	__attribute__((__format__(printf, f, a)))
#define LOG_NORETURN		__attribute__((__noreturn__))

/* Trace categories (same bits as "log trace" in ampsd.conf). */
#define TRACE_CONN	0x01		/* connection */
#define TRACE_IPC	0x02		/* ipc */
#define TRACE_STORE	0x04		/* store */
#define TRACE_WIRE	0x08		/* wire */
#define TRACE_ALL	0x0f

/* Destinations for log_open(). */
#define LOG_TO_STDERR	0
#define LOG_TO_SYSLOG	1
#define LOG_TO_FILE	2

extern unsigned int log_tracemask;

void	log_init(int to_stderr, int verbose, int facility);
int	log_open(int to, const char *path, int facility, char **cause);
int	log_reopen(void);
int	log_target(void);
int	log_journal_stream(const char *, unsigned long long,
	    unsigned long long);
void	log_set_verbose(int);
int	log_get_verbose(void);
void	log_warn(const char *, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *, ...) LOG_PRINTF(1, 2);
void	log_info(const char *, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *, ...) LOG_PRINTF(1, 2);
void	log_trace0(const char *, ...) LOG_PRINTF(1, 2);
void	log_msg(int priority, const char *, ...) LOG_PRINTF(2, 3);
LOG_NORETURN void fatal(const char *, ...) LOG_PRINTF(1, 2);
LOG_NORETURN void fatalx(const char *, ...) LOG_PRINTF(1, 2);

/*
 * Escape untrusted text (control bytes, backslash, non-ASCII as \xNN; at
 * most maxlen input bytes, "..." when cut).  The result lives in one of a
 * few rotating static buffers: valid until the fourth next call.
 */
const char *log_safe(const char *, size_t maxlen);
/*
 * The same for len bytes that need not end in NUL (NUL shows as \x00);
 * the result is at most 2 KB (log_safe: 512 bytes).
 */
const char *log_safe_n(const void *, size_t len, size_t maxlen);

/* log-trace.c: category and level names (pure). */
unsigned	 log_trace_bit(const char *);
int		 log_trace_edit(unsigned *, const char *, char *, size_t);
void		 log_trace_names(unsigned, char *, size_t);
int		 log_level_parse(const char *);
const char	*log_level_name(int);

#define log_trace(cat, ...) do {				\
	if (log_tracemask & (cat))				\
		log_trace0(__VA_ARGS__);			\
} while (0)

#endif /* AMPSD_LOG_H */
