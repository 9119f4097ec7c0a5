/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * directpub: the ceiling of every in-process AMPS client: a publisher
 * that writes straight to the server over TCP with sequence numbers and
 * persisted acks and keeps no store at all (see directpub.c).
 */

#ifndef DIRECTPUB_H
#define DIRECTPUB_H

#include <stddef.h>

/*
 * Log on to the server at 127.0.0.1:port as a fresh client name, publish
 * n messages of len bytes of payload to topic with s = 1..n and a
 * persisted ack requested, and wait for the persisted ack covering n.
 * Returns messages per second from the first byte written to that ack,
 * or 0 (with a message on stderr) when anything failed.
 */
double	directpub_run(int port, const char *topic, long n,
	    const void *payload, size_t len);

#endif /* DIRECTPUB_H */
