/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ipc.c: the listening side of the IPC protocol.  It creates the unix
 * socket, accepts programs, checks who they are, and hands each accepted
 * descriptor to ipc-client.c.
 *
 * It owns: the socket path, the listening descriptor, the spare
 * descriptor kept for EMFILE, the list of clients and the graveyard of
 * closed clients waiting to be freed.
 *
 * Invariants:
 *  1. A socket another process answers on is never unlinked: the path is
 *     probed with connect() first, and only a socket that refuses is
 *     treated as stale.  A path that is not a socket is never unlinked.
 *  2. The socket is bound under umask 0177 and only then given the
 *     configured mode and group, so it is never reachable more widely
 *     than configured.
 *  3. No client state exists before SO_PEERCRED succeeded, the ACL hook
 *     allowed the uid/gid, and the per-uid and total caps were checked.
 *     A refused peer gets one best-effort ERROR frame and is closed.
 *     Admin uids (root, the daemon's own) are never refused by the
 *     per-uid cap and alone may use the admin reserve above the total
 *     cap, so other users can never lock them out.
 *  4. When accept() runs out of descriptors the listener pauses for one
 *     second; a closing client re-enables it early.  Client input never
 *     reaches fatal paths: nothing in this file exits.
 *  5. Closed clients are freed from ev_reap on a later loop pass (or by
 *     ipc_close()), never inside their own callbacks.
 *  6. An adopted socket (cfg.fd, systemd socket activation) belongs to
 *     whoever created it: its path is never probed, unlinked, bound,
 *     chmod'ed or chown'ed, and ipc_close() only closes our descriptor.
 *     It is used only once it is known to be a listening AF_UNIX stream
 *     socket; it is made non-blocking and close-on-exec.
 *  7. A client counts toward the caps only while its program is there:
 *     when a cap is reached, clients whose peer has closed are handled
 *     to their end first (what they sent is dispatched, then they are
 *     closed: ipc_reap_gone), so a program that just exited does not
 *     take the place of the next one.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc-client.h"

#define IPC_DEFAULT_MODE	0660
#define IPC_DEFAULT_PER_UID	64
#define IPC_DEFAULT_MAX		1024
#define IPC_DEFAULT_RESERVE	16
#define IPC_DEFAULT_BUDGET	32
#define IPC_DEFAULT_PASS_MAX	2048
#define IPC_DEFAULT_OUT_HIGH	(4U * 1024 * 1024)
#define IPC_DEFAULT_OUT_MAX	(64U * 1024 * 1024)
#define IPC_BACKLOG		128

static void	ipc_cause(char **, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static void	ipc_accept_cb(evutil_socket_t, short, void *);
static void	ipc_resume_cb(evutil_socket_t, short, void *);
static void	ipc_reap_cb(evutil_socket_t, short, void *);

/* Format a message and hand it to the configured log hook. */
void
ipc_log(struct ipc *ipc, int level, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	saved_errno = errno;

	if (ipc->cfg.log != NULL) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof buf, fmt, ap);
		va_end(ap);
		ipc->cfg.log(ipc->cfg.log_arg, level, buf);
	}
	errno = saved_errno;
}

/* Set *cause to an allocated message (NULL if even that fails). */
static void
ipc_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

/* Fill a sockaddr_un for path; -1 if the path does not fit. */
static int
ipc_sockaddr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path)
		return (-1);
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return (0);
}

/*
 * Make sure path is free to bind: fail if a live daemon answers there or
 * something that is not a socket is in the way; unlink a stale socket.
 */
static int
ipc_clear_path(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	struct stat		sb;
	int			fd, error;

	if (lstat(path, &sb) == -1) {
		if (errno == ENOENT)
			return (0);
		ipc_cause(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (!S_ISSOCK(sb.st_mode)) {
		ipc_cause(cause, "%s: exists and is not a socket", path);
		return (-1);
	}
	if (ipc_sockaddr(&sun, path) == -1 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		ipc_cause(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
		close(fd);
		ipc_cause(cause, "%s: another daemon is listening", path);
		return (-1);
	}
	error = errno;
	close(fd);
	if (error != ECONNREFUSED) {
		ipc_cause(cause, "%s: cannot probe: %s", path, strerror(error));
		return (-1);
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		ipc_cause(cause, "%s: unlink stale socket: %s", path,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/* Create, bind and secure the listening socket.  Returns fd or -1. */
static int
ipc_create_socket(struct ipc *ipc, char **cause)
{
	struct sockaddr_un	sun;
	struct stat		sb;
	mode_t			mask;
	int			fd, saved_errno;

	if (ipc_sockaddr(&sun, ipc->path) == -1) {
		ipc_cause(cause, "%s: socket path too long", ipc->path);
		return (-1);
	}
	if (ipc_clear_path(ipc->path, cause) == -1)
		return (-1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		ipc_cause(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	mask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		saved_errno = errno;
		umask(mask);
		close(fd);
		ipc_cause(cause, "%s: bind: %s", ipc->path,
		    strerror(saved_errno));
		return (-1);
	}
	umask(mask);
	if (chmod(ipc->path, ipc->cfg.mode) == -1 ||
	    (ipc->cfg.group != (gid_t)-1 &&
	    chown(ipc->path, (uid_t)-1, ipc->cfg.group) == -1) ||
	    lstat(ipc->path, &sb) == -1 ||
	    listen(fd, IPC_BACKLOG) == -1) {
		saved_errno = errno;
		unlink(ipc->path);
		close(fd);
		ipc_cause(cause, "%s: %s", ipc->path, strerror(saved_errno));
		return (-1);
	}
	ipc->sock_dev = sb.st_dev;
	ipc->sock_ino = sb.st_ino;
	return (fd);
}

/*
 * Check and take over an inherited listening socket (invariant 6).
 * Returns fd, or -1 with *cause set.
 */
static int
ipc_adopt_socket(struct ipc *ipc, int fd, char **cause)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			val, flags;

	len = sizeof val;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &val, &len) == -1) {
		ipc_cause(cause, "inherited socket %d: %s", fd,
		    strerror(errno));
		return (-1);
	}
	if (len != sizeof val || val != SOCK_STREAM) {
		ipc_cause(cause, "inherited socket %d: not a stream socket",
		    fd);
		return (-1);
	}
	len = sizeof val;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == -1 ||
	    len != sizeof val || val == 0) {
		ipc_cause(cause, "inherited socket %d: not listening", fd);
		return (-1);
	}
	memset(&sun, 0, sizeof sun);
	len = sizeof sun;
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1) {
		ipc_cause(cause, "inherited socket %d: getsockname: %s", fd,
		    strerror(errno));
		return (-1);
	}
	if (len < sizeof sun.sun_family || sun.sun_family != AF_UNIX) {
		ipc_cause(cause, "inherited socket %d: not a unix socket", fd);
		return (-1);
	}
	/* sun_path may lack its NUL when it fills the whole array. */
	if (len > sizeof sun)
		len = sizeof sun;
	if (strnlen(sun.sun_path, len - offsetof(struct sockaddr_un,
	    sun_path)) != strlen(ipc->path) ||
	    strncmp(sun.sun_path, ipc->path, strlen(ipc->path)) != 0)
		ipc_log(ipc, LOG_WARNING, "ipc: inherited socket is %.*s, "
		    "configured path is %s; using the inherited one",
		    (int)strnlen(sun.sun_path, sizeof sun.sun_path),
		    sun.sun_path[0] != '\0' ? sun.sun_path : "(unnamed)",
		    ipc->path);
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    (flags = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
		ipc_cause(cause, "inherited socket %d: fcntl: %s", fd,
		    strerror(errno));
		return (-1);
	}
	ipc->adopted = 1;
	return (fd);
}

/*
 * Create the IPC listener on base: bind the socket of cfg->path (refusing
 * to replace a socket a live daemon answers on, removing a stale one),
 * set its mode and group, and start accepting; or, if cfg->fd > 0, adopt
 * that inherited listening socket instead.  cfg and h are copied.
 * Returns the listener, or NULL with *cause set to an allocated message
 * (the caller frees it) on failure.
 */
struct ipc *
ipc_listen(struct event_base *base, const struct ipc_config *cfg,
    const struct ipc_handlers *h, char **cause)
{
	struct ipc	*ipc;

	*cause = NULL;
	if (cfg->path == NULL || *cfg->path == '\0') {
		ipc_cause(cause, "no socket path");
		return (NULL);
	}
	if ((ipc = calloc(1, sizeof *ipc)) == NULL)
		goto nomem;
	ipc->base = base;
	ipc->cfg = *cfg;
	ipc->fd = ipc->reserve_fd = -1;
	TAILQ_INIT(&ipc->clients);
	TAILQ_INIT(&ipc->graveyard);
	if (h != NULL)
		ipc->h = *h;
	if ((ipc->path = strdup(cfg->path)) == NULL ||
	    (cfg->daemon_version != NULL &&
	    (ipc->daemon_version = strdup(cfg->daemon_version)) == NULL) ||
	    (cfg->default_conn != NULL &&
	    (ipc->default_conn = strdup(cfg->default_conn)) == NULL))
		goto nomem;
	ipc->cfg.path = ipc->path;
	ipc->cfg.daemon_version = ipc->daemon_version;
	ipc->cfg.default_conn = ipc->default_conn;
	if (ipc->cfg.mode == 0)
		ipc->cfg.mode = IPC_DEFAULT_MODE;
	if (ipc->cfg.max_per_uid == 0)
		ipc->cfg.max_per_uid = IPC_DEFAULT_PER_UID;
	if (ipc->cfg.max_clients == 0)
		ipc->cfg.max_clients = IPC_DEFAULT_MAX;
	if (ipc->cfg.admin_reserve == 0)
		ipc->cfg.admin_reserve = IPC_DEFAULT_RESERVE;
	if (ipc->cfg.budget == 0)
		ipc->cfg.budget = IPC_DEFAULT_BUDGET;
	if (ipc->cfg.pass_max == 0)
		ipc->cfg.pass_max = IPC_DEFAULT_PASS_MAX;
	if (ipc->cfg.max_frame == 0 || ipc->cfg.max_frame > AMPSIPC_MAX_FRAME)
		ipc->cfg.max_frame = AMPSIPC_MAX_FRAME;
	if (ipc->cfg.out_high == 0)
		ipc->cfg.out_high = IPC_DEFAULT_OUT_HIGH;
	if (ipc->cfg.out_max == 0)
		ipc->cfg.out_max = IPC_DEFAULT_OUT_MAX;
	if (ipc->cfg.out_max < ipc->cfg.out_high)
		ipc->cfg.out_max = ipc->cfg.out_high;

	ipc->ev_resume = evtimer_new(base, ipc_resume_cb, ipc);
	ipc->ev_reap = evtimer_new(base, ipc_reap_cb, ipc);
	if (ipc->ev_resume == NULL || ipc->ev_reap == NULL)
		goto nomem;
	ipc->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (cfg->fd > 0)
		ipc->fd = ipc_adopt_socket(ipc, cfg->fd, cause);
	else
		ipc->fd = ipc_create_socket(ipc, cause);
	if (ipc->fd == -1)
		goto fail;
	ipc->ev_accept = event_new(base, ipc->fd, EV_READ | EV_PERSIST,
	    ipc_accept_cb, ipc);
	if (ipc->ev_accept == NULL || event_add(ipc->ev_accept, NULL) == -1)
		goto nomem;
	ipc_log(ipc, LOG_INFO, "ipc: listening on %s%s", ipc->path,
	    ipc->adopted ? " (inherited socket)" : "");
	return (ipc);

nomem:
	if (*cause == NULL)
		ipc_cause(cause, "ipc: out of memory");
fail:
	ipc_close(ipc);
	return (NULL);
}

/* Refuse a peer before any state exists: one ERROR frame, then close. */
static void
ipc_refuse(int fd, uint32_t code, const char *text)
{
	uint8_t			buf[256];
	struct ipcwire_enc	e;
	size_t			len;

	ipcwire_begin(&e, buf, sizeof buf, AMPSIPC_ERROR, AMPSIPC_F_FATAL, 0);
	ipcwire_put_u32(&e, AMPSIPC_T_ERRCODE, code);
	ipcwire_put_str(&e, AMPSIPC_T_REASON, text);
	if (ipcwire_end(&e, &len) == 0)
		(void)send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* Pause accepting for a second after running out of descriptors. */
static void
ipc_pause_accept(struct ipc *ipc)
{
	struct timeval	tv = { 1, 0 };
	int		fd;

	/* Use the spare descriptor to take one peer off the queue. */
	if (ipc->reserve_fd != -1) {
		close(ipc->reserve_fd);
		ipc->reserve_fd = -1;
		fd = accept4(ipc->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd != -1)
			ipc_refuse(fd, AMPSIPC_E_NO_RESOURCES,
			    "daemon out of file descriptors");
		ipc->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (!ipc->accept_paused) {
		ipc_log(ipc, LOG_WARNING,
		    "ipc: out of descriptors, pausing accept");
		event_del(ipc->ev_accept);
		ipc->accept_paused = 1;
	}
	evtimer_add(ipc->ev_resume, &tv);
}

/* Timer: start accepting again. */
static void
ipc_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc	*ipc = arg;

	if (ipc->stopped)
		return;
	if (ipc->accept_paused) {
		ipc->accept_paused = 0;
		event_add(ipc->ev_accept, NULL);
	}
	if (ipc->reserve_fd == -1)
		ipc->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* A client went away: free its memory soon and resume accepting. */
void
ipc_client_gone(struct ipc *ipc)
{
	struct timeval	tv = { 0, 0 };

	evtimer_add(ipc->ev_reap, &tv);
	if (ipc->accept_paused) {
		evtimer_del(ipc->ev_resume);
		ipc_resume_cb(-1, 0, ipc);
	}
}

/* Timer: free the clients closed since the last pass. */
static void
ipc_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc		*ipc = arg;
	struct ipc_client	*c;

	while ((c = TAILQ_FIRST(&ipc->graveyard)) != NULL)
		ipc_client_free(c);
}

/* Number of live clients of uid. */
int
ipc_count_uid(const struct ipc *ipc, uid_t uid)
{
	const struct ipc_client	*c;
	int			 n = 0;

	TAILQ_FOREACH(c, &ipc->clients, entry) {
		if (ipc_client_uid(c) == uid)
			n++;
	}
	return (n);
}

/* 1 if the peer may use the admin reserve (struct ipc_config). */
static int
ipc_is_admin(struct ipc *ipc, const struct ucred *uc)
{
	const char	*why = NULL;

	if (ipc->cfg.acl == NULL)
		return (uc->uid == 0 || uc->uid == geteuid());
	return (ipc->cfg.acl(ipc->cfg.acl_arg, uc->uid, uc->gid, NULL, NULL,
	    IPC_OP_ADMIN, &why));
}

/*
 * Reap the clients of uid (of every uid if all) whose program is gone
 * (invariant 7): its end of the socket is closed.  What it sent is
 * handled first (ipc_client_reap).  Such a client would count until the
 * loop reads its EOF, which may come after an accept in the same pass.
 */
static void
ipc_reap_gone(struct ipc *ipc, uid_t uid, int all)
{
	struct ipc_client	*c;
	struct pollfd		 pfd;

again:
	TAILQ_FOREACH(c, &ipc->clients, entry) {
		if ((!all && c->uid != uid) || c->fd == -1)
			continue;
		pfd.fd = c->fd;
		pfd.events = 0;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) != 1 ||
		    (pfd.revents & (POLLHUP | POLLERR)) == 0)
			continue;
		ipc_log(ipc, LOG_DEBUG, "ipc: client %llu: program gone; "
		    "handled before the next accept", (unsigned long long)c->id);
		if (ipc_client_reap(c))
			goto again;	/* the list changed */
	}
}

/*
 * Room for one more client of uid (invariant 3)?  Programs that are gone
 * are reaped first when a cap is reached.
 */
static int
ipc_room(struct ipc *ipc, uid_t uid, int admin, const char **what)
{
	unsigned int	max = ipc->cfg.max_clients +
			    (admin ? ipc->cfg.admin_reserve : 0);
	int		pass;

	for (pass = 0; pass < 2; pass++) {
		if (ipc->nclients >= max)
			*what = "connection limit";
		else if (!admin && (unsigned int)ipc_count_uid(ipc, uid) >=
		    ipc->cfg.max_per_uid)
			*what = "per-uid connection limit";
		else
			return (1);
		if (pass == 0)
			ipc_reap_gone(ipc, uid, ipc->nclients >= max);
	}
	return (0);
}

/* Accept callback: credentials and limits before any client state. */
static void
ipc_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct ipc	*ipc = arg;
	struct ucred	 uc;
	socklen_t	 len;
	const char	*why;
	int		 fd, n;

	for (n = 0; n < 64; n++) {
		fd = accept4(ipc->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				ipc_pause_accept(ipc);
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				ipc_log(ipc, LOG_WARNING, "ipc: accept: %s",
				    strerror(errno));
			return;
		}
		len = sizeof uc;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
		    len != sizeof uc) {
			ipc_log(ipc, LOG_WARNING, "ipc: SO_PEERCRED: %s",
			    strerror(errno));
			close(fd);
			continue;
		}
		why = NULL;
		if (ipc->cfg.acl != NULL && !ipc->cfg.acl(ipc->cfg.acl_arg,
		    uc.uid, uc.gid, NULL, NULL, IPC_OP_CONNECT, &why)) {
			ipc_log(ipc, LOG_WARNING, "ipc: refused uid %lu gid %lu "
			    "pid %ld: not permitted", (unsigned long)uc.uid,
			    (unsigned long)uc.gid, (long)uc.pid);
			ipc_refuse(fd, AMPSIPC_E_NOT_PERMITTED,
			    "not permitted by ACL");
			continue;
		}
		if (!ipc_room(ipc, uc.uid, ipc_is_admin(ipc, &uc), &why)) {
			ipc_log(ipc, LOG_WARNING, "ipc: refused uid %lu pid %ld: "
			    "%s", (unsigned long)uc.uid, (long)uc.pid, why);
			ipc_refuse(fd, AMPSIPC_E_LIMIT,
			    "daemon connection limit reached");
			continue;
		}
		if (ipc_client_create(ipc, fd, uc.uid, uc.gid, uc.pid) == NULL) {
			ipc_log(ipc, LOG_WARNING, "ipc: cannot create client");
			ipc_refuse(fd, AMPSIPC_E_NO_RESOURCES,
			    "daemon out of resources");
		}
	}
}

/* Number of connected clients. */
unsigned int
ipc_nclients(const struct ipc *ipc)
{
	return (ipc->nclients);
}

/* Bytes queued for a client and not yet written (status, metrics). */
size_t
ipc_client_queued(const struct ipc_client *c)
{
	return (outq_pending(&c->out));
}

/* How often a client reached pass_max and yielded to the next pass. */
uint64_t
ipc_yields(const struct ipc *ipc)
{
	return (ipc->yields);
}

/*
 * Call fn(client, arg) for every live client (e.g. to broadcast a
 * CONN_STATE).  fn may kill the client it is given, but no other.
 */
void
ipc_foreach(struct ipc *ipc, void (*fn)(struct ipc_client *, void *),
    void *arg)
{
	struct ipc_client	*c, *next;

	for (c = TAILQ_FIRST(&ipc->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		fn(c, arg);
	}
}

/*
 * The flush phase has committed what this pass wrote: send the output
 * each client got after its own requests of the pass (ipc-client.c,
 * invariant 8), and start counting the next pass's frames (invariant
 * 5).  Call after every pass, once the stores are committed.
 */
void
ipc_release(struct ipc *ipc)
{
	if (ipc == NULL)
		return;
	ipc->pass_in = 0;		/* a new pass (ipc-client.c inv. 5) */
	ipc_foreach(ipc, ipc_client_release, NULL);
}

/*
 * Stop taking new programs (SIGTERM drain).  Our own socket is closed
 * and unlinked (if it is still ours), so a program that tries to connect
 * fails at once instead of waiting in the backlog; an adopted socket
 * belongs to systemd (invariant 6): we only stop accepting, and
 * connections queue there for the next daemon.  Connected programs are
 * not touched.  Safe to call twice.
 */
void
ipc_stop_accepting(struct ipc *ipc)
{
	struct stat	sb;

	ipc->stopped = 1;
	if (ipc->ev_accept != NULL)
		event_del(ipc->ev_accept);
	evtimer_del(ipc->ev_resume);
	if (ipc->fd == -1 || ipc->adopted)
		return;
	if (lstat(ipc->path, &sb) == 0 && sb.st_dev == ipc->sock_dev &&
	    sb.st_ino == ipc->sock_ino)
		unlink(ipc->path);
	if (ipc->ev_accept != NULL) {
		event_free(ipc->ev_accept);
		ipc->ev_accept = NULL;
	}
	close(ipc->fd);
	ipc->fd = -1;
	ipc_log(ipc, LOG_INFO, "ipc: stopped listening on %s", ipc->path);
}

/*
 * Stop listening: close every client (their closed() handler runs),
 * free them, unlink the socket if it is still the one we bound (never an
 * adopted one: invariant 6), and free the listener.  NULL is allowed.  Must not be called from inside
 * an IPC handler.
 */
void
ipc_close(struct ipc *ipc)
{
	struct ipc_client	*c;
	struct stat		 sb;

	if (ipc == NULL)
		return;
	while ((c = TAILQ_FIRST(&ipc->clients)) != NULL)
		ipc_client_close(c);
	while ((c = TAILQ_FIRST(&ipc->graveyard)) != NULL)
		ipc_client_free(c);
	if (ipc->ev_accept != NULL)
		event_free(ipc->ev_accept);
	if (ipc->ev_resume != NULL)
		event_free(ipc->ev_resume);
	if (ipc->ev_reap != NULL)
		event_free(ipc->ev_reap);
	if (ipc->fd != -1) {
		if (!ipc->adopted && lstat(ipc->path, &sb) == 0 &&
		    sb.st_dev == ipc->sock_dev &&
		    sb.st_ino == ipc->sock_ino)
			unlink(ipc->path);
		close(ipc->fd);
	}
	if (ipc->reserve_fd != -1)
		close(ipc->reserve_fd);
	free(ipc->path);
	free(ipc->daemon_version);
	free(ipc->default_conn);
	free(ipc);
}
