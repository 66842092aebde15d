/* loads_levels(): a strict JSON decoder for a subset, building Level objects.
 *
 * It returns what json.loads returns for the same document, except that an
 * array of exactly two strings that is itself an element of an array (an
 * order-book level inside a list of levels) becomes one Level (level.h), built
 * straight from the bytes: no list and no two str objects per level.
 *
 * The subset: ASCII documents; strings without escapes or control characters;
 * integers of at most 18 digits; floats as JSON writes them (parsed by
 * CPython's own correctly rounded conversion, as json.loads does); nesting at
 * most MAX_DEPTH deep. Anything else (escapes, non-ASCII, big integers, NaN,
 * Infinity, invalid JSON, trailing data) is "not mine": the document is then
 * handed, untouched, to the caller's fallback decoder, whose answer (or
 * exception) is returned. So the result never differs from the fallback's
 * except for the Levels. Every read is bounded by the end of the buffer.
 *
 * Short strings (keys such as "e", "s", "U", and values such as the symbol)
 * come from a small cache of str objects, so a stream of similar messages
 * does not allocate them again and again; their hashes are computed once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include "level.h"

#define MAX_DEPTH 64
#define MAX_INT_DIGITS 18   /* always fits in a long long */
#define CACHE_MAX_LEN 24    /* longer strings are not cached */
#define STACK_ITEMS 16      /* array items kept on the C stack before the heap */

typedef struct {
    const char *p;   /* next byte to read */
    const char *end; /* one past the last byte */
    int refused;     /* outside the subset: the fallback decides */
} Parser;

/* 1 for the bytes a string in the subset holds as they are: printable ASCII
 * and DEL, but not the quote or the backslash. Filled by decode_ready(). */
static unsigned char plain_char[256];

static PyObject *parse_value(Parser *ps, int depth, int in_array);

/* Not mine: no exception is set, the caller falls back. */
static PyObject *
refuse(Parser *ps)
{
    ps->refused = 1;
    return NULL;
}

static inline void
skip_ws(Parser *ps)
{
    const char *p = ps->p, *end = ps->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    ps->p = p;
}

/* The span of a string whose opening quote is at ps->p: *start, *len, and ps->p
 * after the closing quote. 1 when the string is in the subset (ASCII, no escape,
 * no control character), 0 otherwise (ps->p unspecified). */
static inline int
scan_string(Parser *ps, const char **start, Py_ssize_t *len)
{
    const unsigned char *p = (const unsigned char *)ps->p + 1;
    const unsigned char *end = (const unsigned char *)ps->end;
    const unsigned char *first = p;
    while (p < end && plain_char[*p])
        p++;
    if (p < end && *p == '"') {
        *start = (const char *)first;
        *len = (Py_ssize_t)(p - first);
        ps->p = (const char *)p + 1;
        return 1;
    }
    return 0; /* unterminated, or escapes, control characters, non-ASCII: the fallback's */
}

/* A new reference to a str of `len` ASCII bytes: short ones (keys, the symbol)
 * from the strings last made (level.c's cache, shared with the reads of Levels),
 * so they are not allocated per message and keep their computed hashes. */
static PyObject *
make_string(const char *text, Py_ssize_t len)
{
    return len > CACHE_MAX_LEN ? level_str(text, len) : level_str_cached(text, len);
}

static PyObject *
parse_string(Parser *ps)
{
    const char *start;
    Py_ssize_t len;
    if (!scan_string(ps, &start, &len))
        return refuse(ps);
    return make_string(start, len);
}

/* A JSON number: an int of at most MAX_INT_DIGITS digits, or a float. */
static PyObject *
parse_number(Parser *ps)
{
    const char *p = ps->p, *end = ps->end, *start = ps->p, *digits;
    int is_float = 0;
    if (p < end && *p == '-')
        p++;
    digits = p;
    if (p >= end || *p < '0' || *p > '9')
        return refuse(ps); /* "-", "-Infinity", ... */
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        is_float = 1;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return refuse(ps);
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_float = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return refuse(ps);
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (!is_float) {
        long long value = 0;
        const char *q;
        if (p - digits > MAX_INT_DIGITS)
            return refuse(ps); /* a big integer: the fallback's */
        for (q = digits; q < p; q++)
            value = value * 10 + (*q - '0');
        ps->p = p;
        return PyLong_FromLongLong(*start == '-' ? -value : value);
    }
    else {
        /* The grammar above is a subset of what PyOS_string_to_double reads, and it
         * rounds as float() (and so json.loads) does; the text is copied because the
         * buffer may go on with more digit-like characters after a valid prefix. */
        char buffer[64], *text, *parsed_end;
        Py_ssize_t len = p - start;
        double value;
        if (len >= (Py_ssize_t)sizeof(buffer))
            return refuse(ps);
        memcpy(buffer, start, (size_t)len);
        buffer[len] = '\0';
        text = buffer;
        value = PyOS_string_to_double(text, &parsed_end, NULL);
        if (value == -1.0 && PyErr_Occurred())
            return NULL;
        if (parsed_end != text + len)
            return refuse(ps);
        ps->p = p;
        return PyFloat_FromDouble(value);
    }
}

/* [" ", " "] at ps->p (just after the '['), as a Level; NULL without setting
 * anything when it is not exactly that (ps->p is then unspecified). */
static PyObject *
try_level(Parser *ps, int *failed)
{
    const char *price, *size;
    Py_ssize_t plen, qlen;
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '"' || !scan_string(ps, &price, &plen))
        return NULL;
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ',')
        return NULL;
    ps->p++;
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '"' || !scan_string(ps, &size, &qlen))
        return NULL;
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ']')
        return NULL;
    if (plen > LEVEL_MAX_LEN || qlen > LEVEL_MAX_LEN)
        return NULL; /* a plain list of two str, as json.loads gives */
    ps->p++;
    {
        PyObject *level = level_new(price, plen, size, qlen);
        if (level == NULL)
            *failed = 1;
        return level;
    }
}

static void
release_items(PyObject **items, Py_ssize_t n)
{
    Py_ssize_t i;
    for (i = 0; i < n; i++)
        Py_DECREF(items[i]);
}

/* Double the room of an item buffer that starts as the caller's stack array
 * `stack` (*alloc entries, all in use): 0, or -1 with MemoryError set (the
 * buffer is left as it was). */
static int
grow_items(PyObject ***items, PyObject **stack, Py_ssize_t *alloc)
{
    PyObject **grown;
    size_t bytes = (size_t)(*alloc * 2) * sizeof(PyObject *);
    if (*items == stack) {
        grown = PyMem_Malloc(bytes);
        if (grown != NULL)
            memcpy(grown, stack, (size_t)*alloc * sizeof(PyObject *));
    }
    else {
        grown = PyMem_Realloc(*items, bytes);
    }
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *items = grown;
    *alloc *= 2;
    return 0;
}

/* An array whose '[' is at ps->p. */
static PyObject *
parse_array(Parser *ps, int depth, int in_array)
{
    PyObject *stack_items[STACK_ITEMS], **items = stack_items, *list, *item;
    Py_ssize_t n = 0, alloc = STACK_ITEMS, i;
    ps->p++;
    if (in_array) {
        const char *after_bracket = ps->p;
        int failed = 0;
        PyObject *level = try_level(ps, &failed);
        if (level != NULL || failed)
            return level;
        ps->p = after_bracket;
    }
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return PyList_New(0);
    }
    for (;;) {
        item = parse_value(ps, depth + 1, 1);
        if (item == NULL)
            goto fail;
        if (n == alloc && grow_items(&items, stack_items, &alloc) < 0) {
            Py_DECREF(item);
            goto fail;
        }
        items[n++] = item;
        skip_ws(ps);
        if (ps->p >= ps->end) {
            refuse(ps);
            goto fail;
        }
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == ']') {
            ps->p++;
            break;
        }
        refuse(ps);
        goto fail;
    }
    list = PyList_New(n);
    if (list == NULL)
        goto fail;
    for (i = 0; i < n; i++)
        PyList_SET_ITEM(list, i, items[i]); /* steals */
    if (items != stack_items)
        PyMem_Free(items);
    return list;
fail:
    release_items(items, n);
    if (items != stack_items)
        PyMem_Free(items);
    return NULL;
}

/* A dict for `n` items without a resize on the way (CPython's own presizing
 * where the build exports it). */
static PyObject *
new_dict(Py_ssize_t n)
{
#if PY_VERSION_HEX < 0x030D0000 && !defined(Py_LIMITED_API)
    return _PyDict_NewPresized(n);
#else
    (void)n;
    return PyDict_New();
#endif
}

/* An object whose '{' is at ps->p. The pairs are read first, then the dict is
 * made at its final size. Duplicate keys: the last value at the first key's
 * position, as json.loads gives (it builds a dict from the pairs). */
static PyObject *
parse_object(Parser *ps, int depth)
{
    PyObject *stack_items[2 * STACK_ITEMS], **items = stack_items, *dict = NULL, *item;
    Py_ssize_t n = 0, alloc = 2 * STACK_ITEMS, i;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return PyDict_New();
    }
    for (;;) {
        if (n + 2 > alloc && grow_items(&items, stack_items, &alloc) < 0)
            goto done;
        if (ps->p >= ps->end || *ps->p != '"') {
            refuse(ps);
            goto done;
        }
        item = parse_string(ps);
        if (item == NULL)
            goto done;
        items[n++] = item;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            refuse(ps);
            goto done;
        }
        ps->p++;
        item = parse_value(ps, depth + 1, 0);
        if (item == NULL)
            goto done;
        items[n++] = item;
        skip_ws(ps);
        if (ps->p >= ps->end) {
            refuse(ps);
            goto done;
        }
        if (*ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (*ps->p == '}') {
            ps->p++;
            break;
        }
        refuse(ps);
        goto done;
    }
    dict = new_dict(n / 2);
    if (dict == NULL)
        goto done;
    for (i = 0; i < n; i += 2) {
        if (PyDict_SetItem(dict, items[i], items[i + 1]) < 0) {
            Py_CLEAR(dict);
            goto done;
        }
    }
done:
    release_items(items, n);
    if (items != stack_items)
        PyMem_Free(items);
    return dict;
}

static inline int
literal(Parser *ps, const char *word, Py_ssize_t len)
{
    if (ps->end - ps->p < len || memcmp(ps->p, word, (size_t)len) != 0)
        return 0;
    ps->p += len;
    return 1;
}

static PyObject *
parse_value(Parser *ps, int depth, int in_array)
{
    if (depth >= MAX_DEPTH) /* values nested in MAX_DEPTH containers */
        return refuse(ps);
    skip_ws(ps);
    if (ps->p >= ps->end)
        return refuse(ps);
    switch (*ps->p) {
    case '{':
        return parse_object(ps, depth);
    case '[':
        return parse_array(ps, depth, in_array);
    case '"':
        return parse_string(ps);
    case 't':
        if (literal(ps, "true", 4))
            Py_RETURN_TRUE;
        return refuse(ps);
    case 'f':
        if (literal(ps, "false", 5))
            Py_RETURN_FALSE;
        return refuse(ps);
    case 'n':
        if (literal(ps, "null", 4))
            Py_RETURN_NONE;
        return refuse(ps);
    default:
        return parse_number(ps);
    }
}

/* The module init's setup of the decoder's tables. */
void
decode_ready(void)
{
    int c;
    for (c = 0x20; c < 0x80; c++)
        plain_char[c] = (c != '"' && c != '\\');
}

/* loads_levels(data, fallback): see the module comment. */
PyObject *
dc_loads_levels(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *data, *fallback, *value;
    Parser ps;
    Py_ssize_t len;
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "loads_levels(data, fallback) takes 2 arguments");
        return NULL;
    }
    data = args[0];
    fallback = args[1];
    if (PyBytes_CheckExact(data)) {
        ps.p = PyBytes_AS_STRING(data);
        len = PyBytes_GET_SIZE(data);
    }
    else if (PyUnicode_CheckExact(data) && PyUnicode_IS_READY(data) && PyUnicode_IS_ASCII(data)) {
        ps.p = (const char *)PyUnicode_DATA(data);
        len = PyUnicode_GET_LENGTH(data);
    }
    else /* non-ASCII text, bytearray, memoryview... */
        return PyObject_CallOneArg(fallback, data);
    ps.end = ps.p + len;
    ps.refused = 0;
    value = parse_value(&ps, 0, 0);
    if (value != NULL) {
        skip_ws(&ps);
        if (ps.p == ps.end)
            return value;
        Py_DECREF(value); /* extra data after the document */
        ps.refused = 1;
    }
    if (!ps.refused)
        return NULL; /* MemoryError and the like */
    return PyObject_CallOneArg(fallback, data);
}
