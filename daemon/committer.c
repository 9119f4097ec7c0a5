/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * committer.c: the daemon's one thread besides the event loop's
 * (DESIGN.md §5 rule 1).  It owns a FIFO of jobs, the thread that runs
 * them, and a pipe that wakes the loop when one has finished.  It does
 * nothing but call run(); what a job does is its owner's business (the
 * publish store's group commit, pubstore-sqlite.c).  It never prints.
 * The thread is named "ampsd-commit" (ps -L, top -H; the tests stop it
 * alone with tests/tools/threadhold).
 *
 * Hand-off protocol: the loop appends a job under the mutex and signals
 * the condition; the thread takes the oldest unfinished job, runs it
 * without the mutex, marks it finished under the mutex and writes one
 * byte to the pipe.  The loop, woken by the pipe (or waiting on the
 * condition in committer_wait()), takes finished jobs from the head
 * under the mutex and calls their done() without it.  The mutex orders
 * every access, so the thread sees what the loop wrote before submit()
 * and the loop sees what run() wrote before done().
 *
 * Invariants:
 *  1. Jobs run one at a time, in submission order; done() is called in
 *     the same order, on the loop's thread only, once per job.
 *  2. A job is in the list from submit() until reaped; only the head
 *     region [head, cur) is finished, cur being the job running or next
 *     to run.
 *  3. The thread touches nothing but the list, the pipe and what run()
 *     touches; the loop does not touch a job's data between submit()
 *     and done() (the job owner's rule, see committer.h).
 *  4. committer_free() leaves no job behind: it waits for all of them,
 *     calls their done(), then stops and joins the thread.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "committer.h"

struct committer {
	pthread_t		 thread;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 work;		/* thread: a job or stop */
	pthread_cond_t		 fin;		/* waiter: a job finished */
	struct committer_job	*head;		/* oldest not reaped */
	struct committer_job	*tail;
	struct committer_job	*cur;		/* next to run, or NULL */
	int			 stop;
	int			 pipe[2];
	int			 njobs;
};

/* The thread: run jobs in order until told to stop (invariant 1). */
static void *
committer_main(void *arg)
{
	struct committer	*cm = arg;
	struct committer_job	*j;
	char			 b = 'j';

	(void)pthread_setname_np(pthread_self(), "ampsd-commit");
	pthread_mutex_lock(&cm->mtx);
	for (;;) {
		while (cm->cur == NULL && !cm->stop)
			pthread_cond_wait(&cm->work, &cm->mtx);
		if (cm->cur == NULL)
			break;
		j = cm->cur;
		pthread_mutex_unlock(&cm->mtx);
		j->run(j->arg);
		pthread_mutex_lock(&cm->mtx);
		j->finished = 1;
		cm->cur = j->next;
		pthread_cond_broadcast(&cm->fin);
		while (write(cm->pipe[1], &b, 1) == -1 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&cm->mtx);
	return (NULL);
}

/* Release what committer_create() made, once no thread runs. */
static void
committer_destroy(struct committer *cm)
{
	close(cm->pipe[0]);
	close(cm->pipe[1]);
	pthread_mutex_destroy(&cm->mtx);
	pthread_cond_destroy(&cm->work);
	pthread_cond_destroy(&cm->fin);
	free(cm);
}

/* Start the thread and its wake-up pipe. */
struct committer *
committer_create(char **cause)
{
	struct committer	*cm;
	int			 i, rc;

	if ((cm = calloc(1, sizeof *cm)) == NULL) {
		*cause = strdup("committer: out of memory");
		return (NULL);
	}
	if (pipe(cm->pipe) == -1) {
		if (asprintf(cause, "committer: pipe: %s", strerror(errno)) ==
		    -1)
			*cause = NULL;
		free(cm);
		return (NULL);
	}
	for (i = 0; i < 2; i++) {
		fcntl(cm->pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(cm->pipe[i], F_SETFL, O_NONBLOCK);
	}
	pthread_mutex_init(&cm->mtx, NULL);
	pthread_cond_init(&cm->work, NULL);
	pthread_cond_init(&cm->fin, NULL);
	if ((rc = pthread_create(&cm->thread, NULL, committer_main, cm)) !=
	    0) {
		if (asprintf(cause, "committer: thread: %s", strerror(rc)) ==
		    -1)
			*cause = NULL;
		committer_destroy(cm);
		return (NULL);
	}
	return (cm);
}

/* Wait for every job, stop the thread, free (invariant 4). */
void
committer_free(struct committer *cm)
{
	if (cm == NULL)
		return;
	while (cm->tail != NULL)
		committer_wait(cm, cm->tail);
	pthread_mutex_lock(&cm->mtx);
	cm->stop = 1;
	pthread_cond_signal(&cm->work);
	pthread_mutex_unlock(&cm->mtx);
	pthread_join(cm->thread, NULL);
	committer_destroy(cm);
}

/* Queue a job at the tail. */
void
committer_submit(struct committer *cm, struct committer_job *j)
{
	j->next = NULL;
	j->finished = 0;
	pthread_mutex_lock(&cm->mtx);
	if (cm->tail != NULL)
		cm->tail->next = j;
	else
		cm->head = j;
	cm->tail = j;
	if (cm->cur == NULL)
		cm->cur = j;
	cm->njobs++;
	pthread_cond_signal(&cm->work);
	pthread_mutex_unlock(&cm->mtx);
}

/* The read end of the wake-up pipe. */
int
committer_fd(const struct committer *cm)
{
	return (cm->pipe[0]);
}

/* Call done() of the finished jobs at the head, in order (invariant 1). */
void
committer_reap(struct committer *cm)
{
	struct committer_job	*j;
	char			 buf[64];

	while (read(cm->pipe[0], buf, sizeof buf) > 0)
		;
	for (;;) {
		pthread_mutex_lock(&cm->mtx);
		if ((j = cm->head) == NULL || !j->finished) {
			pthread_mutex_unlock(&cm->mtx);
			return;
		}
		cm->head = j->next;
		if (cm->head == NULL)
			cm->tail = NULL;
		cm->njobs--;
		pthread_mutex_unlock(&cm->mtx);
		j->done(j->arg);
	}
}

/* Block until j has finished, then reap everything finished. */
void
committer_wait(struct committer *cm, struct committer_job *j)
{
	pthread_mutex_lock(&cm->mtx);
	while (!j->finished)
		pthread_cond_wait(&cm->fin, &cm->mtx);
	pthread_mutex_unlock(&cm->mtx);
	committer_reap(cm);
}

/* Jobs submitted and not yet reaped. */
int
committer_busy(const struct committer *cm)
{
	return (cm->njobs);
}
