/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * store-file.h: checks on a store's file made before SQLite opens it
 * (for store.c and pubstore-peek.c; see store-file.c).
 */

#ifndef AMPSD_STORE_FILE_H
#define AMPSD_STORE_FILE_H

#include <stdint.h>

/*
 * Check a file that exists before SQLite touches it: regular, a SQLite
 * header, and a size consistent with the header (catches truncation;
 * the size checks are skipped while a non-empty -wal exists).  Returns
 * 0, 1 for "empty file" or -1 with an allocated "path: reason" in
 * *cause.  Never writes anything.
 */
int	store_file_check(const char *path, char **cause);

/*
 * Decide whether path may be opened (*create = 0) or created
 * (*create = 1) under the STORE_CREATE* flags, or must be refused.
 * kind names the store in messages.  Returns 0, or -1 with an allocated
 * message in *cause.  Never writes anything.
 */
int	store_file_precheck(const char *path, const char *kind, int flags,
	    int *create, char **cause);

/*
 * The commit counter file "<path>-commits" (store.c invariant 7): encode
 * its STORE_CC_LEN bytes for count n; read it (1 with *n, 0 when it does
 * not exist, -1 with *cause when unreadable or damaged).
 */
#define STORE_CC_LEN	16
void	store_cc_encode(unsigned char *, uint64_t n);
int	store_cc_read(const char *cpath, uint64_t *n, char **cause);

#endif /* AMPSD_STORE_FILE_H */
