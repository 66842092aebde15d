/* The compact order-book level: see level.h. */
#include "level.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

PyObject *
level_new(const char *price, Py_ssize_t plen, const char *size, Py_ssize_t qlen)
{
    LevelObject *op = PyObject_Malloc(offsetof(LevelObject, data) + (size_t)(plen + qlen));
    if (op == NULL)
        return PyErr_NoMemory();
    PyObject_Init((PyObject *)op, &Level_Type);
    op->plen = (unsigned char)plen;
    op->qlen = (unsigned char)qlen;
    memcpy(op->data, price, (size_t)plen);
    memcpy(op->data + plen, size, (size_t)qlen);
    return (PyObject *)op;
}

PyObject *
level_str(const char *text, Py_ssize_t len)
{
    PyObject *s = PyUnicode_New(len, 127);
    if (s == NULL)
        return NULL;
    memcpy(PyUnicode_DATA(s), text, (size_t)len);
    return s;
}

/* Strings read from Levels (and the decoder's short strings: keys, symbols), by
 * a hash of their text: a read of the top of a book after each update asks for
 * mostly the same prices and sizes again, a decoded message for the same keys,
 * and a hit costs a hash of a few bytes instead of making and later freeing a str.
 * A fixed table (a slot keeps the last string hashed to it), so its memory does
 * not grow with the books; strings are immutable, so sharing them is safe. */
#define STR_CACHE_BITS 10
static struct {
    uint64_t head, tail; /* the first and the last eight bytes (zero-padded) */
    Py_ssize_t len;
    PyObject *str;
} str_cache[1 << STR_CACHE_BITS];

/* Whether the cached `str` may be rewritten in place to `len` other ASCII
 * characters: this table holds its only reference, and it is an exact,
 * compact ASCII str of that length that no interning or wide-char cache knows. */
static inline int
reusable(PyObject *str, Py_ssize_t len)
{
#ifdef Py_GIL_DISABLED
    (void)str;
    (void)len;
    return 0; /* reference counts are not exact without the GIL */
#else
    if (Py_REFCNT(str) != 1 || !PyUnicode_CheckExact(str) || !PyUnicode_IS_COMPACT_ASCII(str) ||
        PyUnicode_GET_LENGTH(str) != len || PyUnicode_CHECK_INTERNED(str))
        return 0;
#if PY_VERSION_HEX < 0x030C0000
    if (((PyASCIIObject *)str)->wstr != NULL)
        return 0;
#endif
    return 1;
#endif
}

PyObject *
level_str_cached(const char *text, Py_ssize_t len)
{
    /* the key: the first and the last eight bytes, which are the whole text up
     * to 16 bytes (longer ones are compared whole too); a cheap hash of it */
    uint64_t head = 0, tail = 0, hash;
    PyObject *str, *old;
    size_t at;
    if (len >= 8) {
        memcpy(&head, text, 8);
        memcpy(&tail, text + len - 8, 8);
    }
    else {
        memcpy(&head, text, (size_t)len);
    }
    hash = (head ^ (tail * 31) ^ (uint64_t)len) * 0x9E3779B97F4A7C15u;
    at = (size_t)(hash >> (64 - STR_CACHE_BITS));
    str = str_cache[at].str;
    if (str != NULL && str_cache[at].head == head && str_cache[at].tail == tail &&
        str_cache[at].len == len &&
        (len <= 16 || memcmp(PyUnicode_DATA(str), text, (size_t)len) == 0)) {
        Py_INCREF(str);
        return str;
    }
    old = str_cache[at].str;
    if (old != NULL && reusable(old, len)) {
        /* Only this table holds the string it replaces, so nobody can see it
         * change: its characters are rewritten instead of freeing it and
         * allocating another (the rule CPython's own in-place resize of a str
         * follows: one reference, exact type, not interned; its hash is
         * forgotten, as no dict or set can hold it). */
        memcpy(PyUnicode_DATA(old), text, (size_t)len);
        ((PyASCIIObject *)old)->hash = -1;
        str_cache[at].head = head;
        str_cache[at].tail = tail;
        str_cache[at].len = len;
        Py_INCREF(old);
        return old;
    }
    str = level_str(text, len);
    if (str == NULL)
        return NULL;
    Py_INCREF(str);
    str_cache[at].head = head;
    str_cache[at].tail = tail;
    str_cache[at].len = len;
    str_cache[at].str = str;
    Py_XDECREF(old); /* a str: freeing it runs no Python code */
    return str;
}

/* The ASCII bytes of an exact compact-ASCII str of at most LEVEL_MAX_LEN
 * characters: 1 and *text / *len set, else 0. */
static inline int
ascii_of(PyObject *obj, const char **text, Py_ssize_t *len)
{
    if (!PyUnicode_CheckExact(obj) || !PyUnicode_IS_COMPACT_ASCII(obj))
        return 0;
    *len = PyUnicode_GET_LENGTH(obj);
    if (*len > LEVEL_MAX_LEN)
        return 0;
    *text = (const char *)PyUnicode_DATA(obj);
    return 1;
}

int
level_from_pair(PyObject *pair, PyObject **out)
{
    PyObject **items;
    const char *p, *q;
    Py_ssize_t plen, qlen;
    if (PyList_CheckExact(pair)) {
        if (PyList_GET_SIZE(pair) != 2)
            return 0;
        items = ((PyListObject *)pair)->ob_item;
    }
    else if (PyTuple_CheckExact(pair)) {
        if (PyTuple_GET_SIZE(pair) != 2)
            return 0;
        items = ((PyTupleObject *)pair)->ob_item;
    }
    else {
        return 0;
    }
    if (!ascii_of(items[0], &p, &plen) || !ascii_of(items[1], &q, &qlen))
        return 0;
    *out = level_new(p, plen, q, qlen);
    return *out == NULL ? -1 : 1;
}

PyObject *
level_stored(PyObject *level)
{
    PyObject *out;
    int rc;
    if (!Level_CheckExact(level)) {
        rc = level_from_pair(level, &out);
        if (rc != 0)
            return rc > 0 ? out : NULL;
    }
    Py_INCREF(level);
    return level;
}

/* The price and size bytes of `level` as the OKX/Bitget checksum reads them
 * (f"{level[0]}:{level[1]}"): 1 for a Level, or an exact list or tuple of at
 * least two items whose first two are exact compact-ASCII str; else 0. */
static inline int
level_texts(PyObject *level, const char **p, Py_ssize_t *plen, const char **q, Py_ssize_t *qlen)
{
    PyObject **items;
    if (Level_CheckExact(level)) {
        *p = LEVEL_PRICE(level);
        *plen = LEVEL_PLEN(level);
        *q = LEVEL_SIZE(level);
        *qlen = LEVEL_QLEN(level);
        return 1;
    }
    if (PyList_CheckExact(level) && PyList_GET_SIZE(level) >= 2)
        items = ((PyListObject *)level)->ob_item;
    else if (PyTuple_CheckExact(level) && PyTuple_GET_SIZE(level) >= 2)
        items = ((PyTupleObject *)level)->ob_item;
    else
        return 0;
    if (!PyUnicode_CheckExact(items[0]) || !PyUnicode_IS_COMPACT_ASCII(items[0]) ||
        !PyUnicode_CheckExact(items[1]) || !PyUnicode_IS_COMPACT_ASCII(items[1]))
        return 0;
    *p = (const char *)PyUnicode_DATA(items[0]);
    *plen = PyUnicode_GET_LENGTH(items[0]);
    *q = (const char *)PyUnicode_DATA(items[1]);
    *qlen = PyUnicode_GET_LENGTH(items[1]);
    return 1;
}

/* One pass over the interleaved levels: the length when `out` is NULL, else
 * the text written to `out`. -1 when a level is not readable as text. */
static Py_ssize_t
checksum_pass(PyObject *bids, PyObject *asks, Py_ssize_t depth, char *out)
{
    Py_ssize_t nb = PyList_GET_SIZE(bids), na = PyList_GET_SIZE(asks), total = 0, i, k;
    const char *p, *q;
    Py_ssize_t plen, qlen;
    for (i = 0; i < depth && (i < nb || i < na); i++) {
        for (k = 0; k < 2; k++) {
            PyObject *side = k == 0 ? bids : asks;
            if (i >= PyList_GET_SIZE(side))
                continue;
            if (!level_texts(PyList_GET_ITEM(side, i), &p, &plen, &q, &qlen))
                return -1;
            if (out != NULL) {
                if (total > 0)
                    out[total - 1] = ':'; /* the separator before this part */
                memcpy(out + total, p, (size_t)plen);
                out[total + plen] = ':';
                memcpy(out + total + plen + 1, q, (size_t)qlen);
            }
            total += plen + 1 + qlen + 1; /* with the next separator */
        }
    }
    return total > 0 ? total - 1 : 0;
}

PyObject *
level_checksum_text(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t depth, len;
    PyObject *text;
    if (nargs != 3 || !PyList_CheckExact(args[0]) || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "checksum_text(bids: list, asks: list, depth: int)");
        return NULL;
    }
    depth = PyNumber_AsSsize_t(args[2], PyExc_OverflowError);
    if (depth == -1 && PyErr_Occurred())
        return NULL;
    len = checksum_pass(args[0], args[1], depth, NULL);
    if (len < 0)
        Py_RETURN_NONE; /* the caller's Python version reads it */
    /* no Python code runs between the passes: a bytes object is not tracked by
     * the garbage collector, so allocating it never starts a collection */
    text = PyBytes_FromStringAndSize(NULL, len);
    if (text == NULL)
        return NULL;
    if (len > 0)
        checksum_pass(args[0], args[1], depth, PyBytes_AS_STRING(text));
    return text;
}

/* ------------------------------------------------------------ the type */

static void
Level_dealloc(PyObject *self)
{
    PyObject_Free(self);
}

static PyObject *
Level_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"price", "size", NULL};
    PyObject *price, *size;
    const char *p, *q;
    Py_ssize_t plen, qlen;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "UU:Level", names, &price, &size))
        return NULL;
    if (!ascii_of(price, &p, &plen) || !ascii_of(size, &q, &qlen)) {
        PyErr_Format(PyExc_ValueError,
                     "a Level holds ASCII strings of at most %d characters each",
                     LEVEL_MAX_LEN);
        return NULL;
    }
    return level_new(p, plen, q, qlen);
}

static Py_ssize_t
Level_length(PyObject *Py_UNUSED(self))
{
    return 2;
}

static PyObject *
Level_item(PyObject *self, Py_ssize_t i)
{
    if (i == 0)
        return level_str_cached(LEVEL_PRICE(self), LEVEL_PLEN(self));
    if (i == 1)
        return level_str_cached(LEVEL_SIZE(self), LEVEL_QLEN(self));
    PyErr_SetString(PyExc_IndexError, "Level index out of range");
    return NULL;
}

/* [price, size] as a new list. */
static PyObject *
Level_as_list(PyObject *self)
{
    PyObject *list = PyList_New(2), *item;
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < 2; i++) {
        item = Level_item(self, i);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

static PyObject *
Level_subscript(PyObject *self, PyObject *key)
{
    if (PyIndex_Check(key)) {
        Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if (i == -1 && PyErr_Occurred())
            return NULL;
        return Level_item(self, i < 0 ? i + 2 : i);
    }
    if (PySlice_Check(key)) {
        PyObject *list = Level_as_list(self), *result;
        if (list == NULL)
            return NULL;
        result = PyObject_GetItem(list, key);
        Py_DECREF(list);
        return result;
    }
    PyErr_Format(PyExc_TypeError, "Level indices must be integers or slices, not %.200s",
                 Py_TYPE(key)->tp_name);
    return NULL;
}

static PyObject *
Level_iter(PyObject *self)
{
    PyObject *list = Level_as_list(self), *it;
    if (list == NULL)
        return NULL;
    it = PyObject_GetIter(list);
    Py_DECREF(list);
    return it;
}

/* Whether `item` equals the ASCII `text`: 1, 0, or -1 with an exception. */
static int
item_equals(PyObject *item, const char *text, Py_ssize_t len)
{
    const char *other;
    Py_ssize_t olen;
    PyObject *s;
    int rc;
    if (PyUnicode_CheckExact(item)) {
        if (!PyUnicode_IS_COMPACT_ASCII(item))
            return 0; /* a non-ASCII str never equals ASCII text */
        olen = PyUnicode_GET_LENGTH(item);
        other = (const char *)PyUnicode_DATA(item);
        return olen == len && memcmp(other, text, (size_t)len) == 0;
    }
    s = level_str(text, len);
    if (s == NULL)
        return -1;
    rc = PyObject_RichCompareBool(s, item, Py_EQ);
    Py_DECREF(s);
    return rc;
}

static PyObject *
Level_richcompare(PyObject *self, PyObject *other, int op)
{
    int equal;
    if (op != Py_EQ && op != Py_NE)
        Py_RETURN_NOTIMPLEMENTED;
    if (Level_CheckExact(other)) {
        equal = LEVEL_PLEN(self) == LEVEL_PLEN(other) && LEVEL_QLEN(self) == LEVEL_QLEN(other) &&
                memcmp(LEVEL_PRICE(self), LEVEL_PRICE(other),
                       (size_t)(LEVEL_PLEN(self) + LEVEL_QLEN(self))) == 0;
    }
    else if (PyList_Check(other) || PyTuple_Check(other)) {
        /* as list == list would: same length, then item by item; the length
         * is read again before each item (comparing a non-str item runs
         * Python code, which may change the list) */
        PyObject *item;
        equal = 1;
        for (Py_ssize_t i = 0; equal == 1 && i < 2; i++) {
            if (PySequence_Size(other) != 2) {
                if (PyErr_Occurred())
                    return NULL;
                equal = 0;
                break;
            }
            item = PySequence_GetItem(other, i);
            if (item == NULL)
                return NULL;
            equal = i == 0 ? item_equals(item, LEVEL_PRICE(self), LEVEL_PLEN(self))
                           : item_equals(item, LEVEL_SIZE(self), LEVEL_QLEN(self));
            Py_DECREF(item);
            if (equal < 0)
                return NULL;
        }
    }
    else {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (op == Py_NE)
        equal = !equal;
    return PyBool_FromLong(equal);
}

static PyObject *
Level_repr(PyObject *self)
{
    PyObject *list = Level_as_list(self), *repr;
    if (list == NULL)
        return NULL;
    repr = PyObject_Repr(list);
    Py_DECREF(list);
    return repr;
}

static PyObject *
Level_reduce(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *price = Level_item(self, 0), *size, *result;
    if (price == NULL)
        return NULL;
    size = Level_item(self, 1);
    if (size == NULL) {
        Py_DECREF(price);
        return NULL;
    }
    result = Py_BuildValue("O(NN)", (PyObject *)&Level_Type, price, size);
    return result;
}

static PyObject *
Level_sizeof(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSsize_t((Py_ssize_t)offsetof(LevelObject, data) + LEVEL_PLEN(self) +
                              LEVEL_QLEN(self));
}

/* index() / count(): the list's own, on the list of the two strings. */
static PyObject *
Level_list_method(PyObject *self, const char *name, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *list = Level_as_list(self), *method, *result;
    if (list == NULL)
        return NULL;
    method = PyObject_GetAttrString(list, name);
    Py_DECREF(list);
    if (method == NULL)
        return NULL;
    result = PyObject_Vectorcall(method, args, (size_t)nargs, NULL);
    Py_DECREF(method);
    return result;
}

static PyObject *
Level_index(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return Level_list_method(self, "index", args, nargs);
}

static PyObject *
Level_count(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return Level_list_method(self, "count", args, nargs);
}

static PyMethodDef Level_methods[] = {
    {"index", (PyCFunction)(void (*)(void))Level_index, METH_FASTCALL,
     "index(value, start=0, stop=...): as list.index."},
    {"count", (PyCFunction)(void (*)(void))Level_count, METH_FASTCALL,
     "count(value): as list.count."},
    {"__reduce__", (PyCFunction)Level_reduce, METH_NOARGS, NULL},
    {"__sizeof__", (PyCFunction)Level_sizeof, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Level_as_sequence = {
    .sq_length = Level_length,
    .sq_item = Level_item,
};

static PyMappingMethods Level_as_mapping = {
    .mp_length = Level_length,
    .mp_subscript = Level_subscript,
};

PyTypeObject Level_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "datastores._cbookside.Level",
    .tp_basicsize = sizeof(LevelObject),
    .tp_dealloc = Level_dealloc,
    .tp_repr = Level_repr,
    .tp_as_sequence = &Level_as_sequence,
    .tp_as_mapping = &Level_as_mapping,
    .tp_hash = PyObject_HashNotImplemented,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_SEQUENCE,
    .tp_doc = "Level(price, size): an order-book level kept compact, an immutable sequence\n"
              "of its two strings that compares equal to the list [price, size].",
    .tp_richcompare = Level_richcompare,
    .tp_iter = Level_iter,
    .tp_methods = Level_methods,
    .tp_new = Level_new,
    .tp_free = PyObject_Free,
};

int
level_ready(void)
{
    return PyType_Ready(&Level_Type);
}
