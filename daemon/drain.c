/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The SIGTERM (and SIGINT) drain: a clean stop that loses nothing and
 * lets AMPS catch up first.  loop.c calls drain_start() at the first
 * signal; a second signal makes the loop end at once (after the flush
 * phase of that pass, so everything stored is committed).
 *
 *	OFF --drain_start()--> WAIT --drained or timeout--> CLOSE --> exit
 *
 *   OFF -> WAIT     drain_start(): STOPPING=1 to systemd; reloads are
 *                   refused; the listening socket stops taking programs
 *                   (ipc_stop_accepting); new publishes and commands are
 *                   refused and programs are told (server_drain_begin);
 *                   the upstream connections stay up
 *   WAIT -> CLOSE   drain_check() after a flush phase, when AMPS has
 *                   settled every stored message or no connection that
 *                   holds some is up or trying; or drain_timeout_cb()
 *                   when shutdown-timeout passes
 *   CLOSE -> exit   every program was closed (after its queued output,
 *                   ipc_client_shutdown), or a second of grace passed:
 *                   loop_exit(0)
 *
 * Then main() closes the IPC listener, commits, reports per connection
 * what stays unpersisted (drain_report), stops the connections and
 * closes the stores.
 *
 * Invariants:
 *   (1) The drain never waits longer than shutdown-timeout plus one
 *       second of closing.
 *   (2) Every pass during the drain still runs the flush phase: replies
 *       and commits as usual.
 *   (3) Messages AMPS did not persist stay in the publish store; they
 *       are logged, never dropped.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>

#include <event2/event.h>

#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "server.h"
#include "reload.h"
#include "sdnotify.h"

#define DRAIN_CLOSE_MS	1000

enum drain_phase {
	DRAIN_OFF,
	DRAIN_WAIT,
	DRAIN_CLOSE,
};

static enum drain_phase	 drain_phase;
static struct server	*drain_srv;
static struct ipc	*drain_ipc;
static const struct conf *drain_conf;
static struct event	*drain_timer;
static uint64_t		 drain_started;

static void	drain_timeout_cb(evutil_socket_t, short, void *);

/* Remember what the drain works on; conf is read at drain_start(). */
void
drain_init(struct server *srv, struct ipc *ipc, const struct conf *conf)
{
	drain_srv = srv;
	drain_ipc = ipc;
	drain_conf = conf;
	drain_phase = DRAIN_OFF;
}

/* Whether a drain has begun (it never ends before the process does). */
int
drain_active(void)
{
	return (drain_phase != DRAIN_OFF);
}

/* (Re)arm the drain timer for ms milliseconds. */
static void
drain_arm(uint64_t ms)
{
	struct timeval	tv;

	if (drain_timer == NULL &&
	    (drain_timer = evtimer_new(loop_base(), drain_timeout_cb,
	    NULL)) == NULL)
		fatalx("drain: evtimer_new failed");
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(drain_timer, &tv);
}

/* End the loop once every program is closed. */
static void
drain_check_closed(void)
{
	if (drain_ipc == NULL || ipc_nclients(drain_ipc) == 0) {
		if (drain_timer != NULL) {
			event_free(drain_timer);
			drain_timer = NULL;
		}
		loop_exit(0);
	}
}

/* WAIT -> CLOSE: close every program after its queued output. */
static void
drain_close(void)
{
	drain_phase = DRAIN_CLOSE;
	server_drain_end(drain_srv);
	drain_arm(DRAIN_CLOSE_MS);
	drain_check_closed();
}

/* After a flush phase: is the wait over? */
static void
drain_check(void)
{
	uint64_t	left;

	if (drain_phase == DRAIN_CLOSE) {
		drain_check_closed();
		return;
	}
	if (drain_phase != DRAIN_WAIT)
		return;
	if (server_drain_left(drain_srv, &left))
		return;
	if (left == 0)
		log_info("drain: AMPS has every stored message (after %llu "
		    "ms)", (unsigned long long)(loop_now_ms() - drain_started));
	else
		log_warnx("drain: %llu stored message(s) wait for "
		    "connections that gave up; not waiting for them",
		    (unsigned long long)left);
	drain_close();
}

/* The flush hook while draining: the usual flush, then the check. */
static void
drain_flush(void *arg)
{
	server_flush(arg);
	drain_check();
}

/* Timer: shutdown-timeout passed (WAIT), or the closing grace (CLOSE). */
static void
drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t	left;

	if (drain_phase == DRAIN_WAIT) {
		(void)server_drain_left(drain_srv, &left);
		log_warnx("drain: shutdown-timeout (%llu ms) passed with %llu "
		    "stored message(s) not yet persisted by AMPS",
		    (unsigned long long)drain_conf->shutdown_ms,
		    (unsigned long long)left);
		drain_close();
	} else if (drain_phase == DRAIN_CLOSE) {
		log_info("drain: %u program(s) did not take their last "
		    "output in time", drain_ipc != NULL ?
		    ipc_nclients(drain_ipc) : 0);
		loop_exit(0);
	}
}

/* loop.c's term hook: OFF -> WAIT (see above). */
void
drain_start(void *arg)
{
	uint64_t	left;

	if (drain_phase != DRAIN_OFF)
		return;
	drain_phase = DRAIN_WAIT;
	drain_started = loop_now_ms();
	sdnotify("STOPPING=1");
	reload_stop();
	if (drain_ipc != NULL)
		ipc_stop_accepting(drain_ipc);
	server_drain_begin(drain_srv);
	loop_set_flush(drain_flush, drain_srv);
	(void)server_drain_left(drain_srv, &left);
	log_info("drain: no new programs or publishes; waiting up to %llu ms "
	    "for AMPS to persist %llu stored message(s)",
	    (unsigned long long)drain_conf->shutdown_ms,
	    (unsigned long long)left);
	drain_arm(drain_conf->shutdown_ms);
	/* The flush phase of this pass runs drain_check(). */
}

/* After the loop: what stays unpersisted, per connection. */
void
drain_report(void)
{
	if (drain_timer != NULL) {
		event_free(drain_timer);
		drain_timer = NULL;
	}
	server_drain_report(drain_srv);
}
