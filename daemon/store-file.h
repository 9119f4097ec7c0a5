/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * store-file.h: checks on a store's file made before SQLite opens it
 * (private to store.c; see store-file.c).
 */

#ifndef AMPSD_STORE_FILE_H
#define AMPSD_STORE_FILE_H

/*
 * Decide whether path may be opened (*create = 0) or created
 * (*create = 1) under the STORE_CREATE* flags, or must be refused.
 * kind names the store in messages.  Returns 0, or -1 with an allocated
 * message in *cause.  Never writes anything.
 */
int	store_file_precheck(const char *path, const char *kind, int flags,
	    int *create, char **cause);

#endif /* AMPSD_STORE_FILE_H */
