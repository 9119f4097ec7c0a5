/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * message.c: the Message type: get_xxx() accessors over a libampsipc
 * message, ack() and discard().
 *
 * Invariants:
 *  1. A Message handed to a handler points into libampsipc's read
 *     buffer (no copy).  When the handler returns, a Message the
 *     program kept (reference count above ours) is detached: its fields
 *     are copied into one allocation it owns, so it stays valid; one it
 *     did not keep is cached by the core and reused for the next
 *     message (cleared to "no message" meanwhile).
 *  2. Messages from streams and listeners are detached from the start.
 *  3. m is NULL or points at a message valid for as long as m is set.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyamps.h"

/* The wire-style command name of an AMPSIPC_C_* value. */
const char *
pyamps_cmd_name(int cmd)
{
	switch (cmd) {
	case AMPSIPC_C_PUBLISH:
		return ("p");
	case AMPSIPC_C_DELTA_PUBLISH:
		return ("delta_publish");
	case AMPSIPC_C_SUBSCRIBE:
		return ("subscribe");
	case AMPSIPC_C_DELTA_SUBSCRIBE:
		return ("delta_subscribe");
	case AMPSIPC_C_SOW:
		return ("sow");
	case AMPSIPC_C_SOW_AND_SUBSCRIBE:
		return ("sow_and_subscribe");
	case AMPSIPC_C_SOW_AND_DELTA_SUBSCRIBE:
		return ("sow_and_delta_subscribe");
	case AMPSIPC_C_SOW_DELETE:
		return ("sow_delete");
	case AMPSIPC_C_UNSUBSCRIBE:
		return ("unsubscribe");
	case AMPSIPC_C_ACK:
		return ("ack");
	case AMPSIPC_C_OOF:
		return ("oof");
	case AMPSIPC_C_GROUP_BEGIN:
		return ("group_begin");
	case AMPSIPC_C_GROUP_END:
		return ("group_end");
	default:
		return ("");
	}
}

/* The name of one AMPSIPC_ACK_* bit ("" for none). */
const char *
pyamps_ack_name(int bit)
{
	switch (bit) {
	case AMPSIPC_ACK_RECEIVED:
		return ("received");
	case AMPSIPC_ACK_PARSED:
		return ("parsed");
	case AMPSIPC_ACK_PROCESSED:
		return ("processed");
	case AMPSIPC_ACK_PERSISTED:
		return ("persisted");
	case AMPSIPC_ACK_COMPLETED:
		return ("completed");
	case AMPSIPC_ACK_STATS:
		return ("stats");
	default:
		return ("");
	}
}

/* The string members of struct ampsipc_message, for copying. */
#define MSG_STRS(X)							\
	X(topic) X(sub_id) X(sub_ids) X(query_id) X(bookmark) X(sow_key)	\
	X(correlation_id) X(timestamp) X(lease_period) X(user_id)	\
	X(reason) X(options)

/* The command id header (libampsipc may leave it NULL when absent). */
static const char *
msg_cid(const struct ampsipc_message *m)
{
	return (m->command_id != NULL ? m->command_id : "");
}

/* Copy *m into self->own (invariant 1).  -1 with MemoryError. */
static int
message_detach(MessageObject *self)
{
	const struct ampsipc_message	*m = self->m;
	size_t				 n = m->len + 1;
	char				*p;

	if (m == &self->own)
		return (0);
#define MSG_LEN(f)	n += strlen(m->f) + 1;
	MSG_STRS(MSG_LEN)
#undef MSG_LEN
	n += strlen(msg_cid(m)) + 1;
	if ((p = malloc(n)) == NULL) {
		PyErr_NoMemory();
		return (-1);
	}
	free(self->buf);
	self->buf = p;
	self->own = *m;
	if (m->len > 0)
		memcpy(p, m->data, m->len);
	p[m->len] = '\0';
	self->own.data = p;
	p += m->len + 1;
#define MSG_COPY(f)	n = strlen(m->f) + 1; memcpy(p, m->f, n);	\
			self->own.f = p; p += n;
	MSG_STRS(MSG_COPY)
#undef MSG_COPY
	n = strlen(msg_cid(m)) + 1;
	memcpy(p, msg_cid(m), n);
	self->own.command_id = p;
	self->m = &self->own;
	return (0);
}

static MessageObject *
message_alloc(void)
{
	return (PyObject_New(MessageObject, &Message_Type));
}

/* A Message over m for a handler (invariant 1).  New reference. */
PyObject *
message_wrap(struct pycore *c, const struct ampsipc_message *m)
{
	MessageObject	*self;

	if ((self = (MessageObject *)c->msg_cache) != NULL)
		c->msg_cache = NULL;
	else if ((self = message_alloc()) == NULL)
		return (NULL);
	else
		self->buf = NULL;
	self->m = m;
	self->core = c;
	core_ref(c);
	return ((PyObject *)self);
}

/* The handler returned: detach a kept message or cache it. */
void
message_done(struct pycore *c, PyObject *o)
{
	MessageObject	*self = (MessageObject *)o;

	if (Py_REFCNT(o) > 1) {
		if (message_detach(self) == -1) {
			PyErr_Clear();
			self->m = NULL;
		}
		Py_DECREF(o);
		return;
	}
	if (c->msg_cache != NULL) {	/* a nested dispatch's: drop it */
		self->m = NULL;
		Py_DECREF(o);
		return;
	}
	self->m = NULL;
	self->core = NULL;
	core_unref(c);
	c->msg_cache = o;
}

/* A detached Message (streams, listeners).  New reference. */
PyObject *
message_copy(struct pycore *c, const struct ampsipc_message *m)
{
	MessageObject	*self;

	if ((self = message_alloc()) == NULL)
		return (NULL);
	self->buf = NULL;
	self->core = c;
	self->m = m;
	if (c != NULL)
		core_ref(c);
	if (message_detach(self) == -1) {
		self->m = NULL;
		Py_DECREF(self);
		return (NULL);
	}
	return ((PyObject *)self);
}

static void
Message_dealloc(MessageObject *self)
{
	free(self->buf);
	if (self->core != NULL)
		core_unref(self->core);
	PyObject_Free(self);
}

static PyObject *
Message_new(PyTypeObject *t, PyObject *args, PyObject *kw)
{
	static const struct ampsipc_message	 empty = {
		.topic = "", .data = "", .sub_id = "", .sub_ids = "",
		.query_id = "", .bookmark = "", .sow_key = "",
		.correlation_id = "", .timestamp = "", .lease_period = "",
		.user_id = "", .reason = "", .options = ""
	};

	return (message_copy(NULL, &empty));
}

/* The message, or NULL with an error when there is none. */
static const struct ampsipc_message *
msg(MessageObject *self)
{
	if (self->m == NULL)
		PyErr_SetString(PyExc_ValueError,
		    "this message is no longer valid");
	return (self->m);
}

#define MSG_STR_GETTER(f)						\
static PyObject *							\
Message_get_##f(MessageObject *self, PyObject *unused)			\
{									\
	const struct ampsipc_message *m = msg(self);			\
									\
	return (m == NULL ? NULL : PyUnicode_DecodeUTF8(m->f,		\
	    (Py_ssize_t)strlen(m->f), "surrogateescape"));		\
}
MSG_STRS(MSG_STR_GETTER)
#undef MSG_STR_GETTER

#define MSG_NUMS(X)							\
	X(sequence, seq) X(group_sequence, group_seq) X(matches, matches) \
	X(topic_matches, topic_matches)					\
	X(records_returned, records_returned)				\
	X(records_inserted, records_inserted)				\
	X(records_updated, records_updated)				\
	X(records_deleted, records_deleted)				\
	X(max_backlog, max_backlog) X(error_code, error)		\
	X(connection_id, conn_id) X(message_length, len)

#define MSG_NUM_GETTER(name, f)						\
static PyObject *							\
Message_get_##name(MessageObject *self, PyObject *unused)		\
{									\
	const struct ampsipc_message *m = msg(self);			\
									\
	return (m == NULL ? NULL :					\
	    PyLong_FromUnsignedLongLong((unsigned long long)m->f));	\
}
MSG_NUMS(MSG_NUM_GETTER)
#undef MSG_NUM_GETTER

static PyObject *
Message_get_data(MessageObject *self, PyObject *unused)
{
	const struct ampsipc_message	*m = msg(self);

	return (m == NULL ? NULL : PyUnicode_DecodeUTF8(m->data,
	    (Py_ssize_t)m->len, "surrogateescape"));
}

static PyObject *
Message_get_data_raw(MessageObject *self, PyObject *unused)
{
	const struct ampsipc_message	*m = msg(self);

	return (m == NULL ? NULL : PyBytes_FromStringAndSize(m->data,
	    (Py_ssize_t)m->len));
}

static PyObject *
Message_get_command(MessageObject *self, PyObject *unused)
{
	const struct ampsipc_message	*m = msg(self);

	return (m == NULL ? NULL :
	    PyUnicode_FromString(pyamps_cmd_name(m->command)));
}

static PyObject *
Message_get_command_id(MessageObject *self, PyObject *unused)
{
	const struct ampsipc_message	*m = msg(self);

	if (m == NULL)
		return (NULL);
	if (msg_cid(m)[0] != '\0')	/* the command's own id */
		return (PyUnicode_FromString(msg_cid(m)));
	return (PyUnicode_FromString(m->sub_id[0] != '\0' ? m->sub_id :
	    m->query_id));
}

static PyObject *
Message_get_ack_type(MessageObject *self, PyObject *unused)
{
	const struct ampsipc_message	*m = msg(self);

	return (m == NULL ? NULL :
	    PyUnicode_FromString(pyamps_ack_name(m->ack_type)));
}

static PyObject *
Message_get_status(MessageObject *self, PyObject *unused)
{
	const struct ampsipc_message	*m = msg(self);

	if (m == NULL)
		return (NULL);
	if (m->command != AMPSIPC_C_ACK)
		return (PyUnicode_FromString(""));
	return (PyUnicode_FromString(m->status == 0 ? "success" : "failure"));
}

struct msg_act {
	const struct ampsipc_message	*m;
	const char			*opts;
};

static int
do_ack(struct ampsipc *h, void *arg)
{
	struct msg_act	*a = arg;

	return (ampsipc_ack(h, a->m, a->opts));
}

static int
do_discard(struct ampsipc *h, void *arg)
{
	return (ampsipc_discard(h, ((struct msg_act *)arg)->m));
}

/* Ack or discard self through its client. */
static PyObject *
message_act(MessageObject *self, const char *what,
    int (*fn)(struct ampsipc *, void *), const char *opts)
{
	struct msg_act	a;

	if ((a.m = msg(self)) == NULL)
		return (NULL);
	if (self->core == NULL)
		return (pyamps_error(AMPSIPC_E_USAGE,
		    "this message did not come from a client"));
	a.opts = opts;
	if (core_do(self->core, what, fn, &a) == -1)
		return (NULL);
	Py_RETURN_NONE;
}

/* ack(options=None): acknowledge a queue message (no-op otherwise). */
static PyObject *
Message_ack(MessageObject *self, PyObject *args, PyObject *kw)
{
	static char	*kwlist[] = { "options", NULL };
	const char	*opts = NULL;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|z:ack", kwlist, &opts))
		return (NULL);
	if (self->m != NULL && self->m->lease_period[0] == '\0' &&
	    self->core != NULL)
		Py_RETURN_NONE;
	return (message_act(self, "ack", do_ack, opts));
}

/* discard(): a durable subscription processed this message. */
static PyObject *
Message_discard(MessageObject *self, PyObject *unused)
{
	return (message_act(self, "discard", do_discard, NULL));
}

/* copy(): a detached copy (the AMPS client's handlers reuse messages). */
static PyObject *
Message_copy(MessageObject *self, PyObject *unused)
{
	const struct ampsipc_message	*m = msg(self);

	return (m == NULL ? NULL : message_copy(self->core, m));
}

static PyObject *
Message_repr(MessageObject *self)
{
	const struct ampsipc_message	*m = self->m;

	if (m == NULL)
		return (PyUnicode_FromString("<AMPS.Message (invalid)>"));
	return (PyUnicode_FromFormat("<AMPS.Message %s topic=%s sub_id=%s "
	    "bookmark=%s len=%zu>", pyamps_cmd_name(m->command), m->topic,
	    m->sub_id, m->bookmark, m->len));
}

#define MSG_STR_DEF(f)	{ "get_" #f, (PyCFunction)Message_get_##f,	\
	METH_NOARGS, "The " #f " header, \"\" if absent." },
#define MSG_NUM_DEF(name, f) { "get_" #name,				\
	(PyCFunction)Message_get_##name, METH_NOARGS, "The " #name "." },

static PyMethodDef Message_methods[] = {
	MSG_STRS(MSG_STR_DEF)
	MSG_NUMS(MSG_NUM_DEF)
	{ "get_data", (PyCFunction)Message_get_data, METH_NOARGS,
	  "The payload as str (UTF-8; undecodable bytes kept as surrogates)." },
	{ "get_data_raw", (PyCFunction)Message_get_data_raw, METH_NOARGS,
	  "The payload as bytes." },
	{ "get_command", (PyCFunction)Message_get_command, METH_NOARGS,
	  "The command: one of the Message.Command constants." },
	{ "get_command_id", (PyCFunction)Message_get_command_id, METH_NOARGS,
	  "The id of the command this message belongs to: its command id "
	  "(Command.set_command_id), else its sub_id or query_id." },
	{ "get_ack_type", (PyCFunction)Message_get_ack_type, METH_NOARGS,
	  "An ack's type: one of the Message.AckType constants." },
	{ "get_status", (PyCFunction)Message_get_status, METH_NOARGS,
	  "An ack's status: \"success\" or \"failure\"." },
	{ "ack", (PyCFunction)(void (*)(void))Message_ack,
	  METH_VARARGS | METH_KEYWORDS,
	  "ack(options=None): acknowledge this queue message." },
	{ "discard", (PyCFunction)Message_discard, METH_NOARGS,
	  "Mark this message of a durable subscription processed." },
	{ "copy", (PyCFunction)Message_copy, METH_NOARGS,
	  "A copy that stays valid." },
	{ "__copy__", (PyCFunction)Message_copy, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

PyTypeObject Message_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "AMPS.Message",
	.tp_basicsize = sizeof(MessageObject),
	.tp_dealloc = (destructor)Message_dealloc,
	.tp_repr = (reprfunc)Message_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "One AMPS message, SOW record or acknowledgement.",
	.tp_methods = Message_methods,
	.tp_new = Message_new,
};
