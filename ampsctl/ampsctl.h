/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsctl's commands and their arguments.  ampsctl-args.c owns the
 * command table, the option table, the parser (getopt_long_only, so
 * spark's single-dash long flags work: -topic, --topic and -topic=T)
 * and the help texts; it is pure (no I/O but the FILE it is given, no
 * exit), so tests/unit/check_ctlargs.c drives it directly.  The other
 * ampsctl-*.c files run the commands.
 */

#ifndef AMPSCTL_H
#define AMPSCTL_H

#include <stdint.h>
#include <stdio.h>

#define CTL_MAXWORDS	32	/* trace/verbose request words */

struct ctl_cmd;

/* The result of parsing one command line. */
struct ctl_args {
	const struct ctl_cmd	*cmd;
	int			 help;		/* -h/--help given */
	int			 version;	/* --version given */
	/* common */
	const char		*sock;
	long			 timeout;	/* ms; -1: wait forever */
	int			 has_timeout;	/* -timeout given */
	const char		*conn;
	/* publish */
	const char		*topic;
	const char		*data;
	const char		*file;
	const char		*wait;		/* stored|persisted|none */
	const char		*correlation;
	const char		*sowkey;
	long			 n;		/* -1 when not given */
	double			 rate;
	uint32_t		 expiration;
	int			 has_expiration;
	int			 delta;
	/* status */
	int			 format;	/* 0 table, 1 -json, 2 -raw */
	/* ping */
	int			 daemon_only;
	/* receiving commands */
	const char		*filter;
	const char		*subid;
	const char		*bookmark;
	const char		*options;
	const char		*orderby;
	const char		*keys;
	const char		*fmt;		/* -format */
	const char		*name;
	uint32_t		 topn;
	uint32_t		 skipn;
	uint32_t		 batchsize;
	uint32_t		 backlog;
	int			 durable;
	int			 discard;
	int			 ack;
	int			 stats;
	int			 force;
	/* trace, verbose: the request's words */
	const char		*words[CTL_MAXWORDS];
	int			 nwords;
};

/* The commands. */
enum ctl_cmd_id {
	CTL_C_PUBLISH,
	CTL_C_FLUSH,
	CTL_C_PING,
	CTL_C_STATUS,
	CTL_C_SUBSCRIBE,
	CTL_C_SOW_AND_SUBSCRIBE,
	CTL_C_SOW,
	CTL_C_SOW_DELETE,
	CTL_C_UNSUBSCRIBE,
	CTL_C_SUBSCRIPTIONS,
	CTL_C_RELOAD,
	CTL_C_TRACE,
	CTL_C_VERBOSE,
	CTL_C_HELP,
};

/* ampsctl-args.c: pure */
const struct ctl_cmd	*ctl_cmd_find(const char *);
const char		*ctl_cmd_name(const struct ctl_cmd *);
enum ctl_cmd_id		 ctl_cmd_id(const struct ctl_cmd *);
int			 ctl_args_parse(const struct ctl_cmd *, int, char **,
			    struct ctl_args *, char *, size_t);
void			 ctl_help(FILE *, const struct ctl_cmd *);
void			 ctl_usage(FILE *);

/* Running them: ampsctl-sub.c (receiving), ampsctl-admin.c (admin). */
int	ctl_receive(struct ctl_args *);
int	ctl_admin(struct ctl_args *);

/* ampsctl-status.c: pure */
int	ctl_status_print(const char *, int, FILE *);
int	ctl_status_conns(const char *, FILE *, int *, int *);

#endif /* AMPSCTL_H */
