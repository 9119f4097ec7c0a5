/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * store-file.c: what store.c checks about a store's file before SQLite
 * may touch it.  No SQLite here: only open/pread/stat/readdir, so a
 * refused file is provably never written.
 *
 * Invariants:
 *
 *  1. Nothing in this file writes to the file system.
 *  2. An existing non-empty file passes only if it is a regular file with
 *     the SQLite header, a sane page size, a size that is a multiple of
 *     the page size, and not fewer pages than its (valid) header claims;
 *     the two size checks are skipped while a non-empty "<path>-wal"
 *     exists, because SQLite's recovery (checked by quick_check after
 *     the open) repairs a checkpoint torn by a power loss.
 *  3. Creation (a missing or zero-length file) is allowed only with
 *     STORE_CREATE, or with STORE_CREATE_FRESH_DIR when the directory
 *     holds no *.db file; and never when "<path>-wal", "<path>-journal"
 *     or "<path>-commits" exists, which would mean a store was lost (the
 *     commit counter file, store.c invariant 7, is the marker that a
 *     store existed: it outlives a clean shutdown, which removes the
 *     -wal).  A truncated store from before the counter file existed
 *     cannot be told from a new one.
 *  4. The commit counter file is 16 bytes: "AMPC", the count (8 bytes,
 *     big-endian), a CRC-32C of those 12 bytes (big-endian).  Any other
 *     content is damage.
 */

#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "store-file.h"
#include "store.h"

static const char sqlite_magic[16] = "SQLite format 3";	/* + NUL */

#define STORE_CC_MAGIC	"AMPC"

/* Format an allocated message into *cause (if cause is not NULL). */
static void __attribute__((__format__(printf, 2, 3)))
sf_cause(char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*m;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) == -1)
		m = NULL;
	va_end(ap);
	*cause = m;
}

/* Encode the -commits file's 16 bytes for count n. */
void
store_cc_encode(unsigned char *b, uint64_t n)
{
	uint32_t	 crc;
	int		 i;

	memcpy(b, STORE_CC_MAGIC, 4);
	for (i = 11; i >= 4; i--) {
		b[i] = (unsigned char)(n & 0xff);
		n >>= 8;
	}
	crc = crc32c_update(0, b, 12);
	b[12] = (unsigned char)(crc >> 24);
	b[13] = (unsigned char)(crc >> 16);
	b[14] = (unsigned char)(crc >> 8);
	b[15] = (unsigned char)crc;
}

/*
 * Read "<path>-commits" (invariant 7).  Returns 1 with *n, 0 when it does
 * not exist, -1 with *cause when it cannot be read or is damaged.
 */
int
store_cc_read(const char *cpath, uint64_t *n, char **cause)
{
	unsigned char	 b[STORE_CC_LEN + 1], want[STORE_CC_LEN];
	ssize_t		 r;
	uint64_t	 v = 0;
	int		 fd, i;

	if ((fd = open(cpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return (0);
		sf_cause(cause, "%s: %s", cpath, strerror(errno));
		return (-1);
	}
	r = pread(fd, b, sizeof b, 0);
	close(fd);
	if (r == STORE_CC_LEN) {
		for (i = 4; i < 12; i++)
			v = (v << 8) | b[i];
		store_cc_encode(want, v);
		if (memcmp(b, want, STORE_CC_LEN) == 0) {
			*n = v;
			return (1);
		}
	}
	sf_cause(cause, "%s: damaged commit counter file (%zd bytes); "
	    "refusing to use the store beside it (see ampsd(8), \"Store "
	    "files\")", cpath, r);
	return (-1);
}

/* Whether path-wal exists and holds at least one byte. */
static int
store_file_wal_nonempty(const char *path)
{
	struct stat	 sb;
	char		*wal;
	int		 r;

	if (asprintf(&wal, "%s-wal", path) == -1)
		return (0);
	r = stat(wal, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
	free(wal);
	return (r);
}

/* See store-file.h. */
int
store_file_check(const char *path, char **cause)
{
	unsigned char	 h[100];
	struct stat	 sb;
	uint32_t	 pagesize, npages, change, valid;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		sf_cause(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &sb) == -1) {
		sf_cause(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	if (!S_ISREG(sb.st_mode)) {
		sf_cause(cause, "%s: not a regular file", path);
		close(fd);
		return (-1);
	}
	if (sb.st_size == 0) {
		close(fd);
		return (1);
	}
	n = pread(fd, h, sizeof h, 0);
	close(fd);
	if (n != (ssize_t)sizeof h || memcmp(h, sqlite_magic, 16) != 0) {
		sf_cause(cause, "%s: not a SQLite database (bad or short "
		    "header); refusing to use or replace it", path);
		return (-1);
	}
	pagesize = ((uint32_t)h[16] << 8) | h[17];
	if (pagesize == 1)
		pagesize = 65536;
	if (pagesize < 512 || (pagesize & (pagesize - 1)) != 0) {
		sf_cause(cause, "%s: corrupt SQLite header (page size %u); "
		    "refusing to use or replace it", path, pagesize);
		return (-1);
	}
	/*
	 * A power loss during a checkpoint can leave the main file shorter
	 * than its header says (page 1 reached the disk, the growth did
	 * not) while the -wal still holds every committed frame; SQLite
	 * recovers that.  So with a non-empty -wal the size checks are left
	 * to SQLite's recovery and the quick_check that follows it.
	 */
	if (store_file_wal_nonempty(path))
		return (0);
	if (sb.st_size % pagesize != 0) {
		sf_cause(cause, "%s: truncated or damaged database (size "
		    "%lld is not a multiple of the page size %u); refusing to "
		    "use or replace it", path, (long long)sb.st_size, pagesize);
		return (-1);
	}
	npages = ((uint32_t)h[28] << 24) | ((uint32_t)h[29] << 16) |
	    ((uint32_t)h[30] << 8) | h[31];
	change = ((uint32_t)h[24] << 24) | ((uint32_t)h[25] << 16) |
	    ((uint32_t)h[26] << 8) | h[27];
	valid = ((uint32_t)h[92] << 24) | ((uint32_t)h[93] << 16) |
	    ((uint32_t)h[94] << 8) | h[95];
	if (npages != 0 && change == valid &&
	    (uint64_t)npages * pagesize > (uint64_t)sb.st_size) {
		sf_cause(cause, "%s: truncated database (header says %u "
		    "pages, file has %lld); refusing to use or replace it",
		    path, npages, (long long)(sb.st_size / pagesize));
		return (-1);
	}
	return (0);
}

/* Whether path+suffix exists. */
static int
store_file_sibling(const char *path, const char *suffix)
{
	struct stat	 sb;
	char		*p;
	int		 r;

	if (asprintf(&p, "%s%s", path, suffix) == -1)
		return (1);	/* be conservative */
	r = (lstat(p, &sb) == 0);
	free(p);
	return (r);
}

/* Whether the directory of path already holds a *.db file. */
static int
store_file_dir_has_db(const char *path)
{
	struct dirent	*de;
	DIR		*d;
	char		*copy, *dir;
	size_t		 len;
	int		 found = 0;

	if ((copy = strdup(path)) == NULL)
		return (1);
	dir = dirname(copy);
	if ((d = opendir(dir)) == NULL) {
		free(copy);
		return (errno == ENOENT ? 0 : 1);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 3 && strcmp(de->d_name + len - 3, ".db") == 0) {
			found = 1;
			break;
		}
	}
	closedir(d);
	free(copy);
	return (found);
}

/*
 * Decide between open, create and refuse (invariants 2 and 3).  Returns
 * 0 with *create set, or -1 with *cause.
 */
int
store_file_precheck(const char *path, const char *kind, int flags,
    int *create, char **cause)
{
	struct stat	 sb;
	int		 r;

	*create = 0;
	if (stat(path, &sb) == -1) {
		if (errno != ENOENT) {
			sf_cause(cause, "%s: %s", path, strerror(errno));
			return (-1);
		}
		*create = 1;
	} else if ((r = store_file_check(path, cause)) == -1)
		return (-1);
	else if (r == 1)
		*create = 1;	/* empty file: never initialised */
	if (!*create)
		return (0);

	if ((flags & (STORE_CREATE | STORE_CREATE_FRESH_DIR)) == 0) {
		sf_cause(cause, "%s: no %s here and creating one was not "
		    "allowed", path, kind);
		return (-1);
	}
	if (store_file_sibling(path, "-wal") ||
	    store_file_sibling(path, "-journal")) {
		sf_cause(cause, "%s: database file missing or empty but its "
		    "-wal/-journal file exists; refusing to create an empty %s "
		    "over lost data", path, kind);
		return (-1);
	}
	if (store_file_sibling(path, "-commits")) {
		sf_cause(cause, "%s: database file missing or empty but its "
		    "commit counter file %s-commits shows a %s existed; "
		    "refusing to create an empty one over lost data (remove "
		    "%s-commits to start afresh)", path, path, kind, path);
		return (-1);
	}
	if ((flags & STORE_CREATE) == 0 && store_file_dir_has_db(path)) {
		sf_cause(cause, "%s: missing, and its directory already holds "
		    "stores; refusing to create a new empty %s", path, kind);
		return (-1);
	}
	return (0);
}
