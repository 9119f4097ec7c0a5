/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsim.c: main.  Parses the command line into `conf`, loads the topic
 * configuration (file or defaults), opens the transaction log, rebuilds
 * the SOW, starts the listeners and the admin channel, and runs the
 * libevent loop until SIGINT/SIGTERM.
 *
 * Invariants:
 *  1. Everything runs on one event loop (one thread): command handling
 *     is atomic with respect to other connections.
 *  2. On shutdown the transaction log is flushed before exit.
 */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsim.h"

struct event_base	*sim_base;
uint64_t		 sim_pubid;

enum {
	OPT_ADDR = 256, OPT_PORT_FILE, OPT_UNIX, OPT_TLS_PORT, OPT_TLS_CERT,
	OPT_TLS_KEY, OPT_ADMIN, OPT_ADMIN_PORT, OPT_FSYNC, OPT_ACK_CONFL,
	OPT_HB_MULT, OPT_OUT_LIMIT, OPT_USER, OPT_PASSWORD, OPT_LOGON_RETRY,
	OPT_DUP_ACK, OPT_SIDS, OPT_ANSWER_BEATS, OPT_BMNF, OPT_BM_PERSISTED, OPT_NO_AUTH_REASON,
	OPT_FAULT, OPT_PEER, OPT_REPL_PORT, OPT_INSTANCE, OPT_FRAME_MAX,
	OPT_CONF_LINE, OPT_REPL_SYNC, OPT_FSYNC_INTERVAL,
};

static const struct option longopts[] = {
	{ "port",		required_argument, NULL, 'p' },
	{ "addr",		required_argument, NULL, OPT_ADDR },
	{ "port-file",		required_argument, NULL, OPT_PORT_FILE },
	{ "unix",		required_argument, NULL, OPT_UNIX },
	{ "tls-port",		required_argument, NULL, OPT_TLS_PORT },
	{ "tls-cert",		required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key",		required_argument, NULL, OPT_TLS_KEY },
	{ "admin",		required_argument, NULL, OPT_ADMIN },
	{ "admin-port",		required_argument, NULL, OPT_ADMIN_PORT },
	{ "dir",		required_argument, NULL, 'd' },
	{ "fsync",		no_argument,	   NULL, OPT_FSYNC },
	{ "fsync-interval",	required_argument, NULL, OPT_FSYNC_INTERVAL },
	{ "config",		required_argument, NULL, 'c' },
	{ "conf-line",		required_argument, NULL, OPT_CONF_LINE },
	{ "ack-conflation",	required_argument, NULL, OPT_ACK_CONFL },
	{ "hb-multiple",	required_argument, NULL, OPT_HB_MULT },
	{ "out-limit",		required_argument, NULL, OPT_OUT_LIMIT },
	{ "user",		required_argument, NULL, OPT_USER },
	{ "password",		required_argument, NULL, OPT_PASSWORD },
	{ "logon-retry",	required_argument, NULL, OPT_LOGON_RETRY },
	{ "dup-ack",		required_argument, NULL, OPT_DUP_ACK },
	{ "sids",		no_argument,	   NULL, OPT_SIDS },
	{ "answer-beats",	no_argument,	   NULL, OPT_ANSWER_BEATS },
	{ "bookmark-not-found",	required_argument, NULL, OPT_BMNF },
	{ "bm-persisted-interval", required_argument, NULL, OPT_BM_PERSISTED },
	{ "no-auth-reason",	no_argument,	   NULL, OPT_NO_AUTH_REASON },
	{ "fault",		required_argument, NULL, OPT_FAULT },
	{ "peer",		required_argument, NULL, OPT_PEER },
	{ "repl-port",		required_argument, NULL, OPT_REPL_PORT },
	{ "repl-sync",		no_argument,	   NULL, OPT_REPL_SYNC },
	{ "instance",		required_argument, NULL, OPT_INSTANCE },
	{ "frame-max",		required_argument, NULL, OPT_FRAME_MAX },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Print usage and exit. */
static void __attribute__((noreturn))
usage(int rc)
{
	fprintf(rc ? stderr : stdout,
"usage: ampsim [-vq] [-p port] [-d dir] [-c config] [options]\n"
"  -p, --port N               TCP port (default 9007; 0 = ephemeral; -1 = off)\n"
"      --addr A               listen address (default 127.0.0.1)\n"
"      --port-file F          write the bound ports to F\n"
"      --unix PATH            also listen on a unix socket\n"
"      --tls-port N --tls-cert F --tls-key F   TLS listener\n"
"      --admin PATH           admin channel on a unix socket\n"
"      --admin-port N         admin channel on 127.0.0.1:N (0 = ephemeral)\n"
"  -d, --dir DIR              transaction log directory (default: memory)\n"
"      --fsync                fsync the log before persisted acks\n"
"      --fsync-interval MS    fsync the log every MS instead\n"
"  -c, --config F             topic configuration file\n"
"      --conf-line LINE       one configuration line (repeatable)\n"
"      --ack-conflation MS    persisted-ack conflation (default 1000; 0 = per command)\n"
"      --hb-multiple K        heartbeat watchdog = K x interval (default 2)\n"
"      --out-limit BYTES      queued output before a slow client is dropped\n"
"      --user U --password P  require these logon credentials\n"
"      --logon-retry N        answer N logons with status retry first\n"
"      --dup-ack success|failure   ack for duplicate publishes (default success)\n"
"      --sids                 deliver with sids (one frame per connection)\n"
"      --answer-beats         answer every client beat with a heartbeat\n"
"      --bookmark-not-found now|epoch|fail   default (now)\n"
"      --bm-persisted-interval MS  bookmark-subscription persisted acks\n"
"      --no-auth-reason       omit reason \"authentication disabled\"\n"
"      --fault NAME=VALUE     fault injection (repeatable; see docs/AMPSIM.md)\n"
"      --instance NAME        instance name (server publisher id)\n"
"      --repl-port N          replication listener (0 = ephemeral)\n"
"      --peer HOST:PORT       replicate to this peer's --repl-port\n"
"      --repl-sync            persisted acks wait until the peer has the message\n"
"  -v / -q                    more / less logging\n");
	exit(rc);
}

/* Signal: stop the loop. */
static void
sig_cb(evutil_socket_t sig, short ev, void *arg)
{
	sim_log(LOG_INFO, "ampsim: signal %d, shutting down", (int)sig);
	event_base_loopbreak(sim_base);
}

/* Parse a non-negative integer option or exit. */
static long long
num_arg(const char *name, const char *v, long long min, long long max)
{
	char		*end;
	long long	 n = strtoll(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n < min || n > max)
		sim_fatalx("bad value for --%s: %s", name, v);
	return (n);
}

/* main. */
int
main(int argc, char **argv)
{
	struct event	*ev_int, *ev_term;
	char		 err[512], pid[4200];
	int		 ch, have_conf = 0, have_instance = 0;
	const char	*cfg = NULL;
	char		**lines = NULL;
	size_t		 nlines = 0, i;

	conf_init();
	while ((ch = getopt_long(argc, argv, "p:d:c:vqh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'p':
			conf.port = (int)num_arg("port", optarg, -1, 65535);
			break;
		case OPT_ADDR:
			free(conf.addr);
			conf.addr = xstrdup(optarg);
			break;
		case OPT_PORT_FILE:
			conf.port_file = xstrdup(optarg);
			break;
		case OPT_UNIX:
			conf.unix_path = xstrdup(optarg);
			break;
		case OPT_TLS_PORT:
			conf.tls_port = (int)num_arg("tls-port", optarg, -1,
			    65535);
			break;
		case OPT_TLS_CERT:
			conf.tls_cert = xstrdup(optarg);
			break;
		case OPT_TLS_KEY:
			conf.tls_key = xstrdup(optarg);
			break;
		case OPT_ADMIN:
			conf.admin_path = xstrdup(optarg);
			break;
		case OPT_ADMIN_PORT:
			conf.admin_port = (int)num_arg("admin-port", optarg,
			    -1, 65535);
			break;
		case 'd':
			conf.dir = xstrdup(optarg);
			break;
		case OPT_FSYNC:
			conf.fsync = 1;
			break;
		case OPT_FSYNC_INTERVAL:
			conf.fsync_interval_ms = (unsigned)num_arg(
			    "fsync-interval", optarg, 1, 3600000);
			break;
		case 'c':
			cfg = optarg;
			break;
		case OPT_CONF_LINE:
			lines = xrealloc(lines, (nlines + 1) * sizeof *lines);
			lines[nlines++] = optarg;
			break;
		case OPT_ACK_CONFL:
			conf.ack_conflation_ms = (unsigned)num_arg(
			    "ack-conflation", optarg, 0, 3600000);
			break;
		case OPT_HB_MULT:
			conf.hb_multiple = (unsigned)num_arg("hb-multiple",
			    optarg, 1, 100);
			break;
		case OPT_OUT_LIMIT:
			conf.out_limit = (size_t)num_arg("out-limit", optarg,
			    1024, 1LL << 40);
			break;
		case OPT_USER:
			conf.auth_user = xstrdup(optarg);
			break;
		case OPT_PASSWORD:
			conf.auth_pw = xstrdup(optarg);
			break;
		case OPT_LOGON_RETRY:
			conf.logon_retry = (unsigned)num_arg("logon-retry",
			    optarg, 0, 100);
			break;
		case OPT_DUP_ACK:
			if (strcmp(optarg, "success") == 0)
				conf.dupack = DUPACK_SUCCESS;
			else if (strcmp(optarg, "failure") == 0)
				conf.dupack = DUPACK_FAILURE;
			else
				usage(1);
			break;
		case OPT_SIDS:
			conf.sids = 1;
			break;
		case OPT_ANSWER_BEATS:
			faults.answer_beats = 1;
			break;
		case OPT_BMNF:
			if (strcmp(optarg, "now") == 0)
				conf.bmnf_default = BMNF_NOW;
			else if (strcmp(optarg, "epoch") == 0)
				conf.bmnf_default = BMNF_EPOCH;
			else if (strcmp(optarg, "fail") == 0)
				conf.bmnf_default = BMNF_FAIL;
			else
				usage(1);
			break;
		case OPT_BM_PERSISTED:
			conf.bm_persisted_ms = (unsigned)num_arg(
			    "bm-persisted-interval", optarg, 1, 3600000);
			break;
		case OPT_NO_AUTH_REASON:
			conf.no_logon_reason = 1;
			break;
		case OPT_FAULT:
			if (faults_set(optarg, err, sizeof err) != 0)
				sim_fatalx("%s", err);
			break;
		case OPT_PEER:
			free(conf.peer);
			conf.peer = xstrdup(optarg);
			break;
		case OPT_REPL_PORT:
			conf.repl_port = (int)num_arg("repl-port", optarg, -1,
			    65535);
			break;
		case OPT_REPL_SYNC:
			conf.repl_sync = 1;
			break;
		case OPT_INSTANCE:
			free(conf.instance);
			conf.instance = xstrdup(optarg);
			have_instance = 1;
			break;
		case OPT_FRAME_MAX:
			conf.frame_max = (uint32_t)num_arg("frame-max", optarg,
			    64, TXLOG_FRAME_MAX);
			break;
		case 'v':
			sim_verbose = LOG_DEBUG;
			break;
		case 'q':
			sim_verbose = LOG_WARN;
			break;
		case 'h':
			usage(0);
		default:
			usage(1);
		}
	}
	if (optind != argc)
		usage(1);

	if (cfg != NULL) {
		if (conf_load_file(cfg, err, sizeof err) != 0)
			sim_fatalx("%s", err);
		have_conf = 1;
	}
	for (i = 0; i < nlines; i++) {
		if (conf_add_line(lines[i], err, sizeof err) != 0)
			sim_fatalx("--conf-line: %s", err);
		have_conf = 1;
	}
	free(lines);
	if (!have_conf)
		conf_load_defaults();
	conf_dump();
	/* Distinct, stable server publisher ids for a replicated pair. */
	if (!have_instance && conf.dir != NULL) {
		free(conf.instance);
		conf.instance = xstrdup(conf.dir);
	}
	snprintf(pid, sizeof pid, "ampsim-server:%s", conf.instance);
	sim_pubid = amps_name_hash(pid, strlen(pid));

	signal(SIGPIPE, SIG_IGN);
	if ((sim_base = event_base_new()) == NULL ||
	    event_base_priority_init(sim_base, SIM_NPRIO) != 0)
		sim_fatalx("event_base_new failed");
	if (txlog_open(conf.dir, err, sizeof err) != 0)
		sim_fatalx("txlog: %s", err);
	txlog_start_timer();
	sow_init();
	queue_init();
	if (admin_start(err, sizeof err) != 0)
		sim_fatalx("%s", err);
	if (repl_start(err, sizeof err) != 0)
		sim_fatalx("%s", err);
	if (listener_start(err, sizeof err) != 0)
		sim_fatalx("%s", err);
	ev_int = evsignal_new(sim_base, SIGINT, sig_cb, NULL);
	ev_term = evsignal_new(sim_base, SIGTERM, sig_cb, NULL);
	event_add(ev_int, NULL);
	event_add(ev_term, NULL);
	sim_log(LOG_INFO, "ampsim: ready (version %s, log %s)",
	    AMPSIM_VERSION, conf.dir ? conf.dir : "in memory");

	passtime_run(sim_base);

	listener_stop();
	admin_stop();
	repl_stop();
	sess_close_all();
	txlog_close();
	event_free(ev_int);
	event_free(ev_term);
	return (0);
}
