/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * command.c: the Command type: a command name and its header fields,
 * set with chainable set_xxx() methods (each returns the command), and
 * its translation into a libampsipc command object (command_build).
 *
 * Invariants: strs[] hold str objects or NULL; a num is meaningful only
 * when its bit is in nums_set; the command number is an AMPSIPC_C_*
 * value or CMD_FLUSH / CMD_HEARTBEAT.
 */

#include "config.h"

#include <string.h>

#include "pyamps.h"

/* String fields: index, name, libampsipc field (0: not sent as such). */
#define CMD_STRS(X)							\
	X(0, topic, AMPSIPC_FIELD_TOPIC)				\
	X(1, filter, AMPSIPC_FIELD_FILTER)				\
	X(2, options, AMPSIPC_FIELD_OPTIONS)				\
	X(3, sub_id, AMPSIPC_FIELD_SUB_ID)				\
	X(4, query_id, AMPSIPC_FIELD_QUERY_ID)				\
	X(5, command_id, AMPSIPC_FIELD_COMMAND_ID)			\
	X(6, bookmark, AMPSIPC_FIELD_BOOKMARK)				\
	X(7, order_by, AMPSIPC_FIELD_ORDER_BY)				\
	X(8, correlation_id, AMPSIPC_FIELD_CORRELATION_ID)		\
	X(9, sow_key, AMPSIPC_FIELD_SOW_KEY)				\
	X(10, sow_keys, AMPSIPC_FIELD_SOW_KEYS)

/* Numeric fields. */
#define CMD_NUMS(X)							\
	X(0, batch_size, AMPSIPC_FIELD_BATCH_SIZE)			\
	X(1, top_n, AMPSIPC_FIELD_TOP_N)				\
	X(2, skip_n, AMPSIPC_FIELD_SKIP_N)				\
	X(3, timeout, AMPSIPC_FIELD_TIMEOUT)				\
	X(4, max_backlog, AMPSIPC_FIELD_MAX_BACKLOG)			\
	X(5, expiration, 0)						\
	X(6, sequence, 0)						\
	X(7, ack_type, AMPSIPC_FIELD_ACK_TYPES)

enum {
#define CMD_SENUM(i, name, f)	S_##name = i,
	CMD_STRS(CMD_SENUM)
#undef CMD_SENUM
#define CMD_NENUM(i, name, f)	N_##name = i,
	CMD_NUMS(CMD_NENUM)
#undef CMD_NENUM
};

static const struct {
	const char	*name;
	int		 cmd;
} cmd_names[] = {
	{ "publish", AMPSIPC_C_PUBLISH },
	{ "p", AMPSIPC_C_PUBLISH },
	{ "delta_publish", AMPSIPC_C_DELTA_PUBLISH },
	{ "subscribe", AMPSIPC_C_SUBSCRIBE },
	{ "delta_subscribe", AMPSIPC_C_DELTA_SUBSCRIBE },
	{ "sow", AMPSIPC_C_SOW },
	{ "sow_and_subscribe", AMPSIPC_C_SOW_AND_SUBSCRIBE },
	{ "sow_and_delta_subscribe", AMPSIPC_C_SOW_AND_DELTA_SUBSCRIBE },
	{ "sow_delete", AMPSIPC_C_SOW_DELETE },
	{ "unsubscribe", AMPSIPC_C_UNSUBSCRIBE },
	{ "flush", CMD_FLUSH },
	{ "heartbeat", CMD_HEARTBEAT },
};

static int
cmd_lookup(PyObject *name)
{
	const char	*s;
	size_t		 i;

	if ((s = PyUnicode_AsUTF8(name)) == NULL)
		return (-1);
	for (i = 0; i < sizeof cmd_names / sizeof cmd_names[0]; i++)
		if (strcmp(cmd_names[i].name, s) == 0)
			return (cmd_names[i].cmd);
	PyErr_Format(PyExc_ValueError, "unknown command \"%s\" (publish, "
	    "delta_publish, subscribe, delta_subscribe, sow, "
	    "sow_and_subscribe, sow_and_delta_subscribe, sow_delete, "
	    "unsubscribe, flush, heartbeat)", s);
	return (-1);
}

/* Clear every field. */
static void
cmd_clear(CommandObject *self)
{
	int	i;

	for (i = 0; i < CMD_NSTR; i++)
		Py_CLEAR(self->strs[i]);
	memset(self->nums, 0, sizeof self->nums);
	self->nums_set = 0;
	Py_CLEAR(self->data);
	self->flags = 0;
	self->durable_set = 0;
}

/*
 * Ack types from a str ("processed,completed"), an int mask of
 * AMPSIPC_ACK_* bits, an iterable of names, or None (0).
 */
int
pyamps_parse_ack_types(PyObject *v, uint64_t *bits)
{
	static const char	*names[] = { "received", "parsed",
	    "processed", "persisted", "completed", "stats" };
	PyObject		*parts, *it, *item;
	const char		*s;
	size_t			 i;
	int			 found;

	*bits = 0;
	if (v == Py_None)
		return (0);
	if (PyLong_Check(v)) {
		*bits = PyLong_AsUnsignedLongLong(v);
		return (PyErr_Occurred() ? -1 : 0);
	}
	parts = NULL;
	if (PyUnicode_Check(v)) {
		PyObject *sep = PyUnicode_FromString(",");

		if (sep == NULL)
			return (-1);
		parts = PyUnicode_Split(v, sep, -1);
		Py_DECREF(sep);
		if (parts == NULL)
			return (-1);
		v = parts;
	}
	if ((it = PyObject_GetIter(v)) == NULL) {
		Py_XDECREF(parts);
		return (-1);
	}
	while ((item = PyIter_Next(it)) != NULL) {
		Py_SETREF(item, PyObject_CallMethod(item, "strip", NULL));
		if (item == NULL || (s = PyUnicode_AsUTF8(item)) == NULL)
			goto fail;
		found = s[0] == '\0';
		for (i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strcmp(s, names[i]) == 0) {
				*bits |= 1U << i;
				found = 1;
			}
		if (!found) {
			PyErr_Format(PyExc_ValueError, "unknown ack type "
			    "\"%s\"", s);
			goto fail;
		}
		Py_DECREF(item);
	}
	Py_DECREF(it);
	Py_XDECREF(parts);
	return (PyErr_Occurred() ? -1 : 0);
fail:
	Py_XDECREF(item);
	Py_DECREF(it);
	Py_XDECREF(parts);
	return (-1);
}

static int
Command_init(CommandObject *self, PyObject *args, PyObject *kw)
{
	static char	*kwlist[] = { "command", NULL };
	PyObject	*name;
	int		 c;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "U:Command", kwlist,
	    &name))
		return (-1);
	if ((c = cmd_lookup(name)) == -1)
		return (-1);
	cmd_clear(self);
	self->cmd = c;
	return (0);
}

static void
Command_dealloc(CommandObject *self)
{
	cmd_clear(self);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Command_reset(CommandObject *self, PyObject *name)
{
	int	c;

	if ((c = cmd_lookup(name)) == -1)
		return (NULL);
	cmd_clear(self);
	self->cmd = c;
	return (Py_NewRef(self));
}

/* Set string field i from v (str, bytes or None). */
static PyObject *
cmd_set_str(CommandObject *self, int i, PyObject *v)
{
	PyObject	*s;

	if (v == Py_None)
		s = NULL;
	else if (PyUnicode_Check(v))
		s = Py_NewRef(v);
	else if (PyBytes_Check(v))
		s = PyUnicode_FromEncodedObject(v, "utf-8", "strict");
	else
		s = PyObject_Str(v);
	if (v != Py_None && s == NULL)
		return (NULL);
	Py_XSETREF(self->strs[i], s);
	return (Py_NewRef(self));
}

static PyObject *
cmd_get_str(CommandObject *self, int i)
{
	return (Py_NewRef(self->strs[i] != NULL ? self->strs[i] : Py_None));
}

/* Set numeric field i from v (int or None to clear). */
static PyObject *
cmd_set_num(CommandObject *self, int i, PyObject *v)
{
	unsigned long long	n;

	if (v == Py_None) {
		self->nums_set &= ~(1U << i);
		return (Py_NewRef(self));
	}
	if (i == N_ack_type) {
		uint64_t bits;

		if (pyamps_parse_ack_types(v, &bits) == -1)
			return (NULL);
		n = bits;
	} else {
		n = PyLong_AsUnsignedLongLong(v);
		if (PyErr_Occurred()) {
			if (PyErr_ExceptionMatches(PyExc_OverflowError))
				PyErr_Format(PyExc_ValueError, "a command "
				    "field needs a non-negative integer");
			return (NULL);
		}
	}
	self->nums[i] = n;
	self->nums_set |= 1U << i;
	return (Py_NewRef(self));
}

static PyObject *
cmd_get_num(CommandObject *self, int i)
{
	if (!(self->nums_set & (1U << i)))
		Py_RETURN_NONE;
	return (PyLong_FromUnsignedLongLong(self->nums[i]));
}

#define CMD_STR_FNS(i, name, f)						\
static PyObject *							\
Command_set_##name(CommandObject *self, PyObject *v)			\
{									\
	return (cmd_set_str(self, i, v));				\
}									\
static PyObject *							\
Command_get_##name(CommandObject *self, PyObject *unused)		\
{									\
	return (cmd_get_str(self, i));					\
}
CMD_STRS(CMD_STR_FNS)
#undef CMD_STR_FNS

#define CMD_NUM_FNS(i, name, f)						\
static PyObject *							\
Command_set_##name(CommandObject *self, PyObject *v)			\
{									\
	return (cmd_set_num(self, i, v));				\
}									\
static PyObject *							\
Command_get_##name(CommandObject *self, PyObject *unused)		\
{									\
	return (cmd_get_num(self, i));					\
}
CMD_NUMS(CMD_NUM_FNS)
#undef CMD_NUM_FNS

/* add_ack_type(t): one more ack type. */
static PyObject *
Command_add_ack_type(CommandObject *self, PyObject *v)
{
	uint64_t	bits;

	if (pyamps_parse_ack_types(v, &bits) == -1)
		return (NULL);
	if (!(self->nums_set & (1U << N_ack_type)))
		self->nums[N_ack_type] = 0;
	self->nums[N_ack_type] |= bits;
	self->nums_set |= 1U << N_ack_type;
	return (Py_NewRef(self));
}

static PyObject *
Command_set_data(CommandObject *self, PyObject *v)
{
	PyObject	*b;

	if (v == Py_None)
		b = NULL;
	else if (PyBytes_Check(v))
		b = Py_NewRef(v);
	else if (PyUnicode_Check(v))
		b = PyUnicode_AsUTF8String(v);
	else
		b = PyBytes_FromObject(v);
	if (v != Py_None && b == NULL)
		return (NULL);
	Py_XSETREF(self->data, b);
	return (Py_NewRef(self));
}

static PyObject *
Command_get_data(CommandObject *self, PyObject *unused)
{
	return (Py_NewRef(self->data != NULL ? self->data : Py_None));
}

/* A flag setter: set_durable, set_auto_ack, set_conflate. */
static PyObject *
cmd_flag(CommandObject *self, int flag, PyObject *v)
{
	int	on = PyObject_IsTrue(v);

	if (on == -1)
		return (NULL);
	self->flags = on ? self->flags | flag : self->flags & ~flag;
	if (flag == AMPSIPC_CMDF_DURABLE)
		self->durable_set = 1;
	return (Py_NewRef(self));
}

static PyObject *
Command_set_durable(CommandObject *self, PyObject *v)
{
	return (cmd_flag(self, AMPSIPC_CMDF_DURABLE, v));
}

static PyObject *
Command_set_auto_ack(CommandObject *self, PyObject *v)
{
	return (cmd_flag(self, AMPSIPC_CMDF_AUTO_ACK, v));
}

static PyObject *
Command_get_command(CommandObject *self, PyObject *unused)
{
	size_t	i;

	for (i = 0; i < sizeof cmd_names / sizeof cmd_names[0]; i++)
		if (cmd_names[i].cmd == self->cmd &&
		    strcmp(cmd_names[i].name, "p") != 0)
			return (PyUnicode_FromString(cmd_names[i].name));
	Py_RETURN_NONE;
}

static PyObject *
Command_is_durable(CommandObject *self, PyObject *unused)
{
	return (PyBool_FromLong(self->flags & AMPSIPC_CMDF_DURABLE));
}

/*
 * A libampsipc command for self (not for publish, flush, heartbeat).
 * The durable flag: as set, else on for a bookmark subscription with a
 * sub_id of the program's own (docs/PYTHON.md, "Durable").  -1 with a
 * Python error.
 */
int
command_build(CommandObject *self, struct ampsipc_command **out)
{
	struct ampsipc_command	*c;
	const char		*s;
	int			 rc = 0, flags = self->flags;

	if ((c = ampsipc_cmd_new(self->cmd)) == NULL) {
		PyErr_SetFromErrno(PyExc_OSError);
		return (-1);
	}
#define CMD_PUT_STR(i, name, f)						\
	if (rc == 0 && (f) != 0 && self->strs[i] != NULL) {		\
		if ((s = PyUnicode_AsUTF8(self->strs[i])) == NULL)	\
			rc = -1;					\
		else if (ampsipc_cmd_set_str(c, f, s) == -1)		\
			rc = -2;					\
	}
	CMD_STRS(CMD_PUT_STR)
#undef CMD_PUT_STR
	/* AMPS: a subscription's command id is its sub_id by default. */
	if (rc == 0 && self->strs[S_sub_id] == NULL &&
	    self->strs[S_command_id] != NULL &&
	    self->cmd != AMPSIPC_C_SOW && self->cmd != AMPSIPC_C_SOW_DELETE) {
		if ((s = PyUnicode_AsUTF8(self->strs[S_command_id])) == NULL)
			rc = -1;
		else if (ampsipc_cmd_set_str(c, AMPSIPC_FIELD_SUB_ID, s) == -1)
			rc = -2;
	}
#define CMD_PUT_NUM(i, name, f)						\
	if (rc == 0 && (f) != 0 && (self->nums_set & (1U << i)) &&	\
	    ampsipc_cmd_set_num(c, f, self->nums[i]) == -1)		\
		rc = -2;
	CMD_NUMS(CMD_PUT_NUM)
#undef CMD_PUT_NUM
	if (rc == 0 && self->data != NULL && ampsipc_cmd_set_data(c,
	    PyBytes_AS_STRING(self->data),
	    (size_t)PyBytes_GET_SIZE(self->data)) == -1)
		rc = -2;
	if (!self->durable_set && self->strs[S_bookmark] != NULL &&
	    (self->strs[S_sub_id] != NULL ||
	    self->strs[S_command_id] != NULL) &&
	    (self->cmd == AMPSIPC_C_SUBSCRIBE ||
	    self->cmd == AMPSIPC_C_DELTA_SUBSCRIBE))
		flags |= AMPSIPC_CMDF_DURABLE;
	if (rc == 0)
		(void)ampsipc_cmd_set_flags(c, flags);
	if (rc != 0) {
		if (rc == -2)
			PyErr_SetString(PyExc_ValueError,
			    "a command field was refused by libampsipc");
		ampsipc_cmd_free(c);
		return (-1);
	}
	*out = c;
	return (0);
}

#define CMD_STR_DEFS(i, name, f)					\
	{ "set_" #name, (PyCFunction)Command_set_##name, METH_O,	\
	  "Set the " #name " header; returns the command." },		\
	{ "get_" #name, (PyCFunction)Command_get_##name, METH_NOARGS,	\
	  "The " #name " header, or None." },
#define CMD_NUM_DEFS(i, name, f) CMD_STR_DEFS(i, name, f)

static PyMethodDef Command_methods[] = {
	CMD_STRS(CMD_STR_DEFS)
	CMD_NUMS(CMD_NUM_DEFS)
	{ "set_data", (PyCFunction)Command_set_data, METH_O,
	  "Set the payload (str or bytes); returns the command." },
	{ "get_data", (PyCFunction)Command_get_data, METH_NOARGS,
	  "The payload as bytes, or None." },
	{ "add_ack_type", (PyCFunction)Command_add_ack_type, METH_O,
	  "Ask for one more ack type; returns the command." },
	{ "set_durable", (PyCFunction)Command_set_durable, METH_O,
	  "ampsd: keep this bookmark subscription's resume point under its "
	  "sub_id (on by default with a bookmark and a sub_id)." },
	{ "set_auto_ack", (PyCFunction)Command_set_auto_ack, METH_O,
	  "Queue messages are acked when the handler returns." },
	{ "is_durable", (PyCFunction)Command_is_durable, METH_NOARGS,
	  "Whether set_durable(True) was called." },
	{ "get_command", (PyCFunction)Command_get_command, METH_NOARGS,
	  "The command name." },
	{ "reset", (PyCFunction)Command_reset, METH_O,
	  "reset(command): clear every field and set the command." },
	{ NULL, NULL, 0, NULL }
};

PyTypeObject Command_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "AMPS.Command",
	.tp_basicsize = sizeof(CommandObject),
	.tp_dealloc = (destructor)Command_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Command(name): an AMPS command and its header fields.",
	.tp_methods = Command_methods,
	.tp_init = (initproc)Command_init,
	.tp_new = PyType_GenericNew,
};

/* For client-sub.c: the fields it needs beyond command_build(). */
PyObject	*command_str(CommandObject *, const char *);
PyObject *
command_str(CommandObject *self, const char *name)
{
#define CMD_FIND(i, n, f)	if (strcmp(name, #n) == 0) return (self->strs[i]);
	CMD_STRS(CMD_FIND)
#undef CMD_FIND
	return (NULL);
}

int	command_num(CommandObject *, const char *, uint64_t *);
int
command_num(CommandObject *self, const char *name, uint64_t *v)
{
#define CMD_NFIND(i, n, f)						\
	if (strcmp(name, #n) == 0) {					\
		*v = self->nums[i];					\
		return ((self->nums_set & (1U << i)) != 0);		\
	}
	CMD_NUMS(CMD_NFIND)
#undef CMD_NFIND
	return (0);
}
