/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * ampsmodule.c: the AMPS._amps extension module: its init, the mapping
 * of libampsipc error codes onto the AMPS exception classes (defined
 * in AMPS/__init__.py and handed over with _set_errors), and taking the
 * GIL from libampsipc callbacks.
 *
 * Invariant: every exception raised for a libampsipc error is an
 * instance of the class registered for its code (the base class when
 * none is), with the attribute code set to the libampsipc number.
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "pyamps.h"

pid_t		 pyamps_pid;	/* this process (pyamps.h) */

static PyObject	*error_map;	/* dict: int code -> class */
static PyObject	*error_base;	/* AMPSError */
static PyObject	*error_already;	/* AlreadyConnectedError */

int	client_type_ready(void);

/* The class for code (borrowed); -1 means "already connected". */
static PyObject *
error_class(int code)
{
	PyObject	*k, *cls = NULL;

	if (code == -1 && error_already != NULL)
		return (error_already);
	if (error_map != NULL && (k = PyLong_FromLong(code)) != NULL) {
		cls = PyDict_GetItemWithError(error_map, k);
		Py_DECREF(k);
	}
	if (cls == NULL)
		cls = error_base != NULL ? error_base : PyExc_RuntimeError;
	return (cls);
}

/*
 * The class for code, for PyErr_Format (borrowed).  With text, an
 * instance instead (a new reference), for listeners.
 */
PyObject *
pyamps_error_obj(int code, const char *text)
{
	PyObject	*cls = error_class(code), *e, *n;

	if (text == NULL)
		return (cls);
	if ((e = PyObject_CallFunction(cls, "s", text)) == NULL)
		return (NULL);
	if ((n = PyLong_FromLong(code)) != NULL) {
		(void)PyObject_SetAttrString(e, "code", n);
		Py_DECREF(n);
	}
	PyErr_Clear();
	return (e);
}

/* Raise the class of code with text.  Returns NULL. */
PyObject *
pyamps_error(int code, const char *text)
{
	PyObject	*e;

	if ((e = pyamps_error_obj(code, text)) == NULL)
		return (NULL);
	PyErr_SetObject((PyObject *)Py_TYPE(e), e);
	Py_DECREF(e);
	return (NULL);
}

/* Raise the handle's last error, prefixed with what.  Returns NULL. */
PyObject *
pyamps_raise_handle(struct ampsipc *h, const char *what)
{
	char		 buf[512];
	const char	*msg = ampsipc_errmsg(h);
	int		 code = ampsipc_error(h);

	if (PyErr_Occurred())	/* the wait check's KeyboardInterrupt */
		return (NULL);
	if (code == AMPSIPC_E_OK)
		code = AMPSIPC_E_UNKNOWN;
	snprintf(buf, sizeof buf, "%s: %s", what, msg[0] != '\0' ? msg :
	    ampsipc_strerror(code));
	return (pyamps_error(code, buf));
}

/*
 * Take the GIL in a libampsipc callback.  On the receive thread it is
 * taken once and kept until the end of the dispatch (the thread gives
 * it back before unlocking); returns 0 then, else 1: the caller gives
 * it back with pyamps_gil_give().
 */
int
pyamps_gil_take(struct pycore *c, PyGILState_STATE *g)
{
	if (c->rx_running && pthread_equal(c->rx, pthread_self())) {
		if (!c->rx_gil) {
			c->rx_gstate = PyGILState_Ensure();
			c->rx_gil = 1;
		}
		return (0);
	}
	*g = PyGILState_Ensure();
	return (1);
}

void
pyamps_gil_give(struct pycore *c, PyGILState_STATE g, int give)
{
	if (give)
		PyGILState_Release(g);
}

/* _set_errors(map, base, already): the Python layer's classes. */
static PyObject *
mod_set_errors(PyObject *mod, PyObject *args)
{
	PyObject	*map, *base, *already;

	if (!PyArg_ParseTuple(args, "O!OO:_set_errors", &PyDict_Type, &map,
	    &base, &already))
		return (NULL);
	Py_XSETREF(error_map, Py_NewRef(map));
	Py_XSETREF(error_base, Py_NewRef(base));
	Py_XSETREF(error_already, Py_NewRef(already));
	Py_RETURN_NONE;
}

/* _set_type_attr(type, name, value): class constants on our C types. */
static PyObject *
mod_set_type_attr(PyObject *mod, PyObject *args)
{
	PyTypeObject	*t;
	const char	*name;
	PyObject	*v;

	if (!PyArg_ParseTuple(args, "O!sO:_set_type_attr", &PyType_Type, &t,
	    &name, &v))
		return (NULL);
	if (t != &Message_Type && t != &Command_Type && t != &Client_Type &&
	    t != &Stream_Type) {
		PyErr_SetString(PyExc_TypeError, "not an AMPS._amps type");
		return (NULL);
	}
	if (PyDict_SetItemString(t->tp_dict, name, v) == -1)
		return (NULL);
	PyType_Modified(t);
	Py_RETURN_NONE;
}

/* strerror(code): libampsipc's text for an error code. */
static PyObject *
mod_strerror(PyObject *mod, PyObject *arg)
{
	long	code = PyLong_AsLong(arg);

	if (code == -1 && PyErr_Occurred())
		return (NULL);
	return (PyUnicode_FromString(ampsipc_strerror((int)code)));
}

static PyMethodDef mod_methods[] = {
	{ "_set_errors", mod_set_errors, METH_VARARGS,
	  "Register the exception classes by libampsipc code." },
	{ "_set_type_attr", mod_set_type_attr, METH_VARARGS,
	  "Set a class attribute of one of this module's types." },
	{ "strerror", mod_strerror, METH_O,
	  "libampsipc's text for an error code." },
	{ NULL, NULL, 0, NULL }
};

static struct PyModuleDef amps_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "AMPS._amps",
	.m_doc = "C core of the AMPS binding over libampsipc (ampsd).",
	.m_size = -1,
	.m_methods = mod_methods,
};

/* Add the error codes as ERR_<NAME> integers. */
static int
add_codes(PyObject *m)
{
#define PYAMPS_ADD_CODE(name, num, text)				\
	if (PyModule_AddIntConstant(m, "ERR_" #name, num) == -1)	\
		return (-1);
	AMPSIPC_ERRORS(PYAMPS_ADD_CODE)
#undef PYAMPS_ADD_CODE
	return (0);
}

/* In a fork child: the process every core is checked against. */
static void
pyamps_after_fork(void)
{
	pyamps_pid = getpid();
}

PyMODINIT_FUNC PyInit__amps(void);
PyMODINIT_FUNC
PyInit__amps(void)
{
	PyObject	*m;

	pyamps_pid = getpid();
	if (pthread_atfork(NULL, NULL, pyamps_after_fork) != 0) {
		PyErr_SetString(PyExc_OSError, "pthread_atfork failed");
		return (NULL);
	}

	if (client_type_ready() < 0 || PyType_Ready(&Message_Type) < 0 ||
	    PyType_Ready(&Stream_Type) < 0 || PyType_Ready(&Command_Type) < 0)
		return (NULL);
	if ((m = PyModule_Create(&amps_module)) == NULL)
		return (NULL);
	if (PyModule_AddObjectRef(m, "Client", (PyObject *)&Client_Type) ||
	    PyModule_AddObjectRef(m, "Message", (PyObject *)&Message_Type) ||
	    PyModule_AddObjectRef(m, "MessageStream",
	    (PyObject *)&Stream_Type) ||
	    PyModule_AddObjectRef(m, "Command", (PyObject *)&Command_Type) ||
	    PyModule_AddStringConstant(m, "DEFAULT_SOCKET", AMPSD_SOCK) ||
	    add_codes(m) == -1 || pyamps_format_init(m) == -1) {
		Py_DECREF(m);
		return (NULL);
	}
	return (m);
}
