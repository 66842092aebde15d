/* apply_levels of the native book side: see bookside.h. */
#include "bookside.h"
#include "number.h"
#include <string.h>

/* Set by _setup(): the Python slow paths. */
static PyObject *py_check_level = NULL;
static PyObject *py_malformed = NULL;
static double max_value = 1e30;

/* Whether `len` bytes are digits, '.', 'e', 'E', '+' and '-' only, 0 < len < 64. */
static inline int
number_chars(const char *text, Py_ssize_t len)
{
    Py_ssize_t i;
    if (len <= 0 || len >= 64)
        return 0;
    for (i = 0; i < len; i++) {
        char ch = text[i];
        if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == 'e' || ch == 'E' || ch == '+' ||
              ch == '-'))
            return 0;
    }
    return 1;
}

/* The number in the NUL-terminated `text` of `len` bytes that number_chars()
 * accepted, parsed by the same routine float() uses: 1 when converted, 0 (no
 * exception set) when float() would refuse it. Runs no Python code. */
static inline int
parse_number(const char *text, Py_ssize_t len, double *out)
{
    char *end;
    double v = PyOS_string_to_double(text, &end, NULL);
    if (end == text + len && !(v == -1.0 && PyErr_Occurred())) {
        *out = v;
        return 1;
    }
    PyErr_Clear(); /* let float() raise its own error */
    return 0;
}

/* float(obj) for an exact float, or an exact ASCII str of number_chars(),
 * without a float object: 1 when converted, 0 (no exception set) for anything
 * else. Runs no Python code. */
static inline int
fast_double(PyObject *obj, double *out)
{
    if (PyUnicode_CheckExact(obj) && PyUnicode_IS_COMPACT_ASCII(obj)) {
        const char *text = (const char *)PyUnicode_DATA(obj); /* NUL-terminated */
        Py_ssize_t len = PyUnicode_GET_LENGTH(obj);
        return decimal_fast(text, len, out) ||
               (number_chars(text, len) && parse_number(text, len, out));
    }
    if (PyFloat_CheckExact(obj)) {
        *out = PyFloat_AS_DOUBLE(obj);
        return 1;
    }
    return 0;
}

/* The same for `len` bytes without a terminator (a Level's). */
static inline int
fast_bytes_double(const char *text, Py_ssize_t len, double *out)
{
    char buf[64];
    if (decimal_fast(text, len, out))
        return 1;
    if (!number_chars(text, len))
        return 0;
    memcpy(buf, text, (size_t)len);
    buf[len] = '\0';
    return parse_number(buf, len, out);
}

/* float(obj): fast_double(), an exact int, else float() itself (which may
 * run Python code). */
static inline int
to_double(PyObject *obj, double *out)
{
    if (fast_double(obj, out))
        return 0;
    if (PyLong_CheckExact(obj)) {
        double v = PyLong_AsDouble(obj);
        if (v == -1.0 && PyErr_Occurred())
            return -1;
        *out = v;
        return 0;
    }
    {
        PyObject *f = PyNumber_Float(obj);
        if (f == NULL)
            return -1;
        *out = PyFloat_AS_DOUBLE(f);
        Py_DECREF(f);
        return 0;
    }
}

/* `level` as the Python checks take it: a new reference to the list of a
 * Level's two strings, else to `level` itself. */
static PyObject *
checkable(PyObject *level)
{
    if (Level_CheckExact(level))
        return PySequence_List(level);
    Py_INCREF(level);
    return level;
}

/* Raise what malformed(level) returns. Always NULL-like: returns -1. */
static int
raise_malformed(PyObject *level)
{
    PyObject *exc, *arg = checkable(level);
    if (arg == NULL)
        return -1;
    exc = PyObject_CallOneArg(py_malformed, arg);
    Py_DECREF(arg);
    if (exc == NULL)
        return -1;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return -1;
}

/* check_level(level): -1 when it raised. */
static int
call_check_level(PyObject *level)
{
    PyObject *result, *arg = checkable(level);
    if (arg == NULL)
        return -1;
    result = PyObject_CallOneArg(py_check_level, arg);
    Py_DECREF(arg);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    return 0;
}

/* level[i] as a new reference (IndexError like level[i] when it is short);
 * `level` is an exact list or tuple. */
static inline PyObject *
item_of(PyObject *level, Py_ssize_t i)
{
    PyObject *item;
    if (PyList_CheckExact(level)) {
        if (i >= PyList_GET_SIZE(level))
            return PySequence_GetItem(level, i); /* raises the IndexError */
        item = PyList_GET_ITEM(level, i);
    }
    else {
        if (i >= PyTuple_GET_SIZE(level))
            return PySequence_GetItem(level, i);
        item = PyTuple_GET_ITEM(level, i);
    }
    Py_INCREF(item);
    return item;
}

/* Both values of an exact list or tuple of at least two, by fast_double():
 * 1 when both converted (no Python code ran), else 0 (no exception set). */
static inline int
fast_pair(PyObject *level, double *price, double *size)
{
    PyObject **items;
    if (PyList_CheckExact(level)) {
        if (PyList_GET_SIZE(level) < 2)
            return 0;
        items = ((PyListObject *)level)->ob_item;
    }
    else if (PyTuple_CheckExact(level)) {
        if (PyTuple_GET_SIZE(level) < 2)
            return 0;
        items = ((PyTupleObject *)level)->ob_item;
    }
    else if (Level_CheckExact(level)) {
        return fast_bytes_double(LEVEL_PRICE(level), LEVEL_PLEN(level), price) &&
               fast_bytes_double(LEVEL_SIZE(level), LEVEL_QLEN(level), size);
    }
    else {
        return 0;
    }
    return fast_double(items[0], price) && fast_double(items[1], size);
}

/* Release the level replaced or removed by the previous change, if any. */
static inline void
release_pending(PyObject **pending)
{
    PyObject *old = *pending;
    if (old != NULL) {
        *pending = NULL;
        Py_DECREF(old);
    }
}

/* One level; -1 with an exception set when refused. `level` is borrowed but
 * kept alive by the caller.
 *
 * The level this change replaces or removes is not released here but left in
 * *pending (the caller releases it), and a pending one is released before
 * anything that may run Python code or change the side, and before an error
 * is raised: whatever its release runs sees the same side, in the same order,
 * as if it had been released at once. What that buys: on a large book the
 * stored level is far from the cache; it is asked for as soon as it is found
 * and released only after the next level's values were converted and its
 * place found, while that memory arrives, instead of waiting on it. */
static int
apply_one(SideObject *s, PyObject *level, PyObject *keep, double sign, PyObject **pending)
{
    PyObject *raw, *old, *stored;
    double price, size, key;
    Py_ssize_t ci = 0, pos = 0;
    int rc, found = 0, stale = 0, defer = 1;

    if (fast_pair(level, &price, &size)) {
        key = price * sign;
        if (key == key) {
            found = bs_locate(s, -key, &ci, &pos);
            if (found)
                __builtin_prefetch(s->chunks[ci].e[pos].level, 1);
        }
        release_pending(pending);
        goto decide;
    }
    /* The slow path: Python code may run, and the caller's release of `level`
     * may too (when that code dropped it from `levels`), so this change's
     * replaced level is released before returning, as it would be at once. */
    release_pending(pending);
    defer = 0;
    if (Level_CheckExact(level)) {
        /* strings float() may take that the fast parse does not (" 1.5",
         * "inf"): the same change as the list of its two strings */
        PyObject *list = PySequence_List(level);
        if (list == NULL)
            return -1;
        rc = apply_one(s, list, level, sign, pending); /* the Level itself is stored */
        Py_DECREF(list);
        return rc;
    }
    if (!PyList_CheckExact(level) && !PyTuple_CheckExact(level))
        return raise_malformed(level);
    raw = item_of(level, 0);
    if (raw == NULL)
        return -1;
    rc = to_double(raw, &price);
    Py_DECREF(raw);
    if (rc < 0)
        return -1;
    raw = item_of(level, 1);
    if (raw == NULL)
        return -1;
    rc = to_double(raw, &size);
    Py_DECREF(raw);
    if (rc < 0)
        return -1;
    key = price * sign;
    stale = 1; /* not located yet */
decide:
    if (!(size > 0.0 && size < max_value && size != 1.0 && price != 1.0)) {
        if (size == 0.0) {
            int is_false = 0; /* a Level holds strings, never false */
            if (!Level_CheckExact(level)) {
                raw = item_of(level, 1);
                if (raw == NULL)
                    return -1;
                is_false = raw == Py_False;
                Py_DECREF(raw);
            }
            if (is_false || price == 1.0) {
                if (call_check_level(level) < 0)
                    return -1;
                stale = 1; /* Python code ran: the side may have changed */
            }
            if (stale && key == key)
                found = bs_locate(s, -key, &ci, &pos);
            if (key == key && found) {
                old = bs_remove_at(s, ci, pos);
                *pending = old; /* released later: the side is consistent */
                if (!defer)
                    release_pending(pending);
            }
            else if (!(price > 0.0 && price < max_value)) {
                return raise_malformed(level);
            }
            return 0;
        }
        if (call_check_level(level) < 0) /* raises unless a real 1.0 */
            return -1;
        stale = 1;
    }
    /* What is stored: a Level for a plain [price, size] pair of ASCII strings
     * (read after every conversion above, which may have run Python code);
     * making it runs no Python code, so the place found stays valid. */
    if (keep != NULL) {
        stored = keep;
        Py_INCREF(stored);
    }
    else {
        stored = level_stored(level);
        if (stored == NULL)
            return -1;
    }
    if (stale && key == key)
        found = bs_locate(s, -key, &ci, &pos);
    if (key == key && found) {
        old = s->chunks[ci].e[pos].level;
        s->chunks[ci].e[pos].level = stored;
        *pending = old;
        if (!defer)
            release_pending(pending);
        return 0;
    }
    /* A new level: only now is the price range tested (a stored key passed).
     * With a finite price and a finite non-zero sign, the key is no NaN. */
    if (!(price > 0.0 && price < max_value) || key != key) {
        Py_DECREF(stored); /* a Level or the caller's level: runs no Python code */
        return raise_malformed(level);
    }
    if (bs_insert_at(s, ci, pos, -key, stored) < 0) {
        Py_DECREF(stored);
        return -1;
    }
    return 0;
}

PyObject *
bs_apply_levels(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    SideObject *s;
    PyObject *levels, *level, *it, *pending = NULL;
    double sign;
    Py_ssize_t start, i;
    int rc;

    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "apply_levels(side, levels, sign)");
        return NULL;
    }
    if (!PyObject_TypeCheck(args[0], &Side_Type)) {
        PyErr_Format(PyExc_TypeError, "apply_levels() needs a native Side, not %.100s",
                     Py_TYPE(args[0])->tp_name);
        return NULL;
    }
    if (py_check_level == NULL || py_malformed == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "datastores._cbookside._setup() was not called");
        return NULL;
    }
    s = (SideObject *)args[0];
    levels = args[1];
    sign = PyFloat_AsDouble(args[2]);
    if (sign == -1.0 && PyErr_Occurred())
        return NULL;
    if (!(sign != 0.0 && sign - sign == 0.0)) { /* keys must be ordered numbers */
        PyErr_SetString(PyExc_ValueError, "sign must be a finite non-zero number");
        return NULL;
    }
    start = s->count;
    if (PyList_CheckExact(levels) || PyTuple_CheckExact(levels)) {
        int is_list = PyList_CheckExact(levels);
        /* The size is read again on every step: converting a value may run
         * Python code that changes the list (as a for loop allows). */
        for (i = 0; i < (is_list ? PyList_GET_SIZE(levels) : PyTuple_GET_SIZE(levels)); i++) {
            level = is_list ? PyList_GET_ITEM(levels, i) : PyTuple_GET_ITEM(levels, i);
            Py_INCREF(level);
            if (apply_one(s, level, NULL, sign, &pending) < 0) {
                release_pending(&pending);
                Py_DECREF(level);
                return NULL;
            }
            Py_DECREF(level); /* no release: the side or `levels` holds it */
        }
        release_pending(&pending);
    }
    else {
        it = PyObject_GetIter(levels);
        if (it == NULL)
            return NULL;
        while ((level = PyIter_Next(it)) != NULL) {
            /* released at once: the next PyIter_Next() may run Python code */
            rc = apply_one(s, level, NULL, sign, &pending);
            release_pending(&pending);
            if (rc < 0) {
                Py_DECREF(level);
                Py_DECREF(it);
                return NULL;
            }
            Py_DECREF(level);
        }
        Py_DECREF(it);
        if (PyErr_Occurred())
            return NULL;
    }
    return PyLong_FromSsize_t(s->count - start);
}

/* ------------------------------------------------------------ module */

PyObject *
bs_decimal(PyObject *Py_UNUSED(module), PyObject *arg)
{
    double v;
    const char *text;
    Py_ssize_t len;
    if (!PyUnicode_Check(arg) || !PyUnicode_IS_COMPACT_ASCII(arg)) {
        PyErr_SetString(PyExc_TypeError, "_decimal() takes an ASCII str");
        return NULL;
    }
    text = (const char *)PyUnicode_DATA(arg);
    len = PyUnicode_GET_LENGTH(arg);
    if (decimal_fast(text, len, &v))
        return PyFloat_FromDouble(v);
    Py_RETURN_NONE;
}

PyObject *
bs_setup(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    double limit;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "_setup(check_level, malformed, max_value)");
        return NULL;
    }
    limit = PyFloat_AsDouble(args[2]);
    if (limit == -1.0 && PyErr_Occurred())
        return NULL;
    Py_INCREF(args[0]);
    Py_XSETREF(py_check_level, args[0]);
    Py_INCREF(args[1]);
    Py_XSETREF(py_malformed, args[1]);
    max_value = limit;
    Py_RETURN_NONE;
}

