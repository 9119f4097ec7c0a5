/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * Shared macros of the ampsim conformance tests.  Each test has its own
 * server (`srv`, started by START and stopped by STOP).  BARRIER proves
 * "nothing else arrived" deterministically: ampsim handles one command
 * at a time and queues output in order, so once the flush ack arrives
 * every frame caused by earlier commands has arrived before it.
 */
#ifndef AMPSIM_CONFORMANCE_H
#define AMPSIM_CONFORMANCE_H

#include "testclient.h"

static struct tc_srv	srv;
static unsigned		barrier_n;
static struct tc	*clients[64];
static int		nclients;

/* Close every client made with CLIENT, then stop the server. */
static inline void
conf_stop(void)
{
	while (nclients > 0)
		tc_close(clients[--nclients]);
	tc_srv_destroy(&srv);
}

/* Close a client, forgetting it if it was registered. */
static inline void
conf_close(struct tc *t)
{
	int	i;

	for (i = 0; i < nclients; i++)
		if (clients[i] == t) {
			clients[i] = clients[--nclients];
			break;
		}
	tc_close(t);
}
#define CLOSE(t)	conf_close(t)

#define START(args)	ck_assert_int_eq(tc_srv_start(&srv, (args)), 0)
#define STOP()		conf_stop()
#define RECV(t)		ck_assert_int_eq(tc_recv((t), 5000), 1)

#define EXPECT_ACK(t, a, status) do {					\
	RECV(t);							\
	ck_assert_msg(tc_is((t), "ack", (a)), "expected %s ack, got %.*s", \
	    (a), (int)(t)->flen, (t)->frame);				\
	ck_assert_str_eq(tc_str((t), AMPS_F_STATUS), (status));	\
} while (0)

#define EXPECT_CMD(t, c) do {						\
	RECV(t);							\
	ck_assert_msg(tc_is((t), (c), NULL), "expected %s, got %.*s",	\
	    (c), (int)(t)->flen, (t)->frame);				\
} while (0)

/* Flush barrier: the next frame must be the flush ack. */
#define BARRIER(t) do {							\
	char	bcid_[32];						\
									\
	snprintf(bcid_, sizeof bcid_, "barrier-%u", ++barrier_n);	\
	tc_sendf((t), NULL, "{\"c\":\"flush\",\"cid\":\"%s\","		\
	    "\"a\":\"processed\"}", bcid_);				\
	EXPECT_ACK((t), "processed", "success");			\
	ck_assert_str_eq(tc_str((t), AMPS_F_CID), bcid_);		\
} while (0)

/* Connect to a server; STOP closes the client if the test did not. */
static inline struct tc *
conf_connect(struct tc_srv *s)
{
	struct tc	*t = tc_connect(s->port);

	ck_assert_ptr_nonnull(t);
	if (nclients < 64)
		clients[nclients++] = t;
	return (t);
}

/* Connect to srv and log on (wait: for the ack). */
static inline struct tc *
conf_client(const char *name, int wait)
{
	struct tc	*t = conf_connect(&srv);

	if (wait)
		ck_assert_int_eq(tc_logon(t, name, NULL), 0);
	else
		tc_sendf(t, NULL, "{\"c\":\"logon\",\"cid\":\"0\","
		    "\"client_name\":\"%s\"}", name);
	return (t);
}
#define CLIENT(name)		conf_client((name), 1)
#define CLIENT_NOACK(name)	conf_client((name), 0)

#endif /* AMPSIM_CONFORMANCE_H */
