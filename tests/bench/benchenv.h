/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * benchenv: what the receive-path and latency benchmarks share: a work
 * directory, one ampsim and one ampsd started from it and killed by pid,
 * raw AMPS connections straight to ampsim, the raw loopback round trip
 * and percentiles.  See benchenv.c.
 */

#ifndef BENCHENV_H
#define BENCHENV_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct ampsipc;

extern char	bench_dir[256];		/* work directory */
extern char	bench_sock[300];	/* ampsd's IPC socket */
extern int	bench_sim_port;		/* ampsim's TCP port */
extern int	bench_ack_conflation;	/* ampsim's, ms; < 0: its default */
/* Extra statements for the connection block of the next bench_start()
 * (e.g. an allow rule); with any, the socket is made mode 0666. */
extern const char *bench_conn_extra;

void		 bench_init(const char *);
void		 bench_done(int);
void		 bench_die(const char *) __attribute__((noreturn));
uint64_t	 bench_now_ns(void);

void		 bench_start(const char *, const char *);
void		 bench_start_conf(const char *, const char *, const char *,
		    const char *);
pid_t		 bench_ampsd_pid(void);
uint64_t	 bench_rss_kb(pid_t);
void		 bench_stop(void);
struct ampsipc	*bench_open(void);
uint64_t	 bench_ampsd_cpu_ns(void);

int		 bench_raw_logon(void);
void		 bench_raw_drain(int);
size_t		 bench_amps_frame(char *, size_t, const char *, const char *,
		    size_t);
void		 bench_write_all(int, const char *, size_t);

void		 bench_rtt(int, uint64_t *, size_t);
uint64_t	 bench_pct(uint64_t *, size_t, unsigned);
uint64_t	 bench_quantile(uint64_t *, size_t, double);

#endif /* BENCHENV_H */
