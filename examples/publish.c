/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * publish.c: publish through ampsd with libampsipc, then wait until
 * AMPS has persisted the messages.
 *
 *	publish TOPIC [COUNT]
 *
 * Sends COUNT (default 3) messages {"id":N,"text":"hello"} to TOPIC
 * through the daemon at $AMPSD_SOCKET, or at the library's built-in
 * socket path.  Once ampsipc_wait_stored() returns, the daemon holds
 * every message in its store and delivers them even if the program
 * exits; ampsipc_publish_flush() then waits until AMPS has persisted
 * them.  A handler counts what the daemon reports for each message.
 *
 * Build: cc -o publish publish.c $(pkg-config --cflags --libs libampsipc)
 */

#include <stdio.h>
#include <stdlib.h>

#include <ampsipc.h>

#define TIMEOUT_MS	10000

struct counts {
	unsigned long	stored;
	unsigned long	persisted;
	unsigned long	failed;
};

/* Called from inside libampsipc once per event of each publish. */
static void
on_publish(struct ampsipc *h, const struct ampsipc_pubevent *ev, void *arg)
{
	struct counts	*n = arg;

	(void)h;		/* the handle is not needed here */
	if (ev->kind == AMPSIPC_PUB_STORED)
		n->stored++;
	else if (ev->kind == AMPSIPC_PUB_PERSISTED)
		n->persisted++;
	else if (ev->kind == AMPSIPC_PUB_FAILED) {
		n->failed++;
		fprintf(stderr, "publish: request %u refused: %s\n",
		    (unsigned int)ev->reqid, ev->reason);
	}
}

int
main(int argc, char **argv)
{
	struct ampsipc	*h;
	struct counts	 n = { 0, 0, 0 };
	char		 msg[64], *end = NULL;
	long		 count = 3, i;
	int		 len;

	if (argc == 3)
		count = strtol(argv[2], &end, 10);
	if (argc < 2 || argc > 3 || count < 1 || count > 1000000 ||
	    (argc == 3 && *end != '\0')) {
		fprintf(stderr, "usage: publish TOPIC [COUNT]\n");
		return (2);
	}
	if ((h = ampsipc_create()) == NULL) {
		perror("publish");
		return (1);
	}
	ampsipc_set_pub_handler(h, on_publish, &n);
	/* NULL: $AMPSD_SOCKET if set, else the built-in path. */
	if (ampsipc_connect(h, NULL, "example-publish", TIMEOUT_MS) == -1)
		goto fail;

	for (i = 1; i <= count; i++) {
		len = snprintf(msg, sizeof msg, "{\"id\":%ld,\"text\":\"hello\"}",
		    i);
		/* Queued and written; the daemon answers asynchronously. */
		if (ampsipc_publish(h, argv[1], msg, (size_t)len, NULL,
		    NULL) == -1)
			goto fail;
	}
	/* From here on the daemon delivers them, whatever happens to us. */
	if (ampsipc_wait_stored(h, TIMEOUT_MS) == -1)
		goto fail;
	/* Optional: wait until AMPS itself has persisted them. */
	if (ampsipc_publish_flush(h, TIMEOUT_MS) == -1)
		goto fail;

	printf("published %ld to %s: %lu stored, %lu persisted, %lu failed\n",
	    count, argv[1], n.stored, n.persisted, n.failed);
	ampsipc_close(h);
	return (n.failed == 0 ? 0 : 1);

fail:
	fprintf(stderr, "publish: %s\n", ampsipc_errmsg(h));
	ampsipc_close(h);
	return (1);
}
