/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * threadhold: stop one thread of a running process, and only that one,
 * until told to let it go, for the tests that must force an ordering
 * between a process's threads (ampsd's commit thread against its event
 * loop).
 *
 *	threadhold PID NAME
 *
 * It finds the thread of PID whose name (/proc/PID/task/TID/comm) is
 * NAME, attaches to that thread alone with ptrace (PTRACE_SEIZE, then
 * PTRACE_INTERRUPT: the other threads run on), prints "held TID" once
 * it is stopped, then waits for a line or end of file on standard input
 * and detaches, which lets the thread go on where it was, and prints
 * "released".  If threadhold dies first the kernel detaches as well.
 * Every wait is bounded (30 s to stop the thread, 600 s held at most).
 *
 * Exit status: 0 held and released, 1 no such thread or a failure, 2
 * ptrace not permitted here (EPERM: no CAP_SYS_PTRACE under a strict
 * ptrace_scope, or a sandbox; the reason on standard error).
 */

#include "config.h"

#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The tid of pid's thread named name, or -1. */
static pid_t
find_thread(pid_t pid, const char *name)
{
	char		 path[320], comm[64];
	struct dirent	*de;
	DIR		*d;
	FILE		*f;
	pid_t		 tid = -1;
	size_t		 len;

	snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
	if ((d = opendir(path)) == NULL)
		return (-1);
	while (tid == -1 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%ld/task/%s/comm",
		    (long)pid, de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof comm, f) != NULL) {
			len = strcspn(comm, "\n");
			comm[len] = '\0';
			if (strcmp(comm, name) == 0)
				tid = (pid_t)strtol(de->d_name, NULL, 10);
		}
		fclose(f);
	}
	closedir(d);
	return (tid);
}

/* Bounded waits: give up loudly. */
static void
on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "threadhold: timed out\n");
	_exit(1);
}

int
main(int argc, char **argv)
{
	char	line[64];
	pid_t	pid, tid;
	int	st;

	if (argc != 3) {
		fprintf(stderr, "usage: threadhold PID NAME\n");
		return (1);
	}
	signal(SIGALRM, on_alarm);
	pid = (pid_t)strtol(argv[1], NULL, 10);
	if ((tid = find_thread(pid, argv[2])) == -1) {
		fprintf(stderr, "threadhold: process %s has no thread %s\n",
		    argv[1], argv[2]);
		return (1);
	}
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) == -1 ||
	    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) == -1) {
		fprintf(stderr, "threadhold: ptrace %ld: %s\n", (long)tid,
		    strerror(errno));
		return (errno == EPERM || errno == EACCES ? 2 : 1);
	}
	alarm(30);
	for (;;) {
		if (waitpid(tid, &st, __WALL) == -1) {
			fprintf(stderr, "threadhold: waitpid %ld: %s\n",
			    (long)tid, strerror(errno));
			return (1);
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			fprintf(stderr, "threadhold: thread %ld ended\n",
			    (long)tid);
			return (1);
		}
		if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP)
			break;
		/* A signal stop on the way: let the signal through. */
		if (WIFSTOPPED(st) && ptrace(PTRACE_CONT, tid, NULL,
		    (void *)(long)WSTOPSIG(st)) == -1) {
			fprintf(stderr, "threadhold: ptrace cont: %s\n",
			    strerror(errno));
			return (1);
		}
	}
	alarm(600);
	printf("held %ld\n", (long)tid);
	fflush(stdout);
	if (fgets(line, sizeof line, stdin) == NULL)
		line[0] = '\0';	/* end of file: let it go too */
	if (ptrace(PTRACE_DETACH, tid, NULL, NULL) == -1) {
		fprintf(stderr, "threadhold: ptrace detach: %s\n",
		    strerror(errno));
		return (1);
	}
	printf("released\n");
	return (0);
}
