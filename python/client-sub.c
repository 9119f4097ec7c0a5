/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * client-sub.c: the Client's receive side: execute_async (a Python
 * handler per route) and execute (a MessageStream), unsubscribe, queue
 * acks, discards, and the listeners (exception, last chance, failed
 * write, disconnect, connection state).
 *
 * Invariants:
 *  1. A route's struct pyroute holds a reference to its handler until
 *     libampsipc's release handler says the route is gone (once per
 *     execute_async, failures included): no handler leaks, none is
 *     freed while the library may still call it.
 *  2. An exception raised by a handler is kept in core->pending_exc and
 *     handed to the exception listener that libampsipc calls right
 *     after the failed handler (the queue message is then cancelled);
 *     without a listener it is written as unraisable (stderr).
 *  3. Callbacks take the GIL with pyamps_gil_take (pyamps.h order).
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyamps.h"

PyObject	*command_str(CommandObject *, const char *);
int		 command_num(CommandObject *, const char *, uint64_t *);

/* Report an exception no listener handles (GIL held; NULL: current). */
void
pyamps_report(struct pycore *c, PyObject *exc)
{
	if (exc != NULL)
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	PyErr_WriteUnraisable(NULL);
}

/* Hand exc to the exception listener (GIL held; consumes exc). */
static void
tell_listener(struct pycore *c, PyObject *exc, int from_handler)
{
	PyObject	*r;

	if (exc == NULL) {
		PyErr_Clear();
		return;
	}
	if (c->exc_listener != NULL) {
		if ((r = PyObject_CallOneArg(c->exc_listener, exc)) == NULL)
			pyamps_report(c, NULL);
		Py_XDECREF(r);
	} else if (from_handler)
		pyamps_report(c, exc);
	Py_DECREF(exc);
}

/* The current exception, normalized, with its traceback (new ref). */
static PyObject *
fetch_exc(void)
{
	PyObject	*t, *v, *tb;

	PyErr_Fetch(&t, &v, &tb);
	PyErr_NormalizeException(&t, &v, &tb);
	if (v != NULL && tb != NULL)
		PyException_SetTraceback(v, tb);
	Py_XDECREF(t);
	Py_XDECREF(tb);
	return (v);
}

/* A route's message: call the Python handler (invariants 2, 3). */
int
pyamps_route_cb(struct ampsipc *h, const struct ampsipc_message *m,
    void *arg)
{
	struct pyroute		*r = arg;
	struct pycore		*c = r->core;
	PyGILState_STATE	 g;
	PyObject		*msg, *res;
	int			 give, rc = 0;

	if (m->command == AMPSIPC_C_END ||	/* the listener hears it */
	    c->close_pending)			/* closed by a handler */
		return (0);
	give = pyamps_gil_take(c, &g);
	if ((msg = message_wrap(c, m)) == NULL)
		res = NULL;
	else {
		res = PyObject_CallOneArg(r->handler, msg);
		message_done(c, msg);
	}
	if (res == NULL) {
		Py_XSETREF(c->pending_exc, fetch_exc());
		rc = 1;
	}
	Py_XDECREF(res);
	pyamps_gil_give(c, g, give);
	return (rc);
}

/* libampsipc no longer uses a route's arg (invariant 1). */
void
pyamps_release_cb(struct ampsipc *h, void *arg)
{
	struct pyroute		*r = arg;
	PyGILState_STATE	 g;
	int			 give;

	give = pyamps_gil_take(r->core, &g);
	Py_DECREF(r->handler);
	pyamps_gil_give(r->core, g, give);
	free(r);
}

/* The library's exception listener: errors of the receive side. */
static void
exc_cb(struct ampsipc *h, int code, const char *text, void *arg)
{
	struct pycore		*c = arg;
	PyGILState_STATE	 g;
	PyObject		*exc;
	int			 give, from_handler = 0;

	give = pyamps_gil_take(c, &g);
	if (c->pending_exc != NULL) {
		exc = c->pending_exc;
		c->pending_exc = NULL;
		from_handler = 1;
	} else
		exc = pyamps_error_obj(code, text);
	tell_listener(c, exc, from_handler);
	pyamps_gil_give(c, g, give);
}

/* Messages no route claims. */
static int
last_chance_cb(struct ampsipc *h, const struct ampsipc_message *m,
    void *arg)
{
	struct pycore		*c = arg;
	PyGILState_STATE	 g;
	PyObject		*msg, *r = NULL;
	int			 give;

	give = pyamps_gil_take(c, &g);
	if (c->last_chance != NULL &&
	    (msg = message_copy(c, m)) != NULL) {
		r = PyObject_CallOneArg(c->last_chance, msg);
		Py_DECREF(msg);
		if (r == NULL)
			tell_listener(c, fetch_exc(), 1);
		else
			Py_DECREF(r);
	}
	PyErr_Clear();
	pyamps_gil_give(c, g, give);
	return (0);
}

/*
 * Publish events: a publish AMPS or ampsd refused goes to
 * failed_write(message, reason).  The library's failed-write handler
 * sees only AMPS's refusals; its publish handler sees both.
 */
static void
failed_cb(struct ampsipc *h, const struct ampsipc_pubevent *ev, void *arg)
{
	struct pycore		*c = arg;
	struct ampsipc_message	 m;
	PyGILState_STATE	 g;
	PyObject		*msg, *r;
	int			 give;

	if (ev->kind != AMPSIPC_PUB_FAILED || c->failed_write == NULL)
		return;
	give = pyamps_gil_take(c, &g);
	if (c->failed_write != NULL) {
		memset(&m, 0, sizeof m);
		m.command = AMPSIPC_C_PUBLISH;
		m.topic = m.sub_id = m.sub_ids = m.query_id = m.bookmark = "";
		m.sow_key = m.correlation_id = m.timestamp = "";
		m.lease_period = m.user_id = m.options = "";
		m.data = "";
		m.reason = ev->reason;
		m.error = ev->error;
		m.seq = ev->seq;
		m.conn_id = ev->conn_id;
		if ((msg = message_copy(c, &m)) != NULL) {
			r = PyObject_CallFunction(c->failed_write, "Os", msg,
			    ev->reason);
			Py_DECREF(msg);
			if (r == NULL)
				pyamps_report(c, NULL);
			Py_XDECREF(r);
		} else
			PyErr_Clear();
	}
	pyamps_gil_give(c, g, give);
}

/* Install the library handlers on a new handle (lock held). */
void	client_install_handlers(struct pycore *);
void
client_install_handlers(struct pycore *c)
{
	ampsipc_set_release_handler(c->h, pyamps_release_cb);
	ampsipc_set_exception_listener(c->h, exc_cb, c);
	ampsipc_set_last_chance_handler(c->h, last_chance_cb, c);
	ampsipc_set_pub_handler(c->h, failed_cb, c);
}

/* Replace one listener slot (None clears it). */
static PyObject *
set_slot(PyObject **slot, PyObject *fn)
{
	if (fn != Py_None && !PyCallable_Check(fn)) {
		PyErr_SetString(PyExc_TypeError, "expected a callable or None");
		return (NULL);
	}
	Py_XSETREF(*slot, fn == Py_None ? NULL : Py_NewRef(fn));
	Py_RETURN_NONE;
}

static PyObject *
Client_set_exception_listener(ClientObject *self, PyObject *fn)
{
	return (set_slot(&self->core->exc_listener, fn));
}

static PyObject *
Client_set_last_chance_message_handler(ClientObject *self, PyObject *fn)
{
	return (set_slot(&self->core->last_chance, fn));
}

static PyObject *
Client_set_failed_write_handler(ClientObject *self, PyObject *fn)
{
	return (set_slot(&self->core->failed_write, fn));
}

static PyObject *
Client_set_disconnect_handler(ClientObject *self, PyObject *fn)
{
	return (set_slot(&self->core->disconnect_handler, fn));
}

static PyObject *
Client_get_exception_listener(ClientObject *self, PyObject *unused)
{
	PyObject	*l = self->core->exc_listener;

	return (Py_NewRef(l != NULL ? l : Py_None));
}

static PyObject *
Client_add_connection_state_listener(ClientObject *self, PyObject *fn)
{
	if (!PyCallable_Check(fn)) {
		PyErr_SetString(PyExc_TypeError, "expected a callable");
		return (NULL);
	}
	if (PyList_Append(self->core->state_listeners, fn) == -1)
		return (NULL);
	Py_RETURN_NONE;
}

static PyObject *
Client_remove_connection_state_listener(ClientObject *self, PyObject *fn)
{
	PyObject	*l = self->core->state_listeners;
	Py_ssize_t	 i;

	for (i = PyList_GET_SIZE(l) - 1; i >= 0; i--)
		if (PyList_GET_ITEM(l, i) == fn &&
		    PySequence_DelItem(l, i) == -1)
			return (NULL);
	Py_RETURN_NONE;
}

static PyObject *
Client_set_auto_ack(ClientObject *self, PyObject *v)
{
	int	on = PyObject_IsTrue(v);

	if (on == -1)
		return (NULL);
	self->core->auto_ack = on;
	Py_RETURN_NONE;
}

static PyObject *
Client_get_auto_ack(ClientObject *self, PyObject *unused)
{
	return (PyBool_FromLong(self->core->auto_ack));
}

/* Build cmd for this client: its connection and auto-ack. */
static int
client_build(struct pycore *c, CommandObject *cmd,
    struct ampsipc_command **out)
{
	if (command_build(cmd, out) == -1)
		return (-1);
	if (c->conn != NULL &&
	    ampsipc_cmd_set_str(*out, AMPSIPC_FIELD_CONN, c->conn) == -1) {
		ampsipc_cmd_free(*out);
		PyErr_NoMemory();
		return (-1);
	}
	if (c->auto_ack && (cmd->cmd == AMPSIPC_C_SUBSCRIBE ||
	    cmd->cmd == AMPSIPC_C_SOW_AND_SUBSCRIBE))
		(void)ampsipc_cmd_set_flags(*out, cmd->flags |
		    AMPSIPC_CMDF_AUTO_ACK);
	return (0);
}

/* Publish, delta_publish, flush, heartbeat given as Commands. */
static PyObject *
client_exec_special(ClientObject *self, CommandObject *cmd)
{
	PyObject	*args[5], *kwn, *r = NULL, *m, *topic, *data;
	uint64_t	 exp, timeout = 0;
	Py_ssize_t	 nkw = 0;
	const char	*meth;

	if (cmd->cmd == CMD_HEARTBEAT)	/* ampsd keeps heartbeats */
		Py_RETURN_NONE;
	if (cmd->cmd == CMD_FLUSH) {
		(void)command_num(cmd, "timeout", &timeout);
		return (PyObject_CallMethod((PyObject *)self, "publish_flush",
		    "K", (unsigned long long)timeout));
	}
	topic = command_str(cmd, "topic");
	data = cmd->data != NULL ? cmd->data : Py_None;
	if (topic == NULL || data == Py_None)
		return (pyamps_error(AMPSIPC_E_USAGE,
		    "a publish command needs a topic and data"));
	meth = cmd->cmd == AMPSIPC_C_PUBLISH ? "publish" : "delta_publish";
	if ((kwn = PyTuple_New(3)) == NULL)
		return (NULL);
	args[0] = topic;
	args[1] = data;
	args[2] = command_num(cmd, "expiration", &exp) ?
	    PyLong_FromUnsignedLongLong(exp) : Py_NewRef(Py_None);
	args[3] = command_str(cmd, "correlation_id");
	args[4] = command_str(cmd, "sow_key");
	PyTuple_SET_ITEM(kwn, 0, PyUnicode_FromString("expiration"));
	PyTuple_SET_ITEM(kwn, 1, PyUnicode_FromString("correlation_id"));
	PyTuple_SET_ITEM(kwn, 2, PyUnicode_FromString("sow_key"));
	if (args[3] == NULL)
		args[3] = Py_None;
	if (args[4] == NULL)
		args[4] = Py_None;
	nkw = 3;
	if (args[2] != NULL && (m = PyObject_GetAttrString((PyObject *)self,
	    meth)) != NULL) {
		r = PyObject_Vectorcall(m, args, 2, kwn);
		Py_DECREF(m);
	}
	(void)nkw;
	Py_XDECREF(args[2]);
	Py_DECREF(kwn);
	return (r);
}

/* The id execute_async returns: the sub_id, else the query_id. */
static PyObject *
exec_id(struct ampsipc_command *x, CommandObject *cmd)
{
	const char	*id = ampsipc_cmd_sub_id(x);
	PyObject	*q;

	if (id != NULL && id[0] != '\0')
		return (PyUnicode_FromString(id));
	if ((q = command_str(cmd, "query_id")) != NULL)
		return (Py_NewRef(q));
	Py_RETURN_NONE;
}

/* execute_async(command, handler): the sub_id (or query id, or None). */
static PyObject *
Client_execute_async(ClientObject *self, PyObject *args)
{
	struct pycore		*c = self->core;
	CommandObject		*cmd;
	PyObject		*fn = Py_None, *id = NULL;
	struct ampsipc_command	*x;
	struct pyroute		*r = NULL;
	int			 rc, indisp;

	if (!PyArg_ParseTuple(args, "O!|O:execute_async", &Command_Type,
	    &cmd, &fn))
		return (NULL);
	if (fn != Py_None && !PyCallable_Check(fn)) {
		PyErr_SetString(PyExc_TypeError, "handler must be callable");
		return (NULL);
	}
	if (cmd->cmd == AMPSIPC_C_PUBLISH ||
	    cmd->cmd == AMPSIPC_C_DELTA_PUBLISH || cmd->cmd == CMD_FLUSH ||
	    cmd->cmd == CMD_HEARTBEAT)
		return (client_exec_special(self, cmd));
	if (client_build(c, cmd, &x) == -1)
		return (NULL);
	if (fn != Py_None) {
		if ((r = malloc(sizeof *r)) == NULL) {
			ampsipc_cmd_free(x);
			return (PyErr_NoMemory());
		}
		r->core = c;
		r->handler = Py_NewRef(fn);
	}
	core_lock(c);
	if (!core_usable(c)) {
		core_unlock(c);
		ampsipc_cmd_free(x);
		if (r != NULL) {
			Py_DECREF(r->handler);
			free(r);
		}
		return (NULL);
	}
	indisp = c->depth > 1;	/* we were already inside a dispatch */
	if (cmd->cmd == AMPSIPC_C_UNSUBSCRIBE) {
		PyObject	*sid = command_str(cmd, "sub_id");
		const char	*s = sid != NULL ? PyUnicode_AsUTF8(sid) : "all";

		if (r != NULL) {
			Py_DECREF(r->handler);
			free(r);
		}
		if (s == NULL)
			rc = -1;
		else {
			Py_BEGIN_ALLOW_THREADS
			rc = ampsipc_unsubscribe(c->h, s, indisp ? 0 : 10000);
			Py_END_ALLOW_THREADS
			if (rc == -1)
				pyamps_raise_handle(c->h, "unsubscribe");
		}
		core_kick(c);
		core_unlock(c);
		ampsipc_cmd_free(x);
		if (rc == -1)
			return (NULL);
		Py_RETURN_NONE;
	}
	if (indisp)
		rc = ampsipc_execute_async(c->h, x, r != NULL ?
		    pyamps_route_cb : NULL, r);
	else {
		Py_BEGIN_ALLOW_THREADS
		rc = ampsipc_execute_async(c->h, x, r != NULL ?
		    pyamps_route_cb : NULL, r);
		Py_END_ALLOW_THREADS
	}
	if (rc == -1)
		pyamps_raise_handle(c->h, pyamps_cmd_name(cmd->cmd));
	else
		id = exec_id(x, cmd);
	core_kick(c);
	core_unlock(c);
	ampsipc_cmd_free(x);
	return (id);
}

/* execute(command): a MessageStream. */
static PyObject *
Client_execute(ClientObject *self, PyObject *arg)
{
	struct pycore		*c = self->core;
	CommandObject		*cmd;
	struct ampsipc_command	*x;
	struct ampsipc_stream	*st;
	PyObject		*r;

	if (!PyObject_TypeCheck(arg, &Command_Type)) {
		PyErr_SetString(PyExc_TypeError, "execute(command)");
		return (NULL);
	}
	cmd = (CommandObject *)arg;
	if (cmd->cmd == AMPSIPC_C_PUBLISH ||
	    cmd->cmd == AMPSIPC_C_DELTA_PUBLISH || cmd->cmd == CMD_FLUSH ||
	    cmd->cmd == CMD_HEARTBEAT || cmd->cmd == AMPSIPC_C_UNSUBSCRIBE) {
		PyObject *t = Py_BuildValue("(O)", arg);

		r = t != NULL ? Client_execute_async(self, t) : NULL;
		Py_XDECREF(t);
		return (r);
	}
	if (core_in_dispatch(c))
		return (pyamps_error(AMPSIPC_E_USAGE, "a message handler "
		    "cannot open a stream (it would wait): use execute_async"));
	if (client_build(c, cmd, &x) == -1)
		return (NULL);
	core_lock(c);
	if (!core_usable(c)) {
		core_unlock(c);
		ampsipc_cmd_free(x);
		return (NULL);
	}
	Py_BEGIN_ALLOW_THREADS
	st = ampsipc_execute(c->h, x);
	Py_END_ALLOW_THREADS
	if (st == NULL)
		pyamps_raise_handle(c->h, pyamps_cmd_name(cmd->cmd));
	core_kick(c);
	core_unlock(c);
	ampsipc_cmd_free(x);
	if (st == NULL)
		return (NULL);
	if ((r = stream_new(c, st)) == NULL) {
		core_lock(c);
		ampsipc_stream_close(st);
		core_unlock(c);
	}
	return (r);
}

/* unsubscribe(sub_id=None): one id, a comma list, or all. */
static PyObject *
Client_unsubscribe(ClientObject *self, PyObject *args, PyObject *kw)
{
	static char	*kwlist[] = { "sub_id", "timeout", NULL };
	struct pycore	*c = self->core;
	const char	*id = NULL;
	int		 ms = 10000, rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|zi:unsubscribe", kwlist,
	    &id, &ms))
		return (NULL);
	core_lock(c);
	if (!core_usable(c)) {
		core_unlock(c);
		return (NULL);
	}
	if (core_in_dispatch(c) && c->depth > 1)
		rc = ampsipc_unsubscribe(c->h, id != NULL ? id : "all", 0);
	else {
		Py_BEGIN_ALLOW_THREADS
		rc = ampsipc_unsubscribe(c->h, id != NULL ? id : "all",
		    ms > 0 ? ms : 10000);
		Py_END_ALLOW_THREADS
	}
	if (rc == -1)
		pyamps_raise_handle(c->h, "unsubscribe");
	core_kick(c);
	core_unlock(c);
	if (rc == -1)
		return (NULL);
	Py_RETURN_NONE;
}

/* remove_durable(name, force=False): drop a durable subscription. */
static PyObject *
Client_remove_durable(ClientObject *self, PyObject *args, PyObject *kw)
{
	static char	*kwlist[] = { "name", "force", NULL };
	struct pycore	*c = self->core;
	const char	*name;
	int		 force = 0, rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|p:remove_durable",
	    kwlist, &name, &force))
		return (NULL);
	if (core_in_dispatch(c))
		return (pyamps_error(AMPSIPC_E_USAGE,
		    "a message handler cannot wait"));
	core_lock(c);
	if (!core_usable(c)) {
		core_unlock(c);
		return (NULL);
	}
	Py_BEGIN_ALLOW_THREADS
	rc = ampsipc_unsubscribe_durable(c->h, name, c->conn, force, 10000);
	Py_END_ALLOW_THREADS
	if (rc == -1)
		pyamps_raise_handle(c->h, "remove_durable");
	core_unlock(c);
	if (rc == -1)
		return (NULL);
	Py_RETURN_NONE;
}

struct ack_args {
	const char	*topic, *bm, *opts, *sid;
};

static int
do_ack_bookmark(struct ampsipc *h, void *arg)
{
	struct ack_args	*a = arg;

	return (ampsipc_ack_bookmark(h, a->topic, a->bm, a->sid, a->opts));
}

/* ack(topic, bookmark, options=None, sub_id=None): a queue ack. */
static PyObject *
Client_ack(ClientObject *self, PyObject *args, PyObject *kw)
{
	static char	*kwlist[] = { "topic", "bookmark", "options",
	    "sub_id", NULL };
	struct ack_args	 a = { NULL, NULL, NULL, NULL };

	if (!PyArg_ParseTupleAndKeywords(args, kw, "ss|zz:ack", kwlist,
	    &a.topic, &a.bm, &a.opts, &a.sid))
		return (NULL);
	if (core_do(self->core, "ack", do_ack_bookmark, &a) == -1)
		return (NULL);
	Py_RETURN_NONE;
}

PyMethodDef client_sub_methods[] = {
	{ "execute_async", (PyCFunction)Client_execute_async, METH_VARARGS,
	  "execute_async(command, handler=None): run a command; messages go "
	  "to handler on the receive thread.  Returns the command's id." },
	{ "execute", (PyCFunction)Client_execute, METH_O,
	  "execute(command): run a command; returns a MessageStream." },
	{ "unsubscribe", (PyCFunction)(void (*)(void))Client_unsubscribe,
	  METH_VARARGS | METH_KEYWORDS,
	  "unsubscribe(sub_id=None): one id, a comma list, or all (None)." },
	{ "remove_durable", (PyCFunction)(void (*)(void))Client_remove_durable,
	  METH_VARARGS | METH_KEYWORDS,
	  "remove_durable(name, force=False): forget a durable "
	  "subscription's resume point in ampsd." },
	{ "ack", (PyCFunction)(void (*)(void))Client_ack,
	  METH_VARARGS | METH_KEYWORDS,
	  "ack(topic, bookmark, options=None): acknowledge a queue "
	  "message." },
	{ "set_exception_listener", (PyCFunction)Client_set_exception_listener,
	  METH_O, "Called with exceptions of the receive side." },
	{ "get_exception_listener", (PyCFunction)Client_get_exception_listener,
	  METH_NOARGS, "The exception listener or None." },
	{ "set_last_chance_message_handler",
	  (PyCFunction)Client_set_last_chance_message_handler, METH_O,
	  "Called with messages no handler claims." },
	{ "set_failed_write_handler",
	  (PyCFunction)Client_set_failed_write_handler, METH_O,
	  "Called as fn(message, reason) for publishes AMPS refused." },
	{ "set_disconnect_handler", (PyCFunction)Client_set_disconnect_handler,
	  METH_O, "Called with the error when the connection to ampsd is "
	  "lost." },
	{ "add_connection_state_listener",
	  (PyCFunction)Client_add_connection_state_listener, METH_O,
	  "Called as fn(state) with ConnectionStateListener values." },
	{ "remove_connection_state_listener",
	  (PyCFunction)Client_remove_connection_state_listener, METH_O,
	  "Remove a connection state listener." },
	{ "set_auto_ack", (PyCFunction)Client_set_auto_ack, METH_O,
	  "Queue messages are acked when their handler returns." },
	{ "get_auto_ack", (PyCFunction)Client_get_auto_ack, METH_NOARGS,
	  "Whether auto-ack is on." },
	{ NULL, NULL, 0, NULL }
};
