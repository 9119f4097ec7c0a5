/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsd logging.  fatal/fatalx end the process (startup failures and
 * impossible states only: never reachable from client or server input);
 * log_warn/log_warnx report problems (with/without errno); log_info is
 * the normal level; log_debug needs -v (or "log level debug"); log_trace
 * needs its category bit in log_tracemask.
 *
 * Output: with log_init(to_stderr = 1) each line goes to stderr as
 * "<N>ampsd: text" where N is the syslog priority, which journald
 * understands and a terminal shows harmlessly; otherwise to syslog.
 *
 * Invariants:
 *   (1) errno is the same after every call as before it.
 *   (2) Untrusted strings reach a log line only through log_safe().
 *   (3) One message is one line: log_vmsg replaces embedded newlines.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

unsigned int	 log_tracemask;
static int	 log_stderr = 1;
static int	 log_verbose;

/* Set the destination, verbosity (0 info, 1 debug, 2 trace) and facility. */
void
log_init(int to_stderr, int verbose, int facility)
{
	log_stderr = to_stderr;
	log_verbose = verbose;
	if (!to_stderr)
		openlog("ampsd", LOG_PID | LOG_NDELAY, facility);
	tzset();
}

/* Change verbosity at run time (SIGUSR2, admin message). */
void
log_set_verbose(int v)
{
	log_verbose = v;
}

/* Current verbosity. */
int
log_get_verbose(void)
{
	return (log_verbose);
}

/* Write one formatted line at priority pri. */
static void
log_vmsg(int pri, const char *fmt, va_list ap)
{
	char	buf[8192], *p;
	int	saved = errno;

	vsnprintf(buf, sizeof buf, fmt, ap);
	for (p = buf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_stderr) {
		fprintf(stderr, "<%d>ampsd: %s\n", pri, buf);
		fflush(stderr);
	} else
		syslog(pri, "%s", buf);
	errno = saved;
}

/* Log at an explicit syslog priority (for hooks of other modules). */
void
log_msg(int pri, const char *fmt, ...)
{
	va_list	ap;

	if (pri == LOG_DEBUG && log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_vmsg(pri, fmt, ap);
	va_end(ap);
}

/* Format fmt and append ": strerror(errno)". */
static void
log_verr(int pri, const char *fmt, va_list ap)
{
	char	buf[8192];
	int	saved = errno;

	vsnprintf(buf, sizeof buf, fmt, ap);
	log_msg(pri, "%s: %s", buf, strerror(saved));
	errno = saved;
}

/* A warning with the errno text. */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_verr(LOG_WARNING, fmt, ap);
	va_end(ap);
}

/* A warning without errno. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, fmt, ap);
	va_end(ap);
}

/* An informational message. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* A debug message (needs verbosity >= 1). */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* A trace message; the category was checked by log_trace(). */
void
log_trace0(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* Log with errno at LOG_CRIT and exit 1. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_verr(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log at LOG_CRIT and exit 1. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Escape untrusted text for a log line (see log.h). */
const char *
log_safe(const char *s, size_t maxlen)
{
	static char	 bufs[4][512];
	static int	 idx;
	static const char hex[] = "0123456789abcdef";
	char		*out;
	size_t		 o = 0, i;
	unsigned char	 c;

	out = bufs[idx];
	idx = (idx + 1) % 4;
	if (s == NULL)
		return ("(null)");
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= maxlen || o + 8 >= sizeof bufs[0]) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '\\') {
			out[o++] = '\\';
			if (c == '\\')
				out[o++] = '\\';
			else {
				out[o++] = 'x';
				out[o++] = hex[c >> 4];
				out[o++] = hex[c & 15];
			}
		} else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return (out);
}
