/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Unit tests for daemon/committer.c: jobs run one at a time in the order
 * submitted, on another thread; done() runs only from committer_reap()
 * (or committer_wait()), in the same order; committer_free() waits for
 * every job and calls its done().
 */

#include "config.h"

#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "committer.h"
#include "testutil.h"

#define NJOBS	50

struct rec {
	pthread_t	 loop;		/* the test's thread */
	int		 ran[NJOBS];	/* order of run() */
	int		 nran;		/* written by the thread only */
	int		 done[NJOBS];	/* order of done() */
	int		 ndone;
	int		 running;	/* jobs inside run() at once */
	int		 overlap;
};

struct job {
	struct committer_job	 j;
	struct rec		*r;
	int			 id;
};

static void
run_cb(void *arg)
{
	struct job	*jb = arg;
	struct rec	*r = jb->r;

	if (pthread_equal(pthread_self(), r->loop))
		r->overlap = 100;	/* ran on the loop's thread */
	if (__atomic_add_fetch(&r->running, 1, __ATOMIC_SEQ_CST) > 1)
		r->overlap++;
	usleep(200);
	r->ran[r->nran++] = jb->id;
	__atomic_sub_fetch(&r->running, 1, __ATOMIC_SEQ_CST);
}

static void
done_cb(void *arg)
{
	struct job	*jb = arg;
	struct rec	*r = jb->r;

	ck_assert(pthread_equal(pthread_self(), r->loop));
	r->done[r->ndone++] = jb->id;
}

START_TEST(test_order)
{
	static struct job	 jobs[NJOBS];
	struct rec		 r;
	struct committer	*cm;
	struct pollfd		 pfd;
	char			*cause = NULL;
	int			 i;

	memset(&r, 0, sizeof r);
	r.loop = pthread_self();
	cm = committer_create(&cause);
	ck_assert_msg(cm != NULL, "%s", cause ? cause : "?");
	for (i = 0; i < NJOBS; i++) {
		jobs[i].j.run = run_cb;
		jobs[i].j.done = done_cb;
		jobs[i].j.arg = &jobs[i];
		jobs[i].r = &r;
		jobs[i].id = i;
		committer_submit(cm, &jobs[i].j);
	}
	ck_assert_int_eq(committer_busy(cm), NJOBS);
	ck_assert_int_eq(r.ndone, 0);		/* only reaping calls done */
	committer_wait(cm, &jobs[9].j);
	ck_assert_int_ge(r.ndone, 10);
	while (r.ndone < NJOBS) {
		pfd.fd = committer_fd(cm);
		pfd.events = POLLIN;
		ck_assert_int_eq(poll(&pfd, 1, 20000), 1);
		committer_reap(cm);
	}
	ck_assert_int_eq(committer_busy(cm), 0);
	for (i = 0; i < NJOBS; i++) {
		ck_assert_int_eq(r.ran[i], i);
		ck_assert_int_eq(r.done[i], i);
	}
	ck_assert_int_eq(r.overlap, 0);
	/* free() waits for what is still queued. */
	memset(&r, 0, sizeof r);
	r.loop = pthread_self();
	for (i = 0; i < 5; i++)
		committer_submit(cm, &jobs[i].j);
	committer_free(cm);
	ck_assert_int_eq(r.ndone, 5);
	ck_assert_int_eq(r.done[4], 4);
}
END_TEST

static Suite *
committer_suite(void)
{
	Suite	*s = suite_create("committer");
	TCase	*tc = tcase_create("jobs");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_order);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (check_main(committer_suite()));
}
