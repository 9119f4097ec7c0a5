/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * client.c: the Client type's core: the libampsipc handle, its lock,
 * the receive thread, connect and close, and the blocking-wait helper.
 * Publishing is in client-pub.c, subscriptions and handlers in
 * client-sub.c, connection states and events in client-conn.c.
 *
 * It owns struct pycore (pyamps.h states the lock order and threads).
 * Invariants:
 *  1. Every libampsipc call on core->h is made with core->mu held.
 *  2. Output the library queued is written by the receive thread: a
 *     caller that leaves output queued kicks it once (core_kick); the
 *     receive thread writes at most every PYAMPS_FLUSH_GAP_US after a
 *     kick, and after a dispatch that left output (auto-acks); it
 *     clears the kick as it writes, so output queued after that is
 *     covered by the next kick or by its POLLOUT.
 *  3. core->h is closed exactly once: by close() or deallocation from
 *     outside a dispatch, or by the receive thread when close() was
 *     asked from inside one of its handlers (rx_closes).
 *  4. Blocking waits run in slices of PYAMPS_SLICE_MS with the GIL
 *     released, checking for signals (Ctrl-C) between slices; those
 *     inside libampsipc (a command's ack wait, unsubscribe, ping) check
 *     them through its wait check (client_wait_check) every
 *     AMPSIPC_CHECK_MS.  A signal raises KeyboardInterrupt (or what
 *     the program's handler raises) and the wait's command is taken
 *     back.  None is allowed from inside a handler (the library forbids
 *     it).
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pyamps.h"

#define DEFAULT_CONNECT_MS	10000

/* Take a reference to the core. */
void
core_ref(struct pycore *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
}

/* Drop a reference; the last one frees it (GIL held). */
void
core_unref(struct pycore *c)
{
	if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	Py_CLEAR(c->exc_listener);
	Py_CLEAR(c->last_chance);
	Py_CLEAR(c->failed_write);
	Py_CLEAR(c->disconnect_handler);
	Py_CLEAR(c->state_listeners);
	Py_CLEAR(c->last_event);
	Py_CLEAR(c->pending_exc);
	Py_CLEAR(c->msg_cache);
	if (c->pid == pyamps_pid) {
		pthread_mutex_destroy(&c->mu);
		close(c->wake[0]);
		close(c->wake[1]);
	}
	free(c->conn);
	free(c);
}

/* A new core, not connected.  NULL with a Python error. */
static struct pycore *
core_new(void)
{
	struct pycore		*c;
	pthread_mutexattr_t	 attr;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		PyErr_NoMemory();
		return (NULL);
	}
	if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		PyErr_SetFromErrno(PyExc_OSError);
		free(c);
		return (NULL);
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&c->mu, &attr);
	pthread_mutexattr_destroy(&attr);
	c->pid = pyamps_pid;
	c->refs = 1;
	c->auto_ack = 0;
	if ((c->state_listeners = PyList_New(0)) == NULL) {
		core_unref(c);
		return (NULL);
	}
	return (c);
}

/* Lock the core (GIL held on entry and exit; lock order of pyamps.h). */
int
core_lock(struct pycore *c)
{
	if (c->pid != pyamps_pid) {
		/* A fork child: the parent's threads are gone and may have
		 * left mu locked; calls only fail (core_usable). */
		c->depth++;
		return (0);
	}
	if (pthread_mutex_trylock(&c->mu) != 0) {
		Py_BEGIN_ALLOW_THREADS
		pthread_mutex_lock(&c->mu);
		Py_END_ALLOW_THREADS
	}
	c->owner = pthread_self();
	c->depth++;
	return (0);
}

static void	core_close(struct pycore *);

/*
 * A closed client calls no Python any more: drop its listeners and
 * handlers (GIL held), so one that refers to its own client (a closure
 * over it) does not keep both alive after close().
 */
static void
core_drop_callables(struct pycore *c)
{
	Py_CLEAR(c->exc_listener);
	Py_CLEAR(c->last_chance);
	Py_CLEAR(c->failed_write);
	Py_CLEAR(c->disconnect_handler);
	if (c->state_listeners != NULL && PyList_SetSlice(c->state_listeners,
	    0, PyList_GET_SIZE(c->state_listeners), NULL) == -1)
		PyErr_WriteUnraisable(NULL);
}

/* Unlock; a close() deferred by a handler on this thread happens now. */
void
core_unlock(struct pycore *c)
{
	c->depth--;
	if (c->pid != pyamps_pid)
		return;
	pthread_mutex_unlock(&c->mu);
	if (c->close_pending && !c->closing && !c->rx_closes &&
	    !core_in_dispatch(c))
		core_close(c);
}

/* Is this thread inside a dispatch of this core (a handler)? */
int
core_in_dispatch(struct pycore *c)
{
	return (c->depth > 0 && pthread_equal(c->owner, pthread_self()));
}

/*
 * Can calls go to the daemon?  1, or 0 with a Python error set.  Called
 * with the lock held (or from the creating thread before any exists).
 */
int
core_usable(struct pycore *c)
{
	if (c->pid != pyamps_pid) {
		pyamps_error(AMPSIPC_E_DISCONNECTED, "this client belongs to "
		    "the process that created it (fork): connect a new one");
		return (0);
	}
	if (c->h == NULL || c->close_pending) {
		pyamps_error(AMPSIPC_E_DISCONNECTED, "not connected");
		return (0);
	}
	if (c->broken) {
		pyamps_error(AMPSIPC_E_DISCONNECTED,
		    "the connection to ampsd was lost");
		return (0);
	}
	return (1);
}

/*
 * Wake the receive thread's poll.  The pipe is ours and non-blocking: a
 * write fails only when it is full (EAGAIN), and then a wake-up is
 * already pending, which is all that is needed.
 */
static void
core_wake(struct pycore *c)
{
	char	b = 'k';

	if (write(c->wake[1], &b, 1) == -1)
		return;
}

/* Wake the receive thread to write queued output (lock held). */
void
core_kick(struct pycore *c)
{
	if (c->kicked || c->h == NULL || ampsipc_outq(c->h) == 0 ||
	    !c->rx_running)
		return;
	c->kicked = 1;
	core_wake(c);
}

/*
 * After a call that may have taken messages from a stream at its max
 * depth (lock held): if that released the hold, wake the receive
 * thread to dispatch the frames the hold kept and read again.
 */
void
core_resume(struct pycore *c, int was_held)
{
	if (!was_held || c->h == NULL || ampsipc_held(c->h) ||
	    !c->rx_running)
		return;
	c->resume = 1;
	core_wake(c);
}

static int64_t
mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static int64_t
now_ms(void)
{
	return (mono_us() / 1000);
}

/*
 * Run fn(h, slice) until it returns 0, in slices (invariant 4).
 * timeout_ms <= 0 waits for ever.  Returns 0, or -1 with a Python error
 * (TimedOutError naming what, the handle's error, KeyboardInterrupt).
 */
int
core_wait(struct pycore *c, int (*fn)(struct ampsipc *, int), int timeout_ms,
    const char *what)
{
	int64_t	deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int64_t	left;
	int	rc, slice, err;

	if (core_in_dispatch(c)) {
		pyamps_error(AMPSIPC_E_USAGE, "a message handler cannot wait "
		    "(publish_flush, wait_stored, a stream): return first");
		return (-1);
	}
	for (;;) {
		slice = PYAMPS_SLICE_MS;
		if (deadline != 0) {
			left = deadline - now_ms();
			if (left <= 0) {
				PyErr_Format(pyamps_error_obj(
				    AMPSIPC_E_TIMED_OUT, NULL),
				    "%s: timed out after %d ms", what,
				    timeout_ms);
				return (-1);
			}
			if (left < slice)
				slice = (int)left;
		}
		core_lock(c);
		if (!core_usable(c)) {
			core_unlock(c);
			return (-1);
		}
		Py_BEGIN_ALLOW_THREADS
		rc = fn(c->h, slice);
		err = errno;
		Py_END_ALLOW_THREADS
		if (rc != -1) {
			core_kick(c);
			core_unlock(c);
			return (0);
		}
		if (err != ETIMEDOUT) {
			pyamps_raise_handle(c->h, what);
			core_unlock(c);
			return (-1);
		}
		core_kick(c);
		core_unlock(c);
		if (PyErr_CheckSignals() < 0)
			return (-1);
	}
}

/*
 * A call that does not wait: fn(h, arg) under the lock, its output
 * handed to the receive thread, its failure raised as the handle's
 * error named what.  0, or -1 with a Python error.
 */
int
core_do(struct pycore *c, const char *what,
    int (*fn)(struct ampsipc *, void *), void *arg)
{
	int	rc;

	core_lock(c);
	if (!core_usable(c)) {
		core_unlock(c);
		return (-1);
	}
	if ((rc = fn(c->h, arg)) == -1)
		pyamps_raise_handle(c->h, what);
	else
		core_kick(c);
	core_unlock(c);
	return (rc == -1 ? -1 : 0);
}

/* The receive thread lost the daemon: tell Python (no lock held). */
static void
rx_lost(struct pycore *c, int code, const char *text)
{
	PyGILState_STATE	 g;
	PyObject		*r, *exc;

	g = PyGILState_Ensure();
	if (!c->stop) {
		exc = pyamps_error_obj(code, text);
		if (c->disconnect_handler != NULL) {
			r = PyObject_CallFunction(c->disconnect_handler, "O",
			    exc != NULL ? exc : Py_None);
			if (r == NULL)
				pyamps_report(c, NULL);
			Py_XDECREF(r);
		}
		core_tell_state(c, 0);		/* Disconnected */
		Py_XDECREF(exc);
	}
	PyGILState_Release(g);
}

/* Write queued output (receive thread, lock held).  -1: connection lost. */
static int
rx_flush(struct pycore *c, int64_t now)
{
	int	rc;

	c->kicked = 0;
	c->flush_due = 0;
	c->last_flush = now;
	if ((rc = ampsipc_write(c->h)) == -1)
		return (-1);
	c->out_pending = rc == 1;
	return (0);
}

/*
 * The receive thread: poll, write, read, dispatch (invariants 1-3).  A
 * kick is served at once when the last flush is older than
 * PYAMPS_FLUSH_GAP_US, else at that point: a publishing loop gets one
 * write per gap (and libampsipc's own write every 64 KiB), not one
 * wake-up per publish.
 */
static void *
rx_main(void *arg)
{
	struct pycore	*c = arg;
	struct pollfd	 pfd[2];
	char		 buf[64], errtext[256];
	int64_t		 now;
	int		 lost = 0, code = 0, timeout;

	errtext[0] = '\0';
	for (;;) {
		if (c->stop)		/* close() from one of our handlers */
			break;
		/* A full stream (max_depth) holds reading: poll only for
		 * output then, and not the descriptor at all without any
		 * (its hang-up would wake us at once). */
		pfd[0].fd = c->fd;
		pfd[0].events = (c->rx_held ? 0 : POLLIN) |
		    (c->out_pending ? POLLOUT : 0);
		if (pfd[0].events == 0)
			pfd[0].fd = -1;
		pfd[1].fd = c->wake[0];
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		timeout = -1;
		if (c->flush_due != 0) {
			now = mono_us();
			timeout = c->flush_due > now ?
			    (int)((c->flush_due - now + 999) / 1000) : 0;
		}
		if (poll(pfd, 2, timeout) == -1 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN)
			while (read(c->wake[0], buf, sizeof buf) > 0)
				continue;
		pthread_mutex_lock(&c->mu);
		c->owner = pthread_self();
		c->depth++;
		if (c->stop || c->h == NULL) {
			c->depth--;
			pthread_mutex_unlock(&c->mu);
			break;
		}
		now = mono_us();
		if ((pfd[1].revents & POLLIN) && c->kicked && c->flush_due == 0)
			c->flush_due = c->last_flush + PYAMPS_FLUSH_GAP_US;
		if ((pfd[0].revents & POLLOUT) ||
		    (c->flush_due != 0 && now >= c->flush_due))
			lost = rx_flush(c, now) == -1;
		if (!lost && c->resume) {	/* a stream made room */
			c->resume = 0;
			if (ampsipc_dispatch(c->h) == -1)
				lost = 1;
			else
				pfd[0].revents |= POLLIN;	/* read too */
		}
		if (!lost && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (ampsipc_read(c->h) == -1 ||
			    ampsipc_dispatch(c->h) == -1)
				lost = 1;
			/* handlers may have published, the library acked */
			else if (ampsipc_outq(c->h) > 0 && c->flush_due == 0) {
				c->kicked = 1;
				c->flush_due = c->last_flush +
				    PYAMPS_FLUSH_GAP_US;
			}
		}
		if (!lost) {	/* a reconnect to ampsd changes the socket */
			c->fd = ampsipc_fd(c->h);
			c->rx_held = ampsipc_held(c->h);
			core_restarted(c);
		}
		if (lost) {
			c->broken = 1;
			code = ampsipc_error(c->h);
			snprintf(errtext, sizeof errtext, "%s",
			    ampsipc_errmsg(c->h));
		}
		if (c->rx_gil) {
			c->rx_gil = 0;
			PyGILState_Release(c->rx_gstate);
		}
		c->depth--;
		pthread_mutex_unlock(&c->mu);
		if (lost) {
			rx_lost(c, code != 0 ? code : AMPSIPC_E_CLOSED,
			    errtext[0] != '\0' ? errtext :
			    "connection to ampsd closed");
			break;
		}
	}
	pthread_mutex_lock(&c->mu);
	c->owner = pthread_self();
	c->depth++;
	if (c->rx_closes && c->h != NULL) {
		ampsipc_close(c->h);	/* release callbacks take the GIL */
		c->h = NULL;
	}
	if (c->rx_gil) {
		c->rx_gil = 0;
		PyGILState_Release(c->rx_gstate);
	}
	c->depth--;
	pthread_mutex_unlock(&c->mu);
	if (c->rx_closes) {
		PyGILState_STATE g = PyGILState_Ensure();

		core_drop_callables(c);
		core_unref(c);
		PyGILState_Release(g);
	}
	return (NULL);
}

/*
 * Close: stop the receive thread and close the handle (invariant 3).
 * GIL held.  From inside a dispatch of this core the work is deferred:
 * to the receive thread when it is that thread, else to the end of the
 * blocking call that is dispatching (client_finish_close).
 */
static void
core_close(struct pycore *c)
{
	int	joined = 0;

	if (c == NULL || c->pid != pyamps_pid)
		return;
	if (c->rx_running && pthread_equal(c->rx, pthread_self())) {
		if (!c->rx_closes) {
			c->rx_closes = 1;
			c->stop = 1;
			c->close_pending = 1;
			core_ref(c);	/* the thread's, dropped at its exit */
			pthread_detach(c->rx);
			c->rx_running = 0;
		}
		return;
	}
	if (core_in_dispatch(c)) {
		c->close_pending = 1;
		return;
	}
	if (c->closing)
		return;
	c->closing = 1;
	if (c->rx_running) {
		core_lock(c);
		c->stop = 1;
		core_unlock(c);
		core_wake(c);
		Py_BEGIN_ALLOW_THREADS
		pthread_join(c->rx, NULL);
		Py_END_ALLOW_THREADS
		c->rx_running = 0;
		joined = 1;
	}
	core_lock(c);
	if (c->h != NULL) {
		ampsipc_close(c->h);
		c->h = NULL;
	}
	c->close_pending = 0;
	c->stop = 1;
	core_unlock(c);
	c->closing = 0;
	if (joined)
		core_tell_state(c, 1);		/* Shutdown */
	core_drop_callables(c);
}

static PyObject *
Client_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	ClientObject	*self;

	if ((self = (ClientObject *)type->tp_alloc(type, 0)) == NULL)
		return (NULL);
	if ((self->core = core_new()) == NULL) {
		Py_DECREF(self);
		return (NULL);
	}
	self->name = Py_NewRef(Py_None);
	self->uri = Py_NewRef(Py_None);
	return ((PyObject *)self);
}

static int
Client_init(ClientObject *self, PyObject *args, PyObject *kw)
{
	static char	*kwlist[] = { "name", NULL };
	PyObject	*name = Py_None;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:Client", kwlist,
	    &name))
		return (-1);
	if (name != Py_None && !PyUnicode_Check(name)) {
		PyErr_SetString(PyExc_TypeError, "name must be a str");
		return (-1);
	}
	Py_XSETREF(self->name, Py_NewRef(name));
	return (0);
}

static void
Client_dealloc(ClientObject *self)
{
	struct pycore	*c = self->core;

	if (self->weakrefs != NULL)
		PyObject_ClearWeakRefs((PyObject *)self);
	if (c != NULL) {
		if (c->pid == pyamps_pid)
			core_close(c);
		else if (c->h != NULL) {
			/* fork child: the parent's handle is not ours to use;
			 * close our copy of the descriptor only. */
			close(ampsipc_fd(c->h));
			c->h = NULL;
		}
		self->core = NULL;
		core_unref(c);
	}
	Py_CLEAR(self->name);
	Py_CLEAR(self->uri);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/*
 * The wait check libampsipc runs between the slices of its blocking
 * waits (invariant 4): Python's pending signals are handled on this
 * thread, and an exception (KeyboardInterrupt) stops the wait; it stays
 * set for the caller, whose pyamps_raise_handle() keeps it.  Called
 * with the lock held and the GIL released (or held: GILState nests).
 */
static int
client_wait_check(struct ampsipc *h, void *arg)
{
	PyGILState_STATE	 g;
	int			 stop;

	g = PyGILState_Ensure();
	stop = PyErr_Occurred() != NULL || PyErr_CheckSignals() < 0;
	PyGILState_Release(g);
	return (stop);
}

void	client_install_handlers(struct pycore *);	/* client-sub.c */

/* _connect(path, connection, timeout_ms): path/connection may be None. */
static PyObject *
Client_connect(ClientObject *self, PyObject *args)
{
	struct pycore	*c = self->core;
	const char	*path = NULL, *conn = NULL, *name = NULL;
	struct ampsipc	*h;
	int		 timeout_ms = DEFAULT_CONNECT_MS, rc, err, code;

	if (!PyArg_ParseTuple(args, "zz|i:_connect", &path, &conn,
	    &timeout_ms))
		return (NULL);
	if (c->pid != pyamps_pid)
		return (pyamps_error(AMPSIPC_E_DISCONNECTED, "this client "
		    "belongs to the process that created it (fork)"));
	if (c->h != NULL)
		return (pyamps_error(-1, "already connected"));
	if (c->stop)
		return (pyamps_error(AMPSIPC_E_USAGE, "a closed client "
		    "cannot connect again: create a new Client"));
	if (self->name != Py_None &&
	    (name = PyUnicode_AsUTF8(self->name)) == NULL)
		return (NULL);
	if ((h = ampsipc_create()) == NULL)
		return (PyErr_NoMemory());
	ampsipc_set_wait_check(h, client_wait_check, c);
	Py_BEGIN_ALLOW_THREADS
	rc = ampsipc_connect(h, path, name, timeout_ms);
	Py_END_ALLOW_THREADS
	if (rc == -1 && PyErr_Occurred()) {	/* Ctrl-C */
		ampsipc_close(h);
		return (NULL);
	}
	if (rc == -1) {
		err = errno;
		code = ampsipc_error(h);
		if (code == AMPSIPC_E_SYSTEM && (err == ENOENT ||
		    err == ECONNREFUSED))
			code = AMPSIPC_E_CONNECTION_REFUSED;
		PyErr_Format(pyamps_error_obj(code, NULL),
		    "cannot connect to ampsd at %s: %s", path != NULL ? path :
		    getenv("AMPSD_SOCKET") != NULL ? getenv("AMPSD_SOCKET") :
		    AMPSD_SOCK, ampsipc_errmsg(h));
		ampsipc_close(h);
		return (NULL);
	}
	(void)ampsipc_set_nonblock(h, 1);
	free(c->conn);
	c->conn = NULL;
	if (conn != NULL && (c->conn = strdup(conn)) == NULL) {
		ampsipc_close(h);
		return (PyErr_NoMemory());
	}
	core_lock(c);
	c->h = h;
	c->fd = ampsipc_fd(h);
	c->broken = 0;
	ampsipc_set_conn_event_handler(h, client_conn_cb, c);
	(void)ampsipc_set_reconnect(h, c->reconnect_ms);
	client_install_handlers(c);
	c->stop = 0;
	c->rx_closes = 0;
	if ((rc = pthread_create(&c->rx, NULL, rx_main, c)) != 0) {
		c->h = NULL;
		core_unlock(c);
		ampsipc_close(h);
		errno = rc;
		return (PyErr_SetFromErrno(PyExc_OSError));
	}
	c->rx_running = 1;
	core_unlock(c);
	core_tell_state(c, 2);		/* Connected */
	core_tell_state(c, 4);		/* LoggedOn */
	Py_RETURN_NONE;
}

static PyObject *
Client_close(ClientObject *self, PyObject *unused)
{
	core_close(self->core);
	Py_RETURN_NONE;
}

static PyObject *
Client_is_connected(ClientObject *self, PyObject *unused)
{
	struct pycore	*c = self->core;

	return (PyBool_FromLong(c->pid == pyamps_pid && c->h != NULL &&
	    !c->broken && !c->close_pending));
}

static PyObject *
Client_get_name(ClientObject *self, PyObject *unused)
{
	return (Py_NewRef(self->name));
}

static PyObject *
Client_get_connection(ClientObject *self, PyObject *unused)
{
	if (self->core->conn == NULL)
		Py_RETURN_NONE;
	return (PyUnicode_FromString(self->core->conn));
}

static PyMethodDef Client_methods[] = {
	{ "_connect", (PyCFunction)Client_connect, METH_VARARGS,
	  "_connect(path, connection, timeout_ms): connect to ampsd." },
	{ "close", (PyCFunction)Client_close, METH_NOARGS,
	  "Stop the receive thread and close the connection to ampsd." },
	{ "get_connection", (PyCFunction)Client_get_connection, METH_NOARGS,
	  "The ampsd connection this client uses (None: the default)." },
	{ "is_connected", (PyCFunction)Client_is_connected, METH_NOARGS,
	  "True while connected to ampsd." },
	{ "get_name", (PyCFunction)Client_get_name, METH_NOARGS,
	  "The name given to the constructor." },

	{ NULL, NULL, 0, NULL }
};

PyTypeObject Client_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "AMPS._amps.Client",
	.tp_basicsize = sizeof(ClientObject),
	.tp_dealloc = (destructor)Client_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "A connection to ampsd (the C core of AMPS.Client).",
	.tp_methods = Client_methods,
	.tp_init = (initproc)Client_init,
	.tp_new = Client_new,
	.tp_weaklistoffset = offsetof(ClientObject, weakrefs),
};

/* Add the methods of client-pub.c, client-sub.c and client-conn.c. */
int	client_type_ready(void);
int
client_type_ready(void)
{
	PyMethodDef	*tables[3] = { client_pub_methods, client_sub_methods,
	    client_conn_methods };
	PyMethodDef	*m;
	PyObject	*f;
	int		 t;

	if (PyType_Ready(&Client_Type) < 0)
		return (-1);
	for (t = 0; t < 3; t++)
		for (m = tables[t]; m->ml_name != NULL; m++) {
			if ((f = PyDescr_NewMethod(&Client_Type, m)) == NULL)
				return (-1);
			if (PyDict_SetItemString(Client_Type.tp_dict,
			    m->ml_name, f) == -1) {
				Py_DECREF(f);
				return (-1);
			}
			Py_DECREF(f);
		}
	PyType_Modified(&Client_Type);
	return (0);
}
