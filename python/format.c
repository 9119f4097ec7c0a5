/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * format.c: composite, NVFIX and FIX payload builders and shredders,
 * thin wrappers of libampsipc's <ampsipc-format.h> with the AMPS
 * Python client's names: CompositeMessageBuilder/Parser, NVFIXBuilder,
 * NVFIXShredder, FIXBuilder, FIXShredder.
 *
 * Invariants: a builder owns its growing buffer (freed with it); a
 * parser keeps a reference to the bytes it parsed, so its views stay
 * valid; shredders copy what they return.
 */

#include "config.h"

#include <errno.h>
#include <string.h>

#include "pyamps.h"
#include "ampsipc-format.h"

/* Bytes of a str (UTF-8) or bytes-like argument; a Message's data. */
static PyObject *
as_bytes(PyObject *o)
{
	if (PyBytes_Check(o))
		return (Py_NewRef(o));
	if (PyUnicode_Check(o))
		return (PyUnicode_AsUTF8String(o));
	if (PyObject_TypeCheck(o, &Message_Type))
		return (PyObject_CallMethod(o, "get_data_raw", NULL));
	return (PyBytes_FromObject(o));
}

/* Bytes of a field value or name: str, bytes, else its str(). */
static PyObject *
val_bytes(PyObject *o)
{
	PyObject	*s, *b;

	if (PyUnicode_Check(o) || PyBytes_Check(o))
		return (as_bytes(o));
	if ((s = PyObject_Str(o)) == NULL)
		return (NULL);
	b = as_bytes(s);
	Py_DECREF(s);
	return (b);
}

/* One separator character from a str/bytes of length 1 (or None). */
static int
sep_arg(PyObject *o, char *sep)
{
	PyObject	*b;

	*sep = 0;
	if (o == NULL || o == Py_None)
		return (0);
	if ((b = as_bytes(o)) == NULL)
		return (-1);
	if (PyBytes_GET_SIZE(b) != 1) {
		Py_DECREF(b);
		PyErr_SetString(PyExc_ValueError,
		    "a separator is one character");
		return (-1);
	}
	*sep = PyBytes_AS_STRING(b)[0];
	Py_DECREF(b);
	return (0);
}

static PyObject *
fmt_err(const char *what)
{
	if (errno == ENOMEM)
		return (PyErr_NoMemory());
	return (PyErr_Format(PyExc_ValueError, "%s: %s", what,
	    strerror(errno)));
}

/* ---------------------------------------------------------------- */

typedef struct {
	PyObject_HEAD
	struct ampsipc_composite_builder	b;
} CompBuilderObject;

static int
CompBuilder_init(CompBuilderObject *self, PyObject *args, PyObject *kw)
{
	if (!PyArg_ParseTuple(args, ":CompositeMessageBuilder"))
		return (-1);
	ampsipc_composite_builder_free(&self->b);
	ampsipc_composite_builder_init(&self->b, NULL, 0);
	return (0);
}

static void
CompBuilder_dealloc(CompBuilderObject *self)
{
	ampsipc_composite_builder_free(&self->b);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
CompBuilder_append(CompBuilderObject *self, PyObject *v)
{
	PyObject	*b;
	int		 rc;

	if ((b = as_bytes(v)) == NULL)
		return (NULL);
	rc = ampsipc_composite_append(&self->b, PyBytes_AS_STRING(b),
	    (size_t)PyBytes_GET_SIZE(b));
	Py_DECREF(b);
	if (rc == -1)
		return (fmt_err("composite append"));
	return (Py_NewRef(self));
}

static PyObject *
CompBuilder_get_data(CompBuilderObject *self, PyObject *unused)
{
	size_t		 len;
	const char	*p = ampsipc_composite_data(&self->b, &len);

	return (PyBytes_FromStringAndSize(p != NULL ? p : "",
	    (Py_ssize_t)len));
}

static PyObject *
CompBuilder_clear(CompBuilderObject *self, PyObject *unused)
{
	ampsipc_composite_builder_reset(&self->b);
	return (Py_NewRef(self));
}

static PyObject *
CompBuilder_size(CompBuilderObject *self, PyObject *unused)
{
	return (PyLong_FromSize_t(ampsipc_composite_builder_count(&self->b)));
}

static PyMethodDef CompBuilder_methods[] = {
	{ "append", (PyCFunction)CompBuilder_append, METH_O,
	  "append(part): add a part (str or bytes); returns the builder." },
	{ "get_data", (PyCFunction)CompBuilder_get_data, METH_NOARGS,
	  "The composite payload (bytes)." },
	{ "clear", (PyCFunction)CompBuilder_clear, METH_NOARGS,
	  "Drop every part." },
	{ "size", (PyCFunction)CompBuilder_size, METH_NOARGS,
	  "The number of parts." },
	{ NULL, NULL, 0, NULL }
};

static PyTypeObject CompBuilder_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "AMPS.CompositeMessageBuilder",
	.tp_basicsize = sizeof(CompBuilderObject),
	.tp_dealloc = (destructor)CompBuilder_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "Builds a composite message payload part by part.",
	.tp_methods = CompBuilder_methods,
	.tp_init = (initproc)CompBuilder_init,
	.tp_new = PyType_GenericNew,
};

/* ---------------------------------------------------------------- */

typedef struct {
	PyObject_HEAD
	struct ampsipc_composite_parser	 p;
	PyObject			*data;	/* bytes parsed */
} CompParserObject;

static void
CompParser_dealloc(CompParserObject *self)
{
	Py_CLEAR(self->data);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
CompParser_parse(CompParserObject *self, PyObject *v)
{
	PyObject	*b;

	if ((b = as_bytes(v)) == NULL)
		return (NULL);
	if (ampsipc_composite_parse(&self->p, PyBytes_AS_STRING(b),
	    (size_t)PyBytes_GET_SIZE(b)) == -1) {
		Py_DECREF(b);
		Py_CLEAR(self->data);
		return (fmt_err("composite parse"));
	}
	Py_XSETREF(self->data, b);
	return (PyLong_FromSize_t(ampsipc_composite_count(&self->p)));
}

static PyObject *
CompParser_size(CompParserObject *self, PyObject *unused)
{
	if (self->data == NULL)
		return (PyLong_FromLong(0));
	return (PyLong_FromSize_t(ampsipc_composite_count(&self->p)));
}

/* get_part(i): the part as str; get_part_raw(i): as bytes. */
static PyObject *
comp_part(CompParserObject *self, PyObject *v, int raw)
{
	struct ampsipc_fmt_view	 view;
	Py_ssize_t		 i = PyLong_AsSsize_t(v);

	if (i == -1 && PyErr_Occurred())
		return (NULL);
	if (self->data == NULL || i < 0 ||
	    ampsipc_composite_part(&self->p, (size_t)i, &view) == -1) {
		PyErr_SetString(PyExc_IndexError, "no such part");
		return (NULL);
	}
	if (raw)
		return (PyBytes_FromStringAndSize(view.ptr,
		    (Py_ssize_t)view.len));
	return (PyUnicode_DecodeUTF8(view.ptr, (Py_ssize_t)view.len,
	    "surrogateescape"));
}

static PyObject *
CompParser_get_part(CompParserObject *self, PyObject *v)
{
	return (comp_part(self, v, 0));
}

static PyObject *
CompParser_get_part_raw(CompParserObject *self, PyObject *v)
{
	return (comp_part(self, v, 1));
}

static PyMethodDef CompParser_methods[] = {
	{ "parse", (PyCFunction)CompParser_parse, METH_O,
	  "parse(data or Message): check a composite payload; returns the "
	  "number of parts." },
	{ "size", (PyCFunction)CompParser_size, METH_NOARGS,
	  "The number of parts parsed." },
	{ "get_part", (PyCFunction)CompParser_get_part, METH_O,
	  "get_part(i): part i as str." },
	{ "get_part_raw", (PyCFunction)CompParser_get_part_raw, METH_O,
	  "get_part_raw(i): part i as bytes." },
	{ NULL, NULL, 0, NULL }
};

static PyTypeObject CompParser_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "AMPS.CompositeMessageParser",
	.tp_basicsize = sizeof(CompParserObject),
	.tp_dealloc = (destructor)CompParser_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "Takes a composite message payload apart.",
	.tp_methods = CompParser_methods,
	.tp_new = PyType_GenericNew,
};

/* ---------------------------------------------------------------- */

/* NVFIX and FIX builders share one object; fix says which. */
typedef struct {
	PyObject_HEAD
	int				fix;
	int				ready;
	struct ampsipc_nvfix_builder	nv;
	struct ampsipc_fix_builder	fx;
} FixBuilderObject;

static int
fixb_init(FixBuilderObject *self, PyObject *args, PyObject *kw, int fix)
{
	static char	*kwlist[] = { "separator", NULL };
	PyObject	*s = NULL;
	char		 sep;
	int		 rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kwlist, &s) ||
	    sep_arg(s, &sep) == -1)
		return (-1);
	self->fix = fix;
	if (self->ready) {
		ampsipc_nvfix_builder_free(&self->nv);
		ampsipc_fix_builder_free(&self->fx);
	}
	rc = fix ? ampsipc_fix_builder_init(&self->fx, NULL, 0, sep) :
	    ampsipc_nvfix_builder_init(&self->nv, NULL, 0, sep);
	if (rc == -1) {
		PyErr_SetString(PyExc_ValueError, "invalid separator");
		return (-1);
	}
	if (fix)
		ampsipc_nvfix_builder_init(&self->nv, NULL, 0, 0);
	else
		ampsipc_fix_builder_init(&self->fx, NULL, 0, 0);
	self->ready = 1;
	return (0);
}

static int
NVFIXBuilder_init(FixBuilderObject *self, PyObject *args, PyObject *kw)
{
	return (fixb_init(self, args, kw, 0));
}

static int
FIXBuilder_init(FixBuilderObject *self, PyObject *args, PyObject *kw)
{
	return (fixb_init(self, args, kw, 1));
}

static void
FixBuilder_dealloc(FixBuilderObject *self)
{
	if (self->ready) {
		ampsipc_nvfix_builder_free(&self->nv);
		ampsipc_fix_builder_free(&self->fx);
	}
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* append(tag, value): FIX tags are ints, NVFIX names strs. */
static PyObject *
FixBuilder_append(FixBuilderObject *self, PyObject *args)
{
	PyObject	*tag, *val, *tb = NULL, *vb;
	long		 t;
	int		 rc;

	if (!PyArg_ParseTuple(args, "OO:append", &tag, &val))
		return (NULL);
	if (!self->ready)
		return (PyErr_Format(PyExc_ValueError, "not initialised"));
	if ((vb = val_bytes(val)) == NULL)
		return (NULL);
	if (self->fix) {
		t = PyLong_AsLong(tag);
		if ((t == -1 && PyErr_Occurred()) || t < 0 || t > INT32_MAX) {
			Py_DECREF(vb);
			PyErr_Clear();
			return (PyErr_Format(PyExc_ValueError,
			    "a FIX tag is a non-negative int"));
		}
		rc = ampsipc_fix_append(&self->fx, (int)t,
		    PyBytes_AS_STRING(vb), (size_t)PyBytes_GET_SIZE(vb));
	} else {
		if ((tb = val_bytes(tag)) == NULL) {
			Py_DECREF(vb);
			return (NULL);
		}
		rc = ampsipc_nvfix_append(&self->nv, PyBytes_AS_STRING(tb),
		    (size_t)PyBytes_GET_SIZE(tb), PyBytes_AS_STRING(vb),
		    (size_t)PyBytes_GET_SIZE(vb));
		Py_DECREF(tb);
	}
	Py_DECREF(vb);
	if (rc == -1)
		return (fmt_err("append"));
	return (Py_NewRef(self));
}

static PyObject *
FixBuilder_get_string(FixBuilderObject *self, PyObject *unused)
{
	size_t		 len = 0;
	const char	*p = NULL;

	if (self->ready)
		p = self->fix ? ampsipc_fix_data(&self->fx, &len) :
		    ampsipc_nvfix_data(&self->nv, &len);
	return (PyUnicode_DecodeUTF8(p != NULL ? p : "", (Py_ssize_t)len,
	    "surrogateescape"));
}

static PyObject *
FixBuilder_get_bytes(FixBuilderObject *self, PyObject *unused)
{
	size_t		 len = 0;
	const char	*p = NULL;

	if (self->ready)
		p = self->fix ? ampsipc_fix_data(&self->fx, &len) :
		    ampsipc_nvfix_data(&self->nv, &len);
	return (PyBytes_FromStringAndSize(p != NULL ? p : "",
	    (Py_ssize_t)len));
}

static PyObject *
FixBuilder_reset(FixBuilderObject *self, PyObject *unused)
{
	if (self->ready) {
		ampsipc_fix_builder_reset(&self->fx);
		ampsipc_nvfix_builder_reset(&self->nv);
	}
	return (Py_NewRef(self));
}

static PyMethodDef FixBuilder_methods[] = {
	{ "append", (PyCFunction)FixBuilder_append, METH_VARARGS,
	  "append(tag, value): add a field; returns the builder." },
	{ "get_string", (PyCFunction)FixBuilder_get_string, METH_NOARGS,
	  "The payload as str." },
	{ "get_bytes", (PyCFunction)FixBuilder_get_bytes, METH_NOARGS,
	  "The payload as bytes." },
	{ "reset", (PyCFunction)FixBuilder_reset, METH_NOARGS,
	  "Drop every field." },
	{ NULL, NULL, 0, NULL }
};

static PyTypeObject NVFIXBuilder_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "AMPS.NVFIXBuilder",
	.tp_basicsize = sizeof(FixBuilderObject),
	.tp_dealloc = (destructor)FixBuilder_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "NVFIXBuilder(separator='\\x01'): builds name=value "
	    "payloads.",
	.tp_methods = FixBuilder_methods,
	.tp_init = (initproc)NVFIXBuilder_init,
	.tp_new = PyType_GenericNew,
};

static PyTypeObject FIXBuilder_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "AMPS.FIXBuilder",
	.tp_basicsize = sizeof(FixBuilderObject),
	.tp_dealloc = (destructor)FixBuilder_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "FIXBuilder(separator='\\x01'): builds tag=value payloads.",
	.tp_methods = FixBuilder_methods,
	.tp_init = (initproc)FIXBuilder_init,
	.tp_new = PyType_GenericNew,
};

/* ---------------------------------------------------------------- */

typedef struct {
	PyObject_HEAD
	char	sep;
	int	fix;
} ShredderObject;

static int
shredder_init(ShredderObject *self, PyObject *args, PyObject *kw, int fix)
{
	static char	*kwlist[] = { "separator", NULL };
	PyObject	*s = NULL;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kwlist, &s) ||
	    sep_arg(s, &self->sep) == -1)
		return (-1);
	if (self->sep == '=' || (fix && self->sep >= '0' && self->sep <= '9')) {
		PyErr_SetString(PyExc_ValueError, "invalid separator");
		return (-1);
	}
	self->fix = fix;
	return (0);
}

static int
NVFIXShredder_init(ShredderObject *self, PyObject *args, PyObject *kw)
{
	return (shredder_init(self, args, kw, 0));
}

static int
FIXShredder_init(ShredderObject *self, PyObject *args, PyObject *kw)
{
	return (shredder_init(self, args, kw, 1));
}

static PyObject *
str_of(struct ampsipc_fmt_view *v)
{
	return (PyUnicode_DecodeUTF8(v->ptr, (Py_ssize_t)v->len,
	    "surrogateescape"));
}

/* to_map(data or Message): {tag: value} (FIX: int tags). */
static PyObject *
Shredder_to_map(ShredderObject *self, PyObject *v)
{
	struct ampsipc_nvfix_shredder	 nv;
	struct ampsipc_fix_shredder	 fx;
	struct ampsipc_fmt_view		 name, val;
	PyObject			*b, *d, *k, *x;
	int				 tag, rc;

	if ((b = as_bytes(v)) == NULL)
		return (NULL);
	rc = self->fix ? ampsipc_fix_shred(&fx, PyBytes_AS_STRING(b),
	    (size_t)PyBytes_GET_SIZE(b), self->sep) :
	    ampsipc_nvfix_shred(&nv, PyBytes_AS_STRING(b),
	    (size_t)PyBytes_GET_SIZE(b), self->sep);
	if (rc == -1) {
		Py_DECREF(b);
		return (fmt_err(self->fix ? "FIX payload" : "NVFIX payload"));
	}
	if ((d = PyDict_New()) == NULL)
		goto fail;
	for (;;) {
		if (self->fix) {
			if (!ampsipc_fix_next(&fx, &tag, &val))
				break;
			k = PyLong_FromLong(tag);
		} else {
			if (!ampsipc_nvfix_next(&nv, &name, &val))
				break;
			k = str_of(&name);
		}
		x = str_of(&val);
		if (k == NULL || x == NULL || PyDict_Contains(d, k) == 1 ||
		    PyDict_SetItem(d, k, x) == -1) {
			Py_XDECREF(k);
			Py_XDECREF(x);
			if (PyErr_Occurred()) {
				Py_DECREF(d);
				goto fail;
			}
			continue;	/* first occurrence wins */
		}
		Py_DECREF(k);
		Py_DECREF(x);
	}
	Py_DECREF(b);
	return (d);
fail:
	Py_DECREF(b);
	return (NULL);
}

static PyMethodDef Shredder_methods[] = {
	{ "to_map", (PyCFunction)Shredder_to_map, METH_O,
	  "to_map(data or Message): the fields as a dict." },
	{ NULL, NULL, 0, NULL }
};

static PyTypeObject NVFIXShredder_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "AMPS.NVFIXShredder",
	.tp_basicsize = sizeof(ShredderObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "NVFIXShredder(separator='\\x01'): name=value payloads to "
	    "dicts.",
	.tp_methods = Shredder_methods,
	.tp_init = (initproc)NVFIXShredder_init,
	.tp_new = PyType_GenericNew,
};

static PyTypeObject FIXShredder_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "AMPS.FIXShredder",
	.tp_basicsize = sizeof(ShredderObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "FIXShredder(separator='\\x01'): tag=value payloads to "
	    "dicts with int keys.",
	.tp_methods = Shredder_methods,
	.tp_init = (initproc)FIXShredder_init,
	.tp_new = PyType_GenericNew,
};

/* Add the format types to the module. */
int
pyamps_format_init(PyObject *m)
{
	static struct {
		const char	*name;
		PyTypeObject	*t;
	} types[] = {
		{ "CompositeMessageBuilder", &CompBuilder_Type },
		{ "CompositeMessageParser", &CompParser_Type },
		{ "NVFIXBuilder", &NVFIXBuilder_Type },
		{ "FIXBuilder", &FIXBuilder_Type },
		{ "NVFIXShredder", &NVFIXShredder_Type },
		{ "FIXShredder", &FIXShredder_Type },
	};
	size_t	i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (PyType_Ready(types[i].t) < 0 ||
		    PyModule_AddObjectRef(m, types[i].name,
		    (PyObject *)types[i].t) < 0)
			return (-1);
	return (0);
}
