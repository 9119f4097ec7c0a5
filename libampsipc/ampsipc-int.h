/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * libampsipc internals shared by ampsipc-conn.c (connection, I/O,
 * dispatch, blocking waits, errors) and ampsipc-pub.c (publishing and
 * its bookkeeping).  Not installed.  Internal names use the prefix
 * ipclib_ (and ipcwire_ for the codec) so that the export list,
 * ^ampsipc_, never picks them up; the library is also built with
 * -fvisibility=hidden.
 */

#ifndef AMPSIPC_INT_H
#define AMPSIPC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ampsipc.h"
#include "ampsipc-wire.h"

#define AMPSIPC_OUT_LIMIT	(4U * 1024 * 1024)	/* publish blocks above */
#define AMPSIPC_OUT_EAGER	(64U * 1024)		/* publish writes above */
#define AMPSIPC_IN_INITIAL	(64U * 1024)

/* One publish this handle sent whose fate is not known yet. */
struct ampsipc_pend {
	uint32_t	reqid;
	uint32_t	conn_id;
	uint64_t	seq;
	int		state;
#define PEND_SENT	0	/* waiting for STORED */
#define PEND_STORED	1	/* waiting for PERSISTED */
#define PEND_DONE	2	/* persisted or failed; dropped at the head */
};

/* The one synchronous request a blocking helper may wait for. */
struct ampsipc_wait {
	uint32_t	 reqid;		/* 0: nothing awaited */
	int		 done;
	uint16_t	 type;		/* reply type */
	int		 code;		/* ERROR code, else 0 */
	char		*text;		/* STATUS_REPLY body, malloc'd */
};

struct ampsipc {
	int			 fd;
	int			 flags;
#define AMPSIPC_WELCOMED	0x01	/* handshake done */
#define AMPSIPC_BROKEN		0x02	/* fatal error seen; only close */
#define AMPSIPC_NONBLOCK	0x04	/* publish fails with EAGAIN */
#define AMPSIPC_DISPATCHING	0x08	/* inside ampsipc_dispatch() */
	uint32_t		 next_reqid;
	uint32_t		 max_frame;

	uint8_t			*in;		/* frames from inoff to inlen */
	size_t			 inoff;
	size_t			 inlen;
	size_t			 incap;
	uint8_t			*out;		/* output from outoff to outlen */
	size_t			 outoff;
	size_t			 outlen;
	size_t			 outcap;

	char			 daemon_version[64];
	char			 default_conn[128];
	int			 err;
	char			 errmsg[256];

	struct ampsipc_pend	*pend;		/* ring of pcap entries */
	size_t			 phead;
	size_t			 pcount;
	size_t			 pcap;
	uint64_t		 unstored;
	uint64_t		 unpersisted;
	uint64_t		 failed;

	struct ampsipc_wait	 wait;

	ampsipc_pub_handler	 pub_cb;
	void			*pub_arg;
	ampsipc_conn_handler	 conn_cb;
	void			*conn_arg;
};

/* Fills an encoder with one frame; called twice (count, then encode). */
typedef void (*ipclib_fill)(struct ipcwire_enc *, void *, size_t, uint32_t,
    const void *);

/* ampsipc-conn.c */
int		 ipclib_fail(struct ampsipc *, int, int, const char *, ...)
		    __attribute__((__format__(printf, 4, 5)));
uint32_t	 ipclib_reqid(struct ampsipc *);
int		 ipclib_queue(struct ampsipc *, uint32_t, ipclib_fill,
		    const void *);
int		 ipclib_wait_until(struct ampsipc *, int,
		    int (*)(struct ampsipc *, void *), void *);
int		 ipclib_request(struct ampsipc *, int, ipclib_fill,
		    const void *);

/* ampsipc-pub.c */
void		 ipclib_pub_stored(struct ampsipc *,
		    const struct ipcwire_msg *);
void		 ipclib_pub_persisted(struct ampsipc *,
		    const struct ipcwire_msg *);
int		 ipclib_pub_failed(struct ampsipc *, uint32_t, uint32_t,
		    uint64_t, int, const char *);

#endif /* AMPSIPC_INT_H */
