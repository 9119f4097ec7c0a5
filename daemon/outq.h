/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * outq.h: one program's IPC output queue (pure: no I/O, no libevent).
 * Whole frames are appended; the writer takes bytes from the front.
 * The queue knows where its frames begin, so it can count the MESSAGE
 * bytes queued per request id, drop a request's queued MESSAGE frames,
 * and put an urgent frame ahead of everything not yet started.  See
 * outq.c.
 */

#ifndef AMPSD_OUTQ_H
#define AMPSD_OUTQ_H

#include <stddef.h>
#include <stdint.h>

struct outq_acct;

struct outq {
	uint8_t			*buf;
	size_t			 off;		/* written up to here */
	size_t			 len;		/* queued up to here */
	size_t			 cap;
	size_t			 fstart;	/* start of the frame at off */
	int			 holding;	/* [hold_at, len) may not go yet */
	size_t			 hold_at;
	struct outq_acct	*acct;		/* reqid -> MESSAGE bytes */
	size_t			 nacct;
	size_t			 cacct;		/* a power of 2, or 0 */
};

void		 outq_init(struct outq *);
void		 outq_free(struct outq *);
/* Bytes queued and not yet written. */
size_t		 outq_pending(const struct outq *);
/* Room for n more bytes at the tail; NULL if impossible (ENOMEM). */
uint8_t		*outq_reserve(struct outq *, size_t n);
/* n bytes, whole frames, were written at the reserved place. */
void		 outq_commit(struct outq *, size_t n);
/*
 * Hold what is queued from now on (outq_hold) until outq_release: the
 * head stops at the hold point.  Holding again while held keeps the
 * first point.
 */
void		 outq_hold(struct outq *);
void		 outq_release(struct outq *);
/* Bytes that may be written now. */
size_t		 outq_sendable(const struct outq *);
/* Where to write from and how much may go now (*len 0: nothing). */
const uint8_t	*outq_head(const struct outq *, size_t *len);
/* n bytes of the head were written. */
void		 outq_consume(struct outq *, size_t n);
/* Release memory if empty and holding more than keep bytes. */
void		 outq_shrink(struct outq *, size_t keep);
/* MESSAGE bytes of request reqid not yet completely written. */
size_t		 outq_queued(const struct outq *, uint32_t reqid);
/*
 * Remove the MESSAGE frames of reqid that have not started to go out.
 * Returns the number of frames removed.
 */
size_t		 outq_drop(struct outq *, uint32_t reqid);
/* Remove every unstarted MESSAGE frame (replies stay); count removed. */
size_t		 outq_drop_all(struct outq *);
/*
 * Put a frame of len bytes ahead of every frame that has not started to
 * go out (and ahead of the hold point: it may go at once).  Returns 0,
 * or -1 (ENOMEM).
 */
int		 outq_urgent(struct outq *, const void *, size_t len);

#endif /* AMPSD_OUTQ_H */
