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
 * Output (log_open(), or log_init() for stderr/syslog):
 *   stderr  when stderr is the journal's stream ($JOURNAL_STREAM names
 *           its device and inode), each line as "<N>ampsd: text" where N
 *           is the syslog priority, which journald reads (and stamps);
 *           otherwise (a terminal, a file, a pipe) as the file lines
 *           below, with their timestamp;
 *   syslog  openlog("ampsd", LOG_PID) with the configured facility;
 *   file    appended to the configured file (created 0640 if missing)
 *           as "2026-01-02T15:04:05.123+0100 ampsd[pid]: warning: text";
 *           log_reopen() (SIGUSR1) opens the path again, so rotation is
 *           "mv file file.1; kill -USR1 <pid>".
 *
 * Invariants:
 *   (1) errno is the same after every call as before it.
 *   (2) Untrusted strings reach a log line only through log_safe() or
 *       log_safe_n().
 *   (3) One message is one line: log_vmsg replaces embedded newlines.
 *   (4) A file line is written with one write(2) on an O_APPEND
 *       descriptor, so lines never interleave with a rotation.
 *   (5) log_open() and log_reopen() change nothing when the new file
 *       cannot be opened: the old destination keeps working.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

unsigned int	 log_tracemask;
static int	 log_to = LOG_TO_STDERR;
static int	 log_verbose;
static int	 log_fd = -1;		/* LOG_TO_FILE */
static char	*log_path;		/* LOG_TO_FILE */
static int	 log_journal;		/* LOG_TO_STDERR into journald */

/*
 * Whether a stream with device dev and inode ino is the one named by
 * env, a $JOURNAL_STREAM value "DEV:INO" (decimal).  Pure.
 */
int
log_journal_stream(const char *env, unsigned long long dev,
    unsigned long long ino)
{
	unsigned long long	 d, i;
	char			*end;

	if (env == NULL || *env < '0' || *env > '9')
		return (0);
	errno = 0;
	d = strtoull(env, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		return (0);
	i = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return (0);
	return (d == dev && i == ino);
}

/* Whether our stderr is connected to journald (systemd.exec(5)). */
static int
log_stderr_journal(void)
{
	struct stat	sb;

	if (fstat(STDERR_FILENO, &sb) == -1)
		return (0);
	return (log_journal_stream(getenv("JOURNAL_STREAM"),
	    (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino));
}

/* Set the destination, verbosity (0 info, 1 debug, 2 trace) and facility. */
void
log_init(int to_stderr, int verbose, int facility)
{
	log_verbose = verbose;
	tzset();
	(void)log_open(to_stderr ? LOG_TO_STDERR : LOG_TO_SYSLOG, NULL,
	    facility, NULL);
}

/* Open path for appending (created 0640); -1 with *cause on failure. */
static int
log_open_file(const char *path, char **cause)
{
	int	fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd == -1 && cause != NULL &&
	    asprintf(cause, "log file %s: %s", path, strerror(errno)) == -1)
		*cause = NULL;
	return (fd);
}

/*
 * Send log lines to `to` (LOG_TO_*): path names the file for LOG_TO_FILE,
 * facility is syslog's.  Returns 0, or -1 with *cause (allocated, may be
 * NULL) when the file cannot be opened; the old destination then stays
 * (invariant 5).
 */
int
log_open(int to, const char *path, int facility, char **cause)
{
	char	*copy = NULL;
	int	 fd = -1, saved = errno;

	if (to == LOG_TO_FILE) {
		if (path == NULL || (copy = strdup(path)) == NULL ||
		    (fd = log_open_file(path, cause)) == -1) {
			free(copy);
			errno = saved;
			return (-1);
		}
	}
	if (log_to == LOG_TO_SYSLOG)
		closelog();
	if (log_fd != -1)
		close(log_fd);
	free(log_path);
	log_fd = fd;
	log_path = copy;
	log_to = to;
	log_journal = to == LOG_TO_STDERR && log_stderr_journal();
	if (to == LOG_TO_SYSLOG)
		openlog("ampsd", LOG_PID | LOG_NDELAY, facility);
	errno = saved;
	return (0);
}

/*
 * Open the log file again under its name (after logrotate moved it).
 * Returns 1 when reopened, 0 when the destination is not a file, -1 when
 * the file cannot be opened (logged; the old descriptor stays).
 */
int
log_reopen(void)
{
	char	*cause = NULL;
	int	 fd;

	if (log_to != LOG_TO_FILE)
		return (0);
	if ((fd = log_open_file(log_path, &cause)) == -1) {
		log_warnx("log: cannot reopen: %s; still writing to the old "
		    "file", cause != NULL ? cause : "out of memory");
		free(cause);
		return (-1);
	}
	close(log_fd);
	log_fd = fd;
	return (1);
}

/* The current destination (LOG_TO_*). */
int
log_target(void)
{
	return (log_to);
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

/*
 * Write one line to fd (the log file, or stderr outside the journal):
 * timestamp, pid, priority, text.
 */
static void
log_line(int fd, int pri, const char *text)
{
	static const char *const names[] = { "emerg", "alert", "crit", "err",
	    "warning", "notice", "info", "debug" };
	char		line[8192 + 128], stamp[64], zone[16];
	struct timespec	ts;
	struct tm	tm;
	int		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof zone, "%z", &tm);
	n = snprintf(line, sizeof line, "%s.%03ld%s ampsd[%ld]: %s: %s\n",
	    stamp, ts.tv_nsec / 1000000, zone, (long)getpid(),
	    names[pri & 7], text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	/* Invariant 4.  A failed write has nowhere to be reported. */
	if (write(fd, line, (size_t)n) == -1)
		return;
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
	switch (log_to) {
	case LOG_TO_FILE:
		log_line(log_fd, pri, buf);
		break;
	case LOG_TO_SYSLOG:
		syslog(pri, "%s", buf);
		break;
	default:
		if (!log_journal) {
			log_line(STDERR_FILENO, pri, buf);
			break;
		}
		fprintf(stderr, "<%d>ampsd: %s\n", pri, buf);
		fflush(stderr);
		break;
	}
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

/*
 * Escape len bytes of s (stopping at NUL if nul_ends) into a rotating
 * buffer, the result shorter than outmax (at most sizeof bufs[0]).
 */
static const char *
log_escape(const char *s, size_t len, size_t maxlen, int nul_ends,
    size_t outmax)
{
	static char	 bufs[4][2048];
	static int	 idx;
	static const char hex[] = "0123456789abcdef";
	char		*out;
	size_t		 o = 0, i;
	unsigned char	 c;

	out = bufs[idx];
	idx = (idx + 1) % 4;
	if (outmax > sizeof bufs[0])
		outmax = sizeof bufs[0];
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '\0' && nul_ends)
			break;
		if (i >= maxlen || o + 8 >= outmax) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
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

/* Escape untrusted text for a log line (see log.h). */
const char *
log_safe(const char *s, size_t maxlen)
{
	if (s == NULL)
		return ("(null)");
	return (log_escape(s, SIZE_MAX, maxlen, 1, 512));
}

/* Escape len bytes that need not end in NUL (see log.h). */
const char *
log_safe_n(const void *p, size_t len, size_t maxlen)
{
	if (p == NULL)
		return ("(null)");
	return (log_escape(p, len, maxlen, 0, 2048));
}
