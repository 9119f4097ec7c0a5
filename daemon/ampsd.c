/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsd main(): options, configuration, startup and shutdown order only.
 *
 *	ampsd [-ftv] [-c file] | --count-unpersisted dir | -h | --version
 *
 *   -c, --config file  configuration (default /etc/ampsd/ampsd.conf)
 *   -t, --test         check the configuration and exit: prints
 *                      "file:line: message" errors or "configuration OK";
 *                      opens no store, socket or lock
 *   -f, --foreground   stay in the foreground, log to stderr
 *   -v, --verbose      more verbose (debug; twice: trace everything)
 *   -h, --help         usage on stdout, exit 0
 *   --version          "ampsd VERSION" on stdout, exit 0
 *   --count-unpersisted dir
 *                      one line per publish store in the state directory
 *                      dir with the messages AMPS has not persisted
 *                      (pubstore_census(), read-only); exit 0 only when
 *                      there are provably none; reads no configuration
 *
 * A bad option or a stray argument is named in one line on stderr, with
 * exit status 2.
 *
 * Startup order: parse + check the configuration; lock the state
 * directory (a second daemon on it fails with a clear message); detach
 * (unless -f); create the event loop; open the stores and connections;
 * create the IPC socket; start the connections; run.  With `metrics
 * listen`, GET /metrics is served on the same loop (metrics.c) once the
 * socket is up.
 *
 * Signals (loop.c): SIGHUP reloads the configuration (reload.c);
 * SIGTERM/SIGINT drain (drain.c: no new programs or publishes, wait up
 * to shutdown-timeout for AMPS to persist what is stored, close the
 * programs), then connections close, what stays unpersisted is logged,
 * stores close and the socket is removed; a second SIGTERM/SIGINT ends
 * the drain at once.  SIGUSR1 reopens the log file; SIGUSR2 toggles
 * debug output.  Under systemd (Type=notify) READY=1, RELOADING=1,
 * WATCHDOG=1, STOPPING=1 and STATUS= (connections ready, unpersisted)
 * are sent (sdnotify.c).
 *
 * Invariants:
 *   (1) -t never creates or opens anything but the configuration file;
 *       --count-unpersisted reads the directory's store files and
 *       creates, opens for writing or locks nothing.
 *   (2) No SQLite handle or event base crosses the fork of detach().
 *   (3) Whatever the umask it was started with, the state files ampsd
 *       creates or uses are readable by its own user only: the state
 *       directory is created 0700, the lock file and the stores 0600
 *       (store.c), and existing ones wider than that are narrowed at
 *       startup (private_statedir).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf-diff.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "pubstore.h"
#include "server.h"
#include "reload.h"
#include "sdlisten.h"
#include "sdnotify.h"
#include "xmalloc.h"

/* In background mode: the pipe to the waiting parent, until ready. */
static int	ready_fd = -1;

/*
 * A startup failure: log it, tell the waiting parent (which prints it on
 * its stderr and exits 1), and exit.
 */
static void __attribute__((__noreturn__, __format__(printf, 1, 2)))
startup_fatal(const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (ready_fd != -1 && write(ready_fd, buf, strlen(buf)) == -1)
		log_warn("startup: cannot report to the parent");
	fatalx("startup: %s", buf);
}

/*
 * Go to the background.  The parent waits until the child reports
 * "ready" (exit 0) or an error message (printed, exit 1), so startup
 * errors reach the terminal although the stores, the event base and the
 * socket are only created in the child (invariant 2).
 */
static void
detach(void)
{
	char	buf[1024];
	ssize_t	n;
	size_t	len = 0;
	pid_t	pid;
	int	p[2];

	if (pipe2(p, O_CLOEXEC) == -1) {
		fprintf(stderr, "ampsd: pipe: %s\n", strerror(errno));
		exit(1);
	}
	if ((pid = fork()) == -1) {
		fprintf(stderr, "ampsd: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		while (len < sizeof buf - 1 &&
		    (n = read(p[0], buf + len, sizeof buf - 1 - len)) != 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				break;
			len += (size_t)n;
		}
		buf[len] = '\0';
		if (strcmp(buf, "ready") == 0)
			_exit(0);
		fprintf(stderr, "ampsd: %s\n", len ? buf :
		    "exited during startup (see the system log)");
		_exit(1);
	}
	close(p[0]);
	ready_fd = p[1];
	if (setsid() == -1)
		startup_fatal("setsid: %s", strerror(errno));
	if (chdir("/") == -1)
		startup_fatal("chdir /: %s", strerror(errno));
}

/* Startup is complete: release the parent, drop the terminal. */
static void
detach_done(void)
{
	int	fd;

	if (ready_fd == -1)
		return;
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (write(ready_fd, "ready", 5) == -1)
		log_warn("startup: cannot report to the parent");
	close(ready_fd);
	ready_fd = -1;
}

/* Print the usage on f; exit with rc (0 for -h, 2 after an error). */
static void __attribute__((__noreturn__))
usage(FILE *f, int rc)
{
	fprintf(f, "usage: ampsd [-ftv] [-c file]\n"
	    "       ampsd --count-unpersisted DIR\n"
	    "  -c, --config FILE  configuration (default %s)\n"
	    "  -t, --test         check the configuration and exit\n"
	    "  -f, --foreground   stay in the foreground, log to stderr\n"
	    "  -v, --verbose      more output (twice: trace everything)\n"
	    "  -h, --help         this help\n"
	    "      --version      print the version\n"
	    "      --count-unpersisted DIR\n"
	    "                         the messages AMPS has not persisted in\n"
	    "                         the publish stores in DIR (exit 0: none)\n"
	    "See ampsd(8) and ampsd.conf(5).\n", CONF_DEFAULT_FILE);
	exit(rc);
}

/* A usage error, named in one line; exit 2. */
static void __attribute__((__noreturn__, __format__(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list	ap;

	fputs("ampsd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (ampsd -h shows the options)\n", stderr);
	exit(2);
}

/*
 * Create (if needed) and lock <statedir>/ampsd.lock.  Returns the fd
 * (kept open for the life of the process) or -1 with a message printed.
 */
static int
lock_statedir(const char *dir)
{
	char	*path, buf[32];
	ssize_t	 n;
	int	 fd, saved;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "ampsd: state directory %s: %s\n", dir,
		    strerror(errno));
		return (-1);
	}
	xasprintf(&path, "%s/ampsd.lock", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "ampsd: %s: %s\n", path, strerror(errno));
		free(path);
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno;
		n = read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fprintf(stderr, "ampsd: state directory %s is in use by "
		    "another ampsd (pid %s): %s\n", dir,
		    buf[0] ? buf : "unknown",
		    saved == EWOULDBLOCK ? "locked" : strerror(saved));
		free(path);
		close(fd);
		return (-1);
	}
	free(path);
	return (fd);
}

/*
 * Keep the state directory private (invariant 3): the state files ampsd
 * made (lock, stores and their SQLite side files) that group or others
 * may read are made 0600, with a warning; a state directory others may
 * enter is reported (it is not changed: it may be shared on purpose).
 * New files are created 0600 (lock_statedir, store.c).
 */
static void
private_statedir(const char *dir)
{
	static const char *const sfx[] = { ".db", ".db-wal", ".db-shm",
	    ".db-commits",
	    ".db-journal", "ampsd.lock" };
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	size_t		 i, len, n;
	int		 dfd;

	if ((d = opendir(dir)) == NULL || fstat(dirfd(d), &sb) == -1) {
		log_warn("state directory %s", dir);
		if (d != NULL)
			closedir(d);
		return;
	}
	if (sb.st_mode & 077)
		log_warnx("state directory %s is mode %04o: other users may "
		    "enter it (ampsd keeps its files 0600; chmod 700 the "
		    "directory to hide them too)", dir,
		    (unsigned int)(sb.st_mode & 07777));
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
			n = strlen(sfx[i]);
			if (len >= n && strcmp(de->d_name + len - n,
			    sfx[i]) == 0)
				break;
		}
		if (i == sizeof sfx / sizeof sfx[0] ||
		    fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
		    (sb.st_mode & 077) == 0)
			continue;
		if (fchmodat(dfd, de->d_name, sb.st_mode & 0700, 0) == -1)
			log_warn("state file %s/%s is mode %04o and cannot be "
			    "made private", dir, de->d_name,
			    (unsigned int)(sb.st_mode & 07777));
		else
			log_warnx("state file %s/%s was mode %04o, readable "
			    "by others; now %04o", dir, de->d_name,
			    (unsigned int)(sb.st_mode & 07777),
			    (unsigned int)(sb.st_mode & 0700));
	}
	closedir(d);
}

/* Write our pid into the lock file. */
static void
lock_write_pid(int fd)
{
	char	buf[32];
	int	n;

	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		log_warn("cannot write the pid to the lock file");
}

/* Parse options and the configuration, start up, run, shut down. */
int
main(int argc, char **argv)
{
	struct conf		*conf;
	struct conf_errs	 errs = { NULL, 0 };
	struct server		*srv;
	struct ipc		*ipc;
	struct metrics		*metrics = NULL;
	struct ipc_handlers	 h;
	struct ipc_config	 icfg;
	const char		*file = CONF_DEFAULT_FILE, *census = NULL;
	char			*cause = NULL, *absfile, cwd[4096];
	int			 ch, test = 0, fg = 0, verbose = 0, cfile = 0;
	int			 lockfd, to, status, sdfd;
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "count-unpersisted", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 }
	};

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:fthv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			cfile = 1;
			break;
		case 'f':
			fg = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout, 0);
		case 'V':
			printf("ampsd %s\n", PACKAGE_VERSION);
			return (0);
		case 'U':
			census = optarg;
			break;
		case ':':
			usage_error("option %s needs %s", argv[optind - 1],
			    optopt == 'U' ? "a directory" : "a file");
		default:
			if (optopt != 0)
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	if (census != NULL) {
		if (cfile || test || fg || verbose)
			usage_error("--count-unpersisted takes no other option");
		return (pubstore_census(census, stdout, stderr));
	}

	conf = conf_new();
	if (conf_parse_file(conf, file, &errs) == 0 &&
	    conf_check(conf, &errs) == 0) {
		conf_check_files(conf, &errs);
		conf_check_names(conf, &errs);
	}
	if (errs.n > 0) {
		conf_errs_print(&errs, stderr);
		conf_errs_free(&errs);
		conf_free(conf);
		return (1);
	}
	if (test) {
		if (verbose)
			conf_dump(conf, stdout);
		printf("configuration OK\n");
		conf_free(conf);
		return (0);
	}

	to = reload_log_to(conf, fg);
	log_init(to == LOG_TO_STDERR || to == LOG_TO_FILE, 0,
	    conf_facility(conf->log_facility));
	if (to == LOG_TO_FILE && log_open(to, conf->log_file, 0,
	    &cause) == -1) {
		fprintf(stderr, "ampsd: %s\n", cause != NULL ? cause :
		    "cannot open the log file");
		return (1);
	}
	reload_log_levels(conf, verbose, CONF_CH_LOG_LEVEL |
	    CONF_CH_LOG_TRACE);

	/* Reloads read the same file after detach() went to "/". */
	if (file[0] != '/') {
		if (getcwd(cwd, sizeof cwd) == NULL) {
			fprintf(stderr, "ampsd: getcwd: %s\n", strerror(errno));
			return (1);
		}
		xasprintf(&absfile, "%s/%s", cwd, file);
	} else
		absfile = xstrdup(file);

	if ((lockfd = lock_statedir(conf->state_dir)) == -1)
		return (1);
	private_statedir(conf->state_dir);
	/* Before detach(): LISTEN_PID names this process (sdlisten.c). */
	if ((sdfd = sdlisten(&cause)) == -2)
		startup_fatal("%s", cause);
	if (!fg)
		detach();
	lock_write_pid(lockfd);

	loop_init();
	if ((srv = server_create(conf, &cause)) == NULL)
		startup_fatal("%s", cause);

	memset(&icfg, 0, sizeof icfg);
	icfg.fd = sdfd;
	icfg.path = conf->socket_path;
	icfg.mode = conf->socket_mode;
	icfg.group = (gid_t)-1;
	if (conf->socket_group != NULL) {
		if (conf_group(conf->socket_group, &icfg.group, NULL,
		    NULL) == -1)
			startup_fatal("socket group \"%s\" does not exist",
			    conf->socket_group);
	}
	icfg.daemon_version = PACKAGE_VERSION;
	server_handlers(srv, &h, &icfg);
	h.admin.fn = control_admin_h;
	h.admin.arg = srv;
	if ((ipc = ipc_listen(loop_base(), &icfg, &h, &cause)) == NULL)
		startup_fatal("%s", cause);
	server_set_ipc(srv, ipc);
	if (conf->metrics.listen != NULL && (metrics = metrics_listen(
	    loop_base(), &conf->metrics, server_metrics_text, srv,
	    &cause)) == NULL)
		startup_fatal("%s", cause);
	reload_init(conf, absfile, fg, verbose, srv);
	drain_init(srv, ipc, conf);
	loop_set_flush(server_flush, srv);
	loop_set_hup(reload_hup, NULL);
	loop_set_term(drain_start, NULL);

	log_info("ampsd %s started: %zu connection(s), socket %s, state %s",
	    PACKAGE_VERSION, conf->nconns, conf->socket_path, conf->state_dir);
	detach_done();
	server_start(srv);
	sdnotify_watchdog_start();
	sdnotify("READY=1");
	sdnotify_status_start(server_sd_status, srv);
	status = loop_run();

	if (!drain_active())
		sdnotify("STOPPING=1");
	sdnotify_watchdog_stop();
	sdnotify_status_stop();
	log_info("shutting down");
	metrics_close(metrics);
	ipc_close(ipc);
	server_set_ipc(srv, NULL);
	server_flush(srv);
	drain_report();
	server_stop(srv);
	server_free(srv);
	loop_done();
	conf_free(conf);
	free(absfile);
	close(lockfd);
	return (status);
}
