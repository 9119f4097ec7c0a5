/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsctl-admin.c: the administrative commands of ampsctl (root or the
 * daemon's own user only):
 *
 *	ampsctl reload [-socket P] [-timeout MS]
 *	ampsctl trace [[+|-]CAT ...] [-socket P] [-timeout MS]
 *	ampsctl verbose info|debug|trace [-socket P] [-timeout MS]
 *
 * reload makes the daemon read its configuration file again, as SIGHUP
 * does, and prints what changed; trace shows or switches the trace
 * categories (connection, ipc, store, wire, all); verbose sets the log
 * level.  ampsctl-args.c splits the arguments: for trace, words other
 * than -h, --version, -socket and -timeout are the request's, so
 * "ampsctl trace -wire" switches wire off.
 * Exit status: 0 done, 1 refused, failed or only partly done (the
 * daemon's text says why), 2 usage.
 *
 * Invariants:
 *  1. The daemon's text is printed unchanged: on stdout when the request
 *     was done, on stderr otherwise.
 *  2. The request is sent as one line of at most 1 KB.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ampsipc.h"
#include "ampsctl.h"

#define ADM_TIMEOUT	10000	/* ms */

/* Append word to the request line, space-separated (invariant 2). */
static int
adm_add(char *req, size_t size, const char *word)
{
	size_t	len = strlen(req);

	if (len + strlen(word) + 2 > size) {
		fprintf(stderr, "ampsctl: request too long\n");
		return (-1);
	}
	snprintf(req + len, size - len, "%s%s", len ? " " : "", word);
	return (0);
}

/* Run an admin command (ampsctl.c's main); returns the exit status. */
int
ctl_admin(struct ctl_args *a)
{
	struct ampsipc	*h;
	const char	*cmd = ctl_cmd_name(a->cmd);
	char		 req[1024], *text = NULL;
	int		 i, rc, timeout;

	timeout = a->has_timeout ? (int)a->timeout : ADM_TIMEOUT;
	req[0] = '\0';
	if (adm_add(req, sizeof req, cmd) == -1)
		return (2);
	for (i = 0; i < a->nwords; i++)
		if (adm_add(req, sizeof req, a->words[i]) == -1)
			return (2);

	if ((h = ampsipc_create()) == NULL) {
		perror("ampsctl: ampsipc_create");
		return (1);
	}
	if (ampsipc_connect(h, a->sock, "ampsctl", timeout) == -1) {
		fprintf(stderr, "ampsctl: connect: %s\n", ampsipc_errmsg(h));
		ampsipc_close(h);
		return (1);
	}
	rc = ampsipc_admin(h, req, &text, timeout);
	if (rc == -1)
		fprintf(stderr, "ampsctl: %s: %s\n", cmd, ampsipc_errmsg(h));
	else {
		fputs(text, rc == 0 ? stdout : stderr);
		if (*text != '\0' && text[strlen(text) - 1] != '\n')
			fputc('\n', rc == 0 ? stdout : stderr);
	}
	free(text);
	ampsipc_close(h);
	return (rc == 0 ? 0 : 1);
}
