/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * client-conn.c: what the Client hears about connections: the
 * connection-state listeners (the AMPS client's states), ampsd's
 * upstream connection events with their reasons (kept for
 * get_last_connection_event), and outliving an ampsd restart
 * (set_reconnect, get_reconnect_count, the listeners told of it).
 *
 * Invariants:
 *  1. Listeners are called with the GIL held, from a snapshot of the
 *     list, so one may add or remove listeners while called.
 *  2. core->last_event is the event of the latest upstream change, set
 *     before the listeners hear it; a reconnect to ampsd is told once
 *     per ampsipc_reconnects() step, by the receive thread.
 */

#include "config.h"

#include "pyamps.h"

/* Tell the Python connection-state listeners (GIL held). */
void
core_tell_state(struct pycore *c, int state)
{
	PyObject	*list, *fn, *r;
	Py_ssize_t	 i;

	if (c->state_listeners == NULL)
		return;
	if ((list = PyList_GetSlice(c->state_listeners, 0,
	    PY_SSIZE_T_MAX)) == NULL) {
		PyErr_WriteUnraisable(NULL);
		return;
	}
	for (i = 0; i < PyList_GET_SIZE(list); i++) {
		fn = PyList_GET_ITEM(list, i);
		if ((r = PyObject_CallFunction(fn, "i", state)) == NULL)
			pyamps_report(c, NULL);
		Py_XDECREF(r);
	}
	Py_DECREF(list);
}

/*
 * The handle connected again to a restarted ampsd (set_reconnect), in
 * this thread or in a call that noticed first: tell the listeners, as
 * the AMPS client does on a reconnect (receive thread, lock held).
 */
void
core_restarted(struct pycore *c)
{
	PyGILState_STATE	 g;
	uint64_t		 n = ampsipc_reconnects(c->h);
	int			 give;

	if (n == c->reconnects)
		return;
	c->reconnects = n;
	give = pyamps_gil_take(c, &g);
	core_tell_state(c, 0);		/* Disconnected */
	core_tell_state(c, 2);		/* Connected */
	core_tell_state(c, 4);		/* LoggedOn */
	pyamps_gil_give(c, g, give);
}

static const char *const conn_state_names[] = {
	"disconnected", "connecting", "logging_on", "recovering",
	"connected", "backoff", "stopped"
};

/*
 * The last upstream state change as a dict (GIL held; new reference):
 * connection, connection_id, state (ampsd's name), server, error (an
 * AMPSError of the failure's class, or None once up) and reason.
 */
static PyObject *
conn_event_dict(const struct ampsipc_conn_event *ev)
{
	PyObject	*err;
	const char	*state = "unknown";

	if (ev->state >= 0 && (size_t)ev->state < sizeof conn_state_names /
	    sizeof conn_state_names[0])
		state = conn_state_names[ev->state];
	if (ev->error == 0)
		err = Py_NewRef(Py_None);
	else if ((err = pyamps_error_obj(ev->error, ev->reason[0] != '\0' ?
	    ev->reason : ampsipc_strerror(ev->error))) == NULL)
		return (NULL);
	return (Py_BuildValue("{s:s,s:I,s:s,s:s,s:N,s:s}", "connection",
	    ev->conn, "connection_id", (unsigned int)ev->conn_id, "state",
	    state, "server", ev->server, "error", err, "reason", ev->reason));
}

/*
 * Connection-state handler installed on the handle: keeps the event
 * for get_last_connection_event(), then tells the listeners the AMPS
 * client's state for it.
 */
void
client_conn_cb(struct ampsipc *h, const struct ampsipc_conn_event *ev,
    void *arg)
{
	struct pycore		*c = arg;
	PyGILState_STATE	 g;
	PyObject		*d;
	int			 give, s;

	switch (ev->state) {
	case AMPSIPC_CONN_CONNECTED:
		s = 32;		/* Resubscribed: AMPS is usable again */
		break;
	case AMPSIPC_CONN_LOGGING_ON:
		s = 2;		/* Connected */
		break;
	case AMPSIPC_CONN_RECOVERING:
		s = 4;		/* LoggedOn */
		break;
	case AMPSIPC_CONN_STOPPED:
		s = 1;		/* Shutdown */
		break;
	default:
		s = 0;		/* Disconnected (connecting, back-off) */
		break;
	}
	give = pyamps_gil_take(c, &g);
	if ((d = conn_event_dict(ev)) == NULL)
		PyErr_WriteUnraisable(NULL);
	else
		Py_XSETREF(c->last_event, d);
	core_tell_state(c, s);
	pyamps_gil_give(c, g, give);
}

/* get_last_connection_event(): the last upstream change, or None. */
static PyObject *
Client_get_last_connection_event(ClientObject *self, PyObject *unused)
{
	if (self->core->last_event == NULL)
		Py_RETURN_NONE;
	return (PyDict_Copy(self->core->last_event));
}

/*
 * set_reconnect(timeout_ms): outlive an ampsd restart (0: off, the
 * default); before or after connect.  Returns the previous setting.
 */
static PyObject *
Client_set_reconnect(ClientObject *self, PyObject *v)
{
	struct pycore	*c = self->core;
	long		 ms = PyLong_AsLong(v);
	int		 old = c->reconnect_ms;

	if (ms == -1 && PyErr_Occurred())
		return (NULL);
	c->reconnect_ms = ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
	if (c->pid == pyamps_pid) {
		core_lock(c);
		if (c->h != NULL)
			(void)ampsipc_set_reconnect(c->h, c->reconnect_ms);
		core_unlock(c);
	}
	return (PyLong_FromLong(old));
}

static PyObject *
Client_get_reconnect_count(ClientObject *self, PyObject *unused)
{
	struct pycore	*c = self->core;
	uint64_t	 n = 0;

	if (c->pid == pyamps_pid) {
		core_lock(c);
		if (c->h != NULL)
			n = ampsipc_reconnects(c->h);
		core_unlock(c);
	}
	return (PyLong_FromUnsignedLongLong((unsigned long long)n));
}

PyMethodDef client_conn_methods[] = {
	{ "get_last_connection_event",
	  (PyCFunction)Client_get_last_connection_event, METH_NOARGS,
	  "The last state change of an AMPS connection of ampsd, with why it "
	  "is not up: a dict (connection, connection_id, state, server, "
	  "error, reason), or None." },
	{ "set_reconnect", (PyCFunction)Client_set_reconnect, METH_O,
	  "set_reconnect(timeout_ms): connect again to a restarted ampsd, "
	  "trying for up to timeout_ms (0: off).  Returns the previous "
	  "value." },
	{ "get_reconnect_count", (PyCFunction)Client_get_reconnect_count,
	  METH_NOARGS, "How often the client connected again to a "
	  "restarted ampsd." },
	{ NULL, NULL, 0, NULL }
};
