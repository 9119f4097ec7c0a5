/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * The raw SQLite group-commit ceiling of the publish store's write
 * pattern, shared by bench-store and bench-publish so that both compare
 * against the same baseline.
 */
#ifndef AMPSD_BENCH_RAWSTORE_H
#define AMPSD_BENCH_RAWSTORE_H

#include <stddef.h>

/* Remove a database and its -wal and -shm files. */
void	rawstore_rmdb(const char *path);
/*
 * Write batches of `batch` rows of a len-byte payload into a fresh
 * database at path for `secs` seconds (WAL, synchronous FULL or NORMAL,
 * secure_delete off; each transaction inserts the batch, deletes the
 * previous batch and commits), remove it, and return rows per second.
 * Exits with a message on any SQLite error.
 */
double	rawstore_run(const char *path, int batch, int normal,
	    const void *payload, size_t len, double secs);

#endif /* AMPSD_BENCH_RAWSTORE_H */
