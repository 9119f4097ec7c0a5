/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * client-pub.c: the Client's publishing methods: publish and
 * delta_publish (the fast path: one try-lock, one libampsipc call, one
 * kick of the receive thread per batch), publish_flush, wait_stored,
 * the publish counters, ping and what the handshake said.
 *
 * Invariants: the lock is held around every libampsipc call (pyamps.h);
 * a publish that meets the output limit waits with the GIL released
 * (core_wait) and is then retried, never dropped; the payload buffer is
 * released on every path.
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyamps.h"

/* The str or bytes-like value of a publish: pointer and length. */
static int
pub_bytes(PyObject *o, const char **p, Py_ssize_t *len, Py_buffer *view)
{
	view->obj = NULL;
	if (PyBytes_Check(o)) {
		*p = PyBytes_AS_STRING(o);
		*len = PyBytes_GET_SIZE(o);
		return (0);
	}
	if (PyUnicode_Check(o))
		return ((*p = PyUnicode_AsUTF8AndSize(o, len)) == NULL ? -1 : 0);
	if (PyObject_GetBuffer(o, view, PyBUF_SIMPLE) == -1)
		return (-1);
	*p = view->buf;
	*len = view->len;
	return (0);
}

/* Wait condition for a full output queue: let the daemon take some. */
static int
pub_drain(struct ampsipc *h, int ms)
{
	if (ampsipc_poll(h, ms) == -1)
		return (-1);
	if (ampsipc_outq(h) >= 2U * 1024 * 1024) {
		errno = ETIMEDOUT;
		return (-1);
	}
	return (0);
}

/*
 * publish / delta_publish: (topic, data, expiration=None) and the
 * keyword-only correlation_id and sow_key (Command publishes).
 */
static PyObject *
client_publish(ClientObject *self, int delta, PyObject *const *args,
    Py_ssize_t nargs, PyObject *kwnames)
{
	struct pycore		*c = self->core;
	struct ampsipc_pubopts	 o, *op = NULL;
	PyObject		*topic, *data, *exp = Py_None, *cid = NULL,
				*key = NULL, *v;
	const char		*t, *d;
	Py_ssize_t		 tlen, dlen, i, nkw;
	Py_buffer		 view;
	int			 rc;

	nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
	if (nargs < 2 || nargs > 3) {
		PyErr_SetString(PyExc_TypeError,
		    "publish(topic, data, expiration=None)");
		return (NULL);
	}
	topic = args[0];
	data = args[1];
	if (nargs == 3)
		exp = args[2];
	for (i = 0; i < nkw; i++) {
		const char *k = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, i));

		v = args[nargs + i];
		if (k == NULL)
			return (NULL);
		if (strcmp(k, "expiration") == 0)
			exp = v;
		else if (strcmp(k, "correlation_id") == 0)
			cid = v;
		else if (strcmp(k, "sow_key") == 0)
			key = v;
		else {
			PyErr_Format(PyExc_TypeError,
			    "publish() got an unexpected keyword '%s'", k);
			return (NULL);
		}
	}
	if (!PyUnicode_Check(topic)) {
		PyErr_SetString(PyExc_TypeError, "topic must be a str");
		return (NULL);
	}
	if ((t = PyUnicode_AsUTF8AndSize(topic, &tlen)) == NULL)
		return (NULL);
	memset(&o, 0, sizeof o);
	if (exp != Py_None || c->conn != NULL || (cid != NULL &&
	    cid != Py_None) || (key != NULL && key != Py_None)) {
		op = &o;
		o.conn = c->conn;
		if (exp != Py_None) {
			unsigned long e = PyLong_AsUnsignedLong(exp);

			if (e == (unsigned long)-1 && PyErr_Occurred())
				return (NULL);
			if (e > UINT32_MAX) {
				PyErr_SetString(PyExc_ValueError,
				    "expiration is above 2^32-1 seconds");
				return (NULL);
			}
			o.expiration = (uint32_t)e;
			o.flags |= AMPSIPC_PUB_EXPIRATION;
		}
		if (cid != NULL && cid != Py_None &&
		    (o.correlation_id = PyUnicode_AsUTF8(cid)) == NULL)
			return (NULL);
		if (key != NULL && key != Py_None &&
		    (o.sow_key = PyUnicode_AsUTF8(key)) == NULL)
			return (NULL);
	}
	if (pub_bytes(data, &d, &dlen, &view) == -1)
		return (NULL);
	core_lock(c);
	for (;;) {
		if (!core_usable(c)) {
			rc = -1;
			break;
		}
		rc = delta ? ampsipc_delta_publish(c->h, t, d, (size_t)dlen,
		    op, NULL) : ampsipc_publish(c->h, t, d, (size_t)dlen, op,
		    NULL);
		if (rc == 0 || errno != EAGAIN) {
			if (rc == -1)
				pyamps_raise_handle(c->h, "publish");
			break;
		}
		/* The output limit: wait (not from a handler: the library
		 * queues beyond the limit there instead of failing). */
		core_unlock(c);
		if (core_wait(c, pub_drain, 0, "publish") == -1) {
			if (view.obj != NULL)
				PyBuffer_Release(&view);
			return (NULL);
		}
		core_lock(c);
	}
	if (rc == 0)
		core_kick(c);
	core_unlock(c);
	if (view.obj != NULL)
		PyBuffer_Release(&view);
	if (rc == -1)
		return (NULL);
	Py_RETURN_NONE;
}

static PyObject *
Client_publish(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames)
{
	return (client_publish(self, 0, args, nargs, kwnames));
}

static PyObject *
Client_delta_publish(ClientObject *self, PyObject *const *args,
    Py_ssize_t nargs, PyObject *kwnames)
{
	return (client_publish(self, 1, args, nargs, kwnames));
}

/* A timeout argument in ms (AMPS style: 0 or None waits for ever). */
static int
timeout_arg(PyObject *args, PyObject *kw, const char *fmt, int *ms)
{
	static char	*kwlist[] = { "timeout", NULL };
	PyObject	*t = Py_None;
	long		 v;

	if (!PyArg_ParseTupleAndKeywords(args, kw, fmt, kwlist, &t))
		return (-1);
	*ms = 0;
	if (t == Py_None)
		return (0);
	if ((v = PyLong_AsLong(t)) == -1 && PyErr_Occurred())
		return (-1);
	*ms = v < 0 ? 0 : v > INT32_MAX ? INT32_MAX : (int)v;
	return (0);
}

static PyObject *
Client_publish_flush(ClientObject *self, PyObject *args, PyObject *kw)
{
	int	ms;

	if (timeout_arg(args, kw, "|O:publish_flush", &ms) == -1)
		return (NULL);
	/* Stored first (no request per slice), then persisted by AMPS. */
	if (core_wait(self->core, ampsipc_wait_stored, ms,
	    "publish_flush") == -1 ||
	    core_wait(self->core, ampsipc_publish_flush, ms,
	    "publish_flush") == -1)
		return (NULL);
	Py_RETURN_NONE;
}

static PyObject *
Client_wait_stored(ClientObject *self, PyObject *args, PyObject *kw)
{
	int	ms;

	if (timeout_arg(args, kw, "|O:wait_stored", &ms) == -1)
		return (NULL);
	if (core_wait(self->core, ampsipc_wait_stored, ms,
	    "wait_stored") == -1)
		return (NULL);
	Py_RETURN_NONE;
}

/* One of the handle's counters, 0 when not connected. */
static PyObject *
client_count(ClientObject *self, uint64_t (*fn)(const struct ampsipc *))
{
	struct pycore	*c = self->core;
	uint64_t	 n = 0;

	if (c->pid != pyamps_pid)
		return (PyLong_FromLong(0));
	core_lock(c);
	if (c->h != NULL)
		n = fn(c->h);
	core_unlock(c);
	return (PyLong_FromUnsignedLongLong(n));
}

static PyObject *
Client_get_unpersisted_count(ClientObject *self, PyObject *unused)
{
	return (client_count(self, ampsipc_unpersisted));
}

static PyObject *
Client_get_unstored_count(ClientObject *self, PyObject *unused)
{
	return (client_count(self, ampsipc_unstored));
}

static PyObject *
Client_get_failed_count(ClientObject *self, PyObject *unused)
{
	return (client_count(self, ampsipc_failed));
}

static PyObject *
Client_ping(ClientObject *self, PyObject *args, PyObject *kw)
{
	struct pycore	*c = self->core;
	int		 ms, rc;

	if (timeout_arg(args, kw, "|O:ping", &ms) == -1)
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
	rc = ampsipc_ping(c->h, ms > 0 ? ms : 10000);
	Py_END_ALLOW_THREADS
	if (rc == -1)
		pyamps_raise_handle(c->h, "ping");
	core_unlock(c);
	if (rc == -1)
		return (NULL);
	Py_RETURN_NONE;
}

/* The daemon's version and default connection, from the handshake. */
static PyObject *
client_hello(ClientObject *self, int which)
{
	struct pycore	*c = self->core;
	PyObject	*r;

	if (c->pid != pyamps_pid)
		Py_RETURN_NONE;
	core_lock(c);
	if (c->h == NULL)
		r = Py_NewRef(Py_None);
	else
		r = PyUnicode_FromString(which ? ampsipc_default_conn(c->h) :
		    ampsipc_daemon_version(c->h));
	core_unlock(c);
	return (r);
}

static PyObject *
Client_get_server_version(ClientObject *self, PyObject *unused)
{
	return (client_hello(self, 0));
}

static PyObject *
Client_get_default_connection(ClientObject *self, PyObject *unused)
{
	return (client_hello(self, 1));
}

PyMethodDef client_pub_methods[] = {
	{ "publish", (PyCFunction)(void (*)(void))Client_publish,
	  METH_FASTCALL | METH_KEYWORDS,
	  "publish(topic, data, expiration=None): queue a publish." },
	{ "delta_publish", (PyCFunction)(void (*)(void))Client_delta_publish,
	  METH_FASTCALL | METH_KEYWORDS,
	  "delta_publish(topic, data, expiration=None)." },
	{ "publish_flush", (PyCFunction)(void (*)(void))Client_publish_flush,
	  METH_VARARGS | METH_KEYWORDS,
	  "publish_flush(timeout=0): wait until AMPS persisted every "
	  "publish (ms; 0 waits for ever)." },
	{ "wait_stored", (PyCFunction)(void (*)(void))Client_wait_stored,
	  METH_VARARGS | METH_KEYWORDS,
	  "wait_stored(timeout=0): wait until ampsd stored every publish; "
	  "the program may then exit." },
	{ "ping", (PyCFunction)(void (*)(void))Client_ping,
	  METH_VARARGS | METH_KEYWORDS, "Round trip to ampsd." },
	{ "get_unpersisted_count", (PyCFunction)Client_get_unpersisted_count,
	  METH_NOARGS, "Publishes not yet persisted by AMPS (nor failed)." },
	{ "get_unstored_count", (PyCFunction)Client_get_unstored_count,
	  METH_NOARGS, "Publishes not yet stored by ampsd." },
	{ "get_failed_count", (PyCFunction)Client_get_failed_count,
	  METH_NOARGS, "Publishes AMPS refused." },
	{ "get_server_version", (PyCFunction)Client_get_server_version,
	  METH_NOARGS, "ampsd's version." },
	{ "get_default_connection",
	  (PyCFunction)Client_get_default_connection, METH_NOARGS,
	  "ampsd's default connection name." },
	{ NULL, NULL, 0, NULL }
};
