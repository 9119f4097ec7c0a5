/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsd configuration: the parsed form of ampsd.conf (syntax documented
 * in conf/ampsd.conf and docs/CONFIG.md).  conf-parse.c turns text into a
 * fresh struct conf; conf.c holds defaults, semantic checks and cleanup.
 * Nothing here touches a store, a socket or the event loop.
 */

#ifndef AMPSD_CONF_H
#define AMPSD_CONF_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "connha.h"

#define CONF_DEFAULT_FILE	"/etc/ampsd/ampsd.conf"
#define CONF_DEFAULT_STATEDIR	"/var/lib/ampsd"

/* What an allow rule grants. */
#define CONF_ALLOW_PUBLISH	0x1
#define CONF_ALLOW_SUBSCRIBE	0x2

/* One `allow` rule: a local user or group and a topic regex. */
struct conf_allow {
	int		 what;		/* CONF_ALLOW_* */
	int		 is_group;	/* name is a group, else a user */
	char		*name;		/* user or group name, or "*" */
	char		*topic;		/* regular expression */
	int		 line;
};

struct conf_server {
	char		*uri;		/* may hold credentials: never log */
	int		 line;
};

struct conf_tls {
	char		*ca;		/* CA bundle file, NULL = system */
	char		*cert;		/* client certificate, or NULL */
	char		*key;		/* its private key */
	char		*server_name;	/* SNI/host check override */
	int		 verify;	/* 1 = verify peer and host name */
	int		 line;
};

enum conf_durability {
	CONF_DURABILITY_FULL,		/* synchronous=FULL */
	CONF_DURABILITY_NORMAL,		/* synchronous=NORMAL */
	CONF_DURABILITY_MEMORY,		/* stores in the daemon's memory */
};

/* Default bound of a memory publish store (`durability memory`). */
#define CONF_MEMORY_LIMIT_DEFAULT	(256ULL * 1024 * 1024)

/* One `connection "name" { ... }` block. */
struct conf_conn {
	char			*name;
	int			 line;
	int			 is_default;
	char			*client_name;
	struct conf_server	*servers;
	size_t			 nservers;
	uint64_t		 heartbeat_ms;	/* 0 = no heartbeat */
	uint64_t		 timeout_ms;	/* 0 = 2 x heartbeat */
	uint64_t		 logon_timeout_ms; /* 0: follow the heartbeat */
	int			 logon_timeout_set; /* configured */
	struct connha_policy	 reconnect;
	struct conf_tls		 tls;
	enum conf_durability	 durability;
	uint64_t		 memory_limit;	/* bytes, memory stores */
	uint32_t		 ack_batch;	/* queue acks per sow_delete */
	uint64_t		 ack_timeout_ms;
	struct conf_allow	*allows;
	size_t			 nallows;
};

/*
 * `metrics listen ADDR[:PORT] [allow-remote yes];` (conf-metrics.c): the
 * Prometheus endpoint.  listen == NULL: off (the default).  The port
 * defaults to CONF_METRICS_PORT (why that one: conf-metrics.c).
 */
#define CONF_METRICS_PORT	19007
struct conf_metrics {
	char		*listen;	/* as written, or NULL */
	char		 addr[64];	/* numeric address, no brackets */
	uint16_t	 port;		/* 0 = a free port (logged) */
	int		 loopback;	/* 127.0.0.0/8 or ::1 */
	int		 allow_remote;
	int		 line;
};

#define CONF_LOG_STDERR	0
#define CONF_LOG_SYSLOG	1
#define CONF_LOG_FILE	2

#define CONF_DEFAULT_SHUTDOWN_MS	5000
#define CONF_LOGON_TIMEOUT_MAX	10000	/* default logon-timeout cap */

struct conf {
	char			*file;		/* name used in messages */
	char			*socket_path;
	mode_t			 socket_mode;
	char			*socket_group;	/* NULL = daemon's group */
	int			 socket_group_line;
	char			*state_dir;
	int			 log_target;	/* CONF_LOG_* */
	char			*log_facility;	/* syslog facility name */
	char			*log_file;	/* CONF_LOG_FILE: absolute path */
	int			 log_verbose;	/* 0 info, 1 debug, 2 trace */
	unsigned		 log_trace;	/* LOG_TRACE_* mask */
	uint64_t		 shutdown_ms;	/* SIGTERM drain bound */
	struct conf_conn	**conns;
	size_t			 nconns;
	struct conf_metrics	 metrics;
	int			 has_secrets;	/* passwords or TLS keys */
};

/* A list of "file:line: message" strings. */
struct conf_errs {
	char			**v;
	size_t			  n;
};

struct conf	*conf_new(void);
void		 conf_free(struct conf *);
int		 conf_parse_buffer(struct conf *, const char *name,
		     const char *buf, size_t len, struct conf_errs *);
int		 conf_parse_file(struct conf *, const char *path,
		     struct conf_errs *);
int		 conf_check(struct conf *, struct conf_errs *);
int		 conf_check_files(const struct conf *, struct conf_errs *);
int		 conf_check_names(const struct conf *, struct conf_errs *);
int		 conf_user(const char *, uid_t *);
int		 conf_group(const char *, gid_t *, uid_t **, size_t *);
struct conf_conn *conf_default_conn(const struct conf *);
struct conf_conn *conf_find_conn(const struct conf *, const char *);
uint64_t	 conf_conn_timeout(const struct conf_conn *);
uint64_t	 conf_conn_logon_timeout(const struct conf_conn *);
void		 conf_dump(const struct conf *, FILE *);
int		 conf_facility(const char *);

void		 conf_errs_add(struct conf_errs *, const char *file, int line,
		     const char *fmt, ...)
		     __attribute__((__format__(printf, 4, 5)));
void		 conf_errs_print(const struct conf_errs *, FILE *);
void		 conf_errs_free(struct conf_errs *);

/* conf-parse.c internals shared with conf.c */
struct conf_conn *conf_conn_new(const char *name, int line);
void		 conf_conn_free(struct conf_conn *);
int		 conf_parse_duration(const char *, uint64_t *);
int		 conf_parse_size(const char *, uint64_t *);
const char	*conf_durability_name(enum conf_durability);

/* conf-metrics.c */
const char	*conf_metrics_addr(const char *, char *, size_t, uint16_t *,
		     int *);
void		 conf_metrics_check(const struct conf *, struct conf_errs *);
void		 conf_metrics_dump(const struct conf *, FILE *);

#endif /* AMPSD_CONF_H */
