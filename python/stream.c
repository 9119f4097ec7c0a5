/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * stream.c: the MessageStream type: an iterator over the messages of a
 * command run without a handler (libampsipc's synchronous streams).
 *
 * Invariants: st is NULL once closed (closing unsubscribes a running
 * subscription); every call on st is made with the core's lock held;
 * each yielded Message is a detached copy; a wait runs in slices with
 * the GIL released and stops on a signal (Ctrl-C) or at the stream's
 * timeout, which ends this iteration without closing the stream; an
 * interrupted wait leaves the stream open.  With max_depth(n) the
 * stream holds at most n unread messages: libampsipc stops reading
 * from ampsd while it holds n, and every call that takes one out (or
 * closes the stream) wakes the receive thread once the hold is over
 * (core_resume).
 */

#include "config.h"

#include <time.h>
#include <unistd.h>

#include "pyamps.h"

PyObject *
stream_new(struct pycore *c, struct ampsipc_stream *st)
{
	StreamObject	*self;

	if ((self = PyObject_New(StreamObject, &Stream_Type)) == NULL)
		return (NULL);
	self->core = c;
	core_ref(c);
	self->st = st;
	self->timeout_ms = 0;
	self->max_depth = 0;
	self->done = 0;
	return ((PyObject *)self);
}

/* Close the stream (unsubscribing if it still runs). */
static void
stream_close(StreamObject *self)
{
	struct pycore	*c = self->core;
	int		 held;

	if (self->st == NULL)
		return;
	if (c->pid != pyamps_pid) {
		self->st = NULL;	/* the parent's; leave it alone */
		return;
	}
	core_lock(c);
	held = c->h != NULL && ampsipc_held(c->h);
	ampsipc_stream_close(self->st);
	self->st = NULL;
	core_resume(c, held);
	core_kick(c);
	core_unlock(c);
}

static void
Stream_dealloc(StreamObject *self)
{
	stream_close(self);
	core_unref(self->core);
	PyObject_Free(self);
}

static PyObject *
Stream_iter(StreamObject *self)
{
	return (Py_NewRef(self));
}

static int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static PyObject *
Stream_next(StreamObject *self)
{
	struct pycore			*c = self->core;
	const struct ampsipc_message	*m;
	PyObject			*msg;
	int64_t				 deadline = 0, left;
	int				 rc, slice, held;

	if (self->st == NULL || self->done)
		return (NULL);
	if (c->pid != pyamps_pid)
		return (pyamps_error(AMPSIPC_E_DISCONNECTED, "this stream "
		    "belongs to the process that created it (fork)"));
	if (core_in_dispatch(c))
		return (pyamps_error(AMPSIPC_E_USAGE,
		    "a message handler cannot wait on a stream"));
	if (self->timeout_ms > 0)
		deadline = mono_ms() + self->timeout_ms;
	for (;;) {
		slice = PYAMPS_SLICE_MS;
		if (deadline != 0) {
			if ((left = deadline - mono_ms()) <= 0)
				return (NULL);	/* timeout: ends this loop */
			if (left < slice)
				slice = (int)left;
		}
		core_lock(c);
		if (c->h == NULL) {
			core_unlock(c);
			stream_close(self);
			return (NULL);
		}
		held = ampsipc_held(c->h);
		Py_BEGIN_ALLOW_THREADS
		rc = ampsipc_stream_next(self->st, &m, slice);
		Py_END_ALLOW_THREADS
		core_resume(c, held);
		if (rc == 1) {
			msg = message_copy(c, m);
			core_kick(c);
			core_unlock(c);
			return (msg);
		}
		if (rc == -1 && PyErr_Occurred()) {
			/* Ctrl-C in the wait (the wait check): the stream
			 * stays open and can be iterated again. */
			core_kick(c);
			core_unlock(c);
			return (NULL);
		}
		if (rc == -1) {
			if (ampsipc_error(c->h) != AMPSIPC_E_OK)
				pyamps_raise_handle(c->h, "stream");
			core_unlock(c);
			stream_close(self);
			return (NULL);
		}
		core_kick(c);
		core_unlock(c);
		if (PyErr_CheckSignals() < 0)
			return (NULL);
	}
}

/* timeout(ms): the iteration ends when nothing comes in ms (0: never). */
static PyObject *
Stream_timeout(StreamObject *self, PyObject *v)
{
	long	ms = PyLong_AsLong(v);

	if (ms == -1 && PyErr_Occurred())
		return (NULL);
	self->timeout_ms = ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
	return (Py_NewRef(self));
}

/*
 * max_depth(n): hold at most n unread messages (0: no bound); while the
 * stream holds n, nothing more is taken from ampsd.
 */
static PyObject *
Stream_max_depth(StreamObject *self, PyObject *v)
{
	struct pycore	*c = self->core;
	long		 n = PyLong_AsLong(v);
	int		 held;

	if (n == -1 && PyErr_Occurred())
		return (NULL);
	if (n < 0) {
		PyErr_SetString(PyExc_ValueError, "max_depth must be >= 0");
		return (NULL);
	}
	self->max_depth = n;
	if (self->st != NULL && c->pid == pyamps_pid) {
		core_lock(c);
		held = c->h != NULL && ampsipc_held(c->h);
		ampsipc_stream_max_depth(self->st, (size_t)n);
		core_resume(c, held);
		core_unlock(c);
	}
	return (Py_NewRef(self));
}

static PyObject *
Stream_get_max_depth(StreamObject *self, PyObject *unused)
{
	return (PyLong_FromLong(self->max_depth));
}

static PyObject *
Stream_conflate(StreamObject *self, PyObject *unused)
{
	struct pycore	*c = self->core;

	if (self->st != NULL && c->pid == pyamps_pid) {
		core_lock(c);
		ampsipc_stream_conflate(self->st);
		core_unlock(c);
	}
	return (Py_NewRef(self));
}

static PyObject *
Stream_get_depth(StreamObject *self, PyObject *unused)
{
	struct pycore	*c = self->core;
	size_t		 n = 0;

	if (self->st != NULL && c->pid == pyamps_pid) {
		core_lock(c);
		n = ampsipc_stream_pending(self->st);
		core_unlock(c);
	}
	return (PyLong_FromSize_t(n));
}

static PyObject *
Stream_close(StreamObject *self, PyObject *unused)
{
	stream_close(self);
	Py_RETURN_NONE;
}

static PyObject *
Stream_enter(StreamObject *self, PyObject *unused)
{
	return (Py_NewRef(self));
}

static PyObject *
Stream_exit(StreamObject *self, PyObject *args)
{
	stream_close(self);
	Py_RETURN_FALSE;
}

static PyMethodDef Stream_methods[] = {
	{ "timeout", (PyCFunction)Stream_timeout, METH_O,
	  "timeout(ms): end the iteration when no message comes in ms; "
	  "returns the stream." },
	{ "max_depth", (PyCFunction)Stream_max_depth, METH_O,
	  "max_depth(n): hold at most n unread messages; while it holds n "
	  "the client takes nothing more from ampsd (0: no bound).  Returns "
	  "the stream." },
	{ "get_max_depth", (PyCFunction)Stream_get_max_depth, METH_NOARGS,
	  "The max_depth given." },
	{ "get_depth", (PyCFunction)Stream_get_depth, METH_NOARGS,
	  "Messages waiting in the stream." },
	{ "conflate", (PyCFunction)Stream_conflate, METH_NOARGS,
	  "Keep only the latest message per SOW key; returns the stream." },
	{ "close", (PyCFunction)Stream_close, METH_NOARGS,
	  "Close the stream (unsubscribes)." },
	{ "__enter__", (PyCFunction)Stream_enter, METH_NOARGS, NULL },
	{ "__exit__", (PyCFunction)Stream_exit, METH_VARARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

PyTypeObject Stream_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "AMPS.MessageStream",
	.tp_basicsize = sizeof(StreamObject),
	.tp_dealloc = (destructor)Stream_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "The messages of a command run without a handler.",
	.tp_iter = (getiterfunc)Stream_iter,
	.tp_iternext = (iternextfunc)Stream_next,
	.tp_methods = Stream_methods,
};
