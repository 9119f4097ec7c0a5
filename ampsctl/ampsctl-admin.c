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
 * level.  Words other than -socket, -server and -timeout are the
 * request's arguments, so "ampsctl trace -wire" switches wire off.
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

#define ADM_TIMEOUT	10000	/* ms */

int	ctl_admin_main(const char *, int, char **);

/* Print usage for the admin commands and exit 2. */
static void
adm_usage(void)
{
	fprintf(stderr,
	    "usage: ampsctl reload [-socket P] [-timeout MS]\n"
	    "       ampsctl trace [[+|-]connection|ipc|store|wire|all ...] "
	    "[-socket P]\n"
	    "       ampsctl verbose info|debug|trace [-socket P]\n");
	exit(2);
}

/* Append word to the request line, space-separated (invariant 2). */
static void
adm_add(char *req, size_t size, const char *word)
{
	size_t	len = strlen(req);

	if (len + strlen(word) + 2 > size) {
		fprintf(stderr, "ampsctl: request too long\n");
		exit(2);
	}
	snprintf(req + len, size - len, "%s%s", len ? " " : "", word);
}

/*
 * Run cmd if it is an admin command (returns its exit status), else
 * return -1.
 */
int
ctl_admin_main(const char *cmd, int argc, char **argv)
{
	struct ampsipc	*h;
	const char	*sock = NULL;
	char		 req[1024], *text = NULL, *end;
	long		 timeout = ADM_TIMEOUT;
	int		 i, nargs = 0, rc;

	if (strcmp(cmd, "reload") != 0 && strcmp(cmd, "trace") != 0 &&
	    strcmp(cmd, "verbose") != 0)
		return (-1);
	req[0] = '\0';
	adm_add(req, sizeof req, cmd);
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-socket") == 0 ||
		    strcmp(argv[i], "-server") == 0) {
			if (++i >= argc)
				adm_usage();
			sock = argv[i];
		} else if (strcmp(argv[i], "-timeout") == 0) {
			if (++i >= argc)
				adm_usage();
			timeout = strtol(argv[i], &end, 10);
			if (*end != '\0' || end == argv[i])
				adm_usage();
		} else {
			adm_add(req, sizeof req, argv[i]);
			nargs++;
		}
	}
	if ((strcmp(cmd, "reload") == 0 && nargs != 0) ||
	    (strcmp(cmd, "verbose") == 0 && nargs != 1))
		adm_usage();

	if ((h = ampsipc_create()) == NULL) {
		perror("ampsctl: ampsipc_create");
		return (1);
	}
	if (ampsipc_connect(h, sock, "ampsctl", (int)timeout) == -1) {
		fprintf(stderr, "ampsctl: connect: %s\n", ampsipc_errmsg(h));
		ampsipc_close(h);
		return (1);
	}
	rc = ampsipc_admin(h, req, &text, (int)timeout);
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
