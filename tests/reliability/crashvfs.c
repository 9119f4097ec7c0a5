/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * crashvfs.c: a power-loss simulating SQLite VFS for the reliability
 * tests (see crashvfs.h for the model).
 *
 * It owns a table of the files opened through it since the last
 * crashvfs_arm(): for each one the bytes known to be on stable storage
 * (the "synced image") and the list of writes and truncates issued since
 * the file's last successful xSync.  Everything else (reads, locks, the
 * shared-memory wal-index) is passed to the unix VFS untouched.
 *
 * Invariants:
 *
 *  1. The real file always holds the synced image with every unsynced
 *     operation applied in order, so reads through SQLite see exactly
 *     what SQLite wrote.
 *  2. A successful xSync of a file folds its unsynced operations into its
 *     synced image, in order, and empties the list.  No real fsync is
 *     done: durability is what this module says it is.
 *  3. From the crash point on, every write, truncate, sync and delete
 *     fails with an I/O error and changes nothing, so the files hold what
 *     was issued before the crash.
 *  4. crashvfs_materialize() builds each file from its synced image plus
 *     a subset of its unsynced operations chosen by the mode (sector by
 *     sector for CV_TEAR, from the armed seed), and replaces the real
 *     file with it.  The size change of an extending write is one
 *     all-or-nothing metadata update (as on a journalling file system):
 *     a torn extension has its full new size with some sectors still
 *     zero, or its old size.  A deleted file stays deleted (directory operations
 *     are taken as durable, a limit of the model).
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "crashvfs.h"

#define CV_SECTOR	512

enum cv_opkind {
	CV_OP_WRITE,
	CV_OP_TRUNCATE,
};

/* One unsynced operation on a file. */
struct cv_op {
	enum cv_opkind	 kind;
	int64_t		 off;		/* write offset, or truncate size */
	unsigned char	*data;		/* write only */
	size_t		 len;
};

/* What crashvfs knows about one file path. */
struct cv_rec {
	char		*path;
	int		 exists;
	unsigned char	*img;		/* synced image */
	size_t		 size;
	size_t		 cap;
	struct cv_op	*ops;		/* unsynced, in order */
	size_t		 nops;
	size_t		 capops;
};

/* An open file: our methods, then the unix VFS's own file object. */
struct cv_file {
	sqlite3_file	 base;
	struct cv_rec	*rec;		/* NULL: untracked (temp file) */
	sqlite3_file	*real;
};

static struct {
	sqlite3_vfs	 vfs;
	sqlite3_vfs	*base_vfs;
	int		 registered;
	struct cv_rec	**recs;
	size_t		 nrecs;
	uint64_t	 at;
	enum cv_count	 count;
	enum cv_mode	 mode;
	uint64_t	 rng;
	uint64_t	 ops;
	uint64_t	 syncs;
	int		 crashed;
} cv;

/* xorshift64*: the seeded generator for CV_TEAR. */
static uint64_t
cv_rand(void)
{
	uint64_t	x = cv.rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	cv.rng = x;
	return (x * 0x2545f4914f6cdd1dULL);
}

/* Grow an image to hold at least n bytes (new bytes are zero). */
static int
cv_img_reserve(unsigned char **img, size_t *cap, size_t n)
{
	unsigned char	*p;
	size_t		 ncap;

	if (n <= *cap)
		return (0);
	ncap = *cap ? *cap : 4096;
	while (ncap < n)
		ncap *= 2;
	if ((p = realloc(*img, ncap)) == NULL)
		return (-1);
	memset(p + *cap, 0, ncap - *cap);
	*img = p;
	*cap = ncap;
	return (0);
}

/* Apply len bytes at off to an image (extending it with zeros). */
static int
cv_img_write(unsigned char **img, size_t *size, size_t *cap, int64_t off,
    const unsigned char *data, size_t len)
{
	size_t	 end = (size_t)off + len;

	if (cv_img_reserve(img, cap, end) == -1)
		return (-1);
	if (len > 0)
		memcpy(*img + off, data, len);
	if (end > *size)
		*size = end;
	return (0);
}

/* Cut or extend an image to size bytes. */
static int
cv_img_truncate(unsigned char **img, size_t *size, size_t *cap, int64_t to)
{
	if (cv_img_reserve(img, cap, (size_t)to) == -1)
		return (-1);
	if ((size_t)to < *size)
		memset(*img + to, 0, *size - (size_t)to);
	*size = (size_t)to;
	return (0);
}

/* Free the unsynced operations of a record. */
static void
cv_rec_clear_ops(struct cv_rec *r)
{
	size_t	 i;

	for (i = 0; i < r->nops; i++)
		free(r->ops[i].data);
	r->nops = 0;
}

/* Free a record. */
static void
cv_rec_free(struct cv_rec *r)
{
	cv_rec_clear_ops(r);
	free(r->ops);
	free(r->img);
	free(r->path);
	free(r);
}

/* Load the current contents of path as a synced image (or none). */
static int
cv_rec_load(struct cv_rec *r)
{
	unsigned char	 buf[65536];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(r->path, O_RDONLY | O_CLOEXEC)) == -1)
		return (errno == ENOENT ? 0 : -1);
	r->exists = 1;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (cv_img_write(&r->img, &r->size, &r->cap, (int64_t)r->size,
		    buf, (size_t)n) == -1) {
			close(fd);
			return (-1);
		}
	}
	close(fd);
	return (n == -1 ? -1 : 0);
}

/* Find or create the record of a path. */
static struct cv_rec *
cv_rec_get(const char *path)
{
	struct cv_rec	**nv, *r;
	size_t		 i;

	for (i = 0; i < cv.nrecs; i++)
		if (strcmp(cv.recs[i]->path, path) == 0)
			return (cv.recs[i]);
	if ((r = calloc(1, sizeof *r)) == NULL ||
	    (r->path = strdup(path)) == NULL || cv_rec_load(r) == -1) {
		if (r != NULL)
			cv_rec_free(r);
		return (NULL);
	}
	if ((nv = reallocarray(cv.recs, cv.nrecs + 1, sizeof *nv)) == NULL) {
		cv_rec_free(r);
		return (NULL);
	}
	cv.recs = nv;
	cv.recs[cv.nrecs++] = r;
	return (r);
}

/* Remember one unsynced operation. */
static int
cv_rec_add(struct cv_rec *r, enum cv_opkind kind, int64_t off,
    const void *data, size_t len)
{
	struct cv_op	*nv, *op;
	size_t		 ncap;

	if (r->nops == r->capops) {
		ncap = r->capops ? r->capops * 2 : 64;
		if ((nv = reallocarray(r->ops, ncap, sizeof *nv)) == NULL)
			return (-1);
		r->ops = nv;
		r->capops = ncap;
	}
	op = &r->ops[r->nops];
	op->kind = kind;
	op->off = off;
	op->len = len;
	op->data = NULL;
	if (len > 0) {
		if ((op->data = malloc(len)) == NULL)
			return (-1);
		memcpy(op->data, data, len);
	}
	r->nops++;
	return (0);
}

/*
 * Count one operation; returns 1 if it is the crash point (the crash
 * begins with it).
 */
static int
cv_tick(int is_sync)
{
	if (cv.count == CV_COUNT_SYNC && !is_sync)
		return (0);
	cv.ops++;
	if (cv.at != 0 && cv.ops == cv.at) {
		cv.crashed = 1;
		return (1);
	}
	return (0);
}

/* xClose: close the real file; the record stays for materialize. */
static int
cv_close(sqlite3_file *f)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xClose(cf->real));
}

/* xRead: straight from the real file (invariant 1). */
static int
cv_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xRead(cf->real, buf, amt, off));
}

/* xWrite: to the real file, and remembered as unsynced. */
static int
cv_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct cv_file	*cf = (struct cv_file *)f;
	int		 rc, crash;

	if (cf->rec == NULL)
		return (cf->real->pMethods->xWrite(cf->real, buf, amt, off));
	if (cv.crashed)
		return (SQLITE_IOERR_WRITE);
	crash = cv_tick(0);
	rc = cf->real->pMethods->xWrite(cf->real, buf, amt, off);
	if (rc == SQLITE_OK && cv_rec_add(cf->rec, CV_OP_WRITE, off, buf,
	    (size_t)amt) == -1)
		rc = SQLITE_NOMEM;
	return (crash ? SQLITE_IOERR_WRITE : rc);
}

/* xTruncate: like xWrite. */
static int
cv_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct cv_file	*cf = (struct cv_file *)f;
	int		 rc, crash;

	if (cf->rec == NULL)
		return (cf->real->pMethods->xTruncate(cf->real, size));
	if (cv.crashed)
		return (SQLITE_IOERR_TRUNCATE);
	crash = cv_tick(0);
	rc = cf->real->pMethods->xTruncate(cf->real, size);
	if (rc == SQLITE_OK && cv_rec_add(cf->rec, CV_OP_TRUNCATE, size,
	    NULL, 0) == -1)
		rc = SQLITE_NOMEM;
	return (crash ? SQLITE_IOERR_TRUNCATE : rc);
}

/* xSync: fold the unsynced operations into the image (invariant 2). */
static int
cv_sync(sqlite3_file *f, int flags)
{
	struct cv_file	*cf = (struct cv_file *)f;
	struct cv_rec	*r = cf->rec;
	struct cv_op	*op;
	size_t		 i;
	int		 rc = 0;

	if (r == NULL)
		return (cf->real->pMethods->xSync(cf->real, flags));
	if (cv.crashed || cv_tick(1))
		return (SQLITE_IOERR_FSYNC);
	for (i = 0; i < r->nops && rc == 0; i++) {
		op = &r->ops[i];
		if (op->kind == CV_OP_WRITE)
			rc = cv_img_write(&r->img, &r->size, &r->cap, op->off,
			    op->data, op->len);
		else
			rc = cv_img_truncate(&r->img, &r->size, &r->cap,
			    op->off);
	}
	cv_rec_clear_ops(r);
	r->exists = 1;
	cv.syncs++;
	return (rc == 0 ? SQLITE_OK : SQLITE_NOMEM);
}

/* Pass-through methods. */
static int
cv_filesize(sqlite3_file *f, sqlite3_int64 *size)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xFileSize(cf->real, size));
}

/* Pass-through: xLock. */
static int
cv_lock(sqlite3_file *f, int lk)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xLock(cf->real, lk));
}

/* Pass-through: xUnlock. */
static int
cv_unlock(sqlite3_file *f, int lk)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xUnlock(cf->real, lk));
}

/* Pass-through: xCheckReservedLock. */
static int
cv_check_reserved(sqlite3_file *f, int *out)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xCheckReservedLock(cf->real, out));
}

/* Pass-through: xFileControl. */
static int
cv_file_control(sqlite3_file *f, int op, void *arg)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xFileControl(cf->real, op, arg));
}

/* Pass-through: xSectorSize. */
static int
cv_sector_size(sqlite3_file *f)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xSectorSize(cf->real));
}

/* Pass-through: xDeviceCharacteristics. */
static int
cv_device_chars(sqlite3_file *f)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xDeviceCharacteristics(cf->real));
}

/* Pass-through: xShmMap (the wal-index is not durable state). */
static int
cv_shm_map(sqlite3_file *f, int pg, int pgsz, int extend,
    void volatile **pp)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xShmMap(cf->real, pg, pgsz, extend, pp));
}

/* Pass-through: xShmLock. */
static int
cv_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xShmLock(cf->real, off, n, flags));
}

/* Pass-through: xShmBarrier. */
static void
cv_shm_barrier(sqlite3_file *f)
{
	struct cv_file	*cf = (struct cv_file *)f;

	cf->real->pMethods->xShmBarrier(cf->real);
}

/* Pass-through: xShmUnmap. */
static int
cv_shm_unmap(sqlite3_file *f, int del)
{
	struct cv_file	*cf = (struct cv_file *)f;

	return (cf->real->pMethods->xShmUnmap(cf->real, del));
}

static const sqlite3_io_methods cv_io = {
	2,			/* no xFetch/xUnfetch: no mmap */
	cv_close,
	cv_read,
	cv_write,
	cv_truncate,
	cv_sync,
	cv_filesize,
	cv_lock,
	cv_unlock,
	cv_check_reserved,
	cv_file_control,
	cv_sector_size,
	cv_device_chars,
	cv_shm_map,
	cv_shm_lock,
	cv_shm_barrier,
	cv_shm_unmap,
	NULL,
	NULL,
};

/* xOpen: open through unix and track named, persistent files. */
static int
cv_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
    int *outflags)
{
	struct cv_file	*cf = (struct cv_file *)f;
	struct cv_rec	*r = NULL;
	int		 rc;

	(void)vfs;
	cf->base.pMethods = NULL;
	cf->real = (sqlite3_file *)(cf + 1);
	cf->rec = NULL;
	if (name != NULL && (flags & SQLITE_OPEN_DELETEONCLOSE) == 0) {
		if ((r = cv_rec_get(name)) == NULL)
			return (SQLITE_NOMEM);
		if (cv.crashed && !r->exists)
			return (SQLITE_CANTOPEN);
	}
	rc = cv.base_vfs->xOpen(cv.base_vfs, name, cf->real, flags, outflags);
	if (rc != SQLITE_OK)
		return (rc);
	if (r != NULL && !r->exists) {
		/* Created now: an empty file, durable as an entry. */
		r->exists = 1;
		r->size = 0;
		cv_rec_clear_ops(r);
	}
	cf->rec = r;
	cf->base.pMethods = &cv_io;
	return (SQLITE_OK);
}

/* xDelete: refused after the crash; else the file is gone for good. */
static int
cv_delete(sqlite3_vfs *vfs, const char *name, int syncdir)
{
	struct cv_rec	*r;
	int		 rc;

	(void)vfs;
	if (cv.crashed)
		return (SQLITE_IOERR_DELETE);
	rc = cv.base_vfs->xDelete(cv.base_vfs, name, syncdir);
	if (rc == SQLITE_OK && (r = cv_rec_get(name)) != NULL) {
		r->exists = 0;
		r->size = 0;
		cv_rec_clear_ops(r);
	}
	return (rc);
}

/* Pass-through: xAccess. */
static int
cv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return (cv.base_vfs->xAccess(cv.base_vfs, name, flags, out));
}

/* Pass-through: xFullPathname. */
static int
cv_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return (cv.base_vfs->xFullPathname(cv.base_vfs, name, n, out));
}

/* Pass-through: xRandomness. */
static int
cv_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return (cv.base_vfs->xRandomness(cv.base_vfs, n, out));
}

/* Pass-through: xSleep. */
static int
cv_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return (cv.base_vfs->xSleep(cv.base_vfs, us));
}

/* Pass-through: xCurrentTime. */
static int
cv_current_time(sqlite3_vfs *vfs, double *t)
{
	(void)vfs;
	return (cv.base_vfs->xCurrentTime(cv.base_vfs, t));
}

/* Pass-through: xGetLastError. */
static int
cv_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return (cv.base_vfs->xGetLastError(cv.base_vfs, n, out));
}

/* Pass-through: xCurrentTimeInt64. */
static int
cv_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *t)
{
	(void)vfs;
	return (cv.base_vfs->xCurrentTimeInt64(cv.base_vfs, t));
}

/* Register "crashvfs" over the unix VFS; choose the default. */
int
crashvfs_register(int makedefault)
{
	int	 rc;

	if (!cv.registered) {
		if ((cv.base_vfs = sqlite3_vfs_find("unix")) == NULL)
			return (SQLITE_ERROR);
		cv.vfs.iVersion = 2;
		cv.vfs.szOsFile = (int)sizeof(struct cv_file) +
		    cv.base_vfs->szOsFile;
		cv.vfs.mxPathname = cv.base_vfs->mxPathname;
		cv.vfs.zName = "crashvfs";
		cv.vfs.xOpen = cv_open;
		cv.vfs.xDelete = cv_delete;
		cv.vfs.xAccess = cv_access;
		cv.vfs.xFullPathname = cv_fullpath;
		cv.vfs.xRandomness = cv_randomness;
		cv.vfs.xSleep = cv_sleep;
		cv.vfs.xCurrentTime = cv_current_time;
		cv.vfs.xGetLastError = cv_last_error;
		cv.vfs.xCurrentTimeInt64 = cv_current_time64;
		if ((rc = sqlite3_vfs_register(&cv.vfs, 0)) != SQLITE_OK)
			return (rc);
		cv.registered = 1;
	}
	/* Re-registering with makeDflt=0 would not demote the head. */
	return (sqlite3_vfs_register(makedefault ? &cv.vfs : cv.base_vfs, 1));
}

/* Forget all files and arm the next crash. */
void
crashvfs_arm(uint64_t at, enum cv_count count, enum cv_mode mode,
    uint64_t seed)
{
	size_t	 i;

	for (i = 0; i < cv.nrecs; i++)
		cv_rec_free(cv.recs[i]);
	free(cv.recs);
	cv.recs = NULL;
	cv.nrecs = 0;
	cv.at = at;
	cv.count = count;
	cv.mode = mode;
	cv.rng = seed != 0 ? seed : 0x9e3779b97f4a7c15ULL;
	cv.ops = 0;
	cv.syncs = 0;
	cv.crashed = 0;
}

/* Whether the crash point was reached. */
int
crashvfs_crashed(void)
{
	return (cv.crashed);
}

/* Counted operations so far. */
uint64_t
crashvfs_ops(void)
{
	return (cv.ops);
}

/* Whether CV_TEAR keeps the next sector (or truncate). */
static int
cv_keep(void)
{
	switch (cv.mode) {
	case CV_KEEP:
		return (1);
	case CV_TEAR:
		return ((cv_rand() >> 33) & 1);
	case CV_DROP:
	default:
		return (0);
	}
}

/* Build the after-crash image of one record (invariant 4). */
static int
cv_rec_image(struct cv_rec *r, unsigned char **img, size_t *size,
    struct cv_stats *st)
{
	struct cv_op	*op;
	size_t		 cap = 0, i, pos, n, end, limit;

	*img = NULL;
	*size = 0;
	if (cv_img_write(img, size, &cap, 0, r->img, r->size) == -1)
		return (-1);
	for (i = 0; i < r->nops; i++) {
		op = &r->ops[i];
		st->unsynced++;
		if (op->kind == CV_OP_TRUNCATE) {
			if (cv_keep()) {
				st->sectors_kept++;
				if (cv_img_truncate(img, size, &cap,
				    op->off) == -1)
					return (-1);
			} else
				st->sectors_lost++;
			continue;
		}
		/*
		 * The file size is metadata: an extending write either
		 * moved it to the write's end or not at all.  Sectors past
		 * the size it ended with are invisible.
		 */
		end = (size_t)op->off + op->len;
		limit = end;
		if (end > *size) {
			if (cv_keep()) {
				if (cv_img_truncate(img, size, &cap,
				    (int64_t)end) == -1)
					return (-1);
			} else
				limit = *size;
		}
		for (pos = 0; pos < op->len; pos += n) {
			n = CV_SECTOR - (size_t)((op->off + pos) % CV_SECTOR);
			if (n > op->len - pos)
				n = op->len - pos;
			if ((size_t)op->off + pos >= limit || !cv_keep()) {
				st->sectors_lost++;
				continue;
			}
			st->sectors_kept++;
			if (cv_img_write(img, size, &cap,
			    op->off + (int64_t)pos, op->data + pos, n) == -1)
				return (-1);
		}
	}
	return (0);
}

/* Replace the real file of a record with its after-crash image. */
static int
cv_rec_materialize(struct cv_rec *r, struct cv_stats *st)
{
	unsigned char	*img;
	size_t		 size, off;
	ssize_t		 n;
	int		 fd;

	if (!r->exists) {
		if (unlink(r->path) == -1 && errno != ENOENT)
			return (-1);
		return (0);
	}
	if (cv_rec_image(r, &img, &size, st) == -1) {
		free(img);
		errno = ENOMEM;
		return (-1);
	}
	fd = open(r->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		free(img);
		return (-1);
	}
	for (off = 0; off < size; off += (size_t)n) {
		if ((n = write(fd, img + off, size - off)) <= 0) {
			free(img);
			close(fd);
			return (-1);
		}
	}
	free(img);
	st->files++;
	return (close(fd));
}

/* Rewrite every tracked file as the power loss left it. */
int
crashvfs_materialize(struct cv_stats *stp)
{
	struct cv_stats	 st;
	size_t		 i;

	memset(&st, 0, sizeof st);
	st.ops = cv.ops;
	st.syncs = cv.syncs;
	for (i = 0; i < cv.nrecs; i++) {
		if (cv_rec_materialize(cv.recs[i], &st) == -1)
			return (-1);
	}
	if (stp != NULL)
		*stp = st;
	return (0);
}

/* Run run(arg) once without a crash; the operations of `count` kind. */
uint64_t
crashvfs_count(enum cv_count count, uint64_t seed, void (*run)(void *),
    void *arg)
{
	crashvfs_arm(0, count, CV_KEEP, seed);
	run(arg);
	return (crashvfs_ops());
}

/* One power-loss cycle (see crashvfs.h). */
int
crashvfs_cycle(enum cv_mode mode, uint64_t seed, uint64_t at_sync,
    void (*run)(void *), void *arg, struct cv_stats *st)
{
	uint64_t	ops;

	if (at_sync == 0) {
		if ((ops = crashvfs_count(CV_COUNT_ALL, seed, run, arg)) == 0)
			return (-1);
		crashvfs_arm(1 + (seed * 0x9e3779b97f4a7c15ULL >> 17) % ops,
		    CV_COUNT_ALL, mode, seed);
	} else
		crashvfs_arm(at_sync, CV_COUNT_SYNC, mode, seed);
	run(arg);
	return (crashvfs_materialize(st));
}
