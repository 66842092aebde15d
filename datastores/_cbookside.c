/* The native twin of datastores/_bookside.py: one side of one order book.
 *
 * A side keeps (rank, level) entries sorted by rank, where rank = -key
 * (key: price for asks, -price for bids), so the best level is the LAST entry:
 * most changes happen near the top of the book and then move only the few
 * entries after them. The entries live in chunks of at most `cap` entries (a
 * two-level sorted array, like sortedcontainers' SortedList): a change costs a
 * bisection over the chunks' last ranks, one inside the chunk and a move of at
 * most `cap` entries, wherever it is in the book. The level objects are the
 * exchange's own sequences, stored as received (one reference each); no key
 * object and no dict entry is kept per level.
 *
 * Checks: apply_levels() runs the same branches as the Python loop and calls
 * the Python check_level() / malformed() (handed over by _setup()) on every
 * slow path, so refusals and their messages are the Python ones.
 *
 * Re-entrancy: converting a value (float(), __index__) or dropping a reference
 * can run arbitrary Python code, which may touch this side again. So a value
 * is converted before the structure is touched, a replaced or removed level is
 * released only after the structure is consistent again, and no pointer into
 * the chunks is kept across such a call.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    double rank;
    PyObject *level; /* strong reference */
} Entry;

typedef struct {
    Py_ssize_t len;
    Py_ssize_t alloc;
    Entry *e;
} Chunk;

typedef struct {
    PyObject_HEAD
    Chunk *chunks;
    double *maxes; /* maxes[i] == chunks[i].e[len - 1].rank */
    Py_ssize_t nchunks;
    Py_ssize_t chunks_alloc;
    Py_ssize_t count;
    Py_ssize_t cap; /* entries per chunk at most */
} SideObject;

#define DEFAULT_CAP 256
#define MIN_ALLOC 4

static PyTypeObject Side_Type;

/* Set by _setup(): the Python slow paths. */
static PyObject *py_check_level = NULL;
static PyObject *py_malformed = NULL;
static double max_value = 1e30;

/* ------------------------------------------------------------ structure */

/* Find `rank`: *ci the chunk, *pos the bisect_left position inside it.
 * Returns 1 when an entry with that rank exists there. With no chunks,
 * *ci = 0 and *pos = 0. Past every chunk's last rank, the end of the last
 * chunk. Pure C: no Python code runs. */
static int
locate(SideObject *s, double rank, Py_ssize_t *ci, Py_ssize_t *pos)
{
    Py_ssize_t n = s->nchunks, lo, hi, mid;
    Chunk *c;
    if (n == 0) {
        *ci = 0;
        *pos = 0;
        return 0;
    }
    if (n == 1 || s->maxes[n - 2] < rank) {
        lo = n - 1; /* the top of the book: the last chunk */
    }
    else {
        lo = 0;
        hi = n - 1;
        while (lo < hi) {
            mid = (lo + hi) / 2;
            if (s->maxes[mid] < rank)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    c = &s->chunks[lo];
    *ci = lo;
    hi = c->len;
    if (c->e[hi - 1].rank < rank) {
        *pos = hi; /* past the best level */
        return 0;
    }
    lo = 0; /* now inside the chunk, whose last rank is >= rank */
    while (lo < hi) {
        mid = (lo + hi) / 2;
        if (c->e[mid].rank < rank)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return c->e[lo].rank == rank;
}

/* Make room for one more chunk in the chunk arrays. -1 on memory error. */
static int
reserve_chunk(SideObject *s)
{
    Py_ssize_t alloc;
    Chunk *chunks;
    double *maxes;
    if (s->nchunks < s->chunks_alloc)
        return 0;
    alloc = s->chunks_alloc ? s->chunks_alloc * 2 : 1;
    chunks = PyMem_Realloc(s->chunks, (size_t)alloc * sizeof(Chunk));
    if (chunks == NULL)
        return -1;
    s->chunks = chunks;
    maxes = PyMem_Realloc(s->maxes, (size_t)alloc * sizeof(double));
    if (maxes == NULL)
        return -1;
    s->maxes = maxes;
    s->chunks_alloc = alloc;
    return 0;
}

/* Insert a new entry at (ci, pos) as found by locate(); steals no reference:
 * the caller has INCREF'd `level`. -1 (MemoryError set) leaves the side as it
 * was. Pure C. */
static int
insert_at(SideObject *s, Py_ssize_t ci, Py_ssize_t pos, double rank, PyObject *level)
{
    Chunk *c;
    if (s->nchunks == 0) {
        Entry *e;
        if (reserve_chunk(s) < 0)
            goto nomem;
        e = PyMem_Malloc(MIN_ALLOC * sizeof(Entry));
        if (e == NULL)
            goto nomem;
        s->chunks[0].len = 0;
        s->chunks[0].alloc = MIN_ALLOC;
        s->chunks[0].e = e;
        s->nchunks = 1;
        ci = 0;
        pos = 0;
    }
    c = &s->chunks[ci];
    if (c->len >= s->cap && pos == 0 && ci > 0 && s->chunks[ci - 1].len < s->cap) {
        /* Just below a full chunk: the end of the previous one is the same place. */
        ci--;
        c = &s->chunks[ci];
        pos = c->len;
    }
    else if (c->len >= s->cap && (pos == 0 || pos == c->len)) {
        /* Growing at an end of a full chunk (a sorted snapshot, a new best or
         * worst level): start a new chunk there instead of leaving two half-full
         * ones behind, so a book loaded in order fills its chunks. */
        Py_ssize_t at = pos == 0 ? ci : ci + 1;
        Entry *e;
        if (reserve_chunk(s) < 0)
            goto nomem;
        e = PyMem_Malloc(MIN_ALLOC * sizeof(Entry));
        if (e == NULL)
            goto nomem;
        memmove(s->chunks + at + 1, s->chunks + at, (size_t)(s->nchunks - at) * sizeof(Chunk));
        memmove(s->maxes + at + 1, s->maxes + at, (size_t)(s->nchunks - at) * sizeof(double));
        s->nchunks++;
        s->chunks[at].len = 0;
        s->chunks[at].alloc = MIN_ALLOC;
        s->chunks[at].e = e;
        ci = at;
        pos = 0;
        c = &s->chunks[ci];
    }
    else if (c->len >= s->cap) {
        /* Split the full chunk in two halves. */
        Py_ssize_t half = c->len / 2, right_len = c->len - half;
        Py_ssize_t right_alloc = s->cap;
        Entry *right;
        if (reserve_chunk(s) < 0)
            goto nomem;
        c = &s->chunks[ci]; /* reserve_chunk may have moved the array */
        right = PyMem_Malloc((size_t)right_alloc * sizeof(Entry));
        if (right == NULL)
            goto nomem;
        memcpy(right, c->e + half, (size_t)right_len * sizeof(Entry));
        c->len = half;
        memmove(s->chunks + ci + 2, s->chunks + ci + 1,
                (size_t)(s->nchunks - ci - 1) * sizeof(Chunk));
        memmove(s->maxes + ci + 2, s->maxes + ci + 1,
                (size_t)(s->nchunks - ci - 1) * sizeof(double));
        s->nchunks++;
        s->chunks[ci + 1].len = right_len;
        s->chunks[ci + 1].alloc = right_alloc;
        s->chunks[ci + 1].e = right;
        s->maxes[ci + 1] = right[right_len - 1].rank;
        s->maxes[ci] = c->e[half - 1].rank;
        if (pos > half) {
            ci++;
            pos -= half;
            c = &s->chunks[ci];
        }
    }
    if (c->len >= c->alloc) {
        Py_ssize_t alloc = c->alloc * 2;
        Entry *e;
        if (alloc > s->cap)
            alloc = s->cap;
        e = PyMem_Realloc(c->e, (size_t)alloc * sizeof(Entry));
        if (e == NULL)
            goto nomem;
        c->e = e;
        c->alloc = alloc;
    }
    memmove(c->e + pos + 1, c->e + pos, (size_t)(c->len - pos) * sizeof(Entry));
    c->e[pos].rank = rank;
    c->e[pos].level = level;
    c->len++;
    if (pos == c->len - 1)
        s->maxes[ci] = rank;
    s->count++;
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

/* Remove the entry at (ci, pos) and return its level (the caller owns the
 * reference and releases it once done with the side). Pure C. */
static PyObject *
remove_at(SideObject *s, Py_ssize_t ci, Py_ssize_t pos)
{
    Chunk *c = &s->chunks[ci];
    PyObject *level = c->e[pos].level;
    c->len--;
    memmove(c->e + pos, c->e + pos + 1, (size_t)(c->len - pos) * sizeof(Entry));
    s->count--;
    if (c->len == 0) {
        PyMem_Free(c->e);
        memmove(s->chunks + ci, s->chunks + ci + 1,
                (size_t)(s->nchunks - ci - 1) * sizeof(Chunk));
        memmove(s->maxes + ci, s->maxes + ci + 1,
                (size_t)(s->nchunks - ci - 1) * sizeof(double));
        s->nchunks--;
        return level;
    }
    if (pos == c->len)
        s->maxes[ci] = c->e[c->len - 1].rank;
    /* Merge a small chunk into a neighbour so that deletions never leave many
     * tiny chunks behind; shrink an oversized allocation. */
    if (c->len * 4 <= s->cap && s->nchunks > 1) {
        Py_ssize_t left = ci + 1 < s->nchunks ? ci : ci - 1;
        Chunk *a = &s->chunks[left], *b = &s->chunks[left + 1];
        if (a->len + b->len <= s->cap / 2) {
            if (a->alloc < a->len + b->len) {
                Entry *e = PyMem_Realloc(a->e, (size_t)(a->len + b->len) * sizeof(Entry));
                if (e == NULL)
                    return level; /* no merge: the side stays valid */
                a->e = e;
                a->alloc = a->len + b->len;
            }
            memcpy(a->e + a->len, b->e, (size_t)b->len * sizeof(Entry));
            a->len += b->len;
            s->maxes[left] = s->maxes[left + 1];
            PyMem_Free(b->e);
            memmove(s->chunks + left + 1, s->chunks + left + 2,
                    (size_t)(s->nchunks - left - 2) * sizeof(Chunk));
            memmove(s->maxes + left + 1, s->maxes + left + 2,
                    (size_t)(s->nchunks - left - 2) * sizeof(double));
            s->nchunks--;
            return level;
        }
    }
    if (c->alloc > MIN_ALLOC && c->len * 4 < c->alloc) {
        Entry *e = PyMem_Realloc(c->e, (size_t)(c->alloc / 2) * sizeof(Entry));
        if (e != NULL) {
            c->e = e;
            c->alloc /= 2;
        }
    }
    return level;
}

/* Detach every entry from the side (which is empty afterwards), then release
 * the levels: their finalizers see an empty, valid side. */
static void
side_empty(SideObject *s)
{
    Chunk *chunks = s->chunks;
    Py_ssize_t n = s->nchunks, i, j;
    PyMem_Free(s->maxes);
    s->chunks = NULL;
    s->maxes = NULL;
    s->nchunks = 0;
    s->chunks_alloc = 0;
    s->count = 0;
    for (i = 0; i < n; i++) {
        for (j = 0; j < chunks[i].len; j++)
            Py_DECREF(chunks[i].e[j].level);
        PyMem_Free(chunks[i].e);
    }
    PyMem_Free(chunks);
}

/* A copy of the best `limit` entries (all when limit < 0), best first, each
 * level with a new reference; for readers that allocate Python objects (which
 * may run the GC and so arbitrary code). NULL with *n = 0 when empty. */
static Entry *
snapshot(SideObject *s, Py_ssize_t limit, Py_ssize_t *n)
{
    Py_ssize_t k = s->count, out = 0, i, j;
    Entry *copy;
    if (limit >= 0 && limit < k)
        k = limit;
    *n = 0;
    if (k == 0)
        return NULL;
    copy = PyMem_Malloc((size_t)k * sizeof(Entry));
    if (copy == NULL) {
        PyErr_NoMemory();
        *n = -1;
        return NULL;
    }
    for (i = s->nchunks - 1; i >= 0 && out < k; i--) {
        Chunk *c = &s->chunks[i];
        for (j = c->len - 1; j >= 0 && out < k; j--) {
            copy[out] = c->e[j];
            Py_INCREF(copy[out].level);
            out++;
        }
    }
    *n = out;
    return copy;
}

static void
release_snapshot(Entry *copy, Py_ssize_t n)
{
    Py_ssize_t i;
    for (i = 0; i < n; i++)
        Py_DECREF(copy[i].level);
    PyMem_Free(copy);
}

/* A key argument as a double; 0 with *ok = 0 when it is no number (not an
 * error: such a key is simply absent, as in a dict of float keys). -1 on a
 * real error (other than a failed conversion). */
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
    side_empty(s);
    return 0;
}

static void
Side_dealloc(SideObject *s)
{
    PyObject_GC_UnTrack(s);
    Py_TRASHCAN_BEGIN(s, Side_dealloc)
    side_empty(s);
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
    if (ok && locate(s, -k, &ci, &pos)) {
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
    return key_of(key, &k) && locate(s, -k, &ci, &pos);
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
    if (key_of(args[0], &k) && locate(s, -k, &ci, &pos))
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
    level = args[1];
    Py_INCREF(level);
    if (locate(s, -k, &ci, &pos)) {
        old = s->chunks[ci].e[pos].level;
        s->chunks[ci].e[pos].level = level;
        Py_DECREF(old);
        Py_RETURN_FALSE;
    }
    if (insert_at(s, ci, pos, -k, level) < 0) {
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
    if (key_of(key, &k) && locate(s, -k, &ci, &pos))
        return remove_at(s, ci, pos);
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
    return remove_at(s, 0, 0);
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

/* keys / values / items / iter_keys: which = 0 keys, 1 values, 2 items */
static PyObject *
side_listing(SideObject *s, int which)
{
    Py_ssize_t n, i;
    Entry *copy = snapshot(s, -1, &n);
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
        release_snapshot(copy, n);
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
    side_empty(s);
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

/* ------------------------------------------------------------ apply_levels */

/* float(obj), with the common exact-str case parsed without a float object:
 * a str of ASCII digits, '.', 'e', 'E', '+' and '-' only is parsed by the
 * same routine float() uses; anything else goes through float() itself. */
static inline int
to_double(PyObject *obj, double *out)
{
    if (PyUnicode_CheckExact(obj) && PyUnicode_IS_COMPACT_ASCII(obj)) {
        Py_ssize_t len = PyUnicode_GET_LENGTH(obj), i;
        const char *text = (const char *)PyUnicode_DATA(obj);
        if (len > 0 && len < 64) {
            for (i = 0; i < len; i++) {
                char ch = text[i];
                if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == 'e' || ch == 'E' ||
                      ch == '+' || ch == '-'))
                    break;
            }
            if (i == len) {
                char *end;
                double v = PyOS_string_to_double(text, &end, NULL);
                if (end == text + len && !(v == -1.0 && PyErr_Occurred())) {
                    *out = v;
                    return 0;
                }
                PyErr_Clear(); /* let float() raise its own error */
            }
        }
    }
    else if (PyFloat_CheckExact(obj)) {
        *out = PyFloat_AS_DOUBLE(obj);
        return 0;
    }
    else if (PyLong_CheckExact(obj)) {
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

/* Raise what malformed(level) returns. Always NULL-like: returns -1. */
static int
raise_malformed(PyObject *level)
{
    PyObject *exc = PyObject_CallOneArg(py_malformed, level);
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
    PyObject *result = PyObject_CallOneArg(py_check_level, level);
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

/* One level; -1 with an exception set when refused. `level` is borrowed but
 * kept alive by the caller. */
static int
apply_one(SideObject *s, PyObject *level, double sign)
{
    PyObject *raw, *old;
    double price, size, key;
    Py_ssize_t ci = 0, pos = 0;
    int rc, found;

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
    if (!(size > 0.0 && size < max_value && size != 1.0 && price != 1.0)) {
        if (size == 0.0) {
            int is_false;
            raw = item_of(level, 1);
            if (raw == NULL)
                return -1;
            is_false = raw == Py_False;
            Py_DECREF(raw);
            if ((is_false || price == 1.0) && call_check_level(level) < 0)
                return -1;
            if (key == key && locate(s, -key, &ci, &pos)) {
                old = remove_at(s, ci, pos);
                Py_DECREF(old); /* last: the side is consistent */
            }
            else if (!(price > 0.0 && price < max_value)) {
                return raise_malformed(level);
            }
            return 0;
        }
        if (call_check_level(level) < 0) /* raises unless a real 1.0 */
            return -1;
    }
    found = key == key && locate(s, -key, &ci, &pos);
    if (found) {
        old = s->chunks[ci].e[pos].level;
        Py_INCREF(level);
        s->chunks[ci].e[pos].level = level;
        Py_DECREF(old);
        return 0;
    }
    /* A new level: only now is the price range tested (a stored key passed).
     * With a finite price and a finite non-zero sign, the key is no NaN. */
    if (!(price > 0.0 && price < max_value) || key != key)
        return raise_malformed(level);
    Py_INCREF(level);
    if (insert_at(s, ci, pos, -key, level) < 0) {
        Py_DECREF(level);
        return -1;
    }
    return 0;
}

static PyObject *
apply_levels(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    SideObject *s;
    PyObject *levels, *level, *it;
    double sign;
    Py_ssize_t start, i;

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
            if (apply_one(s, level, sign) < 0) {
                Py_DECREF(level);
                return NULL;
            }
            Py_DECREF(level);
        }
    }
    else {
        it = PyObject_GetIter(levels);
        if (it == NULL)
            return NULL;
        while ((level = PyIter_Next(it)) != NULL) {
            if (apply_one(s, level, sign) < 0) {
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

static PyObject *
setup(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
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

static PyMethodDef Side_methods[] = {
    {"get", (PyCFunction)(void (*)(void))Side_get, METH_FASTCALL,
     "get(key, default=None): the level at key, or default. O(log n)."},
    {"set", (PyCFunction)(void (*)(void))Side_set, METH_FASTCALL,
     "set(key, level) -> bool: store level at key; True when the key is new. O(log n)."},
    {"discard", (PyCFunction)Side_discard, METH_O,
     "discard(key): remove and return the level at key, or None. O(log n)."},
    {"first_key", (PyCFunction)Side_first_key, METH_NOARGS,
     "The best key, or None when empty. O(1)."},
    {"pop_worst", (PyCFunction)Side_pop_worst, METH_NOARGS,
     "Remove and return the worst level."},
    {"best_levels", (PyCFunction)Side_best_levels, METH_O,
     "The best limit levels (all when None), best first. O(limit)."},
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

static PyTypeObject Side_Type = {
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

static PyMethodDef module_methods[] = {
    {"apply_levels", (PyCFunction)(void (*)(void))apply_levels, METH_FASTCALL,
     "apply_levels(side, levels, sign) -> int: see datastores._bookside.apply_levels."},
    {"_setup", (PyCFunction)(void (*)(void))setup, METH_FASTCALL,
     "_setup(check_level, malformed, max_value): the Python slow paths."},
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
    if (PyType_Ready(&Side_Type) < 0)
        return NULL;
    module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    Py_INCREF(&Side_Type);
    if (PyModule_AddObject(module, "Side", (PyObject *)&Side_Type) < 0) {
        Py_DECREF(&Side_Type);
        Py_DECREF(module);
        return NULL;
    }
    if (PyModule_AddIntConstant(module, "DEFAULT_CHUNK_CAPACITY", DEFAULT_CAP) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
