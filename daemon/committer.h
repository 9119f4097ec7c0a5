/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * committer.h: the commit thread (committer.c, DESIGN.md §5 rules 1 and
 * 2).  The event loop hands it a job, whose run() executes on the commit
 * thread (a publish store's group commit: the SQLite transaction and its
 * fdatasync) while the loop goes on reading and preparing the next group;
 * the job's done() then runs on the loop's thread, from committer_reap(),
 * which the loop calls when committer_fd() is readable.
 *
 * Hand-off: between committer_submit() and the call of its done(), a job
 * and everything its run() touches belong to the commit thread; the loop
 * must not read or write them.  done() calls come in submission order.
 */

#ifndef AMPSD_COMMITTER_H
#define AMPSD_COMMITTER_H

struct committer;

struct committer_job {
	void			(*run)(void *);		/* commit thread */
	void			(*done)(void *);	/* loop thread */
	void			*arg;
	/* The committer's, while submitted. */
	struct committer_job	*next;
	int			 finished;
};

/*
 * Start the thread.  Returns NULL with *cause set (caller frees) when
 * the thread or its wake-up pipe cannot be created.
 */
struct committer *committer_create(char **cause);
/* Wait for every job (calling their done()), stop the thread, free. */
void		 committer_free(struct committer *);
/* Queue a job (not already queued); run() starts when the thread is free. */
void		 committer_submit(struct committer *, struct committer_job *);
/* A descriptor that becomes readable when a job has finished. */
int		 committer_fd(const struct committer *);
/* Call done() of every finished job, in order.  Loop thread only. */
void		 committer_reap(struct committer *);
/* Block until job has finished, then reap (job's done() included). */
void		 committer_wait(struct committer *, struct committer_job *);
/* Jobs submitted and not yet reaped. */
int		 committer_busy(const struct committer *);

#endif /* AMPSD_COMMITTER_H */
