/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The daemon's one event loop: libevent base, signals, the flush phase
 * after every pass, deferred frees.
 */

#ifndef AMPSD_LOOP_H
#define AMPSD_LOOP_H

#include <stdint.h>

struct event_base;

/* Called after every loop pass: commit, then release waiting replies. */
typedef void (*loop_flush_fn)(void *);
/* Called when SIGHUP arrives (from the loop, not the signal handler). */
typedef void (*loop_hup_fn)(void *);
/* Called at the first SIGTERM/SIGINT; it ends the loop with loop_exit(). */
typedef void (*loop_term_fn)(void *);

void		 loop_init(void);
struct event_base *loop_base(void);
void		 loop_set_flush(loop_flush_fn, void *);
void		 loop_set_hup(loop_hup_fn, void *);
void		 loop_set_term(loop_term_fn, void *);
int		 loop_run(void);
void		 loop_exit(int status);
int		 loop_exiting(void);
int		 loop_in_pass(void);
void		 loop_defer_free(void (*)(void *), void *);
void		 loop_done(void);
uint64_t	 loop_now_ms(void);
uint64_t	 loop_passes(void);

/* Frames taken in / sent out, for AMPSD_SLOW_PASS_US (loop.c (5)). */
extern uint64_t	 loop_frames_in;
extern uint64_t	 loop_frames_out;

#endif /* AMPSD_LOOP_H */
