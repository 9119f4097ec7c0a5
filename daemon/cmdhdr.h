/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Extra AMPS header fields of a generic command (IPC field HEADERS,
 * docs/IPC.md §5): checked and written by the codec.  Pure: cmdhdr.c.
 */

#ifndef AMPSD_CMDHDR_H
#define AMPSD_CMDHDR_H

#include <stddef.h>

struct amps_wr;

int	cmdhdr_check(const void *, size_t, char *, size_t);
void	cmdhdr_write(struct amps_wr *, const void *, size_t);

#endif /* AMPSD_CMDHDR_H */
