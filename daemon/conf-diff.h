/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * What a configuration reload changes (conf-diff.c): the difference
 * between the running configuration and a newly read one, each item
 * marked live (the daemon can take it without a restart) or not.  Pure
 * logic, like the rest of the configuration code.
 */

#ifndef AMPSD_CONF_DIFF_H
#define AMPSD_CONF_DIFF_H

#include <stddef.h>

struct conf;

/* Top level (conf_diff.top). */
#define CONF_CH_SOCKET		0x00000001	/* restart */
#define CONF_CH_STATEDIR	0x00000002	/* restart */
#define CONF_CH_CONNS		0x00000004	/* added/removed: restart */
#define CONF_CH_LOG_TARGET	0x00000008	/* stderr/syslog/file, facility */
#define CONF_CH_LOG_LEVEL	0x00000010
#define CONF_CH_LOG_TRACE	0x00000020
#define CONF_CH_SHUTDOWN	0x00000040
#define CONF_CH_METRICS		0x00000080	/* restart */
/* Per connection (conf_diff.conn[i]). */
#define CONF_CH_SERVERS		0x00000100
#define CONF_CH_HEARTBEAT	0x00000200
#define CONF_CH_LOGON		0x00000400
#define CONF_CH_RECONNECT	0x00000800
#define CONF_CH_TLS		0x00001000
#define CONF_CH_ALLOW		0x00002000
#define CONF_CH_QUEUE_ACK	0x00004000
#define CONF_CH_CLIENT_NAME	0x00010000	/* restart */
#define CONF_CH_DURABILITY	0x00020000	/* restart */
#define CONF_CH_DEFAULT		0x00040000	/* restart */

/* The settings only a restart can change. */
#define CONF_CH_RESTART	(CONF_CH_SOCKET | CONF_CH_STATEDIR | CONF_CH_CONNS | \
	CONF_CH_METRICS | CONF_CH_CLIENT_NAME | CONF_CH_DURABILITY | \
	CONF_CH_DEFAULT)

/* One difference, for logs and the reload summary. */
struct conf_change {
	char		*text;		/* "connection main: server" */
	unsigned	 bit;		/* one CONF_CH_* */
	int		 live;		/* 0: needs a restart */
};

struct conf_diff {
	unsigned		 top;	/* CONF_CH_* of the top level */
	unsigned		*conn;	/* per running connection (index) */
	size_t			 nconn;
	struct conf_change	*v;	/* every change, in file order */
	size_t			 n;
	size_t			 nrefused;	/* of v, those not live */
};

int	 conf_diff(const struct conf *running, const struct conf *next,
	    struct conf_diff *);
void	 conf_diff_apply(struct conf *running, struct conf *next,
	    const struct conf_diff *);
char	*conf_diff_summary(const struct conf_diff *);
void	 conf_diff_free(struct conf_diff *);

#endif /* AMPSD_CONF_DIFF_H */
