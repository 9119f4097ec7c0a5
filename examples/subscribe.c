/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * subscribe.c: subscribe through ampsd with libampsipc and print what
 * arrives.
 *
 *	subscribe TOPIC [FILTER [COUNT]]
 *
 * Subscribes to TOPIC, with an AMPS content FILTER such as "/id > 1"
 * ("" for none), and prints the data of each message until COUNT
 * (default 3) have arrived, or fails after 10 s without one.  The
 * handler runs from inside ampsipc_poll(); the daemon keeps the
 * subscription across AMPS failover.  ampsipc_execute() and
 * ampsipc_stream_next() are the synchronous alternative (libampsipc(3)).
 *
 * Build: cc -o subscribe subscribe.c $(pkg-config --cflags --libs libampsipc)
 */

#include <stdio.h>
#include <stdlib.h>

#include <ampsipc.h>

#define TIMEOUT_MS	10000
#define SUB_ID		"example"

struct progress {
	long	want;
	long	got;
};

/* Called from inside ampsipc_poll() for each message of the route. */
static int
on_message(struct ampsipc *h, const struct ampsipc_message *m, void *arg)
{
	struct progress	*p = arg;

	(void)h;		/* the handle is not needed here */
	if (m->command != AMPSIPC_C_PUBLISH || p->got >= p->want)
		return (0);		/* acks; or more than asked for */
	printf("%.*s\n", (int)m->len, (const char *)m->data);
	fflush(stdout);
	p->got++;
	return (0);			/* 0: processed */
}

int
main(int argc, char **argv)
{
	struct ampsipc		*h;
	struct ampsipc_command	*cmd;
	struct progress		 p = { 3, 0 };
	char			*end = NULL;
	int			 idle = 0, rc;

	if (argc == 4)
		p.want = strtol(argv[3], &end, 10);
	if (argc < 2 || argc > 4 || p.want < 1 ||
	    (argc == 4 && *end != '\0')) {
		fprintf(stderr, "usage: subscribe TOPIC [FILTER [COUNT]]\n");
		return (2);
	}
	if ((h = ampsipc_create()) == NULL) {
		perror("subscribe");
		return (1);
	}
	if (ampsipc_connect(h, NULL, "example-subscribe", TIMEOUT_MS) == -1)
		goto fail;

	/* One command object: the topic, the filter, our id for it. */
	if ((cmd = ampsipc_cmd_new(AMPSIPC_C_SUBSCRIBE)) == NULL)
		goto fail;
	ampsipc_cmd_set_str(cmd, AMPSIPC_FIELD_TOPIC, argv[1]);
	if (argc > 2 && argv[2][0] != '\0')
		ampsipc_cmd_set_str(cmd, AMPSIPC_FIELD_FILTER, argv[2]);
	ampsipc_cmd_set_str(cmd, AMPSIPC_FIELD_SUB_ID, SUB_ID);
	/* Waits for AMPS to accept it (a bad filter fails here). */
	rc = ampsipc_execute_async(h, cmd, on_message, &p);
	ampsipc_cmd_free(cmd);
	if (rc == -1)
		goto fail;
	fprintf(stderr, "subscribe: subscribed to %s\n", argv[1]);

	while (p.got < p.want) {
		if ((rc = ampsipc_poll(h, 100)) == -1)
			goto fail;
		idle = rc == 0 ? idle + 100 : 0;
		if (idle >= TIMEOUT_MS) {
			fprintf(stderr, "subscribe: nothing for %d ms after "
			    "%ld of %ld messages\n", idle, p.got, p.want);
			ampsipc_close(h);
			return (1);
		}
	}
	if (ampsipc_unsubscribe(h, SUB_ID, TIMEOUT_MS) == -1)
		goto fail;
	ampsipc_close(h);
	return (0);

fail:
	fprintf(stderr, "subscribe: %s\n", ampsipc_errmsg(h));
	ampsipc_close(h);
	return (1);
}
