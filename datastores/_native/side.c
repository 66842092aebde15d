/* The native Side type and the datastores._cbookside module: see bookside.h. */
#include "bookside.h"

/* A key argument as a double in *out: 1 when it is a number that can be
 * stored (not NaN), else 0, never an error: such a key is simply absent, as in
 * a dict of float keys. */
static int
key_of(PyObject *key, double *out)
{
    double v;
    if (PyFloat_CheckExact(key)) {
        *out = PyFloat_AS_DOUBLE(key);
        return *out == *out; /* NaN is never stored */
    }
    if (!PyFloat_Check(key) && !PyLong_Check(key))
        return 0;
    v = PyFloat_AsDouble(key);
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *out = v;
    return v == v;
}

/* ------------------------------------------------------------ the type */

static PyObject *
Side_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"capacity", NULL};
    Py_ssize_t cap = DEFAULT_CAP;
    SideObject *s;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|n:Side", kwlist, &cap))
        return NULL;
    if (cap < 4 || cap > (1 << 20)) {
        PyErr_SetString(PyExc_ValueError, "capacity must be in [4, 2**20]");
        return NULL;
    }
    s = (SideObject *)type->tp_alloc(type, 0);
    if (s == NULL)
        return NULL;
    s->chunks = NULL;
    s->maxes = NULL;
    s->nchunks = 0;
    s->chunks_alloc = 0;
    s->count = 0;
    s->cap = cap;
    return (PyObject *)s;
}

static int
Side_traverse(SideObject *s, visitproc visit, void *arg)
{
    Py_ssize_t i, j;
    for (i = 0; i < s->nchunks; i++)
        for (j = 0; j < s->chunks[i].len; j++)
            Py_VISIT(s->chunks[i].e[j].level);
    return 0;
}

static int
Side_clear_refs(SideObject *s)
{
    bs_empty(s);
    return 0;
}

static void
Side_dealloc(SideObject *s)
{
    PyObject_GC_UnTrack(s);
    Py_TRASHCAN_BEGIN(s, Side_dealloc)
    bs_empty(s);
    Py_TYPE(s)->tp_free((PyObject *)s);
    Py_TRASHCAN_END
}

static Py_ssize_t
Side_length(SideObject *s)
{
    return s->count;
}

static PyObject *
Side_subscript(SideObject *s, PyObject *key)
{
    double k;
    Py_ssize_t ci, pos;
    int ok = key_of(key, &k);
    if (ok && bs_locate(s, -k, &ci, &pos)) {
        PyObject *level = s->chunks[ci].e[pos].level;
        Py_INCREF(level);
        return level;
    }
    PyErr_SetObject(PyExc_KeyError, key);
    return NULL;
}

static int
Side_contains(SideObject *s, PyObject *key)
{
    double k;
    Py_ssize_t ci, pos;
    return key_of(key, &k) && bs_locate(s, -k, &ci, &pos);
}

static PyObject *
Side_get(SideObject *s, PyObject *const *args, Py_ssize_t nargs)
{
    double k;
    Py_ssize_t ci, pos;
    PyObject *result;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get() takes a key and an optional default");
        return NULL;
    }
    if (key_of(args[0], &k) && bs_locate(s, -k, &ci, &pos))
        result = s->chunks[ci].e[pos].level;
    else
        result = nargs == 2 ? args[1] : Py_None;
    Py_INCREF(result);
    return result;
}

static PyObject *
Side_set(SideObject *s, PyObject *const *args, Py_ssize_t nargs)
{
    double k;
    Py_ssize_t ci, pos;
    PyObject *level, *old;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "set() takes a key and a level");
        return NULL;
    }
    k = PyFloat_AsDouble(args[0]); /* may run Python code: before any access */
    if (k == -1.0 && PyErr_Occurred())
        return NULL;
    if (k != k) {
        PyErr_SetString(PyExc_ValueError, "a NaN key cannot be ordered");
        return NULL;
    }
    level = level_stored(args[1]); /* a Level for a plain pair, as apply_levels stores */
    if (level == NULL)
        return NULL;
    if (bs_locate(s, -k, &ci, &pos)) {
        old = s->chunks[ci].e[pos].level;
        s->chunks[ci].e[pos].level = level;
        Py_DECREF(old);
        Py_RETURN_FALSE;
    }
    if (bs_insert_at(s, ci, pos, -k, level) < 0) {
        Py_DECREF(level);
        return NULL;
    }
    Py_RETURN_TRUE;
}

static PyObject *
Side_discard(SideObject *s, PyObject *key)
{
    double k;
    Py_ssize_t ci, pos;
    if (key_of(key, &k) && bs_locate(s, -k, &ci, &pos))
        return bs_remove_at(s, ci, pos);
    Py_RETURN_NONE;
}

static PyObject *
Side_first_key(SideObject *s, PyObject *Py_UNUSED(ignored))
{
    if (s->count == 0)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(-s->maxes[s->nchunks - 1]);
}

static PyObject *
Side_pop_worst(SideObject *s, PyObject *Py_UNUSED(ignored))
{
    if (s->count == 0) {
        PyErr_SetString(PyExc_IndexError, "pop from an empty side");
        return NULL;
    }
    return bs_remove_at(s, 0, 0);
}

static PyObject *
Side_best_levels(SideObject *s, PyObject *arg)
{
    Py_ssize_t limit = -1, k, out, i, j;
    PyObject *list;
    if (arg != Py_None) {
        limit = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
        if (limit == -1 && PyErr_Occurred())
            return NULL;
        if (limit < 0)
            limit = 0;
    }
    for (;;) {
        k = s->count;
        if (limit >= 0 && limit < k)
            k = limit;
        list = PyList_New(k); /* may collect garbage, so may run Python code */
        if (list == NULL)
            return NULL;
        out = s->count;
        if (limit >= 0 && limit < out)
            out = limit;
        if (out == k)
            break;
        Py_DECREF(list); /* the side changed under the allocation: again */
    }
    out = 0;
    for (i = s->nchunks - 1; i >= 0 && out < k; i--) {
        Chunk *c = &s->chunks[i];
        for (j = c->len - 1; j >= 0 && out < k; j--) {
            PyObject *level = c->e[j].level;
            Py_INCREF(level);
            PyList_SET_ITEM(list, out, level);
            out++;
        }
    }
    return list;
}

/* One stored level's element i (0 or 1) as `level[i]` would give it. */
static PyObject *
level_item(PyObject *level, Py_ssize_t i)
{
    PyObject *index, *value;
    if (Level_CheckExact(level))
        return i == 0 ? level_str_cached(LEVEL_PRICE(level), LEVEL_PLEN(level))
                      : level_str_cached(LEVEL_SIZE(level), LEVEL_QLEN(level));
    if (PyList_CheckExact(level) && PyList_GET_SIZE(level) > i) {
        value = PyList_GET_ITEM(level, i);
        Py_INCREF(value);
        return value;
    }
    if (PyTuple_CheckExact(level) && PyTuple_GET_SIZE(level) > i) {
        value = PyTuple_GET_ITEM(level, i);
        Py_INCREF(value);
        return value;
    }
    index = PyLong_FromSsize_t(i);
    if (index == NULL)
        return NULL;
    value = PyObject_GetItem(level, index);
    Py_DECREF(index);
    return value;
}

/* The last two item templates best_items made, by the identity of their
 * (fields, symbol, side): sorted() reads the asks, then the bids, of one symbol
 * with the same objects again and again, so the template is made once, not per
 * call. Strong references; a template is never handed out (items are copies). */
static struct {
    PyObject *fields, *symbol, *side, *template;
} templates[2];
static int next_template = 0;

/* A new reference to the template {fields[0]: symbol, fields[1]: side,
 * fields[2]: None, fields[3]: None} (in that insertion order, so a repeated
 * field name keeps its first place), from the cache or made and cached. */
static PyObject *
item_template(PyObject *fields, PyObject *symbol, PyObject *side)
{
    PyObject *template, *old_fields, *old_symbol, *old_side, *old_template;
    int i;
    for (i = 0; i < 2; i++) {
        if (templates[i].template != NULL && templates[i].fields == fields &&
            templates[i].symbol == symbol && templates[i].side == side) {
            Py_INCREF(templates[i].template);
            return templates[i].template;
        }
    }
    template = PyDict_New();
    if (template == NULL)
        return NULL;
    if (PyDict_SetItem(template, PyTuple_GET_ITEM(fields, 0), symbol) < 0
        || PyDict_SetItem(template, PyTuple_GET_ITEM(fields, 1), side) < 0
        || PyDict_SetItem(template, PyTuple_GET_ITEM(fields, 2), Py_None) < 0
        || PyDict_SetItem(template, PyTuple_GET_ITEM(fields, 3), Py_None) < 0) {
        Py_DECREF(template);
        return NULL;
    }
    i = next_template;
    next_template ^= 1;
    old_fields = templates[i].fields;
    old_symbol = templates[i].symbol;
    old_side = templates[i].side;
    old_template = templates[i].template;
    Py_INCREF(fields);
    Py_INCREF(symbol);
    Py_INCREF(side);
    Py_INCREF(template);
    templates[i].fields = fields;
    templates[i].symbol = symbol;
    templates[i].side = side;
    templates[i].template = template;
    /* released last: a finalizer they run sees a consistent cache */
    Py_XDECREF(old_template);
    Py_XDECREF(old_fields);
    Py_XDECREF(old_symbol);
    Py_XDECREF(old_side);
    return template;
}

/* best_items(limit, fields, symbol, side): the read path of sorted(). The same
 * list as PySide.best_items, {symbol_field: symbol, side_field: side,
 * price_field: level[0], size_field: level[1]} per level, best first, built
 * without a bytecode per level: each item is a copy of one template dict
 * (CPython copies a small compact dict by cloning its key table) with the
 * price and size set. The levels are taken first as a list (best_levels), so
 * Python code run by an allocation (a collection) cannot change what is read. */
static PyObject *
Side_best_items(SideObject *s, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *fields, *levels, *template = NULL, *items = NULL;
    PyObject *price_field, *size_field;
    Py_ssize_t i, n;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "best_items() takes limit, fields, symbol, side");
        return NULL;
    }
    fields = args[1];
    if (!PyTuple_Check(fields) || PyTuple_GET_SIZE(fields) != 4) {
        PyErr_SetString(PyExc_TypeError, "fields must be a tuple of four field names");
        return NULL;
    }
    price_field = PyTuple_GET_ITEM(fields, 2);
    size_field = PyTuple_GET_ITEM(fields, 3);
    levels = Side_best_levels(s, args[0]);
    if (levels == NULL)
        return NULL;
    template = item_template(fields, args[2], args[3]);
    if (template == NULL)
        goto error;
    n = PyList_GET_SIZE(levels);
    items = PyList_New(n);
    if (items == NULL)
        goto error;
    for (i = 0; i < n; i++) {
        PyObject *level = PyList_GET_ITEM(levels, i), *item, *price, *size;
        int failed;
        price = level_item(level, 0);
        if (price == NULL)
            goto error;
        size = level_item(level, 1);
        if (size == NULL) {
            Py_DECREF(price);
            goto error;
        }
        item = PyDict_Copy(template);
        failed = item == NULL || PyDict_SetItem(item, price_field, price) < 0
                 || PyDict_SetItem(item, size_field, size) < 0;
        Py_DECREF(price);
        Py_DECREF(size);
        if (failed) {
            Py_XDECREF(item);
            goto error;
        }
        PyList_SET_ITEM(items, i, item);
    }
    Py_DECREF(template);
    Py_DECREF(levels);
    return items;
error:
    Py_XDECREF(items);
    Py_XDECREF(template);
    Py_DECREF(levels);
    return NULL;
}

/* keys / values / items / iter_keys: which = 0 keys, 1 values, 2 items */
static PyObject *
side_listing(SideObject *s, int which)
{
    Py_ssize_t n, i;
    Entry *copy = bs_snapshot(s, -1, &n);
    PyObject *list;
    if (n < 0)
        return NULL;
    list = PyList_New(n);
    if (list == NULL)
        goto done;
    for (i = 0; i < n; i++) {
        PyObject *item;
        if (which == 1) {
            item = copy[i].level;
            Py_INCREF(item);
        }
        else {
            PyObject *key = PyFloat_FromDouble(-copy[i].rank);
            if (key == NULL || which == 0) {
                item = key;
            }
            else {
                item = PyTuple_Pack(2, key, copy[i].level);
                Py_DECREF(key);
            }
            if (item == NULL) {
                Py_CLEAR(list);
                goto done;
            }
        }
        PyList_SET_ITEM(list, i, item);
    }
done:
    if (copy != NULL)
        bs_release_snapshot(copy, n);
    return list;
}

static PyObject *
Side_keys(SideObject *s, PyObject *Py_UNUSED(ignored))
{
    return side_listing(s, 0);
}

static PyObject *
Side_values(SideObject *s, PyObject *Py_UNUSED(ignored))
{
    return side_listing(s, 1);
}

static PyObject *
Side_items(SideObject *s, PyObject *Py_UNUSED(ignored))
{
    return side_listing(s, 2);
}

static PyObject *
Side_iter(SideObject *s)
{
    PyObject *keys = side_listing(s, 0), *it;
    if (keys == NULL)
        return NULL;
    it = PyObject_GetIter(keys);
    Py_DECREF(keys);
    return it;
}

static PyObject *
Side_iter_keys(SideObject *s, PyObject *Py_UNUSED(ignored))
{
    return Side_iter(s);
}

static PyObject *
Side_clear_method(SideObject *s, PyObject *Py_UNUSED(ignored))
{
    bs_empty(s);
    Py_RETURN_NONE;
}

static PyObject *
Side_get_levels(SideObject *s, void *Py_UNUSED(closure))
{
    Py_INCREF(s);
    return (PyObject *)s;
}

static PyObject *
Side_sizeof(SideObject *s, PyObject *Py_UNUSED(ignored))
{
    Py_ssize_t size = sizeof(SideObject), i;
    size += s->chunks_alloc * (Py_ssize_t)(sizeof(Chunk) + sizeof(double));
    for (i = 0; i < s->nchunks; i++)
        size += s->chunks[i].alloc * (Py_ssize_t)sizeof(Entry);
    return PyLong_FromSsize_t(size);
}

static PyMethodDef Side_methods[] = {
    {"get", (PyCFunction)(void (*)(void))Side_get, METH_FASTCALL,
     "get(key, default=None): the level at key, or default. O(log n)."},
    {"set", (PyCFunction)(void (*)(void))Side_set, METH_FASTCALL,
     "set(key, level) -> bool: store level at key (a plain [price, size] pair of ASCII\n"
     "strings as a Level); True when the key is new. O(log n)."},
    {"discard", (PyCFunction)Side_discard, METH_O,
     "discard(key): remove and return the level at key, or None. O(log n)."},
    {"first_key", (PyCFunction)Side_first_key, METH_NOARGS,
     "The best key, or None when empty. O(1)."},
    {"pop_worst", (PyCFunction)Side_pop_worst, METH_NOARGS,
     "Remove and return the worst level."},
    {"best_levels", (PyCFunction)Side_best_levels, METH_O,
     "The best limit levels (all when None), best first. O(limit)."},
    {"best_items", (PyCFunction)(void (*)(void))Side_best_items, METH_FASTCALL,
     "best_items(limit, fields, symbol, side): the item dicts of best_levels(limit)."},
    {"iter_keys", (PyCFunction)Side_iter_keys, METH_NOARGS, "Keys, best first."},
    {"keys", (PyCFunction)Side_keys, METH_NOARGS, "Keys, best first (a list)."},
    {"values", (PyCFunction)Side_values, METH_NOARGS, "Levels, best first (a list)."},
    {"items", (PyCFunction)Side_items, METH_NOARGS, "(key, level) pairs, best first."},
    {"clear", (PyCFunction)Side_clear_method, METH_NOARGS, "Remove every level."},
    {"__sizeof__", (PyCFunction)Side_sizeof, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Side_getset[] = {
    {"levels", (getter)Side_get_levels, NULL,
     "The side itself as a read-only mapping of key to level.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMappingMethods Side_as_mapping = {
    (lenfunc)Side_length,
    (binaryfunc)Side_subscript,
    NULL,
};

static PySequenceMethods Side_as_sequence = {
    .sq_contains = (objobjproc)Side_contains,
};

PyTypeObject Side_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "datastores._cbookside.Side",
    .tp_basicsize = sizeof(SideObject),
    .tp_dealloc = (destructor)Side_dealloc,
    .tp_as_sequence = &Side_as_sequence,
    .tp_as_mapping = &Side_as_mapping,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_free = PyObject_GC_Del,
    .tp_doc = "Side(capacity=256): levels of one side, ordered best first, in chunks of at\n"
              "most `capacity` entries (native; see datastores._bookside.PySide).",
    .tp_traverse = (traverseproc)Side_traverse,
    .tp_clear = (inquiry)Side_clear_refs,
    .tp_iter = (getiterfunc)Side_iter,
    .tp_methods = Side_methods,
    .tp_getset = Side_getset,
    .tp_new = Side_new,
};

/* decode.c */
PyObject *dc_loads_levels(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
void decode_ready(void);

static PyMethodDef module_methods[] = {
    {"loads_levels", (PyCFunction)(void (*)(void))dc_loads_levels, METH_FASTCALL,
     "loads_levels(data, fallback): json.loads with Level pairs; fallback(data) outside "
     "its subset."},
    {"apply_levels", (PyCFunction)(void (*)(void))bs_apply_levels, METH_FASTCALL,
     "apply_levels(side, levels, sign) -> int: see datastores._bookside.apply_levels."},
    {"_setup", (PyCFunction)(void (*)(void))bs_setup, METH_FASTCALL,
     "_setup(check_level, malformed, max_value): the Python slow paths."},
    {"checksum_text", (PyCFunction)(void (*)(void))level_checksum_text, METH_FASTCALL,
     "checksum_text(bids, asks, depth) -> bytes | None: the OKX/Bitget checksum text of\n"
     "two lists of levels, or None when a level is not plain ASCII text."},
    {"_decimal", (PyCFunction)bs_decimal, METH_O,
     "_decimal(text) -> float | None: the exact fast parse of a plain decimal, or None\n"
     "when it leaves the text to float()'s routine (for tests)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "datastores._cbookside",
    .m_doc = "Native order-book side (optional accelerator of datastores._bookside).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__cbookside(void)
{
    PyObject *module;
    if (PyType_Ready(&Side_Type) < 0 || level_ready() < 0)
        return NULL;
    decode_ready();
    module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    Py_INCREF(&Side_Type);
    if (PyModule_AddObject(module, "Side", (PyObject *)&Side_Type) < 0) {
        Py_DECREF(&Side_Type);
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&Level_Type);
    if (PyModule_AddObject(module, "Level", (PyObject *)&Level_Type) < 0) {
        Py_DECREF(&Level_Type);
        Py_DECREF(module);
        return NULL;
    }
    if (PyModule_AddIntConstant(module, "DEFAULT_CHUNK_CAPACITY", DEFAULT_CAP) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
