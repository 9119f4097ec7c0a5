/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * eioshim: an LD_PRELOAD library that makes I/O on chosen files fail
 * with EIO while a trigger file exists, for the storage-fault tests.
 *
 *	EIOSHIM_TRIGGER=PATH   the trigger; its first line says what fails:
 *	                       "sync" (fsync, fdatasync), "write" (write,
 *	                       pwrite, pwrite64) or "all"
 *	EIOSHIM_MATCH=TEXT     only files whose path contains TEXT
 *
 * Each failure increments a counter written to PATH.count (so the test
 * knows faults were really injected).
 *
 * Invariants:
 *  1. With no trigger file every call goes straight to libc: the check
 *     is one stat() per call, nothing else changes.
 *  2. A call fails only for a regular file whose /proc/self/fd link
 *     contains EIOSHIM_MATCH; it then does nothing and sets errno = EIO.
 */

#define _GNU_SOURCE

#include <sys/stat.h>
#include <sys/types.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum eio_kind {
	EIO_SYNC = 1,
	EIO_WRITE = 2,
};

static unsigned long	 eio_count;

/* Whether this call on fd must fail (invariant 2). */
static int
eio_should_fail(int fd, enum eio_kind kind)
{
	const char	*trig, *match;
	char		 link[64], target[4096], what[16], cpath[4200];
	struct stat	 sb;
	ssize_t		 n;
	FILE		*f;
	int		 saved = errno, hit = 0;

	if ((trig = getenv("EIOSHIM_TRIGGER")) == NULL ||
	    (match = getenv("EIOSHIM_MATCH")) == NULL ||
	    stat(trig, &sb) == -1) {
		errno = saved;
		return (0);
	}
	what[0] = '\0';
	if ((f = fopen(trig, "re")) != NULL) {
		if (fgets(what, sizeof what, f) == NULL)
			what[0] = '\0';
		fclose(f);
	}
	if (strncmp(what, "all", 3) != 0 &&
	    !(kind == EIO_SYNC && strncmp(what, "sync", 4) == 0) &&
	    !(kind == EIO_WRITE && strncmp(what, "write", 5) == 0))
		goto out;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, target, sizeof target - 1)) <= 0)
		goto out;
	target[n] = '\0';
	if (strstr(target, match) == NULL)
		goto out;
	hit = 1;
	eio_count++;
	snprintf(cpath, sizeof cpath, "%s.count", trig);
	if ((f = fopen(cpath, "we")) != NULL) {
		fprintf(f, "%lu\n", eio_count);
		fclose(f);
	}
out:
	errno = saved;
	return (hit);
}

/* The next definition of a libc function. */
static void *
eio_next(const char *name)
{
	void	*p;

	if ((p = dlsym(RTLD_NEXT, name)) == NULL)
		abort();
	return (p);
}

/* fsync(2), failing on demand. */
int
fsync(int fd)
{
	static int	(*real)(int);

	if (real == NULL)
		real = eio_next("fsync");
	if (eio_should_fail(fd, EIO_SYNC)) {
		errno = EIO;
		return (-1);
	}
	return (real(fd));
}

/* fdatasync(2), failing on demand. */
int
fdatasync(int fd)
{
	static int	(*real)(int);

	if (real == NULL)
		real = eio_next("fdatasync");
	if (eio_should_fail(fd, EIO_SYNC)) {
		errno = EIO;
		return (-1);
	}
	return (real(fd));
}

/* write(2), failing on demand. */
ssize_t
write(int fd, const void *buf, size_t len)
{
	static ssize_t	(*real)(int, const void *, size_t);

	if (real == NULL)
		real = eio_next("write");
	if (eio_should_fail(fd, EIO_WRITE)) {
		errno = EIO;
		return (-1);
	}
	return (real(fd, buf, len));
}

/* pwrite(2), failing on demand. */
ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	static ssize_t	(*real)(int, const void *, size_t, off_t);

	if (real == NULL)
		real = eio_next("pwrite");
	if (eio_should_fail(fd, EIO_WRITE)) {
		errno = EIO;
		return (-1);
	}
	return (real(fd, buf, len, off));
}

/* pwrite64(2), failing on demand. */
ssize_t
pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	static ssize_t	(*real)(int, const void *, size_t, off64_t);

	if (real == NULL)
		real = eio_next("pwrite64");
	if (eio_should_fail(fd, EIO_WRITE)) {
		errno = EIO;
		return (-1);
	}
	return (real(fd, buf, len, off));
}
