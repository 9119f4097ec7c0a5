/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * bench-publish: the whole publish path, program -> libampsipc -> ampsd
 * (SQLite group commit, synchronous=FULL) -> ampsim, against the raw
 * SQLite ceiling of the store's own pattern on the same disk.  It prints
 * figures; it is not a test.
 *
 * It owns the processes it starts (one ampsim, one ampsd, the forked
 * publishers), each killed by pid at exit, and a temporary directory
 * holding their configuration, state and logs.
 *
 * Before the runs, one untimed full and memory case (a warm-up: a fresh
 * ampsd's first case pays the first touch of its memory).  Per run:
 *   single    one program publishes N messages of S bytes asynchronously
 *             (ampsipc_publish, replies read with ampsipc_poll(h, 0)
 *             every 1024 messages) on connection "main" (durability
 *             full), timed from the first publish until
 *             ampsipc_wait_stored() returns (stored: the daemon's rate)
 *             and until ampsipc_publish_flush() returns (persisted:
 *             includes waiting for AMPS's conflated persisted ack, -A).
 *   memory    the same on connection "mem" (durability memory), to the
 *             same ampsim, with its own client name.  Both flush their
 *             own connection and check that nothing is left unpersisted.
 *   direct    the ceiling of every in-process client: a program that
 *             publishes the N messages straight to ampsim with s and
 *             persisted acks and no store (directpub.c), timed until the
 *             persisted ack of the last.  A line per run says how busy
 *             ampsim was during memory and direct: near 100% means the
 *             sink, not the client, set the rate.
 *   raw       the ceiling: B-row transactions of the store's schema,
 *             INSERT x B + DELETE of the previous transaction's rows +
 *             COMMIT, WAL, synchronous=FULL, secure_delete=OFF, in the
 *             daemon's state directory, for -t seconds (DESIGN.md §7,
 *             tests/bench/bench-store.c "raw").
 *   procs     P forked programs publish N/P messages each, started
 *             together once all are connected; timed until the last one
 *             has flushed (each says so on a pipe, with the CPU and page
 *             faults it spent meanwhile; their closes and exits, which
 *             the single case does not have, are not timed).
 *   latency   one program publishes at a paced rate R (bursts every
 *             millisecond) for -T seconds; latency is from the
 *             ampsipc_publish() call to the STORED event.
 * Medians over -r runs are printed last, with single/raw, single/direct,
 * memory/direct and procs/single (and raw/direct, the most that
 * single/direct can be), then one line "RESULT {json}" with the
 * medians and lines "GOAL name value >= target" for tests/bench/run.sh.
 *
 * Usage: bench-publish [-n N] [-s bytes] [-r runs] [-P procs] [-R rate]
 *	  [-T secs] [-b batch] [-t secs] [-A ms] [-d dir] [-S socket] [-k]
 * -A is ampsim's --ack-conflation (persisted-ack interval, default 20;
 * ampsim's own default is 1000, which adds up to 1 s to every flush).
 * -S uses a running ampsd (nothing is started; the raw case then runs
 * in -d or /var/tmp); -k keeps the work directory.  The programs are
 * $AMPSIM and $AMPSD, else $top_builddir/ampsim/ampsim and
 * $top_builddir/daemon/ampsd (top_builddir defaults to ".").
 *
 * Invariants:
 *   1. Every process started here is recorded by pid and killed by pid
 *      (never by name), also when the benchmark fails.
 *   2. A figure is printed only for a phase that completed: every
 *      message stored and persisted without a failure.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "ampsipc.h"
#include "directpub.h"
#include "benchutil.h"
#include "rawstore.h"

#define MAX_RUNS	15
#define MAX_PROCS	256
#define WAIT_MS		600000	/* flush timeout: 10 minutes */

static long	 opt_n = 200000;
static size_t	 opt_size = 128;
static int	 opt_runs = 3;
static int	 opt_procs = 64;
static double	 opt_rate = 50000;
static double	 opt_lat_secs = 2;
static int	 opt_batch = 1000;
static double	 opt_raw_secs = 2;
static const char *opt_conflation = "20";
static int	 opt_keep;
static const char *opt_dir;
static const char *opt_sock;

static int	 quiet;		/* the warm-up: no CPU lines */
static char	 workdir[512];
static char	 sockpath[600];
static char	 statedir[600];
static pid_t	 sim_pid = -1, amps_pid = -1;
static int	 sim_port;
static unsigned char *payload;

/* Stop the processes we started (invariant 1) and remove the work dir. */
static void
cleanup(void)
{
	char	cmd[700];
	pid_t	pids[2] = { amps_pid, sim_pid };
	int	i;

	for (i = 0; i < 2; i++) {
		if (pids[i] <= 0)
			continue;
		kill(pids[i], SIGTERM);
		waitpid(pids[i], NULL, 0);
	}
	amps_pid = sim_pid = -1;
	if (workdir[0] != '\0' && !opt_keep) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench-publish: cannot remove %s\n",
			    workdir);
	} else if (workdir[0] != '\0')
		fprintf(stderr, "bench-publish: kept %s\n", workdir);
}

/* Print a message, clean up and exit 1. */
static void __attribute__((__noreturn__, __format__(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench-publish: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	cleanup();
	exit(1);
}

/* Pick a work directory on a real disk (fsync must cost what it costs). */
static void
make_workdir(void)
{
	if (bu_workdir(workdir, sizeof workdir, opt_dir, "bench-publish") == -1)
		die("work directory: %s", strerror(errno));
	snprintf(statedir, sizeof statedir, "%s/state", workdir);
	snprintf(sockpath, sizeof sockpath, "%s/ampsd.sock", workdir);
}

/* A program of the build: $env, else $top_builddir/rel. */
static void
program(char *buf, size_t len, const char *env, const char *rel)
{
	const char	*top = getenv("top_builddir");

	if (getenv(env) != NULL)
		snprintf(buf, len, "%s", getenv(env));
	else
		snprintf(buf, len, "%s/%s", top != NULL ? top : ".", rel);
	if (access(buf, X_OK) != 0)
		die("%s: %s (set %s or top_builddir)", buf, strerror(errno),
		    env);
}

/* Fork and exec argv with output to log; returns the pid. */
static pid_t
spawn(char *const argv[], const char *log)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) !=
		    -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return (pid);
}

/* Wait up to secs for path to exist; 0 if it does. */
static int
wait_path(const char *path, double secs, pid_t pid)
{
	struct stat	sb;
	double		end = bu_now() + secs;

	while (bu_now() < end) {
		if (stat(path, &sb) == 0 && sb.st_size >= 0 &&
		    (S_ISSOCK(sb.st_mode) || sb.st_size > 0))
			return (0);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return (-1);
		usleep(20000);
	}
	return (-1);
}

/* Start ampsim and ampsd (synchronous=FULL) in the work directory. */
static void
start_servers(void)
{
	char	 sim[512], amps[512], portf[700], txlog[700], log[700];
	char	 conf[700], port[32];
	char	*sargv[12], *dargv[6];
	FILE	*f;

	program(sim, sizeof sim, "AMPSIM", "ampsim/ampsim");
	program(amps, sizeof amps, "AMPSD", "daemon/ampsd");
	snprintf(portf, sizeof portf, "%s/sim.port", workdir);
	snprintf(txlog, sizeof txlog, "%s/sim.txlog", workdir);
	snprintf(log, sizeof log, "%s/sim.log", workdir);
	sargv[0] = sim;
	sargv[1] = "-p";
	sargv[2] = "0";
	sargv[3] = "--port-file";
	sargv[4] = portf;
	sargv[5] = "--admin-port";
	sargv[6] = "0";
	sargv[7] = "-d";
	sargv[8] = txlog;
	sargv[9] = "--ack-conflation";
	sargv[10] = (char *)opt_conflation;
	sargv[11] = NULL;
	sim_pid = spawn(sargv, log);
	if (wait_path(portf, 10, sim_pid) == -1)
		die("ampsim did not start (see %s)", log);
	usleep(50000);		/* the port file is written in one go */
	if ((f = fopen(portf, "r")) == NULL || fgets(port, sizeof port, f) ==
	    NULL)
		die("%s: cannot read the port", portf);
	fclose(f);
	port[strcspn(port, "\n")] = '\0';
	sim_port = atoi(port);

	snprintf(conf, sizeof conf, "%s/ampsd.conf", workdir);
	if ((f = fopen(conf, "w")) == NULL)
		die("%s: %s", conf, strerror(errno));
	fprintf(f, "socket \"%s\";\nstate-directory \"%s\";\nlog stderr;\n"
	    "connection \"main\" {\n\tdefault;\n\tclient-name \"bench-%ld\";"
	    "\n\tserver \"tcp://127.0.0.1:%s/amps/json\";\n"
	    "\tdurability full;\n}\n"
	    "connection \"mem\" {\n\tclient-name \"bench-mem-%ld\";\n"
	    "\tserver \"tcp://127.0.0.1:%s/amps/json\";\n"
	    "\tdurability memory limit 4G;\n}\n", sockpath, statedir,
	    (long)getpid(), port, (long)getpid(), port);
	if (fclose(f) != 0)
		die("%s: write failed", conf);
	snprintf(log, sizeof log, "%s/ampsd.log", workdir);
	dargv[0] = amps;
	dargv[1] = "-f";
	dargv[2] = "-c";
	dargv[3] = conf;
	dargv[4] = NULL;
	amps_pid = spawn(dargv, log);
	if (wait_path(sockpath, 20, amps_pid) == -1)
		die("ampsd did not start (see %s)", log);
}

/* Connect a handle to the daemon, or die. */
static struct ampsipc *
connect_daemon(const char *name)
{
	struct ampsipc	*h;

	if ((h = ampsipc_create()) == NULL)
		die("ampsipc_create: out of memory");
	if (ampsipc_connect(h, sockpath, name, 20000) == -1)
		die("connect %s: %s", sockpath, ampsipc_errmsg(h));
	return (h);
}

/*
 * Publish n messages on h as fast as the path takes them, then wait
 * until all are stored (time in *stored if not NULL) and persisted.
 * Returns 0 or -1.
 */
static int
publish_n(struct ampsipc *h, long n, const char *topic, const char *conn,
    double *stored)
{
	struct ampsipc_pubopts	 o;
	long			 i;

	memset(&o, 0, sizeof o);
	o.conn = conn;
	for (i = 0; i < n; i++) {
		if (ampsipc_publish(h, topic, payload, opt_size, &o,
		    NULL) == -1)
			return (-1);
		if ((i & 1023) == 1023 && ampsipc_poll(h, 0) == -1)
			return (-1);
	}
	if (ampsipc_wait_stored(h, WAIT_MS) == -1)
		return (-1);
	if (stored != NULL)
		*stored = bu_now();
	/*
	 * The flush of the connection published on, and a check that the
	 * handle agrees (invariant 2): before issue 17's per-connection
	 * flush, a flush without a connection waited on the default one
	 * only, and the memory case was timed until STORED, not persisted.
	 */
	if (ampsipc_publish_flush_conn(h, conn, WAIT_MS) == -1 ||
	    ampsipc_failed(h) != 0)
		return (-1);
	if (ampsipc_unpersisted(h) != 0) {
		fprintf(stderr, "bench-publish: flushed with %llu message(s) "
		    "unpersisted\n", (unsigned long long)ampsipc_unpersisted(h));
		return (-1);
	}
	return (0);
}

/* ampsim's CPU time so far, in seconds (0 when it is not ours). */
static double
sim_cpu(void)
{
	return (bu_task_cpu(sim_pid, NULL, 0));
}

/*
 * Where the CPU went during a case, in seconds: this program (the
 * publisher), ampsd's event loop (every thread but the two below),
 * ampsd's commit thread and the stores' checkpoint threads together
 * ("commit"), ampsim.
 */
struct cpu_snap {
	double	prog, loop, commit, sim, wall;
};

static void
cpu_snap(struct cpu_snap *c)
{
	c->prog = bu_self_cpu();
	c->commit = bu_task_cpu(amps_pid, "ampsd-commit", 1) +
	    bu_task_cpu(amps_pid, "ampsd-ckpt", 1);
	c->loop = bu_task_cpu(amps_pid, NULL, 0) - c->commit;
	c->sim = sim_cpu();
	c->wall = bu_now();
}

/*
 * Print the CPU per message of the case between a and b, and how busy
 * the machine's cores were with these processes (near 100%: the case
 * was bound by CPU, and its rate by the sum of the per-message costs).
 */
static void
cpu_print(const char *what, const struct cpu_snap *a,
    const struct cpu_snap *b, double n)
{
	double	prog = b->prog - a->prog, loop = b->loop - a->loop;
	double	commit = b->commit - a->commit, sim = b->sim - a->sim;
	double	sum = prog + loop + commit + sim;
	long	ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (quiet)
		return;
	printf("     cpu %s us/msg: program %.2f, ampsd loop %.2f, commit "
	    "%.2f, ampsim %.2f; sum %.2f, cores busy %.0f%%\n", what,
	    1e6 * prog / n, 1e6 * loop / n, 1e6 * commit / n, 1e6 * sim / n,
	    1e6 * sum / n, 100 * sum / ((b->wall - a->wall) *
	    (double)(ncpu > 0 ? ncpu : 1)));
}

/*
 * Wait (at most 10 s) until ampsd and ampsim are idle: their CPU time
 * grew by less than 10 ms in the last 250 ms.  The case before may leave
 * them work that is not its own timed part (the full case's WAL
 * checkpoint, the deletes of its persisted rows), which would otherwise
 * be charged to the next case.
 */
static void
settle(void)
{
	double	t0 = bu_now(), prev, cur;

	prev = bu_task_cpu(amps_pid, NULL, 0) + sim_cpu();
	while (bu_now() - t0 < 10) {
		usleep(250000);
		cur = bu_task_cpu(amps_pid, NULL, 0) + sim_cpu();
		if (cur - prev < 0.010)
			return;
		prev = cur;
	}
	printf("     (ampsd and ampsim still busy after 10 s)\n");
}

/*
 * Cases single and memory: one program, N messages on connection conn;
 * persisted msg/s or 0.
 */
static double
run_single(const char *conn, double *stored_rate)
{
	struct ampsipc	*h = connect_daemon("bench-single");
	struct cpu_snap	 c0, c1;
	double		 t0, ts, t1;

	*stored_rate = 0;
	cpu_snap(&c0);
	t0 = bu_now();
	if (publish_n(h, opt_n, "bench", conn, &ts) == -1) {
		fprintf(stderr, "single: %s\n", ampsipc_errmsg(h));
		ampsipc_close(h);
		return (0);
	}
	t1 = bu_now();
	cpu_snap(&c1);
	cpu_print(conn, &c0, &c1, (double)opt_n);
	ampsipc_close(h);
	*stored_rate = (double)opt_n / (ts - t0);
	return ((double)opt_n / (t1 - t0));
}

/* What a procs program did between the start and its flush's return. */
struct kid_usage {
	double	cpu;		/* seconds */
	long	minflt;		/* page faults */
};

/* Case procs: P forked programs share N messages; msg/s or 0. */
static double
run_procs(void)
{
	struct ampsipc		*h;
	pid_t			 pids[MAX_PROCS];
	struct cpu_snap		 c0, c1;
	struct kid_usage	 u0, u1, sum;
	double			 t0, t1, kids0;
	long			 share;
	char			 c, name[32];
	int			 ready[2], go[2], done[2], i, st, ok = 1;

	if (pipe(ready) == -1 || pipe(go) == -1 || pipe(done) == -1)
		die("pipe: %s", strerror(errno));
	kids0 = bu_rusage_cpu(RUSAGE_CHILDREN);
	memset(&sum, 0, sizeof sum);
	for (i = 0; i < opt_procs; i++) {
		share = opt_n / opt_procs + (i < opt_n % opt_procs ? 1 : 0);
		if ((pids[i] = fork()) == -1)
			die("fork: %s", strerror(errno));
		if (pids[i] != 0)
			continue;
		close(ready[0]);
		close(go[1]);
		close(done[0]);
		snprintf(name, sizeof name, "bench-proc-%d", i);
		/* The daemon may not have seen the last handle close yet
		 * (connections per uid are capped): retry for a while. */
		for (st = 0; st < 50; st++) {
			if ((h = ampsipc_create()) == NULL)
				_exit(2);
			if (ampsipc_connect(h, sockpath, name, 20000) == 0)
				break;
			ampsipc_close(h);
			h = NULL;
			usleep(100000);
		}
		if (h == NULL)
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		while (read(go[0], &c, 1) == -1 && errno == EINTR)
			;
		u0.cpu = bu_rusage(RUSAGE_SELF, &u0.minflt);
		if (publish_n(h, share, "bench", NULL, NULL) == -1) {
			fprintf(stderr, "%s: %s\n", name, ampsipc_errmsg(h));
			_exit(1);
		}
		/* Flushed: the clock stops at the last of these, before
		 * the close and exit that the single case does not time.
		 * What this program spent meanwhile goes with it (a pipe
		 * write this small is atomic). */
		u1.cpu = bu_rusage(RUSAGE_SELF, &u1.minflt);
		u1.cpu -= u0.cpu;
		u1.minflt -= u0.minflt;
		if (write(done[1], &u1, sizeof u1) != (ssize_t)sizeof u1)
			_exit(2);
		ampsipc_close(h);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	close(done[1]);
	for (i = 0; i < opt_procs; i++)
		if (read(ready[0], &c, 1) != 1) {
			ok = 0;		/* a child could not connect */
			break;
		}
	cpu_snap(&c0);
	t0 = bu_now();
	close(go[1]);		/* EOF: everyone starts */
	for (i = 0; ok && i < opt_procs; i++) {
		if (read(done[0], &u1, sizeof u1) != (ssize_t)sizeof u1)
			ok = 0;		/* a child failed before its flush */
		sum.cpu += u1.cpu;
		sum.minflt += u1.minflt;
	}
	t1 = bu_now();
	cpu_snap(&c1);
	for (i = 0; i < opt_procs; i++) {
		if (waitpid(pids[i], &st, 0) == -1 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			ok = 0;
	}
	close(ready[0]);
	close(done[0]);
	if (!ok) {
		fprintf(stderr, "procs: a publisher failed\n");
		return (0);
	}
	/* "program": the publishers' CPU from the start to their flushes'
	 * returns; their forks, connects and exits are not timed. */
	c0.prog = 0;
	c1.prog = sum.cpu;
	cpu_print("procs", &c0, &c1, (double)opt_n);
	printf("     procs: each program %.2f ms of CPU and %ld page faults "
	    "while timed, %.2f ms in all\n", 1e3 * sum.cpu / opt_procs,
	    sum.minflt / opt_procs, 1e3 * (bu_rusage_cpu(RUSAGE_CHILDREN) -
	    kids0) / opt_procs);
	return ((double)opt_n / (t1 - t0));
}

/* Latency state: send times by reqid - first, and STORED latencies. */
struct lat {
	uint32_t	 first;
	size_t		 n;
	double		*sent;
	double		*lat;
	size_t		 nlat;
};

/* Publish handler for the latency case: record STORED times. */
static void
lat_event(struct ampsipc *h, const struct ampsipc_pubevent *ev, void *arg)
{
	struct lat	*l = arg;
	size_t		 i = (size_t)(ev->reqid - l->first);

	if (ev->kind != AMPSIPC_PUB_STORED || i >= l->n || l->nlat >= l->n)
		return;
	l->lat[l->nlat++] = bu_now() - l->sent[i];
}

/* Case latency: p50, p99 and p99.9 of STORED latency, paced. */
static int
run_latency(double *p50, double *p99, double *p999)
{
	struct ampsipc	*h = connect_daemon("bench-latency");
	struct lat	 l;
	uint32_t	 reqid;
	size_t		 sent = 0, target;
	double		 t0, t;

	memset(&l, 0, sizeof l);
	l.n = (size_t)(opt_rate * opt_lat_secs);
	if (l.n == 0 || (l.sent = calloc(l.n, sizeof *l.sent)) == NULL ||
	    (l.lat = calloc(l.n, sizeof *l.lat)) == NULL)
		die("latency: out of memory");
	ampsipc_set_pub_handler(h, lat_event, &l);
	t0 = bu_now();
	while (sent < l.n) {
		t = bu_now();
		target = (size_t)((t - t0) * opt_rate) + 1;
		if (target > l.n)
			target = l.n;
		for (; sent < target; sent++) {
			l.sent[sent] = bu_now();
			if (ampsipc_publish(h, "bench-lat", payload, opt_size,
			    NULL, &reqid) == -1)
				goto fail;
			if (sent == 0)
				l.first = reqid;
		}
		if (ampsipc_write(h) == -1 || ampsipc_poll(h, 1) == -1)
			goto fail;
	}
	if (ampsipc_wait_stored(h, WAIT_MS) == -1 ||
	    ampsipc_publish_flush(h, WAIT_MS) == -1 || l.nlat != l.n)
		goto fail;
	qsort(l.lat, l.nlat, sizeof *l.lat, bu_cmpd);
	*p50 = l.lat[l.nlat / 2] * 1e6;
	*p99 = l.lat[(size_t)((double)l.nlat * 0.99)] * 1e6;
	*p999 = l.lat[(size_t)((double)l.nlat * 0.999)] * 1e6;
	free(l.sent);
	free(l.lat);
	ampsipc_close(h);
	return (0);

fail:
	fprintf(stderr, "latency: %s (%zu of %zu stored)\n",
	    ampsipc_errmsg(h), l.nlat, l.n);
	free(l.sent);
	free(l.lat);
	ampsipc_close(h);
	return (-1);
}

/* Case raw: the store's insert + delete-previous + commit; rows/s. */
static double
run_raw(const char *dir)
{
	char	 path[700];
	double	 c0, t0, rate;

	snprintf(path, sizeof path, "%s/raw-ceiling.db", dir);
	c0 = bu_self_cpu();
	t0 = bu_now();
	rate = rawstore_run(path, opt_batch, 0, payload, opt_size,
	    opt_raw_secs);
	if (rate > 0)
		printf("     cpu raw us/row: %.2f\n", 1e6 * (bu_self_cpu() -
		    c0) / (rate * (bu_now() - t0)));
	return (rate);
}

/* Median latency of a 4 KB write + fdatasync in dir, in µs. */
static double
fsync_us(const char *dir)
{
	char	path[700], buf[4096];
	double	v[21], t0;
	int	fd, i;

	snprintf(path, sizeof path, "%s/fsync-probe", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		die("%s: %s", path, strerror(errno));
	memset(buf, 'f', sizeof buf);
	for (i = 0; i < 21; i++) {
		t0 = bu_now();
		if (pwrite(fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf ||
		    fdatasync(fd) == -1)
			die("%s: %s", path, strerror(errno));
		v[i] = (bu_now() - t0) * 1e6;
	}
	close(fd);
	unlink(path);
	qsort(v, 21, sizeof *v, bu_cmpd);
	return (v[10]);
}

/* Parse a positive number option or die. */
static double
number(const char *s, const char *what)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v <= 0)
		die("bad %s: %s", what, s);
	return (v);
}

/* The figures of one run (v[figure][run]). */
enum bp_fig { BP_STORED, BP_FULL, BP_MEMORY, BP_DIRECT, BP_RAW, BP_PROCS,
    BP_P50, BP_P99, BP_P999, BP_N };

/*
 * Ratios a run is judged by: figure a / figure b, with the goal (0: none,
 * shown for what it says).  direct/raw bounds full/raw from above: the
 * path through ampsd does everything the direct publisher does, and
 * more, on the same two CPUs.
 */
static const struct {
	const char	*name;
	enum bp_fig	 a, b;
	double		 goal;
} bp_ratios[] = {
	{ "full/raw", BP_FULL, BP_RAW, 0.6 },
	{ "full/direct", BP_FULL, BP_DIRECT, 0.5 },
	{ "memory/direct", BP_MEMORY, BP_DIRECT, 0.8 },
	{ "procs/full", BP_PROCS, BP_FULL, 0.9 },
	{ "direct/raw", BP_DIRECT, BP_RAW, 0 },
};
#define BP_NRATIOS	(sizeof bp_ratios / sizeof bp_ratios[0])

static const char *const bp_names[BP_N] = { "stored", "full", "memory",
    "direct", "raw", "procs", "p50_us", "p99_us", "p999_us" };

/* The table's header. */
static void
print_head(void)
{
	size_t	k;

	printf("%-4s %9s %9s %9s %9s %9s %9s %7s %7s %7s", "run", "stored/s",
	    "full/s", "memory/s", "direct/s", "raw/s", "procs/s", "p50us",
	    "p99us", "p999us");
	for (k = 0; k < BP_NRATIOS; k++)
		printf(" %13s", bp_ratios[k].name);
	printf("\n");
	fflush(stdout);
}

/* One row: figures and the ratios of the same run. */
static void
print_row(const char *label, double *f)
{
	size_t	k;

	printf("%-4s %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f %7.0f %7.0f %7.0f",
	    label, f[BP_STORED], f[BP_FULL], f[BP_MEMORY], f[BP_DIRECT],
	    f[BP_RAW], f[BP_PROCS], f[BP_P50], f[BP_P99], f[BP_P999]);
	for (k = 0; k < BP_NRATIOS; k++)
		printf(" %13.2f", f[bp_ratios[k].b] > 0 ?
		    f[bp_ratios[k].a] / f[bp_ratios[k].b] : 0);
	printf("\n");
	fflush(stdout);
}

/* Run every case once into v[.][r]; 0 when all completed. */
static int
run_all(double v[BP_N][MAX_RUNS], int r)
{
	struct cpu_snap	d0, d1;
	double	f[BP_N], mstored, c0, c1, t0, t1;
	char	label[16];
	int	k, ok;

	memset(f, 0, sizeof f);
	settle();
	f[BP_FULL] = run_single("main", &f[BP_STORED]);
	if (opt_sock == NULL) {
		settle();
		c0 = sim_cpu();
		t0 = bu_now();
		f[BP_MEMORY] = run_single("mem", &mstored);
		c1 = sim_cpu();
		t1 = bu_now();
		settle();
		cpu_snap(&d0);
		f[BP_DIRECT] = directpub_run(sim_port, "bench-direct", opt_n,
		    payload, opt_size);
		cpu_snap(&d1);
		cpu_print("direct", &d0, &d1, (double)opt_n);
		/* Whether ampsim (the sink) was the bound of each case. */
		printf("     ampsim busy: memory %.0f%%, direct %.0f%% of "
		    "the case's time\n", 100 * (c1 - c0) / (t1 - t0),
		    100 * (d1.sim - d0.sim) / (d1.wall - d0.wall));
	}
	settle();
	f[BP_RAW] = run_raw(statedir);
	settle();
	f[BP_PROCS] = run_procs();
	settle();
	ok = run_latency(&f[BP_P50], &f[BP_P99], &f[BP_P999]) == 0 &&
	    f[BP_FULL] > 0 && f[BP_PROCS] > 0 && (opt_sock != NULL ||
	    (f[BP_MEMORY] > 0 && f[BP_DIRECT] > 0));
	snprintf(label, sizeof label, "%d", r + 1);
	print_row(label, f);
	for (k = 0; k < BP_N; k++)
		v[k][r] = f[k];
	return (ok ? 0 : -1);
}

/*
 * The medians of n complete runs, the medians of the per-run ratios
 * with their goals, and the RESULT line for tests/bench/run.sh.
 */
static void
print_medians(double v[BP_N][MAX_RUNS], int n, double fs)
{
	double	med[BP_N], rat[MAX_RUNS], mr[BP_NRATIOS];
	size_t	k;
	int	r;

	for (k = 0; k < BP_N; k++)
		med[k] = bu_median(v[k], n);
	print_row("med", med);
	printf("ratios (median of the per-run ratios, goal):");
	for (k = 0; k < BP_NRATIOS; k++) {
		for (r = 0; r < n; r++)
			rat[r] = v[bp_ratios[k].b][r] > 0 ?
			    v[bp_ratios[k].a][r] / v[bp_ratios[k].b][r] : 0;
		mr[k] = bu_median(rat, n);
		if (bp_ratios[k].goal > 0)
			printf(" %s %.2f (>= %.1f)", bp_ratios[k].name, mr[k],
			    bp_ratios[k].goal);
		else
			printf(" %s %.2f", bp_ratios[k].name, mr[k]);
	}
	/* The store's ceiling bounds the durable path (full <= raw), so
	 * full/direct <= raw/direct whatever the daemon does: the floor
	 * that shows when the full/direct goal is out of reach. */
	for (r = 0; r < n; r++)
		rat[r] = v[BP_DIRECT][r] > 0 ?
		    v[BP_RAW][r] / v[BP_DIRECT][r] : 0;
	printf("\n(full/direct cannot exceed raw/direct, %.2f here: the "
	    "durable path does not outrun its store's ceiling)", bu_median(rat,
	    n));
	printf("\n(full, memory and procs are timed until persisted; p50/"
	    "p99/p99.9: STORED latency at %.0f msg/s)\n", opt_rate);
	printf("RESULT {\"bench\":\"publish\",\"runs\":%d,\"n\":%ld,"
	    "\"size\":%zu,\"fdatasync_us\":%.0f", n, opt_n, opt_size, fs);
	for (k = 0; k < BP_N; k++)
		printf(",\"%s\":%.0f", bp_names[k], med[k]);
	for (k = 0; k < BP_NRATIOS; k++)
		printf(",\"%s\":{\"ratio\":%.3f,\"goal\":%.2f}",
		    bp_ratios[k].name, mr[k], bp_ratios[k].goal);
	printf("}\n");
	for (k = 0; k < BP_NRATIOS; k++)
		if (bp_ratios[k].goal > 0)
			printf("GOAL %s %.3f >= %.2f\n", bp_ratios[k].name,
			    mr[k], bp_ratios[k].goal);
}

/* Print usage and exit 2. */
static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: bench-publish [-n N] [-s bytes] [-r runs] "
	    "[-P procs] [-R rate]\n\t[-T secs] [-b batch] [-t secs] "
	    "[-A ms] [-d dir] [-S socket] [-k]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	double	v[BP_N][MAX_RUNS], fs, warm_stored;
	int	ch, r, nok = 0;
	size_t	i;

	while ((ch = getopt(argc, argv, "A:b:d:kn:P:r:R:s:S:t:T:")) != -1) {
		switch (ch) {
		case 'A':
			opt_conflation = optarg;
			break;
		case 'b':
			opt_batch = (int)number(optarg, "batch");
			break;
		case 'd':
			opt_dir = optarg;
			break;
		case 'k':
			opt_keep = 1;
			break;
		case 'n':
			opt_n = (long)number(optarg, "count");
			break;
		case 'P':
			opt_procs = (int)number(optarg, "process count");
			break;
		case 'r':
			opt_runs = (int)number(optarg, "runs");
			break;
		case 'R':
			opt_rate = number(optarg, "rate");
			break;
		case 's':
			opt_size = (size_t)number(optarg, "size");
			break;
		case 'S':
			opt_sock = optarg;
			break;
		case 't':
			opt_raw_secs = number(optarg, "raw seconds");
			break;
		case 'T':
			opt_lat_secs = number(optarg, "latency seconds");
			break;
		default:
			usage();
		}
	}
	if (optind != argc || opt_runs > MAX_RUNS || opt_procs > MAX_PROCS ||
	    opt_n < opt_procs || opt_size > 16 * 1024 * 1024)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if ((payload = malloc(opt_size)) == NULL)
		die("out of memory");
	for (i = 0; i < opt_size; i++)
		payload[i] = (unsigned char)('a' + i % 26);

	make_workdir();
	if (opt_sock != NULL) {
		snprintf(sockpath, sizeof sockpath, "%s", opt_sock);
		snprintf(statedir, sizeof statedir, "%s", workdir);
	} else
		start_servers();
	fs = fsync_us(statedir);
	printf("bench-publish: N=%ld size=%zu procs=%d rate=%.0f/s for %.1f "
	    "s, raw batch %d for %.1f s, ack conflation %s ms, %d runs\n",
	    opt_n, opt_size, opt_procs, opt_rate, opt_lat_secs, opt_batch,
	    opt_raw_secs, opt_sock != NULL ? "?" : opt_conflation, opt_runs);
	printf("work directory %s, fdatasync median %.0f us\n", workdir, fs);
	/*
	 * A warm-up that is not counted: the first full case of a fresh
	 * ampsd paid the first touch of its queue's memory (its loop 1.3-1.5
	 * µs of CPU per message against 0.4-0.5 in the runs after), so run
	 * 1 was slower than the rest and its ratios to full were off.
	 */
	if (opt_sock == NULL) {
		quiet = 1;
		(void)run_single("main", &warm_stored);
		(void)run_single("mem", &warm_stored);
		quiet = 0;
		printf("warm-up: one untimed full and memory case of %ld "
		    "messages\n", opt_n);
	}
	print_head();
	for (r = 0; r < opt_runs; r++) {
		if (run_all(v, nok) == 0)
			nok++;
		else
			fprintf(stderr, "bench-publish: run %d incomplete, not "
			    "counted\n", r + 1);
	}
	if (nok > 0)
		print_medians(v, nok, fs);
	cleanup();
	return (nok == opt_runs ? 0 : 1);
}
